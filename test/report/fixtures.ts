// A realistic lint result for the reporter tests: two workflows, an action, a parse error, and
// workflow text written by an attacker (escape sequences, newlines, `%`, `::`, `|`, `<script>`).

import type { Finding, LintResult, RuleMeta } from '../../src/checks/types';

export const TRIAGE = '.github/workflows/triage.yml';
export const REVIEW = '.github/workflows/review.yml';
export const ACTION = '.github/actions/agent/action.yml';
export const BROKEN = '.github/workflows/broken.yml';

export const triageSource = [
  'name: triage',
  'on:',
  '  issues:',
  '    types: [opened]',
  'permissions:',
  '  contents: write',
  'jobs:',
  '  triage:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - id: claude',
  '        uses: anthropics/claude-code-action@v1',
  '        with:',
  '          prompt: "Triage this issue: ${{ github.event.issue.title }}"',
  '          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}',
  '',
].join('\n');

// Line 9 holds a tab inside a run script; line 10 is very long.
export const reviewSource = [
  'on: pull_request_target',
  'jobs:',
  '  review:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '        with: { ref: "${{ github.event.pull_request.head.sha }}" }',
  '      - run: |',
  '\t\techo "${{ github.event.pull_request.body }}" | agent',
  `      - run: agent --prompt "${'x'.repeat(150)} \${{ github.event.comment.body }} ${'y'.repeat(150)}"`,
  '',
].join('\r\n');

export const rules: RuleMeta[] = [
  {
    id: 'untrusted-input-to-agent',
    title: 'Outsider-controlled text reaches an AI agent prompt',
    severity: 'critical',
    help:
      '## Why\n\nAnyone who can open an issue controls `github.event.issue.title`. When it reaches the **prompt** of an agent ' +
      'that holds secrets, they can steer the agent.\n\n## Fix\n\nPass the text through an `env:` variable and give the agent no secrets.',
    docs: 'https://example.test/docs/rules/untrusted-input-to-agent.md',
  },
  {
    id: 'pwn-request-checkout',
    title: 'pull_request_target checks out the pull request head',
    severity: 'high',
    help: 'Checking out `head.sha` under `pull_request_target` runs outsider code with the base repository token.',
    docs: 'https://example.test/docs/rules/pwn-request-checkout.md',
  },
  {
    id: 'agent-shell-access',
    title: 'Agent step can run shell commands',
    severity: 'medium',
    help: 'The agent may run arbitrary commands.',
    docs: 'https://example.test/docs/rules/agent-shell-access.md',
  },
  {
    id: 'unpinned-agent-action',
    title: 'Agent action is not pinned to a commit',
    severity: 'low',
    help: 'Pin the action to a full commit SHA.',
    docs: 'https://example.test/docs/rules/unpinned-agent-action.md',
  },
];

export function triageFinding(over: Partial<Finding> = {}): Finding {
  return {
    rule: 'untrusted-input-to-agent',
    severity: 'critical',
    confidence: 'high',
    file: TRIAGE,
    line: 14,
    column: 39,
    endLine: 14,
    endColumn: 70,
    job: 'triage',
    step: 'claude',
    message: 'The issue title reaches the prompt of anthropics/claude-code-action',
    path: [
      { file: TRIAGE, line: 3, column: 3, note: 'issues: anyone with a GitHub account can open an issue' },
      { file: TRIAGE, line: 14, column: 39, note: 'github.event.issue.title is interpolated into `prompt`' },
    ],
    capabilities: ['secret:ANTHROPIC_API_KEY', 'permission:contents:write'],
    fix: 'Move the title into an env var (env: TITLE: ${{ github.event.issue.title }}) and tell the agent to treat it as data. Drop contents: write from the workflow permissions, or split the agent into a job that holds no secrets.',
    ...over,
  };
}

export function makeResult(): LintResult {
  const findings: Finding[] = [
    // Deliberately out of order: reporters must sort.
    {
      rule: 'agent-shell-access',
      severity: 'medium',
      confidence: 'medium',
      file: REVIEW,
      line: 10,
      column: 181,
      job: 'review',
      step: '#3',
      message: 'The comment body reaches an agent that can run shell commands',
      path: [{ file: REVIEW, line: 1, column: 5, note: 'pull_request_target: any fork can trigger it' }],
      capabilities: ['shell'],
      fix: 'Remove the shell tool from the agent.',
    },
    {
      rule: 'pwn-request-checkout',
      severity: 'high',
      confidence: 'high',
      file: REVIEW,
      line: 9,
      column: 9,
      job: 'review',
      step: '#2',
      message: 'The pull request body (attacker text: \x1b[2J\x1b]0;pwned\x07 100% :: a|b <script>alert(1)</script>\nsecond line) reaches a shell',
      path: [
        { file: REVIEW, line: 1, column: 5, note: 'pull_request_target runs with secrets' },
        { file: REVIEW, line: 9, column: 9, note: 'body is expanded into the script' },
      ],
      capabilities: ['permission:contents:write', 'secret:GITHUB_TOKEN'],
      fix: 'Use pull_request instead, or pass the body through env.',
    },
    triageFinding(),
    {
      rule: 'unpinned-agent-action',
      severity: 'low',
      confidence: 'low',
      file: ACTION,
      line: 5,
      column: 13,
      message: 'anthropics/claude-code-action@v1 is not pinned',
      path: [],
      capabilities: [],
      fix: 'Pin it: anthropics/claude-code-action@<40-hex sha> # v1',
    },
  ];
  return {
    findings,
    errors: [{ file: BROKEN, line: 3, column: 1, message: 'Implicit map keys need to be followed by map values' }],
    stats: { files: 4, workflows: 3, actions: 1, jobs: 3, steps: 6, agentSteps: 3, durationMs: 42 },
    rules,
    sources: new Map([
      [TRIAGE, triageSource],
      [REVIEW, reviewSource],
    ]),
  };
}

export function emptyResult(): LintResult {
  return {
    findings: [],
    errors: [],
    stats: { files: 12, workflows: 12, actions: 0, jobs: 20, steps: 60, agentSteps: 0, durationMs: 7 },
    rules,
    sources: new Map(),
  };
}
