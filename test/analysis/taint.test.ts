import { analyse, stepById } from './helpers';

const header = 'on:\n  issues:\n    types: [opened]\n';

function envTaints(files: Record<string, string>, stepId: string, name: string) {
  const a = analyse(files);
  expect(a.errors).toEqual([]);
  const step = stepById(a, stepId);
  return a.engine.envTaint(name, { job: step.job, step });
}

describe('taint', () => {
  it('follows env from workflow to job to step, inner levels shadowing outer ones', () => {
    const files = {
      'w.yml': `${header}env:\n  A: \${{ github.event.issue.title }}\n  B: \${{ github.event.issue.body }}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    env:\n      B: safe\n    steps:\n      - id: s\n        run: echo\n`,
    };
    expect(envTaints(files, 's', 'A').map((t) => t.origin.what)).toEqual(['github.event.issue.title']);
    expect(envTaints(files, 's', 'B')).toEqual([]);
  });

  it('follows $GITHUB_OUTPUT writes, shell variables and job outputs through needs', () => {
    const a = analyse({
      'w.yml': `${header}jobs:
  one:
    runs-on: ubuntu-latest
    outputs:
      t: \${{ steps.w.outputs.title }}
    steps:
      - id: w
        env:
          RAW: \${{ github.event.issue.title }}
        run: |
          CLEAN="$RAW"
          echo "title=$CLEAN" >> "$GITHUB_OUTPUT"
  two:
    needs: one
    runs-on: ubuntu-latest
    steps:
      - id: r
        env:
          T: \${{ needs.one.outputs.t }}
        run: echo "$T"
`,
    });
    expect(a.errors).toEqual([]);
    const r = stepById(a, 'r');
    const taints = a.engine.envTaint('T', { job: r.job, step: r });
    expect(taints).toHaveLength(1);
    const notes = taints[0].hops.map((h) => h.note);
    expect(notes[0]).toMatch(/github\.event\.issue\.title/);
    expect(notes.some((n) => /assigned to \$CLEAN/.test(n))).toBe(true);
    expect(notes.some((n) => /\$GITHUB_OUTPUT as title/.test(n))).toBe(true);
    expect(notes.some((n) => /output t of job 'one'/.test(n))).toBe(true);
  });

  it('follows $GITHUB_ENV writes into later steps only', () => {
    const files = {
      'w.yml': `${header}jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: before
        run: echo
      - id: w
        run: echo "BODY=\${{ github.event.issue.body }}" >> $GITHUB_ENV
      - id: after
        run: echo
`,
    };
    expect(envTaints(files, 'after', 'BODY')).toHaveLength(1);
    expect(envTaints(files, 'before', 'BODY')).toEqual([]);
  });

  it('treats toJSON of a whole event object as a source but not unrelated contexts', () => {
    const a = analyse({
      'w.yml': `${header}jobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - id: s\n        env:\n          E: \${{ toJSON(github.event.issue) }}\n          S: \${{ github.sha }}\n          N: \${{ github.event.issue.number }}\n        run: echo\n`,
    });
    const s = stepById(a, 's');
    expect(a.engine.envTaint('E', { job: s.job, step: s })).toHaveLength(1);
    expect(a.engine.envTaint('S', { job: s.job, step: s })).toEqual([]);
    expect(a.engine.envTaint('N', { job: s.job, step: s })).toEqual([]);
  });

  it('does not loop on self-referencing outputs', () => {
    const a = analyse({
      'w.yml': `${header}jobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - id: s\n        env:\n          X: \${{ steps.s.outputs.x }}\n        run: echo "x=$X" >> $GITHUB_OUTPUT\n`,
    });
    const s = stepById(a, 's');
    expect(a.engine.envTaint('X', { job: s.job, step: s })).toEqual([]);
  });

  it('marks the output of an agent action as AI output', () => {
    const a = analyse({
      'w.yml': `${header}jobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - id: ai\n        uses: actions/ai-inference@v1\n        with:\n          prompt: hello\n      - id: use\n        env:\n          R: \${{ steps.ai.outputs.response }}\n        run: echo\n`,
    });
    const s = stepById(a, 'use');
    expect(a.engine.envTaint('R', { job: s.job, step: s }).map((t) => t.origin.kind)).toEqual(['ai-output']);
  });
});
