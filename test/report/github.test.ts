import { annotationBody, annotationCommand, escapeData, escapeProperty, formatGithub } from '../../src/report/github';
import { BROKEN, REVIEW, TRIAGE, emptyResult, makeResult, triageFinding } from './fixtures';

/** Parse a workflow command line the way the runner does. */
function parse(line: string): { cmd: string; props: Record<string, string>; data: string } {
  expect(line.startsWith('::')).toBe(true);
  const end = line.indexOf('::', 2);
  const head = line.slice(2, end);
  const data = line.slice(end + 2);
  const sp = head.indexOf(' ');
  const cmd = sp < 0 ? head : head.slice(0, sp);
  const props: Record<string, string> = {};
  if (sp >= 0) {
    for (const kv of head.slice(sp + 1).split(',')) {
      const eq = kv.indexOf('=');
      props[kv.slice(0, eq)] = unescapeProperty(kv.slice(eq + 1));
    }
  }
  return { cmd, props, data: unescapeData(data) };
}

const unescapeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string) =>
  s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');

describe('github annotations', () => {
  const out = formatGithub(makeResult());
  const lines = out.trimEnd().split('\n');

  it('prints one command per finding, then one per error, each on a single line', () => {
    expect(out.endsWith('\n')).toBe(true);
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.slice(0, l.indexOf(' ')))).toEqual(['::notice', '::error', '::warning', '::error', '::error']);
  });

  it('maps severities to error, warning and notice', () => {
    expect(annotationCommand('critical')).toBe('error');
    expect(annotationCommand('high')).toBe('error');
    expect(annotationCommand('medium')).toBe('warning');
    expect(annotationCommand('low')).toBe('notice');
  });

  it('uses the workflow command syntax with file, line, col, endLine, endColumn and title', () => {
    expect(lines[3]).toMatch(
      /^::error file=\.github\/workflows\/triage\.yml,line=14,col=39,endLine=14,endColumn=70,title=agent-guard untrusted-input-to-agent::The issue title/,
    );
    const a = parse(lines[3]);
    expect(a.cmd).toBe('error');
    expect(a.props).toEqual({
      file: TRIAGE,
      line: '14',
      col: '39',
      endLine: '14',
      endColumn: '70',
      title: 'agent-guard untrusted-input-to-agent',
    });
  });

  it('puts the path and the fix on following lines of the message', () => {
    const a = parse(lines[3]);
    const body = a.data.split('\n');
    expect(body[0]).toBe('The issue title reaches the prompt of anthropics/claude-code-action');
    expect(body).toContain(`  ↳ ${TRIAGE}:3:3 issues: anyone with a GitHub account can open an issue`);
    expect(body).toContain(`  ↳ ${TRIAGE}:14:39 github.event.issue.title is interpolated into \`prompt\``);
    expect(body).toContain('Agent holds: secret:ANTHROPIC_API_KEY, permission:contents:write');
    // A finding about a plain script says the step holds it.
    expect(annotationBody(triageFinding({ holder: 'step', capabilities: ['shell:full'] })).split('\n')).toContain('Step holds: shell:full');
    expect(body[body.length - 1]).toBe(`Fix: ${triageFinding().fix}`);
  });

  it('escapes data and properties per the runner rules', () => {
    expect(escapeData('100% done\r\nnext :: x, y')).toBe('100%25 done%0D%0Anext :: x, y');
    expect(escapeProperty('a:b,c%d\ne')).toBe('a%3Ab%2Cc%25d%0Ae');
    // % first, so an escape that is already in the text is not decoded by the runner.
    expect(escapeData('%0A')).toBe('%250A');
  });

  it('keeps hostile workflow text inside one command', () => {
    const r = emptyResult();
    r.findings = [
      triageFinding({
        file: 'wf,line=1:x.yml',
        rule: 'r::x',
        message: 'pwn\n::error file=fake.yml::injected\r\n::add-mask::x 100% a|b <script>\x1b[31m',
        fix: 'fix %0A::stop-commands::tok',
      }),
    ];
    const text = formatGithub(r);
    const ls = text.trimEnd().split('\n');
    expect(ls).toHaveLength(1);
    expect(text).not.toMatch(/\r/);
    expect(text).not.toContain('\x1b');
    const a = parse(ls[0]);
    expect(a.cmd).toBe('error');
    expect(a.props.file).toBe('wf,line=1:x.yml');
    expect(a.props.title).toBe('agent-guard r::x');
    expect(a.data.startsWith('pwn\n::error file=fake.yml::injected\r\n::add-mask::x 100% a|b <script>␛[31m\n')).toBe(true);
    expect(a.data).toContain('Fix: fix %0A::stop-commands::tok');
    // The raw line has no `::` between the command name and the real data separator.
    expect(ls[0].indexOf('::', 2)).toBe(ls[0].indexOf('::pwn'));
  });

  it('reports errors with file and line', () => {
    expect(lines[4]).toMatch(/^::error file=\.github\/workflows\/broken\.yml,line=3,col=1,title=agent-guard%3A error::/);
    expect(parse(lines[4]).props.file).toBe(BROKEN);
    expect(parse(lines[4]).data).toBe('Implicit map keys need to be followed by map values');
  });

  it('makes absolute paths relative to the root with forward slashes', () => {
    const r = emptyResult();
    r.findings = [triageFinding({ file: `/work/repo/${REVIEW}` })];
    expect(parse(formatGithub(r, { root: '/work/repo' }).trimEnd()).props.file).toBe(REVIEW);
  });

  it('omits positions that are unknown and endColumn on multi-line spans', () => {
    const r = emptyResult();
    r.findings = [triageFinding({ line: 3, column: 0, endLine: 5, endColumn: 2 })];
    r.errors = [{ file: 'x.yml', line: 0, column: 0, message: 'EACCES' }];
    const [f, e] = formatGithub(r).trimEnd().split('\n');
    expect(parse(f).props).toEqual({ file: TRIAGE, line: '3', endLine: '5', title: 'agent-guard untrusted-input-to-agent' });
    expect(parse(e).props).toEqual({ file: 'x.yml', title: 'agent-guard: error' });
  });

  it('prints nothing when there is nothing to report', () => {
    expect(formatGithub(emptyResult())).toBe('');
  });
});
