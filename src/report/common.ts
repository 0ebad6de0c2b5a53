// Helpers shared by the reporters: ordering, counting, path normalisation and the sanitising of
// text that comes from workflows (which outsiders may have written).

import * as path from 'path';
import type { Finding, LintError, LintResult, RuleMeta, Severity } from '../checks/types';
import { SEVERITIES, severityRank } from '../checks/types';

export const TOOL_NAME = 'agent-guard';
/** Where the tool lives; used for SARIF `tool.driver.informationUri` and the JSON `tool` block. */
export const TOOL_URI = 'https://github.com/agent-guard/agent-guard';

/** Plain code-unit comparison: independent of the locale, so output is byte-stable everywhere. */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpOpt(a: string | undefined, b: string | undefined): number {
  return cmpStr(a ?? '', b ?? '');
}

/** Findings ordered by file, line, column, rule; ties broken so the order is total and stable. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmpStr(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    cmpStr(a.rule, b.rule) ||
    severityRank(b.severity) - severityRank(a.severity) ||
    cmpOpt(a.job, b.job) ||
    cmpOpt(a.step, b.step) ||
    cmpStr(a.message, b.message)
  );
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

export function sortErrors(errors: readonly LintError[]): LintError[] {
  return [...errors].sort(
    (a, b) => cmpStr(a.file, b.file) || a.line - b.line || a.column - b.column || cmpStr(a.message, b.message),
  );
}

/** Rules deduplicated by id (first wins) and sorted by id. */
export function sortRules(rules: readonly RuleMeta[]): RuleMeta[] {
  const byId = new Map<string, RuleMeta>();
  for (const r of rules) if (!byId.has(r.id)) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => cmpStr(a.id, b.id));
}

export type SeverityCounts = Record<Severity, number>;

export function countBySeverity(findings: readonly Finding[]): SeverityCounts {
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1 critical, 2 high": the non-zero severities, worst first. */
export function severityBreakdown(counts: SeverityCounts): string {
  return SEVERITIES.filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
}

/** Number of distinct files among the errors. */
export function errorFileCount(errors: readonly LintError[]): number {
  return new Set(errors.map((e) => e.file)).size;
}

/**
 * The closing count line shared by the text reporter and the step summary, e.g.
 * `3 findings (1 critical, 2 high) in 12 files, errors in 1 file` or `no findings in 12 files`.
 */
export function countLine(result: LintResult): string {
  const counts = countBySeverity(result.findings);
  const n = result.findings.length;
  const head = n === 0 ? 'no findings' : `${plural(n, 'finding')} (${severityBreakdown(counts)})`;
  let line = `${head} in ${plural(result.stats.files, 'file')}`;
  const bad = errorFileCount(result.errors);
  if (bad > 0) line += `, errors in ${plural(bad, 'file')}`;
  return line;
}

/**
 * A path as reported to GitHub: forward slashes, no leading `./`, and relative to `root` when the
 * path is absolute and a root is given. Relative paths are taken to be relative to `root` already.
 */
export function repoPath(file: string, root?: string): string {
  let f = file;
  if (root !== undefined) {
    let rel: string | undefined;
    if (path.isAbsolute(f)) rel = path.relative(path.resolve(root), f);
    else if (/^[A-Za-z]:[\\/]/.test(f) && /^[A-Za-z]:[\\/]/.test(root)) rel = path.win32.relative(root, f);
    if (rel) f = rel;
  }
  f = f.replace(/\\/g, '/');
  while (f.startsWith('./')) f = f.slice(2);
  return f;
}

// C0 controls except tab and newline, DEL, C1 controls (0x9b is a one-byte CSI on some terminals),
// and the Unicode bidirectional overrides that can make displayed text differ from its bytes.
// eslint-disable-next-line no-control-regex
const UNSAFE_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Neutralise characters a terminal would act on. Each is replaced by one visible, inert character
 * (a C0 control by its Unicode "control picture", e.g. ESC by `␛`; anything else by `�`), so an
 * injection attempt is shown rather than hidden and column arithmetic stays one cell per character.
 * Tab and newline are kept; callers lay them out.
 */
export function sanitizeTerminal(s: string): string {
  return s.replace(UNSAFE_RE, (ch) => {
    const cp = ch.charCodeAt(0);
    if (cp < 0x20) return String.fromCharCode(0x2400 + cp);
    if (cp === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

/** Split source text into lines; `\r\n` and `\n` both end a line and the `\r` is dropped. */
export function splitLines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/**
 * Greedy word wrap. Existing newlines are kept as hard breaks; over-long words are not split, and
 * neither is a `code span`: it stays on one line, so it can be copied and pasted as it is.
 */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    const words = unbreakable(para.split(/[ \t]+/).filter((w) => w !== ''));
    if (words.length === 0) {
      out.push('');
      continue;
    }
    let line = '';
    for (const w of words) {
      if (line === '') line = w;
      else if (line.length + 1 + w.length <= width) line += ` ${w}`;
      else {
        out.push(line);
        line = w;
      }
    }
    out.push(line);
  }
  // Drop trailing blank lines a trailing newline would leave.
  while (out.length > 1 && out[out.length - 1] === '') out.pop();
  return out;
}

/** Words joined back together where they sit inside one backtick code span. */
function unbreakable(words: string[]): string[] {
  const out: string[] = [];
  let open = false;
  for (const w of words) {
    if (open) out[out.length - 1] += ` ${w}`;
    else out.push(w);
    if ((w.match(/`/g)?.length ?? 0) % 2 === 1) open = !open;
  }
  return out;
}

/**
 * Findings grouped by the step they are in (file, job, step), in the order of each group's first
 * finding: a step's findings share what is held there and usually the fix, said once.
 */
export function groupByStep(sorted: readonly Finding[]): Finding[][] {
  const groups = new Map<string, Finding[]>();
  for (const f of sorted) {
    const key = [f.file, f.job ?? '', f.step ?? ''].join('\0');
    const group = groups.get(key);
    if (group) group.push(f);
    else groups.set(key, [f]);
  }
  return [...groups.values()];
}

/** `agent holds` or `step holds`: who holds a finding's capabilities. */
export function holdsLabel(f: Finding): string {
  return f.holder === 'step' ? 'step holds' : 'agent holds';
}

export function capitalised(s: string): string {
  return s ? `${s[0].toUpperCase()}${s.slice(1)}` : s;
}

/** What makes two findings' holdings the same: who holds and what. */
export function holdingKey(f: Finding): string {
  return `${holdsLabel(f)}\0${f.capabilities.join('\0')}`;
}

/**
 * A group's fix, said once: the sentences every finding's fix has (rules `null`), then what only
 * some have, with their rules. Two rules' fixes often share most of their advice.
 */
export function fixesOf(group: readonly Finding[]): [rules: string[] | null, text: string][] {
  const byFix = new Map<string, string[]>();
  for (const f of group) {
    const fix = f.fix.trim();
    if (fix === '') continue;
    const rules = byFix.get(fix) ?? [];
    if (!rules.includes(f.rule)) rules.push(f.rule);
    byFix.set(fix, rules);
  }
  const fixes = [...byFix];
  if (fixes.length === 1) return [[null, fixes[0][0]]];
  const sentenced = fixes.map(([fix, rules]) => ({ rules, sentences: sentences(fix) }));
  const everywhere = sentenced[0].sentences.filter((s) => sentenced.every((f) => f.sentences.includes(s)));
  const out: [string[] | null, string][] = [];
  if (everywhere.length) out.push([null, everywhere.join(' ')]);
  for (const f of sentenced) {
    const own = f.sentences.filter((s) => !everywhere.includes(s));
    if (own.length) out.push([f.rules, own.join(' ')]);
  }
  return out;
}

/** Sentences of a fix: split after a full stop, never inside a `code` span. */
function sentences(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const word of unbreakable(text.split(/\s+/).filter((w) => w !== ''))) {
    current.push(word);
    if (/[.!?]`?\)?$/.test(word) && !/(^|\()(e\.g|i\.e)\.$/.test(word)) {
      out.push(current.join(' '));
      current = [];
    }
  }
  if (current.length) out.push(current.join(' '));
  return out;
}
