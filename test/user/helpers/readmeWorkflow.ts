// The README's workflows as a user copies them: the YAML block that follows a sentence of the README,
// its agent-guard steps, and their `with:` and `env:` with the `${{ }}` expressions a runner would
// fill in. An expression the test does not supply fails the test, so a README change that needs a
// new value is noticed rather than passed over.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { extractSnippets } from '../../docs/markdown';

const README = path.resolve(__dirname, '..', '..', '..', 'README.md');

export interface WorkflowStep {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

export interface Workflow {
  on: unknown;
  permissions?: unknown;
  jobs: Record<string, { needs?: string | string[]; permissions?: unknown; outputs?: Record<string, string>; steps: WorkflowStep[] }>;
}

/** The first YAML block after `sentence` in README.md, parsed: a workflow. */
export function readmeWorkflow(sentence: string): Workflow {
  return readmeYaml(sentence) as Workflow;
}

/** The first YAML block after `sentence` in README.md, parsed: a list of steps (a fragment of a job). */
export function readmeSteps(sentence: string): WorkflowStep[] {
  const steps = readmeYaml(sentence);
  if (!Array.isArray(steps)) throw new Error(`the YAML block after "${sentence}" in README.md is not a list of steps`);
  return steps as WorkflowStep[];
}

function readmeYaml(sentence: string): unknown {
  const text = fs.readFileSync(README, 'utf8');
  const at = text.indexOf(sentence);
  if (at < 0) throw new Error(`README.md no longer says "${sentence}"`);
  const block = extractSnippets(README, text.slice(at)).find((s) => s.lang === 'yaml');
  if (!block) throw new Error(`README.md has no YAML block after "${sentence}"`);
  return parse(block.text);
}

/** The steps that use agent-guard's Action: of a job of a workflow, or of a list of steps. */
export function agentGuardSteps(from: Workflow | WorkflowStep[], job?: string): WorkflowStep[] {
  const steps = Array.isArray(from) ? from : (from.jobs[job ?? '']?.steps ?? []);
  return steps.filter((s) => /^agent-guard\/agent-guard@/.test(s.uses ?? ''));
}

/** `${{ expr }}` replaced from `values`, as the runner does before a step starts. */
export function evaluate(value: unknown, values: Record<string, string>): string {
  return String(value).replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => {
    if (!(expr in values)) throw new Error(`the README's workflow uses \${{ ${expr} }}, which this test does not supply`);
    return values[expr];
  });
}

/** A step's `with:` or `env:` with its expressions filled in, every value a string (as inputs are). */
export function evaluateAll(map: Record<string, unknown> | undefined, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k, evaluate(v, values)]));
}
