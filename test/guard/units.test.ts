// The guard's pure pieces: argument parsing, the agent environment, git config sanitising,
// workflow-command neutralising, body policy, usage metering and the egress address policy.
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditLog, openGuardFile } from '../../src/guard/audit';
import { findProviderFetch } from '../../src/guard/bodyPolicy';
import { blockedAddressReason, createEgressProxy } from '../../src/guard/egress';
import { buildAgentEnv, knownSecrets } from '../../src/guard/env';
import { GuardError } from '../../src/guard/errors';
import { sanitizeGitConfig } from '../../src/guard/gitConfig';
import { parseAllowHost, parseRunArgs } from '../../src/guard/options';
import { authFailureHint, builtinCatalogue, builtinProviders, homeFilesFor, mergedHomeFiles, missingProviderHint, parseCatalogue, parseUpstream } from '../../src/guard/providers';
import { UsageMeter } from '../../src/guard/usage';
import { WorkflowCommandNeutralizer } from '../../src/guard/workflowCommands';

describe('run arguments', () => {
  it('parses every option', () => {
    const o = parseRunArgs(['--provider', 'anthropic', '--provider=openai=http://127.0.0.1:9', '--allow-host', 'registry.npmjs.org', '--allow-host=[2001:db8::1]:8443',
      '--pass-env', 'FOO', '--workspace', 'ro', '--max-requests', '5', '--max-tokens=1000', '--audit', 'a.jsonl', '--timeout', '60', '--allow-provider-fetch', '--', 'claude', '-p', '--x']);
    expect(o).toMatchObject({
      providers: [{ name: 'anthropic' }, { name: 'openai', upstream: 'http://127.0.0.1:9' }],
      allowHosts: [{ host: 'registry.npmjs.org', port: 443 }, { host: '2001:db8::1', port: 8443 }],
      passEnv: ['FOO'], workspaceMode: 'ro', maxRequests: 5, maxTokens: 1000, auditFile: 'a.jsonl', timeoutSeconds: 60, allowProviderFetch: true,
      command: ['claude', '-p', '--x'],
    });
  });

  it.each([
    [[]], [['--']], [['--bogus', '--', 'x']], [['--workspace', 'rx', '--', 'x']], [['--max-requests', '0', '--', 'x']], [['--max-tokens', '1e9', '--', 'x']],
    [['--provider', 'Anthropic!', '--', 'x']], [['--provider', 'a', '--provider', 'a', '--', 'x']], [['--pass-env', 'A-B', '--', 'x']], [['--timeout']],
  ])('refuses %j with a usage error', (args) => {
    expect(() => parseRunArgs(args as string[])).toThrow(GuardError);
  });

  it.each(['evil.com\0.npmjs.org', 'user@host', '*.npmjs.org', 'host:99999', 'a..b', ''])('refuses --allow-host %j', (h) => {
    expect(() => parseAllowHost(h)).toThrow(GuardError);
  });

  it('accepts only https upstreams, or http to loopback', () => {
    expect(parseUpstream('https://api.example.com/base', 'x').pathname).toBe('/base');
    expect(() => parseUpstream('http://api.example.com', 'x')).toThrow(/https/);
    expect(() => parseUpstream('https://user:pw@api.example.com', 'x')).toThrow(/credentials/);
    expect(parseUpstream('http://127.0.0.1:8080', 'x').port).toBe('8080');
  });
});

describe('agent environment', () => {
  const anthropic = builtinProviders().get('anthropic')!;
  const hostEnv = {
    PATH: '.:/usr/bin:relative/bin:/opt/tool/bin', LANG: 'C.UTF-8', LC_ALL: 'C', TERM: 'xterm', CI: 'true', HOME: '/root',
    GITHUB_REPOSITORY: 'o/r', GITHUB_SHA: 'abc', GITHUB_TOKEN: 'ghs_secretsecret', GH_TOKEN: 'ghs_other', ACTIONS_RUNTIME_TOKEN: 'runtime-token-x',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token-xyz', ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x', GITHUB_ENV: '/f/env', GITHUB_PATH: '/f/path',
    GITHUB_OUTPUT: '/f/out', GITHUB_STATE: '/f/state', GITHUB_STEP_SUMMARY: '/f/sum', INPUT_PROMPT: 'hello', INPUT_KEY: 'input-secret-1',
    ANTHROPIC_API_KEY: 'sk-ant-real-key', NODE_OPTIONS: '--require x', LD_PRELOAD: 'x.so', BASH_ENV: 'x', MY_VAR: 'fine', COPY: 'ghs_secretsecret',
    URL_WITH: 'https://x:ghs_secretsecret@github.com',
  };
  const secrets = knownSecrets(hostEnv, ['sk-ant-real-key']);

  it('keeps only harmless context, the placeholder and the loopback base URL', () => {
    const { env, droppedForSecret } = buildAgentEnv({ hostEnv, passEnv: ['MY_VAR', 'COPY', 'URL_WITH'], providers: [{ provider: anthropic, base: 'http://127.0.0.1:41100' }], secrets });
    expect(env.ANTHROPIC_API_KEY).toBe(anthropic.placeholder);
    expect(env.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:41100');
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
    expect(env.HOME).toBe('/home/agent');
    expect(env.PATH).toBe('/usr/bin:/opt/tool/bin:/usr/local/bin:/bin');
    expect(env).toMatchObject({ LANG: 'C.UTF-8', LC_ALL: 'C', TERM: 'xterm', CI: 'true', GITHUB_REPOSITORY: 'o/r', GITHUB_SHA: 'abc', MY_VAR: 'fine' });
    for (const name of ['GITHUB_TOKEN', 'GH_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'GITHUB_ENV', 'GITHUB_PATH',
      'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'INPUT_PROMPT', 'INPUT_KEY', 'NODE_OPTIONS', 'LD_PRELOAD', 'BASH_ENV', 'COPY', 'URL_WITH']) {
      expect(env[name]).toBeUndefined();
    }
    expect(droppedForSecret.sort()).toEqual(['COPY', 'URL_WITH']);
    expect(Object.values(env).join('\n')).not.toMatch(/sk-ant-real-key|ghs_secretsecret|oidc-token|runtime-token|input-secret/);
  });

  it.each(['GITHUB_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'INPUT_X', 'GITHUB_OUTPUT', 'LD_PRELOAD', 'NODE_OPTIONS', 'BASH_ENV', 'ANTHROPIC_API_KEY', 'HOME'])('refuses --pass-env %s', (name) => {
    expect(() => buildAgentEnv({ hostEnv, passEnv: [name], providers: [{ provider: anthropic, base: 'http://127.0.0.1:1' }], secrets })).toThrow(GuardError);
  });

  it('refuses two providers that claim the same base-URL variable', () => {
    const p = builtinProviders();
    expect(() => buildAgentEnv({ hostEnv, passEnv: [], providers: [{ provider: p.get('openai')!, base: 'http://127.0.0.1:1' }, { provider: p.get('openrouter')!, base: 'http://127.0.0.1:2' }], secrets })).toThrow(/both set OPENAI_BASE_URL/);
  });
});

describe('provider home files', () => {
  const base = 'providers:\n p:\n  upstream: https://api.example.com\n  credentials: [{ kind: static, env: K, headers: { x-key: "{secret}" } }]\n  placeholder: ph\n  routes: [POST /v1/x]\n';
  const parseProviders = (text: string) => parseCatalogue(text).providers;

  it('gemini selects API-key auth in the fresh HOME (its base URL alone picks a gateway auth headless runs refuse)', () => {
    const files = builtinProviders().get('gemini')!.homeFiles;
    const settings = JSON.parse(files['.gemini/settings.json']);
    expect(settings.security.auth.selectedType).toBe('gemini-api-key');
  });

  it('openai gives Codex a provider of its own on the bridge (its built-in one leaves OPENAI_BASE_URL for a WebSocket)', () => {
    const files = homeFilesFor(builtinProviders().get('openai')!, 'http://127.0.0.1:41000');
    const config = files['.codex/config.toml'];
    expect(config).toMatch(/^model_provider = "agent-guard"$/m);
    expect(config).toContain('base_url = "http://127.0.0.1:41000/v1"');
    expect(config).toContain('env_key = "OPENAI_API_KEY"');
    expect(config).not.toContain('{base}');
  });

  it('refuses two providers that write the same HOME file differently (gemini and vertex both configure Gemini CLI)', () => {
    const p = builtinProviders();
    const gemini = { provider: p.get('gemini')!, base: 'http://127.0.0.1:1' };
    const vertex = { provider: p.get('vertex')!, base: 'http://127.0.0.1:2', settings: { project: 'proj-123', location: 'global' } };
    expect(() => mergedHomeFiles([gemini, vertex])).toThrow(/providers gemini and vertex both write ~\/.gemini\/settings.json/);
    expect(Object.keys(mergedHomeFiles([gemini, { provider: p.get('openai')!, base: 'http://127.0.0.1:3' }])).sort()).toEqual(['.codex/config.toml', '.gemini/settings.json']);
  });

  it('reads home-files and keeps them inside HOME', () => {
    expect(parseProviders(`${base}  home-files:\n    .tool/config.json: '{}'\n`).get('p')!.homeFiles).toEqual({ '.tool/config.json': '{}' });
    expect(() => parseProviders(`${base}  home-files:\n    ../escape: x\n`)).toThrow(/must stay inside HOME/);
    expect(() => parseProviders(`${base}  home-files:\n    /etc/passwd: x\n`)).toThrow(/must stay inside HOME/);
    expect(() => parseProviders(`${base}  home-files:\n    a: [1]\n`)).toThrow(/must be a string/);
  });
});

describe('provider data is checked when it loads', () => {
  const provider = (credentials: string, extra = '') =>
    `providers:\n p:\n  upstream: https://api.example.com\n  credentials: ${credentials}\n  placeholder: ph\n  routes: [POST /v1/x]\n${extra}`;
  it.each([
    [provider('[{ kind: magic, env: K }]'), /unknown credential kind "magic"/],
    [provider('[{ kind: static, env: K, headers: { x-key: plain } }]'), /headers must carry the \{secret\}/],
    [provider('[{ kind: static, headers: { x-key: "{secret}" } }]'), /env missing/],
    [provider('[{ kind: aws-sigv4, env: K }]'), /service missing/],
    [provider('[]'), /credentials missing/],
    [provider('[{ kind: static, env: K, headers: { x-key: "{secret}" } }]', '  settings:\n    region: { env: R, pattern: "[" }\n'), /bad pattern/],
    [provider('[{ kind: static, env: K, headers: { x-key: "{secret}" } }]').replace('POST /v1/x', 'POST v1/x'), /bad route/],
    [`${provider('[{ kind: static, env: K, headers: { x-key: "{secret}" } }]')}auth-failures:\n  - { agent: A, output: x, providers: [nope] }\n`, /unknown provider nope/],
  ])('refuses %#', (text, message) => {
    expect(() => parseCatalogue(text)).toThrow(message);
  });
});

describe('hints about providers', () => {
  it('says which provider to add for a credential in the environment, and ignores GITHUB_TOKEN', () => {
    expect(missingProviderHint({ GITHUB_TOKEN: 'ghs_x', PATH: '/usr/bin' })).toBeUndefined();
    expect(missingProviderHint({ CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-x' })).toMatch(/add --provider anthropic \(CLAUDE_CODE_OAUTH_TOKEN is set\)/);
    expect(missingProviderHint({ AWS_BEARER_TOKEN_BEDROCK: 'b' })).toMatch(/--provider bedrock/);
  });

  it('names the missing provider when the agent says it cannot authenticate', () => {
    const gemini = 'Please set an Auth method in your /home/agent/.gemini/settings.json or specify one of the following environment variables';
    expect(authFailureHint(gemini, [], { GOOGLE_APPLICATION_CREDENTIALS: '/x.json' })).toMatch(/Gemini CLI could not authenticate: .*add --provider vertex \(GOOGLE_APPLICATION_CREDENTIALS is set\)/);
    expect(authFailureHint('Invalid API key · Please run /login', ['anthropic'], {})).toMatch(/through --provider anthropic: check the credential/);
    expect(authFailureHint('all good', [], { ANTHROPIC_API_KEY: 'k' })).toBeUndefined();
  });
});

describe('git config sanitising', () => {
  const config = [
    '[core]', '\trepositoryformatversion = 0', '[remote "origin"]', '\turl = https://x-access-token:ghs_abc@github.com/o/r', '\tfetch = +refs/heads/*:refs/remotes/origin/*',
    '[http "https://github.com/"]', '\textraheader = AUTHORIZATION: basic eC1hY2Nlc3M=', '\tsslVerify = true',
    '[includeIf "gitdir:/home/runner/work/r/r/.git"]', '\tpath = /home/runner/work/_temp/git-credentials-1.config',
    '[include]', '\tpath = /x', '[credential]', '\thelper = store', '[credential "https://github.com"]', '\tusername = x',
    '[user]', '\tname = bot', '\tsigningkey = SECRETVALUE123', '[http] extraheader = x',
  ].join('\n');

  it('removes extraheader, credential, include and userinfo, keeps the rest', () => {
    const out = sanitizeGitConfig(config, ['SECRETVALUE123']);
    expect(out).not.toMatch(/extraheader|credential|includeIf|include\]|git-credentials|ghs_abc|SECRETVALUE|helper/i);
    expect(out).toContain('url = https://github.com/o/r');
    expect(out).toContain('fetch = +refs/heads/*:refs/remotes/origin/*');
    expect(out).toContain('sslVerify = true');
    expect(out).toContain('name = bot');
  });
});

describe('workflow command neutralising', () => {
  const runnerWouldParse = (line: string) => line.trimStart().startsWith('::') || line.includes('##[');
  const through = (chunks: string[]) => {
    const n = new WorkflowCommandNeutralizer();
    return Buffer.concat(chunks.map((c) => n.transform(Buffer.from(c)))).toString('utf8');
  };

  it.each([
    [['::set-output name=x::1\n']],
    [['   ::add-mask::secret\n']],
    [['\u00a0\u3000::error::unicode blanks\n']],
    [['ok\r::save-state name=a::b\n']],
    [['text ##[set-output name=x;]1\n']],
    [[':', ':stop-commands::tok\n']],
    [['#', '#', '[error]split\n']],
    [['line one\n', '::warning', '::split across chunks\n']],
  ])('breaks %j', (chunks) => {
    const out = through(chunks as string[]);
    expect(out.split(/\r\n|\r|\n/).filter(runnerWouldParse)).toEqual([]);
    expect(out.replace(/\u200b/g, '')).toBe((chunks as string[]).join(''));
  });

  it('leaves ordinary output byte for byte', () => {
    const text = 'std::vector<int> v;\na: b\n# heading\nC++ :: scope\n\u00e9t\u00e9\n';
    expect(through([text])).toBe(text);
  });
});

describe('provider fetch policy', () => {
  it.each([
    [{ tools: [{ type: 'web_search_20250305' }] }],
    [{ tools: [{ type: 'web_fetch_20250910' }] }],
    [{ tools: [{ type: 'mcp', server_url: 'https://evil' }] }],
    [{ tools: [{ type: 'mcp_toolset' }] }],
    [{ tools: [{ googleSearch: {} }] }],
    [{ tools: [{ url_context: {} }] }],
    [{ mcp_servers: [{ url: 'https://evil' }] }],
    [{ web_search_options: {} }],
    [{ plugins: [{ id: 'web' }] }],
    [{ model: 'openai/gpt-4o:online' }],
    [{ input: [{ content: [{ type: 'input_image', image_url: 'https://evil/x.png' }] }] }],
    [{ messages: [{ content: [{ type: 'image_url', image_url: { url: 'http://evil/x.png' } }] }] }],
    [{ input: [{ content: [{ type: 'input_file', file_url: 'https://evil/x.pdf' }] }] }],
    [{ contents: [{ parts: [{ fileData: { fileUri: 'https://evil/x' } }] }] }],
    [{ messages: [{ content: [{ type: 'document', source: { type: 'url', url: 'https://evil' } }] }] }],
  ])('refuses %j', (body) => {
    expect(findProviderFetch(body, builtinCatalogue().fetchers)).toBeTruthy();
  });

  it.each([
    [{ tools: [{ name: 'bash', input_schema: { type: 'object', properties: { url: { type: 'string' } } } }], messages: [{ role: 'user', content: 'fetch https://x' }] }],
    [{ messages: [{ content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }],
    [{ mcp_servers: [] }],
    [{ contents: [{ parts: [{ fileData: { fileUri: 'files/abc' } }] }] }],
  ])('allows %j', (body) => {
    expect(findProviderFetch(body, builtinCatalogue().fetchers)).toBeUndefined();
  });
});

describe('usage meter', () => {
  it('reads OpenAI chat, Responses and Gemini usage, streamed or not', () => {
    const chat = new UsageMeter('json');
    chat.feed(Buffer.from(JSON.stringify({ usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } })));
    expect(chat.finish()).toEqual({ input: 10, output: 3 });
    const responses = new UsageMeter('sse');
    responses.feed(Buffer.from('event: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":40,"output_tokens":'));
    responses.feed(Buffer.from('9}}}\n\ndata: [DONE]\n\n'));
    expect(responses.finish()).toEqual({ input: 40, output: 9 });
    const gemini = new UsageMeter('sse');
    gemini.feed(Buffer.from('data: {"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1}}\r\n\r\ndata: {"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":4}}\r\n\r\n'));
    expect(gemini.finish()).toEqual({ input: 5, output: 4 });
  });
});

describe('egress proxy', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '168.63.129.16', '100.100.100.200', '0.0.0.0', '100.64.0.1', '::1', '::',
    '::ffff:127.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', 'fc00::1', 'fd00:ec2::254', 'fe80::1', 'ff02::1', '224.0.0.1', '::ffff:7f00:1'])('blocks %s', (addr) => {
    expect(blockedAddressReason(addr)).toBeTruthy();
  });

  it.each(['104.16.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (addr) => {
    expect(blockedAddressReason(addr)).toBeUndefined();
  });

  async function withEgress(blockedReason: ((a: string) => string | undefined) | undefined, test: (proxyPort: number, echoPort: number, audit: AuditLog) => Promise<void>) {
    const audit = new AuditLog();
    const echo = net.createServer((c) => c.pipe(c));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const echoPort = (echo.address() as net.AddressInfo).port;
    const proxy = createEgressProxy({ allowHosts: [{ host: 'registry.example', port: echoPort }], audit, resolve: async () => ['127.0.0.1'], blockedReason });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      await test((proxy.address() as net.AddressInfo).port, echoPort, audit);
    } finally {
      proxy.close();
      echo.close();
    }
  }

  const connectThrough = (port: number, target: string) =>
    new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
      let data = '';
      s.on('data', (d) => {
        data += d;
        if (data === 'HTTP/1.1 200 Connection Established\r\n\r\n') s.write('ping');
        else if (data.endsWith('ping')) s.end();
      });
      const timer = setTimeout(() => s.destroy(), 2000);
      s.on('close', () => {
        clearTimeout(timer);
        resolve(data);
      });
    });

  it('refuses unlisted hosts, other ports, plain requests and allowed hosts that resolve to loopback', async () => {
    await withEgress(undefined, async (port, echoPort, audit) => {
      expect(await connectThrough(port, 'evil.example:443')).toMatch(/^HTTP\/1\.1 403/);
      expect(await connectThrough(port, 'registry.example:22')).toMatch(/^HTTP\/1\.1 403/);
      expect(await connectThrough(port, `registry.example:${echoPort}`)).toMatch(/^HTTP\/1\.1 403 [^]*loopback/);
      // A NUL in the target is a parse error: the connection is dropped without a tunnel.
      expect(await connectThrough(port, `registry.example\0.evil:${echoPort}`)).not.toMatch(/200/);
      const status = await new Promise<number>((resolve) => http.get({ host: '127.0.0.1', port, path: 'http://registry.example/' }, (r) => resolve(r.statusCode ?? 0)));
      expect(status).toBe(405);
      expect(audit.records.every((r) => r.refused)).toBe(true);
    });
  });

  it('tunnels to the address it checked for an allowed host', async () => {
    await withEgress(() => undefined, async (port, echoPort, audit) => {
      expect(await connectThrough(port, `registry.example:${echoPort}`)).toBe('HTTP/1.1 200 Connection Established\r\n\r\nping');
      await new Promise((r) => setTimeout(r, 50));
      expect(audit.records).toEqual([expect.objectContaining({ kind: 'egress', status: 200, requestBytes: 4, responseBytes: 4 })]);
    });
  });
});

describe('audit', () => {
  it('writes JSON lines and a step-summary table that cannot break out of its cells', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ag-audit-')), 'a.jsonl');
    const audit = new AuditLog(openGuardFile(file, [], process.getuid?.() ?? -1, '--audit'));
    audit.add({ time: 't', kind: 'model', provider: 'anthropic', method: 'POST', route: '/v1/messages', status: 200, requestBytes: 1, responseBytes: 2, inputTokens: 3, outputTokens: 4, ms: 5 });
    audit.add({ time: 't', kind: 'egress', method: 'CONNECT', route: 'a|b\n<script>', status: 403, requestBytes: 0, responseBytes: 0, ms: 0, refused: 'x' });
    audit.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).status)).toEqual([200, 403]);
    const md = audit.stepSummaryMarkdown(0);
    const row = md.split('\n').filter((l) => l.startsWith('| egress'))[0];
    expect(row).toContain('a\\|b &lt;script&gt;');
    expect(row.split(/(?<!\\)\|/)).toHaveLength(9);
    expect(audit.summaryLine(0)).toBe('agent-guard: agent exited 0; 1 request(s) forwarded, 1 refused, 3 input + 4 output tokens');
  });
});
