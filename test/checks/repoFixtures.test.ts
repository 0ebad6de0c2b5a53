// Repository fixtures (test/fixtures/repos): agents whose tools, prompts and commands come from the
// files a repository ships. Each folder is linted as one repository; each workflow's header says what
// must be reported for it.
import fs from 'node:fs';
import path from 'node:path';
import { lint } from '../../src/lint';
import type { Finding } from '../../src/checks/types';

const root = path.resolve(__dirname, '../fixtures/repos');
const repos = fs.readdirSync(root).filter((d) => fs.statSync(path.join(root, d)).isDirectory());

interface Case {
  repo: string;
  workflow: string;
  text: string;
}

const cases: Case[] = repos.flatMap((repo) => {
  const dir = path.join(root, repo, '.github', 'workflows');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => ({ repo, workflow: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
});

/** Findings that belong to a workflow: in its file, or in a local action the path enters from it. */
function ofWorkflow(findings: Finding[], workflow: string): Finding[] {
  const mine = (file: string) => file.endsWith(`.github/workflows/${workflow}`);
  return findings.filter((f) => mine(f.file) || f.path.some((h) => mine(h.file)));
}

const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };

const show = (fs: Finding[]) => fs.map((f) => `${f.rule} ${f.severity} ${f.file}:${f.line} ${f.message}`).join('\n') || '(none)';

describe('repository fixtures', () => {
  it('exist', () => expect(cases.length).toBeGreaterThan(6));

  it.each(cases.map((c) => [`${c.repo}/${c.workflow}`, c] as const))('%s', (_name, c) => {
    const { findings, errors } = lint({ paths: [path.join(root, c.repo)] });
    const wantedErrors = [...c.text.matchAll(/^# expect-error: (\S+)$/gm)].map((m) => m[1]);
    for (const file of wantedErrors) {
      const hits = errors.filter((e) => e.file.endsWith(file));
      if (hits.length !== 1) throw new Error(`expected one error for ${file}, got:\n${errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n')}`);
      expect(hits[0].message).not.toMatch(/\n/);
      expect(hits[0].message).not.toMatch(/\bat \w+ \(/); // no stack trace
    }
    // Errors of other workflows' files in the same repository are theirs to expect.
    const expectedAnywhere = cases.filter((o) => o.repo === c.repo).flatMap((o) => [...o.text.matchAll(/^# expect-error: (\S+)$/gm)].map((m) => m[1]));
    expect(errors.filter((e) => !expectedAnywhere.some((file) => e.file.endsWith(file)))).toEqual([]);
    const mine = ofWorkflow(findings, c.workflow);
    for (const m of c.text.matchAll(/^# expect: (\S+) (\S+)$/gm)) {
      if (!mine.some((f) => f.rule === m[1] && f.severity === m[2])) throw new Error(`expected ${m[1]} ${m[2]}, got:\n${show(mine)}`);
    }
    for (const m of c.text.matchAll(/^# expect-none: (\S+)$/gm)) {
      const hits = mine.filter((f) => m[1] === '*' || f.rule === m[1]);
      if (hits.length) throw new Error(`expected no ${m[1]}, got:\n${show(hits)}`);
    }
    for (const m of c.text.matchAll(/^# expect-max: (\S+) (\S+)$/gm)) {
      const over = mine.filter((f) => f.rule === m[1] && RANK[f.severity] > RANK[m[2]]);
      if (over.length) throw new Error(`expected ${m[1]} at most ${m[2]}, got:\n${show(over)}`);
    }
  });
});

describe('what the repository configuration adds to a finding', () => {
  it('names the command file whose front-matter granted the tools, at the line that grants them', () => {
    const { findings } = lint({ paths: [path.join(root, 'slash-command-dedupe')] });
    const hit = findings.find((f) => f.rule === 'agent-reads-untrusted');
    const hop = hit?.path.find((h) => h.file.endsWith('.claude/commands/find-duplicates.md'));
    expect(hop).toMatchObject({ line: 2, note: expect.stringContaining('Bash(gh issue comment:*)') });
  });

  it('names the composite action step the agent runs in, so the path starts in the workflow', () => {
    const { findings } = lint({ paths: [path.join(root, 'composite-prompt-file')] });
    const hit = findings.find((f) => f.rule === 'agent-reads-untrusted');
    expect(hit?.file).toMatch(/run-claude\/action\.yml$/);
    expect(hit?.path[0].file).toMatch(/\.github\/workflows\/triage\.yml$/);
    expect(hit?.path.map((h) => h.note).join('\n')).toMatch(/runs \.\/\.github\/actions\/triage[\s\S]*runs \.\/\.github\/actions\/run-claude/);
  });
});
