import fs from 'node:fs';
import path from 'node:path';
import { lint } from '../../src/lint';
import type { Finding } from '../../src/checks/types';

export const SHARED = path.resolve(__dirname, '../../../shared/corpus');

export function corpusPresent(sub: string): boolean {
  return fs.existsSync(path.join(SHARED, sub));
}

export function lintFile(file: string): { findings: Finding[]; errors: string[] } {
  const result = lint({ paths: [file] });
  return { findings: result.findings, errors: result.errors.map((e) => `${e.file}:${e.line}: ${e.message}`) };
}

export const AGENT_RULES = ['prompt-injection', 'agent-reads-untrusted', 'untrusted-instructions', 'agent-gate-disabled', 'ai-output-unsafe', 'agent-output-leak'];

export function highOrCritical(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.severity === 'critical' || f.severity === 'high');
}

export function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.severity} ${f.rule} ${f.line}:${f.column} ${f.message}`).join('\n');
}

/** The rows of a corpus folder's labels.tsv (header skipped): each file and its label. */
export function readLabels(dir: string): { file: string; label: string }[] {
  return fs
    .readFileSync(path.join(dir, 'labels.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [file, label] = l.split('\t');
      return { file, label };
    });
}
