// The provider proxy on its own: raw (often malformed) requests over its unix socket, against a fake
// upstream on loopback. Checks what is refused, what reaches the upstream, and that server-sent
// events stream through without being held back.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../src/guard/audit';
import { Budget } from '../../src/guard/budget';
import { builtinCatalogue, builtinProviders, resolveProvider } from '../../src/guard/providers';
import { checkTarget, createProviderProxy } from '../../src/guard/proxy';
import { type FakeProvider, startFakeProvider } from './helpers/fakeProvider';

const REAL_KEY = 'sk-ant-REAL-proxy-test-key';

let fake: FakeProvider;
let dir: string;
let socketPath: string;
let server: net.Server;
let audit: AuditLog;
let budget: Budget;
let exhausted: string[];

/** The proxy for `provider` in front of `upstream`, holding `env`'s credential. */
function proxyFor(upstream: string, opts: { allowProviderFetch?: boolean; env?: NodeJS.ProcessEnv; provider?: string; maxBodyBytes?: number } = {}) {
  const provider = builtinProviders().get(opts.provider ?? 'anthropic')!;
  return createProviderProxy({
    resolved: resolveProvider(provider, opts.env ?? { ANTHROPIC_API_KEY: REAL_KEY }, upstream),
    budget, audit, fetchers: builtinCatalogue().fetchers, allowProviderFetch: opts.allowProviderFetch ?? false, maxBodyBytes: opts.maxBodyBytes,
  });
}

async function restart(next: net.Server): Promise<void> {
  await new Promise<void>((r) => server.close(() => r()));
  server = next;
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
}

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
  exhausted = [];
  budget = new Budget({}, (reason) => exhausted.push(reason));
  server = proxyFor(fake.url, { maxBodyBytes: 1024 * 1024 });
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
    await restart(proxyFor(fake.url, { allowProviderFetch: true }));
    const response = await raw(post('/v1/messages', { ...message, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }));
    expect(statusOf(response)).toBe(200);
  });

  it('forwards the object it judged, re-serialised, not the bytes the agent sent', async () => {
    const sent = '{ "model" : "claude-fake",\n "max_tokens": 8, "messages": [{"role": "user", "content": "h\\u0069 \\/ \\ud83d\\ude00"}] }';
    expect(statusOf(await raw(post('/v1/messages', sent)))).toBe(200);
    expect(fake.seen[0].body).toBe(JSON.stringify(JSON.parse(sent)));
    expect(fake.seen[0].body).toContain('"content":"hi / \u{1F600}"');
  });
});

describe('body policy on the wire', () => {
  type Who = { provider: string; env: NodeJS.ProcessEnv };
  const gemini: Who = { provider: 'gemini', env: { GEMINI_API_KEY: 'AIza-real' } };
  const openrouter: Who = { provider: 'openrouter', env: { OPENROUTER_API_KEY: 'sk-or-real' } };
  const openai: Who = { provider: 'openai', env: { OPENAI_API_KEY: 'sk-real' } };
  const geminiCall = '/v1beta/models/gemini-2.5-pro:generateContent';
  const image = (url: string) => ({ ...message, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });

  const cases: [string, Who | undefined, string, string, RegExp][] = [
    ['Gemini urlContext as an object', gemini, geminiCall, JSON.stringify({ contents: [], tools: { urlContext: {} } }), /urlContext/],
    ['Gemini googleSearch as an object', gemini, geminiCall, JSON.stringify({ contents: [], tools: { googleSearch: {} } }), /googleSearch/],
    ['Gemini google_search in a list', gemini, geminiCall, JSON.stringify({ contents: [], tools: [{ functionDeclarations: [] }, { google_search: {} }] }), /google_search/],
    ['Gemini fileUri over http', gemini, geminiCall, JSON.stringify({ contents: [{ parts: [{ fileData: { fileUri: 'http://evil.example/x' } }] }] }), /fileUri/],
    ['OpenRouter file_data as an http URL', openrouter, '/api/v1/chat/completions',
      JSON.stringify({ model: 'anthropic/claude-sonnet-4', messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.pdf', file_data: 'https://evil.example/a.pdf' } }] }] }), /file_data/],
    ['OpenRouter :online in models', openrouter, '/api/v1/chat/completions', JSON.stringify({ models: ['openai/gpt-4o', 'anthropic/claude-sonnet-4:online'], messages: [] }), /:online/],
    ['OpenRouter web plugin', openrouter, '/api/v1/chat/completions', JSON.stringify({ model: 'x/y', plugins: [{ id: 'web' }], messages: [] }), /plugin/],
    ['Perplexity Sonar (searches by itself)', openrouter, '/api/v1/chat/completions', JSON.stringify({ model: 'perplexity/sonar', messages: [] }), /searches the web/],
    ['gpt-4o-search-preview', openai, '/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-search-preview', messages: [] }), /searches the web/],
    ['gpt-4o-mini-search-preview', openai, '/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini-search-preview-2025-03-11', messages: [] }), /searches the web/],
    ['web_search_options', openai, '/v1/chat/completions', JSON.stringify({ model: 'gpt-4.1', web_search_options: {}, messages: [] }), /web_search_options/],
    ['OpenAI Responses web_search tool', openai, '/v1/responses', JSON.stringify({ model: 'gpt-5', tools: [{ type: 'web_search' }], input: 'x' }), /web_search/],
    ['OpenAI Responses MCP tool', openai, '/v1/responses', JSON.stringify({ model: 'gpt-5', tools: [{ type: 'mcp', server_url: 'https://evil.example' }], input: 'x' }), /mcp/],
    ['URL with a leading tab', undefined, '/v1/messages', JSON.stringify(image('\thttps://evil.example/x.png')), /image_url/],
    ['URL with a leading C0 byte', undefined, '/v1/messages', JSON.stringify(image('\u0001https://evil.example/x.png')), /image_url/],
    ['URL with a newline inside the scheme', undefined, '/v1/messages', JSON.stringify(image('ht\ntps://evil.example/x.png')), /image_url/],
    ['upper-case scheme', undefined, '/v1/messages', JSON.stringify(image('HTTP://EVIL.EXAMPLE/x.png')), /image_url/],
    ['backslashes for slashes', undefined, '/v1/messages', JSON.stringify(image('https:\\\\evil.example\\x.png')), /image_url/],
    ['leading spaces', undefined, '/v1/messages', JSON.stringify(image('   https://evil.example/x.png')), /image_url/],
    ['a gs:// object', undefined, '/v1/messages', JSON.stringify(image('gs://evil-bucket/x.png')), /image_url/],
    ['duplicate tools keys (one judged, the other forwarded)', undefined, '/v1/messages',
      '{"model":"claude-fake","max_tokens":8,"messages":[],"tools":[],"tools":[{"type":"web_fetch_20250910","name":"web_fetch"}]}', /duplicate key "tools"/],
    ['a duplicate key deep inside', undefined, '/v1/messages', '{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}', /duplicate key "text"/],
    ['a byte-order mark', undefined, '/v1/messages', '\ufeff' + JSON.stringify(message), /byte-order mark/],
    ['a lone surrogate escape', undefined, '/v1/messages', '{"model":"m","messages":[{"role":"user","content":"\\ud800"}]}', /lone high surrogate/],
    ['an integer beyond 2^53', undefined, '/v1/messages', '{"model":"m","max_tokens":9007199254740993,"messages":[]}', /2\^53/],
    ['a number beyond a double', undefined, '/v1/messages', '{"model":"m","max_tokens":1e400,"messages":[]}', /too large/],
    ['trailing text after the value', undefined, '/v1/messages', JSON.stringify(message) + ' {"tools":[]}', /after the JSON value/],
    ['nesting deeper than the limit', undefined, '/v1/messages', '{"a":' + '['.repeat(300) + ']'.repeat(300) + '}', /nested deeper/],
  ];

  it.each(cases)('refuses %s before anything goes upstream', async (_name, who, target, body, reason) => {
    if (who) await restart(proxyFor(fake.url, who));
    const response = await raw(post(target, body));
    expect(statusOf(response)).toBeGreaterThanOrEqual(400);
    expect(statusOf(response)).toBeLessThan(500);
    expect(fake.seen).toEqual([]);
    expect(audit.records.at(-1)?.refused).toMatch(reason);
  });

  it.each([
    ['a data: URL image', image('data:image/png;base64,AAAA')],
    ['a relative file name', { ...message, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'files/abc' } }] }] }],
    ['a URL in the prompt text', { ...message, messages: [{ role: 'user', content: 'please read https://example.com/x' }] }],
    ['an empty MCP server list', { ...message, mcp_servers: [] }],
  ])('lets %s through', async (_name, body) => {
    expect(statusOf(await raw(post('/v1/messages', body)))).toBe(200);
    expect(fake.seen).toHaveLength(1);
  });
});

describe('budgets', () => {
  const padded = { ...message, metadata: { user_id: 'x'.repeat(780) } };
  const estimate = Math.ceil(JSON.stringify(padded).length / 4);

  it('ends the run at the request budget: the next request is refused, not retried into', async () => {
    budget = new Budget({ maxRequests: 1 }, (reason) => exhausted.push(reason));
    await restart(proxyFor(fake.url));
    expect(statusOf(await raw(post('/v1/messages', message)))).toBe(200);
    const second = await raw(post('/v1/messages', message));
    expect(statusOf(second)).toBe(403);
    expect(second).toContain('budget exhausted');
    expect(fake.seen).toHaveLength(1);
    expect(exhausted).toEqual(['request budget of 1 used up']);
  });

  let slow: FakeProvider;
  beforeAll(async () => {
    slow = await startFakeProvider({ firstEventDelayMs: 1500 });
  });
  afterAll(() => slow.close());
  beforeEach(() => {
    slow.seen.length = 0;
  });

  it('lets no more than the cap through when many requests race (requests)', async () => {
    budget = new Budget({ maxRequests: 2 }, (reason) => exhausted.push(reason));
    await restart(proxyFor(slow.url));
    const statuses = await Promise.all(Array.from({ length: 24 }, () => raw(post('/v1/messages', { ...message, stream: true }), { waitMs: 6000 }).then(statusOf)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 403)).toHaveLength(22);
    expect(slow.seen).toHaveLength(2);
    expect(exhausted).toHaveLength(1);
  });

  it('lets no more than the cap through when many requests race (tokens reserved before forwarding)', async () => {
    // Room for two reservations, not three: the rest are refused before a byte goes upstream.
    budget = new Budget({ maxTokens: estimate * 2 + estimate / 2 }, (reason) => exhausted.push(reason));
    await restart(proxyFor(slow.url));
    const statuses = await Promise.all(Array.from({ length: 24 }, () => raw(post('/v1/messages', { ...padded, stream: true }), { waitMs: 6000 }).then(statusOf)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(slow.seen).toHaveLength(2);
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]).toMatch(/token budget/);
  });

  it('cuts a stream that goes over the token cap', async () => {
    const chatty = await startFakeProvider({ reply: 'word '.repeat(400), eventDelayMs: 5 });
    try {
      // 21 input tokens are reported first; then each "word " is about 1.25 tokens of output.
      budget = new Budget({ maxTokens: 70 }, (reason) => exhausted.push(reason));
      await restart(proxyFor(chatty.url));
      const response = await raw(post('/v1/messages', { ...message, stream: true }), { waitMs: 8000 });
      expect(statusOf(response)).toBe(200);
      expect(response).toContain('content_block_delta');
      expect(response).not.toContain('message_stop');
      const delivered = (response.match(/text_delta/g) ?? []).length;
      expect(delivered).toBeGreaterThan(20);
      expect(delivered).toBeLessThanOrEqual(40);
      expect(exhausted).toHaveLength(1);
      expect(audit.records.at(-1)?.refused).toMatch(/stream cut/);
      // Later requests are refused at once.
      expect(statusOf(await raw(post('/v1/messages', message)))).toBe(403);
      expect(chatty.seen).toHaveLength(1);
    } finally {
      await chatty.close();
    }
  });

  it('counts the tokens a stream reports', async () => {
    budget = new Budget({ maxTokens: 10_000 });
    await restart(proxyFor(fake.url));
    expect(statusOf(await raw(post('/v1/messages', { ...message, stream: true }), { waitMs: 5000 }))).toBe(200);
    expect(budget.tokens).toBe(28);
    expect(budget.requests).toBe(1);
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
    await restart(proxyFor('http://127.0.0.1:9'));
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
      const checked = checkTarget(provider, {}, method, target);
      expect(checked.query).not.toContain('key=');
    } else {
      expect(() => checkTarget(provider, {}, method, target)).toThrow();
    }
  });
});

describe('routes that depend on settings', () => {
  const providers = builtinProviders();
  const vertex = { project: 'proj-123', location: 'us-central1' };

  it('maps Gemini express-mode paths onto the configured project, and pins the project and region', () => {
    const mapped = checkTarget(providers.get('vertex')!, vertex, 'POST', '/v1beta1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=AIza');
    expect(mapped.path).toBe('/v1beta1/projects/proj-123/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent');
    expect(mapped.query).toBe('?alt=sse');
    expect(checkTarget(providers.get('vertex')!, vertex, 'POST', '/v1/projects/proj-123/locations/us-central1/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict').path)
      .toBe('/v1/projects/proj-123/locations/us-central1/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict');
    expect(() => checkTarget(providers.get('vertex')!, vertex, 'POST', '/v1/projects/other-project/locations/us-central1/publishers/anthropic/models/m:rawPredict')).toThrow(/route not allowed/);
    expect(() => checkTarget(providers.get('vertex')!, vertex, 'POST', '/v1/projects/proj-123/locations/europe-west4/publishers/anthropic/models/m:rawPredict')).toThrow(/route not allowed/);
  });

  it('takes a Bedrock model id with an encoded colon, and no other escape', () => {
    const bedrock = providers.get('bedrock')!;
    expect(checkTarget(bedrock, { region: 'us-east-1' }, 'POST', '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke').path).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
    expect(() => checkTarget(bedrock, { region: 'us-east-1' }, 'POST', '/model/a%2Fb/invoke')).toThrow(/percent-encoded/);
    expect(() => checkTarget(bedrock, { region: 'us-east-1' }, 'GET', '/foundation-models')).toThrow(/route not allowed/);
  });

  it('routes Azure OpenAI v1 and deployment paths with their api-version', () => {
    const azure = providers.get('azure-openai')!;
    expect(checkTarget(azure, { resource: 'contoso' }, 'POST', '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21').query).toBe('?api-version=2024-10-21');
    expect(checkTarget(azure, { resource: 'contoso' }, 'POST', '/openai/v1/responses').path).toBe('/openai/v1/responses');
    expect(() => checkTarget(azure, { resource: 'contoso' }, 'POST', '/openai/files')).toThrow(/route not allowed/);
  });
});
