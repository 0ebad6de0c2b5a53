import { shellCapabilities } from '../analysis/capabilities';
import type { StepInstance } from '../analysis/instances';
import { reachOf, TRIGGERING_ACTOR, type Reach } from '../analysis/reach';
import { severityFor } from '../analysis/severity';
import type { Taint } from '../analysis/taint';
import { docsUrl, type Check } from './context';
import { agentReach, lower } from './agentReach';
import { capabilityList, jobAndStep, reachText, siteLocation, surer } from './common';
import { codeSinks, sinkTaints } from './templateInjection';
import type { Finding, Severity } from './types';

const MERGE = /\bgh\s+pr\s+(merge|review\b[^\n]*--approve)|pulls\.(merge|createReview)|enablePullRequestAutoMerge|auto-merge|--admin\b/;

export const aiOutputUnsafe: Check = {
  meta: {
    id: 'ai-output-unsafe',
    title: "A model's output is used as code, as another agent's prompt, or to decide a merge",
    severity: 'critical',
    docs: docsUrl('ai-output-unsafe'),
    help:
      "Whoever steers the model's input steers its output. Expanding `${{ steps.ai.outputs.response }}` into a script turns a prompt injection into a command injection; feeding it to another agent chains the injection; letting it decide a merge or approval lets the outsider approve their own change. " +
      'Pass model output through `env:` and treat it as data: validate it against a schema or an allowlist in a step without AI.',
  },
  run(ctx) {
    const findings: Finding[] = [];
    for (const step of ctx.steps) {
      let reachCache: ReturnType<typeof reachOf> | undefined;
      const reachOfStep = () => (reachCache ??= reachOf(TRIGGERING_ACTOR, step));
      for (const sink of codeSinks(step)) {
        for (const taint of sinkTaints(step, sink.node, ctx.engine)) {
          if (taint.origin.kind !== 'ai-output') continue;
          const reach = lower(reachOfStep(), agentReach(taint.origin.producer, ctx));
          if (reach.level === 'none') continue;
          const caps = shellCapabilities(step);
          findings.push({ ...finding(step, taint, severityFor(reach.level, caps) ?? 'medium', `${taint.origin.what} is expanded into ${sink.what} of step '${step.step.label}'`, reach, capabilityList(caps)), holder: 'step' });
        }
      }
      const decides = (step.step.run && MERGE.test(step.step.run.text)) || MERGE.test(step.step.with.map((w) => w.text).join('\n'));
      const reach = decides ? reachOfStep() : undefined;
      if (decides && reach && reach.level !== 'none') {
        const inputs = [
          ...step.conditions.map((c) => c.node),
          ...step.job.conditions.map((c) => c.node),
        ];
        for (const node of inputs) {
          const taints = ctx.engine.ofCondition(node, step.file, { job: step.job, step }).filter((t) => t.origin.kind === 'ai-output');
          for (const taint of taints.slice(0, 1)) {
            const steered = lower(reach, agentReach(taint.origin.producer, ctx));
            if (steered.level === 'none') continue;
            findings.push(finding(step, taint, steered.level === 'outsider' ? 'high' : 'medium', `${taint.origin.what} decides whether step '${step.step.label}' merges or approves`, steered, []));
          }
        }
      }
    }
    for (const site of ctx.sites) {
      const reach = reachOf(TRIGGERING_ACTOR, site.step, site.actorGate);
      if (reach.level === 'none') continue;
      for (const channel of site.channels) {
        if (channel.kind !== 'prompt' && channel.kind !== 'config') continue;
        const taint = channel.taints.find((t) => t.origin.kind === 'ai-output');
        if (!taint) continue;
        const steered = lower(reach, agentReach(taint.origin.producer, ctx));
        if (steered.level === 'none') continue;
        const loc = siteLocation(site);
        findings.push({
          ...finding(site.step, taint, steered.level === 'outsider' ? 'high' : 'medium', `${taint.origin.what} becomes the ${channel.name} of ${site.agentName}`, steered, capabilityList(site.capabilities)),
          ...loc,
          path: [...taint.hops, { ...loc, note: 'the second agent reads it as instructions' }],
        });
      }
    }
    return findings;
  },
};

function finding(step: StepInstance, taint: Taint, severity: Severity, message: string, reach: Reach, capabilities: string[]): Finding {
  const sink = taint.hops[taint.hops.length - 1];
  return {
    rule: 'ai-output-unsafe',
    severity,
    confidence: surer('high', reach),
    file: sink.file,
    line: sink.line,
    column: sink.column,
    ...jobAndStep(step),
    message: `${message}: ${reachText(reach)}.`,
    path: [...step.job.via, ...taint.hops],
    capabilities,
    fix: "Pass the output through `env:` (`env: { ANSWER: ${{ steps.ai.outputs.response }} }`, then \"$ANSWER\") and validate it in a step without AI: parse it as JSON against a schema, intersect labels with an allowlist, never let it decide a merge.",
  };
}
