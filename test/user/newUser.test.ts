// A new user follows README.md from the top, on a repository of their own with agent workflows:
// installs agent-guard the way "Set up" says (pinned to a commit; a fresh clone of this repository
// stands in for GitHub, npm offline with an empty cache), lints, reads the report as someone who has
// never seen the tool, records a baseline and checks that inserting steps does not make old findings
// new, ignores a finding inline above its step, and produces SARIF that validates and keeps its
// fingerprints when lines move.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractSnippets } from '../docs/markdown';
import { sarifValidator } from '../action/helpers/sarifSchema';

const ROOT = path.resolve(__dirname, '..', '..');
const README = path.join(ROOT, 'README.md');

/** claude-code-action on comments; the action's own check keeps outsiders from starting it. */
const CLAUDE = `name: Claude
on:
  issue_comment:
    types: [created]
jobs:
  claude:
    if: contains(github.event.comment.body, '@claude')
    runs-on: ubuntu-latest
    permissions:
      contents: write
      pull-requests: write
      issues: write
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}
`;

/** A triage bot the way many are first written: the issue spliced into the prompt, a token at hand. */
const TRIAGE = `name: Issue triage
on:
  issues:
    types: [opened]
permissions:
  issues: write
  contents: read
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm install -g @google/gemini-cli
      - run: >-
          gemini -p "Label this issue. Title: \${{ github.event.issue.title }}
          Use gh issue edit \${{ github.event.issue.number }} --add-label" --yolo
        env:
          GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}
          GH_TOKEN: \${{ github.token }}
`;

/** An agent reviewing a fork's code under pull_request_target. */
const REVIEW = `name: AI review
on:
  pull_request_target:
    types: [opened, synchronize]
jobs:
  review:
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - run: codex exec --full-auto "Review this pull request and write review.md"
        env:
          OPENAI_API_KEY: \${{ secrets.OPENAI_API_KEY }}
`;

const CI = `name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci && npm test
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('a new user follows the README', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-new-user-'));
  const clone = path.join(tmp, 'agent-guard');
  const repo = path.join(tmp, 'my-repo');
  const prefix = path.join(tmp, 'global');
  const env = {
    ...process.env,
    PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`,
    NO_COLOR: '1',
    // A fresh npm cache, offline: anything npm would have to download fails the test.
    npm_config_cache: path.join(tmp, 'npm-cache'),
    npm_config_offline: 'true',
    npm_config_prefix: prefix,
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  const agentGuard = (...args: string[]): Run => {
    const r = spawnSync('agent-guard', args, { cwd: repo, env, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const workflow = (name: string) => path.join(repo, '.github', 'workflows', name);
  const edit = (name: string, from: string, to: string) => {
    const text = fs.readFileSync(workflow(name), 'utf8');
    if (!text.includes(from)) throw new Error(`${name} has no ${from}`);
    fs.writeFileSync(workflow(name), text.replace(from, to));
  };

  beforeAll(() => {
    execFileSync('git', ['clone', '--quiet', ROOT, clone], { stdio: 'pipe' });
    fs.mkdirSync(path.join(repo, '.github', 'workflows'), { recursive: true });
    execFileSync('git', ['init', '--quiet', repo]);
    for (const [name, text] of Object.entries({ 'claude.yml': CLAUDE, 'triage.yml': TRIAGE, 'review.yml': REVIEW, 'ci.yml': CI })) fs.writeFileSync(workflow(name), text);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('installs it as "Set up" says, pinned to the commit, with nothing downloaded', () => {
    const text = fs.readFileSync(README, 'utf8');
    const setUp = extractSnippets(README, text.slice(text.indexOf('## Set up'))).find((s) => s.lang === 'sh');
    const install = setUp?.text.split('\n').find((l) => l.startsWith('npm install --global'));
    expect(install).toBe('npm install --global "github:agent-guard/agent-guard#${AGENT_GUARD_SHA:?the commit SHA you reviewed}"');
    // The local clone stands in for GitHub; everything else is the README's line.
    const command = install!.replace('github:agent-guard/agent-guard', `git+file://${clone}`);
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: clone, encoding: 'utf8' }).trim();
    const r = spawnSync('bash', ['-eo', 'pipefail', '-c', command], { cwd: tmp, env: { ...env, AGENT_GUARD_SHA: sha }, encoding: 'utf8', timeout: 120_000 });
    expect({ code: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(fs.realpathSync(path.join(prefix, 'bin', 'agent-guard'))).toBe(path.join(prefix, 'lib', 'node_modules', 'agent-guard', 'dist', 'cli.js'));
    expect(agentGuard('lint', '--help')).toMatchObject({ code: 0, stderr: '' });
  }, 150_000);

  it('lints: every finding where it is, what is held once per step, and a fix that fits the workflow', () => {
    const r = agentGuard('lint', '.github');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const findings = r.stdout.split('\n').filter((l) => /^\.github\/workflows\/\S+:\d+:\d+ (critical|high|medium|low) /.test(l));
    expect(findings.map((l) => l.split(' ').slice(0, 3).join(' ').replace(/:\d+:\d+/, ''))).toEqual([
      '.github/workflows/claude.yml medium agent-reads-untrusted',
      '.github/workflows/review.yml critical untrusted-instructions',
      '.github/workflows/triage.yml critical agent-reads-untrusted',
      '.github/workflows/triage.yml critical prompt-injection',
    ]);
    expect(r.stdout).toMatch(/\n4 findings \(3 critical, 1 medium\) in 4 files\n$/);
    const block = (file: string) => r.stdout.slice(r.stdout.indexOf(`${file}\n`)).split('\n\n')[0].replace(/\s+/g, ' ');

    // claude-code-action: run Claude Code under the wrapper with the action's own grant, not the
    // advice for a CLI (which would take the token the action itself needs).
    const claude = block('.github/workflows/claude.yml');
    expect(claude).toMatch(/`mode: wrap`.*`path_to_claude_code_executable`.*`grants: update-comment`/);
    expect(claude).not.toMatch(/permissions: \{ contents: read \}/);

    // The triage bot's findings share one statement of what is held and of the shared advice; gating
    // on the author is offered with the case where it would stop the bot doing its job. The title is
    // spliced into the agent's command line: one finding that names both the agent and the shell.
    const triage = block('.github/workflows/triage.yml');
    expect(triage.match(/ holds?( \([^)]*\))?: /g)).toEqual([' holds: ']);
    expect(triage.match(/Run it in the jail/g)).toHaveLength(1);
    expect(triage).toMatch(/fix: Unless reading strangers' text is the agent's job \(a triage bot\), gate the job/);
    expect(triage).toMatch(/reaches Gemini CLI [^\n]*; it is also expanded into the run script of step/);
    expect(triage).toMatch(/fix \(prompt-injection\): Move the value into `env:`/);
  });

  it('baselines today\'s findings, and inserting steps without a name does not make them new', () => {
    const write = agentGuard('lint', '.', '--write-baseline', '.github/agent-guard-baseline.json');
    expect({ code: write.code, stderr: write.stderr }).toEqual({ code: 0, stderr: 'agent-guard: wrote 4 findings to baseline .github/agent-guard-baseline.json\n' });
    edit('review.yml', '      - run: codex exec', '      - run: echo "reviewing"\n      - run: codex exec');
    edit('triage.yml', '      - uses: actions/checkout@v4\n', '      - uses: actions/checkout@v4\n      - run: npm ci\n');
    const r = agentGuard('lint', '.', '--baseline', '.github/agent-guard-baseline.json');
    expect(r).toEqual({ code: 0, stdout: 'no findings in 4 files\n', stderr: 'agent-guard: baseline .github/agent-guard-baseline.json: 4 known findings not reported\n' });
  });

  it('ignores a finding inline, on a comment line above the step, and refuses an unknown rule id with its line', () => {
    // The template injection is folded into the prompt injection of the same title on the same line;
    // ignoring it keeps the prompt injection, which no longer names the shell.
    const shellNamed = (findings: { rule: string; message: string }[]) => findings.filter((f) => f.rule === 'prompt-injection' && f.message.includes('also expanded into the run script')).length;
    const before = JSON.parse(agentGuard('lint', '.', '--format', 'json').stdout);
    expect(shellNamed(before.findings)).toBe(1);
    edit('triage.yml', '      - run: >-\n          gemini', '      # agent-guard: ignore[template-injection] (reviewed: the title is only a prompt)\n      - run: >-\n          gemini');
    const after = JSON.parse(agentGuard('lint', '.', '--format', 'json').stdout);
    expect(after.findings.map((f: { rule: string }) => f.rule).sort()).toEqual(['agent-reads-untrusted', 'agent-reads-untrusted', 'prompt-injection', 'untrusted-instructions']);
    expect(shellNamed(after.findings)).toBe(0);
    expect(after.errors).toEqual([]);

    edit('triage.yml', 'ignore[template-injection]', 'ignore[template-injektion]');
    const typo = JSON.parse(agentGuard('lint', '.', '--format', 'json').stdout);
    const line = fs.readFileSync(workflow('triage.yml'), 'utf8').split('\n').findIndex((l) => l.includes('template-injektion')) + 1;
    expect(typo.errors).toEqual([{ file: '.github/workflows/triage.yml', line, column: 7, message: expect.stringMatching(/^inline ignore: unknown rule 'template-injektion' \(rules: /) }]);
    expect(shellNamed(typo.findings)).toBe(1);
    edit('triage.yml', 'ignore[template-injektion]', 'ignore[template-injection]');
  });

  it('writes SARIF that validates, files each finding at its own severity, and keeps fingerprints when lines move', () => {
    const sarif = () => {
      const r = agentGuard('lint', '.', '--format', 'sarif', '--output', 'agent-guard.sarif');
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 1, stdout: '', stderr: '' });
      return JSON.parse(fs.readFileSync(path.join(repo, 'agent-guard.sarif'), 'utf8'));
    };
    const log = sarif();
    expect(sarifValidator()(log)).toEqual([]);
    const run = log.runs[0];
    const rules = new Map<string, { properties: Record<string, string> }>(run.tool.driver.rules.map((r: { id: string }) => [r.id, r]));
    const severityOf = (score: number) => (score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : 'low');
    const json = JSON.parse(agentGuard('lint', '.', '--format', 'json').stdout);
    const filed = run.results.map((r: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => [
      r.locations[0].physicalLocation.artifactLocation.uri,
      r.ruleId.split('/')[0],
      severityOf(Number(rules.get(r.ruleId)!.properties['security-severity'])),
    ]);
    expect(filed.sort()).toEqual(json.findings.map((f: { file: string; rule: string; severity: string }) => [f.file, f.rule, f.severity]).sort());
    expect(filed).toContainEqual(['.github/workflows/claude.yml', 'agent-reads-untrusted', 'medium']);

    const prints = (l: typeof log) => l.runs[0].results.map((r: { partialFingerprints: Record<string, string> }) => Object.values(r.partialFingerprints)[0]).sort();
    for (const name of ['claude.yml', 'triage.yml', 'review.yml']) fs.writeFileSync(workflow(name), `# moved down by a comment\n\n${fs.readFileSync(workflow(name), 'utf8')}`);
    expect(prints(sarif())).toEqual(prints(log));
  });
});
