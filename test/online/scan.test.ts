// The organisation scan against a fake organisation on loopback: listing with pagination, skipping,
// truncated trees, failures that do not stop the scan, the cache on a second scan, and the reports.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import { formatScan, rankRepositories, scanTotals, toScanJson, topRules } from '../../src/online/report';
import { scanOrganisation, type ScanResult } from '../../src/online/scan';
import { FakeGithub } from './fakeGithub';
import { client, tempDir } from './helpers';
import { EXPECTED, serveOrg } from './org';

let server: FakeGithub;
let cacheDir: string;

beforeEach(async () => {
  server = await new FakeGithub().start();
  serveOrg(server);
  cacheDir = tempDir('agent-guard-scan-cache-');
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

const scan = (options: Partial<Parameters<typeof scanOrganisation>[0]> = {}) =>
  scanOrganisation({ org: 'acme', client: client(server, cacheDir, { perPage: 4 }), ...options });

const byName = (s: ScanResult) => Object.fromEntries(s.repos.map((r) => [r.repo.name, r]));

describe('scan', () => {
  it('lists every page, skips archived repositories and forks, and scans the rest whatever fails', async () => {
    const progress: string[] = [];
    const result = await scan({ onRepository: (o, done, total) => progress.push(`${done}/${total} ${o.repo.name}`) });
    expect(server.count(/^\/orgs\/acme\/repos/)).toBe(4); // 13 repositories, 4 a page
    expect(result.listed).toBe(13);
    expect(result.skipped).toEqual({ archived: 1, forks: 1, disabled: 0, filtered: 0 });
    const repos = byName(result);
    expect(Object.fromEntries(Object.entries(repos).map(([n, r]) => [n, r.status]))).toEqual(EXPECTED);
    expect(progress).toHaveLength(11);
    expect(progress[10]).toMatch(/^11\/11 /);

    expect(repos.locked.error).toMatch(/^acme\/locked@[0-9a-f]{7}: forbidden \(403\): Resource not accessible by integration$/);
    expect(repos.empty.error).toBe('the repository is empty');
    // A file that does not parse is reported; the other workflow of the repository is still linted.
    expect(repos.broken.result!.errors.map((e) => e.file)).toEqual(['.github/workflows/bad.yml']);
    expect(repos.broken.result!.stats.files).toBe(2);
    expect(repos.broken.result!.stats.workflows).toBe(1);
    // Only workflows directly in .github/workflows run.
    expect(repos.clean.result!.stats.workflows).toBe(1);
    expect(repos.clean.result!.findings).toEqual([]);

    const worst = (name: string) => repos[name].result!.findings.map((f) => `${f.rule} ${f.severity} ${f.file}`).sort();
    expect(worst('api')).toContain('prompt-injection critical .github/workflows/triage.yml');
    expect(worst('web')).toContain('prompt-injection critical acme/shared/.github/workflows/triage.yml@main');
    expect(worst('asker')).toContain('prompt-injection critical .github/actions/ask/action.yml');
    // The truncated tree was listed again through the contents API.
    expect(server.count(/^\/repos\/acme\/big\/contents\/.github\/workflows\?ref=/)).toBe(1);
    expect(repos.big.result!.stats.workflows).toBe(2);
    expect(worst('big').some((f) => f.startsWith('template-injection'))).toBe(true);
    // acme/shared's workflow was read once, though acme/shared, web and web2 all needed it.
    expect(server.count(/^\/repos\/acme\/shared\/contents\/.github\/workflows\/triage.yml/)).toBe(1);
    expect(server.count(/^\/repos\/acme\/shared\/commits\/main/)).toBe(1);
    // Files are fetched by blob SHA: CLEAN is in four repositories and CALLS_SHARED in two, yet each
    // distinct file is fetched once (8 distinct workflow and action files in all).
    expect(server.count(/\/git\/blobs\//)).toBe(8);
    // Missing local files cost nothing: a complete tree says they are not there.
    expect(server.count(/\/contents\/.github\/actions/)).toBe(0);
    expect(result.stats.requests).toBe(server.count());
  });

  it('costs almost nothing the second time: listing pages answer 304, heads come from pushed_at, the rest from the cache', async () => {
    const first = await scan();
    const firstRequests = server.count();
    server.resetCounters();
    const second = await scan();
    expect(toScanJson(second, { toolVersion: 't' }).repositories.map((r) => [r.name, r.status, r.counts])).toEqual(
      toScanJson(first, { toolVersion: 't' }).repositories.map((r) => [r.name, r.status, r.counts]),
    );
    // Charged: only what failed last time (the 403 of acme/locked, the 409 of acme/empty).
    expect(server.requests.filter((r) => r.status !== 304).map((r) => `${r.status} ${r.path.replace(/[0-9a-f]{40}/, 'SHA')}`).sort()).toEqual([
      '403 /repos/acme/locked/git/trees/SHA?recursive=1',
      '409 /repos/acme/empty/commits/main',
    ]);
    expect(server.count(undefined, (r) => r.status === 304)).toBe(5); // 4 listing pages + acme/shared@main
    expect(server.count()).toBeLessThan(firstRequests / 4);
    expect(second.stats.notModified).toBe(5);

    // A push shows up: its head is resolved again and its new workflow read.
    server.push('acme/clean', { '.github/workflows/ci.yml': (await import('./org')).ISSUE_AGENT });
    server.resetCounters();
    const third = await scan();
    expect(byName(third).clean.result!.findings.some((f) => f.severity === 'critical')).toBe(true);
    expect(server.count(/^\/repos\/acme\/clean\/commits\/main/, (r) => r.status === 200)).toBe(1);
  });

  it('filters repositories by glob, and can include archived repositories and forks', async () => {
    const filtered = await scan({ repoFilter: ['web*', 'acme/api'] });
    expect(filtered.repos.map((r) => r.repo.name).sort()).toEqual(['api', 'web', 'web2']);
    expect(filtered.skipped.filtered).toBe(10);
    const all = await scan({ includeArchived: true, includeForks: true, repoFilter: ['old', 'fork-*'] });
    expect(all.repos.map((r) => `${r.repo.name} ${r.status} ${r.result?.findings.length}`).sort()).toEqual(['fork-of-thing scanned 1', 'old scanned 1']);
  });

  it('scans a user account when there is no such organisation', async () => {
    server.addRepo('solo/tool', { '.github/workflows/t.yml': (await import('./org')).ISSUE_AGENT });
    const result = await scanOrganisation({ org: 'solo', client: client(server, cacheDir) });
    expect(result.repos.map((r) => r.repo.fullName)).toEqual(['solo/tool']);
    await expect(scanOrganisation({ org: 'nobody-here', client: client(server, cacheDir) })).rejects.toThrow("no organisation or user 'nobody-here' (404)");
  });

  it('reports each repository that hits the rate limit, and goes on', async () => {
    const limited = await new FakeGithub({ rateLimit: 12, rateLimitResetSeconds: 3600 }).start();
    serveOrg(limited);
    try {
      const log: string[] = [];
      const result = await scanOrganisation({ org: 'acme', client: client(limited, null, { log: (l) => log.push(l) }), concurrency: 1 });
      const statuses = result.repos.map((r) => r.status);
      expect(statuses.filter((s) => s === 'scanned').length).toBeGreaterThan(0);
      const failed = result.repos.filter((r) => r.status === 'failed' && /rate limit reached/.test(r.error!));
      expect(failed.length).toBeGreaterThan(3);
      expect(log).toEqual([failed[0].error]);
      expect(result.repos).toHaveLength(11); // every repository is accounted for
    } finally {
      await limited.stop();
    }
  });
});

describe('scan reports', () => {
  let result: ScanResult;
  beforeEach(async () => {
    result = await scan();
  });

  it('ranks repositories by severity and totals them', () => {
    const ranked = rankRepositories(result).map((r) => r.outcome.repo.name);
    const critical = ['api', 'asker', 'big', 'shared', 'web', 'web2'].filter((n) => byName(result)[n].result!.findings.some((f) => f.severity === 'critical'));
    expect(ranked.slice(0, critical.length).sort()).toEqual(critical.sort());
    const t = scanTotals(result);
    expect(t).toMatchObject({ listed: 13, scanned: 8, failed: 1, empty: 1, noWorkflows: 1, withFileErrors: 1, skipped: { archived: 1, forks: 1 } });
    expect(t.withCritical).toBe(critical.length);
    expect(topRules(result)[0].rule).toBe('prompt-injection');
  });

  it('markdown: a totals table, top rules, findings per repository with links to the line, failures', () => {
    const md = formatScan(result, 'markdown', { toolVersion: '9.9.9' });
    expect(md).toMatch(/^## agent-guard scan of `acme`\n/);
    expect(md).toContain('| scanned | 8 |');
    expect(md).toContain('| not scanned: failed | 1 |');
    expect(md).toContain('| skipped: archived / forks / filtered | 1 / 1 / 0 |');
    expect(md).toMatch(/### Top rules\n\n\| rule \| findings \| repositories \| worst \|\n\|---\|---:\|---:\|---\|\n\| \[prompt-injection\]\(https:\/\/[^)]+prompt-injection\.md\) \| \d+ \| \d+ \| critical \|/);
    const api = byName(result).api;
    expect(md).toContain(`#### [acme/api](https://github.com/acme/api) — `);
    expect(md).toContain(`(https://github.com/acme/api/blob/${api.commit}/.github/workflows/triage.yml#L`);
    expect(md).toContain('(https://github.com/acme/shared/blob/main/.github/workflows/triage.yml#L');
    expect(md).toMatch(/\| \[acme\/locked\]\(https:\/\/github.com\/acme\/locked\) \| acme\/locked@\u200b[0-9a-f]{7}: forbidden \(403\)/); // no @mention
    expect(md).toMatch(/<summary>3 repositories without findings<\/summary>\n\n`broken`, `clean`, `shared`\n/);
    // Critical repositories come before the others.
    expect(md.indexOf('#### [acme/api]')).toBeLessThan(md.indexOf('#### [acme/broken]') === -1 ? Infinity : md.indexOf('#### [acme/broken]'));
    expect(md).toMatch(/<sub>agent-guard 9\.9\.9 · \d+ API requests/);
    // Table cells never break the table.
    for (const line of md.split('\n').filter((l) => l.startsWith('| **'))) expect(line.split(/(?<!\\)\|/).length).toBe(6);
  });

  it('markdown stays under the size of a GitHub issue', () => {
    const many: ScanResult = { ...result, repos: [] };
    const api = byName(result).api;
    for (let i = 0; i < 400; i++) many.repos.push({ ...api, repo: { ...api.repo, name: `r${i}`, fullName: `acme/r${i}` } });
    const md = formatScan(many, 'markdown', { toolVersion: '1' });
    expect(md.length).toBeLessThan(65_536);
    expect(md).toMatch(/\d+ more repositories with findings not shown/);
  });

  it('json: every repository with its findings, totals and requests', () => {
    const json = JSON.parse(formatScan(result, 'json', { toolVersion: '1' }));
    expect(json.organisation).toBe('acme');
    expect(json.totals.scanned).toBe(8);
    expect(json.repositories).toHaveLength(11);
    const api = json.repositories.find((r: { name: string }) => r.name === 'acme/api');
    expect(api).toMatchObject({ status: 'scanned', error: null, defaultBranch: 'main', url: 'https://github.com/acme/api' });
    expect(api.findings[0]).toMatchObject({ rule: 'prompt-injection', severity: 'critical', file: '.github/workflows/triage.yml' });
    const locked = json.repositories.find((r: { name: string }) => r.name === 'acme/locked');
    expect(locked).toMatchObject({ status: 'failed', findings: [], error: expect.stringContaining('403') });
    expect(json.requests.requests).toBeGreaterThan(10);
  });

  it('sarif: one valid SARIF 2.1.0 log, one run per repository', () => {
    const log = JSON.parse(formatScan(result, 'sarif', { toolVersion: '1.0.0' }));
    expectValidSarif(log);
    expect(log.runs).toHaveLength(9); // 8 scanned + 1 failed
    const api = log.runs.find((r: { automationDetails: { id: string } }) => r.automationDetails.id === 'agent-guard-scan/acme/api/');
    expect(api.versionControlProvenance[0]).toEqual({ repositoryUri: 'https://github.com/acme/api', revisionId: byName(result).api.commit, branch: 'main' });
    expect(api.results.length).toBeGreaterThan(0);
    const locked = log.runs.find((r: { automationDetails: { id: string } }) => r.automationDetails.id === 'agent-guard-scan/acme/locked/');
    expect(locked.invocations[0].executionSuccessful).toBe(false);
  });

  it('text: the same, for a terminal', () => {
    const text = formatScan(result, 'text', { toolVersion: '1' });
    expect(text).toMatch(/^agent-guard scan of acme: 8 of 13 repositories scanned \(skipped: 1 archived, 1 fork\)\n/);
    expect(text).toMatch(/\nacme\/api: 1 critical  \(https:\/\/github.com\/acme\/api @ [0-9a-f]{7}\)\n  critical prompt-injection {7}\.github\/workflows\/triage\.yml:9:\d+  job triage, step claude -p "Label this issue - \$\{\{ github\.event\.issue\.title …\n/);
    expect(text).toMatch(/\nNot scanned\n  acme\/locked: /);
  });
});

function expectValidSarif(log: unknown): void {
  const validate = sarifValidator();
  if (!validate(log)) throw new Error(JSON.stringify(validate.errors, null, 2));
}

function sarifValidator() {
  const text = fs.readFileSync(path.join(__dirname, '..', 'schemas', 'sarif-2.1.0.json'), 'utf8');
  const { id, $schema: _draft, ...rest } = JSON.parse(text) as Record<string, unknown> & { id: string };
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile({ $schema: 'http://json-schema.org/draft-07/schema#', $id: id, ...rest });
}
