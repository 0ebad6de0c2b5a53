// A job gated on `github.repository == 'upstream/project'` never runs in a copy of the workflow. The
// linter decides it against the repository's identity: the `repository` option, else the git remote
// `origin` of the clone (or worktree) being linted; unknown, it reports and says why it is unsure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lint } from '../src/lint';
import { repositoryIdentity } from '../src/workflow/load';

const WORKFLOW = `on:
  issues:
    types: [opened]
jobs:
  label:
    if: github.repository == 'upstream/project'
    runs-on: ubuntu-latest
    permissions:
      issues: write
    steps:
      - env:
          OPENAI_API_KEY: \${{ secrets.OPENAI_API_KEY }}
        run: |
          codex exec --full-auto "Label this issue: \${{ github.event.issue.title }}"
`;

function repoWith(origin?: string, { worktree = false } = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-repo-'));
  fs.mkdirSync(path.join(root, '.github/workflows'), { recursive: true });
  fs.writeFileSync(path.join(root, '.github/workflows/label.yml'), WORKFLOW);
  if (origin !== undefined) {
    const config = `[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://github.com/someone/else.git\n[remote "origin"]\n\turl = ${origin}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`;
    if (worktree) {
      // A worktree's .git is a file pointing into the main repository's .git/worktrees/NAME.
      const main = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-main-'));
      fs.mkdirSync(path.join(main, '.git/worktrees/wt'), { recursive: true });
      fs.writeFileSync(path.join(main, '.git/config'), config);
      fs.writeFileSync(path.join(main, '.git/worktrees/wt/commondir'), '../..\n');
      fs.writeFileSync(path.join(root, '.git'), `gitdir: ${path.join(main, '.git/worktrees/wt')}\n`);
    } else {
      fs.mkdirSync(path.join(root, '.git'));
      fs.writeFileSync(path.join(root, '.git/config'), config);
    }
  }
  return root;
}

const injections = (root: string, repository?: string) => lint({ paths: [root], repository }).findings.filter((f) => f.rule === 'prompt-injection');

describe('repository identity', () => {
  it.each([
    ['https://github.com/upstream/project.git', 'upstream/project'],
    ['git@github.com:someone/copy.git', 'someone/copy'],
    ['ssh://git@ghe.example.com/org/tool', 'org/tool'],
  ])('reads %s as %s', (url, expected) => {
    expect(repositoryIdentity(repoWith(url))).toBe(expected);
  });

  it('reads a worktree through its gitdir pointer, and nothing without a remote', () => {
    expect(repositoryIdentity(repoWith('https://github.com/someone/copy', { worktree: true }))).toBe('someone/copy');
    expect(repositoryIdentity(repoWith())).toBeUndefined();
  });

  it('a copy of the workflow elsewhere never runs the job', () => {
    expect(injections(repoWith('git@github.com:someone/copy.git'))).toEqual([]);
    expect(injections(repoWith(), 'someone/copy')).toEqual([]);
  });

  it('in the repository it names, the job runs for anyone', () => {
    const hits = injections(repoWith('https://github.com/Upstream/Project'));
    expect(hits.map((f) => [f.severity, f.confidence])).toEqual([['critical', 'high']]);
  });

  it('not knowing which repository this is, it reports and says why it is unsure', () => {
    const hits = injections(repoWith());
    expect(hits).toHaveLength(1);
    expect(hits[0].severity).toBe('critical');
    expect(hits[0].confidence).toBe('medium');
  });
});
