import { reachOf, TRIGGERING_ACTOR } from '../analysis/reach';
import { holdingOf } from '../analysis/severity';
import { docsUrl, type Check } from './context';
import { capabilityList, fixFor, jobAndStep, reachText, stepLocation, surer } from './common';
import type { Finding, Severity } from './types';

export const agentGateDisabled: Check = {
  meta: {
    id: 'agent-gate-disabled',
    title: "An agent action's built-in write-access check is switched off",
    severity: 'high',
    docs: docsUrl('agent-gate-disabled'),
    help:
      'claude-code-action, droid-action, codex-action and opencode refuse to run for users without write access unless an input opens them (`allowed_non_write_users: "*"`, `allowed_bots: "*"`, `allow-users: "*"`). ' +
      'On a trigger outsiders can fire, that input hands the agent, and everything it holds, to anyone who can open an issue. Remove the input, or keep it only on a job that holds nothing.',
  },
  run(ctx) {
    const findings: Finding[] = [];
    for (const site of ctx.sites) {
      const widened = site.gateWidenedBy;
      if (!widened) continue;
      const reach = reachOf(TRIGGERING_ACTOR, site.step);
      if (reach.level !== 'outsider') continue;
      const holding = holdingOf(site.capabilities);
      let severity: Severity = holding === 'nothing' ? 'medium' : 'high';
      if (widened.effect === 'bots' || !/^\*$/.test(widened.value.trim())) severity = holding === 'nothing' ? 'low' : 'medium';
      if (widened.inertWithout) severity = 'low';
      const at = widened.node?.start ?? site.offset;
      const setting = `\`${widened.input}: ${widened.value.trim()}\``;
      const on = reach.trigger ? ` on '${reach.trigger.event}'` : '';
      let message: string;
      if (widened.inertWithout) message = `${setting} would switch off ${site.agentName}'s write-access check, and does as soon as \`${widened.inertWithout}\` is set: ${reachText(reach)}.`;
      else if (widened.value.trim() === '*' && widened.effect === 'anyone') message = `${setting} switches off ${site.agentName}'s write-access check: ${reachText(reach)}.`;
      else if (widened.value.trim() === '*') message = `${setting} lets every bot and GitHub App past ${site.agentName}'s write-access check${on}: apps act on requests anyone can make.`;
      else if (widened.effect === 'bots') message = `${setting} lets ${widened.value.trim()} past ${site.agentName}'s write-access check${on}: the agent reads what those bots carry (dependency release notes, requests they relay).`;
      else message = `${setting} lets ${widened.value.trim()} past ${site.agentName}'s write-access check${on}, whatever text they bring.`;
      findings.push({
        rule: 'agent-gate-disabled',
        severity,
        confidence: surer('high', reach),
        ...stepLocation(site.step, at),
        ...jobAndStep(site.step),
        message,
        path: [],
        capabilities: capabilityList(site.capabilities),
        fix: fixFor(site, null),
      });
    }
    return findings;
  },
};

