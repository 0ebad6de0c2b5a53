// The provider proxy on its own: raw (often malformed) requests over its unix socket, against a fake
// upstream on loopback. Checks what is refused, what reaches the upstream, and that server-sent
// events stream through without being held back.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../src/guard/audit';
import { builtinProviders } from '../../src/guard/providers';
import { type Budget, checkTarget, createProviderProxy } from '../../src/guard/proxy';
import { type FakeProvider, startFakeProvider } from './helpers/fakeProvider';

const REAL_KEY = 'sk-ant-REAL-proxy-test-key';
const anthropic = builtinProviders().get('anthropic')!;

let fake: FakeProvider;
let dir: string;
let socketPath: string;
let server: net.Server;
let audit: AuditLog;
let budget: Budget;

function raw(request: string | Buffer, opts: { waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let data = '';
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d) => (data += d));
    const timer = setTimeout(() => socket.destroy(), opts.waitMs ?? 3000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on('error', () => resolve(data));
  });
}

function post(target: string, body: unknown, extraHeaders = ''): string {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  return `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:41100\r\ncontent-type: application/json\r\n${extraHeaders}content-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`;
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
const message = { model: 'claude-fake', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] };

beforeAll(async () => {
  fake = await startFakeProvider({ eventDelayMs: 150 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-proxy-'));
  socketPath = path.join(dir, 'p.sock');
});

beforeEach(async () => {
  fake.seen.length = 0;
  audit = new AuditLog();
  budget = { requests: 0, tokens: 0 };
  server = createProviderProxy({
    provider: anthropic, upstream: new URL(fake.url), authHeader: 'x-api-key', authValue: REAL_KEY, budget, audit,
    allowProviderFetch: false, maxBodyBytes: 1024 * 1024,
  });
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

afterAll(async () => {
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('provider proxy', () => {
  it('forwards an allowed call with the real key and without the client auth', async () => {
    const response = await raw(post('/v1/messages?beta=true&key=stolen', message, 'x-api-key: placeholder\r\nauthorization: Bearer attacker\r\ncookie: a=b\r\n'));
    expect(statusOf(response)).toBe(200);
    expect(fake.seen).toHaveLength(1);
    expect(fake.seen[0].url).toBe('/v1/messages?beta=true');
    expect(fake.seen[0].headers['x-api-key']).toBe(REAL_KEY);
    expect(fake.seen[0].headers.authorization).toBeUndefined();
    expect(fake.seen[0].headers.cookie).toBeUndefined();
    expect(fake.seen[0].headers.host).toBe(new URL(fake.url).host);
    expect(audit.records[0]).toMatchObject({ route: '/v1/messages', status: 200, inputTokens: 21, outputTokens: 7 });
    expect(budget.tokens).toBe(28);
  });

  const refusals: [string, string | Buffer, number][] = [
    ['CONNECT', 'CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n', 405],
    ['absolute-form target', 'GET http://evil.example/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n', 400],
    ['asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n', 400],
    ['foreign Host', 'GET /v1/models HTTP/1.1\r\nHost: api.anthropic.com.evil.example\r\nconnection: close\r\n\r\n', 400],
    ['userinfo Host', 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1@evil.example\r\nconnection: close\r\n\r\n', 400],
    ['two Hosts', 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nconnection: close\r\n\r\n', 400],
    ['dot-dot', post('/v1/messages/../../v1/files', message), 400],
    ['encoded dot-dot', post('/v1/%2E%2E/files', message), 400],
    ['encoded slash', post('/v1%2Fmessages', message), 400],
    ['backslash', post('/v1\\messages', message), 400],
    ['double slash', post('//v1/messages', message), 400],
    ['trailing dot segment', post('/v1/messages/.', message), 400],
    ['unknown route', 'GET /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n', 403],
    ['wrong method', 'DELETE /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n', 403],
    ['unknown query', post('/v1/messages?callback=https://evil.example', message), 400],
    ['unlisted query name', post('/v1/messages?redirect=1', message), 403],
    ['CL and TE', 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['two different CLs', 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: 2\r\ncontent-length: 9\r\n\r\n{}', 400],
    ['obfuscated TE', 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ntransfer-encoding: xchunked\r\n\r\n', 400],
    ['header with bare LF smuggling', 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nx: a\nHost: evil\r\n\r\n', 400],
    ['oversize header', `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nx-pad: ${'a'.repeat(40 * 1024)}\r\n\r\n`, 431],
    ['oversize declared body', 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: 2000000\r\n\r\n', 413],
    ['oversize chunked body', `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n${'100000\r\n' + 'a'.repeat(0x100000) + '\r\n'}${'10\r\n' + 'a'.repeat(16) + '\r\n'}0\r\n\r\n`, 413],
    ['non-JSON body', post('/v1/messages', 'not json'), 400],
    ['GET with a body', 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}', 400],
    ['websocket upgrade', 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 403],
    ['web_fetch tool', post('/v1/messages', { ...message, tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] }), 403],
    ['web_search tool', post('/v1/messages', { ...message, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }), 403],
    ['MCP connector', post('/v1/messages', { ...message, mcp_servers: [{ type: 'url', url: 'https://evil.example/sse', name: 'e' }] }), 403],
    ['URL image', post('/v1/messages', { ...message, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://evil.example/x.png' } }] }] }), 403],
    ['URL document', post('/v1/messages', { ...message, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://evil.example/?q=secret' } }] }] }), 403],
  ];

  it.each(refusals)('refuses %s', async (_name, request, status) => {
    const response = await raw(request);
    expect(statusOf(response)).toBe(status);
    expect(fake.seen).toEqual([]);
    expect(audit.records.at(-1)?.refused).toBeTruthy();
  });

  it('lets provider fetch tools through only when allowed', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server = createProviderProxy({
      provider: anthropic, upstream: new URL(fake.url), authHeader: 'x-api-key', authValue: REAL_KEY, budget, audit, allowProviderFetch: true,
    });
    await new Promise<void>((r) => server.listen(socketPath, () => r()));
    const response = await raw(post('/v1/messages', { ...message, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }));
    expect(statusOf(response)).toBe(200);
  });

  it('stops at the request budget', async () => {
    budget.maxRequests = 1;
    expect(statusOf(await raw(post('/v1/messages', message)))).toBe(200);
    const second = await raw(post('/v1/messages', message));
    expect(statusOf(second)).toBe(429);
    expect(second).toContain('request budget');
    expect(fake.seen).toHaveLength(1);
  });

  it('stops at the token budget, counted from the usage fields of a stream', async () => {
    budget.maxTokens = 20;
    const first = await raw(post('/v1/messages', { ...message, stream: true }), { waitMs: 5000 });
    expect(statusOf(first)).toBe(200);
    expect(budget.tokens).toBe(28);
    expect(statusOf(await raw(post('/v1/messages', message)))).toBe(429);
    expect(audit.records.at(-1)?.refused).toContain('token budget');
  });

  it('streams server-sent events as they come, without buffering', async () => {
    const arrivals: number[] = [];
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const socket = net.connect(socketPath, () => socket.write(post('/v1/messages', { ...message, stream: true })));
      socket.on('data', (d) => {
        for (const _ of String(d).matchAll(/^event: /gm)) arrivals.push(Date.now() - started);
      });
      socket.on('close', () => resolve());
    });
    // The fake provider sends one event every 150 ms: they must arrive spread out, not in one lump.
    expect(arrivals.length).toBeGreaterThanOrEqual(8);
    expect(arrivals[0]).toBeLessThan(120);
    expect(arrivals.at(-1)! - arrivals[0]).toBeGreaterThan(900);
  });

  it('answers 502 and audits when the upstream is down', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server = createProviderProxy({
      provider: anthropic, upstream: new URL('http://127.0.0.1:9'), authHeader: 'x-api-key', authValue: REAL_KEY, budget, audit, allowProviderFetch: false,
    });
    await new Promise<void>((r) => server.listen(socketPath, () => r()));
    const response = await raw(post('/v1/messages', message));
    expect(statusOf(response)).toBe(502);
    expect(response).not.toContain(REAL_KEY);
  });
});

describe('route checks per provider', () => {
  const providers = builtinProviders();
  it('knows the providers the issue asks for', () => {
    for (const name of ['anthropic', 'openai', 'gemini', 'github-models', 'openrouter']) expect(providers.has(name)).toBe(true);
  });

  it.each([
    ['openai', 'POST', '/v1/responses', true],
    ['openai', 'POST', '/v1/files', false],
    ['gemini', 'POST', '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', true],
    ['gemini', 'POST', '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=AIza', true],
    ['gemini', 'POST', '/v1beta/models/../files:generateContent', false],
    ['gemini', 'POST', '/v1beta/cachedContents', false],
    ['github-models', 'POST', '/inference/chat/completions', true],
    ['github-models', 'POST', '/orgs/acme/inference/chat/completions', true],
    ['openrouter', 'POST', '/api/v1/chat/completions', true],
    ['openrouter', 'POST', '/api/v1/keys', false],
  ])('%s %s %s allowed=%s', (name, method, target, allowed) => {
    const provider = providers.get(name)!;
    if (allowed) {
      const checked = checkTarget(provider, method, target);
      expect(checked.query).not.toContain('key=');
    } else {
      expect(() => checkTarget(provider, method, target)).toThrow();
    }
  });
});
