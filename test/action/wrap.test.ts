// `agent-guard wrap claude`: the wrapper text, where it may be installed, which claude it picks,
// the refusal under untrusted input, the Action's wrap mode, and (with the jail) the real Claude
// Code CLI run through the installed wrapper against a fake Anthropic API on loopback: once with
// `-p`, and once driven over stream-json on stdin as the Agent SDK behind claude-code-action does.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { findRealClaude, prepareClaudeWrapper, renderClaudeWrapper, shellQuote, wrapMain } from '../../src/guard/wrap';
import { type FakeProvider, startFakeProvider } from '../guard/helpers/fakeProvider';
import { describeJail } from '../guard/helpers/jailAvailable';
import { CLI, EVENTS, runActionInProcess, simulateRunner } from './helpers/runner';

const CLAUDE = path.join(__dirname, '..', '..', 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
const REAL_KEY = 'sk-ant-api03-REAL-KEY-held-by-the-wrapper-guard-0123456789';

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function fakeExecutable(dir: string, name: string, text = '#!/bin/sh\necho fake\n'): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o755 });
  return file;
}

function wrap(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = wrapMain(args, { stdout, stderr, env, cwd, node: process.execPath, guard: CLI });
  return { code, stdout: out, stderr: err };
}

describe('the wrapper script', () => {
  it('quotes every word so no path can break out of the shell line', () => {
    expect(shellQuote("it's $HOME `x`")).toBe(`'it'\\''s $HOME \`x\`'`);
    const text = renderClaudeWrapper({ node: '/usr/bin/node', guard: "/opt/a g/cli.js", claude: "/x/it's/claude", guardArgs: ['--provider', 'anthropic'] });
    expect(text.split('\n')[0]).toBe('#!/bin/sh');
    expect(text).toContain(`exec '/usr/bin/node' '/opt/a g/cli.js' 'run' '--provider' 'anthropic' '--' '/x/it'\\''s/claude' "$@"`);
    // The shell itself agrees: the words come out as written.
    const words = execFileSync('sh', ['-c', `printf '%s\\n' ${shellQuote("/x/it's/claude")} ${shellQuote('$(id)')}`], { encoding: 'utf8' });
    expect(words).toBe("/x/it's/claude\n$(id)\n");
  });

  it('prints a wrapper for the claude it was given, defaulting to --provider anthropic', () => {
    const cwd = tmp('agent-guard-wrap-cwd-');
    const r = wrap(['claude', '--claude', CLAUDE, '--', '--max-requests', '20'], { PATH: '/usr/bin:/bin' }, cwd);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`'run' '--provider' 'anthropic' '--max-requests' '20' '--' '${fs.realpathSync(CLAUDE)}' "$@"`);
    expect(r.stdout).toContain(`'${fs.realpathSync(CLI)}'`);
  });

  it('finds the real claude on PATH, skipping the install folder and earlier wrappers', () => {
    const root = tmp('agent-guard-wrap-path-');
    const installDir = path.join(root, 'install');
    const otherWrapper = fakeExecutable(path.join(root, 'old'), 'claude', '#!/bin/sh\n# written by `agent-guard wrap claude`\n');
    fakeExecutable(installDir, 'claude');
    const real = fakeExecutable(path.join(root, 'real'), 'claude');
    const found = findRealClaude(['relative/bin', installDir, path.dirname(otherWrapper), path.dirname(real)].join(':'), [installDir]);
    expect(found).toBe(fs.realpathSync(real));
    expect(findRealClaude(installDir, [installDir])).toBeUndefined();
  });

  it('installs DIR/claude, executable, and prints its path', () => {
    const cwd = tmp('agent-guard-wrap-cwd-');
    const dir = path.join(tmp('agent-guard-wrap-out-'), 'bin');
    const r = wrap(['claude', '--install', dir, '--claude', CLAUDE], { PATH: '/usr/bin:/bin' }, cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${path.join(dir, 'claude')}\n`);
    expect(fs.statSync(path.join(dir, 'claude')).mode & 0o777).toBe(0o755);
    expect(r.stderr).toContain('set path_to_claude_code_executable to it');
  });

  it.each([
    ['no claude anywhere', ['claude'], 'cannot find claude on PATH'],
    ['another agent', ['codex'], "wrap supports claude only, not 'codex'"],
    ['a bad guard option', ['claude', '--claude', CLAUDE, '--', '--max-requests', 'lots'], '--max-requests wants a positive whole number'],
    ['a second --', ['claude', '--claude', CLAUDE, '--', '--', 'sh'], 'cannot hold another --'],
    ['a non-anthropic provider', ['claude', '--claude', CLAUDE, '--', '--provider', 'openai'], 'must include --provider anthropic, or bedrock, or vertex'],
    ['claude is itself a wrapper', ['claude', '--claude', '@WRAPPER'], 'is an agent-guard wrapper, not Claude Code'],
  ])('refuses %s with one line and exit 125', (_what, args, message) => {
    const cwd = tmp('agent-guard-wrap-cwd-');
    const wrapper = fakeExecutable(tmp('agent-guard-wrap-w-'), 'claude', '#!/bin/sh\n# written by `agent-guard wrap claude`\n');
    const r = wrap(args.map((a) => (a === '@WRAPPER' ? wrapper : a)), { PATH: '/nonexistent' }, cwd);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('refuses to install where the agent can write (the workspace), or to call a guard that lives there', () => {
    const workspace = tmp('agent-guard-wrap-ws-');
    const r = wrap(['claude', '--install', 'bin', '--claude', CLAUDE], { PATH: '/usr/bin', GITHUB_WORKSPACE: workspace }, workspace);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/--install .*bin is inside the workspace .*which the agent can write/);
    expect(() =>
      prepareClaudeWrapper({ claude: CLAUDE, guardArgs: [], allowOnUntrusted: false }, { env: { GITHUB_WORKSPACE: path.dirname(path.dirname(CLI)) }, cwd: '/', node: process.execPath, guard: CLI }),
    ).toThrow(/agent-guard itself .* is inside the workspace/);
  });

  it('in a workflow run, refuses egress or passed variables under untrusted input unless --allow-on-untrusted', () => {
    const cwd = tmp('agent-guard-wrap-cwd-');
    const env = { PATH: '/usr/bin', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'issues', GITHUB_EVENT_PATH: path.join(EVENTS, 'issue-stranger.json') };
    const refused = wrap(['claude', '--claude', CLAUDE, '--', '--allow-host', 'example.com'], env, cwd);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toMatch(/refused: the input is untrusted \(issue #41 .*allow-hosts \(example\.com:443\).*set --allow-on-untrusted/);
    expect(wrap(['claude', '--claude', CLAUDE, '--allow-on-untrusted', '--', '--allow-host', 'example.com'], env, cwd).code).toBe(0);
    expect(wrap(['claude', '--claude', CLAUDE], env, cwd).code).toBe(0);
  });
});

describe('action wrap', () => {
  it('installs the wrapper under RUNNER_TEMP with the inputs baked in and outputs its path', async () => {
    const workspace = tmp('agent-guard-wrap-ws-');
    const runner = simulateRunner({ inputs: { mode: 'wrap', claude: CLAUDE, 'max-requests': '30', timeout: '600', 'allow-paths': '.npmrc\ndocs/**' }, event: 'push', payload: 'push.json', env: { GITHUB_WORKSPACE: workspace } });
    const r = await runActionInProcess('wrap', runner, workspace);
    expect(r.code).toBe(0);
    const out = runner.outputs();
    const audit = path.join(runner.env.RUNNER_TEMP, 'agent-guard-audit.jsonl');
    expect(out).toEqual({ untrusted: 'false', 'claude-wrapper': path.join(runner.env.RUNNER_TEMP, 'agent-guard', 'claude'), 'audit-file': audit });
    const text = fs.readFileSync(out['claude-wrapper'], 'utf8');
    expect(text).toContain(`'run' '--provider' 'anthropic' '--workspace' 'rw' '--allow-path' '.npmrc' '--allow-path' 'docs/**' '--max-requests' '30' '--timeout' '600' '--audit' '${audit}' '--'`);
    expect(runner.summary()).toContain('Claude Code wrapper:');
    runner.cleanup();
  });

  it('refuses allow-hosts for a fork pull request', async () => {
    const workspace = tmp('agent-guard-wrap-ws-');
    const runner = simulateRunner({ inputs: { mode: 'wrap', claude: CLAUDE, 'allow-hosts': 'pypi.org' }, event: 'pull_request_target', payload: 'pr-fork.json' });
    const r = await runActionInProcess('wrap', runner, workspace);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/refused: the input is untrusted \(pull request #12 comes from the fork forker\/widgets\), and allow-hosts \(pypi\.org:443\)/);
    expect(runner.outputs()).toEqual({ untrusted: 'true' });
    expect(fs.existsSync(path.join(runner.env.RUNNER_TEMP, 'agent-guard', 'claude'))).toBe(false);
    runner.cleanup();
  });
});

describeJail('the wrapper runs the real Claude Code CLI under the guard', () => {
  let fake: FakeProvider;
  let workspace: string;
  let wrapper: string;
  let binDir: string;

  beforeAll(async () => {
    if (!fs.existsSync(CLAUDE)) throw new Error(`Claude Code is not installed at ${CLAUDE}: run npm ci`);
    fake = await startFakeProvider({ reply: 'PONG through the wrapper' });
    workspace = fs.mkdtempSync('/var/tmp/agent-guard-wrap-ws-');
    fs.chownSync(workspace, 4242, 4242);
    binDir = fs.mkdtempSync('/var/tmp/agent-guard-wrap-bin-');
    // Installed through the built CLI, as a workflow step would, with the fake upstream baked in.
    const out = execFileSync(process.execPath, [CLI, 'wrap', 'claude', '--install', binDir, '--claude', CLAUDE, '--', '--provider', `anthropic=${fake.url}`, '--timeout', '90'], {
      cwd: workspace,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    wrapper = out.trim();
  });

  afterAll(async () => {
    await fake?.close();
    for (const d of [workspace, binDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  function runWrapper(args: string[], stdin?: string, credential: Record<string, string> = { ANTHROPIC_API_KEY: REAL_KEY }): Promise<{ code: number; stdout: string; stderr: string }> {
    // The environment an agent action gives Claude Code: the real credential included.
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root', LANG: 'C.UTF-8', GITHUB_TOKEN: 'ghs_runnerTokenTheAgentMustNotSee0000', ...credential };
    return new Promise((resolve) => {
      const child = spawn(wrapper, args, { env, cwd: workspace, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (c) => resolve({ code: c ?? -1, stdout, stderr }));
      if (stdin !== undefined) child.stdin.write(stdin);
      child.stdin.end();
    });
  }

  function expectOnlyTheGuardHeldTheKey(before: number) {
    const calls = fake.seen.slice(before);
    expect(calls.filter((s) => s.url.startsWith('/v1/messages')).length).toBeGreaterThanOrEqual(1);
    for (const s of calls) {
      expect(s.headers['x-api-key']).toBe(REAL_KEY);
      expect(s.body).not.toContain(REAL_KEY);
      expect(s.body).not.toContain('ghs_runnerTokenTheAgentMustNotSee');
    }
  }

  it('answers one -p turn through the proxy', async () => {
    const before = fake.seen.length;
    const r = await runWrapper(['-p', 'Say pong.', '--max-turns', '1']);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('PONG through the wrapper');
    expectOnlyTheGuardHeldTheKey(before);
  }, 120_000);

  it('speaks stream-json over stdin and stdout, as the Agent SDK drives path_to_claude_code_executable', async () => {
    const before = fake.seen.length;
    const message = { type: 'user', message: { role: 'user', content: [{ type: 'text', text: 'Say pong.' }] } };
    const r = await runWrapper(['--output-format', 'stream-json', '--verbose', '--input-format', 'stream-json', '--max-turns', '1'], `${JSON.stringify(message)}\n`);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    const events = r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    const result = events.find((e) => e.type === 'result');
    expect(result).toMatchObject({ type: 'result', is_error: false });
    expect(result.result).toContain('PONG through the wrapper');
    expectOnlyTheGuardHeldTheKey(before);
  }, 120_000);

  // claude-code-action's default set-up (claude_code_oauth_token) and its federation inputs reach the
  // executable as these variables; with federation the action has already written the GitHub OIDC
  // token to ANTHROPIC_IDENTITY_TOKEN_FILE under RUNNER_TEMP and removed ACTIONS_ID_TOKEN_REQUEST_*.
  it('works with claude-code-action\'s claude_code_oauth_token and with its federation inputs', async () => {
    const OAUTH = 'sk-ant-oat01-REAL-action-subscription-0123';
    const runnerTemp = fs.mkdtempSync('/var/tmp/agent-guard-wrap-temp-');
    const identityFile = path.join(runnerTemp, 'claude-workload-identity', 'identity-token');
    fs.mkdirSync(path.dirname(identityFile), { recursive: true });
    const jwt = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"aud":"https://api.anthropic.com","jti":"j1"}').toString('base64url')}.c2ln`;
    fs.writeFileSync(identityFile, jwt, { mode: 0o600 });
    const FEDERATED = 'sk-ant-fed-REAL-exchanged-0123';
    const checked = await startFakeProvider({
      reply: 'PONG with the action credential',
      extra: (call) => (call.url === '/v1/oauth/token' ? (JSON.parse(call.body).assertion === jwt ? [200, { access_token: FEDERATED, expires_in: 3600, token_type: 'Bearer' }] : [401, { error: 'invalid_grant' }]) : undefined),
      rejectAuth: (h) => ([`Bearer ${OAUTH}`, `Bearer ${FEDERATED}`].includes(String(h.authorization)) && String(h['anthropic-beta']).includes('oauth-2025-04-20') ? undefined : 'invalid credential'),
    });
    const dir = fs.mkdtempSync('/var/tmp/agent-guard-wrap-bin2-');
    try {
      const out = execFileSync(process.execPath, [CLI, 'wrap', 'claude', '--install', dir, '--claude', CLAUDE, '--', '--provider', `anthropic=${checked.url}`, '--timeout', '90'], { cwd: workspace, env: { PATH: process.env.PATH }, encoding: 'utf8' });
      const saved = wrapper;
      wrapper = out.trim();
      try {
        const oauth = await runWrapper(['-p', 'Say pong.', '--max-turns', '1'], undefined, { CLAUDE_CODE_OAUTH_TOKEN: OAUTH });
        expect({ code: oauth.code, stderr: oauth.code === 0 ? '' : oauth.stderr }).toEqual({ code: 0, stderr: '' });
        expect(oauth.stdout).toContain('PONG with the action credential');
        const federated = await runWrapper(['-p', 'Say pong.', '--max-turns', '1'], undefined, {
          ANTHROPIC_FEDERATION_RULE_ID: 'fdrl_1', ANTHROPIC_ORGANIZATION_ID: 'org-1', ANTHROPIC_IDENTITY_TOKEN_FILE: identityFile,
          ANTHROPIC_CONFIG_DIR: path.join(runnerTemp, 'claude-workload-identity', 'config-x'), ANTHROPIC_PROFILE: 'default', RUNNER_TEMP: runnerTemp,
        });
        expect({ code: federated.code, stderr: federated.code === 0 ? '' : federated.stderr }).toEqual({ code: 0, stderr: '' });
        expect(federated.stdout).toContain('PONG with the action credential');
        expect(checked.seen.filter((s) => s.url === '/v1/oauth/token')).toHaveLength(1);
        for (const s of checked.seen) expect(s.body.includes(OAUTH) || s.body.includes(FEDERATED)).toBe(false);
      } finally {
        wrapper = saved;
      }
    } finally {
      await checked.close();
      for (const d of [runnerTemp, dir]) fs.rmSync(d, { recursive: true, force: true });
    }
  }, 180_000);
});
