// Machine-readable report. The shape is versioned (`version: 1`) and every object is built
// key by key so the key order is stable; absent optional values are `null`, never missing.

import type { Finding, LintError, LintResult, LintStats, PathHop } from '../checks/types';
import { TOOL_NAME, TOOL_URI, sortErrors, sortFindings } from './common';

export const JSON_REPORT_VERSION = 1;

export interface JsonOptions {
  toolVersion: string;
}

export interface JsonHop {
  file: string;
  line: number;
  column: number;
  note: string;
}

export interface JsonFinding {
  rule: string;
  severity: Finding['severity'];
  confidence: Finding['confidence'];
  file: string;
  line: number;
  column: number;
  endLine: number | null;
  endColumn: number | null;
  job: string | null;
  step: string | null;
  message: string;
  path: JsonHop[];
  related: JsonHop[];
  capabilities: string[];
  /** Who holds the capabilities: the agent, or a step that is no agent. */
  holder: 'agent' | 'step';
  fix: string;
}

export interface JsonError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface JsonReport {
  version: 1;
  tool: { name: string; version: string; informationUri: string };
  findings: JsonFinding[];
  errors: JsonError[];
  stats: LintStats;
}

export function toJsonReport(result: LintResult, opts: JsonOptions): JsonReport {
  return {
    version: JSON_REPORT_VERSION,
    tool: { name: TOOL_NAME, version: opts.toolVersion, informationUri: TOOL_URI },
    findings: sortFindings(result.findings).map(jsonFinding),
    errors: sortErrors(result.errors).map(jsonError),
    stats: jsonStats(result.stats),
  };
}

export function formatJson(result: LintResult, opts: JsonOptions): string {
  return `${JSON.stringify(toJsonReport(result, opts), null, 2)}\n`;
}

function jsonFinding(f: Finding): JsonFinding {
  return {
    rule: f.rule,
    severity: f.severity,
    confidence: f.confidence,
    file: f.file,
    line: f.line,
    column: f.column,
    endLine: f.endLine ?? null,
    endColumn: f.endColumn ?? null,
    job: f.job ?? null,
    step: f.step ?? null,
    message: f.message,
    path: f.path.map(jsonHop),
    related: (f.related ?? []).map(jsonHop),
    capabilities: [...f.capabilities],
    holder: f.holder ?? 'agent',
    fix: f.fix,
  };
}

function jsonHop(h: PathHop): JsonHop {
  return { file: h.file, line: h.line, column: h.column, note: h.note };
}

function jsonError(e: LintError): JsonError {
  return { file: e.file, line: e.line, column: e.column, message: e.message };
}

function jsonStats(s: LintStats): LintStats {
  return {
    files: s.files,
    workflows: s.workflows,
    actions: s.actions,
    jobs: s.jobs,
    steps: s.steps,
    agentSteps: s.agentSteps,
    durationMs: s.durationMs,
    threads: s.threads ?? 1,
  };
}
