// GitHub Actions workflow commands: one annotation per finding, shown on the run and the PR diff.
//
// The runner reads a line `::cmd k=v,k=v::data`. To keep workflow text from ending a command early
// or starting a new one, the data escapes `%`, CR and LF, and property values additionally `:` and
// `,` (the runner's own escaping rules). Other control characters are made visible and inert.

import type { Finding, LintError, LintResult, Severity } from '../checks/types';
import { TOOL_NAME, capitalised, holdsLabel, repoPath, sortErrors, sortFindings } from './common';

export interface GithubOptions {
  /** Repository root the paths are made relative to (annotations need workspace-relative paths). */
  root?: string;
}

// C0 controls other than tab/LF/CR (which the escaping handles), DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

function inert(s: string): string {
  return s.replace(CONTROL_RE, (ch) => {
    const cp = ch.charCodeAt(0);
    return cp < 0x20 ? String.fromCharCode(0x2400 + cp) : cp === 0x7f ? '\u2421' : '\ufffd';
  });
}

/** Escape a command's data (the part after the second `::`). */
export function escapeData(s: string): string {
  return inert(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escape a command property value. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function annotationCommand(s: Severity): 'error' | 'warning' | 'notice' {
  return s === 'critical' || s === 'high' ? 'error' : s === 'medium' ? 'warning' : 'notice';
}

function command(cmd: string, props: [string, string | number | undefined][], data: string): string {
  const p = props
    .filter((kv): kv is [string, string | number] => kv[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${cmd}${p ? ` ${p}` : ''}::${escapeData(data)}`;
}

export function formatGithub(result: LintResult, opts: GithubOptions = {}): string {
  const lines: string[] = [];
  for (const f of sortFindings(result.findings)) lines.push(findingAnnotation(f, opts.root));
  for (const e of sortErrors(result.errors)) lines.push(errorAnnotation(e, opts.root));
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function findingAnnotation(f: Finding, root: string | undefined): string {
  const sameLineEnd = f.endLine === undefined || f.endLine === f.line;
  const props: [string, string | number | undefined][] = [
    ['file', repoPath(f.file, root)],
    ['line', f.line >= 1 ? f.line : undefined],
    ['col', f.column >= 1 ? f.column : undefined],
    ['endLine', f.endLine !== undefined && f.endLine >= f.line ? f.endLine : undefined],
    // GitHub only honours endColumn on single-line annotations.
    ['endColumn', f.endColumn !== undefined && sameLineEnd && f.endColumn > f.column ? f.endColumn : undefined],
    ['title', `${TOOL_NAME} ${f.rule}`],
  ];
  return command(annotationCommand(f.severity), props, annotationBody(f, root));
}

/** The annotation text: message, where in the workflow, the path, what the agent (or step) holds, the fix. */
export function annotationBody(f: Finding, root?: string): string {
  const out = [f.message.trim(), `Severity: ${f.severity}, confidence: ${f.confidence}.`];
  const where: string[] = [];
  if (f.job !== undefined) where.push(`job ${f.job}`);
  if (f.step !== undefined) where.push(`step ${f.step}`);
  if (where.length > 0) out.push(`In ${where.join(', ')}.`);
  if (f.path.length > 0) {
    out.push('Path:');
    for (const h of f.path) out.push(`  ↳ ${repoPath(h.file, root)}:${h.line}:${h.column} ${h.note}`);
  }
  if (f.capabilities.length > 0) out.push(`${capitalised(holdsLabel(f))}: ${f.capabilities.join(', ')}`);
  if (f.fix.trim() !== '') out.push(`Fix: ${f.fix.trim()}`);
  return out.join('\n');
}

function errorAnnotation(e: LintError, root: string | undefined): string {
  return command(
    'error',
    [
      ['file', repoPath(e.file, root)],
      ['line', e.line >= 1 ? e.line : undefined],
      ['col', e.column >= 1 ? e.column : undefined],
      ['title', `${TOOL_NAME}: error`],
    ],
    e.message,
  );
}
