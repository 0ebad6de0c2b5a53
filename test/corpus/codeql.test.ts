// CodeQL's independently labelled AI fixtures (CWE-1427 prompt injection, CWE-1426 AI output used
// unsafely). Expectations are read from the corpus README's tables, not written here.
import fs from 'node:fs';
import path from 'node:path';
import { SHARED, AGENT_RULES, corpusPresent, describeFindings, lintFile } from './helpers';

const present = corpusPresent('peers/codeql');

interface Expectation {
  file: string;
  cwe: string;
  /** Source lines CodeQL reports (empty for safe files and unlisted positives). */
  lines: number[];
  vulnerable: boolean;
}

function expectations(): Expectation[] {
  const readme = fs.readFileSync(path.join(SHARED, 'peers/codeql/README.md'), 'utf8');
  const out: Expectation[] = [];
  let cwe = '';
  for (const line of readme.split('\n')) {
    const heading = /^## (CWE-\d+)/.exec(line);
    if (heading) cwe = heading[1];
    const row = /^\| ((?:vulnerable|safe)\d+\.yml) \|(.*)\|\s*$/.exec(line);
    if (!row || !cwe) continue;
    const lines = [...row[2].matchAll(/@(\d+):\d+/g)].map((m) => Number(m[1]));
    out.push({ file: row[1], cwe, lines, vulnerable: row[1].startsWith('vulnerable') });
  }
  return out;
}

(present ? describe : describe.skip)('CodeQL CWE-1427 / CWE-1426 fixtures', () => {
  const all = present ? expectations() : [];

  it('reads expectations for both CWEs', () => {
    expect(all.filter((e) => e.cwe === 'CWE-1427').length).toBeGreaterThanOrEqual(15);
    expect(all.filter((e) => e.cwe === 'CWE-1426').length).toBeGreaterThanOrEqual(6);
  });

  const fileOf = (e: Expectation) => path.join(SHARED, 'peers/codeql', e.cwe, '.github/workflows', e.file);

  it.each(all.filter((e) => e.vulnerable).map((e) => [e.cwe, e.file, e] as const))('%s %s is found', (_cwe, _file, e) => {
    const { findings } = lintFile(fileOf(e));
    const rule = e.cwe === 'CWE-1426' ? 'ai-output-unsafe' : 'prompt-injection';
    const hits = findings.filter((f) => f.rule === rule);
    if (!hits.length) throw new Error(`no ${rule} finding; got:\n${describeFindings(findings)}`);
    // Every source line CodeQL names appears in our taint path or related sources (or is the finding itself).
    const ourLines = new Set(hits.flatMap((f) => [f.line, ...f.path.map((h) => h.line), ...(f.related ?? []).map((h) => h.line)]));
    for (const line of e.lines) expect(ourLines).toContain(line);
  });

  it.each(all.filter((e) => !e.vulnerable).map((e) => [e.cwe, e.file, e] as const))('%s %s is not flagged', (_cwe, _file, e) => {
    const { findings } = lintFile(fileOf(e));
    const agentFindings = findings.filter((f) => AGENT_RULES.includes(f.rule));
    if (agentFindings.length) throw new Error(`unexpected:\n${describeFindings(agentFindings)}`);
  });
});
