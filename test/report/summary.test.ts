import { code, formatStepSummary, html, md, SUMMARY_LIMIT_BYTES } from '../../src/report/summary';
import { BROKEN, TRIAGE, emptyResult, makeResult, triageFinding } from './fixtures';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('step summary', () => {
  const out = formatStepSummary(makeResult());

  it('starts with a headline carrying the counts', () => {
    expect(out.split('\n')[0]).toBe(
      '## ⚠️ agent-guard: 4 findings (1 critical, 1 high, 1 medium, 1 low) in 4 files, errors in 1 file',
    );
    expect(formatStepSummary(emptyResult()).split('\n')[0]).toBe('## ✅ agent-guard: no findings in 12 files');
  });

  it('has a table of counts by severity', () => {
    expect(out).toContain('| Severity | Findings |\n| --- | ---: |\n| critical | 1 |\n| high | 1 |\n| medium | 1 |\n| low | 1 |\n');
  });

  it('has a table by rule with severity, count and docs link, worst first', () => {
    const r = makeResult();
    r.findings.push(triageFinding({ line: 2 }), triageFinding({ rule: 'agent-shell-access', severity: 'medium', line: 3 }));
    const s = formatStepSummary(r);
    const rows = s.split('\n').filter((l) => l.startsWith('| <code>'));
    expect(rows).toEqual([
      '| <code>untrusted-input-to-agent</code> Outsider-controlled text reaches an AI agent prompt | critical | 2 | [docs](https://example.test/docs/rules/untrusted-input-to-agent.md) |',
      '| <code>pwn-request-checkout</code> pull\\_request\\_target checks out the pull request head | high | 1 | [docs](https://example.test/docs/rules/pwn-request-checkout.md) |',
      '| <code>agent-shell-access</code> Agent step can run shell commands | medium | 2 | [docs](https://example.test/docs/rules/agent-shell-access.md) |',
      '| <code>unpinned-agent-action</code> Agent action is not pinned to a commit | low | 1 | [docs](https://example.test/docs/rules/unpinned-agent-action.md) |',
    ]);
  });

  it('shows each finding in a <details> block, worst first, with location, job/step, path chain and fix', () => {
    const blocks = out.split('<details>').slice(1);
    expect(blocks).toHaveLength(4);
    expect(blocks.map((b) => /<strong>(\w+)<\/strong>/.exec(b)?.[1])).toEqual(['critical', 'high', 'medium', 'low']);
    const b = blocks[0];
    expect(b).toContain(`<code>${TRIAGE}:14</code> The issue title reaches the prompt of anthropics/claude-code-action</summary>`);
    expect(b).toContain(`**Where:** <code>${TRIAGE}:14:39</code>, job <code>triage</code>, step <code>claude</code>`);
    expect(b).toContain(
      `**Path:** <code>${TRIAGE}:3:3</code> issues: anyone with a GitHub account can open an issue → <code>${TRIAGE}:14:39</code> github.event.issue.title is interpolated into \\\`prompt\\\``,
    );
    expect(b).toContain('**Agent holds:** <code>secret:ANTHROPIC\\_API\\_KEY</code>, <code>permission:contents:write</code>');
    expect(b).toContain('**Fix:** Move the title into an env var');
    expect(b.trimEnd().endsWith('</details>')).toBe(true);
  });

  it('lists the errors', () => {
    expect(out).toContain(
      `### Errors\n\n- <code>${BROKEN}:3:1</code>: Implicit map keys need to be followed by map values\n`,
    );
  });

  it('escapes workflow text: no raw HTML, no table breaks, no new Markdown blocks', () => {
    const r = emptyResult();
    r.findings = [
      triageFinding({
        message: 'title <script>alert(1)</script> & a|b `code` **bold**\n# heading\n| x | y |\n\x1b[31m',
        job: 'job|<img src=x onerror=alert(1)>',
        step: 's`t',
        path: [{ file: TRIAGE, line: 1, column: 1, note: '</details><script>x</script>' }],
        capabilities: ['secret:A|B'],
        fix: 'use `env:` & <b>not</b> inline\n- not a list',
      }),
    ];
    r.errors = [{ file: 'x|<y>.yml', line: 1, column: 1, message: '<iframe> | `' }];
    const s = formatStepSummary(r);
    expect(s).not.toMatch(/<(script|img|iframe|b)\b/i);
    expect(s.match(/<\/details>/g)).toHaveLength(1);
    expect(s).not.toContain('\x1b');
    // Every line that starts a block is ours.
    for (const l of s.split('\n')) {
      if (/^(#|\||- |<)/.test(l)) expect(l).toMatch(/^(## |### |\| |- <code>|<details>|<\/details>|<summary>)/);
    }
    // A `code` span shows as code, its content escaped like the rest.
    expect(s).toContain('title &lt;script&gt;alert(1)&lt;/script&gt; &amp; a\\|b <code>code</code> \\*\\*bold\\*\\*<br>\\# heading<br>\\| x \\| y \\|<br>␛\\[31m');
    expect(s).toContain('**Fix:** use <code>env:</code> &amp; &lt;b&gt;not&lt;/b&gt; inline<br>- not a list');
    expect(s).toContain('job <code>job\\|&lt;img src=x onerror=alert(1)&gt;</code>');
    expect(s).toContain('<summary><strong>critical</strong> <code>untrusted-input-to-agent</code>');
    expect(s).toContain('title &lt;script&gt;alert(1)&lt;/script&gt; &amp; a|b `code` **bold**</summary>');
    expect(s).toContain('- <code>x\\|&lt;y&gt;.yml:1:1</code>: &lt;iframe&gt; \\| \\`');
  });

  it('escape helpers', () => {
    expect(md('a|b <c> & `d` *e* _f_ [g](h) \\')).toBe('a\\|b &lt;c&gt; &amp; \\`d\\` \\*e\\* \\_f\\_ \\[g\\](h) \\\\');
    expect(md('one\ntwo')).toBe('one two');
    expect(md('one\r\ntwo', true)).toBe('one<br>two');
    expect(html('<a href="x">&</a>\nz')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt; z');
    expect(code('a|b')).toBe('<code>a\\|b</code>');
  });

  it('stays under the size limit, dropping the least severe findings with a note', () => {
    const r = emptyResult();
    const big = 'x'.repeat(1500);
    r.findings = Array.from({ length: 2000 }, (_, i) =>
      triageFinding({ line: i + 1, step: `step ${i}`, severity: i === 1999 ? 'critical' : 'low', message: `finding ${i} ${big}`, fix: big }),
    );
    const s = formatStepSummary(r);
    expect(bytes(s)).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(s).toMatch(/> \d+ more findings not shown/);
    // The critical one (last by line) is kept because the worst are shown first.
    expect(s).toContain('finding 1999 ');
    const shown = (s.match(/<details>/g) ?? []).length;
    expect(shown).toBeGreaterThan(100);
    expect(s).toContain(`> ${2000 - shown} more findings not shown`);
  });

  it("a step with more findings than fit shows as many as fit, and counts the rest", () => {
    const r = emptyResult();
    const big = 'x'.repeat(1500);
    r.findings = Array.from({ length: 2000 }, (_, i) => triageFinding({ line: i + 1, severity: 'low', message: `finding ${i} ${big}` }));
    const s = formatStepSummary(r);
    expect(bytes(s)).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    const shown = s.split('\n').filter((l) => l.startsWith('**low** ')).length;
    expect(shown).toBeGreaterThan(100);
    expect(s).toContain(`> ${2000 - shown} more findings not shown`);
    expect(s.match(/\*\*Fix:\*\*/g)).toHaveLength(1);
  });

  it('says what a step holds and the fix once for all its findings, and "Step holds" for a finding about no agent', () => {
    const r = emptyResult();
    r.findings = [
      triageFinding({ line: 14 }),
      triageFinding({ line: 15, rule: 'agent-shell-access', severity: 'medium', column: 3 }),
      triageFinding({ line: 30, step: 'build', holder: 'step', rule: 'pwn-request-checkout', fix: 'Check out the base branch: `ref: ${{ github.sha }}`.' }),
    ];
    const s = formatStepSummary(r);
    const blocks = s.split('<details>').slice(1);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('<summary><strong>critical</strong> 2 findings in step <code>claude</code>');
    expect(blocks[0].match(/\*\*Agent holds:\*\*/g)).toHaveLength(1);
    expect(blocks[0].match(/\*\*Fix:\*\*/g)).toHaveLength(1);
    expect(blocks[1]).toContain('**Step holds:** ');
    expect(blocks[1]).not.toContain('Agent holds');
    // Inside <code> GitHub still reads Markdown escapes: this shows as `ref: ${{ github.sha }}`.
    expect(blocks[1]).toContain('**Fix:** Check out the base branch: <code>ref: $\\{\\{ github.sha \\}\\}</code>.');
  });

  it('honours a smaller budget, errors included', () => {
    const r = makeResult();
    r.errors = Array.from({ length: 500 }, (_, i) => ({ file: `wf${i}.yml`, line: 1, column: 1, message: 'bad '.repeat(20) }));
    const s = formatStepSummary(r, { maxBytes: 8 * 1024 });
    expect(bytes(s)).toBeLessThanOrEqual(8 * 1024);
    expect(s).toMatch(/- … and \d+ more/);
    expect(formatStepSummary(r, { maxBytes: 100 }).length).toBeLessThanOrEqual(100);
  });

  it('clips huge fields instead of dropping the finding', () => {
    const r = emptyResult();
    r.findings = [triageFinding({ message: 'm'.repeat(100_000), fix: 'f'.repeat(100_000) })];
    const s = formatStepSummary(r);
    expect(s).toContain('<details>');
    expect(bytes(s)).toBeLessThan(20_000);
  });
});
