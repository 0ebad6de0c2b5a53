// Bedrock's runtime API on loopback: checks SigV4 as AWS does (recomputed with the same secret by
// @smithy/signature-v4) and streams Anthropic events in AWS event-stream frames, as Claude Code reads them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwsCreds, eventStreamFrame, sigV4Valid } from './fakeCredentials';

/** `creds` lists the keys whose signatures are valid (temporary keys STS handed out are added as it does). */
export async function fakeBedrock(reply: string, creds: () => Required<AwsCreds>[], region: string) {
  const state = { signed: 0, unsigned: 0, paths: [] as string[] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      const valid = await Promise.all(creds().map(async (c) => req.headers['x-amz-security-token'] === c.sessionToken && (await sigV4Valid(call, c, region, 'bedrock'))));
      if (!valid.includes(true)) {
        state.unsigned++;
        res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' });
        res.end(JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }));
        return;
      }
      state.signed++;
      state.paths.push(req.url ?? '');
      const message = { id: 'msg_bedrock', type: 'message', role: 'assistant', model: 'claude', content: [] as unknown[], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } };
      if (/\/invoke-with-response-stream$/.test(req.url ?? '')) {
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
        const events = [
          { type: 'message_start', message },
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply } },
          { type: 'content_block_stop', index: 0 },
          { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } },
          { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 5 } },
        ];
        for (const e of events) {
          res.write(eventStreamFrame({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' }, { bytes: Buffer.from(JSON.stringify(e)).toString('base64') }));
        }
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...message, content: [{ type: 'text', text: reply }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 5 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get signed() {
      return state.signed;
    },
    get unsigned() {
      return state.unsigned;
    },
    paths: state.paths,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

