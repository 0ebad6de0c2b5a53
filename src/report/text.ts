// Human-readable report for a terminal: findings grouped by file and then by step, each with the
// offending source line and a caret and the taint path; once per step, what is held there and the
// fix. Text is wrapped between words, never inside a `code` span, so commands stay copy-pasteable.
//
// Everything that comes from a workflow (messages, notes, file names, source lines) goes through
// sanitizeTerminal, so a workflow cannot smuggle escape sequences into the user's terminal.

import type { Finding, LintError, LintResult, PathHop, Severity } from '../checks/types';
import { countLine, fixesOf, groupByStep, holdingKey, holdsLabel, sanitizeTerminal, sortErrors, sortFindings, splitLines, wrap } from './common';

export interface TextOptions {
  /** Emit ANSI colour. The caller decides (see `colorEnabled` in ./index); default off. */
  color?: boolean;
}

/** Tab stops every this many columns when a source line is shown. */
export const TAB_WIDTH = 4;
/** At most this many display columns of a source line are shown; longer lines are cut around the caret. */
export const MAX_SOURCE_WIDTH = 96;
/** Capabilities and fix are wrapped to this width (indent included). */
export const WRAP_WIDTH = 100;

type Paint = (codes: string, s: string) => string;

const SEVERITY_STYLE: Record<Severity, string> = {
  critical: '1;31',
  high: '31',
  medium: '33',
  low: '36',
};

const INDENT = '    ';

export function formatText(result: LintResult, opts: TextOptions = {}): string {
  const paint: Paint = opts.color ? (codes, s) => (s === '' ? s : `\x1b[${codes}m${s}\x1b[0m`) : (_c, s) => s;
  const out: string[] = [];
  const lineCache = new Map<string, string[] | undefined>();
  const linesOf = (file: string): string[] | undefined => {
    if (!lineCache.has(file)) {
      const text = result.sources.get(file);
      lineCache.set(file, text === undefined ? undefined : splitLines(text));
    }
    return lineCache.get(file);
  };

  let currentFile: string | undefined;
  for (const group of groupByStep(sortFindings(result.findings))) {
    const file = group[0].file;
    if (file !== currentFile) {
      if (currentFile !== undefined) out.push('');
      currentFile = file;
      out.push(paint('1;4', sanitizeTerminal(oneLine(file))));
    } else {
      out.push('');
    }
    out.push(...renderGroup(group, linesOf(file), paint));
  }

  const errors = sortErrors(result.errors);
  if (errors.length > 0) {
    if (out.length > 0) out.push('');
    for (const e of errors) out.push(renderError(e, paint));
  }

  if (out.length > 0) out.push('');
  const summary = countLine(result);
  out.push(result.findings.length > 0 ? paint('1', summary) : summary);
  return `${out.join('\n')}\n`;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function loc(file: string, line: number, column: number): string {
  return `${sanitizeTerminal(oneLine(file))}:${line}:${column}`;
}

function renderError(e: LintError, paint: Paint): string {
  return `${loc(e.file, e.line, e.column)}: ${paint('1;31', 'error')}: ${sanitizeTerminal(oneLine(e.message).trim())}`;
}

/**
 * A step's findings, then once for all of them: where they are, what is held there, and the fix.
 * What the findings do not share (two rules' different fixes, different holdings) is said per
 * finding or labelled with its rules.
 */
function renderGroup(group: Finding[], lines: string[] | undefined, paint: Paint): string[] {
  const out: string[] = [];
  const holdings = new Set(group.map(holdingKey));
  group.forEach((f, i) => {
    out.push(...renderFinding(f, lines, paint, i > 0 ? group[i - 1].path : []));
    if (holdings.size > 1) out.push(...renderHolding(f, paint));
  });
  const first = group[0];
  if (first.job !== undefined || first.step !== undefined) {
    const where: string[] = [];
    if (first.job !== undefined) where.push(`job ${sanitizeTerminal(oneLine(first.job))}`);
    if (first.step !== undefined) where.push(`step ${sanitizeTerminal(oneLine(first.step))}`);
    out.push(`${INDENT}${paint('2', `in ${where.join(', ')}`)}`);
  }
  if (holdings.size === 1) out.push(...renderHolding(first, paint));
  for (const [rules, fix] of fixesOf(group)) out.push(...labelled(rules ? `fix (${rules.join(', ')})` : 'fix', sanitizeTerminal(fix), paint));
  return out;
}

function renderHolding(f: Finding, paint: Paint): string[] {
  if (f.capabilities.length === 0) return [];
  return labelled(holdsLabel(f), f.capabilities.map((c) => sanitizeTerminal(oneLine(c))).join(', '), paint);
}

/** How many hops two paths share from their start. */
function sharedHops(a: readonly PathHop[], b: readonly PathHop[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n].file === b[n].file && a[n].line === b[n].line && a[n].column === b[n].column && a[n].note === b[n].note) n++;
  return n;
}

/** `previousPath`: the path of the finding printed just before in the same step, whose start is not repeated. */
function renderFinding(f: Finding, lines: string[] | undefined, paint: Paint, previousPath: readonly PathHop[]): string[] {
  const out: string[] = [];
  const [first, ...rest] = sanitizeTerminal(f.message).split('\n');
  out.push(
    `${paint('1', loc(f.file, f.line, f.column))} ${paint(SEVERITY_STYLE[f.severity], f.severity)} ${paint('2', sanitizeTerminal(f.rule))} ${first}`,
  );
  for (const l of rest) out.push(`${INDENT}${l}`);

  const line = lines && f.line >= 1 && f.line <= lines.length ? lines[f.line - 1] : undefined;
  if (line !== undefined) {
    const endCol = f.endLine === undefined || f.endLine === f.line ? f.endColumn : undefined;
    const snip = renderSnippet(line, f.column, endCol);
    const num = String(f.line);
    const pad = ' '.repeat(num.length);
    out.push(`  ${paint('34', `${num} |`)} ${snip.text}`);
    out.push(`  ${paint('34', `${pad} |`)} ${' '.repeat(snip.caret)}${paint(`1;${SEVERITY_STYLE[f.severity].replace(/^1;/, '')}`, snip.marker)}`);
  }

  // A step's findings often come the same way: say the shared start once (the last hop always shows).
  const shared = Math.min(sharedHops(f.path, previousPath), f.path.length - 1);
  if (shared >= 2) out.push(`  ${paint('35', '↳')} ${paint('2', `(the first ${shared} hops as above)`)}`);
  for (const hop of shared >= 2 ? f.path.slice(shared) : f.path) {
    const note = sanitizeTerminal(hop.note).split('\n');
    out.push(`  ${paint('35', '↳')} ${loc(hop.file, hop.line, hop.column)} ${note[0]}`);
    for (const l of note.slice(1)) out.push(`${INDENT}${l}`);
  }

  for (const hop of f.related ?? []) {
    out.push(`  ${paint('35', '+')} ${loc(hop.file, hop.line, hop.column)} ${sanitizeTerminal(oneLine(hop.note))}`);
  }

  if (f.confidence !== 'high') out.push(`${INDENT}${paint('2', `confidence: ${f.confidence}`)}`);
  return out;
}

/** `    label: text` wrapped with a hanging indent so continuation lines align after the label. */
function labelled(label: string, text: string, paint: Paint): string[] {
  const hang = INDENT + ' '.repeat(label.length + 2);
  const lines = wrap(text, WRAP_WIDTH - hang.length);
  return lines.map((l, i) => (i === 0 ? `${INDENT}${paint('1', `${label}:`)} ${l}` : l === '' ? '' : `${hang}${l}`));
}

// ---------------------------------------------------------------------------------------------
// Source line with caret

interface Cell {
  /** What is printed for this character (tabs expanded, controls neutralised). */
  text: string;
  width: number;
  /** UTF-16 index of the character in the original line. */
  index: number;
}

export interface Snippet {
  /** The (possibly cut) line as displayed. */
  text: string;
  /** Display columns before the caret. */
  caret: number;
  /** `^` followed by `~` under the rest of the span. */
  marker: string;
}

/**
 * Lay out `line` for display with a caret under 1-based UTF-16 column `column`. Tabs expand to
 * the next multiple of {@link TAB_WIDTH}; wide (CJK, emoji) characters count as two columns and
 * combining marks as none. A line wider than `maxWidth` is cut to a window around the caret, with
 * `…` where text was left out. `endColumn` (exclusive, same line) extends the marker with `~`.
 */
export function renderSnippet(line: string, column: number, endColumn?: number, maxWidth = MAX_SOURCE_WIDTH): Snippet {
  const cells: Cell[] = [];
  let disp = 0;
  let index = 0;
  for (const ch of line) {
    let text: string;
    let width: number;
    if (ch === '\t') {
      width = TAB_WIDTH - (disp % TAB_WIDTH);
      text = ' '.repeat(width);
    } else {
      text = sanitizeTerminal(ch);
      width = charWidth(text.codePointAt(0) ?? 0);
    }
    cells.push({ text, width, index });
    disp += width;
    index += ch.length;
  }
  const total = disp;

  const displayAt = (col: number): number => {
    let d = 0;
    for (const c of cells) {
      if (c.index >= col - 1) return d;
      d += c.width;
    }
    return d; // past the end: caret just after the last character
  };
  const caretAbs = displayAt(Math.max(1, column));
  let spanEnd = caretAbs + 1;
  if (endColumn !== undefined && endColumn > column) spanEnd = Math.max(spanEnd, displayAt(endColumn));

  let start = 0;
  let end = total;
  if (total > maxWidth) {
    start = Math.max(0, caretAbs - Math.floor(maxWidth / 3));
    end = start + maxWidth;
    if (end > total) {
      end = total;
      start = Math.max(0, total - maxWidth);
    }
  }

  let text = '';
  let d = 0;
  for (const c of cells) {
    if (d >= start && d + c.width <= end) text += c.text;
    d += c.width;
  }
  // Display column where the shown text starts (a wide character straddling `start` is dropped).
  let shownStart = 0;
  d = 0;
  for (const c of cells) {
    if (d >= start) {
      shownStart = d;
      break;
    }
    d += c.width;
    shownStart = d;
  }
  const lead = start > 0 ? '…' : '';
  const tail = end < total ? '…' : '';
  text = `${lead}${text.trimEnd()}${tail}`;

  const caret = caretAbs - shownStart + lead.length;
  const visibleEnd = Math.min(spanEnd, end);
  const marker = `^${'~'.repeat(Math.max(0, visibleEnd - caretAbs - 1))}`;
  return { text, caret: Math.max(0, caret), marker };
}

/** Display width of one code point in a monospace terminal (a practical subset of wcwidth). */
export function charWidth(cp: number): number {
  if (cp === 0) return 0;
  // Combining marks, zero-width space/joiners, variation selectors.
  if (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe20 && cp <= 0xfe2f) ||
    (cp >= 0x200b && cp <= 0x200d) ||
    (cp >= 0xfe00 && cp <= 0xfe0f)
  ) {
    return 0;
  }
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f680 && cp <= 0x1f6ff) ||
    (cp >= 0x1f7e0 && cp <= 0x1f7eb) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x1fa70 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}
