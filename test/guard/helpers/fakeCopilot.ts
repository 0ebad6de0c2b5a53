// The Copilot API on loopback, as @github/copilot 1.0.102 uses it (models, model routing, streamed
// chat completions), answering only the real token as a Bearer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The Copilot API as @github/copilot 1.0.102 uses it: models, model routing, streamed chat completions. */
export async function fakeCopilot(reply: string, token: string) {
  const state = { unauthorized: 0, paths: [] as string[] };
  const model = {
    id: 'gpt-4.1', name: 'GPT-4.1', object: 'model', vendor: 'openai', version: 'gpt-4.1', preview: false, model_picker_enabled: true,
    capabilities: { type: 'chat', family: 'gpt-4.1', object: 'model_capabilities', tokenizer: 'o200k_base', supports: { streaming: true, tool_calls: true }, limits: { max_prompt_tokens: 128000, max_output_tokens: 16384 } },
    supported_endpoints: ['/chat/completions'], policy: { state: 'enabled', terms: '' }, is_chat_default: true,
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = (req.url ?? '').split('?')[0];
      state.paths.push(url);
      if (req.headers.authorization !== `Bearer ${token}`) {
        state.unauthorized++;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Bad credentials' }));
        return;
      }
      const json = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url === '/models') return json({ data: [model] });
      if (url === '/auto' || url.startsWith('/models/session')) return json({ selected_model: 'gpt-4.1', session_token: 'session-x', expires_at: Math.floor(Date.now() / 1000) + 3600 });
      if (url === '/chat/completions') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta: unknown, extra: object = {}) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
        res.write(chunk({ role: 'assistant', content: reply }));
        res.write(chunk({}, { usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }).replace('"finish_reason":null', '"finish_reason":"stop"'));
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths: state.paths,
    get unauthorized() {
      return state.unauthorized;
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
