import { formatJson } from '../../src/report/json';
import { ACTION, BROKEN, REVIEW, TRIAGE, emptyResult, makeResult, triageFinding } from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function json(result = makeResult()): Any {
  const out = formatJson(result, { toolVersion: '1.2.3' });
  expect(out.endsWith('}\n')).toBe(true);
  return JSON.parse(out);
}

describe('json report', () => {
  it('is one object with version, tool, findings, errors, stats in that order', () => {
    const r = json();
    expect(Object.keys(r)).toEqual(['version', 'tool', 'findings', 'errors', 'stats']);
    expect(r.version).toBe(1);
    expect(r.tool).toEqual({ name: 'agent-guard', version: '1.2.3', informationUri: expect.stringMatching(/^https:\/\//) });
    expect(r.stats).toEqual({ files: 4, workflows: 3, actions: 1, jobs: 3, steps: 6, agentSteps: 3, durationMs: 42, threads: 1 });
    expect(Object.keys(r.stats)).toEqual(['files', 'workflows', 'actions', 'jobs', 'steps', 'agentSteps', 'durationMs', 'threads']);
    expect(r.errors).toEqual([{ file: BROKEN, line: 3, column: 1, message: 'Implicit map keys need to be followed by map values' }]);
  });

  it('gives every finding the same keys in the same order', () => {
    const keys = [
      'rule',
      'severity',
      'confidence',
      'file',
      'line',
      'column',
      'endLine',
      'endColumn',
      'job',
      'step',
      'message',
      'path',
      'related',
      'capabilities',
      'holder',
      'fix',
    ];
    for (const f of json().findings) {
      expect(Object.keys(f)).toEqual(keys);
      for (const h of f.path) expect(Object.keys(h)).toEqual(['file', 'line', 'column', 'note']);
    }
  });

  it('sorts findings by file, line, column, rule', () => {
    const r = emptyResult();
    r.findings = [
      triageFinding({ file: 'b.yml', line: 2, column: 1, rule: 'z' }),
      triageFinding({ file: 'a.yml', line: 10, column: 1, rule: 'a' }),
      triageFinding({ file: 'b.yml', line: 2, column: 1, rule: 'a' }),
      triageFinding({ file: 'a.yml', line: 9, column: 5, rule: 'a' }),
      triageFinding({ file: 'a.yml', line: 9, column: 3, rule: 'a' }),
    ];
    expect(json(r).findings.map((f: Any) => `${f.file}:${f.line}:${f.column}:${f.rule}`)).toEqual([
      'a.yml:9:3:a',
      'a.yml:9:5:a',
      'a.yml:10:1:a',
      'b.yml:2:1:a',
      'b.yml:2:1:z',
    ]);
    expect(json().findings.map((f: Any) => f.file)).toEqual([ACTION, REVIEW, REVIEW, TRIAGE]);
  });

  it('uses null for absent job, step and end positions', () => {
    const f = json().findings[0];
    expect(f).toMatchObject({ job: null, step: null, endLine: null, endColumn: null, path: [], capabilities: [] });
    const t = json().findings[3];
    expect(t).toMatchObject({ job: 'triage', step: 'claude', endLine: 14, endColumn: 70 });
    expect(t.capabilities).toEqual(['secret:ANTHROPIC_API_KEY', 'permission:contents:write']);
    expect(t.path[0]).toEqual({ file: TRIAGE, line: 3, column: 3, note: 'issues: anyone with a GitHub account can open an issue' });
  });

  it('keeps workflow text exactly (JSON escaping is enough)', () => {
    const f = json().findings[1];
    expect(f.message).toBe(makeResult().findings[1].message);
  });

  it('is byte-stable and does not depend on input order', () => {
    const a = makeResult();
    const b = makeResult();
    b.findings.reverse();
    b.errors.reverse();
    expect(formatJson(a, { toolVersion: '1' })).toBe(formatJson(b, { toolVersion: '1' }));
  });

  it('does not carry extra properties from the input', () => {
    const r = emptyResult();
    r.findings = [{ ...triageFinding(), secretInternal: 'x' } as Any];
    expect(JSON.stringify(json(r))).not.toContain('secretInternal');
  });

  it('reports no findings as empty arrays', () => {
    const r = json(emptyResult());
    expect(r.findings).toEqual([]);
    expect(r.errors).toEqual([]);
  });
});
