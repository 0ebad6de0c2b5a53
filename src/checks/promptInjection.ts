import { docsUrl } from './context';
import { siteRule } from './siteRule';

export const promptInjection = siteRule(
  {
    id: 'prompt-injection',
    title: 'Outsider-controlled text reaches an AI agent',
    severity: 'critical',
    docs: docsUrl('prompt-injection'),
    help:
      'Text that anyone on the internet can write (an issue title, a comment, a branch name) reaches the prompt, configuration or environment of an AI agent. ' +
      'The agent cannot tell instructions from data, so the author of that text steers it and can use whatever the agent holds: secrets, the GitHub token, a shell, the network. ' +
      'Gate the job on the author, take every secret and write permission away from the agent job, and run the agent under `agent-guard run`.',
  },
  ['context'],
  (site, hit) => `${hit.taint.origin.what} reaches ${site.agentName} through ${hit.channel.name}`,
  'the agent reads it',
);
