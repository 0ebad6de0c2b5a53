// Baselines, through the built CLI as a maintainer uses them (`lint --write-baseline`, then
// `lint --baseline`), and the matching rules underneath: rule, file, job, step and the message
// without line numbers; counts; bad files reported in one line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyBaseline, createBaseline, formatBaseline, jsonErrorOffset, parseBaseline } from '../src/baseline';
import type { Finding } from '../src/checks/types';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const BASELINE = '.github/agent-guard-baseline.json';
/** A workflow with unnamed steps and the baseline agent-guard 0.1.0 wrote for it (see its README). */
const LEGACY = path.join(__dirname, 'fixtures', 'baselines', 'positions');

const TRIAGE = `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: Triage
        run: |
          claude -p "Triage: \${{ github.event.issue.title }}" --dangerously-skip-permissions
        env:
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`;

const REVIEW = `on:
  pull_request_target:
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - name: Review
        run: claude -p "Review this PR" --dangerously-skip-permissions
        env:
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`;

function repoWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-baseline-'));
  fs.mkdirSync(path.join(dir, '.git'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function findingsOf(stdout: string): { rule: string; file: string; line: number }[] {
  return JSON.parse(stdout).findings;
}

describe('lint --write-baseline / --baseline', () => {
  let repo: string;
  beforeEach(() => {
    repo = repoWith({ '.github/workflows/triage.yml': TRIAGE });
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  it('writes every current finding and exits 0', () => {
    const w = cli(['lint', '.', '--write-baseline', BASELINE], repo);
    expect(w.code).toBe(0);
    // The title reaches the agent and its shell on one line: one finding (prompt-injection, folded).
    expect(w.stderr).toContain(`wrote 1 finding to baseline ${BASELINE}`);
    const baseline = JSON.parse(fs.readFileSync(path.join(repo, BASELINE), 'utf8'));
    expect(baseline.version).toBe(1);
    expect(baseline.findings.map((e: { rule: string }) => e.rule).sort()).toEqual(['prompt-injection']);
    for (const e of baseline.findings) {
      expect(e).toEqual({ rule: expect.any(String), file: '.github/workflows/triage.yml', job: 'triage', step: 'Triage', fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/), count: 1 });
    }
  });

  it('re-running an unchanged repository passes and reports nothing', () => {
    cli(['lint', '.', '--write-baseline', BASELINE], repo);
    expect(cli(['lint', '.'], repo).code).toBe(1);
    const r = cli(['lint', '.', '--baseline', BASELINE, '--format', 'json'], repo);
    expect(r.code).toBe(0);
    expect(findingsOf(r.stdout)).toEqual([]);
    expect(r.stderr).toContain(`baseline ${BASELINE}: 1 known finding not reported`);
  });

  it('adding a vulnerable workflow fails, and only the new findings are reported', () => {
    cli(['lint', '.', '--write-baseline', BASELINE], repo);
    fs.writeFileSync(path.join(repo, '.github/workflows/review.yml'), REVIEW);
    const r = cli(['lint', '.', '--baseline', BASELINE, '--format', 'json'], repo);
    expect(r.code).toBe(1);
    const found = findingsOf(r.stdout);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((f) => f.file))).toEqual(new Set(['.github/workflows/review.yml']));
  });

  it('moving lines (comments above, steps reordered, jobs moved) creates no new findings', () => {
    cli(['lint', '.', '--write-baseline', BASELINE], repo);
    const before = findingsOf(cli(['lint', '.', '--format', 'json'], repo).stdout);
    const moved = TRIAGE.replace('on:\n', '# Triage new issues.\n#\n# (more commentary)\n\non:\n').replace(
      '    steps:\n',
      '    steps:\n      - name: Say hello\n        run: echo hello\n',
    );
    fs.writeFileSync(path.join(repo, '.github/workflows/triage.yml'), moved);
    const after = findingsOf(cli(['lint', '.', '--format', 'json'], repo).stdout);
    expect(after.map((f) => f.line)).not.toEqual(before.map((f) => f.line));
    const r = cli(['lint', '.', '--baseline', BASELINE, '--format', 'json'], repo);
    expect(findingsOf(r.stdout)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('steps with no id or name are keyed by what they run: inserting a step above changes nothing', () => {
    const review = fs.readFileSync(path.join(LEGACY, 'review.yml'), 'utf8');
    fs.writeFileSync(path.join(repo, '.github/workflows/review.yml'), review);
    cli(['lint', '.', '--write-baseline', BASELINE], repo);
    const steps = JSON.parse(fs.readFileSync(path.join(repo, BASELINE), 'utf8')).findings.map((e: { step: string }) => e.step);
    expect(steps).toEqual(expect.arrayContaining(['npm ci', 'claude -p "Review this PR" --dangerously-skip-permissions']));
    expect(steps.filter((s: string) => s.startsWith('#'))).toEqual([]);
    // The case: an unrelated unnamed step inserted above the baselined ones.
    fs.writeFileSync(path.join(repo, '.github/workflows/review.yml'), review.replace('      - run: npm ci\n', '      - run: echo "::notice::hello"\n      - run: npm ci\n'));
    const r = cli(['lint', '.', '--baseline', BASELINE, '--format', 'json'], repo);
    expect(findingsOf(r.stdout)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('a baseline written by 0.1.0 (unnamed steps keyed #N) still matches, and the note says to refresh it', () => {
    fs.writeFileSync(path.join(repo, '.github/workflows/review.yml'), fs.readFileSync(path.join(LEGACY, 'review.yml'), 'utf8'));
    fs.rmSync(path.join(repo, '.github/workflows/triage.yml'));
    fs.copyFileSync(path.join(LEGACY, 'baseline.json'), path.join(repo, BASELINE));
    expect(cli(['lint', '.'], repo).code).toBe(1);
    const r = cli(['lint', '.', '--baseline', BASELINE, '--format', 'json'], repo);
    expect(findingsOf(r.stdout)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 known findings not reported, 2 matched by step position (#N, as older versions wrote; refresh with --write-baseline');
  });

  it('works from a subfolder of the repository (paths are relative to the repository root)', () => {
    cli(['lint', '.', '--write-baseline', BASELINE], repo);
    const r = cli(['lint', '..', '--baseline', `../${BASELINE}`], path.join(repo, '.github'));
    expect(r.code).toBe(0);
  });

  it('a second identical finding in the same step is new (counts)', () => {
    cli(['lint', '.', '--write-baseline', BASELINE], repo);
    const twice = TRIAGE.replace(
      'claude -p "Triage: ${{ github.event.issue.title }}" --dangerously-skip-permissions',
      'claude -p "Triage: ${{ github.event.issue.title }}" --dangerously-skip-permissions\n          claude -p "Triage: ${{ github.event.issue.title }}" --dangerously-skip-permissions',
    );
    fs.writeFileSync(path.join(repo, '.github/workflows/triage.yml'), twice);
    const all = findingsOf(cli(['lint', '.', '--format', 'json'], repo).stdout).filter((f) => f.rule === 'prompt-injection');
    expect(all).toHaveLength(2);
    const r = cli(['lint', '.', '--baseline', BASELINE, '--format', 'json'], repo);
    expect(r.code).toBe(1);
    expect(findingsOf(r.stdout).map((f) => f.rule)).toEqual(['prompt-injection']);
  });

  it('a fixed finding is reported as gone from the baseline', () => {
    cli(['lint', '.', '--write-baseline', BASELINE], repo);
    fs.writeFileSync(path.join(repo, '.github/workflows/triage.yml'), 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n');
    const r = cli(['lint', '.', '--baseline', BASELINE], repo);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('1 baselined finding no longer found');
  });

  it.each([
    ['{ "version": 1, "findings": [ }', /^agent-guard: \.github\/agent-guard-baseline\.json:1:31: baseline is not valid JSON: /],
    ['{\n  "version": 1,\n  "findings": [],\n}\n', /^agent-guard: \.github\/agent-guard-baseline\.json:4:1: baseline is not valid JSON: /],
    ['{ "version": 2, "findings": [] }', /^agent-guard: \.github\/agent-guard-baseline\.json: not an agent-guard baseline: "version" must be 1$/],
    ['{ "version": 1, "findings": [{ "rule": "x" }] }', /^agent-guard: \.github\/agent-guard-baseline\.json: not an agent-guard baseline: findings\[0\]\.file must be a non-empty string$/],
    ['[]', /not an agent-guard baseline: expected a JSON object$/],
  ])('a bad baseline %s exits 2 with one line', (text, message) => {
    fs.writeFileSync(path.join(repo, BASELINE), text);
    const r = cli(['lint', '.', '--baseline', BASELINE], repo);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('a missing baseline exits 2 with one line', () => {
    const r = cli(['lint', '.', '--baseline', 'nope.json'], repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('agent-guard: nope.json: cannot read baseline: ENOENT\n');
  });
});

describe('baseline matching', () => {
  const root = '/repo';
  const base: Finding = {
    rule: 'prompt-injection', severity: 'critical', confidence: 'high', file: '.github/workflows/a.yml', line: 10, column: 3,
    job: 'triage', step: 'Triage', message: 'github.event.issue.title reaches Claude Code', path: [], capabilities: [], fix: '',
  };

  it('ignores line and column, and line numbers inside the message', () => {
    const withLine = { ...base, message: 'see a.yml:10:3, line 10' };
    const b = createBaseline([withLine], root, root);
    const moved = { ...withLine, line: 40, column: 9, message: 'see a.yml:40:9, line 40' };
    expect(applyBaseline([moved], b, root, root).fresh).toEqual([]);
  });

  it.each([
    ['rule', { rule: 'template-injection' }],
    ['file', { file: '.github/workflows/b.yml' }],
    ['job', { job: 'other' }],
    ['step', { step: 'Other' }],
    ['message', { message: 'github.event.comment.body reaches Claude Code' }],
  ])('a different %s is a new finding', (_what, change) => {
    const b = createBaseline([base], root, root);
    expect(applyBaseline([{ ...base, ...change }], b, root, root).fresh).toHaveLength(1);
  });

  it('an entry whose stated fields do not match its fingerprint matches nothing', () => {
    const b = createBaseline([base], root, root);
    b.findings[0] = { ...b.findings[0], job: 'edited' };
    expect(applyBaseline([base], b, root, root).fresh).toHaveLength(1);
  });

  it('covers as many findings as its count', () => {
    const b = createBaseline([base, { ...base, column: 20 }], root, root);
    expect(b.findings).toHaveLength(1);
    expect(b.findings[0].count).toBe(2);
    const three = [base, { ...base, column: 20 }, { ...base, column: 30 }];
    const outcome = applyBaseline(three, b, root, root);
    expect(outcome.known).toHaveLength(2);
    expect(outcome.fresh).toHaveLength(1);
    expect(outcome.fresh[0].column).toBe(30);
  });

  it('paths are stored relative to the repository root whatever the working folder', () => {
    const fromRoot = createBaseline([base], root, root);
    const fromSub = createBaseline([{ ...base, file: 'workflows/a.yml' }], '/repo/.github', root);
    expect(fromSub).toEqual(fromRoot);
  });

  it('writes a stable, parseable file', () => {
    const b = createBaseline([base, { ...base, rule: 'template-injection' }], root, root);
    const text = formatBaseline(b);
    expect(parseBaseline('x.json', text)).toEqual(b);
    expect(formatBaseline(parseBaseline('x.json', text))).toBe(text);
    expect(formatBaseline({ version: 1, findings: [] })).toBe('{\n  "version": 1,\n  "findings": []\n}\n');
  });

  it('finds where JSON goes wrong, for the error line', () => {
    expect(jsonErrorOffset('{"a":1,}')).toBe(7);
    expect(jsonErrorOffset('[1,2')).toBe(4);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('{"a":"\\q"}')).toBe(7);
    expect(jsonErrorOffset('{"a":1} x')).toBe(8);
    const valid = '{"a":[true,null,-1.5e3,"\\u00e9"]}';
    expect(jsonErrorOffset(valid)).toBe(valid.length);
  });
});
