// A fixture organisation for the scan tests: one repository per situation a scan meets.
import { SHARED_TRIAGE } from './helpers';
import type { FakeGithub } from './fakeGithub';

export const ISSUE_AGENT = `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: |
          claude -p "Label this issue - \${{ github.event.issue.title }}" --dangerously-skip-permissions
        env:
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`;

export const CALLS_SHARED = `on:
  issue_comment:
    types: [created]
jobs:
  triage:
    uses: acme/shared/.github/workflows/triage.yml@main
    with:
      title: \${{ github.event.comment.body }}
    secrets: inherit
`;

export const TEMPLATE_INJECTION = `on:
  pull_request_target:
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ github.event.pull_request.title }}"
        env:
          NPM_TOKEN: \${{ secrets.NPM_TOKEN }}
`;

export const CLEAN = `on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm test
`;

export const LOCAL_ACTION_CALLER = `on:
  issue_comment:
    types: [created]
jobs:
  ask:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/ask
        with:
          question: \${{ github.event.comment.body }}
          api-key: \${{ secrets.ANTHROPIC_API_KEY }}
`;

export const LOCAL_ACTION = `name: ask
inputs:
  question: {}
  api-key: {}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        ANTHROPIC_API_KEY: \${{ inputs.api-key }}
        QUESTION: \${{ inputs.question }}
      run: claude -p "$QUESTION" --permission-mode bypassPermissions
`;

/** Repositories of `acme`, by name, with what a scan should make of them. */
export const EXPECTED: Record<string, string> = {
  api: 'scanned', // critical prompt-injection
  web: 'scanned', // calls acme/shared's reusable workflow: critical there
  web2: 'scanned', // calls it too
  shared: 'scanned',
  big: 'scanned', // truncated tree
  broken: 'scanned', // a file that does not parse
  asker: 'scanned', // a local composite action
  clean: 'scanned',
  docs: 'no-workflows',
  empty: 'empty',
  locked: 'failed', // 403
};

export function serveOrg(server: FakeGithub): void {
  server.addOrg('acme');
  server.addRepo('acme/api', { '.github/workflows/triage.yml': ISSUE_AGENT, 'src/index.js': '' });
  server.addRepo('acme/web', { '.github/workflows/comments.yml': CALLS_SHARED, '.github/workflows/ci.yml': CLEAN });
  server.addRepo('acme/web2', { '.github/workflows/comments.yml': CALLS_SHARED });
  server.addRepo('acme/shared', { '.github/workflows/triage.yml': SHARED_TRIAGE });
  const big: Record<string, string> = { '.github/workflows/greet.yml': TEMPLATE_INJECTION, '.github/workflows/ci.yaml': CLEAN };
  for (let i = 0; i < 20; i++) big[`src/file${i}.js`] = `// ${i}\n`;
  server.addRepo('acme/big', big, { truncatedTree: true });
  server.addRepo('acme/broken', { '.github/workflows/bad.yml': 'on: [push\njobs:\n  x: {\n', '.github/workflows/ok.yml': CLEAN });
  server.addRepo('acme/asker', { '.github/workflows/ask.yml': LOCAL_ACTION_CALLER, '.github/actions/ask/action.yml': LOCAL_ACTION });
  server.addRepo('acme/clean', { '.github/workflows/ci.yml': CLEAN, 'notes.md': 'not a workflow' , '.github/workflows/sub/nested.yml': ISSUE_AGENT});
  server.addRepo('acme/docs', { 'README.md': '# docs\n' });
  server.addRepo('acme/empty', {}, { empty: true });
  server.addRepo('acme/locked', { '.github/workflows/x.yml': ISSUE_AGENT }, { forbidden: true });
  server.addRepo('acme/old', { '.github/workflows/x.yml': ISSUE_AGENT }, { archived: true });
  server.addRepo('acme/fork-of-thing', { '.github/workflows/x.yml': ISSUE_AGENT }, { fork: true });
}
