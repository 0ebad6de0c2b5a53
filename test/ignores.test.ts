// Inline ignores where a maintainer writes them: at the end of the offending line, on the step's
// `name:`/`uses:`/`run:` line, or on a comment line directly above the step; never by editing a
// script or a prompt. And step identity: what a step runs names it when it has no id or name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lint } from '../src/lint';
import { stepIdentity } from '../src/workflow/model';

// The finding on line 12 sits inside a folded prompt: a comment there would become part of it.
const TRIAGE = `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # Triage the issue.
      - run: >-
          claude -p "Label this issue.
          Title: \${{ github.event.issue.title }}
          Be brief." --dangerously-skip-permissions
        env:
          ANTHROPIC_API_KEY: \${{ secrets.ANTHROPIC_API_KEY }}
`;

function lintText(text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-ignores-'));
  const file = path.join(dir, 'triage.yml');
  fs.writeFileSync(file, text);
  try {
    const result = lint({ paths: [file], cwd: dir });
    return { rules: result.findings.map((f) => `${f.rule}:${f.line}`).sort(), errors: result.errors.map((e) => `${e.line}:${e.column}: ${e.message}`) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const replaced = (from: string, to: string) => {
  if (!TRIAGE.includes(from)) throw new Error(`fixture has no ${from}`);
  return TRIAGE.replace(from, to);
};

describe('inline ignores', () => {
  it('the fixture has a finding inside the folded prompt', () => {
    expect(lintText(TRIAGE)).toEqual({ rules: ['prompt-injection:11', 'template-injection:12'], errors: [] });
  });

  it.each([
    ['on the run: line', replaced('      - run: >-\n', '      - run: >- # agent-guard: ignore[template-injection]\n')],
    ['on the comment line above the step', replaced('      # Triage the issue.\n', '      # agent-guard: ignore[template-injection]\n')],
    ['in a comment block above the step, not its last line', replaced('      # Triage the issue.\n', '      # agent-guard: ignore[template-injection] (reviewed: the title is only echoed)\n      # Triage the issue.\n')],
    ['on the name: line', replaced('      - run: >-\n', '      - name: Triage # agent-guard: ignore[template-injection]\n        run: >-\n')],
  ])('%s silences that rule for the whole step, and only that rule', (_where, text) => {
    const { rules, errors } = lintText(text);
    expect({ rules: rules.map((r) => r.split(':')[0]), errors }).toEqual({ rules: ['prompt-injection'], errors: [] });
  });

  it('ignore[*] and a list of ids', () => {
    expect(lintText(replaced('      - run: >-\n', '      - run: >- # agent-guard: ignore[*]\n')).rules).toEqual([]);
    expect(lintText(replaced('      - run: >-\n', '      - run: >- # agent-guard: ignore[template-injection, prompt-injection]\n')).rules).toEqual([]);
  });

  it('does not reach past the step: a comment above another step, or cut off by a blank line', () => {
    const otherStep = replaced('      - uses: actions/checkout@v4\n', '      # agent-guard: ignore[template-injection]\n      - uses: actions/checkout@v4\n');
    expect(lintText(otherStep).rules).toContain('template-injection:13');
    const cutOff = replaced('      # Triage the issue.\n', '      # agent-guard: ignore[template-injection]\n\n      # Triage the issue.\n');
    expect(lintText(cutOff).rules).toContain('template-injection:14');
  });

  it('an unknown rule id is an error with file and line, and silences nothing', () => {
    const typo = lintText(replaced('      - run: >-\n', '      - run: >- # agent-guard: ignore[template-injections]\n'));
    expect(typo.rules).toEqual(['prompt-injection:11', 'template-injection:12']);
    expect(typo.errors).toEqual([expect.stringMatching(/^10:17: inline ignore: unknown rule 'template-injections' \(rules: prompt-injection, /)]);
    expect(lintText(replaced('      # Triage the issue.\n', '      # agent-guard: ignore[]\n')).errors).toEqual(['9:7: agent-guard: ignore[] names no rule (give rule ids, or * for all)']);
  });
});

describe('step identity', () => {
  it.each([
    ['actions/checkout@v4', undefined, 'actions/checkout'],
    ['actions/checkout@34e114876b0b11c390a56381ad16ebd13914f8d5', undefined, 'actions/checkout'],
    ['org/repo/.github/workflows/x.yml@feature/branch', undefined, 'org/repo/.github/workflows/x.yml'],
    ['./.github/actions/agent', undefined, './.github/actions/agent'],
    [undefined, 'npm ci', 'npm ci'],
    [undefined, '# install\nset -euo pipefail\n\n  npm   ci  \\\n  --ignore-scripts\nnpm test', 'npm ci'],
    [undefined, `claude -p "${'x'.repeat(100)}"`, `claude -p "${'x'.repeat(48)}…`],
    [undefined, '# only a comment\n', undefined],
  ])('uses %j, run %j → %j', (uses, run, expected) => {
    expect(stepIdentity(uses, run)).toBe(expected);
  });

  it('names the finding of an unnamed step in messages and JSON alike', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-identity-'));
    fs.writeFileSync(path.join(dir, 'w.yml'), TRIAGE);
    const { findings } = lint({ paths: [path.join(dir, 'w.yml')], cwd: dir });
    expect(new Set(findings.map((f) => f.step))).toEqual(new Set(['claude -p "Label this issue. Title: ${{ github.event.issue.…']));
    expect(findings.find((f) => f.rule === 'template-injection')?.message).toContain("step 'claude -p \"Label this issue.");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
