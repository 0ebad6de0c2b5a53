// One JSON line per proxied request (--audit FILE), a one-line summary on exit, and a table in
// GITHUB_STEP_SUMMARY. The audit file is written by the guard outside the jail, so the agent can
// neither read nor rewrite it.
import fs from 'node:fs';

export interface AuditRecord {
  time: string;
  kind: 'model' | 'egress';
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

  constructor(file?: string) {
    if (file) this.fd = fs.openSync(file, 'a', 0o600);
  }

  add(record: AuditRecord): void {
    this.records.push(record);
    if (this.fd !== undefined) fs.writeSync(this.fd, JSON.stringify(record) + '\n');
  }

  addBoundary(record: BoundaryRecord): void {
    this.boundary.push(record);
    if (this.fd !== undefined) fs.writeSync(this.fd, JSON.stringify(record) + '\n');
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
    const rows = this.records.map(
      (r) =>
        `| ${r.kind} | ${escapeCell(r.provider ?? '')} | ${escapeCell(`${r.method ?? ''} ${r.route}`.trim())} | ${r.status} | ` +
        `${r.requestBytes}/${r.responseBytes} | ${(r.inputTokens ?? 0) + (r.outputTokens ?? 0)} | ${escapeCell(r.refused ?? '')} |`,
    );
    return [
      '### agent-guard',
      '',
      `Agent exit code ${exitCode}. ${t.forwarded} request(s) forwarded, ${t.refused} refused, ` +
        `${t.inputTokens} input and ${t.outputTokens} output tokens.`,
      '',
      '| kind | provider | route | status | bytes in/out | tokens | refused because |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.slice(0, 500),
      rows.length > 500 ? `\n(${rows.length - 500} more in the audit file)` : '',
      '',
    ].join('\n');
  }
}

function escapeCell(text: string): string {
  return text.replace(/[|\\`<>\r\n]/g, (c) => (c === '\n' || c === '\r' ? ' ' : `\\${c}`)).slice(0, 200);
}
