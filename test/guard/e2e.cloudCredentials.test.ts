// The credential kinds of issue 11's follow-up, end to end with the real CLI under the guard against
// fakes on loopback that check the credential as the service would: Claude Code on Microsoft Foundry
// with an API key (x-api-key, as its Foundry client sends it) and with an Entra ID token the guard
// minted from GitHub's OIDC token (azure/login's flow, checked by a fake login.microsoftonline.com);
// Claude Code on Bedrock with a web identity (the guard fetches the OIDC token, assumes the role at a
// fake STS and signs with the temporary keys, which the fake Bedrock checks with SigV4); opencode, an
// OpenAI-compatible agent, on Azure OpenAI (api-key), GitHub Models and OpenRouter (Bearer). After
// each turn a probe in the same jail dumps what the agent could see and the test asserts no
// credential, OIDC token or minted token is in it.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { claudeTurn, CLAUDE, expectNoneSeen, OPENCODE, withProbe } from './helpers/agentProbe';
import { buildGuard } from './helpers/build';
import { fakeBedrock } from './helpers/fakeBedrock';
import { decodeJwt, fakeActionsOidc, fakeEntra, fakeSts } from './helpers/fakeCredentials';
import { startFakeProvider } from './helpers/fakeProvider';
import { describeJail } from './helpers/jailAvailable';
import { runGuard } from './helpers/runGuard';

const TENANT = 'contoso.onmicrosoft.com';
const CLIENT = '6f1c2a10-0000-4000-8000-00000000c1a0';
const FOUNDRY_MESSAGES = /^\/anthropic\/v1\/messages$/;

describeJail('guard end to end: Foundry, Entra ID, AWS web identity, OpenAI-compatible providers', () => {
  let guard: string;
  let workspace: string;
  const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8', ...extra });
  const run = (guardArgs: string[], agentCommand: string, extra: Record<string, string>, probePaths: string[] = []) =>
    runGuard(guard, [...guardArgs, '--timeout', '90', '--', ...withProbe(agentCommand, probePaths)], env(extra), workspace);

  beforeAll(() => {
    for (const cli of [CLAUDE, OPENCODE]) if (!fs.existsSync(cli)) throw new Error(`${cli} is not installed: run npm ci`);
    guard = buildGuard();
    workspace = fs.mkdtempSync('/var/tmp/agent-guard-cloud-');
    fs.chownSync(workspace, 4242, 4242);
  });

  afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));

  it('Claude Code on Microsoft Foundry with ANTHROPIC_FOUNDRY_API_KEY: x-api-key on the resource\'s /anthropic path', async () => {
    const KEY = 'REAL-foundry-api-key-0123456789abcdef';
    const fake = await startFakeProvider({
      reply: 'PONG from Foundry',
      messagesPath: FOUNDRY_MESSAGES,
      rejectAuth: (h) => (h['x-api-key'] === KEY && !h.authorization ? undefined : 'invalid subscription key'),
    });
    try {
      const { code, stdout, stderr } = await run(['--provider', `foundry=${fake.url}`], claudeTurn('PONG from Foundry'), { ANTHROPIC_FOUNDRY_RESOURCE: 'contoso-ai', ANTHROPIC_FOUNDRY_API_KEY: KEY });
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
      expect(fake.seen.filter((s) => FOUNDRY_MESSAGES.test(s.url.split('?')[0])).length).toBeGreaterThanOrEqual(1);
      expectNoneSeen(stdout, [KEY]);
    } finally {
      await fake.close();
    }
  }, 120_000);

  it('Claude Code on Foundry with Entra ID: the guard fetches the OIDC token, exchanges it at login.microsoftonline.com and injects the token', async () => {
    const REQUEST_TOKEN = 'actions-id-token-request-REAL-for-entra';
    const oidc = await fakeActionsOidc(REQUEST_TOKEN);
    const login = await fakeEntra({ tenant: TENANT, clientId: CLIENT, assertionValid: (jwt) => oidc.issued.includes(jwt) && decodeJwt(jwt).aud === 'api://AzureADTokenExchange' });
    const fake = await startFakeProvider({
      reply: 'PONG from Foundry over Entra',
      messagesPath: FOUNDRY_MESSAGES,
      rejectAuth: (h) => (login.minted.some((t) => h.authorization === `Bearer ${t}`) && !h['x-api-key'] ? undefined : 'invalid Entra token'),
    });
    try {
      const entraEnv = {
        ANTHROPIC_FOUNDRY_RESOURCE: 'contoso-ai', AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: login.url,
        ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      };
      const { code, stdout, stderr } = await run(['--provider', `foundry=${fake.url}`], claudeTurn('PONG from Foundry over Entra'), entraEnv);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
      expect(login.minted).toHaveLength(1);
      expectNoneSeen(stdout, [REQUEST_TOKEN, oidc.url, ...oidc.issued, ...login.minted]);
    } finally {
      await Promise.all([fake.close(), login.close(), oidc.close()]);
    }
  }, 120_000);

  it('Claude Code on Bedrock with AWS_ROLE_ARN alone: the guard assumes the role with GitHub\'s OIDC token and signs with the temporary keys', async () => {
    const REQUEST_TOKEN = 'actions-id-token-request-REAL-for-aws';
    const ROLE = 'arn:aws:iam::123456789012:role/claude-bedrock';
    const oidc = await fakeActionsOidc(REQUEST_TOKEN);
    const sts = await fakeSts({ roleArn: ROLE, tokenValid: (jwt) => oidc.issued.includes(jwt) && decodeJwt(jwt).aud === 'sts.amazonaws.com' });
    const bedrock = await fakeBedrock('PONG from Bedrock by web identity', () => sts.issued, 'us-east-1');
    try {
      const awsEnv = {
        AWS_REGION: 'us-east-1', AWS_ROLE_ARN: ROLE, AWS_ENDPOINT_URL_STS: sts.url, ANTHROPIC_MODEL: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      };
      const { code, stdout, stderr } = await run(['--provider', `bedrock=${bedrock.url}`, '--pass-env', 'ANTHROPIC_MODEL'], claudeTurn('PONG from Bedrock by web identity'), awsEnv);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500), refused: bedrock.unsigned }).toEqual({ code: 0, stderr: '', refused: 0 });
      expect(bedrock.signed).toBeGreaterThanOrEqual(1);
      expect(sts.issued).toHaveLength(1);
      expectNoneSeen(stdout, [REQUEST_TOKEN, ...oidc.issued, ...sts.issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken])]);
    } finally {
      await Promise.all([bedrock.close(), sts.close(), oidc.close()]);
    }
  }, 120_000);

  it('Claude Code on Bedrock with AWS_WEB_IDENTITY_TOKEN_FILE in the workspace: the guard uses it, the jail shows it empty', async () => {
    const ROLE = 'arn:aws:iam::123456789012:role/claude-bedrock-file';
    const tokenFile = path.join(workspace, '.aws-web-identity-token');
    const jwt = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:ci:runner', aud: 'sts.amazonaws.com' })).toString('base64url')}.c2lnbmF0dXJl`;
    fs.writeFileSync(tokenFile, jwt, { mode: 0o644 });
    const sts = await fakeSts({ roleArn: ROLE, tokenValid: (t) => t === jwt });
    const bedrock = await fakeBedrock('PONG from Bedrock by token file', () => sts.issued, 'eu-west-1');
    try {
      const awsEnv = { AWS_REGION: 'eu-west-1', AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ENDPOINT_URL_STS: sts.url, ANTHROPIC_MODEL: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0' };
      const { code, stdout, stderr } = await run(['--provider', `bedrock=${bedrock.url}`, '--pass-env', 'ANTHROPIC_MODEL'], claudeTurn('PONG from Bedrock by token file'), awsEnv, [tokenFile]);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500), refused: bedrock.unsigned }).toEqual({ code: 0, stderr: '', refused: 0 });
      expect(sts.issued).toHaveLength(1);
      expectNoneSeen(stdout, [jwt, ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken])]);
      expect(fs.readFileSync(tokenFile, 'utf8')).toBe(jwt);
    } finally {
      await Promise.all([bedrock.close(), sts.close()]);
      fs.rmSync(tokenFile, { force: true });
    }
  }, 120_000);

  describe('opencode, an OpenAI-compatible agent, through the base URL and placeholder key the guard gives it', () => {
    // What a maintainer puts in opencode's config: the provider reads the guard's variables.
    const OPENCODE_CONFIG = JSON.stringify({
      provider: { guarded: { npm: '@ai-sdk/openai-compatible', name: 'guarded', options: { baseURL: '{env:OPENAI_BASE_URL}', apiKey: '{env:OPENAI_API_KEY}' }, models: { 'gpt-4.1': {} } } },
      model: 'guarded/gpt-4.1',
      autoupdate: false,
      share: 'disabled',
    });
    const opencodeTurn = (reply: string) => `'${OPENCODE}' run 'Say pong.' | grep -F '${reply}'`;

    it.each([
      ['azure-openai', { AZURE_OPENAI_ENDPOINT: 'https://contoso-ai.openai.azure.com', AZURE_OPENAI_API_KEY: 'REAL-azure-openai-key-0123456789' }, '/openai/v1/chat/completions', { 'api-key': 'REAL-azure-openai-key-0123456789' }],
      ['github-models', { GITHUB_MODELS_TOKEN: 'github_pat_REAL_models_read_0123456789' }, '/inference/chat/completions', { authorization: 'Bearer github_pat_REAL_models_read_0123456789' }],
      ['openrouter', { OPENROUTER_API_KEY: 'sk-or-v1-REAL-openrouter-0123456789' }, '/api/v1/chat/completions', { authorization: 'Bearer sk-or-v1-REAL-openrouter-0123456789' }],
    ])('%s', async (provider, credential, chatPath, expectedHeaders) => {
      const reply = `PONG from ${provider}`;
      const fake = await fakeChatCompletions(reply, chatPath, expectedHeaders);
      try {
        const extra = { ...credential, OPENCODE_CONFIG_CONTENT: OPENCODE_CONFIG, OPENCODE_DISABLE_MODELS_FETCH: '1', OPENCODE_DISABLE_AUTOUPDATE: '1' };
        const passed = ['OPENCODE_CONFIG_CONTENT', 'OPENCODE_DISABLE_MODELS_FETCH', 'OPENCODE_DISABLE_AUTOUPDATE'].flatMap((n) => ['--pass-env', n]);
        const { code, stdout, stderr } = await run(['--provider', `${provider}=${fake.url}`, ...passed], opencodeTurn(reply), extra);
        expect({ code, stderr: code === 0 ? '' : stderr.slice(-1500), refused: fake.refused }).toEqual({ code: 0, stderr: '', refused: 0 });
        expect(fake.answered).toBeGreaterThanOrEqual(1);
        expectNoneSeen(stdout, Object.values(credential).filter((v) => v.includes('REAL')));
      } finally {
        await fake.close();
      }
    }, 120_000);
  });
});

/**
 * An OpenAI-compatible chat completions endpoint at `chatPath` that answers only requests carrying
 * exactly `headers` (the real credential in the service's own header) and no other auth header.
 */
async function fakeChatCompletions(reply: string, chatPath: string, headers: Record<string, string>) {
  const state = { answered: 0, refused: 0 };
  const authHeaders = ['authorization', 'api-key', 'x-api-key'];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = (req.url ?? '').split('?')[0];
      const authorized = authHeaders.every((h) => req.headers[h] === headers[h]);
      if (req.method !== 'POST' || url !== chatPath || !authorized) {
        state.refused++;
        res.writeHead(authorized ? 404 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: authorized ? 'no such route' : 'invalid credential' } }));
        return;
      }
      state.answered++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (choices: unknown[], extra: object = {}) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1', choices, ...extra })}\n\n`;
      res.write(chunk([{ index: 0, delta: { role: 'assistant', content: reply }, finish_reason: null }]));
      res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      res.write(chunk([], { usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }));
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get answered() {
      return state.answered;
    },
    get refused() {
      return state.refused;
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
