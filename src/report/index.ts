// The output layer: one entry point, one module per format.
//
// Colour is the caller's decision, made once for the stream the report goes to:
//
//   const color = colorEnabled(process.stdout.isTTY, process.env);
//   process.stdout.write(formatReport(result, 'text', { color, toolVersion }));
//
// `colorEnabled` honours NO_COLOR (https://no-color.org: any non-empty value turns colour off),
// then FORCE_COLOR, then TERM=dumb, and otherwise colours only a TTY. Reporters never look at the
// environment themselves, so their output depends only on their arguments.

import type { LintResult } from '../checks/types';
import { formatGithub } from './github';
import { formatJson } from './json';
import { formatSarif } from './sarif';
import { formatText } from './text';

export type Format = 'text' | 'json' | 'sarif' | 'github';

export const FORMATS: readonly Format[] = ['text', 'json', 'sarif', 'github'];

export function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}

export interface ReportOptions {
  /** ANSI colour in the text format; see {@link colorEnabled}. Ignored by the other formats. */
  color?: boolean;
  toolVersion: string;
  /** base dir findings' file paths are relative to, for SARIF uri */
  root?: string;
}

/**
 * Render a lint result. Every format ends with a newline, except `github` with nothing to say,
 * which is the empty string. Findings are always in file, line, column, rule order.
 */
export function formatReport(result: LintResult, format: Format, opts: ReportOptions): string {
  switch (format) {
    case 'text':
      return formatText(result, { color: opts.color });
    case 'json':
      return formatJson(result, { toolVersion: opts.toolVersion });
    case 'sarif':
      return formatSarif(result, { toolVersion: opts.toolVersion, root: opts.root });
    case 'github':
      return formatGithub(result, { root: opts.root });
    default: {
      const never: never = format;
      throw new Error(`unknown report format: ${String(never)}`);
    }
  }
}

/** Whether to colour output written to a stream, following NO_COLOR / FORCE_COLOR conventions. */
export function colorEnabled(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.TERM === 'dumb') return false;
  return isTTY === true;
}

export { formatText, renderSnippet } from './text';
export { formatJson, toJsonReport } from './json';
export type { JsonReport, JsonFinding, JsonError, JsonHop } from './json';
export { formatSarif, toSarif, computeFingerprints, FINGERPRINT_KEY, SECURITY_SEVERITY } from './sarif';
export type { SarifLog } from './sarif';
export { formatGithub, escapeData, escapeProperty } from './github';
export { formatStepSummary, SUMMARY_LIMIT_BYTES } from './summary';
export type { SummaryOptions } from './summary';
export { sanitizeTerminal } from './common';
