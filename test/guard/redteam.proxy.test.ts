// Red-team attacks on the provider proxy: request shapes and routes that reach past the body policy,
// and spending the token budget many times over. Each is a test of the class it belonged to.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../src/guard/audit';
import { Budget } from '../../src/guard/budget';
import { builtinCatalogue, builtinProviders, resolveProvider } from '../../src/guard/providers';
import { createProviderProxy } from '../../src/guard/proxy';

interface Upstream {
  url: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** A model API that answers after a pause (so requests overlap) with a full output of what was allowed. */
function slowUpstream(delayMs: number): Promise<Upstream> {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text || '{}');
      bodies.push(body);
      const output = Number(body.max_tokens ?? body.max_output_tokens ?? body.max_completion_tokens ?? body.generationConfig?.maxOutputTokens ?? 4096);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'msg', type: 'message', content: [{ type: 'text', text: 'x' }], usage: { input_tokens: 20, output_tokens: output } }));
      }, delayMs);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) }),
    ),
  );
}

function post(socketPath: string, target: string, body: unknown): Promise<number> {
  return new Promise((resolve) => {
    const json = JSON.stringify(body);
    const req = http.request({ socketPath, path: target, method: 'POST', headers: { host: '127.0.0.1:41100', 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) } }, (res) => {
      res.resume();
      // A response the budget cut ends with 'close', not 'end'.
      res.on('close', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(json);
  });
}

async function proxyOn(upstream: string, budget: Budget, provider = 'anthropic', env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: 'sk-ant-REAL' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-rt-proxy-'));
  const socketPath = path.join(dir, 'p.sock');
  const server = createProviderProxy({
    resolved: resolveProvider(builtinProviders().get(provider)!, env, upstream),
    budget, audit: new AuditLog(), fetchers: builtinCatalogue().fetchers, budgetFields: builtinCatalogue().budget, allowProviderFetch: false,
  });
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  return { socketPath, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe('the token budget against parallel requests that are not streamed', () => {
  it('ten requests at once, each asking for 900 output tokens, cannot spend ten times a budget of 1000', async () => {
    const upstream = await slowUpstream(300);
    const budget = new Budget({ maxTokens: 1000 });
    const proxy = await proxyOn(upstream.url, budget);
    try {
      const message = { model: 'claude-fake', max_tokens: 900, messages: [{ role: 'user', content: 'write a long story' }] };
      await Promise.all(Array.from({ length: 10 }, () => post(proxy.socketPath, '/v1/messages', message)));
      // Whatever went upstream was allowed to generate no more than the budget had room for.
      expect(budget.tokens).toBeLessThanOrEqual(1000 + 20);
      expect(upstream.bodies.length).toBeGreaterThan(0);
      expect(upstream.bodies.reduce((n, b) => n + Number(b.max_tokens), 0)).toBeLessThanOrEqual(1000);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it('n choices multiply what a request may generate', async () => {
    const upstream = await slowUpstream(50);
    const budget = new Budget({ maxTokens: 1000 });
    const proxy = await proxyOn(upstream.url, budget, 'openai', { OPENAI_API_KEY: 'sk-proj-REAL' });
    try {
      await post(proxy.socketPath, '/v1/chat/completions', { model: 'gpt-fake', n: 8, max_completion_tokens: 500, messages: [{ role: 'user', content: 'hi' }] });
      const sent = upstream.bodies[0];
      expect(Number(sent.n) * Number(sent.max_completion_tokens)).toBeLessThanOrEqual(1000);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});

describe('provider-side reads the body policy must see', () => {
  it('Bedrock reading an S3 object with the guard\'s AWS credentials (a document, image or video from s3Location)', async () => {
    const upstream = await slowUpstream(0);
    const budget = new Budget({});
    const env = { AWS_ACCESS_KEY_ID: 'AKIAREALKEY000000000', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };
    const proxy = await proxyOn(upstream.url, budget, 'bedrock', env);
    try {
      const converse = (source: unknown) => ({ messages: [{ role: 'user', content: [{ text: 'summarise' }, { document: { format: 'txt', name: 'd', source } }] }] });
      const status = await post(proxy.socketPath, '/model/anthropic.claude-fake/converse', converse({ s3Location: { uri: 's3://private-bucket/credentials.json' } }));
      expect(status).toBe(403);
      expect(upstream.bodies).toEqual([]);
      expect(await post(proxy.socketPath, '/model/anthropic.claude-fake/converse', converse({ bytes: 'aGVsbG8=' }))).toBe(200);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});

describe('headers that change what the upstream does with the bytes the proxy judged', () => {
  it('a method override or a content encoding from the agent never reaches the upstream', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"usage":{"input_tokens":1,"output_tokens":1}}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const proxy = await proxyOn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, new Budget({}), 'gemini', { GEMINI_API_KEY: 'AIzaREAL' });
    try {
      const json = JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] });
      const sneaky = { 'x-http-method-override': 'DELETE', 'x-method-override': 'DELETE', 'x-http-method': 'DELETE', 'content-encoding': 'gzip', 'x-original-url': '/v1beta/files', 'x-rewrite-url': '/v1beta/files' };
      const status = await new Promise<number>((resolve) => {
        const req = http.request(
          { socketPath: proxy.socketPath, path: '/v1beta/models/gemini-fake:generateContent', method: 'POST', headers: { host: '127.0.0.1:41100', 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...sneaky } },
          (res) => {
            res.resume();
            res.on('close', () => resolve(res.statusCode ?? 0));
          },
        );
        req.end(json);
      });
      expect(status).toBe(200);
      for (const name of Object.keys(sneaky)) expect(seen[0][name]).toBeUndefined();
    } finally {
      await proxy.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
