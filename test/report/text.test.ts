import type { LintResult } from '../../src/checks/types';
import { MAX_SOURCE_WIDTH, TAB_WIDTH, formatText, renderSnippet } from '../../src/report/text';
import { ACTION, BROKEN, REVIEW, TRIAGE, emptyResult, makeResult, triageFinding } from './fixtures';

const SGR = /\x1b\[[0-9;]*m/g;

function text(result: LintResult = makeResult(), color = false): string {
  return formatText(result, { color });
}

/** The source line and caret line shown right after the finding whose header starts with `loc`. */
function snippetAfter(out: string, loc: string): { source: string; caret: string } {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${loc} `));
  expect(i).toBeGreaterThanOrEqual(0);
  // Skip continuation lines of a multi-line message.
  let j = i + 1;
  while (!/^ +\d+ \| /.test(lines[j])) j++;
  return { source: lines[j], caret: lines[j + 1] };
}

describe('text report', () => {
  it('groups findings by file, files and findings in order', () => {
    const lines = text().split('\n');
    const headers = lines.filter((l) => l === ACTION || l === REVIEW || l === TRIAGE);
    expect(headers).toEqual([ACTION, REVIEW, TRIAGE]);
    const findingLines = lines.filter((l) => /^\.github\/\S+:\d+:\d+ /.test(l));
    expect(findingLines.map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      `${ACTION}:5:13 low unpinned-agent-action`,
      `${REVIEW}:9:9 high pwn-request-checkout`,
      `${REVIEW}:10:181 medium agent-shell-access`,
      `${TRIAGE}:14:39 critical untrusted-input-to-agent`,
    ]);
    // Each finding sits under its own file's header.
    const idx = (s: string) => lines.findIndex((l) => l.startsWith(s));
    expect(idx(REVIEW)).toBeLessThan(idx(`${REVIEW}:9:9`));
    expect(idx(`${REVIEW}:10:181`)).toBeLessThan(lines.indexOf(TRIAGE));
  });

  it('prints `file:line:col severity rule message`', () => {
    expect(text()).toContain(
      `${TRIAGE}:14:39 critical untrusted-input-to-agent The issue title reaches the prompt of anthropics/claude-code-action\n`,
    );
  });

  it('puts the caret under the column, with ~ under the rest of the span', () => {
    const { source, caret } = snippetAfter(text(), `${TRIAGE}:14:39`);
    expect(source).toBe('  14 |           prompt: "Triage this issue: ${{ github.event.issue.title }}"');
    expect(caret.indexOf('^')).toBe(source.indexOf('${{'));
    expect(caret.endsWith(` ^${'~'.repeat(30)}`)).toBe(true);
    expect(caret.lastIndexOf('~')).toBe(source.indexOf('}}"') + 1);
  });

  it('expands tabs before placing the caret (CRLF source)', () => {
    const { source, caret } = snippetAfter(text(), `${REVIEW}:9:9`);
    expect(source).not.toContain('\t');
    expect(source).not.toContain('\r');
    expect(source).toBe(`  9 | ${' '.repeat(2 * TAB_WIDTH)}echo "\${{ github.event.pull_request.body }}" | agent`);
    expect(caret.indexOf('^')).toBe(source.indexOf('${{'));
  });

  it('cuts long lines around the caret', () => {
    const { source, caret } = snippetAfter(text(), `${REVIEW}:10:181`);
    const shown = source.slice(source.indexOf('| ') + 2);
    expect(shown.startsWith('…')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(MAX_SOURCE_WIDTH + 2);
    expect(caret.indexOf('^')).toBe(source.indexOf('${{'));
  });

  it('shows the path hops, what the agent holds and the fix, wrapped', () => {
    const out = text();
    expect(out).toContain(`  ↳ ${TRIAGE}:3:3 issues: anyone with a GitHub account can open an issue\n`);
    expect(out).toContain(`  ↳ ${TRIAGE}:14:39 github.event.issue.title is interpolated into \`prompt\`\n`);
    expect(out).toContain('    agent holds: secret:ANTHROPIC_API_KEY, permission:contents:write\n');
    expect(out).toContain('    in job triage, step claude\n');
    expect(out).toContain('    fix: Move the title into an env var');
    for (const l of out.split('\n')) if (/^( {4}(fix|agent holds):| {9}\S)/.test(l)) expect(l.length).toBeLessThanOrEqual(100);
    // The fix wraps with a hanging indent under the text after "fix: ".
    const lines = out.split('\n');
    const i = lines.findIndex((l) => l.startsWith('    fix: Move the title'));
    expect(lines[i + 1]).toMatch(/^ {9}\S/);
    const joined = [lines[i].slice(9), lines[i + 1].slice(9), lines[i + 2].slice(9)].join(' ');
    expect(joined).toBe(triageFinding().fix);
  });

  it('lists errors one per line and closes with the count line', () => {
    const out = text();
    expect(out).toContain(`\n${BROKEN}:3:1: error: Implicit map keys need to be followed by map values\n`);
    expect(out.endsWith('\n4 findings (1 critical, 1 high, 1 medium, 1 low) in 4 files, errors in 1 file\n')).toBe(true);
  });

  it('count line variants', () => {
    expect(text(emptyResult())).toBe('no findings in 12 files\n');
    const one = emptyResult();
    one.stats.files = 1;
    one.findings = [triageFinding()];
    expect(text(one).trimEnd().split('\n').pop()).toBe('1 finding (1 critical) in 1 file');
    const errs = emptyResult();
    errs.errors = [
      { file: 'a.yml', line: 1, column: 1, message: 'x' },
      { file: 'a.yml', line: 2, column: 1, message: 'y' },
      { file: 'b.yml', line: 1, column: 1, message: 'z' },
    ];
    expect(text(errs).trimEnd().split('\n').pop()).toBe('no findings in 12 files, errors in 2 files');
    const three = emptyResult();
    three.findings = [triageFinding(), triageFinding({ severity: 'high', line: 15 }), triageFinding({ severity: 'high', line: 2 })];
    expect(text(three).trimEnd().split('\n').pop()).toBe('3 findings (1 critical, 2 high) in 12 files');
  });

  it('has no colour unless asked, and colours severities when asked', () => {
    expect(text(makeResult(), false)).not.toContain('\x1b');
    const coloured = text(makeResult(), true);
    expect(coloured).toContain('\x1b[1;31mcritical\x1b[0m');
    expect(coloured).toContain('\x1b[31mhigh\x1b[0m');
    expect(coloured).toContain('\x1b[33mmedium\x1b[0m');
    expect(coloured).toContain('\x1b[36mlow\x1b[0m');
    // Without the colour codes it is the plain report.
    expect(coloured.replace(SGR, '')).toBe(text(makeResult(), false));
  });

  it('neutralises terminal control characters from the workflow, colour or not', () => {
    const r = makeResult();
    r.findings.push(
      triageFinding({
        file: `${TRIAGE}\x1b[8m`,
        line: 1,
        job: 'j\x1b]8;;http://evil\x07',
        step: 's\r\x9b31m',
        message: 'evil \x1b[2J\x1b[H title\rOVERWRITE \u202egnp.exe',
        path: [{ file: TRIAGE, line: 1, column: 1, note: 'note \x1b[31mred\x08\x7f' }],
        capabilities: ['secret:\x1bX'],
        fix: 'fix \x1b[0m \x00 done',
      }),
    );
    r.sources.set(`${TRIAGE}\x1b[8m`, 'name: "\x1b[2Jboom"\n');
    r.errors.push({ file: 'bad\x1b.yml', line: 1, column: 1, message: 'parse \x1b[31m error\nsecond' });
    for (const color of [false, true]) {
      const out = text(r, color).replace(SGR, (m) => (color ? '' : m));
      expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
    }
    const plain = text(r);
    expect(plain).toContain('evil ␛[2J␛[H title␍OVERWRITE �gnp.exe');
    expect(plain).toContain('bad␛.yml:1:1: error: parse ␛[31m error second');
    // The caret still lines up after the neutralised ESC.
    const { source, caret } = snippetAfter(plain, `${TRIAGE}␛[8m:1:39`);
    expect(source).toContain('name: "␛[2Jboom"');
    expect(caret.indexOf('^')).toBe(source.indexOf('| ') + 2 + 'name: "␛[2Jboom"'.length);
  });

  it('indents continuation lines of a multi-line message', () => {
    const out = text();
    expect(out).toContain('<script>alert(1)</script>\n    second line) reaches a shell\n');
  });

  it('shows no snippet when the source is unknown or the line is out of range', () => {
    const r = emptyResult();
    r.findings = [triageFinding({ file: 'elsewhere.yml' }), triageFinding({ line: 999 })];
    r.sources.set(TRIAGE, 'a: 1\n');
    expect(text(r)).not.toContain(' | ');
  });

  it("says a step's holdings, place and fix once for all its findings, and folds the path they share", () => {
    const r = emptyResult();
    const base = triageFinding();
    const hops = [...base.path.slice(0, 1), { file: TRIAGE, line: 5, column: 3, note: 'read as env TITLE' }];
    r.findings = [
      triageFinding({ path: [...hops, { file: TRIAGE, line: 14, column: 39, note: 'sink one' }] }),
      triageFinding({ column: 60, path: [...hops, { file: TRIAGE, line: 14, column: 60, note: 'sink two' }] }),
    ];
    r.sources = makeResult().sources;
    const out = text(r);
    const count = (s: string) => out.split('\n').filter((l) => l.startsWith(s)).length;
    expect(count(`${TRIAGE}:14:`)).toBe(2);
    expect(count('    agent holds: ')).toBe(1);
    expect(count('    fix: ')).toBe(1);
    expect(count('    in job triage, step claude')).toBe(1);
    expect(out).toContain('  ↳ (the first 2 hops as above)\n  ↳ ' + `${TRIAGE}:14:60 sink two\n`);
    // Group order: both findings, then where, holdings and fix.
    expect(out.indexOf('sink two')).toBeLessThan(out.indexOf('    in job triage'));
  });

  it('labels each fix with its rules when a step has several, and says "step holds" for a finding about no agent', () => {
    const r = emptyResult();
    r.findings = [triageFinding(), triageFinding({ rule: 'template-injection', column: 60, holder: 'step', capabilities: ['shell:full'], fix: 'Use env.' })];
    const out = text(r);
    expect(out).toContain('    fix (untrusted-input-to-agent): Move the title');
    expect(out).toContain('    fix (template-injection): Use env.\n');
    expect(out).toContain('    agent holds: secret:ANTHROPIC_API_KEY');
    expect(out).toContain('    step holds: shell:full\n');
  });

  it('never breaks a line inside a `code` span, so commands can be copied', () => {
    const r = emptyResult();
    const gate = "`if: contains(fromJSON('[\"OWNER\",\"MEMBER\",\"COLLABORATOR\"]'), github.event.issue.author_association)`";
    r.findings = [triageFinding({ fix: `Gate the job on who wrote the text: ${gate}. Then run it in the jail: \`agent-guard run --provider anthropic -- claude ...\`.` })];
    const out = text(r);
    expect(out.split('\n').some((l) => l.includes(gate))).toBe(true);
    expect(out.split('\n').some((l) => l.includes('`agent-guard run --provider anthropic -- claude ...`'))).toBe(true);
  });

  it('shows confidence only when it is not high', () => {
    const out = text();
    expect(out).toContain('    confidence: medium\n');
    expect(out).toContain('    confidence: low\n');
    expect(out.split('\n').filter((l) => l.includes('confidence: high'))).toEqual([]);
  });
});

describe('renderSnippet', () => {
  it('places the caret by UTF-16 column', () => {
    expect(renderSnippet('abc', 2)).toEqual({ text: 'abc', caret: 1, marker: '^' });
    expect(renderSnippet('abc', 1, 4)).toEqual({ text: 'abc', caret: 0, marker: '^~~' });
  });

  it('expands tabs to tab stops', () => {
    // "a\tb": a at 0, tab to column 4, b at 4.
    expect(renderSnippet('a\tb', 3)).toEqual({ text: `a${' '.repeat(TAB_WIDTH - 1)}b`, caret: TAB_WIDTH, marker: '^' });
    expect(renderSnippet('\t\tx', 3).caret).toBe(2 * TAB_WIDTH);
  });

  it('counts wide characters as two columns and astral characters as two code units', () => {
    expect(renderSnippet('名前: x', 5).caret).toBe(6);
    expect(renderSnippet('🚀 x', 4).caret).toBe(3);
  });

  it('puts the caret after the line for a column past its end', () => {
    expect(renderSnippet('ab', 9)).toEqual({ text: 'ab', caret: 2, marker: '^' });
  });

  it('windows a long line near its end without a trailing ellipsis', () => {
    const line = `${'a'.repeat(300)}XYZ`;
    const s = renderSnippet(line, 301, undefined, 40);
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('XYZ')).toBe(true);
    expect(s.text.length).toBe(41);
    expect(s.text[s.caret]).toBe('X');
  });

  it('windows a long line near its start without a leading ellipsis', () => {
    const line = `aXb${'c'.repeat(300)}`;
    const s = renderSnippet(line, 2, undefined, 40);
    expect(s.text.startsWith('aXb')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.text[s.caret]).toBe('X');
  });

  it('cuts the ~ span at the window edge', () => {
    const s = renderSnippet('x'.repeat(500), 10, 400, 50);
    expect(s.caret + s.marker.length).toBeLessThanOrEqual(s.text.length);
  });
});

describe('a step whose rules give overlapping fixes', () => {
  it('says the shared advice once and labels only what differs', () => {
    const r = emptyResult();
    const shared = 'Give the agent job `permissions: { contents: read }` (e.g. no id-token). Set `persist-credentials: false`.';
    r.findings = [
      triageFinding({ rule: 'agent-reads-untrusted', fix: `${shared} Replace the action with its CLI: \`agent-guard run -- gemini ...\`.` }),
      triageFinding({ column: 60, fix: `${shared} Pass outsider text as data.` }),
    ];
    const fixLines = formatText(r).split('\n').filter((l) => /^ {4}fix/.test(l));
    expect(fixLines).toEqual([
      expect.stringMatching(/^ {4}fix: Give the agent job `permissions: \{ contents: read \}` \(e\.g\. no id-token\)\. Set/),
      '    fix (agent-reads-untrusted): Replace the action with its CLI: `agent-guard run -- gemini ...`.',
      '    fix (untrusted-input-to-agent): Pass outsider text as data.',
    ]);
  });
});
