// The client against the fake GitHub: the cache (request counts on a second run), conditional
// requests, rate limits (stop, wait, a bounded wait, secondary limits) and bounded concurrency.
import fs from 'node:fs';
import path from 'node:path';
import { lint } from '../../src/lint';
import { DiskCache, defaultCacheDir } from '../../src/online/cache';
import { GitHubClient } from '../../src/online/github';
import { prefetchPaths, RemoteStore } from '../../src/online/prefetch';
import { FakeGithub } from './fakeGithub';
import { CALLER, SHARED_TRIAGE, client, serveRemotes, tempDir, writeTree } from './helpers';

let server: FakeGithub;
let repo: string;
let cacheDir: string;

async function run(c: GitHubClient) {
  return prefetchPaths([repo], new RemoteStore(c));
}

afterEach(async () => {
  await server.stop();
  for (const d of [repo, cacheDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('cache', () => {
  beforeEach(async () => {
    server = await new FakeGithub().start();
    serveRemotes(server);
    repo = writeTree(tempDir(), { '.github/workflows/caller.yml': CALLER });
    cacheDir = tempDir('agent-guard-cache-');
  });

  it('makes a second run cost nothing: refs revalidated with 304s, contents read from disk', async () => {
    const first = await run(client(server, cacheDir));
    const firstCount = server.count();
    expect(firstCount).toBeGreaterThan(8);
    // One per distinct ref: shared@main, shared@v1, wrapper@v1, inner@v2, node-thing@v3, and the 404 of private-thing@v1.
    expect(server.count(/\/commits\//)).toBe(6);
    server.resetCounters();

    const c = client(server, cacheDir);
    const second = await run(c);
    expect(second.followed).toEqual(first.followed);
    expect(second.failed).toEqual(first.failed);
    // Only the ref checks go out, all conditional and answered 304; the 404 of a private repository
    // is not cached (access may be granted) and is asked again.
    expect(server.count(/\/contents\//)).toBe(0);
    expect(server.count(undefined, (r) => r.status === 304)).toBe(5);
    expect(server.charged).toBe(1);
    expect(server.count(undefined, (r) => r.status === 404)).toBe(1);
    expect(c.stats.notModified).toBe(5);
    expect(c.cache.hits).toBeGreaterThan(5);
  });

  it('--no-cache asks everything again', async () => {
    await run(client(server, null));
    const firstCount = server.count();
    server.resetCounters();
    await run(client(server, null));
    expect(server.count()).toBe(firstCount);
    expect(server.count(undefined, (r) => r.conditional)).toBe(0);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
  });

  it('notices a moved ref and reads the new commit', async () => {
    await run(client(server, cacheDir));
    const fixed = SHARED_TRIAGE.replace(/claude -p .*$/m, 'echo "no agent here"');
    const sha = server.push('org/shared', { '.github/workflows/triage.yml': fixed, '.github/workflows/nested.yml': 'on: workflow_call\njobs: {}\n' });
    server.resetCounters();
    const again = await run(client(server, cacheDir));
    expect(server.count(/\/repos\/org\/shared\/commits\/main/, (r) => r.status === 200)).toBe(1);
    expect(server.count(new RegExp(`/repos/org/shared/contents/.github/workflows/triage.yml\\?ref=${sha}`))).toBe(1);
    const result = lint({ paths: [repo], remote: again.resolver });
    expect(result.findings.some((f) => f.rule === 'prompt-injection' && f.file === 'org/shared/.github/workflows/triage.yml@main')).toBe(false);
  });

  it('ignores a corrupt cache entry, and turns off (with one warning) when it cannot write', async () => {
    await run(client(server, cacheDir));
    // Corrupt every cached file: the next run fetches again and still gets it right.
    const files: string[] = [];
    const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name))));
    walk(cacheDir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) fs.writeFileSync(f, '{"key": "not this one", "value": 1');
    server.resetCounters();
    const again = await run(client(server, cacheDir));
    expect(again.followed.length).toBeGreaterThan(3);
    expect(server.count(undefined, (r) => r.conditional)).toBe(0);

    const blocked = path.join(tempDir(), 'file-not-dir');
    fs.writeFileSync(blocked, 'x');
    const warnings: string[] = [];
    const cache = new DiskCache(blocked, (m) => warnings.push(m));
    const c = new GitHubClient({ baseUrl: server.url, cache, onRateLimit: 'stop' });
    const result = await run(c);
    expect(result.followed.length).toBe(again.followed.length);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^cache disabled: cannot write .*file-not-dir/);
  });

  it('lives in AGENT_GUARD_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheDir({ AGENT_GUARD_CACHE_DIR: '/x/y', XDG_CACHE_HOME: '/z' })).toBe('/x/y');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/z' })).toBe('/z/agent-guard');
    expect(defaultCacheDir({})).toMatch(/\.cache\/agent-guard$/);
  });

  it('revalidates listing pages with ETags and follows link headers', async () => {
    server.addOrg('big');
    for (let i = 0; i < 7; i++) server.addRepo(`big/r${i}`, { 'README.md': `${i}\n` });
    const c = client(server, cacheDir, { perPage: 3 });
    server.resetCounters();
    const repos = await c.listRepositories('big');
    expect(repos.map((r) => r.name)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(server.count(/\/orgs\/big\/repos/)).toBe(3);
    server.resetCounters();
    const again = await client(server, cacheDir, { perPage: 3 }).listRepositories('big');
    expect(again).toEqual(repos);
    expect(server.count()).toBe(3);
    expect(server.charged).toBe(0);
  });
});

describe('rate limits', () => {
  beforeEach(async () => {
    repo = writeTree(tempDir(), { '.github/workflows/caller.yml': CALLER });
    cacheDir = '';
  });

  it('stops with a clear message, and sends nothing more', async () => {
    server = await new FakeGithub({ rateLimit: 4, rateLimitResetSeconds: 3600 }).start();
    serveRemotes(server);
    const log: string[] = [];
    const c = client(server, null, { onRateLimit: 'stop', log: (l) => log.push(l) });
    const result = await run(c);
    expect(c.stats.rateLimited).toBeGreaterThanOrEqual(1);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^GitHub API rate limit reached \(4 requests an hour\); it resets at \d\d:\d\d:\d\d UTC, in (59m\d\ds|1h00m); stopped \(--on-rate-limit stop; use --on-rate-limit wait to wait for it\)$/);
    const limited = result.failed.filter((f) => f.error === log[0]);
    expect(limited.length).toBeGreaterThan(0);
    // Concurrent requests already in flight may each meet the 403; after that nothing is sent.
    const sent = server.count();
    await run(c);
    expect(server.count()).toBe(sent);
    // And lint says so where the remote file is used.
    const findings = lint({ paths: [repo], remote: result.resolver }).findings.filter((f) => f.rule === 'unresolved-remote' && f.message.includes('rate limit reached'));
    expect(findings.length).toBeGreaterThan(0);
  });

  it('waits for the reset when told to, then carries on', async () => {
    server = await new FakeGithub({ rateLimit: 7, rateLimitResetSeconds: 1 }).start();
    serveRemotes(server);
    const log: string[] = [];
    const c = client(server, null, { onRateLimit: 'wait', log: (l) => log.push(l) });
    const result = await run(c);
    expect(result.failed.map((f) => f.uses)).toEqual(['org/private-thing@v1']);
    expect(result.followed.length).toBe(6);
    expect(c.stats.rateLimited).toBeGreaterThanOrEqual(1);
    expect(c.stats.waitedMs).toBeGreaterThan(0);
    expect(log.length).toBeGreaterThanOrEqual(1);
    expect(log[0]).toMatch(/rate limit reached .*; waiting \d+s until \d\d:\d\d:\d\d UTC \(--on-rate-limit wait; Ctrl-C to stop\)/);
  }, 30_000);

  it('does not wait longer than allowed', async () => {
    server = await new FakeGithub({ rateLimit: 2, rateLimitResetSeconds: 600 }).start();
    serveRemotes(server);
    const log: string[] = [];
    const c = client(server, null, { onRateLimit: 'wait', maxWaitMs: 5000, log: (l) => log.push(l) });
    const started = Date.now();
    const result = await run(c);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(log[0]).toMatch(/stopped: waiting would take longer than the 5s allowed/);
    expect(result.failed.some((f) => /rate limit reached/.test(f.error))).toBe(true);
  });

  it('honours retry-after on a secondary rate limit', async () => {
    server = await new FakeGithub().start();
    serveRemotes(server);
    server.secondaryLimitOnce(1);
    const waits: number[] = [];
    const c = client(server, null, { onRateLimit: 'wait', sleep: async (ms) => void waits.push(ms), log: () => {} });
    const result = await run(c);
    expect(waits).toEqual([1000]);
    expect(result.followed.length).toBe(6);
    expect(server.count(undefined, (r) => r.status === 403)).toBe(1);

    server.secondaryLimitOnce(30);
    const stopped = await run(client(server, null, { onRateLimit: 'stop', log: () => {} }));
    expect(stopped.failed.some((f) => /^GitHub API secondary rate limit reached; it lifts at \d\d:\d\d:\d\d UTC, in 30s; stopped/.test(f.error))).toBe(true);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    server = await new FakeGithub({ latencyMs: 15 }).start();
    const steps: string[] = [];
    for (let i = 0; i < 24; i++) {
      server.addRepo(`many/a${i}`, { 'action.yml': 'runs:\n  using: node20\n  main: x.js\n' }, { tags: ['v1'] });
      steps.push(`      - uses: many/a${i}@v1\n        with:\n          t: \${{ github.event.comment.body }}`);
    }
    fs.writeFileSync(path.join(repo, '.github/workflows/caller.yml'), `on: issue_comment\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n${steps.join('\n')}\n`);
    const result = await run(client(server, null, { concurrency: 3 }));
    expect(result.followed).toHaveLength(24);
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.maxInFlight).toBeGreaterThan(1);
  });
});
