// Reports of an organisation scan: findings per repository ranked by severity, and a totals table
// (repositories scanned, with critical / high findings, top rules). Four formats:
//   markdown — what a security team pastes into an issue (kept under GitHub's 65,536-character body);
//   text     — the same for a terminal;
//   json     — everything, per repository, findings in the shape of `lint --format json`;
//   sarif    — one SARIF 2.1.0 log with one run per repository (automationDetails.id and
//              versionControlProvenance tell the runs apart).

import type { Finding, LintResult, Severity } from '../checks/types';
import { SEVERITIES, severityRank } from '../checks/types';
import { TOOL_NAME, TOOL_URI, cmpStr, countBySeverity, plural, sanitizeTerminal, severityBreakdown, sortErrors, sortFindings, type SeverityCounts } from '../report/common';
import { toJsonReport, type JsonError, type JsonFinding } from '../report/json';
import { toSarif, SARIF_SCHEMA_URI, type SarifLog } from '../report/sarif';
import { duration } from './github';
import { BASELINE_FILE, type RepoOutcome, type ScanResult } from './scan';

export type ScanFormat = 'text' | 'json' | 'sarif' | 'markdown';
export const SCAN_FORMATS: readonly ScanFormat[] = ['text', 'json', 'sarif', 'markdown'];

export function isScanFormat(s: string): s is ScanFormat {
  return (SCAN_FORMATS as readonly string[]).includes(s);
}

export interface ScanReportOptions {
  toolVersion: string;
  /** The `fail-on` of the organisation's required check (default `high`, as the template). */
  checkFailOn?: Severity;
  /** Rows shown per repository in markdown and text (the JSON and SARIF reports have all). */
  maxRowsPerRepo?: number;
}

export function formatScan(scan: ScanResult, format: ScanFormat, opts: ScanReportOptions): string {
  switch (format) {
    case 'markdown':
      return formatMarkdown(scan, opts);
    case 'text':
      return formatText(scan, opts);
    case 'json':
      return `${JSON.stringify(toScanJson(scan, opts), null, 2)}\n`;
    case 'sarif':
      return `${JSON.stringify(toScanSarif(scan, opts), null, 2)}\n`;
    default: {
      const never: never = format;
      throw new Error(`unknown scan format ${String(never)}`);
    }
  }
}

// ---- shared figures ----------------------------------------------------------------------------

interface Ranked {
  outcome: RepoOutcome;
  findings: Finding[];
  counts: SeverityCounts;
  worst: Severity | null;
}

export interface ScanTotals {
  listed: number;
  scanned: number;
  withCritical: number;
  withHigh: number;
  withFindings: number;
  withoutFindings: number;
  failed: number;
  noWorkflows: number;
  empty: number;
  withFileErrors: number;
  /** Repositories whose required check would fail (see checkVerdict). */
  wouldFailCheck: number;
  /** Findings recorded in the repositories' baselines (not in `findings`). */
  baselined: number;
  skipped: ScanResult['skipped'];
  findings: SeverityCounts;
}

export interface RuleTotal {
  rule: string;
  findings: number;
  repositories: number;
  worst: Severity;
}

/** Repositories with findings first: worst severity, then more critical, more high, …, then name. */
export function rankRepositories(scan: ScanResult): Ranked[] {
  return scan.repos
    .map((outcome) => {
      const findings = bySeverity(outcome.result?.findings ?? []);
      const counts = countBySeverity(findings);
      return { outcome, findings, counts, worst: findings[0]?.severity ?? null };
    })
    .sort((a, b) => {
      for (const s of SEVERITIES) if (a.counts[s] !== b.counts[s]) return b.counts[s] - a.counts[s];
      return cmpStr(a.outcome.repo.fullName.toLowerCase(), b.outcome.repo.fullName.toLowerCase());
    });
}

export function scanTotals(scan: ScanResult, checkFailOn: Severity = 'high'): ScanTotals {
  const scanned = scan.repos.filter((r) => r.status === 'scanned');
  const all = scanned.flatMap((r) => r.result!.findings);
  const has = (r: RepoOutcome, s: Severity) => r.result!.findings.some((f) => f.severity === s);
  return {
    listed: scan.listed,
    scanned: scanned.length,
    withCritical: scanned.filter((r) => has(r, 'critical')).length,
    withHigh: scanned.filter((r) => has(r, 'high')).length,
    withFindings: scanned.filter((r) => r.result!.findings.length).length,
    withoutFindings: scanned.filter((r) => !r.result!.findings.length).length,
    failed: scan.repos.filter((r) => r.status === 'failed').length,
    noWorkflows: scan.repos.filter((r) => r.status === 'no-workflows').length,
    empty: scan.repos.filter((r) => r.status === 'empty').length,
    withFileErrors: scanned.filter((r) => r.result!.errors.length).length,
    wouldFailCheck: scan.repos.filter((r) => checkVerdict(r, checkFailOn).verdict === 'fail').length,
    baselined: scanned.reduce((n, r) => n + (r.baselined ?? 0), 0),
    skipped: scan.skipped,
    findings: countBySeverity(all),
  };
}

/** Rules by how many findings they made (then how bad, then name). */
export function topRules(scan: ScanResult): RuleTotal[] {
  const byRule = new Map<string, RuleTotal>();
  for (const r of scan.repos) {
    const seen = new Set<string>();
    for (const f of r.result?.findings ?? []) {
      let t = byRule.get(f.rule);
      if (!t) byRule.set(f.rule, (t = { rule: f.rule, findings: 0, repositories: 0, worst: f.severity }));
      t.findings++;
      if (severityRank(f.severity) > severityRank(t.worst)) t.worst = f.severity;
      if (!seen.has(f.rule)) {
        seen.add(f.rule);
        t.repositories++;
      }
    }
  }
  return [...byRule.values()].sort((a, b) => b.findings - a.findings || severityRank(b.worst) - severityRank(a.worst) || cmpStr(a.rule, b.rule));
}

export interface CheckVerdict {
  /** `unknown`: the repository could not be read (no access, rate limit). */
  verdict: 'fail' | 'pass' | 'unknown';
  why?: string;
  todo?: string;
}

/**
 * What the organisation's required workflow (docs/org-required-workflow.md) would do on a pull request
 * here: it lints the repository offline with its own config and baseline and fails at `failOn`, or
 * when its config or baseline does not load, or when no workflow can be read. Findings inside remote
 * workflows, which the scan follows and the offline check does not, are reported but not counted.
 */
export function checkVerdict(outcome: RepoOutcome, failOn: Severity): CheckVerdict {
  if (outcome.status === 'no-workflows' || outcome.status === 'empty') return { verdict: 'pass' };
  if (outcome.status === 'failed') {
    return outcome.configError ? { verdict: 'fail', why: outcome.error ?? 'its agent-guard file does not load', todo: 'fix that file: the check stops on it' } : { verdict: 'unknown' };
  }
  const result = outcome.result!;
  if (result.stats.workflows === 0 && result.errors.length > 0) {
    const e = sortErrors(result.errors)[0];
    return { verdict: 'fail', why: `no workflow could be read (${e.file}:${e.line}: ${e.message})`, todo: 'fix the YAML' };
  }
  const threshold = severityRank(failOn);
  const blocking = result.findings.filter((f) => !REMOTE_FILE.test(f.file) && severityRank(f.severity) >= threshold);
  if (!blocking.length) return { verdict: 'pass' };
  return {
    verdict: 'fail',
    why: `${severityBreakdown(countBySeverity(blocking))} not in its baseline`,
    todo: `fix them, or record them: \`agent-guard lint . --write-baseline ${BASELINE_FILE}\` and commit the file`,
  };
}

/** Repositories whose required check would fail, in report order. */
function wouldFail(scan: ScanResult, failOn: Severity): { outcome: RepoOutcome; why: string; todo: string }[] {
  return rankRepositories(scan).flatMap((r) => {
    const v = checkVerdict(r.outcome, failOn);
    return v.verdict === 'fail' ? [{ outcome: r.outcome, why: v.why!, todo: v.todo! }] : [];
  });
}

function checkHeading(t: ScanTotals, failOn: Severity): string {
  return `Required check (fail-on: ${failOn}, each repository's baseline applied): ${t.wouldFailCheck === 0 ? 'no repository would fail it' : `${plural(t.wouldFailCheck, 'repository', 'repositories')} would fail it`}`;
}

function bySeverity(findings: readonly Finding[]): Finding[] {
  return sortFindings(findings).sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
}

function docsOf(scan: ScanResult, rule: string): string | undefined {
  for (const r of scan.repos) {
    const meta = r.result?.rules.find((m) => m.id === rule);
    if (meta) return meta.docs;
  }
  return undefined;
}

const REMOTE_FILE = /^([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+)\/(.+)@([^@/]+)$/;

/** A link to the line on GitHub: the repository's file at the scanned commit, or a remote file at its ref. */
export function lineUrl(outcome: RepoOutcome, file: string, line: number): string | undefined {
  const remote = REMOTE_FILE.exec(file);
  let web: URL;
  try {
    web = new URL(outcome.repo.htmlUrl);
  } catch {
    return undefined;
  }
  if (remote) return `${web.origin}/${remote[1]}/${remote[2]}/blob/${encodeURIComponent(remote[4])}/${remote[3]}#L${line}`;
  if (!outcome.commit) return undefined;
  return `${outcome.repo.htmlUrl}/blob/${outcome.commit}/${file}#L${line}`;
}

function skippedText(s: ScanResult['skipped']): string {
  const parts = [
    s.archived ? `${s.archived} archived` : '',
    s.forks ? plural(s.forks, 'fork') : '',
    s.disabled ? `${s.disabled} disabled` : '',
    s.filtered ? `${s.filtered} filtered out` : '',
  ].filter(Boolean);
  return parts.join(', ');
}

function requestsText(scan: ScanResult): string {
  const s = scan.stats;
  const parts = [`${plural(s.requests, 'API request')} (${s.notModified} answered 304, which costs no rate limit)`, `${plural(s.cacheHits, 'cache hit')}`];
  if (s.waitedMs) parts.push(`waited ${duration(s.waitedMs)} for the rate limit`);
  parts.push(`took ${(s.durationMs / 1000).toFixed(1)} s`);
  return parts.join(' · ');
}

function statusText(outcome: RepoOutcome): string {
  switch (outcome.status) {
    case 'no-workflows':
      return 'no workflows';
    case 'empty':
      return 'empty repository';
    default:
      return outcome.error ?? outcome.status;
  }
}

// ---- markdown ------------------------------------------------------------------------------------

/** GitHub refuses issue bodies over 65,536 characters; stop adding repositories before that. */
const MARKDOWN_BUDGET = 60_000;

/** Prose in a table cell: one line, no pipes, no HTML, no @mentions (outside code spans). */
function cell(text: string): string {
  return sanitizeTerminal(text)
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|')
    .split('`')
    .map((part, i) => (i % 2 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/@(?=[A-Za-z0-9])/g, '@\u200b')))
    .join('`');
}

/** A code span in a table cell. */
function code(text: string): string {
  return `\`${sanitizeTerminal(text).replace(/\r?\n/g, ' ').replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

export function formatMarkdown(scan: ScanResult, opts: ScanReportOptions): string {
  const maxRows = opts.maxRowsPerRepo ?? 20;
  const failOn = opts.checkFailOn ?? 'high';
  const t = scanTotals(scan, failOn);
  const ranked = rankRepositories(scan);
  const out: string[] = [];
  out.push(`## agent-guard scan of ${code(scan.org)}`, '');
  const skipped = skippedText(t.skipped);
  out.push(
    `Scanned the workflows of **${t.scanned}** of ${plural(t.listed, 'repository', 'repositories')} at the head of their default branch, following remote actions and reusable workflows` +
      `${skipped ? ` (skipped: ${skipped})` : ''}. ` +
      `**${t.withCritical}** ${t.withCritical === 1 ? 'has' : 'have'} critical findings and **${t.withHigh}** high.`,
    '',
  );
  out.push('| repositories | count |', '|---|---:|');
  out.push(`| scanned | ${t.scanned} |`);
  out.push(`| with critical findings | ${t.withCritical} |`);
  out.push(`| with high findings | ${t.withHigh} |`);
  out.push(`| with any finding | ${t.withFindings} |`);
  out.push(`| without findings | ${t.withoutFindings} |`);
  out.push(`| with files that could not be read | ${t.withFileErrors} |`);
  out.push(`| would fail the required check | ${t.wouldFailCheck} |`);
  out.push(`| not scanned: failed | ${t.failed} |`);
  out.push(`| not scanned: no workflows or empty | ${t.noWorkflows + t.empty} |`);
  out.push(`| skipped: archived / forks / filtered | ${t.skipped.archived} / ${t.skipped.forks} / ${t.skipped.filtered} |`, '');
  out.push('| severity | findings |', '|---|---:|');
  for (const s of SEVERITIES) out.push(`| ${s} | ${t.findings[s]} |`);
  if (t.baselined) out.push(`| recorded in baselines (not above) | ${t.baselined} |`);
  out.push('');
  out.push(`### ${cell(checkHeading(t, failOn))}`, '');
  const failing = wouldFail(scan, failOn);
  if (failing.length) {
    out.push('| repository | why | what to do |', '|---|---|---|');
    // A reason is one line of an error at most; 100 rows of them stay well inside the issue's budget.
    const short = (text: string) => (text.length > 240 ? `${text.slice(0, 239)}…` : text);
    for (const f of failing.slice(0, 100)) out.push(`| [${cell(f.outcome.repo.fullName)}](${f.outcome.repo.htmlUrl}) | ${cell(short(f.why))} | ${cell(f.todo)} |`);
    if (failing.length > 100) out.push(`| … | ${failing.length - 100} more | |`);
    out.push('');
  }
  const rules = topRules(scan);
  if (rules.length) {
    out.push('### Top rules', '', '| rule | findings | repositories | worst |', '|---|---:|---:|---|');
    for (const r of rules.slice(0, 10)) {
      const docs = docsOf(scan, r.rule);
      out.push(`| ${docs ? `[${r.rule}](${docs})` : r.rule} | ${r.findings} | ${r.repositories} | ${r.worst} |`);
    }
    out.push('');
  }
  const withFindings = ranked.filter((r) => r.findings.length);
  if (withFindings.length) out.push('### Findings by repository', '');
  let left = 0;
  for (const [i, r] of withFindings.entries()) {
    const section: string[] = [];
    const o = r.outcome;
    section.push(`#### [${cell(o.repo.fullName)}](${o.repo.htmlUrl}) — ${severityBreakdown(r.counts)}`, '');
    section.push('| severity | rule | where | finding |', '|---|---|---|---|');
    for (const f of r.findings.slice(0, maxRows)) {
      const url = lineUrl(o, f.file, f.line);
      const where = code(`${f.file}:${f.line}`);
      const job = [f.job && `job ${code(f.job)}`, f.step && `step ${code(f.step)}`].filter(Boolean).join(', ');
      section.push(`| **${f.severity}** | ${f.rule} | ${url ? `[${where}](${url})` : where}${job ? `<br>${job}` : ''} | ${cell(f.message)} |`);
    }
    if (r.findings.length > maxRows) section.push('', `…and ${r.findings.length - maxRows} more (\`--format json\` has them all).`);
    section.push('');
    if (out.join('\n').length + section.join('\n').length > MARKDOWN_BUDGET) {
      left = withFindings.length - i;
      break;
    }
    out.push(...section);
  }
  if (left) out.push(`${plural(left, 'more repository', 'more repositories')} with findings not shown: a GitHub issue holds 65,536 characters; \`--format json\` has them all.`, '');
  const notScanned = ranked.filter((r) => r.outcome.status === 'failed');
  if (notScanned.length) {
    out.push('### Not scanned', '', '| repository | why |', '|---|---|');
    for (const r of notScanned.slice(0, 100)) out.push(`| [${cell(r.outcome.repo.fullName)}](${r.outcome.repo.htmlUrl}) | ${cell(statusText(r.outcome))} |`);
    if (notScanned.length > 100) out.push(`| … | ${notScanned.length - 100} more |`);
    out.push('');
  }
  const fileErrors = ranked.filter((r) => r.outcome.result?.errors.length);
  if (fileErrors.length) {
    out.push('<details><summary>Files that could not be read</summary>', '');
    for (const r of fileErrors.slice(0, 50)) {
      for (const e of r.outcome.result!.errors.slice(0, 5)) out.push(`- ${code(r.outcome.repo.fullName)} ${code(`${e.file}:${e.line}`)}: ${cell(e.message)}`);
    }
    out.push('', '</details>', '');
  }
  const clean = ranked.filter((r) => r.outcome.status === 'scanned' && !r.findings.length).map((r) => code(r.outcome.repo.name));
  if (clean.length && out.join('\n').length < MARKDOWN_BUDGET) {
    const list = clean.join(', ');
    out.push(`<details><summary>${plural(clean.length, 'repository', 'repositories')} without findings</summary>`, '', list.length < 4000 ? list : `${list.slice(0, list.lastIndexOf(',', 4000))}, …`, '', '</details>', '');
  }
  out.push(`<sub>${TOOL_NAME} ${opts.toolVersion} · ${cell(requestsText(scan))}</sub>`);
  return `${out.join('\n')}\n`;
}

// ---- text ----------------------------------------------------------------------------------------

export function formatText(scan: ScanResult, opts: ScanReportOptions): string {
  const maxRows = opts.maxRowsPerRepo ?? 20;
  const failOn = opts.checkFailOn ?? 'high';
  const t = scanTotals(scan, failOn);
  const clean = (s: string) => sanitizeTerminal(s).replace(/\n/g, ' ');
  const out: string[] = [];
  const skipped = skippedText(t.skipped);
  out.push(`agent-guard scan of ${clean(scan.org)}: ${t.scanned} of ${plural(t.listed, 'repository', 'repositories')} scanned${skipped ? ` (skipped: ${skipped})` : ''}`, '');
  const rows: [string, string][] = [
    ['with critical findings', String(t.withCritical)],
    ['with high findings', String(t.withHigh)],
    ['with any finding', String(t.withFindings)],
    ['without findings', String(t.withoutFindings)],
    ['failed', String(t.failed)],
    ['no workflows or empty', String(t.noWorkflows + t.empty)],
    ['findings', severityBreakdown(t.findings) || 'none'],
    ...(t.baselined ? [['recorded in baselines', `${t.baselined} (not counted above)`] as [string, string]] : []),
  ];
  for (const [k, v] of rows) out.push(`  ${k.padEnd(24)} ${v}`);
  out.push('', checkHeading(t, failOn));
  // What to do is said once for a run of repositories that need the same.
  const failing = wouldFail(scan, failOn);
  failing.forEach((f, i) => {
    out.push(`  ${clean(f.outcome.repo.fullName)}: ${clean(f.why)}`);
    if (failing[i + 1]?.todo !== f.todo) out.push(`    → ${clean(f.todo)}`);
  });
  const rules = topRules(scan);
  if (rules.length) {
    out.push('', 'Top rules');
    for (const r of rules.slice(0, 10)) out.push(`  ${r.rule.padEnd(24)} ${plural(r.findings, 'finding')} in ${plural(r.repositories, 'repository', 'repositories')} (worst: ${r.worst})`);
  }
  for (const r of rankRepositories(scan)) {
    if (!r.findings.length) continue;
    out.push('', `${clean(r.outcome.repo.fullName)}: ${severityBreakdown(r.counts)}  (${r.outcome.repo.htmlUrl} @ ${r.outcome.commit?.slice(0, 7) ?? '?'})`);
    for (const f of r.findings.slice(0, maxRows)) {
      const where = `${clean(f.file)}:${f.line}:${f.column}`;
      out.push(`  ${f.severity.padEnd(8)} ${f.rule.padEnd(22)} ${where}${f.job ? `  job ${clean(f.job)}` : ''}${f.step ? `, step ${clean(f.step)}` : ''}`);
      out.push(`           ${clean(f.message)}`);
    }
    if (r.findings.length > maxRows) out.push(`  …and ${r.findings.length - maxRows} more (--format json has them all)`);
  }
  const failed = scan.repos.filter((r) => r.status === 'failed');
  if (failed.length) {
    out.push('', 'Not scanned');
    for (const r of failed) out.push(`  ${clean(r.repo.fullName)}: ${clean(statusText(r))}`);
  }
  const fileErrors = scan.repos.filter((r) => r.result?.errors.length);
  if (fileErrors.length) {
    out.push('', 'Files that could not be read');
    for (const r of fileErrors) for (const e of r.result!.errors) out.push(`  ${clean(r.repo.fullName)} ${clean(e.file)}:${e.line}: ${clean(e.message)}`);
  }
  out.push('', requestsText(scan));
  return `${out.join('\n')}\n`;
}

// ---- json ----------------------------------------------------------------------------------------

export interface ScanJsonRepository {
  name: string;
  url: string;
  defaultBranch: string;
  commit: string | null;
  status: RepoOutcome['status'];
  error: string | null;
  counts: SeverityCounts;
  /** Findings its baseline records (not in `findings`). */
  baselined: number;
  requiredCheck: CheckVerdict;
  findings: JsonFinding[];
  errors: JsonError[];
  unfollowed: { uses: string; error: string }[];
}

export interface ScanJson {
  version: 1;
  tool: { name: string; version: string; informationUri: string };
  organisation: string;
  totals: ScanTotals;
  topRules: RuleTotal[];
  repositories: ScanJsonRepository[];
  requests: ScanResult['stats'];
}

export function toScanJson(scan: ScanResult, opts: ScanReportOptions): ScanJson {
  return {
    version: 1,
    tool: { name: TOOL_NAME, version: opts.toolVersion, informationUri: TOOL_URI },
    organisation: scan.org,
    totals: scanTotals(scan, opts.checkFailOn ?? 'high'),
    topRules: topRules(scan),
    repositories: rankRepositories(scan).map((r) => {
      const json = r.outcome.result ? toJsonReport(r.outcome.result, { toolVersion: opts.toolVersion }) : null;
      return {
        name: r.outcome.repo.fullName,
        url: r.outcome.repo.htmlUrl,
        defaultBranch: r.outcome.repo.defaultBranch,
        commit: r.outcome.commit ?? null,
        status: r.outcome.status,
        error: r.outcome.status === 'scanned' ? null : statusText(r.outcome),
        counts: r.counts,
        baselined: r.outcome.baselined ?? 0,
        requiredCheck: checkVerdict(r.outcome, opts.checkFailOn ?? 'high'),
        findings: json ? json.findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity)) : [],
        errors: json?.errors ?? [],
        unfollowed: r.outcome.unfollowed,
      };
    }),
    requests: scan.stats,
  };
}

// ---- sarif ---------------------------------------------------------------------------------------

const EMPTY: LintResult = {
  findings: [],
  errors: [],
  stats: { files: 0, workflows: 0, actions: 0, jobs: 0, steps: 0, agentSteps: 0, durationMs: 0 },
  rules: [],
  sources: new Map(),
};

/** One SARIF log, one run per repository that was scanned or failed. */
export function toScanSarif(scan: ScanResult, opts: ScanReportOptions): SarifLog {
  const runs: SarifLog[] = [];
  for (const r of rankRepositories(scan)) {
    const o = r.outcome;
    if (o.status === 'no-workflows' || o.status === 'empty') continue;
    const run = (toSarif(o.result ?? EMPTY, { toolVersion: opts.toolVersion }).runs as SarifLog[])[0];
    run.automationDetails = { id: `agent-guard-scan/${o.repo.fullName}/` };
    if (o.commit) run.versionControlProvenance = [{ repositoryUri: o.repo.htmlUrl, revisionId: o.commit, branch: o.repo.defaultBranch }];
    if (o.status === 'failed') run.invocations = [{ executionSuccessful: false, toolExecutionNotifications: [{ level: 'error', message: { text: statusText(o) } }] }];
    runs.push(run);
  }
  return { $schema: SARIF_SCHEMA_URI, version: '2.1.0', runs };
}
