// The pinned install the README documents, done the way a user does it, offline: `npx` of a git URL
// pinned to a full commit SHA (a temporary clone of this repository stands in for GitHub), and the
// tarball `npm pack` makes. Both must work with nothing built and nothing downloaded: dist/ is
// committed, there are no runtime dependencies and no script npm would run on install.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const VULNERABLE = `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: |
          claude -p "Triage: \${{ github.event.issue.title }}" --dangerously-skip-permissions
        env:
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`;

describe('installing agent-guard pinned to a commit', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-install-'));
  const clone = path.join(tmp, 'clone');
  const repo = path.join(tmp, 'repo');
  // A fresh npm cache, offline: anything npm would have to download fails the test.
  const npmEnv = { ...process.env, npm_config_cache: path.join(tmp, 'cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false', NO_COLOR: '1' };
  let sha: string;

  beforeAll(() => {
    execFileSync('git', ['clone', '--quiet', ROOT, clone], { stdio: 'pipe' });
    sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: clone, encoding: 'utf8' }).trim();
    fs.mkdirSync(path.join(repo, '.github', 'workflows'), { recursive: true });
    fs.writeFileSync(path.join(repo, '.github', 'workflows', 'triage.yml'), VULNERABLE);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('needs no build, no dependency and no install script', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    // npm prepares a git dependency (installing its devDependencies) when it has any of these.
    for (const script of ['build', 'prepare', 'prepack', 'preinstall', 'install', 'postinstall']) expect(pkg.scripts?.[script]).toBeUndefined();
    expect(pkg.bin['agent-guard']).toBe('dist/cli.js');
    expect(pkg.files).toContain('dist');
  });

  it('`npx --yes git+…#<full sha>` runs lint from the commit, offline', () => {
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const r = spawnSync('npx', ['--yes', `git+file://${clone}#${sha}`, 'lint', '.'], { cwd: repo, encoding: 'utf8', env: npmEnv, timeout: 120_000 });
    expect({ code: r.status, stderr: r.status === 1 ? '' : r.stderr }).toEqual({ code: 1, stderr: '' });
    expect(r.stdout).toMatch(/^\.github\/workflows\/triage\.yml:9:\d+ critical prompt-injection /m);
  }, 150_000);

  it('the tarball from `npm pack` installs globally, offline, with an executable bin and no sources', () => {
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: clone, encoding: 'utf8', env: npmEnv }).trim().split('\n').pop()!;
    const tarball = path.join(tmp, packed);
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('package/dist/cli.js');
    expect(listing).toContain('package/rules/agents.yml');
    expect(listing.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);

    const prefix = path.join(tmp, 'global');
    execFileSync('npm', ['install', '--global', '--prefix', prefix, tarball], { encoding: 'utf8', env: npmEnv, stdio: 'pipe' });
    const bin = path.join(prefix, 'bin', 'agent-guard');
    const r = spawnSync(bin, ['lint', '--format', 'json', '.'], { cwd: repo, encoding: 'utf8', env: npmEnv });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).findings.map((f: { rule: string }) => f.rule)).toContain('prompt-injection');
    expect(spawnSync(bin, ['--help'], { encoding: 'utf8' }).status).toBe(0);
  }, 150_000);
});
