// The provider proxy: a reverse proxy on a unix socket (bridged into the jail as a loopback port)
// that forwards only the provider's API routes to the provider's fixed upstream, drops whatever auth
// the agent sent, puts the real credential on (a key, an exchanged token, a SigV4 signature), and
// streams responses back without buffering. The agent never chooses where a byte goes: the upstream
// host comes from rules/providers.yml or the command line, never from the request. A body is parsed
// once, strictly, and what is forwarded is the object the policy judged, re-serialised.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AuditLog, AuditRecord } from './audit';
import { findProviderFetch } from './bodyPolicy';
import { type Budget, BudgetExhausted, BYTES_PER_TOKEN, type Reservation } from './budget';
import { JsonRefusal, parseStrictJson, serializeJson } from './canonicalJson';
import { fillTemplate, type FetcherPolicy, type Provider, type ResolvedProvider } from './providers';
import { UsageMeter } from './usage';

export const MAX_HEADER_BYTES = 32 * 1024;
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface ProviderProxyOptions {
  resolved: ResolvedProvider;
  budget: Budget;
  audit: AuditLog;
  fetchers: FetcherPolicy;
  allowProviderFetch: boolean;
  maxBodyBytes?: number;
}

// Headers that belong to one hop, or carry the client's credentials or identity: never forwarded.
const DROPPED_REQUEST_HEADERS = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'expect', 'accept-encoding', 'authorization',
  'x-api-key', 'api-key', 'x-goog-api-key', 'cookie', 'forwarded', 'x-forwarded-for', 'x-forwarded-host',
  'x-forwarded-proto', 'x-real-ip', 'x-goog-user-project', 'openai-organization', 'openai-project',
  'anthropic-admin-api-key', 'x-gemini-api-privileged-user-id', 'http2-settings',
]);
// AWS signature headers (x-amz-date, x-amz-security-token, …) belong to the proxy's own signature.
const DROPPED_REQUEST_PREFIXES = ['proxy-', 'x-amz-'];
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'set-cookie',
]);
// Query parameters that carry a key (Gemini SDKs send ?key=): dropped, the proxy's key is used.
const AUTH_QUERY_PARAMS = new Set(['key', 'api_key', 'apikey', 'api-key', 'access_token', 'token', 'auth']);
const LOCAL_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?$/i;
const SAFE_PATH = /^(\/[A-Za-z0-9._:@~-]+)+\/?$/;
// The one escape allowed in a path: an encoded colon, as SDKs send model ids ("…-v1%3A0").
const ENCODED_COLON = /%3a/gi;

export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface CheckedTarget {
  /** Path and query the proxy sends upstream (under the upstream's own path). */
  path: string;
  query: string;
  route: string;
}

/** Validate the request target against the provider's routes; throws Refusal. */
export function checkTarget(provider: Provider, settings: Record<string, string>, method: string, target: string): CheckedTarget {
  if (!target.startsWith('/') || target.startsWith('//')) throw new Refusal(400, 'absolute-form or odd request target');
  const q = target.indexOf('?');
  const sent = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  const path = sent.replace(ENCODED_COLON, ':');
  if (path.includes('%')) throw new Refusal(400, 'percent-encoded path');
  if (!SAFE_PATH.test(path)) throw new Refusal(400, 'path has characters outside the route alphabet');
  if (path.split('/').some((seg) => seg === '.' || seg === '..')) throw new Refusal(400, 'path traversal');
  let params: Record<string, string> | undefined;
  const route = provider.routes.find((r) => r.method === method && (params = r.match(path, settings)));
  if (!route || !params) throw new Refusal(403, `route not allowed for ${provider.name}`);
  const kept = new URLSearchParams();
  if (rawQuery) {
    if (/[^A-Za-z0-9._~=&%+-]/.test(rawQuery)) throw new Refusal(400, 'query has odd characters');
    for (const [name, value] of new URLSearchParams(rawQuery)) {
      if (AUTH_QUERY_PARAMS.has(name.toLowerCase())) continue;
      if (!provider.query.includes(name)) throw new Refusal(403, `query parameter "${name}" not allowed`);
      kept.append(name, value);
    }
  }
  const query = kept.toString();
  // Forward what the agent sent (an encoded colon stays encoded), or the route's own target.
  const upstreamPath = route.target ? fillTemplate(route.target, { ...settings, ...params }) : sent;
  return { path: upstreamPath, query: query ? `?${query}` : '', route: route.pattern };
}

function checkHost(req: http.IncomingMessage): void {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === 'host') hosts++;
  if (hosts !== 1) throw new Refusal(400, 'exactly one Host header is required');
  if (!LOCAL_HOST.test(req.headers.host ?? '')) throw new Refusal(400, 'Host header is not the local bridge');
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new Refusal(413, `request body over ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new Refusal(413, `request body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function refuse(res: http.ServerResponse, status: number, reason: string): void {
  const body = JSON.stringify({ type: 'error', error: { type: 'agent_guard_refused', message: `agent-guard refused: ${reason}` } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

function rawRefuse(socket: net.Socket | import('node:stream').Duplex, status: number, text: string): void {
  const body = `agent-guard refused: ${text}\n`;
  try {
    socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  } catch {
    socket.destroy();
  }
}

export function createProviderProxy(opts: ProviderProxyOptions): http.Server {
  const { resolved, budget, audit } = opts;
  const { provider, upstream, settings, authorizer } = resolved;
  const client = upstream.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 16 });
  const basePath = upstream.pathname.replace(/\/+$/, '');
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;

  /** The body the proxy forwards: the strictly parsed, checked object, re-serialised. */
  const judgeBody = (method: string, body: Buffer): Buffer => {
    if (method === 'GET') {
      if (body.length > 0) throw new Refusal(400, 'GET with a body');
      return body;
    }
    let parsed;
    try {
      parsed = parseStrictJson(body);
    } catch (err) {
      throw new Refusal(400, err instanceof JsonRefusal ? err.message : 'request body is not JSON');
    }
    if (!opts.allowProviderFetch) {
      const fetches = findProviderFetch(parsed, opts.fetchers);
      if (fetches) throw new Refusal(403, fetches);
    }
    return serializeJson(parsed);
  };

  const server = http.createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 15 * 60_000, headersTimeout: 60_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      const started = Date.now();
      const record: AuditRecord = {
        time: new Date(started).toISOString(),
        kind: 'model',
        provider: provider.name,
        method: printable(req.method ?? ''),
        route: printable((req.url ?? '').split('?')[0]),
        status: 0,
        requestBytes: 0,
        responseBytes: 0,
        ms: 0,
      };
      const finish = (status: number, refused?: string) => {
        if (record.status) return;
        record.status = status;
        record.ms = Date.now() - started;
        if (refused) record.refused = refused;
        audit.add(record);
      };
      const handle = async () => {
        const method = req.method ?? '';
        const target = checkTarget(provider, settings, method, req.url ?? '');
        record.route = target.route;
        checkHost(req);
        if (budget.exhausted) throw new Refusal(403, `budget exhausted: ${budget.exhausted}`);
        const raw = await readBody(req, maxBody);
        record.requestBytes = raw.length;
        const body = judgeBody(method, raw);
        let reservation: Reservation;
        try {
          reservation = budget.reserve(Math.ceil(body.length / BYTES_PER_TOKEN));
        } catch (err) {
          if (err instanceof BudgetExhausted) throw new Refusal(403, `budget exhausted: ${err.message}`);
          throw err;
        }
        await forward(method, target, body, reservation);
      };
      const forward = async (method: string, target: CheckedTarget, body: Buffer, reservation: Reservation) => {
        const headers: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || DROPPED_REQUEST_HEADERS.has(name) || DROPPED_REQUEST_PREFIXES.some((p) => name.startsWith(p))) continue;
          headers[name] = value;
        }
        headers['accept-encoding'] = 'identity';
        if (method !== 'GET') headers['content-length'] = body.length;
        const url = new URL(basePath + target.path + target.query, upstream);
        try {
          await authorizer.authorize({ method, url, headers, body });
        } catch (err) {
          reservation.settle(0);
          throw new Refusal(502, `cannot put the credential on the request: ${(err as Error).message}`);
        }
        const upReq = client.request(url, { method, headers, agent }, (upRes) => {
          const meter = UsageMeter.forContentType(upRes.headers['content-type']);
          const outHeaders: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(upRes.headers)) {
            if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) outHeaders[name] = value;
          }
          res.writeHead(upRes.statusCode ?? 502, outHeaders);
          res.flushHeaders();
          // Until the provider reports input tokens, the estimate stands for them; an error answer costs what it reports.
          const answered = (upRes.statusCode ?? 502) < 400;
          const spent = (tokens: { input: number; output: number }) => (tokens.input || (answered ? reservation.estimate : 0)) + tokens.output;
          upRes.on('data', (chunk: Buffer) => {
            record.responseBytes += chunk.length;
            meter.feed(chunk);
            if (!reservation.update(spent(meter.current()))) {
              // Over the token cap mid-stream: cut it here; the guard is ending the agent.
              const tokens = meter.current();
              record.inputTokens = tokens.input;
              record.outputTokens = tokens.output;
              reservation.settle(spent(tokens));
              upRes.destroy();
              res.destroy();
              finish(upRes.statusCode ?? 502, `stream cut: ${budget.exhausted ?? 'token budget used up'}`);
              return;
            }
            // Backpressure: a slow reader pauses the upstream instead of filling memory.
            if (!res.write(chunk)) {
              upRes.pause();
              res.once('drain', () => upRes.resume());
            }
          });
          upRes.on('end', () => {
            const tokens = meter.finish();
            record.inputTokens = tokens.input;
            record.outputTokens = tokens.output;
            reservation.settle(spent(tokens));
            res.end();
            finish(upRes.statusCode ?? 502);
          });
          upRes.on('error', () => {
            reservation.settle(spent(meter.current()));
            res.destroy();
            finish(502, 'upstream response broke off');
          });
        });
        upReq.on('error', (err: NodeJS.ErrnoException) => {
          reservation.settle(0);
          if (!res.headersSent) refuse(res, 502, `upstream unreachable (${err.code ?? err.message})`);
          else res.destroy();
          finish(502, `upstream error ${err.code ?? ''}`.trim());
        });
        res.on('close', () => {
          if (!res.writableFinished) upReq.destroy();
        });
        upReq.end(method === 'GET' ? undefined : body);
      };
      handle().catch((err: unknown) => {
        const refusal = err instanceof Refusal ? err : new Refusal(500, 'internal proxy error');
        if (!res.headersSent) refuse(res, refusal.status, refusal.reason);
        else res.destroy();
        finish(refusal.status, refusal.reason);
      });
    },
  );

  const auditRaw = (status: number, reason: string, method = '', route = '') =>
    audit.add({ time: new Date().toISOString(), kind: 'model', provider: provider.name, method, route, status, requestBytes: 0, responseBytes: 0, ms: 0, refused: reason });

  server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    auditRaw(405, 'CONNECT refused', 'CONNECT', printable(req.url ?? ''));
    rawRefuse(socket, 405, 'CONNECT is not allowed');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    auditRaw(403, 'protocol upgrade refused', printable(req.method ?? ''), printable((req.url ?? '').split('?')[0]));
    rawRefuse(socket, 403, 'protocol upgrades are not allowed');
  });
  const answered = new WeakSet<object>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // llhttp can report more than one error for the same broken connection: answer once.
    if (answered.has(socket)) return socket.destroy();
    answered.add(socket);
    const code = err.code ?? 'HPE_INVALID';
    const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    auditRaw(status, `malformed request (${code})`);
    if (socket.writable) rawRefuse(socket, status, `malformed request (${code})`);
    else socket.destroy();
  });
  server.on('close', () => agent.destroy());
  return server;
}
