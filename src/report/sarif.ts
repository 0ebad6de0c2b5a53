// SARIF 2.1.0 for GitHub code scanning (and any other SARIF viewer).
//
// Notes on what GitHub reads:
// - rules carry `properties.security-severity` as a string number, which sets the alert's severity.
//   GitHub reads it from the rule only, never from the result, and one rule's findings range from
//   low to critical; so a finding whose severity is not its rule's gets a rule of its own,
//   `RULE/SEVERITY` (`agent-reads-untrusted/low`), whose security-severity is the finding's. The
//   result also carries it in its properties, for viewers that read it there;
// - `partialFingerprints` lets alerts follow a finding when lines move; ours hashes rule, file,
//   job, step and the message with line numbers taken out, plus an occurrence number among
//   findings that hash alike (as GitHub's own line hash does);
// - artifact URIs are relative to `%SRCROOT%` (the repository root) with forward slashes.

import { createHash } from 'crypto';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Finding, LintError, LintResult, RuleMeta, Severity } from '../checks/types';
import { severityRank } from '../checks/types';
import { TOOL_NAME, TOOL_URI, holdsLabel, repoPath, sortErrors, sortFindings, sortRules } from './common';

export interface SarifOptions {
  toolVersion: string;
  /** Base directory the findings' file paths are relative to; absolute paths are made relative to it. */
  root?: string;
}

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const SRCROOT = '%SRCROOT%';
/** The key under `partialFingerprints`; bump the suffix if the hash inputs ever change. */
export const FINGERPRINT_KEY = 'agentGuardFindingHash/v1';

export type SarifLevel = 'error' | 'warning' | 'note';

export const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
};

export function sarifLevel(s: Severity): SarifLevel {
  return s === 'critical' || s === 'high' ? 'error' : s === 'medium' ? 'warning' : 'note';
}

// A loose structural type: enough to keep the builder honest without restating the whole schema.
type Json = string | number | boolean | null | Json[] | { [k: string]: Json | undefined };
export type SarifLog = { [k: string]: Json | undefined };

export function toSarif(result: LintResult, opts: SarifOptions): SarifLog {
  const rules = sortRules(result.rules);
  const ruleIndex = new Map<string, number>();
  const descriptors: Json[] = [];
  for (const r of rules) {
    ruleIndex.set(r.id, descriptors.length);
    descriptors.push(ruleDescriptor(r));
  }

  const findings = sortFindings(result.findings);
  const metaOf = new Map(rules.map((r) => [r.id, r]));
  // A finding whose rule is missing from result.rules still needs a descriptor for ruleIndex.
  for (const f of findings) {
    if (!metaOf.has(f.rule)) {
      const fallback = fallbackRule(f.rule, findings);
      metaOf.set(f.rule, fallback);
      ruleIndex.set(f.rule, descriptors.length);
      descriptors.push(ruleDescriptor(fallback));
    }
  }
  // The rule a result points at: its own, or its own at the finding's severity.
  const sarifRuleId = (f: Finding): string => {
    const meta = metaOf.get(f.rule)!;
    if (meta.severity === f.severity) return f.rule;
    const id = `${f.rule}/${f.severity}`;
    if (!ruleIndex.has(id)) {
      ruleIndex.set(id, descriptors.length);
      descriptors.push(ruleDescriptor(meta, f.severity));
    }
    return id;
  };

  const fingerprints = computeFingerprints(findings, opts.root);
  const results: Json[] = findings.map((f, i) => {
    const id = sarifRuleId(f);
    return sarifResult(f, id, ruleIndex.get(id)!, fingerprints[i], opts.root);
  });

  const errors = sortErrors(result.errors);
  // As the CLI's exit code: unsuccessful when there were errors and not one workflow was linted.
  const nothingRead = errors.length > 0 && result.stats.workflows === 0;
  const invocation: { [k: string]: Json } = { executionSuccessful: !nothingRead };
  if (errors.length > 0) invocation.toolExecutionNotifications = errors.map((e) => notification(e, opts.root));

  const driver: { [k: string]: Json } = {
    name: TOOL_NAME,
    version: opts.toolVersion,
  };
  if (/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(opts.toolVersion)) {
    driver.semanticVersion = opts.toolVersion;
  }
  driver.informationUri = TOOL_URI;
  driver.rules = descriptors;

  const run: { [k: string]: Json } = {
    tool: { driver },
    invocations: [invocation],
  };
  if (opts.root !== undefined) run.originalUriBaseIds = { [SRCROOT]: { uri: dirUri(opts.root) } };
  run.results = results;
  // Columns are JavaScript string indices (what the YAML parser reports), i.e. UTF-16 code units.
  run.columnKind = 'utf16CodeUnits';

  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [run],
  };
}

export function formatSarif(result: LintResult, opts: SarifOptions): string {
  return `${JSON.stringify(toSarif(result, opts), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Rules

/** A rule's descriptor; with `severity`, the same rule for its findings of that severity. */
function ruleDescriptor(r: RuleMeta, severity?: Severity): Json {
  const plain = markdownToText(r.help).trim();
  const full = markdownToText(firstParagraph(r.help)).trim() || r.title;
  const docsNote = r.docs && !r.help.includes(r.docs);
  const level = severity ?? r.severity;
  const d: { [k: string]: Json } = {
    id: severity ? `${r.id}/${severity}` : r.id,
    name: pascalCase(severity ? `${r.id}-${severity}` : r.id),
    shortDescription: { text: severity ? `${r.title} (${severity})` : r.title },
    fullDescription: { text: full },
    defaultConfiguration: { level: sarifLevel(level) },
  };
  if (r.docs) d.helpUri = r.docs;
  d.help = {
    text: (plain || r.title) + (docsNote ? `\n\nDocumentation: ${r.docs}` : ''),
    markdown: (r.help.trim() || r.title) + (docsNote ? `\n\n[Documentation](${r.docs})` : ''),
  };
  d.properties = {
    'security-severity': SECURITY_SEVERITY[level],
    tags: ['security', 'github-actions', 'ai-agent'],
  };
  return d;
}

function fallbackRule(id: string, findings: readonly Finding[]): RuleMeta {
  let severity: Severity = 'low';
  for (const f of findings) if (f.rule === id && severityRank(f.severity) > severityRank(severity)) severity = f.severity;
  return { id, title: id, severity, help: '', docs: '' };
}

/** `untrusted-input-to-agent` → `UntrustedInputToAgent`. */
export function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

/** A light Markdown → plain text pass for SARIF `text` fields (code marks, emphasis, links, headings). */
export function markdownToText(md: string): string {
  return md
    .replace(/\r\n/g, '\n')
    .replace(/^```[^\n]*\n([\s\S]*?)^```[ \t]*$/gm, (_m, body: string) => body.replace(/\n$/, ''))
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\(([^)\s]+)[^)]*\)/g, (_m, text: string, url: string) => (text === url ? url : `${text} (${url})`))
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/^#{1,6}[ \t]+/gm, '')
    .replace(/(\*\*|__)(?=\S)([^\n]*?\S)\1/g, '$2')
    .replace(/(^|[\s(])[*_](?=\S)([^*_\n]*?\S)[*_](?=[\s).,;:!?]|$)/gm, '$1$2');
}

/** The first Markdown paragraph that is not a heading or a code fence, on one line. */
function firstParagraph(md: string): string {
  for (const p of md.replace(/\r\n/g, '\n').split(/\n[ \t]*\n/)) {
    const t = p.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('```')) continue;
    return t.replace(/\s*\n\s*/g, ' ');
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Results

function sarifResult(f: Finding, ruleId: string, ruleIndex: number, fingerprint: string, root: string | undefined): Json {
  const r: { [k: string]: Json } = {
    ruleId,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: resultMessage(f) },
    locations: [{ physicalLocation: physicalLocation(f.file, f, root) }],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint },
  };
  if (f.related?.length) {
    r.relatedLocations = f.related.map((h, id) => ({ id, physicalLocation: physicalLocation(h.file, h, root), message: { text: h.note } }));
  }
  if (f.path.length > 0) {
    r.codeFlows = [
      {
        threadFlows: [
          {
            locations: f.path.map((h) => ({
              location: { physicalLocation: physicalLocation(h.file, h, root), message: { text: h.note } },
            })),
          },
        ],
      },
    ];
  }
  const props: { [k: string]: Json } = {
    'security-severity': SECURITY_SEVERITY[f.severity],
    rule: f.rule,
    severity: f.severity,
    confidence: f.confidence,
    capabilities: [...f.capabilities],
  };
  if (f.job !== undefined) props.job = f.job;
  if (f.step !== undefined) props.step = f.step;
  r.properties = props;
  return r;
}

function resultMessage(f: Finding): string {
  const parts = [f.message.trim()];
  if (f.capabilities.length > 0) parts.push(`The ${holdsLabel(f)}: ${f.capabilities.join(', ')}.`);
  if (f.fix.trim() !== '') parts.push(`Fix: ${f.fix.trim()}`);
  return parts.join('\n\n');
}

interface Span {
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

function physicalLocation(file: string, span: Span, root: string | undefined): Json {
  const loc: { [k: string]: Json } = { artifactLocation: artifactLocation(file, root) };
  const region = sarifRegion(span);
  if (region) loc.region = region;
  return loc;
}

/** SARIF regions are 1-based like ours; anything below 1 (unknown) is left out rather than invented. */
export function sarifRegion(s: Span): { [k: string]: Json } | undefined {
  if (!(s.line >= 1)) return undefined;
  const region: { [k: string]: Json } = { startLine: s.line };
  const hasCol = s.column >= 1;
  if (hasCol) region.startColumn = s.column;
  const endLine = s.endLine !== undefined && s.endLine >= s.line ? s.endLine : undefined;
  if (endLine !== undefined) region.endLine = endLine;
  if (s.endColumn !== undefined && s.endColumn >= 1 && hasCol) {
    if ((endLine ?? s.line) > s.line || s.endColumn > s.column) {
      if (endLine === undefined) region.endLine = s.line;
      region.endColumn = s.endColumn;
    }
  }
  return region;
}

export function artifactLocation(file: string, root?: string): { uri: string; uriBaseId?: string } {
  const rel = repoPath(file, root);
  // Absolute (outside any root): a file URI with no base. Built by hand rather than with
  // pathToFileURL so a Windows path reads the same on every platform.
  if (rel.startsWith('/')) return { uri: `file://${encodePath(rel, false)}` };
  if (/^[A-Za-z]:\//.test(rel)) return { uri: `file:///${rel.slice(0, 2)}${encodePath(rel.slice(2), false)}` };
  return { uri: encodePath(rel, true), uriBaseId: SRCROOT };
}

/** Percent-encode a relative path so it is a valid URI reference without changing its meaning. */
export function encodeRelativeUri(rel: string): string {
  return encodePath(rel, true);
}

function encodePath(p: string, relative: boolean): string {
  return p
    .split('/')
    .map((seg, i) => {
      let e = encodeURI(seg).replace(/\?/g, '%3F').replace(/#/g, '%23');
      // In a relative reference, a colon in the first segment would be read as a URI scheme.
      if (relative && i === 0) e = e.replace(/:/g, '%3A');
      return e;
    })
    .join('/');
}

function dirUri(root: string): string {
  const href = pathToFileURL(path.resolve(root)).href;
  return href.endsWith('/') ? href : `${href}/`;
}

function notification(e: LintError, root: string | undefined): Json {
  return {
    level: 'error',
    message: { text: e.message },
    locations: [{ physicalLocation: physicalLocation(e.file, e, root) }],
  };
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

/**
 * The message with line and column references neutralised, so moving code does not change the
 * fingerprint: `line 12`, `lines 3-5`, `L12`, `col 4`, and `file.yml:12:4`.
 */
export function messageWithoutLines(message: string): string {
  return message
    .replace(/\b(lines?|ln|columns?|cols?)(\s*)\d+(?:\s*[-–,]\s*\d+)*/gi, '$1$2#')
    .replace(/\bL\d+(?:-L?\d+)?\b/g, 'L#')
    .replace(/(\.[A-Za-z0-9]+):\d+(?::\d+)?/g, '$1:#')
    .replace(/\s+/g, ' ')
    .trim();
}

export function findingFingerprintBase(f: Finding, root?: string): string {
  const parts = [FINGERPRINT_KEY, f.rule, repoPath(f.file, root), f.job ?? '', f.step ?? '', messageWithoutLines(f.message)];
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/** One fingerprint per finding, in the given order; the `:n` suffix numbers findings that hash alike. */
export function computeFingerprints(findings: readonly Finding[], root?: string): string[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const base = findingFingerprintBase(f, root);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${base}:${n}`;
  });
}
