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

  it('names the script and the agent whole, even when the step is named by a line holding a colon', () => {
    const triage = (command: string, env: string) =>
      [
        'on: { issues: { types: [opened] } }',
        'jobs:',
        '  triage:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: >-',
        `          ${command}`,
        `        env: { ${env} }`,
        '',
      ].join('\n');
    const injections = (text: string) =>
      lint({ paths: [], files: [{ path: '.github/workflows/triage.yml', text }] }).findings.filter((f) => f.rule === 'prompt-injection' || f.rule === 'template-injection');
    const step = (flags: string) => `the run script of step 'gemini ${flags}-p "Label this issue. Title: `;

    // An agent with tools and a token: the prompt injection is the finding, the shell is named in it.
    const agent = injections(triage('gemini --yolo -p "Label this issue. Title: ${{ github.event.issue.title }}"', 'GEMINI_API_KEY: "${{ secrets.GEMINI_API_KEY }}", GH_TOKEN: "${{ github.token }}"'));
    expect(agent.map((f) => f.rule)).toEqual(['prompt-injection']);
    expect(agent[0].message).toMatch(/^github\.event\.issue\.title reaches Gemini CLI through /);
    expect(agent[0].message).toContain(`it is also expanded into ${step('--yolo ')}`);

    // When the shell is the worse of the two, the template injection is the finding and names the agent.
    const shell = injections(triage('gemini -p "Label this issue. Title: ${{ github.event.issue.title }}"', 'GEMINI_API_KEY: "${{ secrets.GEMINI_API_KEY }}"'));
    expect(shell.map((f) => f.rule)).toEqual(['template-injection']);
    expect(shell[0].message).toMatch(new RegExp(`^github\\.event\\.issue\\.title is expanded into ${step('').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*; it also reaches Gemini CLI\\.$`));
  });

  it('keeps a template injection that reaches no agent', () => {
    const { findings } = lint({ paths: [path.resolve(__dirname, '../fixtures/rules/template-injection-pr-title.yml')] });
    expect(findings.some((f) => f.rule === 'template-injection')).toBe(true);
  });
});
