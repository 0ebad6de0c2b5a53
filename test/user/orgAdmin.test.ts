// An organisation admin rolls the required workflow out as docs/org-required-workflow.md says, on an
// organisation of twenty-odd repositories of every shape (no workflows, broken YAML, a bad config or
// baseline, baselined findings, archived, forks, a repository the token cannot read, one calling a
// shared reusable workflow), served by the fake GitHub on loopback:
//   - runs the guide's `agent-guard scan` command (the built CLI, as installed);
//   - checks the report against what the required workflow actually does in each repository: the
//     template .github/workflows/agent-guard.yml with its one line changed as the guide says, run
//     through the Action's lint entry point on a checkout of that repository (its `baseline:`
//     expression evaluated as the runner would). The repositories the report says would fail are
//     exactly those whose check fails, and each says why and what to do.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CLI, ROOT, runActionInProcess, simulateRunner } from '../action/helpers/runner';
import { extractSnippets } from '../docs/markdown';
import { FakeGithub, type RepoOptions } from '../online/fakeGithub';
import { CLEAN, ISSUE_AGENT, TEMPLATE_INJECTION } from '../online/org';
import { SHARED_TRIAGE } from '../online/helpers';
import { agentGuardSteps, evaluateAll, type Workflow } from './helpers/readmeWorkflow';
import { lint } from '../../src/lint';

/** How many findings the issue agent's workflow has: what a repository that adopted it recorded. */
const ISSUE_AGENT_FINDINGS = lint({ paths: [], files: [{ path: '.github/workflows/triage.yml', text: ISSUE_AGENT }] }).findings.length;

const GUIDE = path.join(ROOT, 'docs', 'org-required-workflow.md');
const TEMPLATE = path.join(ROOT, '.github', 'workflows', 'agent-guard.yml');
const BASELINE = '.github/agent-guard-baseline.json';

const CLAUDE_ACTION = `on:
  issue_comment:
    types: [created]
jobs:
  claude:
    runs-on: ubuntu-latest
    steps:
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}
`;

const CALLS_SHARED = `on:
  issues:
    types: [opened]
jobs:
  triage:
    uses: acme/shared/.github/workflows/triage.yml@main
    with:
      title: \${{ github.event.issue.title }}
`;

const BROKEN = 'on: [push\njobs:\n  x: {\n';

interface Fixture {
  files: Record<string, string>;
  options?: RepoOptions;
  /** Record a baseline of these files first (the repository adopted agent-guard then). */
  baselineOf?: Record<string, string>;
}

const ORG: Record<string, Fixture> = {
  api: { files: { '.github/workflows/triage.yml': ISSUE_AGENT } },
  greeter: { files: { '.github/workflows/greet.yml': TEMPLATE_INJECTION, '.github/workflows/ci.yml': CLEAN } },
  web: { files: { '.github/workflows/claude.yml': CLAUDE_ACTION } },
  adopted: { files: { '.github/workflows/triage.yml': ISSUE_AGENT, '.github/workflows/ci.yml': CLEAN }, baselineOf: { '.github/workflows/triage.yml': ISSUE_AGENT } },
  'adopted-then-added': {
    files: { '.github/workflows/triage.yml': ISSUE_AGENT, '.github/workflows/greet.yml': TEMPLATE_INJECTION },
    baselineOf: { '.github/workflows/triage.yml': ISSUE_AGENT },
  },
  ignoring: { files: { '.github/workflows/triage.yml': ISSUE_AGENT, '.github/agent-guard.yml': 'ignore:\n  - file: .github/workflows/triage.yml\n' } },
  'bad-config': { files: { '.github/workflows/ci.yml': CLEAN, '.github/agent-guard.yml': 'ignore:\n  - rule: no-such-rule\n' } },
  'bad-baseline': { files: { '.github/workflows/ci.yml': CLEAN, [BASELINE]: '{"version": 1, "findings": [\n' } },
  'broken-only': { files: { '.github/workflows/bad.yml': BROKEN } },
  'broken-mixed': { files: { '.github/workflows/bad.yml': BROKEN, '.github/workflows/ci.yml': CLEAN } },
  'calls-shared': { files: { '.github/workflows/triage.yml': CALLS_SHARED } },
  shared: { files: { '.github/workflows/triage.yml': SHARED_TRIAGE } },
  'lib-a': { files: { '.github/workflows/ci.yml': CLEAN, 'package.json': '{}' } },
  'lib-b': { files: { '.github/workflows/ci.yaml': CLEAN } },
  cli: { files: { '.github/workflows/release.yml': CLEAN }, options: { defaultBranch: 'trunk' } },
  docs: { files: { 'README.md': '# docs\n' } },
  handbook: { files: { 'README.md': '# handbook\n', '.github/dependabot.yml': 'version: 2\nupdates: []\n' } },
  empty: { files: {}, options: { empty: true } },
  private: { files: { '.github/workflows/triage.yml': ISSUE_AGENT }, options: { forbidden: true } },
  'old-bot': { files: { '.github/workflows/triage.yml': ISSUE_AGENT }, options: { archived: true } },
  'fork-of-tool': { files: { '.github/workflows/triage.yml': ISSUE_AGENT }, options: { fork: true } },
};

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

describe('an admin rolls the required workflow out across an organisation', () => {
  let tmp: string;
  let github: FakeGithub;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-org-admin-'));
    github = await new FakeGithub().start();
    github.addOrg('acme');
    for (const [name, fixture] of Object.entries(ORG)) {
      if (fixture.baselineOf) {
        // The repository recorded its findings with the CLI when it adopted agent-guard.
        const then = fs.mkdtempSync(path.join(tmp, `${name}-then-`));
        fs.mkdirSync(path.join(then, '.git'));
        writeTree(then, fixture.baselineOf);
        const r = spawnSync(process.execPath, [CLI, 'lint', '.', '--write-baseline', BASELINE], { cwd: then, encoding: 'utf8' });
        expect(r.status).toBe(0);
        fixture.files[BASELINE] = fs.readFileSync(path.join(then, BASELINE), 'utf8');
      }
      github.addRepo(`acme/${name}`, fixture.files, fixture.options);
    }
  });
  afterAll(async () => {
    await github.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * The guide's scan command, run as the admin runs it (the token is the fake's). A child process
   * started asynchronously: the fake GitHub answers from this process.
   */
  async function scanAsTheGuideSays(format: string): Promise<{ code: number | null; report: string; stderr: string }> {
    const guide = fs.readFileSync(GUIDE, 'utf8');
    const commands = extractSnippets(GUIDE, guide).flatMap((s) => s.text.split('\n')).filter((l) => l.startsWith('agent-guard scan '));
    expect(commands).toEqual(['agent-guard scan --org acme --format markdown --output agent-guard-scan.md']);
    const dir = fs.mkdtempSync(path.join(tmp, 'admin-'));
    const args = commands[0].split(' ').slice(1).map((a) => (a === 'markdown' ? format : a));
    const env = { PATH: process.env.PATH, CI: 'true', GITHUB_TOKEN: 'ghp_admin-token', GITHUB_API_URL: github.url, AGENT_GUARD_CACHE_DIR: path.join(dir, 'cache') };
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    return { code, report: fs.readFileSync(path.join(dir, 'agent-guard-scan.md'), 'utf8'), stderr };
  }

  /** The organisation's required workflow: the template with its `uses: ./` pinned, as the guide says. */
  function requiredWorkflow(): Workflow {
    const text = fs.readFileSync(TEMPLATE, 'utf8');
    expect(text).toMatch(/^ {8}uses: \.\/$/m);
    return parse(text.replace(/^( {8}uses: )\.\/$/m, `$1agent-guard/agent-guard@${'0'.repeat(40)} # v1`)) as Workflow;
  }

  /** What the required check does on a pull request in this repository: the Action's exit code. */
  async function requiredCheck(name: string): Promise<number> {
    const workflow = requiredWorkflow();
    expect(Object.keys(workflow.on as object)).toEqual(expect.arrayContaining(['pull_request', 'merge_group']));
    const [step] = agentGuardSteps(workflow, 'lint');
    const checkout = fs.mkdtempSync(path.join(tmp, `${name}-checkout-`));
    fs.mkdirSync(path.join(checkout, '.git'));
    writeTree(checkout, ORG[name].files);
    const hasBaseline = fs.existsSync(path.join(checkout, BASELINE));
    const inputs = evaluateAll(step.with, {
      [`hashFiles('${BASELINE}') != '' && '${BASELINE}' || ''`]: hasBaseline ? BASELINE : '',
      "github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository": 'false',
    });
    const runner = simulateRunner({ event: 'pull_request', payload: { pull_request: { number: 1 } }, inputs });
    try {
      return (await runActionInProcess('lint', runner, checkout)).code;
    } finally {
      runner.cleanup();
    }
  }

  it("the scan's 'would fail' list is exactly where the required check fails, each with why and what to do", async () => {
    const { code, report, stderr } = await scanAsTheGuideSays('json');
    expect({ code, stderr: stderr.match(/^agent-guard: scanned .*$/m)?.[0] }).toEqual({ code: 0, stderr: expect.stringMatching(/scanned 13 of 21 repositories, 3 failed/) });
    const json = JSON.parse(report) as { repositories: { name: string; status: string; baselined: number; requiredCheck: { verdict: string; why?: string; todo?: string } }[] };
    const scanned = Object.fromEntries(json.repositories.map((r) => [r.name.replace('acme/', ''), r]));
    // Archived repositories and forks are skipped; the one the token cannot read is unknown.
    expect(Object.keys(scanned).sort()).toEqual(Object.keys(ORG).filter((n) => !ORG[n].options?.archived && !ORG[n].options?.fork).sort());
    expect(scanned.private).toMatchObject({ status: 'failed', requiredCheck: { verdict: 'unknown' } });

    const actual: Record<string, string> = {};
    for (const name of Object.keys(scanned)) if (name !== 'private') actual[name] = (await requiredCheck(name)) === 0 ? 'pass' : 'fail';
    const predicted = Object.fromEntries(Object.keys(actual).map((n) => [n, scanned[n].requiredCheck.verdict]));
    expect(predicted).toEqual(actual);
    // And the organisation has every kind of repository this is about.
    expect(Object.entries(actual).filter(([, v]) => v === 'fail').map(([n]) => n).sort()).toEqual(['adopted-then-added', 'api', 'bad-baseline', 'bad-config', 'broken-only', 'greeter']);

    expect(ISSUE_AGENT_FINDINGS).toBeGreaterThan(0);
    expect(scanned.adopted).toMatchObject({ baselined: ISSUE_AGENT_FINDINGS, requiredCheck: { verdict: 'pass' } });
    expect(scanned['adopted-then-added'].requiredCheck).toEqual({ verdict: 'fail', why: '1 critical not in its baseline', todo: expect.stringContaining(`agent-guard lint . --write-baseline ${BASELINE}`) });
    expect(scanned['bad-config'].requiredCheck.why).toMatch(/^\.github\/agent-guard\.yml:2:\d+: unknown rule 'no-such-rule'/);
    expect(scanned['bad-baseline'].requiredCheck.why).toMatch(/^\.github\/agent-guard-baseline\.json:\d+:\d+: baseline is not valid JSON/);
    expect(scanned['broken-only'].requiredCheck.why).toMatch(/^no workflow could be read \(\.github\/workflows\/bad\.yml:\d+: /);
    // The shared workflow's finding is shown where it is; the caller's offline check cannot see it.
    expect(scanned['calls-shared']).toMatchObject({ status: 'scanned', requiredCheck: { verdict: 'pass' } });
  }, 120_000);

  it('the markdown report, ready for an issue, leads with the table of repositories to act on', async () => {
    const { code, report } = await scanAsTheGuideSays('markdown');
    expect(code).toBe(0);
    const section = report.slice(report.indexOf('### Required check'), report.indexOf('### Top rules'));
    expect(section.split('\n')[0]).toBe("### Required check (fail-on: high, each repository's baseline applied): 6 repositories would fail it");
    const rows = section.split('\n').filter((l) => l.startsWith('| [acme/'));
    expect(rows.map((l) => /\[acme\/([\w-]+)\]/.exec(l)![1]).sort()).toEqual(['adopted-then-added', 'api', 'bad-baseline', 'bad-config', 'broken-only', 'greeter']);
    for (const row of rows) expect(row.split(' | ')).toHaveLength(3);
    // adopted and adopted-then-added each recorded the issue agent's findings.
    expect(report).toContain(`| recorded in baselines (not above) | ${2 * ISSUE_AGENT_FINDINGS} |`);
    expect(report.length).toBeLessThan(65_536);
  }, 60_000);
});
