// One JSON line per proxied request (--audit FILE), a one-line summary on exit, and a table in
// GITHUB_STEP_SUMMARY. Routes, model names and refusal reasons are chosen by the agent, so:
//   * the audit file is opened once, before the agent starts, with O_NOFOLLOW, and only outside the
//     workspace (the one host folder the agent can write): a symlink the pull request planted cannot
//     redirect the guard's writes, and the agent can neither unlink, rewrite nor forge the file;
//   * JSON lines escape `#`, `<`, `>` and `&` (still valid JSON), so `cat audit.jsonl` in a later step
//     cannot emit a `##[command]`, and no line can start with `::` (each starts with `{`);
//   * the step summary renders every agent string as inert Markdown: no image, link, autolink, raw
//     HTML or table break (see summaryText).
import fs from 'node:fs';
import path from 'node:path';
import { md } from '../report/summary';
import { GuardError } from './errors';

export interface AuditRecord {
  time: string;
  kind: 'model' | 'egress' | 'grant';
  provider?: string;
  method?: string;
  route: string;
  status: number;
  requestBytes: number;
  responseBytes: number;
  inputTokens?: number;
  outputTokens?: number;
  ms: number;
  refused?: string;
}

/** Most rows in the step summary; the rest are counted and left to the audit file. */
const SUMMARY_ROWS = 500;
const SUMMARY_CELL = 200;

function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Open a file the guard appends to while the agent runs, refusing anything the agent or the
 * repository could have prepared: a path inside `agentWritable`, a symlink (O_NOFOLLOW), something
 * other than a regular file, a file with other hard links, or a file another user owns (`uid` -1
 * skips that check, for a file the runner names and creates, like the step summary).
 */
export function openGuardFile(file: string, agentWritable: string[], uid: number, what: string): number {
  const absolute = path.resolve(file);
  let parent: string;
  try {
    parent = fs.realpathSync(path.dirname(absolute));
  } catch (err) {
    throw new GuardError('audit', `${what} ${absolute}: its folder cannot be resolved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const real = path.join(parent, path.basename(absolute));
  for (const dir of agentWritable) {
    if (isWithin(real, dir)) {
      throw new GuardError('audit', `${what} ${absolute} is inside ${dir}, which the agent can write; write it outside (e.g. "$RUNNER_TEMP/agent-guard-audit.jsonl")`);
    }
  }
  // O_NONBLOCK: a FIFO planted under the name must fail the open, not hang the guard.
  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(real, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'is a symlink' : `cannot be opened (${code ?? (err as Error).message})`;
    throw new GuardError('audit', `${what} ${absolute} ${why}; refusing to write through it`);
  }
  const st = fs.fstatSync(fd);
  const problem = !st.isFile() ? 'is not a regular file'
    : st.nlink !== 1 ? `has ${st.nlink} hard links`
    : uid >= 0 && st.uid !== uid ? `is owned by uid ${st.uid}, not by the guard's uid ${uid}`
    : undefined;
  if (problem) {
    fs.closeSync(fd);
    throw new GuardError('audit', `${what} ${absolute} ${problem}; refusing to write to it`);
  }
  return fd;
}

/** JSON that stays JSON but carries no `##[`, HTML or entity when shown raw. */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/[#<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Agent-chosen text for the step summary: Markdown-escaped by `md` (no image, link, HTML or table
 * break), with GitHub's autolinks (URLs, www., e-mail addresses) and `::` broken by a zero-width
 * space so that no address the agent chose becomes clickable, and clipped.
 */
export function summaryText(text: string, max = SUMMARY_CELL): string {
  const clipped = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  const unlinked = clipped.replace(/:\/\//g, ':\u200b//').replace(/www\./gi, (w) => `${w.slice(0, 3)}\u200b.`).replace(/@/g, '@\u200b');
  // The summary is Markdown, not a log, but a later step could print it: no `::` either.
  return md(unlinked).replace(/::/g, ':\u200b:');
}

/** What the boundary applied or refused from the agent's copy of the workspace (src/guard/boundary). */
export interface BoundaryRecord {
  time: string;
  kind: 'boundary';
  outcome: 'applied' | 'refused';
  change?: 'write' | 'delete' | 'symlink' | 'commit';
  path: string;
  reason?: string;
  sha256?: string;
  size?: number;
  mode?: string;
  target?: string;
  sha?: string;
}

export class AuditLog {
  readonly records: AuditRecord[] = [];
  readonly boundary: BoundaryRecord[] = [];
  private fd: number | undefined;

  /** `fd` from openGuardFile, or none: the records are still kept for the summary. */
  constructor(fd?: number) {
    this.fd = fd;
  }

  add(record: AuditRecord): void {
    this.records.push(record);
    if (this.fd !== undefined) fs.writeSync(this.fd, inertJson(record) + '\n');
  }

  addBoundary(record: BoundaryRecord): void {
    this.boundary.push(record);
    if (this.fd !== undefined) fs.writeSync(this.fd, inertJson(record) + '\n');
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  totals(): { requests: number; forwarded: number; refused: number; inputTokens: number; outputTokens: number; bytes: number } {
    let forwarded = 0;
    let refused = 0;
    let inputTokens = 0;
    let outputTokens = 0;
    let bytes = 0;
    for (const r of this.records) {
      if (r.refused) refused++;
      else forwarded++;
      inputTokens += r.inputTokens ?? 0;
      outputTokens += r.outputTokens ?? 0;
      bytes += r.requestBytes + r.responseBytes;
    }
    return { requests: this.records.length, forwarded, refused, inputTokens, outputTokens, bytes };
  }

  summaryLine(exitCode: number): string {
    const t = this.totals();
    return (
      `agent-guard: agent exited ${exitCode}; ${t.forwarded} request(s) forwarded, ${t.refused} refused, ` +
      `${t.inputTokens} input + ${t.outputTokens} output tokens`
    );
  }

  stepSummaryMarkdown(exitCode: number): string {
    const t = this.totals();
    if (t.requests === 0) return `### agent-guard\n\nAgent exit code ${exitCode}. It made no request to a model API or an allowed host.\n\n`;
    const rows = this.records.slice(0, SUMMARY_ROWS).map(
      (r) =>
        `| ${r.kind} | ${summaryText(r.provider ?? '')} | ${summaryText(`${r.method ?? ''} ${r.route}`.trim())} | ${r.status} | ` +
        `${r.requestBytes}/${r.responseBytes} | ${(r.inputTokens ?? 0) + (r.outputTokens ?? 0)} | ${summaryText(r.refused ?? '')} |`,
    );
    const more = this.records.length - rows.length;
    return [
      '### agent-guard',
      '',
      `Agent exit code ${exitCode}. ${t.forwarded} request(s) forwarded, ${t.refused} refused, ` +
        `${t.inputTokens} input and ${t.outputTokens} output tokens.`,
      '',
      '| kind | provider | route | status | bytes in/out | tokens | refused because |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      more > 0 ? `\n(${more} more in the audit file)` : '',
      '',
    ].join('\n');
  }
}
