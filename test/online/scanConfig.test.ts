// A repository's own .github/agent-guard.yml applies in an organisation scan, as it does locally;
// an explicit --config wins; a broken one fails that repository with one line and the scan goes on.
import fs from 'node:fs';
import { parseConfig } from '../../src/config';
import { scanOrganisation } from '../../src/online/scan';
import { FakeGithub } from './fakeGithub';
import { client, tempDir } from './helpers';
import { ISSUE_AGENT } from './org';

let server: FakeGithub;
let cacheDir: string;

beforeEach(async () => {
  server = await new FakeGithub().start();
  server.addOrg('cfg');
  server.addRepo('cfg/plain', { '.github/workflows/triage.yml': ISSUE_AGENT });
  server.addRepo('cfg/ignores', { '.github/workflows/triage.yml': ISSUE_AGENT, '.github/agent-guard.yml': 'ignore:\n  - file: "**/triage.yml"\n' });
  server.addRepo('cfg/broken', { '.github/workflows/triage.yml': ISSUE_AGENT, '.github/agent-guard.yml': 'ignroe: []\n' });
  cacheDir = tempDir('agent-guard-scan-config-');
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

const scan = (config?: ReturnType<typeof parseConfig>) => scanOrganisation({ org: 'cfg', client: client(server, cacheDir), config });

describe('scan with repository configs', () => {
  it("applies each repository's own config", async () => {
    const result = await scan();
    const by = Object.fromEntries(result.repos.map((r) => [r.repo.name, r]));
    expect(by.plain.result!.findings.length).toBeGreaterThan(0);
    expect(by.ignores.status).toBe('scanned');
    expect(by.ignores.result!.findings).toEqual([]);
    expect(by.broken.status).toBe('failed');
    expect(by.broken).toMatchObject({ configError: true, error: expect.stringMatching(/^\.github\/agent-guard\.yml:1:1: unknown key 'ignroe'/) });
  });

  it('an explicit config replaces the repositories\' own', async () => {
    const result = await scan(parseConfig('given.yml', 'severity:\n  prompt-injection: low\n'));
    const by = Object.fromEntries(result.repos.map((r) => [r.repo.name, r]));
    expect(by.ignores.result!.findings.length).toBeGreaterThan(0);
    expect(by.broken.status).toBe('scanned');
    expect(by.plain.result!.findings.filter((f) => f.rule === 'prompt-injection').every((f) => f.severity === 'low')).toBe(true);
  });
});
