// Step and job outputs as symbolic values (symbolic.ts): `steps.<id>.outputs.<name>` and
// `needs.<job>.outputs.<name>` resolved to what the producing step computes — a github-script's
// return value and setOutput calls (scriptValues.ts), constants a shell script writes to
// $GITHUB_OUTPUT, a job output's template. Gates use this to see that a dispatcher only routes
// 'review' on the branches that produce it; taint uses it to tell a SHA from an issue body.

import { inputOf, type Entry } from '../workflow/model';
import { findTemplates, tryParseExpression } from '../workflow/expression';
import type { YNode } from '../workflow/yaml';
import type { JobInstance, StepInstance } from './instances';
import { scriptValues, type ScriptValues } from './scriptValues';
import { scriptFacts } from './shell';
import { checksOutPrCode } from './checkouts';
import { EMPTY, UNKNOWN, konst, op, union, type OutputResolver, type Sym } from './symbolic';

/** Resolves output paths as seen from a job's `if:` (`needs.*`) or a step's (`steps.*` too). */
export function outputResolver(job: JobInstance, step?: StepInstance): OutputResolver {
  return (path) => {
    const parts = path.split('.');
    if (parts.length !== 4 || parts[2] !== 'outputs') return undefined;
    if (parts[0] === 'steps') {
      const siblings = step?.siblings ?? job.steps.filter((s) => !s.frame);
      const producer = siblings.find((s) => s.step.id?.toLowerCase() === parts[1] && (!step || s.position < step.position));
      return producer ? stepOutput(producer, parts[3]) : undefined;
    }
    if (parts[0] === 'needs') {
      const needed = job.needs.find((j) => j.job.id.toLowerCase() === parts[1]);
      if (!needed || needed.job.uses) return undefined;
      const entry = needed.job.outputs.find((o) => o.name.toLowerCase() === parts[3]);
      // An output the job does not declare is the empty string.
      return entry ? valueOf(entry.value, outputResolver(needed)) : EMPTY;
    }
    return undefined;
  };
}

/** A YAML value as a symbolic value: constant text, one `${{ }}` expression, or text around several. */
export function valueOf(node: YNode | undefined, outputs: OutputResolver): Sym {
  if (!node || node.kind !== 'scalar') return UNKNOWN;
  const text = node.text;
  const templates = findTemplates(text);
  if (!templates.length) return konst(text);
  const exprs: Sym[] = [];
  let format = '';
  let from = 0;
  for (const t of templates) {
    const parsed = tryParseExpression(t.inner);
    if (parsed instanceof Error) return UNKNOWN;
    format += escapeFormat(text.slice(from, t.start)) + `{${exprs.length}}`;
    exprs.push({ k: 'expr', expr: parsed, outputs });
    from = t.end;
  }
  format += escapeFormat(text.slice(from));
  return format === '{0}' ? exprs[0] : op('format', konst(format), ...exprs);
}

function escapeFormat(s: string): string {
  return s.replace(/\{/g, '{{').replace(/\}/g, '}}');
}

const memo = new WeakMap<StepInstance, Map<string, Sym | undefined>>();

/** What output `name` of a step holds, or undefined when the step is not one we can read. */
export function stepOutput(producer: StepInstance, name: string): Sym | undefined {
  let known = memo.get(producer);
  if (!known) memo.set(producer, (known = new Map()));
  if (known.has(name)) return known.get(name);
  known.set(name, undefined); // a cycle resolves to "unknown"
  const value = computeStepOutput(producer, name);
  known.set(name, value);
  return value;
}

function computeStepOutput(producer: StepInstance, name: string): Sym | undefined {
  const values = githubScriptValues(producer);
  if (values) {
    if (name === 'result') return values.result;
    const set = values.outputs.get(name) ?? [...values.outputs].find(([k]) => k.toLowerCase() === name)?.[1];
    const dynamic = values.outputs.get('*');
    return union([set ?? EMPTY, ...(dynamic ? [dynamic] : [])]);
  }
  const run = producer.step.run;
  if (run) {
    const writes = scriptFacts(run, run.text).outputs.filter((w) => w.name.toLowerCase() === name);
    if (!writes.length) return undefined;
    // Constant writes (`echo "command=review"`) are values; anything computed is unknown here.
    return union([...writes.map((w) => (/[$`]/.test(w.text) ? UNKNOWN : konst(w.text))), EMPTY]);
  }
  return undefined;
}

const scriptMemo = new WeakMap<StepInstance, ScriptValues | null>();

/** The parsed outputs of an actions/github-script step (null when it is not one or does not parse). */
export function githubScriptValues(step: StepInstance): ScriptValues | null {
  if (scriptMemo.has(step)) return scriptMemo.get(step)!;
  let values: ScriptValues | null = null;
  if (/^actions\/github-script@/i.test(step.step.uses?.text ?? '')) {
    const script = inputOf(step.step.with, 'script');
    if (script?.value.kind === 'scalar') {
      const encoding = inputOf(step.step.with, 'result-encoding')?.text.trim().toLowerCase();
      const resolver = outputResolver(step.job, step);
      const prCheckout = step.job.steps.some((s) => s.position < step.position && /^actions\/checkout@/i.test(s.step.uses?.text ?? '') && !!checksOutPrCode(s));
      values = scriptValues(script.text, { env: (n) => envValue(step, n, resolver), stringResult: encoding === 'string', prCheckout });
    }
  }
  scriptMemo.set(step, values);
  return values;
}

/** The value of an environment variable the step sees (its own env, then the job's, then the workflow's). */
function envValue(step: StepInstance, name: string, outputs: OutputResolver): Sym | undefined {
  const layers: Entry[][] = [step.step.env];
  for (let f = step.frame; f; f = f.callerStep.frame) layers.push(f.callerStep.step.env);
  layers.push(step.job.job.env, step.job.workflow.env);
  for (const layer of layers) {
    const entry = layer.find((e) => e.name === name);
    if (entry) return valueOf(entry.value, outputs);
  }
  return undefined;
}
