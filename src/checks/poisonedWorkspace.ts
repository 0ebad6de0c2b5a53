import { shellCapabilities } from '../analysis/capabilities';
import type { StepInstance } from '../analysis/instances';
import { reachOf, REACH_ORDER, type Reach } from '../analysis/reach';
import type { AgentSite } from '../analysis/sites';
import { docsUrl, type Check } from './context';
import { capabilityList, jobAndStep, reachText, siteLocation, stepLocation } from './common';
import type { Finding, Severity } from './types';

/** Steps that execute workspace content or publish it with credentials. */
const EXECUTES_OR_PUBLISHES =
  /(^|[\s;&|(])(npm|npx|yarn|pnpm|bun|node|make|pip3?|python3?|poetry|tox|pytest|go|cargo|mvn|gradle|\.\/gradlew|rake|bundle|dotnet|docker\s+(build|push)|twine|gem\s+push|git\s+(commit|push)|gh\s+(release|pr\s+create)|\.\/[\w./-]+)(\s|$)/m;

export const poisonedWorkspace: Check = {
  meta: {
    id: 'poisoned-workspace',
    title: 'Steps after an outsider-reachable agent run or publish what the agent could write',
    severity: 'critical',
    docs: docsUrl('poisoned-workspace'),
    help:
      'An agent that read outsider text can write files in the workspace (package.json scripts, Makefiles, .git/hooks, lockfiles, source). Later steps of the same job that build, test, commit, push or publish run those files with the job\'s secrets — even when the agent itself was jailed. ' +
      'Run the agent in its own job and hand its result to the next job as a validated artifact (a patch reviewed by a human, JSON checked against a schema), or run it with `agent-guard run --workspace ro`.',
  },
  run(ctx) {
    const findings: Finding[] = [];
    for (const site of ctx.sites) {
      if (!site.capabilities.tools.writesFiles && site.capabilities.tools.shell === 'none') continue;
      if (site.cli && /--workspace[=\s]+ro\b/.test(site.promptText) && site.capabilities.jailed) continue;
      const reach = bestReach(site);
      if (!reach) continue;
      const later = site.step.job.steps.filter((s) => s.position > site.step.position && executesOrPublishes(s));
      for (const step of later) {
        const caps = shellCapabilities(step);
        const severity: Severity = reach.level === 'outsider' ? (caps.secrets.some((s) => !s.modelKey) || caps.writeScopes.length ? 'critical' : 'high') : 'medium';
        const at = step.step.run?.start ?? step.step.uses?.start ?? step.step.node.start;
        findings.push({
          rule: 'poisoned-workspace',
          severity,
          confidence: 'medium',
          ...stepLocation(step, at),
          ...jobAndStep(step),
          message: `step '${step.step.label}' runs or publishes the workspace after ${site.agentName} (step '${site.step.step.label}') could write to it: ${reachText(reach)}.`,
          path: [{ ...siteLocation(site), note: `${site.agentName} reads outsider text and can write files` }, { ...stepLocation(step, at), note: 'a later step executes or publishes the workspace' }],
          capabilities: capabilityList(caps),
          holder: 'step',
          fix: "Move the agent to its own job (no secrets) and pass its result as an artifact the next job validates; or run it with `agent-guard run --workspace ro`. Never build, commit or publish in the agent's job after it ran.",
        });
      }
    }
    return findings;
  },
};

function bestReach(site: AgentSite): Reach | null {
  let best: Reach | null = null;
  for (const channel of site.channels) {
    for (const taint of channel.taints) {
      const reach = reachOf(taint.origin, site.step, site.actorGate);
      if (reach.level === 'none' || reach.level === 'action-gated' || reach.level === 'outsider-unprivileged') continue;
      if (!best || REACH_ORDER[reach.level] > REACH_ORDER[best.level]) best = reach;
    }
  }
  return best;
}

function executesOrPublishes(step: StepInstance): boolean {
  const uses = step.step.uses?.text ?? '';
  if (uses.startsWith('./')) return true;
  if (/^(softprops\/action-gh-release|peter-evans\/create-pull-request|stefanzweifel\/git-auto-commit-action|pypa\/gh-action-pypi-publish|JS-DevTools\/npm-publish)@/i.test(uses)) return true;
  const run = step.step.run?.text;
  return !!run && EXECUTES_OR_PUBLISHES.test(run);
}
