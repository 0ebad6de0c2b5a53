// Literal values: what a `${{ }}` template or a `$VAR` can stand for at a step when the workflow
// itself says so. Taint asks "can outsider text get here?"; this asks "which constant gets here?",
// which is what tool lists, prompt files and slash commands handed through composite-action inputs,
// `env:` and `$GITHUB_ENV` need before they can be read (`--allowedTools ${{ inputs.allowed_tools }}`,
// `"$(cat ${{ env.PROMPT_PATH }})"`). Anything not written down in the repository (secrets, the event,
// runner paths) stays as written. Every answer is a short list of candidates: a value set on two
// branches of a script has two.

import { findTemplates, tryParseExpression, ExpressionSyntaxError, accessPath, type Expr } from '../workflow/expression';
import { inputOf, type Entry } from '../workflow/model';
import type { JobInstance, StepInstance } from './instances';
import { scriptFacts } from './shell';

/** Candidates kept per value: enough for the branches real scripts have, small enough to stay cheap. */
const MAX_CANDIDATES = 6;
const MAX_DEPTH = 6;

export interface LiteralScope {
  job: JobInstance;
  step?: StepInstance;
}

type Value = string | number | boolean | null;

/** `text` with every template it can resolve replaced by a literal, one string per combination. */
export function resolveText(text: string, scope: LiteralScope, depth = 0): string[] {
  if (!text.includes('${{') || depth > MAX_DEPTH) return [text];
  let variants = [''];
  let last = 0;
  for (const t of findTemplates(text)) {
    const literal = text.slice(last, t.start);
    const values = t.unterminated ? null : evaluateTemplate(t.inner, scope, depth);
    const pieces = values ? values.map(asString) : [text.slice(t.start, t.end)];
    variants = combine(variants.map((v) => v + literal), pieces);
    last = t.end;
  }
  return unique(variants.map((v) => v + text.slice(last)));
}

/** `$VAR` and `${VAR}` in shell text replaced by what the script or the environment assigns them. */
export function expandShell(text: string, scope: LiteralScope, script?: { key: object; text: string }, depth = 0): string[] {
  if (!text.includes('$') || depth > MAX_DEPTH) return [text];
  let variants = [''];
  let last = 0;
  for (const m of text.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g)) {
    const name = m[1] ?? m[2];
    const index = m.index ?? 0;
    const values = shellVariable(name, scope, script, depth);
    variants = combine(
      variants.map((v) => v + text.slice(last, index)),
      values.length ? values : [m[0]],
    );
    last = index + m[0].length;
  }
  return unique(variants.map((v) => v + text.slice(last)));
}

function shellVariable(name: string, scope: LiteralScope, script: { key: object; text: string } | undefined, depth: number): string[] {
  const out: string[] = [];
  if (script) {
    for (const a of scriptFacts(script.key, script.text).assignments) {
      if (a.name !== name) continue;
      const value = unquote(a.text.trim());
      if (value.includes(`$${name}`)) continue;
      for (const r of resolveText(value, scope, depth + 1)) out.push(...expandShell(r, scope, script, depth + 1));
    }
  }
  if (!out.length) out.push(...envValues(name, scope, depth + 1));
  return unique(out);
}

/** Literal values of an environment variable as the scope's step sees it (nearest definition wins). */
export function envValues(name: string, scope: LiteralScope, depth = 0): string[] {
  if (depth > MAX_DEPTH) return [];
  const step = scope.step;
  const fromEntry = (entry: Entry, at: LiteralScope) => (entry.value.kind === 'scalar' ? resolveText(entry.text, at, depth + 1) : []);
  if (step) {
    const own = step.step.env.find((e) => e.name === name);
    if (own) return fromEntry(own, scope);
    for (let frame = step.frame; frame; frame = frame.callerStep.frame) {
      const outer = frame.callerStep.step.env.find((e) => e.name === name);
      if (outer) return fromEntry(outer, { job: scope.job, step: frame.callerStep });
    }
    const written = githubEnvWrites(name, step, depth);
    if (written.length) return written;
  }
  const job = scope.job.job.env.find((e) => e.name === name);
  if (job) return fromEntry(job, { job: scope.job });
  const workflow = scope.job.workflow.env.find((e) => e.name === name);
  if (workflow) return fromEntry(workflow, { job: scope.job });
  return [];
}

/** `echo "NAME=$VALUE" >> $GITHUB_ENV` in earlier steps of the job. */
function githubEnvWrites(name: string, step: StepInstance, depth: number): string[] {
  const out: string[] = [];
  const assignment = new RegExp(`(?:^|[\\s"'])${name}=("[^"\\n]*"|'[^'\\n]*'|[^\\s"'>;|&]*)`);
  for (const earlier of step.job.steps) {
    if (earlier.position >= step.position || !earlier.step.run) continue;
    const run = earlier.step.run;
    for (const write of scriptFacts(run, run.text).env) {
      if (write.name !== name) continue;
      const m = assignment.exec(write.text);
      if (!m) continue;
      const scope = { job: step.job, step: earlier };
      for (const r of resolveText(unquote(m[1]), scope, depth + 1)) out.push(...expandShell(r, scope, { key: run, text: run.text }, depth + 1));
    }
  }
  return unique(out);
}

/** Literal values of `inputs.NAME`: the composite action's caller, or the reusable workflow's caller. */
function inputValues(name: string, scope: LiteralScope, depth: number): string[] | null {
  const frame = scope.step?.frame;
  if (frame) {
    const given = inputOf(frame.callerStep.step.with, name);
    if (given) return given.value.kind === 'scalar' ? resolveText(given.text, { job: scope.job, step: frame.callerStep }, depth + 1) : null;
    const declared = frame.action.inputs.find((i) => i.name.toLowerCase() === name.toLowerCase());
    if (!declared) return null;
    return declared.default ? resolveText(declared.default.text, scope, depth + 1) : [''];
  }
  const caller = scope.job.caller;
  if (caller) {
    const given = inputOf(caller.with, name);
    if (given && given.value.kind === 'scalar') return resolveText(given.text, { job: caller.job }, depth + 1);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// A constant evaluator for the expressions that build command lines: references it can resolve,
// literals, comparisons, `&&`/`||` (which return an operand, as GitHub's do), `!` and a few functions.

function evaluateTemplate(inner: string, scope: LiteralScope, depth: number): Value[] | null {
  const parsed = tryParseExpression(inner);
  if (parsed instanceof ExpressionSyntaxError) return null;
  return evaluate(parsed, scope, depth);
}

function evaluate(e: Expr, scope: LiteralScope, depth: number): Value[] | null {
  switch (e.kind) {
    case 'literal':
      return [e.value];
    case 'context':
    case 'property':
    case 'index': {
      const path = accessPath(e);
      if (!path) return null;
      const [root, name, ...rest] = path.split('.');
      if (!name || rest.length || name === '*') return null;
      if (root === 'inputs') return inputValues(name, scope, depth);
      if (root === 'env') {
        const values = envValues(name.toUpperCase() === name ? name : originalCase(name, scope), scope, depth + 1);
        return values.length ? values : null;
      }
      return null;
    }
    case 'unary': {
      const v = evaluate(e.operand, scope, depth);
      return v && v.map((x) => !truthy(x));
    }
    case 'binary': {
      const left = evaluate(e.left, scope, depth);
      const right = evaluate(e.right, scope, depth);
      if (!left || !right) return null;
      const out: Value[] = [];
      for (const a of left) {
        for (const b of right) {
          if (e.op === '&&') out.push(truthy(a) ? b : a);
          else if (e.op === '||') out.push(truthy(a) ? a : b);
          else if (e.op === '==') out.push(equal(a, b));
          else if (e.op === '!=') out.push(!equal(a, b));
          else return null;
        }
      }
      return out.slice(0, MAX_CANDIDATES);
    }
    case 'call': {
      const args = e.args.map((a) => evaluate(a, scope, depth));
      if (args.some((a) => !a)) return null;
      const first = (i: number) => args[i]![0];
      const name = e.name.toLowerCase();
      if (name === 'format' && args.length >= 1) {
        return [asString(first(0)).replace(/\{(\d+)\}/g, (all, n: string) => (Number(n) + 1 < args.length ? asString(first(Number(n) + 1)) : all))];
      }
      if (name === 'contains' && args.length === 2) return [asString(first(0)).toLowerCase().includes(asString(first(1)).toLowerCase())];
      if (name === 'startswith' && args.length === 2) return [asString(first(0)).toLowerCase().startsWith(asString(first(1)).toLowerCase())];
      if (name === 'endswith' && args.length === 2) return [asString(first(0)).toLowerCase().endsWith(asString(first(1)).toLowerCase())];
      if (name === 'fromjson' && args.length === 1) return fromJsonPrimitives(args[0]!);
      return null;
    }
    default:
      return null;
  }
}

/** accessPath lowercases names; env names are case-sensitive in the workflow, so find the written one. */
function originalCase(lower: string, scope: LiteralScope): string {
  const layers = [scope.step?.step.env ?? [], scope.job.job.env, scope.job.workflow.env];
  for (const layer of layers) for (const e of layer) if (e.name.toLowerCase() === lower) return e.name;
  for (const s of scope.job.steps) {
    if (!s.step.run) continue;
    for (const w of scriptFacts(s.step.run, s.step.run.text).env) if (w.name.toLowerCase() === lower) return w.name;
  }
  return lower;
}

/** fromJSON() of candidates that hold a JSON scalar (`'true'`, `'3'`); null when any holds more. */
function fromJsonPrimitives(values: Value[]): Value[] | null {
  const out: Value[] = [];
  for (const v of values) {
    try {
      const parsed: unknown = JSON.parse(asString(v));
      if (parsed !== null && typeof parsed === 'object') return null;
      out.push(parsed as Value);
    } catch {
      // GitHub fails the step on invalid JSON: no value from this candidate
    }
  }
  return out.length ? out : null;
}

function truthy(v: Value): boolean {
  return !(v === null || v === false || v === '' || v === 0 || (typeof v === 'number' && Number.isNaN(v)));
}

/** GitHub's loose equality: strings compare case-insensitively, mixed types as numbers. */
function equal(a: Value, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (a === null && b === null) return true;
  return toNumber(a) === toNumber(b);
}

function toNumber(v: Value): number {
  if (v === null || v === false) return 0;
  if (v === true) return 1;
  if (typeof v === 'number') return v;
  const t = v.trim();
  if (t === '') return 0;
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) || /^0x[0-9a-f]+$/i.test(t) ? Number(t) : NaN;
}

function asString(v: Value): string {
  if (v === null) return '';
  return String(v);
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

function combine(prefixes: string[], pieces: string[]): string[] {
  const out: string[] = [];
  for (const p of prefixes) for (const piece of pieces) if (out.length < MAX_CANDIDATES) out.push(p + piece);
  return out;
}

function unique(list: string[]): string[] {
  return [...new Set(list)].slice(0, MAX_CANDIDATES);
}

/** Shell words of a text (quotes removed; no expansion): how a resolved `${{ }}` splits into arguments. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
