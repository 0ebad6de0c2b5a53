import { docsUrl } from './context';
import { siteRule } from './siteRule';

export const agentReadsUntrusted = siteRule(
  {
    id: 'agent-reads-untrusted',
    title: 'An AI agent fetches outsider-written issues, comments or pull requests itself',
    severity: 'critical',
    docs: docsUrl('agent-reads-untrusted'),
    help:
      'The agent fetches the issue or pull-request thread (or is told to, e.g. `gh issue view`, GitHub MCP tools), so text written by anyone reaches it even though the workflow interpolates nothing. ' +
      'A scheduled agent that reads open issues is reachable by every outsider, one hour later. Treat the agent as holding untrusted input: no secrets, no write token, no shell, and run it under `agent-guard run`.',
  },
  ['thread', 'fetch'],
  (site, hit) => `${site.agentName} reads ${hit.taint.origin.what}`,
  'the agent reads it at run time',
);
