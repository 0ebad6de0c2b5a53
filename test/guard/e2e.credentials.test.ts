// Every way a maintainer authenticates an agent, end to end with the real CLI under the guard, against
// fakes on loopback that check the credential as the real service would: Claude Code with a Claude
// subscription's OAuth token (Bearer + the OAuth beta flag), with workload identity federation (a token
// the fake exchange minted from an OIDC token the fake Actions endpoint issued), on Bedrock (a SigV4
// signature the fake recomputes with the same secret) and on Vertex AI (a token the fake Google token
// endpoint minted for a service-account JWT it verified); Gemini CLI on Vertex AI. After each turn a
// probe in the same jail dumps what the agent could see (its environment, every process's environ and
// command line, the readable files under HOME, /tmp, /var/tmp, /run, /dev/shm and the credential
// files' own paths), and the test asserts no credential is in it. Also: a budget that ends a real
// Claude Code run quickly with the documented exit code, and the hint when no provider is given.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { BUDGET_EXIT } from '../../src/guard/command';
import { buildGuard } from './helpers/build';
import { decodeJwt, eventStreamFrame, fakeActionsOidc, type Served, serveJson, sigV4Valid } from './helpers/fakeCredentials';
import { fakeGemini } from './helpers/fakeGemini';
import { type FakeProvider, startFakeProvider } from './helpers/fakeProvider';
import { describeJail } from './helpers/jailAvailable';
import { runGuard } from './helpers/runGuard';

const ROOT = path.join(__dirname, '..', '..');
const CLAUDE = path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
const GEMINI = path.join(ROOT, 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
const COPILOT = path.join(ROOT, 'node_modules', '@github', 'copilot', 'npm-loader.js');
const MARK = '===AGENT-GUARD-PROBE===';

/** Run `agentCommand` in the jail, then dump everything the agent could read. */
function withProbe(agentCommand: string, extraPaths: string[] = []): string[] {
  const files = extraPaths.map((p) => `'${p}'`).join(' ');
  const probe = [
    'env',
    'for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr "\\0" "\\n" < "$f" 2>/dev/null; echo; done',
    'find "$HOME" /tmp /var/tmp /run /dev/shm -type f -size -4M -readable -exec cat {} + 2>/dev/null',
    files ? `cat ${files} 2>/dev/null` : 'true',
  ].join('; ');
  return ['/bin/bash', '-c', `${agentCommand}; code=$?; echo ${MARK}; ${probe}; exit $code`];
}

const claudeTurn = (reply: string) => `'${CLAUDE}' -p 'Say pong.' --max-turns 1 | grep -F '${reply}'`;

function expectNoneSeen(stdout: string, secrets: string[]): void {
  const probe = stdout.slice(stdout.indexOf(MARK));
  expect(probe.length).toBeGreaterThan(MARK.length + 100);
  expect(probe).toContain('HOME=/home/agent');
  for (const secret of secrets) expect({ secret, seen: probe.includes(secret) }).toEqual({ secret, seen: false });
}

describeJail('guard end to end: every credential kind', () => {
  let guard: string;
  let workspace: string;
  let secretsDir: string;
  const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8', ...extra });
  const run = (guardArgs: string[], command: string[], extra: Record<string, string>) => runGuard(guard, [...guardArgs, '--timeout', '90', '--', ...command], env(extra), workspace);

  beforeAll(() => {
    for (const cli of [CLAUDE, GEMINI, COPILOT]) if (!fs.existsSync(cli)) throw new Error(`${cli} is not installed: run npm ci`);
    guard = buildGuard();
    workspace = fs.mkdtempSync('/var/tmp/agent-guard-creds-');
    fs.chownSync(workspace, 4242, 4242);
    // Where earlier steps leave credential files (RUNNER_TEMP, the workspace's parent): masked in the jail.
    secretsDir = fs.mkdtempSync('/var/tmp/agent-guard-secrets-');
  });

  afterAll(() => {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(secretsDir, { recursive: true, force: true });
  });

  it('Claude Code with CLAUDE_CODE_OAUTH_TOKEN (a Claude subscription): Bearer and the OAuth beta flag', async () => {
    const OAUTH = 'sk-ant-oat01-REAL-subscription-token-0123456789';
    const fake = await startFakeProvider({
      reply: 'PONG over OAuth',
      rejectAuth: (h) => {
        if (h['x-api-key']) return 'an API key header came along';
        if (h.authorization !== `Bearer ${OAUTH}`) return 'invalid bearer token';
        if (!String(h['anthropic-beta'] ?? '').split(',').includes('oauth-2025-04-20')) return 'OAuth authentication is currently not supported.';
        return undefined;
      },
    });
    try {
      const { code, stdout, stderr } = await runGuard(guard, ['--provider', `anthropic=${fake.url}`, '--timeout', '90', '--', ...withProbe(claudeTurn('PONG over OAuth'))], env({ CLAUDE_CODE_OAUTH_TOKEN: OAUTH }), workspace);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
      expect(fake.seen.filter((s) => s.url.startsWith('/v1/messages')).length).toBeGreaterThanOrEqual(1);
      expectNoneSeen(stdout, [OAUTH]);
    } finally {
      await fake.close();
    }
  }, 120_000);

  it('Claude Code with workload identity federation: the guard fetches the OIDC token, exchanges it and injects the result', async () => {
    const REQUEST_TOKEN = 'actions-id-token-request-REAL-0123456789';
    const oidc = await fakeActionsOidc(REQUEST_TOKEN);
    const minted: string[] = [];
    const fake = await startFakeProvider({
      reply: 'PONG over federation',
      extra: (call) => {
        if (call.url !== '/v1/oauth/token') return undefined;
        const body = JSON.parse(call.body);
        const valid = oidc.issued.includes(body.assertion) && decodeJwt(body.assertion).aud === 'https://api.anthropic.com' && body.federation_rule_id === 'fdrl_01abc' && body.organization_id === 'org-uuid-1';
        if (!valid) return [401, { error: 'invalid_grant' }];
        minted.push(`sk-ant-fed-${crypto.randomUUID()}`);
        return [200, { access_token: minted.at(-1), expires_in: 3600, token_type: 'Bearer' }];
      },
      rejectAuth: (h) => (minted.length && h.authorization === `Bearer ${minted.at(-1)}` && String(h['anthropic-beta']).includes('oauth-2025-04-20') ? undefined : 'not a federated token'),
    });
    try {
      const federationEnv = {
        ANTHROPIC_FEDERATION_RULE_ID: 'fdrl_01abc', ANTHROPIC_ORGANIZATION_ID: 'org-uuid-1',
        ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      };
      const { code, stdout, stderr } = await runGuard(guard, ['--provider', `anthropic=${fake.url}`, '--timeout', '90', '--', ...withProbe(claudeTurn('PONG over federation'))], env(federationEnv), workspace);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
      expect(minted).toHaveLength(1);
      expectNoneSeen(stdout, [REQUEST_TOKEN, oidc.url, ...oidc.issued, ...minted]);
    } finally {
      await fake.close();
      await oidc.close();
    }
  }, 120_000);

  it('Claude Code on Amazon Bedrock: every request re-signed with SigV4 from the guard\'s AWS credentials', async () => {
    const creds = { accessKeyId: 'ASIAREALACCESSKEY0001', secretAccessKey: 'REAL/secret+access/key/0123456789abcdefghij', sessionToken: 'REAL-session-token-from-oidc-0123456789' };
    const bedrock = await fakeBedrock('PONG from Bedrock', creds, 'us-east-1');
    try {
      const awsEnv = {
        AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken,
        ANTHROPIC_MODEL: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      };
      const args = ['--provider', `bedrock=${bedrock.url}`, '--pass-env', 'ANTHROPIC_MODEL', '--timeout', '90', '--', ...withProbe(claudeTurn('PONG from Bedrock'))];
      const { code, stdout, stderr } = await runGuard(guard, args, env(awsEnv), workspace);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500), refused: bedrock.unsigned }).toEqual({ code: 0, stderr: '', refused: 0 });
      expect(bedrock.signed).toBeGreaterThanOrEqual(1);
      // A model id with a colon, as Claude Code 2.1.331 sends it (raw, not %3A); signed as sent.
      expect(bedrock.paths).toContain('/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream');
      expectNoneSeen(stdout, [creds.secretAccessKey, creds.sessionToken, creds.accessKeyId]);
    } finally {
      await bedrock.close();
    }
  }, 120_000);

  describe('Google Vertex AI, with a service-account key left by google-github-actions/auth', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    let tokens: Served & { minted: string[] };
    let keyFile: string;

    beforeAll(async () => {
      const minted: string[] = [];
      const endpoint = await serveJson((call) => {
        const [h, c, s] = (new URLSearchParams(call.body).get('assertion') ?? '').split('.');
        if (!s || !crypto.createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s, 'base64url'))) return [400, { error: 'invalid_grant' }];
        minted.push(`ya29.REAL-${crypto.randomUUID()}`);
        return [200, { access_token: minted.at(-1), expires_in: 3599, token_type: 'Bearer' }];
      });
      tokens = { ...endpoint, minted };
      keyFile = path.join(secretsDir, 'gha-creds-0123.json');
      fs.writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: 'proj-123', client_email: 'agent@proj-123.iam.gserviceaccount.com', private_key: pem, private_key_id: 'kid', token_uri: `${endpoint.url}/token` }), { mode: 0o600 });
    });
    afterAll(() => tokens.close());
    const bearerMinted = (h: http.IncomingHttpHeaders) => (tokens.minted.some((t) => h.authorization === `Bearer ${t}`) ? undefined : 'not a minted access token');

    it('Claude Code (CLAUDE_CODE_USE_VERTEX)', async () => {
      const fake: FakeProvider = await startFakeProvider({
        reply: 'PONG from Vertex',
        messagesPath: /^\/v1\/projects\/proj-123\/locations\/us-east5\/publishers\/anthropic\/models\/[^/]+:(streamRawPredict|rawPredict)$/,
        rejectAuth: bearerMinted,
      });
      try {
        const gcpEnv = { GOOGLE_APPLICATION_CREDENTIALS: keyFile, ANTHROPIC_VERTEX_PROJECT_ID: 'proj-123', CLOUD_ML_REGION: 'us-east5' };
        const { code, stdout, stderr } = await runGuard(guard, ['--provider', `vertex=${fake.url}`, '--timeout', '90', '--', ...withProbe(claudeTurn('PONG from Vertex'), [keyFile])], env(gcpEnv), workspace);
        expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
        expect(fake.seen.some((s) => /:streamRawPredict$/.test(s.url))).toBe(true);
        expectNoneSeen(stdout, [...tokens.minted, 'PRIVATE KEY', pem.split('\n')[1]]);
      } finally {
        await fake.close();
      }
    }, 120_000);

    it('Gemini CLI (GOOGLE_GENAI_USE_VERTEXAI): express-mode paths mapped onto the project', async () => {
      const fake = await fakeGemini('PONG from Gemini on Vertex', bearerMinted);
      try {
        const gcpEnv = { GOOGLE_APPLICATION_CREDENTIALS: keyFile, GOOGLE_CLOUD_PROJECT: 'proj-123', GOOGLE_CLOUD_LOCATION: 'us-central1' };
        const gemini = `node '${GEMINI}' --skip-trust -p 'Say pong.' | grep -F 'PONG from Gemini on Vertex'`;
        const { code, stdout, stderr } = await runGuard(guard, ['--provider', `vertex=${fake.url}`, '--timeout', '90', '--', ...withProbe(gemini, [keyFile])], env(gcpEnv), workspace);
        expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
        const calls = fake.seen.filter((s) => s.url.includes(':streamGenerateContent'));
        expect(calls.length).toBeGreaterThanOrEqual(1);
        for (const call of calls) expect(call.url).toMatch(/^\/v1beta1\/projects\/proj-123\/locations\/us-central1\/publishers\/google\/models\/[^/:]+:streamGenerateContent/);
        for (const s of fake.seen) expect(s.key).toBeUndefined();
        expectNoneSeen(stdout, [...tokens.minted, pem.split('\n')[1]]);
      } finally {
        await fake.close();
      }
    }, 120_000);
  });

  it('Copilot CLI with COPILOT_GITHUB_TOKEN: Bearer to the Copilot API, its GitHub MCP server not routed', async () => {
    const TOKEN = 'github_pat_REAL_copilot_user_token_0123456789';
    const copilot = await fakeCopilot('PONG from Copilot', TOKEN);
    try {
      const command = `node '${COPILOT}' -p 'Say pong.' --allow-all-tools | grep -F 'PONG from Copilot'`;
      const { code, stdout, stderr } = await runGuard(guard, ['--provider', `copilot=${copilot.url}`, '--timeout', '90', '--', ...withProbe(command)], env({ COPILOT_GITHUB_TOKEN: TOKEN }), workspace);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500), unauthorized: copilot.unauthorized }).toEqual({ code: 0, stderr: '', unauthorized: 0 });
      expect(copilot.paths).toContain('/chat/completions');
      // The CLI asks for the Copilot API's GitHub MCP server; the proxy does not route it.
      expect(copilot.paths.some((p) => p.startsWith('/mcp'))).toBe(false);
      expectNoneSeen(stdout, [TOKEN]);
    } finally {
      await copilot.close();
    }
  }, 150_000);

  it('ends a real Claude Code run quickly with the budget exit code when the token budget runs out (no retry loop)', async () => {
    const fake = await startFakeProvider({ reply: 'word '.repeat(3000), eventDelayMs: 2 });
    try {
      const started = Date.now();
      const { code, stderr } = await run(['--provider', `anthropic=${fake.url}`, '--max-tokens', '400'], [CLAUDE, '-p', 'Say pong.', '--max-turns', '1'], { ANTHROPIC_API_KEY: 'sk-ant-api03-REAL-budget-key' });
      expect(code).toBe(BUDGET_EXIT);
      expect(Date.now() - started).toBeLessThan(45_000);
      expect(stderr).toMatch(new RegExp(`agent-guard: token budget of 400 used up.*exit ${BUDGET_EXIT}`));
      // Nothing reached the upstream after the budget ran out.
      expect(fake.seen.filter((s) => s.url.startsWith('/v1/messages?') || s.url === '/v1/messages').length).toBeLessThanOrEqual(2);
    } finally {
      await fake.close();
    }
  }, 120_000);

  it('names the provider to add when the agent cannot authenticate', async () => {
    const { code, stderr } = await run([], [CLAUDE, '-p', 'Say pong.', '--max-turns', '1'], { ANTHROPIC_API_KEY: 'sk-ant-api03-REAL-unused-key' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('agent-guard: no --provider given');
    expect(stderr).toMatch(/agent-guard: Claude Code could not authenticate: .*add --provider anthropic \(ANTHROPIC_API_KEY is set\)/);
  }, 120_000);
});

/** Bedrock's runtime API: checks SigV4 like AWS, streams Anthropic events in event-stream frames. */
async function fakeBedrock(reply: string, creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string }, region: string) {
  const state = { signed: 0, unsigned: 0, paths: [] as string[] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      if (!(await sigV4Valid(call, creds, region, 'bedrock')) || req.headers['x-amz-security-token'] !== creds.sessionToken) {
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

/** The Copilot API as @github/copilot 1.0.102 uses it: models, model routing, streamed chat completions. */
async function fakeCopilot(reply: string, token: string) {
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
