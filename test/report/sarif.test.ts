import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Finding, LintResult } from '../../src/checks/types';
import {
  FINGERPRINT_KEY,
  artifactLocation,
  computeFingerprints,
  formatSarif,
  markdownToText,
  messageWithoutLines,
  toSarif,
} from '../../src/report/sarif';
import { ACTION, BROKEN, REVIEW, TRIAGE, emptyResult, makeResult, triageFinding } from './fixtures';

const SCHEMA_FILE = path.join(__dirname, '..', 'schemas', 'sarif-2.1.0.json');
const SCHEMA_SHA256 = '2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8';

function compileSchema() {
  const text = fs.readFileSync(SCHEMA_FILE, 'utf8');
  // The published schema is draft-04; its only draft-04-only keyword is the top-level `id`
  // (see test/schemas/README.md), so declare it draft-07 for Ajv 8 in memory.
  const { id, $schema: draft04, ...rest } = JSON.parse(text) as Record<string, unknown>;
  if (draft04 !== 'http://json-schema.org/draft-04/schema#') throw new Error(`unexpected schema dialect ${String(draft04)}`);
  const schema: Record<string, unknown> = { $schema: 'http://json-schema.org/draft-07/schema#', $id: id, ...rest };
  // unicodeRegExp: false because the schema's `language` pattern has a stray `]`, legal in a plain
  // ECMAScript regex but not under the `u` flag Ajv uses by default.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

const validate = compileSchema();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function sarif(result: LintResult, root?: string): Any {
  const text = formatSarif(result, { toolVersion: '1.2.3', root });
  expect(text.endsWith('\n')).toBe(true);
  return JSON.parse(text);
}

function expectValid(log: unknown): void {
  const ok = validate(log);
  if (!ok) throw new Error(`SARIF does not match the 2.1.0 schema:\n${JSON.stringify(validate.errors, null, 2)}`);
}

describe('SARIF schema file', () => {
  it('is the published file, unedited', () => {
    const sha = createHash('sha256').update(fs.readFileSync(SCHEMA_FILE)).digest('hex');
    expect(sha).toBe(SCHEMA_SHA256);
  });

  it('rejects SARIF that is wrong (the validator is really checking)', () => {
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] })).toBe(false);
    expect(validate({ version: '2.0.0', runs: [] })).toBe(false);
    const log = toSarif(makeResult(), { toolVersion: '1' }) as Any;
    log.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0;
    expect(validate(log)).toBe(false);
  });
});

describe('SARIF validates against the official 2.1.0 schema', () => {
  it('with no findings', () => {
    const log = sarif(emptyResult());
    expectValid(log);
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].invocations[0]).toEqual({ executionSuccessful: true });
  });

  it('with findings, paths and a parse error', () => {
    expectValid(sarif(makeResult()));
  });

  it('with a root (originalUriBaseIds) and absolute paths', () => {
    const root = path.join(path.sep, 'home', 'dev', 'my repo');
    const r = makeResult();
    r.findings = r.findings.map((f) => ({ ...f, file: path.join(root, f.file) }));
    const log = sarif(r, root);
    expectValid(log);
    expect(log.runs[0].originalUriBaseIds['%SRCROOT%'].uri).toBe('file:///home/dev/my%20repo/');
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation).toEqual({
      uri: '.github/actions/agent/action.yml',
      uriBaseId: '%SRCROOT%',
    });
  });

  it('when nothing could be read', () => {
    const r = emptyResult();
    r.stats.files = 2;
    r.stats.workflows = 0;
    r.errors = [
      { file: 'a.yml', line: 1, column: 1, message: 'bad' },
      { file: 'b.yml', line: 0, column: 0, message: 'EACCES: permission denied' },
    ];
    const log = sarif(r);
    expectValid(log);
    expect(log.runs[0].invocations[0].executionSuccessful).toBe(false);
  });

  it('with awkward values: unknown rule, no columns, multi-line spans, odd file names, empty fix', () => {
    const r = emptyResult();
    r.findings = [
      triageFinding({ rule: 'not-in-rules', line: 2, column: 0, endLine: undefined, endColumn: undefined, fix: '' }),
      triageFinding({ file: 'dir with space/wf#1?.yml', line: 4, column: 3, endLine: 9, endColumn: 1, path: [] }),
      triageFinding({ file: 'C:\\repo\\.github\\workflows\\x.yml', job: undefined, step: undefined }),
    ];
    expectValid(sarif(r));
  });
});

describe('SARIF content', () => {
  const log = sarif(makeResult());
  const run = log.runs[0];
  const driver = run.tool.driver;

  it('has the envelope GitHub expects', () => {
    expect(log.$schema).toMatch(/^https:\/\/.*sarif-2\.1\.0/);
    expect(log.version).toBe('2.1.0');
    expect(driver.name).toBe('agent-guard');
    expect(driver.version).toBe('1.2.3');
    expect(driver.semanticVersion).toBe('1.2.3');
    expect(driver.informationUri).toMatch(/^https:\/\//);
    expect(run.columnKind).toBe('utf16CodeUnits');
  });

  it('describes every rule, with help, docs, severity and tags', () => {
    expect(driver.rules.map((r: Any) => r.id)).toEqual([
      'agent-shell-access',
      'pwn-request-checkout',
      'unpinned-agent-action',
      'untrusted-input-to-agent',
    ]);
    const rule = driver.rules.find((r: Any) => r.id === 'untrusted-input-to-agent');
    expect(rule.name).toBe('UntrustedInputToAgent');
    expect(rule.shortDescription.text).toBe('Outsider-controlled text reaches an AI agent prompt');
    // The first real paragraph, not the "## Why" heading, as plain text.
    expect(rule.fullDescription.text).toBe(
      'Anyone who can open an issue controls github.event.issue.title. When it reaches the prompt of an agent that holds secrets, they can steer the agent.',
    );
    expect(rule.help.markdown).toContain('## Fix');
    expect(rule.help.markdown).toContain('`github.event.issue.title`');
    expect(rule.help.text).not.toContain('`');
    expect(rule.help.text).not.toContain('##');
    expect(rule.helpUri).toBe('https://example.test/docs/rules/untrusted-input-to-agent.md');
    expect(rule.defaultConfiguration.level).toBe('error');
    expect(rule.properties['security-severity']).toBe('9.5');
    expect(rule.properties.tags[0]).toBe('security');

    const sev = Object.fromEntries(driver.rules.map((r: Any) => [r.id, [r.properties['security-severity'], r.defaultConfiguration.level]]));
    expect(sev).toEqual({
      'agent-shell-access': ['5.5', 'warning'],
      'pwn-request-checkout': ['8.0', 'error'],
      'unpinned-agent-action': ['3.0', 'note'],
      'untrusted-input-to-agent': ['9.5', 'error'],
    });
    for (const r of driver.rules) expect(typeof r.properties['security-severity']).toBe('string');
  });

  it('orders results by file, line, column and points ruleIndex at the right rule', () => {
    expect(run.results.map((r: Any) => [r.locations[0].physicalLocation.artifactLocation.uri, r.ruleId])).toEqual([
      [ACTION, 'unpinned-agent-action'],
      [REVIEW, 'pwn-request-checkout'],
      [REVIEW, 'agent-shell-access'],
      [TRIAGE, 'untrusted-input-to-agent'],
    ]);
    for (const r of run.results) expect(driver.rules[r.ruleIndex].id).toBe(r.ruleId);
    expect(run.results.map((r: Any) => r.level)).toEqual(['note', 'error', 'warning', 'error']);
  });

  it('carries the location, region, message with fix, properties and code flow', () => {
    const r = run.results[3];
    expect(r.locations).toEqual([
      {
        physicalLocation: {
          artifactLocation: { uri: TRIAGE, uriBaseId: '%SRCROOT%' },
          region: { startLine: 14, startColumn: 39, endLine: 14, endColumn: 70 },
        },
      },
    ]);
    expect(r.message.text).toMatch(/^The issue title reaches the prompt of anthropics\/claude-code-action\n\n/);
    expect(r.message.text).toContain('Fix: Move the title into an env var');
    expect(r.message.text).toContain('secret:ANTHROPIC_API_KEY');
    expect(r.properties).toEqual({
      'security-severity': '9.5',
      rule: 'untrusted-input-to-agent',
      severity: 'critical',
      confidence: 'high',
      capabilities: ['secret:ANTHROPIC_API_KEY', 'permission:contents:write'],
      job: 'triage',
      step: 'claude',
    });
    expect(r.codeFlows).toHaveLength(1);
    expect(r.codeFlows[0].threadFlows).toHaveLength(1);
    const hops = r.codeFlows[0].threadFlows[0].locations.map((l: Any) => [
      l.location.physicalLocation.artifactLocation.uri,
      l.location.physicalLocation.region.startLine,
      l.location.physicalLocation.region.startColumn,
      l.location.message.text,
    ]);
    expect(hops).toEqual([
      [TRIAGE, 3, 3, 'issues: anyone with a GitHub account can open an issue'],
      [TRIAGE, 14, 39, 'github.event.issue.title is interpolated into `prompt`'],
    ]);
    expect(typeof r.partialFingerprints[FINGERPRINT_KEY]).toBe('string');
  });

  it('leaves out codeFlows when there is no path, and job/step when absent', () => {
    const r = run.results[0];
    expect(r.codeFlows).toBeUndefined();
    expect(r.properties).toEqual({ 'security-severity': '3.0', rule: 'unpinned-agent-action', severity: 'low', confidence: 'low', capabilities: [] });
  });

  it('reports parse errors as tool execution notifications, the run still successful', () => {
    expect(run.invocations).toHaveLength(1);
    expect(run.invocations[0].executionSuccessful).toBe(true);
    expect(run.invocations[0].toolExecutionNotifications).toEqual([
      {
        level: 'error',
        message: { text: 'Implicit map keys need to be followed by map values' },
        locations: [
          { physicalLocation: { artifactLocation: { uri: BROKEN, uriBaseId: '%SRCROOT%' }, region: { startLine: 3, startColumn: 1 } } },
        ],
      },
    ]);
  });

  it('is deterministic', () => {
    expect(formatSarif(makeResult(), { toolVersion: '1.2.3' })).toBe(formatSarif(makeResult(), { toolVersion: '1.2.3' }));
  });

  it('keeps workflow text intact as JSON data', () => {
    const r = run.results[1];
    expect(r.message.text).toContain('\x1b[2J');
    expect(r.message.text).toContain('<script>');
  });

  it('adds a descriptor for a rule missing from result.rules', () => {
    const res = emptyResult();
    res.findings = [triageFinding({ rule: 'mystery', severity: 'high' })];
    const l = sarif(res);
    const d = l.runs[0].tool.driver;
    const idx = l.runs[0].results[0].ruleIndex;
    expect(d.rules[idx].id).toBe('mystery');
    expect(d.rules[idx].properties['security-severity']).toBe('8.0');
  });

  it("gives a finding below its rule's severity a rule of that severity, so code scanning shows the finding's", () => {
    const res = makeResult();
    // untrusted-input-to-agent is declared critical; these two findings are not.
    res.findings = [triageFinding({ severity: 'low', line: 3 }), triageFinding({ severity: 'medium', line: 5 }), triageFinding({ line: 7 })];
    const l = sarif(res);
    expectValid(l);
    const rules = l.runs[0].tool.driver.rules;
    const shown = l.runs[0].results.map((r: Any) => {
      const rule = rules[r.ruleIndex];
      expect(rule.id).toBe(r.ruleId);
      return [r.ruleId, rule.properties['security-severity'], rule.defaultConfiguration.level, r.level, r.properties['security-severity']];
    });
    expect(shown).toEqual([
      ['untrusted-input-to-agent/low', '3.0', 'note', 'note', '3.0'],
      ['untrusted-input-to-agent/medium', '5.5', 'warning', 'warning', '5.5'],
      ['untrusted-input-to-agent', '9.5', 'error', 'error', '9.5'],
    ]);
    expect(rules.find((r: Any) => r.id === 'untrusted-input-to-agent/low').shortDescription.text).toBe('Outsider-controlled text reaches an AI agent prompt (low)');
    // One descriptor per rule and severity, however many findings share it.
    expect(new Set(rules.map((r: Any) => r.id)).size).toBe(rules.length);
  });

  it('omits semanticVersion for a version that is not semver', () => {
    const l = JSON.parse(formatSarif(emptyResult(), { toolVersion: 'dev' }));
    expect(l.runs[0].tool.driver.version).toBe('dev');
    expect(l.runs[0].tool.driver.semanticVersion).toBeUndefined();
  });
});

describe('artifact locations', () => {
  it('are relative, forward-slashed and based on %SRCROOT%', () => {
    expect(artifactLocation('./.github/workflows/a.yml')).toEqual({ uri: '.github/workflows/a.yml', uriBaseId: '%SRCROOT%' });
    expect(artifactLocation('.github\\workflows\\a.yml')).toEqual({ uri: '.github/workflows/a.yml', uriBaseId: '%SRCROOT%' });
    expect(artifactLocation('/repo/.github/workflows/a.yml', '/repo')).toEqual({
      uri: '.github/workflows/a.yml',
      uriBaseId: '%SRCROOT%',
    });
  });

  it('percent-encode characters that are not allowed or mean something in a URI', () => {
    expect(artifactLocation('dir with space/wf#1?.yml').uri).toBe('dir%20with%20space/wf%231%3F.yml');
    expect(artifactLocation('a:b/c.yml').uri).toBe('a%3Ab/c.yml');
    expect(artifactLocation('x/100%.yml').uri).toBe('x/100%25.yml');
  });

  it('use a file URI, without a base, for absolute paths outside any root', () => {
    expect(artifactLocation('/abs/wf.yml')).toEqual({ uri: 'file:///abs/wf.yml' });
    expect(artifactLocation('/abs/my wf.yml')).toEqual({ uri: 'file:///abs/my%20wf.yml' });
    expect(artifactLocation('C:\\repo\\wf.yml')).toEqual({ uri: 'file:///C:/repo/wf.yml' });
  });
});

describe('partial fingerprints', () => {
  const fp = (f: Finding) => computeFingerprints([f])[0];
  const base = triageFinding();

  it('do not change when the finding moves to other lines', () => {
    const moved = triageFinding({
      line: 40,
      column: 5,
      endLine: 40,
      endColumn: 30,
      path: base.path.map((h) => ({ ...h, line: h.line + 26 })),
    });
    expect(fp(moved)).toBe(fp(base));
  });

  it('do not change when line numbers inside the message change', () => {
    const a = triageFinding({ message: 'Title reaches the prompt (see line 14, .github/workflows/triage.yml:14:39, L14)' });
    const b = triageFinding({ message: 'Title reaches the prompt (see line 52, .github/workflows/triage.yml:52:7, L52)' });
    expect(fp(a)).toBe(fp(b));
    expect(messageWithoutLines('lines 3-5 and col 4')).toBe('lines # and col #');
  });

  it('change with rule, file, job, step or message', () => {
    const variants = [
      triageFinding({ rule: 'pwn-request-checkout' }),
      triageFinding({ file: '.github/workflows/other.yml' }),
      triageFinding({ job: 'other-job' }),
      triageFinding({ step: 'other-step' }),
      triageFinding({ step: undefined }),
      triageFinding({ message: 'The issue body reaches the prompt of anthropics/claude-code-action' }),
    ];
    const prints = new Set([fp(base), ...variants.map(fp)]);
    expect(prints.size).toBe(variants.length + 1);
  });

  it('number findings that hash alike, in order', () => {
    const prints = computeFingerprints([triageFinding({ line: 10 }), triageFinding({ line: 20 })]);
    expect(prints[0]).toMatch(/:1$/);
    expect(prints[1]).toMatch(/:2$/);
    expect(prints[0].split(':')[0]).toBe(prints[1].split(':')[0]);
  });

  it('are the same in SARIF for a result whose lines moved between two runs', () => {
    const r1 = makeResult();
    const r2 = makeResult();
    r2.findings = r2.findings.map((f) => ({ ...f, line: f.line + 3, path: f.path.map((h) => ({ ...h, line: h.line + 3 })) }));
    const p1 = sarif(r1).runs[0].results.map((r: Any) => r.partialFingerprints[FINGERPRINT_KEY]);
    const p2 = sarif(r2).runs[0].results.map((r: Any) => r.partialFingerprints[FINGERPRINT_KEY]);
    expect(p2).toEqual(p1);
    expect(new Set(p1).size).toBe(p1.length);
  });
});

describe('markdownToText', () => {
  it('strips the common Markdown marks', () => {
    expect(markdownToText('## Title\n\nUse `env:` and **never** _inline_ [docs](https://x.test/d).')).toBe(
      'Title\n\nUse env: and never inline docs (https://x.test/d).',
    );
    expect(markdownToText('```yaml\nenv:\n  A: 1\n```')).toBe('env:\n  A: 1');
  });
});
