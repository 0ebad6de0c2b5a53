import { docsUrl } from './context';
import type { AgentSite } from '../analysis/sites';
import { siteRule } from './siteRule';

/** A bot whose command the commenter picks: name the commands that write, since they are the authority. */
function commandsNote(site: AgentSite): string {
  const commands = site.capabilities.commands ?? [];
  if (!commands.length) return '';
  const names = commands.map((c) => c.name);
  return `, and the commenter picks its command (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}), which writes with the job's token`;
}

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
  (site, hit) => `${site.agentName} reads ${hit.taint.origin.what}${commandsNote(site)}`,
  'the agent reads it at run time',
);
