// A fake model provider on the host's loopback: speaks just enough of the Anthropic Messages API
// (JSON and server-sent events) for the proxy, the e2e attack test and a real Claude Code turn,
// and records every request it gets so tests can check what crossed the proxy.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeProvider {
  url: string;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export interface FakeProviderOptions {
  reply?: string;
  /** Delay between streamed events, to observe streaming. */
  eventDelayMs?: number;
  /** Delay before a stream's first event (requests stay in flight). */
  firstEventDelayMs?: number;
  /** Check the credential as the real service would: a reason to answer 401, or undefined. */
  rejectAuth?: (headers: http.IncomingHttpHeaders) => string | undefined;
  /** Paths that answer like POST /v1/messages (Vertex puts the model in the path). */
  messagesPath?: RegExp;
  /** Other routes (a token endpoint): [status, JSON] or undefined for the usual handling. */
  extra?: (req: SeenRequest) => [number, unknown] | undefined;
}

function sse(res: http.ServerResponse, events: [string, unknown][], delay: number, firstDelay = 0): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let i = 0;
  const next = () => {
    if (i >= events.length) {
      res.end();
      return;
    }
    const [event, data] = events[i++];
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (delay > 0) setTimeout(next, delay);
    else setImmediate(next);
  };
  if (firstDelay > 0) setTimeout(next, firstDelay);
  else next();
}

export function startFakeProvider(opts: FakeProviderOptions = {}): Promise<FakeProvider> {
  const seen: SeenRequest[] = [];
  const reply = opts.reply ?? 'Hello from the fake provider.';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(call);
      const path = (req.url ?? '').split('?')[0];
      const answered = opts.extra?.(call);
      if (answered) {
        res.writeHead(answered[0], { 'content-type': 'application/json' });
        res.end(JSON.stringify(answered[1]));
        return;
      }
      const authProblem = opts.rejectAuth?.(req.headers);
      if (authProblem) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `fake: ${authProblem}` } }));
        return;
      }
      if (req.method === 'GET' && path === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: [{ id: 'claude-fake', type: 'model' }], has_more: false }));
        return;
      }
      if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      if (req.method !== 'POST' || !(path === '/v1/messages' || opts.messagesPath?.test(path))) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'fake: no such route' } }));
        return;
      }
      let parsed: { stream?: boolean; model?: string } = {};
      const streamedByPath = /:streamRawPredict$/.test(path);
      try {
        parsed = JSON.parse(body);
      } catch {
        // answer anyway
      }
      const model = parsed.model ?? 'claude-fake';
      const message = { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [] as unknown[], stop_reason: null, stop_sequence: null, usage: { input_tokens: 21, output_tokens: 1 } };
      if (parsed.stream || streamedByPath) {
        sse(res, [
          ['message_start', { type: 'message_start', message }],
          ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
          ...reply.split(/(?<= )/).map((piece): [string, unknown] => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }]),
          ['content_block_stop', { type: 'content_block_stop', index: 0 }],
          ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } }],
          ['message_stop', { type: 'message_stop' }],
        ], opts.eventDelayMs ?? 0, opts.firstEventDelayMs);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...message, content: [{ type: 'text', text: reply }], stop_reason: 'end_turn', usage: { input_tokens: 21, output_tokens: 7 } }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        seen,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
