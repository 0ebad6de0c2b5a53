// lint on agents run under the guard with grants: they are reported with what the grants allow, never
// as holding the token the guard performs them with.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lint } from '../../src/lint';

function lintWorkflow(yaml: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-grants-lint-'));
  fs.mkdirSync(path.join(dir, '.github', 'workflows'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.github', 'workflows', 'triage.yml'), yaml);
  try {
    return lint({ paths: [dir], cwd: dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const HEADER = `on:
  issues:
    types: [opened]
permissions:
  issues: write
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
`;

describe('grants in lint findings', () => {
  it('agent-guard run --grant on the command line', () => {
    const result = lintWorkflow(`${HEADER}      - run: npx agent-guard run --provider anthropic --grant comment --grant 'label=bug,question' -- claude -p "Triage $TITLE"
        env:
          TITLE: \${{ github.event.issue.title }}
          GITHUB_TOKEN: \${{ github.token }}
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`);
    expect(result.findings.length).toBeGreaterThan(0);
    for (const f of result.findings) {
      // The job's token and the model key are the guard's: the agent holds neither.
      expect(f.capabilities.filter((c) => /^(jailed|grant|github-token|secret):/.test(c))).toEqual([
        'jailed:agent-guard-run',
        'grant:comment (through the guard, no token in the agent)',
        'grant:label=bug,question (through the guard, no token in the agent)',
      ]);
    }
  });

  it("the Action's grants input in mode run", () => {
    const result = lintWorkflow(`${HEADER}      - uses: agent-guard/agent-guard@v1
        with:
          mode: run
          providers: anthropic
          grants: |
            comment
            label=bug
          run: claude -p "Triage $TITLE"
        env:
          TITLE: \${{ github.event.issue.title }}
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`);
    expect(result.findings.length).toBeGreaterThan(0);
    for (const f of result.findings) expect(f.capabilities).toContain('grant:label=bug (through the guard, no token in the agent)');
    for (const f of result.findings) expect(f.capabilities.some((c) => c.startsWith('github-token:'))).toBe(false);
  });

  it('claude-code-action under wrap takes the grants of the wrap step', () => {
    const result = lintWorkflow(`${HEADER}      - id: guard
        uses: agent-guard/agent-guard@v1
        with:
          mode: wrap
          grants: update-comment
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}
          github_token: \${{ github.token }}
          allowed_non_write_users: "*"
          path_to_claude_code_executable: \${{ steps.guard.outputs.claude-wrapper }}
          prompt: Answer \${{ github.event.issue.body }}
`);
    const agentFindings = result.findings.filter((f) => f.capabilities.includes('jailed:agent-guard-run'));
    expect(agentFindings.length).toBeGreaterThan(0);
    for (const f of agentFindings) expect(f.capabilities).toContain('grant:update-comment (through the guard, no token in the agent)');
  });
});
