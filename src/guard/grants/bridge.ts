// The GitHub bridge: GITHUB_API_URL inside the jail (a loopback port piped to this server's unix
// socket). It holds the token the agent never sees. Writes are turned into GrantRequests and go
// through the one policy check; reads of the triggering repository on the routes in rules/grants.yml
// are forwarded; GraphQL read queries of that repository are forwarded; everything else is refused
// with a GitHub-shaped 403 and never reaches GitHub. Every request goes to the audit.
import http from 'node:http';
import type { AuditLog, AuditRecord } from '../audit';
import type { GrantContext } from './context';
import type { GitHubApi } from './github';
import { graphqlRefusal } from './graphql';
import { deferredResponse, performRequest } from './perform';
import { checkRequest, type GrantRequest, type GrantState, type InlineComment, type PolicyInput, type ReviewEvent } from './policy';
import { grantRules, type RequestKind } from './rules';

const MAX_BODY_BYTES = 1024 * 1024;
const LOCAL_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?$/i;
// Headers of the agent's read request worth passing on; the token is the guard's.
const FORWARDED_REQUEST_HEADERS = ['accept', 'if-none-match', 'if-modified-since', 'x-github-api-version'];
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'set-cookie', 'content-length']);

export interface BridgeOptions {
  policy: PolicyInput;
  state: GrantState;
  github: GitHubApi;
  audit: AuditLog;
  /** Record checked requests instead of performing them. */
  defer?: (request: GrantRequest) => void;
  /** pull-request.create waits for the change set: the bridge hands the checked request over. */
  onPullRequest: (request: GrantRequest & { kind: 'pull-request.create' }) => void;
  /** Where the agent reaches the bridge (links in `link` headers are rewritten to it). */
  bridgeBase: string;
}

export class BridgeRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function segmentsOf(path: string): string[] {
  if (!path.startsWith('/') || path.startsWith('//')) throw new BridgeRefusal(400, 'odd request target');
  return path
    .slice(1)
    .replace(/\/$/, '')
    .split('/')
    .map((raw) => {
      let seg: string;
      try {
        seg = decodeURIComponent(raw);
      } catch {
        throw new BridgeRefusal(400, 'bad percent-encoding in the path');
      }
      if (seg === '' || seg === '.' || seg === '..' || /[\u0000-\u001f\u007f/\\]/.test(seg)) throw new BridgeRefusal(400, 'path segment not allowed');
      return seg;
    });
}

const asNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : typeof v === 'string' && /^[0-9]{1,15}$/.test(v) ? Number(v) : undefined);
const asSide = (v: unknown): 'LEFT' | 'RIGHT' | undefined => (v === 'LEFT' || v === 'RIGHT' ? v : undefined);

function inlineFrom(c: Record<string, unknown>): InlineComment {
  return {
    path: c.path as string,
    body: c.body as string,
    line: asNumber(c.line) ?? asNumber(c.position),
    side: asSide(c.side),
    startLine: asNumber(c.start_line),
    startSide: asSide(c.start_side),
  };
}

/** A REST write as a GrantRequest. Unknown body fields are ignored: the outgoing body is rebuilt. */
export function requestFromRest(kind: RequestKind, params: Record<string, string>, body: Record<string, unknown>): GrantRequest {
  const target = { owner: params.owner, repo: params.repo };
  const number = Number(params.number);
  const id = Number(params.comment_id);
  const text = (v: unknown) => (typeof v === 'string' ? v : (undefined as unknown as string));
  switch (kind) {
    case 'comment.create':
      return { ...target, kind, number, body: text(body.body) };
    case 'comment.update':
    case 'review-comment.update':
      return { ...target, kind, commentId: id, body: text(body.body) };
    case 'labels.add': {
      const raw = Array.isArray(body) ? body : Array.isArray(body.labels) ? body.labels : [];
      const labels = raw.map((l: unknown) => (typeof l === 'string' ? l : (l as { name?: unknown })?.name)).filter((l: unknown): l is string => typeof l === 'string');
      if (labels.length !== raw.length) throw new BridgeRefusal(422, 'labels must be names');
      return { ...target, kind, number, labels };
    }
    case 'labels.remove':
      return { ...target, kind, number, label: params.name };
    case 'review.create':
      return {
        ...target,
        kind,
        number,
        body: typeof body.body === 'string' ? body.body : '',
        event: body.event as ReviewEvent,
        commitId: typeof body.commit_id === 'string' ? body.commit_id : undefined,
        comments: Array.isArray(body.comments) ? body.comments.map((c) => inlineFrom((c ?? {}) as Record<string, unknown>)) : [],
      };
    case 'review.comment': {
      const inReplyTo = asNumber(body.in_reply_to);
      if (inReplyTo !== undefined) return { ...target, kind: 'review.reply', number, commentId: inReplyTo, body: text(body.body) };
      return { ...target, kind, number, commitId: typeof body.commit_id === 'string' ? body.commit_id : undefined, ...inlineFrom(body) };
    }
    case 'review.reply':
      return { ...target, kind, number, commentId: id, body: text(body.body) };
    case 'pull-request.create':
      return { ...target, kind, title: text(body.title), body: typeof body.body === 'string' ? body.body : '', draft: body.draft === true };
  }
}

function send(res: http.ServerResponse, status: number, data: unknown): number {
  const body = data === undefined ? '' : JSON.stringify(data);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return body.length;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BridgeRefusal(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  try {
    const parsed = JSON.parse(raw.toString('utf8'));
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // fall through
  }
  throw new BridgeRefusal(400, 'request body is not a JSON object');
}

export function createGitHubBridge(opts: BridgeOptions): http.Server {
  const { policy, state, github, audit } = opts;
  const ctx: GrantContext = policy.context;
  const rules = grantRules();
  let serial = 0;

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, path: string, body: Buffer | undefined, record: AuditRecord, done: () => void) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const name of FORWARDED_REQUEST_HEADERS) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
    const upstreamOrigin = github.base.origin + github.base.pathname.replace(/\/+$/, '');
    const upReq = github.raw(req.method as string, path, headers, body, (upRes) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upRes.headers)) {
        if (value === undefined || DROPPED_RESPONSE_HEADERS.has(name)) continue;
        out[name] = name === 'link' && typeof value === 'string' ? value.split(upstreamOrigin).join(opts.bridgeBase) : value;
      }
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.on('data', (c: Buffer) => (record.responseBytes += c.length));
      upRes.pipe(res);
      upRes.on('end', () => {
        record.status = upRes.statusCode ?? 502;
        done();
      });
    });
    upReq.on('error', (err) => {
      if (!res.headersSent) send(res, 502, { message: `agent-guard: GitHub unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})` });
      else res.destroy();
      record.status = 502;
      record.refused = 'upstream error';
      done();
    });
  };

  const handleWrite = async (kind: RequestKind, params: Record<string, string>, raw: Buffer, record: AuditRecord): Promise<{ status: number; data: unknown }> => {
    const request = requestFromRest(kind, params, parseJson(raw));
    const verdict = checkRequest(request, policy, state);
    record.provider = verdict.grant ?? 'none';
    if (!verdict.ok) throw new BridgeRefusal(403, verdict.reason);
    const checked = verdict.request;
    if (checked.kind === 'pull-request.create') {
      opts.onPullRequest(checked);
      if (opts.defer) opts.defer(checked);
      return deferredResponse(checked, ctx, state, ++serial);
    }
    if (opts.defer) {
      opts.defer(checked);
      return deferredResponse(checked, ctx, state, ++serial);
    }
    const res = await performRequest(checked, github, ctx, state);
    return { status: res.status, data: res.data };
  };

  return http.createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 5 * 60_000, headersTimeout: 60_000 }, (req, res) => {
    const started = Date.now();
    const method = (req.method ?? '').toUpperCase();
    const rawTarget = req.url ?? '';
    const record: AuditRecord = {
      time: new Date(started).toISOString(),
      kind: 'grant',
      method: method.replace(/[^A-Z]/g, '?').slice(0, 10),
      route: rawTarget.split('?')[0].replace(/[^\x20-\x7e]/g, '?').slice(0, 200),
      status: 0,
      requestBytes: 0,
      responseBytes: 0,
      ms: 0,
    };
    const done = () => {
      record.ms = Date.now() - started;
      audit.add(record);
    };
    const handle = async () => {
      if (!LOCAL_HOST.test(req.headers.host ?? '')) throw new BridgeRefusal(400, 'Host header is not the local bridge');
      const q = rawTarget.indexOf('?');
      const segments = segmentsOf(q < 0 ? rawTarget : rawTarget.slice(0, q));
      const query = new URLSearchParams(q < 0 ? '' : rawTarget.slice(q + 1));
      const body = await readBody(req);
      record.requestBytes = body.length;

      if (segments.length === 1 && segments[0] === 'graphql' && method === 'POST') {
        const parsed = parseJson(body);
        record.provider = 'read';
        const refusal = graphqlRefusal({ query: parsed.query, variables: parsed.variables, owner: ctx.owner, repo: ctx.repo, roots: rules.graphqlRoots, nestedDeny: rules.graphqlNestedDeny });
        if (refusal) throw new BridgeRefusal(403, refusal);
        const payload = Buffer.from(JSON.stringify({ query: parsed.query, variables: parsed.variables, operationName: parsed.operationName }));
        forward(req, res, '/graphql', payload, record, done);
        return;
      }
      for (const { route, kind } of rules.routes) {
        if (route.method !== method) continue;
        const params = route.match(segments);
        if (!params) continue;
        record.route = route.pattern;
        const answer = await handleWrite(kind, params, body, record);
        record.status = answer.status;
        record.responseBytes = send(res, answer.status, answer.data);
        done();
        return;
      }
      if (method === 'GET' || method === 'HEAD') {
        const read = rules.reads.find((r) => r.match(segments));
        if (!read) throw new BridgeRefusal(403, `GET ${record.route} is not a read the grants allow`);
        record.route = read.pattern;
        record.provider = 'read';
        const params = read.match(segments)!;
        if (params.owner.toLowerCase() !== ctx.owner.toLowerCase() || params.repo.toLowerCase() !== ctx.repo.toLowerCase()) {
          throw new BridgeRefusal(403, `${params.owner}/${params.repo} is not the triggering repository ${ctx.owner}/${ctx.repo}`);
        }
        if (body.length > 0) throw new BridgeRefusal(400, 'GET with a body');
        const kept = new URLSearchParams();
        for (const [name, value] of query) {
          if (!rules.readQuery.includes(name)) throw new BridgeRefusal(403, `query parameter "${name.slice(0, 40)}" is not allowed`);
          kept.append(name, value);
        }
        const path = '/' + segments.map(encodeURIComponent).join('/') + (kept.size ? `?${kept}` : '');
        forward(req, res, path, undefined, record, done);
        return;
      }
      throw new BridgeRefusal(403, `${method} ${record.route} is a write no grant allows`);
    };
    handle().catch((err: unknown) => {
      const refusal = err instanceof BridgeRefusal ? err : new BridgeRefusal(502, `agent-guard: ${(err as Error)?.message ?? 'error'}`);
      record.status = refusal.status;
      record.refused = refusal.message;
      if (!res.headersSent) send(res, refusal.status, { message: `agent-guard refused: ${refusal.message}`, documentation_url: 'agent-guard run --grant' });
      else res.destroy();
      done();
    });
  });
}
