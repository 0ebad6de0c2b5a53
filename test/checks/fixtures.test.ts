// Each fixture in test/fixtures/rules states its expected findings in header comments.
import fs from 'node:fs';
import path from 'node:path';
import { lint } from '../../src/lint';
import type { Finding } from '../../src/checks/types';

const dir = path.resolve(__dirname, '../fixtures/rules');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yml'));

interface Expect {
  rule: string;
  severity?: string;
  line?: number;
  kind: 'finding' | 'none' | 'max';
}

function expectations(text: string): Expect[] {
  const out: Expect[] = [];
  for (const m of text.matchAll(/^# expect: (\S+) (\S+)(?: (\d+))?$/gm)) out.push({ rule: m[1], severity: m[2], line: m[3] ? Number(m[3]) : undefined, kind: 'finding' });
  for (const m of text.matchAll(/^# expect-none: (\S+)$/gm)) out.push({ rule: m[1], kind: 'none' });
  for (const m of text.matchAll(/^# expect-max: (\S+) (\S+)$/gm)) out.push({ rule: m[1], severity: m[2], kind: 'max' });
  return out;
}

const show = (fs: Finding[]) => fs.map((f) => `${f.rule} ${f.severity} ${f.line}:${f.column} ${f.message}`).join('\n') || '(none)';

const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** Checks one file's header expectations against the findings reported in it. */
function check(wanted: Expect[], findings: Finding[]): void {
  for (const e of wanted) {
    const ofRule = findings.filter((f) => e.rule === '*' || f.rule === e.rule);
    if (e.kind === 'none') {
      if (ofRule.length) throw new Error(`expected no ${e.rule}, got:\n${show(ofRule)}`);
      continue;
    }
    if (e.kind === 'max') {
      const over = ofRule.filter((f) => RANK[f.severity] > RANK[e.severity!]);
      if (over.length) throw new Error(`expected ${e.rule} at most ${e.severity}, got:\n${show(over)}`);
      continue;
    }
    const match = ofRule.find((f) => f.severity === e.severity && (e.line === undefined || f.line === e.line));
    if (!match) throw new Error(`expected ${e.rule} ${e.severity}${e.line ? ` at line ${e.line}` : ''}, got:\n${show(findings)}`);
  }
}

describe('rule fixtures', () => {
  it('exist', () => expect(files.length).toBeGreaterThan(10));

  it.each(files)('%s', (file) => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const wanted = expectations(text);
    expect(wanted.length).toBeGreaterThan(0);
    const { findings, errors } = lint({ paths: [path.join(dir, file)] });
    expect(errors).toEqual([]);
    check(wanted, findings);
  });
});

describe('cross-file taint', () => {
  it('follows an issue body into a local reusable workflow and reports it there', () => {
    const root = path.resolve(__dirname, '../fixtures/rules-reusable');
    const { findings, errors } = lint({ paths: [root] });
    expect(errors).toEqual([]);
    const hit = findings.find((f) => f.rule === 'prompt-injection' && f.file.endsWith('reusable-agent.yml'));
    if (!hit) throw new Error(show(findings));
    expect(hit.severity).toBe('critical'); // secrets: inherit hands every secret over
    expect(hit.path.some((h) => h.file.endsWith('caller.yml') && /github\.event\.issue\.body/.test(h.note))).toBe(true);
    expect(hit.path.some((h) => /inputs?\.?text|input text/.test(h.note))).toBe(true);
  });

  it('follows a comment into a local composite action', () => {
    const root = path.resolve(__dirname, '../fixtures/rules-composite');
    const { findings, errors } = lint({ paths: [root] });
    expect(errors).toEqual([]);
    const hit = findings.find((f) => f.rule === 'prompt-injection' && f.file.endsWith('action.yml'));
    if (!hit) throw new Error(show(findings));
    expect(hit.severity).toBe('critical'); // a full shell on the runner
    expect(hit.path[0].note).toMatch(/github\.event\.comment\.body/);
    expect(hit.path.some((h) => h.file.endsWith('triage.yml'))).toBe(true);
  });
});
