// The command line as a user runs it: the built dist/cli.js in a child process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist/cli.js');

function run(args: string[], cwd = root, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function repoWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-cli-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

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
          NPM_TOKEN: \${{ secrets.NPM_TOKEN }}
`;

const SAFE = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: npm test
`;

describe('agent-guard lint', () => {
  it('exits 1 with a critical finding and shows file:line, caret, path and fix', () => {
    const dir = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
    const r = run(['lint', '.'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\.github\/workflows\/triage\.yml:9:\d+/);
    expect(r.stdout).toMatch(/critical/);
    expect(r.stdout).toMatch(/\^/);
    expect(r.stdout).toMatch(/github\.event\.issue\.title/);
    expect(r.stdout).toMatch(/agent-guard run/);
  });

  it('exits 0 on a clean repository, and with --fail-on none', () => {
    expect(run(['lint', '.'], repoWith({ '.github/workflows/ci.yml': SAFE })).code).toBe(0);
    expect(run(['lint', '--fail-on', 'none', '.'], repoWith({ '.github/workflows/t.yml': VULNERABLE })).code).toBe(0);
  });

  it('prints one JSON object with findings, errors and stats', () => {
    const dir = repoWith({ '.github/workflows/triage.yml': VULNERABLE, '.github/workflows/broken.yml': 'on: [\n' });
    const r = run(['lint', '--format', 'json', '.'], dir);
    const report = JSON.parse(r.stdout);
    expect(report.version).toBe(1);
    expect(report.findings.length).toBeGreaterThan(0);
    const f = report.findings[0];
    for (const key of ['rule', 'severity', 'confidence', 'file', 'line', 'column', 'job', 'step', 'message', 'path', 'capabilities', 'fix']) {
      expect(f).toHaveProperty(key);
    }
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0].file).toMatch(/broken\.yml$/);
    expect(report.stats.files).toBe(2);
  });

  it('reports a broken file in one line and still lints the others', () => {
    const dir = repoWith({ '.github/workflows/a.yml': 'jobs: {x: [\n', '.github/workflows/triage.yml': VULNERABLE });
    const r = run(['lint', '.'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/a\.yml:\d+:\d+: error: /);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 on bad usage or when nothing could be read', () => {
    expect(run(['lint', '--format', 'xml']).code).toBe(2);
    expect(run(['lint', '/nonexistent/path']).code).toBe(2);
    expect(run(['frobnicate']).code).toBe(2);
    expect(run(['lint', '--max-depth', '2', '.']).code).toBe(2); // online-only flags without --online
    expect(run(['lint', '--online', '--max-depth', 'zero', '.']).code).toBe(2);
  });

  it('--repository names the repository for github.repository conditions', () => {
    const guarded = VULNERABLE.replace('    runs-on: ubuntu-latest', "    if: github.repository == 'upstream/project'\n    runs-on: ubuntu-latest");
    const dir = repoWith({ '.github/workflows/triage.yml': guarded });
    expect(run(['lint', dir, '--repository', 'upstream/project']).code).toBe(1);
    expect(run(['lint', dir, '--repository', 'someone/copy']).code).toBe(0);
    expect(run(['lint', dir, '--repository', 'not a name']).code).toBe(2);
  });

  it('passes a repository with nothing to lint with a one-line note, whichever folder is given', () => {
    const empty = repoWith({ '.github/dependabot.yml': 'version: 2\n', 'docker-compose.yml': 'services:\n  db:\n    image: postgres\n' });
    fs.mkdirSync(path.join(empty, '.git'));
    for (const given of [[], ['.'], ['.github']]) {
      const r = run(['lint', ...given], empty);
      expect(r.code).toBe(0);
      // The compose file and dependabot.yml are not workflows: no errors about them.
      expect(r.stdout).not.toMatch(/error/);
      expect(r.stderr).toBe(`agent-guard: nothing to lint: no workflow files in ${given[0] ?? '.'} (looked for .github/workflows/*.yml)\n`);
    }
    const json = run(['lint', '--format', 'json'], empty);
    expect(JSON.parse(json.stdout)).toMatchObject({ findings: [], errors: [] });
  });

  it('a path that does not exist is a usage error naming it', () => {
    const r = run(['lint', 'src/.github'], repoWith({ '.github/workflows/ci.yml': SAFE }));
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'agent-guard: src/.github: no such file or directory\n' });
  });

  it('shows repository-relative paths in every format, wherever it runs from', () => {
    const repo = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
    fs.mkdirSync(path.join(repo, '.git'));
    const where = { fromRoot: [repo, '.'], fromGithub: [path.join(repo, '.github'), '.'], fromOutside: [path.dirname(repo), repo] };
    for (const [cwd, target] of Object.values(where)) {
      const json = JSON.parse(run(['lint', '--format', 'json', target], cwd).stdout);
      const files = json.findings.flatMap((f: { file: string; path: { file: string }[] }) => [f.file, ...f.path.map((h) => h.file)]);
      expect(new Set(files)).toEqual(new Set(['.github/workflows/triage.yml']));
      expect(run(['lint', target], cwd).stdout.split('\n')[0]).toBe('.github/workflows/triage.yml');
      const sarif = JSON.parse(run(['lint', '--format', 'sarif', target], cwd).stdout);
      expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation).toEqual({ uri: '.github/workflows/triage.yml', uriBaseId: '%SRCROOT%' });
      expect(run(['lint', '--format', 'github', target], cwd).stdout).toMatch(/^::error file=\.github\/workflows\/triage\.yml,/);
    }
  });

  it('writes SARIF to --output', () => {
    const dir = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
    const out = path.join(dir, 'out.sarif');
    run(['lint', '--format', 'sarif', '--output', out, '.'], dir);
    const sarif = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.length).toBeGreaterThan(0);
  });

  it('SARIF fingerprints survive moved lines and an unnamed step inserted above (alerts are not reopened)', () => {
    const prints = (text: string) => {
      const dir = repoWith({ '.github/workflows/triage.yml': text });
      const log = JSON.parse(run(['lint', '--format', 'sarif', '.'], dir).stdout);
      return log.runs[0].results.map((r: { ruleId: string; partialFingerprints: Record<string, string> }) => `${r.ruleId} ${Object.values(r.partialFingerprints)[0]}`);
    };
    const before = prints(VULNERABLE);
    expect(before.length).toBeGreaterThan(0);
    const moved = `# Triage new issues.\n\n${VULNERABLE.replace('    steps:\n', '    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci\n')}`;
    expect(prints(moved)).toEqual(before);
  });

  it('honours inline ignores and the config file', () => {
    const ignored = VULNERABLE.replace('--dangerously-skip-permissions', '--dangerously-skip-permissions # agent-guard: ignore[prompt-injection]');
    const dir = repoWith({ '.github/workflows/t.yml': ignored });
    const r = run(['lint', '--format', 'json', '.'], dir);
    expect(JSON.parse(r.stdout).findings.filter((f: { rule: string }) => f.rule === 'prompt-injection')).toEqual([]);

    const configured = repoWith({ '.github/workflows/t.yml': VULNERABLE, '.github/agent-guard.yml': 'ignore:\n  - rule: prompt-injection\n    job: triage\n' });
    expect(JSON.parse(run(['lint', '--format', 'json', '.'], configured).stdout).findings.filter((f: { rule: string }) => f.rule === 'prompt-injection')).toEqual([]);
  });

  it('finds agents declared in the config', () => {
    const wf = 'on: issues\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: my-org/house-agent@v2\n        with:\n          task: ${{ github.event.issue.body }}\n';
    const config = 'agents:\n  actions:\n    - uses: my-org/house-agent\n      prompt-inputs: [task]\n      shell: full\n';
    const without = JSON.parse(run(['lint', '--format', 'json', '.'], repoWith({ '.github/workflows/t.yml': wf })).stdout);
    expect(without.findings.filter((f: { rule: string }) => f.rule === 'prompt-injection')).toEqual([]);
    const dir = repoWith({ '.github/workflows/t.yml': wf, '.github/agent-guard.yml': config });
    const report = JSON.parse(run(['lint', '--format', 'json', '.'], dir).stdout);
    const hit = report.findings.find((f: { rule: string }) => f.rule === 'prompt-injection');
    expect(hit?.severity).toBe('critical');
  });

  it('rejects unknown config keys with file and line', () => {
    const dir = repoWith({ '.github/workflows/t.yml': SAFE, '.github/agent-guard.yml': 'ignore: []\nignroe: []\n' });
    const r = run(['lint', '.'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/agent-guard\.yml:2:1: unknown key 'ignroe'/);
  });

  it('emits GitHub annotations', () => {
    const dir = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
    const r = run(['lint', '--format', 'github', '.'], dir);
    expect(r.stdout).toMatch(/^::error file=\.github\/workflows\/triage\.yml,line=9/m);
  });
});
