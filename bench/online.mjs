// Online benchmark: `agent-guard scan` over a fake organisation of 500 repositories served by the
// test suite's fake GitHub (test/online/fakeGithub.ts) on loopback. Figures: API requests made (and
// how many count against the rate limit), wall time, and the same for a second run on the cache.
// Run twice: with no added latency (our own overhead) and with 50 ms per request, about what
// api.github.com answers in from Europe or the US east coast, where concurrency matters.
// Usage: node bench/online.mjs [--repos N] [--latency MS] [--quick]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const quick = args.includes('--quick');
const repoCount = opt('--repos', quick ? 100 : 500);
const latencies = args.includes('--latency') ? [opt('--latency', 50)] : [0, 50];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-bench-online-'));
// The CLI bundled from the current src/ (as scripts/build.mjs does, into the bench folder), and the
// fake server compiled from the test suite.
await build({
  entryPoints: [path.join(root, 'src/cli.ts')],
  outfile: path.join(work, 'cli.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  loader: { '.yml': 'text' },
  logLevel: 'warning',
});
await build({ entryPoints: [path.join(root, 'test/online/fakeGithub.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(work, 'fake.cjs'), logLevel: 'warning' });
const { FakeGithub } = createRequire(import.meta.url)(path.join(work, 'fake.cjs'));

const CI = `on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
      - run: npm ci && npm test
`;
const AGENT = `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    permissions:
      issues: write
    steps:
      - uses: anthropics/claude-code-action@v1
        with:
          prompt: "Label issue \${{ github.event.issue.number }}: \${{ github.event.issue.title }}"
          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}
`;
const CALLS_SHARED = `on:
  issue_comment:
    types: [created]
jobs:
  triage:
    uses: bench/shared-workflows/.github/workflows/triage.yml@main
    with:
      text: \${{ github.event.comment.body }}
    secrets: inherit
`;
const WRAPPED = `on:
  pull_request_target:
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: vendor/ai-review@v2
        with:
          title: \${{ github.event.pull_request.title }}
          key: \${{ secrets.OPENAI_API_KEY }}
      - uses: vendor/notify@v1
        with:
          message: done
`;
const SHARED_TRIAGE = `on:
  workflow_call:
    inputs:
      text:
        type: string
jobs:
  agent:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: |
          codex exec --full-auto "Triage - \${{ inputs.text }}"
        env:
          OPENAI_API_KEY: \${{ secrets.OPENAI_API_KEY }}
`;
const AI_REVIEW = `name: ai review
inputs:
  title: {}
  key: {}
runs:
  using: composite
  steps:
    - uses: vendor/setup-ai@v1
    - shell: bash
      env:
        OPENAI_API_KEY: \${{ inputs.key }}
        TITLE: \${{ inputs.title }}
      run: codex exec --full-auto "Review $TITLE"
`;
const SETUP_AI = `name: setup
runs:
  using: composite
  steps:
    - shell: bash
      run: npm i -g @openai/codex
`;
const NODE_ACTION = `name: notify
inputs:
  message: {}
runs:
  using: node20
  main: index.js
`;

function serve(server) {
  server.addOrg('bench');
  server.addRepo('bench/shared-workflows', { '.github/workflows/triage.yml': SHARED_TRIAGE, '.github/workflows/ci.yml': CI });
  server.addRepo('vendor/ai-review', { 'action.yml': AI_REVIEW }, { tags: ['v2'] });
  server.addRepo('vendor/setup-ai', { 'action.yaml': SETUP_AI }, { tags: ['v1'] });
  server.addRepo('vendor/notify', { 'action.yml': NODE_ACTION }, { tags: ['v1'] });
  for (let i = 1; i < repoCount; i++) {
    const files = { '.github/workflows/ci.yml': CI, 'README.md': `# repo ${i}\n`, 'src/index.js': '' };
    if (i % 3 === 0) files['.github/workflows/triage.yml'] = AGENT;
    if (i % 4 === 0) files['.github/workflows/comments.yml'] = CALLS_SHARED;
    if (i % 5 === 0) files['.github/workflows/review.yml'] = WRAPPED;
    if (i % 7 === 0) files['.github/workflows/release.yml'] = CI.replace('npm test', 'npm publish');
    const options = { archived: i % 50 === 0, fork: i % 45 === 0, truncatedTree: i % 100 === 1, empty: i % 125 === 0 };
    server.addRepo(`bench/repo-${String(i).padStart(3, '0')}`, i % 125 === 0 ? {} : files, options);
  }
}

function runScan(server, cacheDir, extra = []) {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '', HOME: work, CI: 'true', GITHUB_TOKEN: 'bench', GITHUB_API_URL: server.url, AGENT_GUARD_CACHE_DIR: cacheDir };
    const out = path.join(work, 'report.json');
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [path.join(work, 'cli.js'), 'scan', '--org', 'bench', '--format', 'json', '--output', out, ...extra], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`scan exited ${code}: ${stderr.split('\n').slice(-3).join('\n')}`));
      const report = JSON.parse(fs.readFileSync(out, 'utf8'));
      resolve({ seconds, report });
    });
  });
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`fake organisation: ${repoCount} repositories (plus 3 vendor repositories), node ${process.version}, ${os.cpus().length} cores, client concurrency 8, 8 repositories at a time`);
console.log('\n| latency per request | run | wall time | requests | charged (not 304) | 304s | repositories scanned | findings |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
for (const latency of latencies) {
  const server = await new FakeGithub({ latencyMs: latency }).start();
  serve(server);
  const cacheDir = path.join(work, `cache-${latency}`);
  for (const label of ['cold (empty cache)', 'second (cache)']) {
    server.resetCounters();
    const { seconds, report } = await runScan(server, cacheDir);
    const findings = report.repositories.reduce((n, r) => n + r.findings.length, 0);
    console.log(`| ${latency} ms | ${label} | ${fmt(seconds, 2)} s | ${server.count()} | ${server.charged} | ${server.count(undefined, (r) => r.status === 304)} | ${report.totals.scanned} | ${findings} |`);
  }
  await server.stop();
}
fs.rmSync(work, { recursive: true, force: true });
