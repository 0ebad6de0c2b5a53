// Markdown for $GITHUB_STEP_SUMMARY: headline, counts by severity and by rule, every finding in a
// collapsible block, and the errors (files that could not be read, bad ignore comments). Kept under GitHub's 1 MiB limit.
//
// Escaping: workflow text (messages, notes, fixes, file names, job and step names) is rendered
// through `md` in Markdown context (HTML-sensitive characters become entities, Markdown
// punctuation and `|` are backslash-escaped, newlines never start a new block) and through `html`
// inside <summary>, which GitHub treats as raw HTML.

import type { Finding, LintError, LintResult, RuleMeta, Severity } from '../checks/types';
import { SEVERITIES, severityRank } from '../checks/types';
import { TOOL_NAME, capitalised, compareFindings, countBySeverity, countLine, fixesOf, groupByStep, holdingKey, holdsLabel, plural, sortErrors, sortRules } from './common';

/** GitHub rejects a step summary larger than this. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

export interface SummaryOptions {
  /** Size budget in bytes (UTF-8); defaults to {@link SUMMARY_LIMIT_BYTES}. */
  maxBytes?: number;
}

const MAX_MESSAGE = 2000;
const MAX_FIX = 4000;
const MAX_NOTE = 300;
const MAX_HOPS = 30;
const MAX_SUMMARY_LINE = 160;

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function inert(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(CONTROL_RE, (ch) => {
    const cp = ch.charCodeAt(0);
    return cp < 0x20 ? String.fromCharCode(0x2400 + cp) : cp === 0x7f ? '\u2421' : '\ufffd';
  });
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Escape for raw HTML (inside <summary>): entities only; newlines become spaces. */
export function html(s: string): string {
  return inert(s)
    .replace(/[\n\t]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * Escape for Markdown inline text, safe in paragraphs and table cells: Markdown punctuation and
 * `|` get a backslash, `&`, `<`, `>` become entities, and newlines become spaces (or `<br>` when
 * `breaks` is set) so no workflow text can start a heading, list, table row or HTML block.
 */
export function md(s: string, breaks = false): string {
  const lines = inert(s)
    .split('\n')
    .map((l) =>
      l
        .replace(/\t/g, ' ')
        .replace(/[\\`*_[\]{}|~!#]/g, (c) => `\\${c}`)
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;'),
    );
  return lines.join(breaks ? '<br>' : ' ');
}

/** Inline code that is safe anywhere, tables included: `<code>` with escaped content. */
export function code(s: string): string {
  return `<code>${md(s)}</code>`;
}

/**
 * {@link md}, except that `backtick spans` become <code> (escaped inside), so the commands in a fix
 * show as code instead of as literal backticks.
 */
export function mdWithCode(s: string, breaks = false): string {
  return s
    .split(/(`[^`\n]+`)/)
    .map((part, i) => (i % 2 === 1 ? code(part.slice(1, -1)) : md(part, breaks)))
    .join('');
}

function docsLink(url: string): string {
  if (!/^https?:\/\/[^\s<>"]+$/.test(url)) return '';
  return `[docs](${url.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\|/g, '%7C')})`;
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function formatStepSummary(result: LintResult, opts: SummaryOptions = {}): string {
  const limit = opts.maxBytes ?? SUMMARY_LIMIT_BYTES;
  // Worst first, so that if the budget runs out it is the least severe findings that are left out.
  const findings = [...result.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || compareFindings(a, b));
  const errors = sortErrors(result.errors);
  const counts = countBySeverity(findings);

  const head: string[] = [];
  const icon = findings.length > 0 ? '⚠️' : errors.length > 0 ? '❗' : '✅';
  head.push(`## ${icon} ${TOOL_NAME}: ${countLine(result)}`, '');
  const s = result.stats;
  head.push(
    `Scanned ${plural(s.files, 'file')} (${plural(s.workflows, 'workflow')}, ${plural(s.actions, 'action')}): ` +
      `${plural(s.jobs, 'job')}, ${plural(s.steps, 'step')}, ${plural(s.agentSteps, 'agent step')}.`,
    '',
  );

  if (findings.length > 0) {
    head.push('| Severity | Findings |', '| --- | ---: |');
    for (const sev of SEVERITIES) head.push(`| ${sev} | ${counts[sev]} |`);
    head.push('');
    head.push(...ruleTable(findings, result.rules), '');
  }

  // Errors are capped at a quarter of the budget; findings get the rest.
  const tail = errors.length > 0 ? errorSection(errors, Math.floor(limit / 4)) : [];

  const headText = head.join('\n');
  const tailText = tail.length > 0 ? `${tail.join('\n')}\n` : '';
  const reserve = 512; // room for the truncation note
  let budget = limit - bytes(headText) - bytes(tailText) - reserve;

  const body: string[] = [];
  if (findings.length > 0) {
    body.push('### Findings', '');
    budget -= bytes('### Findings\n\n');
    let shown = 0;
    for (const group of groupByStep(findings)) {
      const block = groupBlock(group, budget);
      if (!block) break;
      body.push(block.text);
      budget -= bytes(block.text) + 1;
      shown += block.shown;
      if (block.shown < group.length) break;
    }
    if (shown < findings.length) {
      const more = findings.length - shown;
      body.push(
        `> [!NOTE]`,
        `> ${more} more finding${more === 1 ? '' : 's'} not shown: the summary is limited to ${Math.floor(limit / 1024)} KiB. ` +
          `Run ${TOOL_NAME} with \`--format json\` or \`--format sarif\` for the full list.`,
        '',
      );
    }
  }

  let out = `${headText}\n${body.length > 0 ? `${body.join('\n')}\n` : ''}${tailText}`;
  // Last resort (a tiny maxBytes): never exceed the limit.
  if (bytes(out) > limit) out = truncateBytes(out, limit);
  return out;
}

function ruleTable(findings: readonly Finding[], rules: readonly RuleMeta[]): string[] {
  const meta = new Map(sortRules(rules).map((r) => [r.id, r]));
  const byRule = new Map<string, { count: number; severity: Severity }>();
  for (const f of findings) {
    const e = byRule.get(f.rule);
    if (!e) byRule.set(f.rule, { count: 1, severity: f.severity });
    else {
      e.count++;
      if (severityRank(f.severity) > severityRank(e.severity)) e.severity = f.severity;
    }
  }
  const rows = [...byRule.entries()].sort(
    ([a, x], [b, y]) => severityRank(y.severity) - severityRank(x.severity) || y.count - x.count || (a < b ? -1 : a > b ? 1 : 0),
  );
  const out = ['| Rule | Severity | Findings | Docs |', '| --- | --- | ---: | --- |'];
  for (const [id, e] of rows) {
    const m = meta.get(id);
    const title = m ? ` ${md(m.title)}` : '';
    out.push(`| ${code(id)}${title} | ${e.severity} | ${e.count} | ${m ? docsLink(m.docs) : ''} |`);
  }
  return out;
}

/**
 * One step's findings in a <details> block within `budget` bytes: each finding (location, message,
 * path), then once for all of them where they are, what is held there and the fix. Undefined when
 * not even one finding fits; otherwise as many as fit, worst first.
 */
function groupBlock(group: readonly Finding[], budget: number): { text: string; shown: number } | undefined {
  const first = group[0];
  const where = [`${code(`${first.file}:${first.line}:${first.column}`)}`];
  if (first.job !== undefined) where.push(`job ${code(first.job)}`);
  if (first.step !== undefined) where.push(`step ${code(first.step)}`);
  const holdings = new Set(group.map(holdingKey));
  const tail: string[] = [];
  if (holdings.size === 1) tail.push(...holdingLines(first));
  for (const [rules, fix] of fixesOf(group)) {
    const label = rules ? `**Fix** (${rules.map((r) => code(r)).join(', ')}):` : '**Fix:**';
    tail.push(`${label} ${mdWithCode(clip(fix, MAX_FIX), true)}`, '');
  }
  tail.push('</details>', '');

  if (group.length === 1) {
    const f = first;
    const lines = [summaryLine(f.severity, `<code>${html(f.rule)}</code> <code>${html(`${f.file}:${f.line}`)}</code> ${html(firstLineOf(f))}`), ''];
    lines.push(`**Where:** ${where.join(', ')} (confidence: ${f.confidence})`, '');
    lines.push(`**Message:** ${mdWithCode(clip(f.message.trim(), MAX_MESSAGE), true)}`, '');
    if (f.path.length > 0) lines.push(`**Path:** ${pathText(f)}`, '');
    const text = [...lines, ...tail].join('\n');
    return bytes(text) + 1 <= budget ? { text, shown: 1 } : undefined;
  }

  const rules = [...new Set(group.map((f) => f.rule))].map((r) => `<code>${html(r)}</code>`).join(', ');
  const stepName = first.step !== undefined ? ` in step <code>${html(first.step)}</code>` : '';
  const head = [summaryLine(first.severity, `${group.length} findings${stepName} <code>${html(`${first.file}:${first.line}`)}</code> ${rules}`), ''];
  head.push(`**Where:** ${where.join(', ')}`, '');
  const fixed = bytes([...head, ...tail].join('\n')) + 2;
  let left = budget - fixed;
  const entries: string[] = [];
  let shown = 0;
  for (const f of group) {
    const entry = [
      `**${f.severity}** ${code(f.rule)} ${code(`${f.file}:${f.line}:${f.column}`)} ${mdWithCode(clip(f.message.trim(), MAX_MESSAGE), true)}` +
        (f.confidence !== 'high' ? ` (confidence: ${f.confidence})` : ''),
      '',
    ];
    if (f.path.length > 0) entry.push(`**Path:** ${pathText(f)}`, '');
    if (holdings.size > 1) entry.push(...holdingLines(f));
    const size = bytes(entry.join('\n')) + 1;
    if (size > left) break;
    entries.push(...entry);
    left -= size;
    shown++;
  }
  if (shown === 0) return undefined;
  return { text: [...head, ...entries, ...tail].join('\n'), shown };
}

function summaryLine(severity: Severity, rest: string): string {
  return `<details>\n<summary><strong>${severity}</strong> ${rest}</summary>`;
}

function firstLineOf(f: Finding): string {
  return clip(f.message.trim().split('\n')[0] ?? '', MAX_SUMMARY_LINE);
}

function pathText(f: Finding): string {
  const hops = f.path.slice(0, MAX_HOPS).map((h) => `${code(`${h.file}:${h.line}:${h.column}`)} ${md(clip(h.note, MAX_NOTE))}`);
  if (f.path.length > MAX_HOPS) hops.push(`… ${f.path.length - MAX_HOPS} more`);
  return hops.join(' → ');
}

/** `**Agent holds:**` (or `**Step holds:**`, for a finding that is not about an agent) and the list. */
function holdingLines(f: Finding): string[] {
  if (f.capabilities.length === 0) return [];
  return [`**${capitalised(holdsLabel(f))}:** ${f.capabilities.map((c) => code(c)).join(', ')}`, ''];
}

function errorSection(errors: readonly LintError[], budget: number): string[] {
  const out = ['### Errors', ''];
  let used = bytes(out.join('\n'));
  let shown = 0;
  for (const e of errors) {
    const line = `- ${code(`${e.file}:${e.line}:${e.column}`)}: ${md(clip(e.message.trim(), MAX_MESSAGE))}`;
    if (used + bytes(line) + 1 > budget) break;
    out.push(line);
    used += bytes(line) + 1;
    shown++;
  }
  if (shown < errors.length) out.push(`- … and ${errors.length - shown} more`);
  out.push('');
  return out;
}

function truncateBytes(s: string, limit: number): string {
  const buf = Buffer.from(s, 'utf8');
  let end = Math.max(0, limit);
  // Do not cut a multi-byte character in half.
  while (end > 0 && end < buf.length && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}
