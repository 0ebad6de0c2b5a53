// Fake model APIs that drive a real agent CLI through tool calls: each answer is the next step of a
// script (a tool call, or final text), chosen by how many tool results the conversation already holds.
// Requests that offer no tools (titles, quota checks) get plain text. Every request is recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step = { tool: string; input: Record<string, unknown> } | { text: string };

export interface ScriptedModel {
  url: string;
  bodies: string[];
  close(): Promise<void>;
}

function listen(handler: (body: string, url: string, res: http.ServerResponse) => void): Promise<ScriptedModel> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(body);
      handler(body, req.url ?? '', res);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        bodies,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

/** The Anthropic Messages API (streaming and not), answering with `steps` in order. */
export function scriptedAnthropic(steps: Step[]): Promise<ScriptedModel> {
  return listen((body, url, res) => {
    const path = url.split('?')[0];
    if (path === '/v1/messages/count_tokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: 10 }));
      return;
    }
    if (path !== '/v1/messages') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'fake' } }));
      return;
    }
    const parsed = JSON.parse(body) as { stream?: boolean; model?: string; tools?: unknown[]; messages?: { content?: unknown }[] };
    const results = JSON.stringify(parsed.messages ?? []).split('"tool_result"').length - 1;
    const step: Step = parsed.tools?.length ? steps[Math.min(results, steps.length - 1)] : { text: 'A title' };
    const id = `toolu_${results}`;
    const content = 'tool' in step ? [{ type: 'tool_use', id, name: step.tool, input: step.input }] : [{ type: 'text', text: step.text }];
    const stop = 'tool' in step ? 'tool_use' : 'end_turn';
    const message = { id: `msg_${results}`, type: 'message', role: 'assistant', model: parsed.model ?? 'claude-fake', content: [] as unknown[], stop_reason: null, stop_sequence: null, usage: { input_tokens: 20, output_tokens: 1 } };
    if (!parsed.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...message, content, stop_reason: stop, usage: { input_tokens: 20, output_tokens: 5 } }));
      return;
    }
    const events: [string, unknown][] = [['message_start', { type: 'message_start', message }]];
    if ('tool' in step) {
      events.push(
        ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id, name: step.tool, input: {} } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(step.input) } }],
      );
    } else {
      events.push(
        ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: step.text } }],
      );
    }
    events.push(
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } }],
      ['message_stop', { type: 'message_stop' }],
    );
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''));
  });
}

/** The Gemini API (generateContent and streamGenerateContent), answering with `steps` in order. */
export function scriptedGemini(steps: Step[]): Promise<ScriptedModel> {
  return listen((body, url, res) => {
    const usage = { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 };
    const answer = (parts: unknown[]) => ({ candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], usageMetadata: usage });
    if (url.includes(':countTokens')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ totalTokens: 5 }));
      return;
    }
    if (url.includes(':generateContent')) {
      // Gemini CLI's side calls (next-speaker checks, summaries) expect JSON text.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer([{ text: '{"reasoning":"done","next_speaker":"user"}' }])));
      return;
    }
    if (!url.includes(':streamGenerateContent')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    const results = body.split('"functionResponse"').length - 1;
    const step = steps[Math.min(results, steps.length - 1)];
    const part = 'tool' in step ? { functionCall: { name: step.tool, args: step.input } } : { text: step.text };
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`data: ${JSON.stringify(answer([part]))}\n\n`);
  });
}
