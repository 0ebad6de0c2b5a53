// Before/after pairs of real workflows (shared/corpus/pairs): a fix never makes the worst finding
// more severe, and an "anti-fix" (a repository opening its agent to outsiders) makes it more severe.
// Pairs and their direction are read from the corpus README's table.
import fs from 'node:fs';
import path from 'node:path';
import { severityRank, type Finding } from '../../src/checks/types';
import { SHARED, corpusPresent, describeFindings, lintFile } from './helpers';

const dir = path.join(SHARED, 'pairs');
const present = corpusPresent('pairs');

interface Pair {
  before: string;
  after: string;
  antiFix: boolean;
}

function resolve(files: string[], cell: string, stem?: string): string | undefined {
  const name = /`([^`]+)`/.exec(cell)?.[1];
  if (!name) return undefined;
  const suffix = name.replace(/^\.\.\./, '');
  const hits = files.filter((f) => f.endsWith(suffix));
  return hits.find((f) => stem && f.startsWith(stem)) ?? (hits.length === 1 ? hits[0] : undefined);
}

function pairs(): Pair[] {
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const out: Pair[] = [];
  for (const line of fs.readFileSync(path.join(dir, 'README.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[2]?.includes('BEFORE')) continue;
    if (/^deleted/.test(cells[3])) continue;
    const before = resolve(files, cells[2]);
    if (!before) continue;
    const after = resolve(files, cells[3], before.split('.BEFORE')[0]);
    if (after) out.push({ before, after, antiFix: /anti-fix/.test(cells[1]) });
  }
  return out;
}

const worst = (findings: Finding[]) => Math.max(0, ...findings.map((f) => severityRank(f.severity)));

(present ? describe : describe.skip)('before/after pairs', () => {
  const all = present ? pairs() : [];

  it('reads fixes and anti-fixes from the README', () => {
    expect(all.filter((p) => !p.antiFix).length).toBeGreaterThanOrEqual(6);
    expect(all.filter((p) => p.antiFix).length).toBeGreaterThanOrEqual(2);
  });

  it.each(all.map((p) => [p.before, p.after, p] as const))('%s → %s', (_b, _a, p) => {
    const before = lintFile(path.join(dir, p.before)).findings;
    const after = lintFile(path.join(dir, p.after)).findings;
    const detail = `before:\n${describeFindings(before)}\nafter:\n${describeFindings(after)}`;
    if (p.antiFix ? worst(after) <= worst(before) : worst(after) > worst(before)) throw new Error(detail);
  });
});
