// Fixtures for the online tests: remote repositories served by the fake GitHub, a local repository on
// disk that uses them, and a client pointed at the fake server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiskCache } from '../../src/online/cache';
import { GitHubClient, type ClientOptions } from '../../src/online/github';
import type { FakeGithub } from './fakeGithub';

export function tempDir(prefix = 'agent-guard-online-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
  }
  return root;
}

export function client(server: FakeGithub, cacheDir: string | null, options: Partial<ClientOptions> = {}): GitHubClient {
  return new GitHubClient({ baseUrl: server.url, token: 'test-token', cache: new DiskCache(cacheDir), onRateLimit: 'stop', ...options });
}

/** A reusable workflow that hands its `title` input to Claude Code with a shell. */
export const SHARED_TRIAGE = `on:
  workflow_call:
    inputs:
      title:
        type: string
jobs:
  agent:
    runs-on: ubuntu-latest
    permissions:
      issues: write
    steps:
      - run: |
          claude -p "Triage this issue - \${{ inputs.title }}" --dangerously-skip-permissions
        env:
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`;

/** A reusable workflow that calls its sibling through a relative `./` path. */
export const SHARED_NESTED = `on:
  workflow_call:
    inputs:
      title:
        type: string
jobs:
  hop:
    uses: ./.github/workflows/triage.yml
    with:
      title: \${{ inputs.title }}
    secrets: inherit
`;

/** A composite action that runs Claude Code on its `prompt` input, and uses another remote action. */
export const WRAPPER_ACTION = `name: wrapper
inputs:
  prompt:
    required: true
  key:
    required: true
runs:
  using: composite
  steps:
    - uses: someone/inner@v2
    - shell: bash
      env:
        ANTHROPIC_API_KEY: \${{ inputs.key }}
        PROMPT: \${{ inputs.prompt }}
      run: claude -p "$PROMPT" --permission-mode bypassPermissions
`;

export const INNER_ACTION = `name: inner
runs:
  using: composite
  steps:
    - shell: bash
      run: echo inner
`;

export const NODE_ACTION = `name: node thing
inputs:
  text: {}
runs:
  using: node20
  main: index.js
`;

/** A local workflow that reaches all of the above from an issue. */
export const CALLER = `on:
  issues:
    types: [opened]
jobs:
  triage:
    uses: org/shared/.github/workflows/triage.yml@main
    with:
      title: \${{ github.event.issue.title }}
    secrets: inherit
  nested:
    uses: org/shared/.github/workflows/nested.yml@v1
    with:
      title: \${{ github.event.issue.title }}
    secrets: inherit
  wrap:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: someone/wrapper@v1
        with:
          prompt: \${{ github.event.issue.body }}
          key: \${{ secrets.ANTHROPIC_API_KEY }}
      - uses: someone/node-thing@v3
        with:
          text: \${{ github.event.issue.title }}
      - uses: anthropics/claude-code-action@v1
        with:
          prompt: hello
          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}
      - uses: docker://alpine:3
        with:
          args: \${{ github.event.issue.title }}
      - uses: org/private-thing@v1
        with:
          text: \${{ github.event.issue.title }}
`;

/** Serves the remote side of CALLER. Returns the commit of org/shared's main. */
export function serveRemotes(server: FakeGithub): { sharedMain: string } {
  const sharedMain = server.addRepo(
    'org/shared',
    { '.github/workflows/triage.yml': SHARED_TRIAGE, '.github/workflows/nested.yml': SHARED_NESTED, 'README.md': 'shared workflows\n' },
    { tags: ['v1'] },
  );
  server.addRepo('someone/wrapper', { 'action.yml': WRAPPER_ACTION }, { tags: ['v1'] });
  server.addRepo('someone/inner', { 'action.yaml': INNER_ACTION }, { tags: ['v2'] });
  server.addRepo('someone/node-thing', { 'action.yml': NODE_ACTION, 'index.js': 'console.log(1)\n' }, { tags: ['v3'] });
  server.addRepo('org/private-thing', { 'action.yml': NODE_ACTION }, { hidden: true, tags: ['v1'] });
  return { sharedMain };
}
