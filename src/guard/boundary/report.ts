// What the boundary says about a run: a line per refused change and a count of applied ones on
// stderr, the same in the audit file and a section of the step summary. Paths are the agent's choice
// (newlines, `::`, `##[`, Markdown, bidi controls), so every one is escaped before it is shown.
import { type AuditLog, summaryText } from '../audit';
import type { ChangeSet, FileChange } from './types';

/** A path or reason as one inert line: JSON-style escapes for anything but printable ASCII, `##[` broken. */
export function printable(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.replace(/#/g, '\\x23').replace(/::/g, ':\\x3a');
}

export interface BoundaryOutcome {
  changes: ChangeSet;
  applied: FileChange[];
}

function counts(applied: FileChange[]): string {
  const n = (kind: FileChange['kind']) => applied.filter((c) => c.kind === kind).length;
  return `${n('write')} written, ${n('delete')} deleted, ${n('symlink')} symlink(s)`;
}

// A change set of a hundred thousand FIFOs must not become as many log lines.
const LOG_LINES = 100;

export function boundaryLines(outcome: BoundaryOutcome): string[] {
  const { refused } = outcome.changes;
  const lines = refused.slice(0, LOG_LINES).map((r) => `agent-guard: boundary: ${printable(r.path)}: ${printable(r.reason)}`);
  if (refused.length > LOG_LINES) lines.push(`agent-guard: boundary: and ${refused.length - LOG_LINES} more refused (every one is in the audit file)`);
  lines.push(
    `agent-guard: boundary: ${outcome.applied.length} change(s) applied to the workspace (${counts(outcome.applied)}), ` +
      `${outcome.changes.refused.length} refused`,
  );
  for (const c of outcome.changes.commits) lines.push(`agent-guard: boundary: commit ${c.sha} saved as ${c.ref}: ${printable(c.subject)}`);
  return lines;
}

export function recordBoundary(audit: AuditLog, outcome: BoundaryOutcome): void {
  const time = new Date().toISOString();
  for (const c of outcome.applied) {
    audit.addBoundary({ time, kind: 'boundary', outcome: 'applied', change: c.kind, path: c.path, ...(c.kind === 'write' ? { sha256: c.sha256, size: c.size, mode: c.mode.toString(8) } : {}), ...(c.kind === 'symlink' ? { target: c.target } : {}) });
  }
  for (const r of outcome.changes.refused) audit.addBoundary({ time, kind: 'boundary', outcome: 'refused', path: r.path, reason: r.reason });
  for (const c of outcome.changes.commits) audit.addBoundary({ time, kind: 'boundary', outcome: 'applied', change: 'commit', path: c.ref, sha: c.sha });
}

const SUMMARY_ROWS = 200;

export function boundaryMarkdown(outcome: BoundaryOutcome | undefined): string {
  if (!outcome) return '';
  const { refused, commits } = outcome.changes;
  const out = [
    '#### What came back from the agent',
    '',
    `${outcome.applied.length} change(s) applied to the workspace (${counts(outcome.applied)}), ${refused.length} refused.`,
    '',
  ];
  for (const c of commits) out.push(`Commit \`${c.sha}\` saved as \`${c.ref}\`: ${summaryText(c.subject)}`, '');
  if (refused.length > 0) {
    out.push('| refused path | why |', '| --- | --- |');
    for (const r of refused.slice(0, SUMMARY_ROWS)) out.push(`| ${summaryText(printable(r.path))} | ${summaryText(r.reason)} |`);
    if (refused.length > SUMMARY_ROWS) out.push('', `(${refused.length - SUMMARY_ROWS} more in the log and the audit file)`);
    out.push('');
  }
  return out.join('\n') + '\n';
}
