// The Action's lint mode under a simulated runner: INPUT_* built from action.yml, GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY and GITHUB_EVENT_PATH files. Checks annotations, summary, outputs, the SARIF
// file (against the SARIF 2.1.0 schema), fail-on, the baseline, bad inputs, and that lint sets no untrusted output.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { actionMain } from '../../src/action';
import { setOutputs } from '../../src/action/runner';
import { CLI, SAFE, VULNERABLE, parseOutputFile, repoWith, runActionInProcess, runActionProcess, simulateRunner } from './helpers/runner';
import { sarifValidator } from './helpers/sarifSchema';

const validateSarif = sarifValidator();

// High (not critical) findings: claude-code-action's write-access gate widened to everyone.
const WIDENED = `on:
  issue_comment:
    types: [created]
permissions:
  issues: write
  pull-requests: write
jobs:
  claude:
    runs-on: ubuntu-latest
    steps:
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}
          github_token: \${{ secrets.GITHUB_TOKEN }}
          allowed_non_write_users: "*"
`;

describe('action lint on a vulnerable repository (issue opened by a stranger)', () => {
  const repo = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
  const runner = simulateRunner({ event: 'issues', payload: 'issue-stranger.json' });
  let ran: Awaited<ReturnType<typeof runActionInProcess>>;

  beforeAll(async () => {
    ran = await runActionInProcess('lint', runner, repo);
  });
  afterAll(() => runner.cleanup());

  it('fails the step by fail-on (default high) and says why in one line', () => {
    expect(ran.code).toBe(1);
    // One finding: the title reaches the agent and is expanded into its command line (folded into one).
    expect(ran.stderr).toBe('agent-guard: 1 finding at or above fail-on: high\n');
  });

  it('annotates the offending lines with workspace-relative paths', () => {
    const annotations = ran.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toMatch(/^::error file=\.github\/workflows\/triage\.yml,line=10,col=\d+,title=agent-guard prompt-injection::.*also expanded into the run script/);
    // One annotation per line: the body's newlines are escaped, so outsider text cannot start a command.
    expect(annotations[0]).toContain('%0AFix: ');
  });

  it('prints the text report before the annotations', () => {
    expect(ran.stdout.indexOf('1 finding (1 critical) in 1 file')).toBeGreaterThan(-1);
    expect(ran.stdout.indexOf('1 finding (1 critical)')).toBeLessThan(ran.stdout.indexOf('::error'));
  });

  it('sets the outputs in the runner heredoc format', () => {
    const out = runner.outputs();
    expect(out.findings).toBe('1');
    expect(out['highest-severity']).toBe('critical');
    expect(out['sarif-file']).toBe(path.join(runner.env.RUNNER_TEMP, 'agent-guard.sarif'));
    expect(out).not.toHaveProperty('untrusted');
  });

  it('writes a job summary: severity table, rule table, each finding with its path and fix', () => {
    const summary = runner.summary();
    expect(summary).toMatch(/^## ⚠️ agent-guard: 1 finding \(1 critical\) in 1 file/);
    expect(summary).toContain('| critical | 1 |');
    expect(summary).toMatch(/\| <code>prompt-injection<\/code>[^\n]*\| critical \| 1 \|/);
    expect(summary).toContain('**Path:** <code>.github/workflows/triage.yml:10:');
    // One block for the step; the template injection of the same text is folded into the finding, and
    // its fix (env:) comes first; commands as code.
    expect(summary.match(/<details>/g)).toHaveLength(1);
    expect(summary).toMatch(/\*\*Fix:\*\* Move the value into <code>env:<\/code>[^\n]*<code>agent-guard run --provider anthropic -- claude \.\.\.<\/code>/);
    expect(summary).not.toContain('\\`');
    expect(summary).toMatch(/\*\*Agent holds:\*\*/);
    expect(summary).toContain('SARIF: <code>');
  });

  it('writes SARIF that validates against the 2.1.0 schema and carries what code scanning needs', () => {
    const log = JSON.parse(fs.readFileSync(runner.outputs()['sarif-file'], 'utf8'));
    expect(validateSarif(log)).toEqual([]);
    const run = log.runs[0];
    const rules = new Map(run.tool.driver.rules.map((r: { id: string }) => [r.id, r]));
    expect(run.results).toHaveLength(1);
    for (const r of run.results) {
      const rule = rules.get(r.ruleId) as { help: { markdown: string }; properties: Record<string, string> };
      expect(rule.help.markdown.length).toBeGreaterThan(50);
      expect(Number(rule.properties['security-severity'])).toBeGreaterThan(0);
      expect(r.locations[0].physicalLocation.artifactLocation).toEqual({ uri: '.github/workflows/triage.yml', uriBaseId: '%SRCROOT%' });
      expect(r.locations[0].physicalLocation.region.startLine).toBe(10);
      expect(r.level).toBe('error');
    }
  });
});

describe('action lint: code scanning shows each finding at its own severity', () => {
  it("a medium finding of a rule that can be critical is Medium in the Security tab, not Critical", async () => {
    const fixture = fs.readFileSync(path.join(__dirname, '../fixtures/rules/claude-action-default-gate.yml'), 'utf8');
    const runner = simulateRunner({ event: 'push', payload: 'push.json', inputs: { 'fail-on': 'none' } });
    await runActionInProcess('lint', runner, repoWith({ '.github/workflows/claude.yml': fixture }));
    const log = JSON.parse(fs.readFileSync(runner.outputs()['sarif-file'], 'utf8'));
    runner.cleanup();
    expect(validateSarif(log)).toEqual([]);
    const rules = log.runs[0].tool.driver.rules;
    const shown = log.runs[0].results.map((r: { ruleIndex: number; properties: { severity: string } }) => [r.properties.severity, rules[r.ruleIndex].properties['security-severity']]);
    expect(shown).toContainEqual(['medium', '5.5']);
    // GitHub: 9.0 and up is Critical, 7.0 High, 4.0 Medium, below that Low.
    const band = (score: number) => (score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : 'low');
    for (const [severity, score] of shown) expect(band(Number(score))).toBe(severity);
  });
});

describe('action lint inputs', () => {
  const vulnerable = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
  const widened = repoWith({ '.github/workflows/claude.yml': WIDENED });
  const clean = repoWith({ '.github/workflows/ci.yml': SAFE });

  async function lintWith(repo: string, inputs: Record<string, string>, event = 'push', payload: string | object = 'push.json') {
    const runner = simulateRunner({ inputs, event, payload });
    try {
      const ran = await runActionInProcess('lint', runner, repo);
      return { ...ran, outputs: runner.outputs(), summary: runner.summary() };
    } finally {
      runner.cleanup();
    }
  }

  it('passes a clean repository with zero findings and a green summary', async () => {
    const r = await lintWith(clean, {});
    expect(r.code).toBe(0);
    expect(r.outputs.findings).toBe('0');
    expect(r.outputs['highest-severity']).toBe('none');
    expect(r.stdout).not.toContain('::');
    expect(r.summary).toMatch(/^## ✅ agent-guard: no findings in 1 file/);
  });

  it('fail-on: none reports but passes; fail-on: critical passes a high finding and fails a critical one', async () => {
    const none = await lintWith(vulnerable, { 'fail-on': 'none' });
    expect(none.code).toBe(0);
    expect(none.outputs.findings).toBe('1');
    const high = await lintWith(widened, { 'fail-on': 'critical' });
    expect(high.outputs['highest-severity']).toBe('high');
    expect(high.code).toBe(0);
    expect((await lintWith(widened, { 'fail-on': 'high' })).code).toBe(1);
    expect((await lintWith(vulnerable, { 'fail-on': 'critical' })).code).toBe(1);
  });

  it('format: json prints one JSON report, then the annotations', async () => {
    const r = await lintWith(vulnerable, { format: 'json', 'fail-on': 'none' });
    const [json, ...rest] = r.stdout.split('\n::');
    expect(JSON.parse(json).findings).toHaveLength(1);
    expect(rest).toHaveLength(1);
  });

  it('format: github prints each annotation once', async () => {
    const r = await lintWith(vulnerable, { format: 'github', 'fail-on': 'none' });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('::error'))).toHaveLength(1);
  });

  it('path and sarif-file are relative to the workspace', async () => {
    const r = await lintWith(vulnerable, { path: '.github/workflows/triage.yml', 'sarif-file': 'out/ag.sarif', 'fail-on': 'none' });
    expect(r.outputs['sarif-file']).toBe(path.join(vulnerable, 'out', 'ag.sarif'));
    expect(validateSarif(JSON.parse(fs.readFileSync(r.outputs['sarif-file'], 'utf8')))).toEqual([]);
  });

  it('a config file from the config input applies (ignore a rule)', async () => {
    // Ignoring the agent rule leaves the template injection it had folded in.
    fs.writeFileSync(path.join(vulnerable, 'ag.yml'), 'ignore:\n  - rule: prompt-injection\n');
    const r = await lintWith(vulnerable, { config: 'ag.yml', 'fail-on': 'none' });
    expect(r.outputs.findings).toBe('1');
    expect(r.stdout).toContain('template-injection');
  });

  it.each([
    [{ 'fail-on': 'severe' }, "input 'fail-on' must be one of critical, high, medium, low, none, not 'severe'"],
    [{ format: 'xml' }, "input 'format' must be one of text, json, sarif, github, not 'xml'"],
    [{ 'upload-sarif': 'yes' }, "input 'upload-sarif' must be true or false, not 'yes'"],
    [{ baseline: 'missing.json' }, 'missing.json: cannot read baseline: ENOENT'],
    [{ config: 'nope.yml' }, 'nope.yml:1:1: cannot read config: ENOENT'],
  ])('bad input %j fails the step with one line and an error annotation', async (inputs, message) => {
    const r = await lintWith(clean, inputs as Record<string, string>);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toMatch(/^::error title=agent-guard::/);
  });

  it('passes a repository with nothing to lint with a one-line note (an org-wide required workflow must not block it)', async () => {
    const repos: Record<string, string>[] = [{ 'README.md': '# nothing here\n' }, { '.github/dependabot.yml': 'version: 2\n', 'compose.yml': 'services: {}\n' }];
    for (const files of repos) {
      const r = await lintWith(repoWith(files), {});
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('agent-guard: nothing to lint: no workflow files in . (looked for .github/workflows/*.yml)\n');
      expect(r.stdout).not.toContain('::error');
      expect(r.outputs.findings).toBe('0');
      expect(r.summary).toContain('nothing to lint: no workflow files');
    }
  });

  it('a path that does not exist is a bad input naming it', async () => {
    const r = await lintWith(clean, { path: 'src/.github' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("agent-guard: input 'path': src/.github does not exist\n");
  });

  it('exits 2 when no workflow could be read: the only one does not parse', async () => {
    const broken = repoWith({ '.github/workflows/x.yml': 'on: push\njobs:\n  a: {runs-on: x, steps: [\n' });
    const b = await lintWith(broken, {});
    expect(b.code).toBe(2);
    expect(b.stdout).toMatch(/^::error file=\.github\/workflows\/x\.yml,line=\d+,col=\d+,title=agent-guard%3A error::/m);
  });
});

describe('action lint with a baseline', () => {
  it('fails only on findings that are not in the baseline, and says how many were known', async () => {
    const repo = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
    fs.mkdirSync(path.join(repo, '.git'));
    execFileSync(process.execPath, [CLI, 'lint', '.', '--write-baseline', '.github/agent-guard-baseline.json'], { cwd: repo, stdio: 'pipe' });

    const unchanged = simulateRunner({ inputs: { baseline: '.github/agent-guard-baseline.json' }, event: 'push', payload: 'push.json' });
    const r1 = await runActionInProcess('lint', unchanged, repo);
    expect(r1.code).toBe(0);
    expect(unchanged.outputs().findings).toBe('0');
    expect(r1.stderr).toContain('baseline .github/agent-guard-baseline.json: 1 known finding not reported');
    expect(unchanged.summary()).toContain('1 known finding not reported');
    unchanged.cleanup();

    fs.writeFileSync(path.join(repo, '.github/workflows/new.yml'), VULNERABLE.replace('triage:', 'sort:'));
    const added = simulateRunner({ inputs: { baseline: '.github/agent-guard-baseline.json' }, event: 'push', payload: 'push.json' });
    const r2 = await runActionInProcess('lint', added, repo);
    expect(r2.code).toBe(1);
    expect(added.outputs().findings).toBe('1');
    expect(r2.stdout).toContain('::error file=.github/workflows/new.yml');
    expect(r2.stdout).not.toContain('file=.github/workflows/triage.yml');
    added.cleanup();
  });
});

describe('the untrusted output', () => {
  const clean = repoWith({ '.github/workflows/ci.yml': SAFE });
  it.each([
    ['issues', 'issue-stranger.json'],
    ['pull_request_target', 'pr-fork.json'],
  ])('is not set in lint mode, where it would mean nothing (%s)', async (event, payload) => {
    const runner = simulateRunner({ event, payload });
    await runActionInProcess('lint', runner, clean);
    expect(runner.outputs()).not.toHaveProperty('untrusted');
    runner.cleanup();
  });

  // Run mode decides before it looks at its other inputs: an empty `run` fails after the decision.
  it.each([
    ['issues', 'issue-stranger.json', 'true'],
    ['issue_comment', 'comment-member.json', 'false'],
    ['pull_request_target', 'pr-fork.json', 'true'],
    ['push', 'push.json', 'false'],
  ])('run mode: %s (%s) → untrusted=%s', async (event, payload, expected) => {
    const runner = simulateRunner({ event, payload });
    await runActionInProcess('run', runner, clean);
    expect(runner.outputs().untrusted).toBe(expected);
    runner.cleanup();
  });

  it('run mode: a missing payload is untrusted (fail closed)', async () => {
    const runner = simulateRunner({ event: 'push', noPayload: true });
    await runActionInProcess('run', runner, clean);
    expect(runner.outputs().untrusted).toBe('true');
    runner.cleanup();
  });
});

describe('GITHUB_OUTPUT writing', () => {
  it('keeps multi-line values and values that look like delimiters intact', () => {
    const runner = simulateRunner();
    const nasty = 'line one\nghadelimiter_x\nEOF\nname<<EOF\n';
    setOutputs({ env: runner.env, stdout: process.stdout, stderr: process.stderr, cwd: runner.dir }, { a: nasty, b: '' });
    expect(runner.outputs()).toEqual({ a: nasty, b: '' });
    runner.cleanup();
  });

  it('the parser itself rejects a block that never closes', () => {
    expect(() => parseOutputFile('x<<D\nvalue\n')).toThrow(/never closes/);
  });
});

describe('the built entry point (dist/cli.js action lint), as action.yml runs it', () => {
  it('lints, annotates, writes outputs and fails by fail-on', async () => {
    const repo = repoWith({ '.github/workflows/triage.yml': VULNERABLE });
    const runner = simulateRunner({ event: 'issues', payload: 'issue-stranger.json' });
    const r = await runActionProcess('lint', runner, repo);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error file=.github/workflows/triage.yml,line=10');
    expect(runner.outputs()).toMatchObject({ findings: '1', 'highest-severity': 'critical' });
    expect(runner.summary()).toContain('agent-guard: 1 finding');
    runner.cleanup();
  });
});

describe('action entry point', () => {
  it.each([
    [['bogus'], "agent-guard: input 'mode' must be one of lint, run, wrap, apply, not 'bogus'\n"],
    [['lint', 'extra'], 'agent-guard: action lint takes no arguments; it reads its INPUT_* variables\n'],
  ])('%j fails with one line and exit 2', async (args, message) => {
    const runner = simulateRunner();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d) => (err += d));
    const code = await actionMain(args, { env: runner.env, stdout, stderr, cwd: runner.dir }, { version: '0', node: process.execPath, guard: CLI });
    expect(code).toBe(2);
    expect(err).toBe(message);
    runner.cleanup();
  });
});
