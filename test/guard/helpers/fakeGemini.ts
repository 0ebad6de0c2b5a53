// A fake Gemini API on the host's loopback, for Gemini CLI under the guard (API key or Vertex paths).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  url: string;
  key: string | undefined;
  authorization: string | undefined;
  body: string;
}

/** Just enough of the Gemini API: generateContent (JSON) and streamGenerateContent (SSE), on any path prefix (Vertex too). */
export function fakeGemini(reply: string, rejectAuth?: (headers: http.IncomingHttpHeaders) => string | undefined): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const candidate = (text: string) => ({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
  });
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const key = req.headers['x-goog-api-key'];
      seen.push({ url: req.url ?? '', key: typeof key === 'string' ? key : undefined, authorization: req.headers.authorization, body });
      const problem = rejectAuth?.(req.headers);
      if (problem) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 401, message: `fake: ${problem}`, status: 'UNAUTHENTICATED' } }));
        return;
      }
      if ((req.url ?? '').includes(':streamGenerateContent')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify(candidate(reply))}\n\n`);
      } else if ((req.url ?? '').includes(':generateContent')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(candidate('{"reasoning":"done","next_speaker":"user"}')));
      } else if ((req.url ?? '').includes(':countTokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ totalTokens: 5 }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{}');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

