// Resolution across repositories: remote reusable workflows and composite actions are fetched from a
// fake GitHub on loopback and analysed like local ones; offline they are reported as unknown.
import fs from 'node:fs';
import path from 'node:path';
import { lint } from '../../src/lint';
import type { Finding } from '../../src/checks/types';
import { prefetchPaths, RemoteStore } from '../../src/online/prefetch';
import { FakeGithub } from './fakeGithub';
import { CALLER, SHARED_TRIAGE, WRAPPER_ACTION, client, serveRemotes, tempDir, writeTree } from './helpers';

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule} ${f.file}:${f.line} ${f.message}`).join('\n');

let server: FakeGithub;
let repo: string;

beforeEach(async () => {
  server = await new FakeGithub().start();
  repo = writeTree(tempDir(), { '.github/workflows/caller.yml': CALLER });
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(repo, { recursive: true, force: true });
});

async function lintOnline(paths: string[], maxDepth?: number) {
  const store = new RemoteStore(client(server, null));
  const pre = await prefetchPaths(paths, store, maxDepth);
  return { ...lint({ paths, cwd: repo, remote: pre.resolver }), pre };
}

describe('offline', () => {
  it('reports remote uses that outsiders reach as unresolved, never as safe, and says how to follow them', () => {
    serveRemotes(server);
    const { findings, errors } = lint({ paths: [repo], cwd: repo });
    expect(errors).toEqual([]);
    expect(findings.filter((f) => f.rule === 'prompt-injection')).toEqual([]);
    const unresolved = findings.filter((f) => f.rule === 'unresolved-remote');
    const byUses = (s: string) => unresolved.find((f) => f.message.includes(`\`${s}\``));
    const triage = byUses('org/shared/.github/workflows/triage.yml@main');
    expect(triage).toMatchObject({ severity: 'medium', file: '.github/workflows/caller.yml', line: 6, job: 'triage' });
    expect(triage!.step).toBeUndefined();
    expect(triage!.message).toContain('github.event.issue.title');
    expect(triage!.message).toContain('every secret (secrets: inherit)');
    expect(triage!.message).toContain('agent-guard lint --online');
    expect(triage!.capabilities).toContain('secret:* via secrets: inherit');
    expect(triage!.path[0].note).toMatch(/github\.event\.issue\.title/);
    // The wrapper gets the issue body and a key: medium; the node action gets text only: low.
    expect(byUses('someone/wrapper@v1')).toMatchObject({ severity: 'medium', step: 'someone/wrapper' });
    expect(byUses('someone/node-thing@v3')).toMatchObject({ severity: 'low' });
    expect(byUses('docker://alpine:3')!.message).toContain('docker image actions are not analysed');
    expect(byUses('org/private-thing@v1')).toBeDefined();
    // Known: GitHub's own actions and agent actions modelled from rules/agents.yml.
    expect(unresolved.some((f) => /actions\/checkout|claude-code-action/.test(f.message))).toBe(false);
    expect(server.requests).toEqual([]); // offline means offline
  });

  it('weighs reach: a push-only workflow is reported at most low', () => {
    const dir = writeTree(tempDir(), {
      '.github/workflows/release.yml': `on:
  push:
    branches: [main]
jobs:
  release:
    uses: org/shared/.github/workflows/release.yml@v1
    secrets: inherit
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: someone/wrapper@v1
        with:
          prompt: \${{ github.event.head_commit.message }}
`,
    });
    const { findings } = lint({ paths: [dir] });
    const unresolved = findings.filter((f) => f.rule === 'unresolved-remote');
    // Only maintainers push: the workflow's secrets are not in outsiders' reach.
    expect(unresolved.filter((f) => f.message.includes('release.yml'))).toEqual([]);
    // A merged commit's message was written by its author: a maintainer's act away, so low.
    expect(unresolved.map((f) => f.severity)).toEqual(['low']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('online', () => {
  it('follows remote reusable workflows and composite actions into their agents, with inputs and secrets carried across', async () => {
    const { sharedMain } = serveRemotes(server);
    const { findings, errors, stats, pre } = await lintOnline([repo]);
    expect(errors).toEqual([]);
    const inTriage = findings.find((f) => f.rule === 'prompt-injection' && f.file === 'org/shared/.github/workflows/triage.yml@main');
    if (!inTriage) throw new Error(show(findings));
    expect(inTriage.severity).toBe('critical');
    expect(inTriage.line).toBe(SHARED_TRIAGE.split('\n').findIndex((l) => l.includes('claude -p')) + 1);
    // The path starts at the caller's issue title and crosses into the remote file.
    expect(inTriage.path[0]).toMatchObject({ file: '.github/workflows/caller.yml' });
    expect(inTriage.path.some((h) => /input title of org\/shared/.test(h.note))).toBe(true);
    expect(inTriage.capabilities.some((c) => c.includes('secrets: inherit'))).toBe(true);

    const inWrapper = findings.find((f) => f.rule === 'prompt-injection' && f.file === 'someone/wrapper/action.yml@v1');
    if (!inWrapper) throw new Error(show(findings));
    expect(inWrapper.severity).toBe('critical');
    expect(inWrapper.line).toBe(WRAPPER_ACTION.split('\n').findIndex((l) => l.includes('claude -p')) + 1);
    expect(inWrapper.path.some((h) => h.file === '.github/workflows/caller.yml' && /issue\.body/.test(h.note))).toBe(true);

    // `./` inside a remote reusable workflow is that repository at the same commit.
    const viaNested = findings.find((f) => f.rule === 'prompt-injection' && f.file === `org/shared/.github/workflows/triage.yml@${sharedMain.slice(0, 12)}`);
    if (!viaNested) throw new Error(show(findings));
    expect(viaNested.path.some((h) => h.file === 'org/shared/.github/workflows/nested.yml@v1')).toBe(true);

    // What was followed is no longer unresolved; what failed says why.
    const unresolved = findings.filter((f) => f.rule === 'unresolved-remote');
    expect(unresolved.map((f) => f.message.match(/`([^`]+)`/)![1]).sort()).toEqual(['docker://alpine:3', 'org/private-thing@v1']);
    const priv = unresolved.find((f) => f.message.includes('private-thing'))!;
    expect(priv.message).toContain('could not be fetched');
    expect(priv.message).toContain('not found (404)');
    expect(priv.message).toContain('private');
    expect(pre.failed).toEqual([{ uses: 'org/private-thing@v1', error: expect.stringContaining('404') }]);
    expect(stats.agentSteps).toBeGreaterThanOrEqual(3);

    // Not fetched: agent actions (data), GitHub's own actions, docker images.
    expect(server.count(/anthropics|\/repos\/actions\/|alpine/)).toBe(0);
    // The nested composite action was followed too (action.yml missing, action.yaml found).
    expect(pre.followed).toContain('someone/inner/action.yaml@v2');
  });

  it('analyses a remote reusable workflow exactly as the same file in the repository', async () => {
    serveRemotes(server);
    const local = writeTree(tempDir(), {
      '.github/workflows/caller.yml': `on:
  issues:
    types: [opened]
jobs:
  triage:
    uses: ./.github/workflows/triage.yml
    with:
      title: \${{ github.event.issue.title }}
    secrets: inherit
`,
      '.github/workflows/triage.yml': SHARED_TRIAGE,
    });
    fs.writeFileSync(path.join(repo, '.github/workflows/caller.yml'), fs.readFileSync(path.join(local, '.github/workflows/caller.yml'), 'utf8').replace('./.github/workflows/triage.yml', 'org/shared/.github/workflows/triage.yml@v1'));
    const here = lint({ paths: [local], cwd: local }).findings;
    const there = (await lintOnline([repo])).findings;
    const key = (f: Finding) => `${f.rule} ${f.severity} ${path.basename(f.file).replace(/@.*/, '')}:${f.line}:${f.column} ${f.job} ${f.step} ${f.capabilities.join(',')}`;
    expect(here.length).toBeGreaterThan(0);
    expect(there.map(key).sort()).toEqual(here.map(key).sort());
    fs.rmSync(local, { recursive: true, force: true });
  });

  it('carries outputs back: a remote composite action and a remote reusable workflow that echo their input', async () => {
    server.addRepo('someone/echo', {
      'action.yml': `inputs:
  text: {}
outputs:
  result:
    value: \${{ steps.copy.outputs.result }}
  fixed:
    value: \${{ steps.copy.outputs.fixed }}
runs:
  using: composite
  steps:
    - id: copy
      shell: bash
      env:
        TEXT: \${{ inputs.text }}
      run: |
        echo "result=$TEXT" >> "$GITHUB_OUTPUT"
        echo "fixed=ok" >> "$GITHUB_OUTPUT"
`,
    }, { tags: ['v1'] });
    server.addRepo('org/summaries', {
      '.github/workflows/summarise.yml': `on:
  workflow_call:
    inputs:
      text:
        type: string
    outputs:
      summary:
        value: \${{ jobs.s.outputs.summary }}
jobs:
  s:
    runs-on: ubuntu-latest
    outputs:
      summary: \${{ steps.o.outputs.summary }}
    steps:
      - id: o
        env:
          TEXT: \${{ inputs.text }}
        run: echo "summary=$TEXT" >> "$GITHUB_OUTPUT"
`,
    }, { tags: ['v1'] });
    fs.writeFileSync(
      path.join(repo, '.github/workflows/caller.yml'),
      `on: issue_comment
jobs:
  summarise:
    uses: org/summaries/.github/workflows/summarise.yml@v1
    with:
      text: \${{ github.event.comment.body }}
  use:
    needs: summarise
    runs-on: ubuntu-latest
    steps:
      - id: e
        uses: someone/echo@v1
        with:
          text: \${{ github.event.comment.body }}
      - run: echo "\${{ steps.e.outputs.result }}"
      - run: echo "\${{ steps.e.outputs.fixed }}"
      - run: echo "\${{ needs.summarise.outputs.summary }}"
`,
    );
    const injections = (findings: Finding[]) => findings.filter((f) => f.rule === 'template-injection').map((f) => `${f.line} ${f.confidence}`).sort();
    // Offline the action is assumed to pass its input to every output (low confidence), and the
    // reusable workflow's output is unknown.
    expect(injections(lint({ paths: [repo] }).findings)).toEqual(['15 low', '16 low']);
    // Online: the output that carries the comment does, the fixed one does not, and the reusable
    // workflow's output is followed back through its job to the caller's input.
    const online = await lintOnline([repo]);
    expect(injections(online.findings)).toEqual(['15 high', '17 high']);
    const viaWorkflow = online.findings.find((f) => f.rule === 'template-injection' && f.line === 17)!;
    expect(viaWorkflow.path.map((h) => h.file)).toContain('org/summaries/.github/workflows/summarise.yml@v1');
  });

  it('follows remote uses inside local composite actions', async () => {
    serveRemotes(server);
    const dir = writeTree(tempDir(), {
      '.github/workflows/w.yml': `on: issue_comment
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/local
        with:
          text: \${{ github.event.comment.body }}
`,
      '.github/actions/local/action.yml': `inputs:
  text: {}
runs:
  using: composite
  steps:
    - uses: someone/wrapper@v1
      with:
        prompt: \${{ inputs.text }}
        key: \${{ env.KEY }}
`,
    });
    const store = new RemoteStore(client(server, null));
    const pre = await prefetchPaths([dir], store);
    expect(pre.followed).toEqual(expect.arrayContaining(['someone/wrapper/action.yml@v1', 'someone/inner/action.yaml@v2']));
    const { findings } = lint({ paths: [dir], remote: pre.resolver });
    expect(findings.some((f) => f.rule === 'prompt-injection' && f.file === 'someone/wrapper/action.yml@v1')).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ends cycles and stops at the depth limit, saying so', async () => {
    const composite = (next: string) => `runs:
  using: composite
  steps:
    - uses: ${next}
      with:
        text: \${{ inputs.text }}
`;
    server.addRepo('cyc/a', { 'action.yml': composite('cyc/b@v1') }, { tags: ['v1'] });
    server.addRepo('cyc/b', { 'action.yml': composite('cyc/a@v1') }, { tags: ['v1'] });
    for (let i = 1; i <= 6; i++) server.addRepo(`deep/d${i}`, { 'action.yml': composite(`deep/d${i + 1}@v1`) }, { tags: ['v1'] });
    fs.writeFileSync(
      path.join(repo, '.github/workflows/caller.yml'),
      `on: issue_comment
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: cyc/a@v1
        with:
          text: \${{ github.event.comment.body }}
      - uses: deep/d1@v1
        with:
          text: \${{ github.event.comment.body }}
`,
    );
    const { pre, findings } = await lintOnline([repo], 4);
    expect(pre.followed).toEqual(expect.arrayContaining(['cyc/a/action.yml@v1', 'cyc/b/action.yml@v1']));
    // Each file once, however the cycle turns.
    expect(server.count(/\/repos\/cyc\/a\/contents\//)).toBe(1);
    expect(pre.followed.filter((f) => f.startsWith('deep/'))).toEqual(['deep/d1/action.yml@v1', 'deep/d2/action.yml@v1', 'deep/d3/action.yml@v1', 'deep/d4/action.yml@v1']);
    expect(pre.failed).toEqual([{ uses: 'deep/d5@v1', error: 'not followed: more than 4 hops from the repository' }]);
    const tooDeep = findings.find((f) => f.rule === 'unresolved-remote' && f.message.includes('deep/d5@v1'));
    if (!tooDeep) throw new Error(show(findings));
    expect(tooDeep.file).toBe('deep/d4/action.yml@v1');
    expect(tooDeep.message).toContain('more than 4 hops');
    expect(tooDeep.path[0].file).toBe('.github/workflows/caller.yml');
  });

  it('reports a missing action file, a bad reference and an unreachable API as not followed', async () => {
    server.addRepo('someone/no-action', { 'README.md': 'nothing here\n' }, { tags: ['v1'] });
    fs.writeFileSync(
      path.join(repo, '.github/workflows/caller.yml'),
      `on: issue_comment
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: someone/no-action@v1
        with:
          text: \${{ github.event.comment.body }}
      - uses: someone/no-such-repo@v1
        with:
          text: \${{ github.event.comment.body }}
      - uses: someone/wrapper@no-such-tag
        with:
          text: \${{ github.event.comment.body }}
`,
    );
    server.addRepo('someone/wrapper', { 'action.yml': WRAPPER_ACTION }, { tags: ['v1'] });
    const { pre } = await lintOnline([repo]);
    const why = Object.fromEntries(pre.failed.map((f) => [f.uses, f.error]));
    expect(why['someone/no-action@v1']).toMatch(/no action\.yml or action\.yaml at v1 \([0-9a-f]{7}\)/);
    expect(why['someone/no-such-repo@v1']).toMatch(/not found \(404\).*private/);
    expect(why['someone/wrapper@no-such-tag']).toMatch(/not found \(422\)/);

    const port = new URL(server.url).port;
    await server.stop();
    const offline = new RemoteStore(client({ url: `http://127.0.0.1:${port}` } as FakeGithub, null, { sleep: async () => {} }));
    const down = await prefetchPaths([repo], offline);
    expect(down.failed.length).toBe(3);
    for (const f of down.failed) expect(f.error).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: /);
    const { findings } = lint({ paths: [repo], remote: down.resolver });
    expect(findings.filter((f) => f.rule === 'unresolved-remote' && f.message.includes('cannot reach'))).toHaveLength(3);
    server = await new FakeGithub().start(); // for afterEach
  });
});

const corpus = path.resolve(__dirname, '../../../shared/corpus/realworld');
const kicksecure = path.join(corpus, 'Kicksecure__developer-meta-files__consumer-claude-code.yml');

(fs.existsSync(kicksecure) ? describe : describe.skip)('real world: Kicksecure calls a reusable Claude workflow in another repository', () => {
  it('is unresolved offline, and followed online to its roster gate (labelled safe)', async () => {
    server.addRepo('org-ai-assisted/developer-meta-files', {
      '.github/workflows/reusable-claude-code-review.yml': fs.readFileSync(path.join(corpus, 'Kicksecure__developer-meta-files__reusable-claude-code-review.yml'), 'utf8'),
    }, { defaultBranch: 'master' });
    const dir = writeTree(tempDir(), { '.github/workflows/consumer-claude-code.yml': fs.readFileSync(kicksecure, 'utf8') });
    const offline = lint({ paths: [dir] });
    expect(offline.findings.map((f) => `${f.rule} ${f.severity}`)).toEqual(['unresolved-remote medium']);
    expect(offline.stats.agentSteps).toBe(0);

    const store = new RemoteStore(client(server, null));
    const pre = await prefetchPaths([dir], store);
    expect(pre.followed).toEqual(['org-ai-assisted/developer-meta-files/.github/workflows/reusable-claude-code-review.yml@master']);
    const online = lint({ paths: [dir], remote: pre.resolver });
    expect(online.errors).toEqual([]);
    expect(online.stats.agentSteps).toBeGreaterThan(0); // the agent one hop away is now seen
    expect(online.findings.filter((f) => f.rule === 'unresolved-remote')).toEqual([]);
    expect(online.findings.filter((f) => f.severity === 'critical' || f.severity === 'high')).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const usipipo = path.join(corpus, 'usipipo__usipipobot__qwen-dispatch.yml');

(fs.existsSync(usipipo) ? describe : describe.skip)('real world: usipipo dispatches issues to a Qwen triage workflow', () => {
  it('finds the same things whether the triage workflow is in the repository or fetched from another', async () => {
    const dispatch = fs.readFileSync(usipipo, 'utf8');
    const triage = fs.readFileSync(path.join(corpus, 'usipipo__usipipobot__qwen-triage.yml'), 'utf8');
    const local = writeTree(tempDir(), { '.github/workflows/qwen-dispatch.yml': dispatch, '.github/workflows/qwen-triage.yml': triage });
    server.addRepo('usipipo/workflows', { '.github/workflows/qwen-triage.yml': triage }, { tags: ['v1'] });
    const remote = writeTree(tempDir(), {
      '.github/workflows/qwen-dispatch.yml': dispatch.replace("'./.github/workflows/qwen-triage.yml'", "'usipipo/workflows/.github/workflows/qwen-triage.yml@v1'"),
    });
    const here = lint({ paths: [local], cwd: local });
    const store = new RemoteStore(client(server, null));
    const pre = await prefetchPaths([remote], store);
    expect(pre.followed).toEqual(['usipipo/workflows/.github/workflows/qwen-triage.yml@v1']);
    const there = lint({ paths: [remote], cwd: remote, remote: pre.resolver });
    expect(here.errors).toEqual([]);
    expect(there.errors).toEqual([]);
    const inTriage = (r: typeof here) => r.findings.filter((f) => f.file.includes('qwen-triage.yml')).map((f) => `${f.rule} ${f.severity} ${f.line}:${f.column} ${f.job}/${f.step}`).sort();
    expect(inTriage(here).length).toBeGreaterThan(0);
    expect(inTriage(there)).toEqual(inTriage(here));
    expect(there.stats.agentSteps).toBe(here.stats.agentSteps);
    for (const d of [local, remote]) fs.rmSync(d, { recursive: true, force: true });
  });
});
