// Severity = reach × what the agent holds. Documented in docs/severity.md; keep the two in step.
//
//                      text only   acts (tools or token)   shell/network + publish power
//   outsider            medium       high                    critical
//   fork PR (no secrets)medium       medium                  medium
//   maintainer-gated    low          medium                  medium

import type { Severity } from '../checks/types';
import type { Capabilities } from './capabilities';
import type { ReachLevel } from './reach';

const POWERFUL_SCOPES = new Set(['*', 'contents', 'actions', 'packages', 'workflows', 'deployments', 'pages']);

export type Holding = 'nothing' | 'acts' | 'worm';

/** How much harm a hijacked agent can do with what it holds. */
export function holdingOf(c: Capabilities): Holding {
  if (c.jailed) return 'nothing';
  const exfil = c.tools.shell === 'full' || c.tools.network;
  const nonModelSecrets = c.secrets.some((s) => !s.modelKey);
  // A token is only in the model's hand when it has tools to use it with (a text-only model does not).
  const hasTools = c.tools.shell !== 'none' || c.tools.network || c.tools.writesFiles;
  const tokenInHand = c.tokens.length > 0 && hasTools;
  const powerfulToken = c.writeScopes.some((s) => POWERFUL_SCOPES.has(s)) && (tokenInHand || c.persistedCredentials);
  const publishPower = nonModelSecrets || c.tokens.some((t) => t.foreign) || powerfulToken || c.idToken || c.selfHosted || c.cloudCredentials.length > 0;
  // Code on a privileged runner is a worm by itself: it reads every job secret from the runner's
  // memory and writes the repository's Actions cache, which release workflows restore (Clinejection).
  if (c.tools.shell === 'full' && !c.selfHosted) return 'worm';
  // An allowlisted command still expands `$VAR` and `$(...)` in its arguments: `gh issue edit N --body
  // "$GITHUB_TOKEN"` publishes a secret (PromptPwnd). With publish power in reach, that is enough.
  if ((exfil || c.tools.shell === 'restricted') && publishPower) return 'worm';
  const anyWrite = c.writeScopes.length > 0;
  const modelKey = c.keyInProcess && c.secrets.some((s) => s.modelKey);
  if (exfil) return 'acts';
  if (tokenInHand && anyWrite) return 'acts';
  // The commenter picks a command that writes with the job's token, or the agent runs elsewhere and
  // pushes to the repository itself: it acts whatever the model's own tools.
  if (c.commands?.length || c.remoteAgent) return 'acts';
  if (c.tools.shell === 'restricted' && (anyWrite || nonModelSecrets || modelKey)) return 'acts';
  if (c.idToken && c.tools.shell !== 'none') return 'acts';
  return 'nothing';
}

export function severityFor(reach: ReachLevel, c: Capabilities): Severity | null {
  if (reach === 'none') return null;
  if (reach === 'action-gated') return 'low';
  const holding = holdingOf(c);
  if (reach === 'outsider') return holding === 'worm' ? 'critical' : holding === 'acts' ? 'high' : 'medium';
  if (reach === 'outsider-unprivileged') return 'medium';
  return holding === 'nothing' ? 'low' : 'medium';
}
