// The command line of the online mode: `scan` in-process with captured streams, and `lint --online`
// / `scan` through the built dist/cli.js as a user runs them (a child process, so the fake GitHub in
// this process keeps answering).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { scanMain, type OnlineIO } from '../../src/online/command';
import { FakeGithub } from './fakeGithub';
import { CALLER, serveRemotes, tempDir, writeTree } from './helpers';
import { serveOrg } from './org';

const cli = path.resolve(__dirname, '../../dist/cli.js');

let server: FakeGithub;
let work: string;

beforeEach(async () => {
  server = await new FakeGithub().start();
  serveOrg(server);
  serveRemotes(server);
  work = tempDir('agent-guard-online-cli-');
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

function io(env: Record<string, string | undefined>, tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const streams: OnlineIO = {
    stdout: { write: (s: string) => out.push(s), isTTY: tty },
    stderr: { write: (s: string) => err.push(s), isTTY: tty },
    env: { GITHUB_API_URL: server.url, GITHUB_TOKEN: 'test', AGENT_GUARD_CACHE_DIR: path.join(work, 'cache'), ...env },
  };
  return { streams, stdout: () => out.join(''), stderr: () => err.join('') };
}

describe('agent-guard scan (in-process)', () => {
  it('writes the markdown report to a file, with plain progress lines in CI', async () => {
    const { streams, stdout, stderr } = io({ CI: 'true' });
    const file = path.join(work, 'report.md');
    const code = await scanMain(['--org', 'acme', '--format', 'markdown', '--output', file], '1.2.3', streams);
    expect(code).toBe(0);
    expect(stdout()).toBe('');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^## agent-guard scan of `acme`/);
    const lines = stderr().trim().split('\n');
    expect(lines[0]).toBe('agent-guard: scanning 11 repositories of acme');
    expect(lines.filter((l) => /^agent-guard: \[\d+\/11\] acme\/\S+: /.test(l))).toHaveLength(11);
    expect(stderr()).toMatch(/\[\d+\/11\] acme\/api: 1 finding \(1 critical\)\n/);
    expect(stderr()).toMatch(/\[\d+\/11\] acme\/locked: failed: acme\/locked@[0-9a-f]{7}: forbidden \(403\)/);
    expect(lines[lines.length - 1]).toMatch(/^agent-guard: scanned 8 of 13 repositories, 1 failed in \d+s; \d+ API requests \(0 answered 304\), 0 cache hits$/);
    expect(stderr()).not.toMatch(/\r|\x1b/);
  });

  it('draws a progress bar on a terminal, and exits 1 at --fail-on', async () => {
    const { streams, stdout, stderr } = io({ CI: undefined }, true);
    const code = await scanMain(['--org=acme', '--repo-filter', 'api', '--fail-on', 'high', '--format', 'json'], '1.2.3', streams);
    expect(code).toBe(1);
    expect(stderr()).toContain('\r\x1b[K[##############################] 1/1 acme/api');
    expect(JSON.parse(stdout()).repositories.map((r: { name: string }) => r.name)).toEqual(['acme/api']);
  });

  it('says what is wrong in one line and exits 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^agent-guard: scan needs --org ORG \(see agent-guard scan --help\)\n$/],
      [['--org', 'acme', '--format', 'xml'], /^agent-guard: unknown format 'xml' \(text, json, sarif, markdown\)\n$/],
      [['--org', 'acme', '--bogus'], /^agent-guard: unknown option '--bogus' \(see agent-guard scan --help\)\n$/],
      [['--org', 'a/b'], /^agent-guard: 'a\/b' is not an organisation or user name\n$/],
      [['--org', 'acme', '--on-rate-limit', 'later'], /^agent-guard: --on-rate-limit takes wait or stop, not 'later'\n$/],
      [['--org', 'acme', '--config', '/no/such/file.yml'], /^agent-guard: .*no\/such\/file\.yml.*\n$/],
      [['--org', 'nobody-here'], /^agent-guard: cannot list the repositories of nobody-here: no organisation or user 'nobody-here' \(404\)\n$/],
    ];
    for (const [args, message] of cases) {
      const { streams, stderr, stdout } = io({ CI: 'true' });
      expect([args, await scanMain(args, '1', streams)]).toEqual([args, 2]);
      expect(stderr().replace(/^agent-guard: scanning .*\n/, '')).toMatch(message);
      expect(stdout()).toBe('');
    }
    const { streams, stderr } = io({ CI: 'true' });
    const port = new URL(server.url).port;
    await server.stop();
    expect(await scanMain(['--org', 'acme'], '1', streams)).toBe(2);
    expect(stderr()).toMatch(new RegExp(`^agent-guard: cannot list the repositories of acme: cannot reach http://127\\.0\\.0\\.1:${port}: .+\\n$`));
    server = await new FakeGithub().start();
  });

  it('warns once without a token', async () => {
    const { streams, stderr } = io({ CI: 'true', GITHUB_TOKEN: undefined, GH_TOKEN: undefined });
    expect(await scanMain(['--org', 'acme', '--repo-filter', 'clean'], '1', streams)).toBe(0);
    expect(stderr().split('\n')[0]).toBe('agent-guard: no GITHUB_TOKEN or GH_TOKEN: unauthenticated requests are limited to 60 an hour and cannot read private repositories');
  });
});

/** The JSON report without its timing. */
const findingsOf = (stdout: string) => JSON.parse(stdout).findings;

function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: work, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

(fs.existsSync(cli) ? describe : describe.skip)('dist/cli.js', () => {
  it('lint --online follows remote files; plain lint reports them unresolved; the cache makes the second run free', async () => {
    const repo = writeTree(path.join(work, 'repo'), { '.github/workflows/caller.yml': CALLER });
    const env = { GITHUB_API_URL: server.url, GITHUB_TOKEN: 'test', AGENT_GUARD_CACHE_DIR: path.join(work, 'cache'), CI: 'true' };

    const offline = await runCli(['lint', '--format', 'json', '.'], env, repo);
    expect(offline.code).toBe(0); // nothing above medium without the remote files
    expect(JSON.parse(offline.stdout).findings.filter((f: { rule: string }) => f.rule === 'unresolved-remote').length).toBe(6);
    expect(server.count()).toBe(0);

    const online = await runCli(['lint', '--online', '--format', 'json', '.'], env, repo);
    expect(online.code).toBe(1);
    const findings = JSON.parse(online.stdout).findings as { rule: string; file: string; severity: string }[];
    expect(findings).toContainEqual(expect.objectContaining({ rule: 'prompt-injection', severity: 'critical', file: 'org/shared/.github/workflows/triage.yml@main' }));
    expect(online.stderr).toMatch(/^agent-guard: online: followed 6 remote files, \d+ requests \(0 answered 304\), 0 cache hits; 1 not followed: org\/private-thing@v1: not found \(404\)/m);

    server.resetCounters();
    const again = await runCli(['lint', '--online', '--format', 'json', '.'], env, repo);
    expect(findingsOf(again.stdout)).toEqual(findingsOf(online.stdout));
    expect(server.charged).toBe(1); // the private repository's 404 only
    expect(again.stderr).toMatch(/\(5 answered 304\)/);

    const noCache = await runCli(['lint', '--online', '--no-cache', '--format', 'json', '.'], env, repo);
    expect(findingsOf(noCache.stdout)).toEqual(findingsOf(online.stdout));
    expect(noCache.stderr).toMatch(/\(0 answered 304\), 0 cache hits/);

    const bad = await runCli(['lint', '--no-cache', '.'], env, repo);
    expect(bad).toMatchObject({ code: 2, stderr: 'agent-guard: --no-cache, --on-rate-limit, --max-wait and --max-depth go with --online\n' });
  });

  it('scan --org writes SARIF', async () => {
    const env = { GITHUB_API_URL: server.url, GITHUB_TOKEN: 'test', AGENT_GUARD_CACHE_DIR: path.join(work, 'cache'), CI: 'true' };
    const r = await runCli(['scan', '--org', 'acme', '--format', 'sarif'], env, work);
    expect(r.code).toBe(0);
    const log = JSON.parse(r.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.runs.length).toBe(9);
  });
});
