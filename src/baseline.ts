// Baselines: a record of the findings a repository already has, so an organisation can turn
// agent-guard on everywhere and fail only on new findings.
//
//   { "version": 1, "findings": [{ "rule", "file", "job", "step", "fingerprint", "count" }] }
//
// A finding matches an entry by rule, file (relative to the repository root), job, step and a
// fingerprint of those plus the message with line numbers taken out, never by line, so moving a
// step does not turn an old finding into a new one. A step is its `id`, else its `name`, else what
// it runs (`actions/checkout`, `npm ci`): inserting a step above leaves it the same. Files written
// before that keyed unnamed steps by position (`#3`); those entries still match, and the note says
// to refresh them. `count` is how many such findings the entry
// covers: a second identical finding in the same step is new.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Finding } from './checks/types';
import { ConfigError } from './config';
import { sortFindings } from './report/common';
import { messageWithoutLines } from './report/sarif';
import { enclosingRepository } from './workflow/load';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  rule: string;
  file: string;
  job: string | null;
  step: string | null;
  fingerprint: string;
  count: number;
}

export interface Baseline {
  version: 1;
  findings: BaselineEntry[];
}

/** A baseline file that cannot be read or is not a baseline: one line with the file (and line). */
export class BaselineError extends ConfigError {}

/**
 * The folder baseline paths are relative to: the enclosing git repository (a folder holding `.git`),
 * else `cwd`. So the same baseline works whichever folder of the repository lint runs from.
 */
export function baselineRoot(cwd: string): string {
  return enclosingRepository(cwd) ?? path.resolve(cwd);
}

function relativeFile(file: string, cwd: string, root: string): string {
  const rel = path.relative(root, path.resolve(cwd, file));
  return rel.split(path.sep).join('/');
}

type Key = Omit<BaselineEntry, 'count'>;

export function entryKey(f: Finding, cwd: string, root: string): Key {
  const file = relativeFile(f.file, cwd, root);
  const job = f.job ?? null;
  const step = f.step ?? null;
  const fingerprint = createHash('sha256')
    .update(['agent-guard-baseline/v1', f.rule, file, job ?? '', step ?? '', messageWithoutLines(f.message)].join('\0'))
    .digest('hex')
    .slice(0, 32);
  return { rule: f.rule, file, job, step, fingerprint };
}

/** Step keys of baselines written before steps were keyed by what they run: their position, `#3`. */
const POSITION_KEY = /^#\d+$/;

/**
 * The key an older agent-guard gave this finding, when its step has neither `id` nor `name`: the step
 * was `#N` (its position), in the entry and in the message. Undefined when the keys are the same.
 */
function positionKey(f: Finding, cwd: string, root: string): Key | undefined {
  if (!f.step || !f.stepAt || POSITION_KEY.test(f.step)) return undefined;
  const old = `#${f.stepAt.position}`;
  return entryKey({ ...f, step: old, message: f.message.split(`'${f.step}'`).join(`'${old}'`) }, cwd, root);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A baseline covering every given finding. Entries are sorted so the file diffs well. */
export function createBaseline(findings: readonly Finding[], cwd: string, root = baselineRoot(cwd)): Baseline {
  const byPrint = new Map<string, BaselineEntry>();
  for (const f of findings) {
    const key = entryKey(f, cwd, root);
    const seen = byPrint.get(key.fingerprint);
    if (seen) seen.count++;
    else byPrint.set(key.fingerprint, { ...key, count: 1 });
  }
  const entries = [...byPrint.values()].sort(
    (a, b) => cmp(a.file, b.file) || cmp(a.job ?? '', b.job ?? '') || cmp(a.step ?? '', b.step ?? '') || cmp(a.rule, b.rule) || cmp(a.fingerprint, b.fingerprint),
  );
  return { version: BASELINE_VERSION, findings: entries };
}

export function formatBaseline(baseline: Baseline): string {
  const lines = baseline.findings.map(
    (e) => `    ${JSON.stringify({ rule: e.rule, file: e.file, job: e.job, step: e.step, fingerprint: e.fingerprint, count: e.count })}`,
  );
  return `{\n  "version": ${baseline.version},\n  "findings": [${lines.length ? `\n${lines.join(',\n')}\n  ` : ''}]\n}\n`;
}

export function writeBaseline(file: string, baseline: Baseline): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, formatBaseline(baseline));
  } catch (err) {
    throw new BaselineError(`${file}: cannot write baseline: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function readBaseline(file: string): Baseline {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BaselineError(`${file}: cannot read baseline: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseBaseline(file, text);
}

/**
 * Offset of the first JSON syntax error in `text` (JSON.parse does not always say where). A small
 * recursive scanner, run only after JSON.parse has failed.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) (i--, fail());
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (text[i] !== '"') fail();
    i++;
  };
  const number = () => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m || m[0] === '' || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    return number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
  return text.length;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `:${line}:${column}`;
}

export function parseBaseline(file: string, text: string): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message.split('\n')[0].replace(/, "[^]*" is not valid JSON$/, '');
    throw new BaselineError(`${file}${lineColumn(text, jsonErrorOffset(text))}: baseline is not valid JSON: ${message}`);
  }
  const bad = (what: string): never => {
    throw new BaselineError(`${file}: not an agent-guard baseline: ${what}`);
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) bad('expected a JSON object');
  const top = data as Record<string, unknown>;
  if (top.version !== BASELINE_VERSION) bad(`"version" must be ${BASELINE_VERSION}`);
  for (const key of Object.keys(top)) if (key !== 'version' && key !== 'findings') bad(`unknown key "${key}"`);
  if (!Array.isArray(top.findings)) bad('"findings" must be an array');
  const findings = (top.findings as unknown[]).map((item, i): BaselineEntry => {
    const where = `findings[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return bad(`${where} must be an object`);
    const e = item as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!['rule', 'file', 'job', 'step', 'fingerprint', 'count'].includes(key)) bad(`${where} has unknown key "${key}"`);
    }
    for (const key of ['rule', 'file', 'fingerprint']) if (typeof e[key] !== 'string' || e[key] === '') bad(`${where}.${key} must be a non-empty string`);
    for (const key of ['job', 'step']) if (e[key] !== null && typeof e[key] !== 'string') bad(`${where}.${key} must be a string or null`);
    if (!Number.isInteger(e.count) || (e.count as number) < 1) bad(`${where}.count must be a whole number >= 1`);
    return { rule: e.rule as string, file: e.file as string, job: e.job as string | null, step: e.step as string | null, fingerprint: e.fingerprint as string, count: e.count as number };
  });
  return { version: BASELINE_VERSION, findings };
}

export interface BaselineOutcome {
  /** Findings the baseline does not cover: these are reported. */
  fresh: Finding[];
  /** Findings the baseline covers. */
  known: Finding[];
  /** Of those, how many matched an entry keyed by step position (`#3`), as older versions wrote. */
  byPosition: number;
  /** Baseline entries (with the count left over) that matched nothing: fixed, or changed. */
  gone: BaselineEntry[];
}

/** Split findings into new and known. Each entry covers at most `count` findings. */
export function applyBaseline(findings: readonly Finding[], baseline: Baseline, cwd: string, root = baselineRoot(cwd)): BaselineOutcome {
  const left = new Map<string, { entry: BaselineEntry; count: number }>();
  for (const e of baseline.findings) {
    // Match on every field the entry states, not on the fingerprint alone.
    const id = [e.fingerprint, e.rule, e.file, e.job ?? '', e.step ?? ''].join('\0');
    const seen = left.get(id);
    if (seen) seen.count += e.count;
    else left.set(id, { entry: e, count: e.count });
  }
  const fresh: Finding[] = [];
  const known: Finding[] = [];
  let byPosition = 0;
  const take = (k: Key | undefined): boolean => {
    const slot = k && left.get([k.fingerprint, k.rule, k.file, k.job ?? '', k.step ?? ''].join('\0'));
    if (!slot || slot.count === 0) return false;
    slot.count--;
    return true;
  };
  // In report order, so which of two look-alike findings is the new one does not depend on rule order.
  for (const f of sortFindings(findings)) {
    if (take(entryKey(f, cwd, root))) known.push(f);
    else if (take(positionKey(f, cwd, root))) {
      known.push(f);
      byPosition++;
    } else fresh.push(f);
  }
  const gone = [...left.values()].filter((s) => s.count > 0).map((s) => ({ ...s.entry, count: s.count }));
  return { fresh, known, byPosition, gone };
}

/** One line for logs: "baseline FILE: 3 known findings not reported, 1 entry matched nothing". */
export function baselineNote(file: string, outcome: BaselineOutcome): string {
  const known = outcome.known.length;
  const gone = outcome.gone.reduce((n, e) => n + e.count, 0);
  let line = `baseline ${file}: ${known} known finding${known === 1 ? '' : 's'} not reported`;
  if (gone > 0) line += `, ${gone} baselined finding${gone === 1 ? '' : 's'} no longer found (fixed or changed; refresh with --write-baseline)`;
  if (outcome.byPosition > 0) {
    line += `, ${outcome.byPosition} matched by step position (#N, as older versions wrote; refresh with --write-baseline so inserting a step cannot unmatch them)`;
  }
  return line;
}
