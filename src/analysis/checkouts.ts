// Which code an actions/checkout step puts in the workspace. Its `ref:` and `repository:` are followed
// through env, step and job outputs (a github-script that looks the pull request up), and inputs, to
// what they denote: the pull request's head commit or merge ref is the author's code wherever it is
// fetched from (GitHub keeps refs/pull/N/head in the base repository), and so is anything from the
// head repository. A head *branch name* with no `repository:` is a branch of the base repository —
// a writer's branch, or none at all — not the fork's code.

import { inputOf, type Entry } from '../workflow/model';
import { findTemplates, references, referencesOf } from '../workflow/expression';
import type { YNode } from '../workflow/yaml';
import type { JobInstance, StepInstance } from './instances';
import { githubScriptValues } from './outputs';
import { loadRules } from './rulesData';
import { scriptFacts } from './shell';
import type { Sym } from './symbolic';

/**
 * What a value can denote, as far as checkouts are concerned. `upstream-run` marks a value read from the
 * upstream run of a workflow_run (or check) event: its author is whoever triggered that run.
 */
export type Denotes = 'head-commit' | 'head-repo' | 'head-branch' | 'pr-ref' | 'upstream-run';

/** Context paths whose value is the pull request's head (or merge) commit, repository or branch. */
const CONTEXTS: { pattern: RegExp; denotes: Denotes }[] = [
  { pattern: /^github\.event\.(pull_request\.head\.sha|pull_request\.merge_commit_sha|workflow_run\.head_sha|workflow_run\.head_commit\.id|check_suite\.head_sha|check_run\.head_sha|workflow_run\.pull_requests\.\*\.head\.sha|check_suite\.pull_requests\.\*\.head\.sha)$/, denotes: 'head-commit' },
  { pattern: /^github\.event\.(pull_request\.head\.(repo|label)|workflow_run\.head_repository|workflow_run\.pull_requests\.\*\.head\.repo)(\.|$)/, denotes: 'head-repo' },
  { pattern: /^github\.(head_ref|event\.pull_request\.head\.ref|event\.workflow_run\.head_branch|event\.workflow_run\.pull_requests\.\*\.head\.ref|event\.check_suite\.head_branch)$/, denotes: 'head-branch' },
];

/** Fields of a pull request fetched from the API. */
const FETCHED: { pattern: RegExp; denotes: Denotes }[] = [
  { pattern: /(^|\.)(head\.sha|merge_commit_sha)$/, denotes: 'head-commit' },
  { pattern: /(^|\.)head\.repo(\.|$)/, denotes: 'head-repo' },
  { pattern: /(^|\.)head\.(ref|label)$/, denotes: 'head-branch' },
];

const MAX_DEPTH = 10;

/** Where a value is read: a step (its env, the steps before it), or the end of a job (its outputs). */
interface At {
  job: JobInstance;
  step?: StepInstance;
}

/** What a YAML value read at `at` can come from, as denotations. */
export function denotationsOf(node: YNode | undefined, at: At, depth = 0): Set<Denotes> {
  const out = new Set<Denotes>();
  if (!node || node.kind !== 'scalar' || depth > MAX_DEPTH) return out;
  return textDenotes(node.text, at, depth);
}

function textDenotes(text: string, at: At, depth: number): Set<Denotes> {
  const out = new Set<Denotes>();
  if (/refs\/pull\//.test(text)) out.add('pr-ref');
  for (const t of findTemplates(text)) {
    for (const ref of referencesOf(t.inner) ?? []) addAll(out, pathDenotes(ref.path, ref.select ?? [], at, depth));
  }
  return out;
}

function pathDenotes(path: string, select: string[], at: At, depth: number): Set<Denotes> {
  const out = new Set<Denotes>();
  if (depth > MAX_DEPTH) return out;
  for (const c of CONTEXTS) if (c.pattern.test(path)) out.add(c.denotes);
  if (out.size && /^github\.event\.(workflow_run|check_suite|check_run)\./.test(path)) out.add('upstream-run');
  if (out.size) return out;
  const parts = path.split('.');
  const step = at.step;
  switch (parts[0]) {
    case 'env': {
      const entry = envEntry(at, parts[1]);
      if (entry) return denotationsOf(entry.entry.value, entry.at, depth + 1);
      // Written to $GITHUB_ENV by an earlier step: `echo "SHA=${{ … }}" >> $GITHUB_ENV`.
      for (const earlier of at.job.steps) {
        if ((step && earlier.position >= step.position) || !earlier.step.run) continue;
        for (const w of scriptFacts(earlier.step.run, earlier.step.run.text).env) {
          if (w.name.toLowerCase() === parts[1]) addAll(out, textDenotes(w.text, { job: at.job, step: earlier }, depth + 1));
        }
      }
      return out;
    }
    case 'steps': {
      if (parts[2] !== 'outputs' || !parts[3]) return out;
      const candidates = step ? step.siblings.filter((s) => s.position < step.position) : at.job.steps.filter((s) => !s.frame);
      const producer = candidates.find((s) => s.step.id?.toLowerCase() === parts[1]);
      return producer ? outputDenotes(producer, parts[3], select, depth + 1) : out;
    }
    case 'needs': {
      if (parts[2] !== 'outputs' || !parts[3]) return out;
      const needed = at.job.needs.find((j) => j.job.id.toLowerCase() === parts[1]);
      const entry = needed?.job.outputs.find((o) => o.name.toLowerCase() === parts[3]);
      return entry && needed ? denotationsOf(entry.value, { job: needed }, depth + 1) : out;
    }
    case 'inputs': {
      if (step?.frame) return denotationsOf(inputOf(step.frame.callerStep.step.with, parts[1])?.value, { job: at.job, step: step.frame.callerStep }, depth + 1);
      const caller = at.job.caller;
      return caller ? denotationsOf(inputOf(caller.with, parts[1])?.value, { job: caller.job }, depth + 1) : out;
    }
    default:
      return out;
  }
}

function outputDenotes(producer: StepInstance, output: string, select: string[], depth: number): Set<Denotes> {
  const out = new Set<Denotes>();
  const at: At = { job: producer.job, step: producer };
  const values = githubScriptValues(producer);
  if (values) {
    const value = output === 'result' ? values.result : values.outputs.get(output);
    if (value) symDenotes(value, select, at, depth, out);
    return out;
  }
  if (producer.step.run) {
    for (const w of scriptFacts(producer.step.run, producer.step.run.text).outputs) if (w.name.toLowerCase() === output) addAll(out, textDenotes(w.text, at, depth));
    return out;
  }
  const uses = producer.step.uses?.text ?? '';
  if (uses && !uses.startsWith('./')) {
    const known = actionOutputDenotes(uses, output);
    if (known !== undefined) {
      if (known) out.add(known);
      return out;
    }
  }
  // A composite action's output, read at the end of the action's steps.
  const nested = producer.job.steps.filter((s) => s.frame?.callerStep === producer);
  const entry = nested[0]?.frame?.action.outputs.find((o) => o.name.toLowerCase() === output);
  const last = nested[nested.length - 1];
  if (entry && last) return denotationsOf(entry.value, { job: producer.job, step: { ...last, position: last.position + 1 } }, depth);
  return out;
}

function symDenotes(v: Sym, select: string[], at: At, depth: number, out: Set<Denotes>): void {
  if (depth > MAX_DEPTH) return;
  const next = (x: Sym, sel = select) => symDenotes(x, sel, at, depth + 1, out);
  switch (v.k) {
    case 'const':
      if (typeof v.value === 'string' && v.value.includes('refs/pull/')) out.add('pr-ref');
      return;
    case 'expr':
      for (const ref of references(v.expr)) addAll(out, pathDenotes(ref.path, [...(ref.select ?? []), ...select], at, depth + 1));
      return;
    case 'fetched': {
      const path = [...v.path, ...select].join('.');
      if (/^rest\.pulls\./.test(v.call)) for (const f of FETCHED) if (f.pattern.test(path)) out.add(f.denotes);
      return;
    }
    case 'oneOf':
      v.options.forEach((o) => next(o.value));
      return;
    case 'op': {
      if (v.op === 'get' && v.args[1].k === 'const') return next(v.args[0], [String(v.args[1].value), ...select]);
      const passes = v.op === 'json' || v.op === 'output' || v.op === 'fromjson' || v.op === '||' || v.op === '&&' || v.op === 'cond';
      v.args.forEach((a) => next(a, passes ? select : []));
      return;
    }
    case 'object':
      if (select.length) {
        const prop = v.props.get(select[0]) ?? v.props.get('*');
        if (prop) next(prop, select.slice(1));
      } else v.props.forEach((p) => next(p));
      return;
    case 'array':
      v.items.forEach((i) => next(i, select.length && /^(\d+|\*)$/.test(select[0]) ? select.slice(1) : select));
      return;
    case 'text':
      v.from.forEach((x) => next(x, []));
      return;
    default:
      return;
  }
}

function envEntry(at: At, name: string): { entry: Entry; at: At } | undefined {
  const match = (list: Entry[]) => list.find((e) => e.name.toLowerCase() === name);
  const step = at.step;
  if (step) {
    const own = match(step.step.env);
    if (own) return { entry: own, at };
    for (let f = step.frame; f; f = f.callerStep.frame) {
      const outer = match(f.callerStep.step.env);
      if (outer) return { entry: outer, at: { job: at.job, step: f.callerStep } };
    }
  }
  const job = match(at.job.job.env) ?? match(at.job.workflow.env);
  return job ? { entry: job, at: { job: at.job } } : undefined;
}

/**
 * What a third-party action's output names: from rules/sources.yml `prHeadOutputs` (null for an output
 * that names nothing of the head, or that the action does not have), else guessed from the output's
 * name; undefined for a local or unlisted action whose output name says nothing.
 */
function actionOutputDenotes(uses: string, output: string): Denotes | null | undefined {
  const name = uses.replace(/@.*$/, '').toLowerCase();
  const listed = (loadRules().sources.prHeadOutputs ?? []).find((a) => name === a.uses.toLowerCase() || name.startsWith(`${a.uses.toLowerCase()}/`));
  const has = (list?: string[]) => list?.some((o) => o.toLowerCase() === output);
  if (listed) return has(listed.commit) ? 'head-commit' : has(listed.repository) ? 'head-repo' : has(listed.branch) ? 'head-branch' : null;
  if (/(head|pr|pull)[-_]?(sha|commit)/.test(output)) return 'head-commit';
  if (/(head|pr|pull|fork)[-_]?(repo|repository)/.test(output)) return 'head-repo';
  return undefined;
}

function addAll(into: Set<Denotes>, from: Set<Denotes>): void {
  for (const d of from) into.add(d);
}

/**
 * Whether an actions/checkout step puts the pull request's code in the workspace, and which input
 * says so: a head or merge commit, a refs/pull ref, or the head repository.
 */
export function checksOutPrCode(step: StepInstance): { input: Entry; denotes: Denotes; upstreamRun: boolean } | null {
  const ref = inputOf(step.step.with, 'ref');
  const repository = inputOf(step.step.with, 'repository');
  const at: At = { job: step.job, step };
  const refDenotes = ref ? denotationsOf(ref.value, at) : new Set<Denotes>();
  const repoDenotes = repository ? denotationsOf(repository.value, at) : new Set<Denotes>();
  const hit = (input: Entry, set: Set<Denotes>, denotes: Denotes) => ({ input, denotes, upstreamRun: set.has('upstream-run') });
  if (repository && repoDenotes.has('head-repo')) return hit(repository, repoDenotes, 'head-repo');
  if (ref && refDenotes.has('head-commit')) return hit(ref, refDenotes, 'head-commit');
  if (ref && refDenotes.has('pr-ref')) return hit(ref, refDenotes, 'pr-ref');
  return null;
}
