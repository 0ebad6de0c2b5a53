import { docsUrl } from './context';
import { siteRule } from './siteRule';

export const untrustedInstructions = siteRule(
  {
    id: 'untrusted-instructions',
    title: "An AI agent runs on a checkout of an outsider's pull request",
    severity: 'critical',
    docs: docsUrl('untrusted-instructions'),
    help:
      "Under a privileged trigger (pull_request_target, workflow_run, comments) the job checks out the pull request's code before the agent runs. " +
      'The agent loads instruction and configuration files from the workspace (CLAUDE.md, AGENTS.md, .claude/settings.json hooks, .mcp.json servers, .gemini/, opencode.json, .cursorrules), so the pull request author writes its instructions and can make it run code. ' +
      'Check out the base branch at the root and the PR head in a subdirectory the agent only reads, or run on `pull_request` without secrets.',
  },
  ['fork-checkout'],
  (site, hit) => `${site.agentName} runs on ${hit.taint.origin.what}${site.cli?.instructionFiles.length ? ` (it loads ${site.cli.instructionFiles.slice(0, 4).join(', ')})` : ''}`,
  'the agent loads its instructions from the workspace',
);
