// Messages that say what is true: what a maintainer does to start the agent, what the workflow does
// not show, whom an allow-list lets in, what a custom runner label may be.
import { lint } from '../../src/lint';
import type { Finding } from '../../src/checks/types';

function lintText(text: string): Finding[] {
  const { findings, errors } = lint({ paths: [], files: [{ path: '.github/workflows/w.yml', text }] });
  expect(errors).toEqual([]);
  return findings;
}

const AGENT = `      - uses: anthropics/claude-code-base-action@beta
        with:
          prompt: "Summarize: \${{ github.event.issue.title }}"
          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}
          claude_args: --allowedTools "Bash(gh issue edit:*)"
        env:
          GH_TOKEN: \${{ github.token }}
`;

describe('wording', () => {
  it('a label-started run names the label, the object and why one click matters', () => {
    const [f] = lintText(`on:\n  issues:\n    types: [labeled]\npermissions:\n  issues: write\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n${AGENT}`).filter((x) => x.rule === 'prompt-injection');
    expect(f.message).toMatch(/only a maintainer's 'labeled' starts it, but over the issue an outsider wrote: one label on a poisoned issue or pull request is enough\.$/);
  });

  it('a review comment is a comment on a thread, not a click on an issue', () => {
    const text = `on:\n  pull_request_review_comment:\n    types: [created]\njobs:\n  a:\n    if: contains(fromJSON('["OWNER","MEMBER"]'), github.event.comment.author_association)\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          claude -p "Reply to \${{ github.event.pull_request.title }}" --dangerously-skip-permissions\n        env:\n          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}\n`;
    const f = lintText(text).find((x) => x.rule === 'prompt-injection')!;
    expect(f.message).toMatch(/only a maintainer's comment starts it, but over the pull request an outsider wrote: one comment on a poisoned thread is enough/);
    expect(f.message).not.toMatch(/poisoned issue/);
  });

  it('a dispatched or scheduled run says so, with no click to speak of', () => {
    const text = `on:\n  workflow_dispatch:\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          gh issue list --label triage --json title,body > issues.json\n          claude -p "Triage issues.json" --dangerously-skip-permissions\n        env:\n          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}\n          GH_TOKEN: \${{ github.token }}\n`;
    const f = lintText(text).find((x) => x.rule === 'agent-reads-untrusted')!;
    expect(f.message).toMatch(/only a maintainer dispatching it starts it, but over text a maintainer picked \(a label filter\) from what outsiders wrote\.$/);
  });

  it('a deployment environment is named, and the finding is less sure', () => {
    const text = `on:\n  issues:\n    types: [opened]\npermissions:\n  issues: write\njobs:\n  a:\n    runs-on: ubuntu-latest\n    environment: triage\n    steps:\n${AGENT}`;
    const f = lintText(text).find((x) => x.rule === 'prompt-injection')!;
    expect(f.message).toContain("not known here: whether environment 'triage' requires a reviewer's approval (a repository setting)");
    expect(f.confidence).toBe('medium');
  });

  it('allowed_bots names the bots it lets in, not "any GitHub user"', () => {
    const text = `on:\n  pull_request_target:\n    types: [opened]\npermissions:\n  contents: write\n  pull-requests: write\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: anthropics/claude-code-action@v1\n        with:\n          anthropic_api_key: \${{ secrets.ANTHROPIC_API_KEY }}\n          allowed_bots: "dependabot[bot]"\n          prompt: Review the dependency update.\n          claude_args: --allowedTools "Edit"\n`;
    const f = lintText(text).find((x) => x.rule === 'agent-gate-disabled')!;
    expect(f.message).toMatch(/^`allowed_bots: dependabot\[bot\]` lets dependabot\[bot\] past Claude Code Action's write-access check on 'pull_request_target'/);
    expect(f.message).not.toMatch(/any GitHub user/);
  });

  it('a custom runner label may be a larger GitHub-hosted runner', () => {
    const text = `on:\n  issues:\n    types: [opened]\njobs:\n  a:\n    runs-on: linux-8-core\n    steps:\n${AGENT}`;
    const f = lintText(text).find((x) => x.rule === 'prompt-injection')!;
    expect(f.capabilities).toContain("runner:custom label 'linux-8-core' (self-hosted, or a larger GitHub-hosted runner)");
    expect(f.capabilities).not.toContain('runner:self-hosted');
  });
});
