// The guard's own GitHub REST client: the only code that holds the token. The upstream is
// GITHUB_API_URL from the guard's environment (https, or http to loopback for tests).
import http from 'node:http';
import https from 'node:https';
import { GuardError } from '../errors';
import { parseUpstream } from '../providers';

export interface GitHubResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  data: unknown;
}

export interface GitHubApi {
  readonly base: URL;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<GitHubResponse>;
  /** The raw request, for the bridge to stream a read back unchanged. */
  raw(method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer | undefined, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest;
}

export class GitHubError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 60_000;

export function githubApiBase(env: NodeJS.ProcessEnv): URL {
  return parseUpstream(env.GITHUB_API_URL || 'https://api.github.com', 'GITHUB_API_URL');
}

export function createGitHubClient(base: URL, token: string): GitHubApi {
  if (!token || /[\r\n\0]/.test(token)) throw new GuardError('grants', 'the GitHub token is empty or holds a line break');
  const client = base.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 8 });
  const basePath = base.pathname.replace(/\/+$/, '');

  const raw: GitHubApi['raw'] = (method, path, headers, body, onResponse) => {
    const req = client.request(
      {
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port || undefined,
        method,
        // GitHub Enterprise Server serves REST at /api/v3 and GraphQL at /api/graphql.
        path: path === '/graphql' && basePath.endsWith('/api/v3') ? `${basePath.slice(0, -3)}graphql` : basePath + path,
        agent,
        timeout: TIMEOUT_MS,
        headers: {
          accept: 'application/vnd.github+json',
          'user-agent': 'agent-guard',
          'x-github-api-version': '2022-11-28',
          ...headers,
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
      },
      onResponse,
    );
    req.on('timeout', () => req.destroy(new Error('GitHub API timed out')));
    req.end(body);
    return req;
  };

  return {
    base,
    raw,
    request(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = raw(method, path, headers, payload, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let data: unknown = text;
            try {
              data = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON (a diff): keep the text
            }
            resolve({ status: res.statusCode ?? 502, headers: res.headers, data });
          });
        });
        req.on('error', reject);
      });
    },
  };
}

/** A request that must succeed; a GitHubError with GitHub's message otherwise. */
export async function expectOk(github: GitHubApi, method: string, path: string, body?: unknown): Promise<GitHubResponse> {
  const res = await github.request(method, path, body);
  if (res.status < 200 || res.status >= 300) {
    const message = (res.data as { message?: unknown })?.message;
    throw new GitHubError(res.status, `${method} ${path.split('?')[0]}: GitHub answered ${res.status}${typeof message === 'string' ? ` (${message.slice(0, 200)})` : ''}`);
  }
  return res;
}
