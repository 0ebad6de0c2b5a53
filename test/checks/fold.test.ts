import path from 'node:path';
import { lint } from '../../src/lint';

describe('one line, one source, one finding', () => {
  it('folds the template injection of an agent command line into its prompt injection', () => {
    const { findings } = lint({ paths: [path.resolve(__dirname, '../fixtures/rules/pi-issue-title-claude-cli.yml')] });
    const onLine = findings.filter((f) => f.line === 15);
    expect(onLine.map((f) => `${f.rule} ${f.severity}`)).toEqual(['prompt-injection critical']);
    expect(onLine[0].message).toMatch(/reaches Claude Code .* it is also expanded into the run script/);
    expect(onLine[0].fix).toMatch(/env:/);
  });

  it('keeps a template injection that reaches no agent', () => {
    const { findings } = lint({ paths: [path.resolve(__dirname, '../fixtures/rules/template-injection-pr-title.yml')] });
    expect(findings.some((f) => f.rule === 'template-injection')).toBe(true);
  });
});
