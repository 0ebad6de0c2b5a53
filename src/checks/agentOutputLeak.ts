import { reachOf, TRIGGERING_ACTOR } from '../analysis/reach';
import type { AgentSite } from '../analysis/sites';
import { inputOf } from '../workflow/model';
import { docsUrl, type Check } from './context';
import { capabilityList, jobAndStep, reachText, stepLocation } from './common';
import type { Finding } from './types';

/** Paths where agents keep their session transcripts. */
const TRANSCRIPTS = /\.claude\/projects|\.claude\b|\.gemini\/tmp|\.codex\/sessions|\.codex\b|transcript|session[-_ ]?log|\.opencode|\.goose/i;

export const agentOutputLeak: Check = {
  meta: {
    id: 'agent-output-leak',
    title: "An outsider-reachable agent's full output or transcripts are published",
    severity: 'medium',
    docs: docsUrl('agent-output-leak'),
    help:
      "Workflow logs, step summaries and artifacts of a public repository are public. Inputs like claude-code-action's `show_full_output`, run-gemini-cli's `gemini_debug` and `upload_artifacts`, or an upload of the agent's session folder, publish everything the agent saw and did — a hijacked agent only has to read a secret to publish it, since secret masking covers only values GitHub knows. " +
      'Leave these off on jobs outsiders can trigger, and upload only the structured result the next job needs.',
  },
  run(ctx) {
    const findings: Finding[] = [];
    for (const site of ctx.sites) {
      const reach = reachOf(TRIGGERING_ACTOR, site.step, site.actorGate);
      if (reach.level !== 'outsider' && reach.level !== 'maintainer') continue;
      for (const leak of leaks(site)) {
        findings.push({
          rule: 'agent-output-leak',
          severity: reach.level === 'outsider' && !site.capabilities.jailed ? 'medium' : 'low',
          confidence: 'medium',
          ...stepLocation(leak.step, leak.offset),
          ...jobAndStep(leak.step),
          message: `${leak.what} of ${site.agentName} (step '${site.step.step.label}'): ${reachText(reach)}.`,
          path: [],
          capabilities: capabilityList(site.capabilities),
          fix: 'Turn it off on jobs outsiders can reach; publish only a validated, structured result.',
        });
      }
    }
    return findings;
  },
};

interface Leak {
  step: AgentSite['step'];
  offset: number;
  what: string;
}

function leaks(site: AgentSite): Leak[] {
  const out: Leak[] = [];
  for (const name of site.action?.leakInputs ?? []) {
    const entry = inputOf(site.step.step.with, name);
    const value = entry?.text.trim().toLowerCase() ?? '';
    if (entry && value && value !== 'false' && value !== '0' && value !== 'manual' && value !== 'disabled') {
      out.push({ step: site.step, offset: entry.value.start, what: `\`${entry.name}: ${entry.text.trim()}\` publishes the output` });
    }
  }
  for (const later of site.step.job.steps) {
    if (later.position <= site.step.position || !/^actions\/upload-artifact@/i.test(later.step.uses?.text ?? '')) continue;
    const path = inputOf(later.step.with, 'path');
    if (path && TRANSCRIPTS.test(path.text)) {
      out.push({ step: later, offset: path.value.start, what: `step '${later.step.label}' uploads the session transcripts (${path.text.trim()})` });
    }
  }
  return out;
}
