import { reachOf } from '../../src/analysis/reach';
import type { Origin } from '../../src/analysis/taint';
import { analyse, stepById } from './helpers';

const TITLE: Origin = { kind: 'context', role: 'issue', events: ['issues', 'issue_comment'], what: 'github.event.issue.title' };
const COMMENT: Origin = { kind: 'context', role: 'comment', events: ['issue_comment'], what: 'github.event.comment.body' };
const THREAD: Origin = { kind: 'thread', role: 'thread', events: null, what: 'the thread' };

function reach(workflow: string, origin: Origin) {
  const a = analyse({ 'w.yml': workflow });
  expect(a.errors).toEqual([]);
  return reachOf(origin, stepById(a, 'agent')).level;
}

const steps = '    runs-on: ubuntu-latest\n    steps:\n      - id: agent\n        run: echo\n';

describe('reach', () => {
  it('an ungated outsider trigger is outsider reach', () => {
    expect(reach(`on: issues\njobs:\n  j:\n${steps}`, TITLE)).toBe('outsider');
  });

  it('a commenter gate protects the comment but not the issue it is on', () => {
    const wf = `on: issue_comment\njobs:\n  j:\n    if: github.event.comment.author_association == 'MEMBER'\n${steps}`;
    expect(reach(wf, COMMENT)).toBe('none');
    expect(reach(wf, TITLE)).toBe('maintainer');
  });

  it('label-triggered runs are maintainer-gated', () => {
    expect(reach(`on:\n  issues:\n    types: [labeled]\njobs:\n  j:\n${steps}`, TITLE)).toBe('maintainer');
  });

  it('a scheduled run reading the thread is reached by outsiders, delayed', () => {
    expect(reach(`on:\n  schedule:\n    - cron: '0 * * * *'\njobs:\n  j:\n${steps}`, { ...THREAD, kind: 'fetch' })).toBe('outsider');
  });

  it('fork pull requests are unprivileged', () => {
    expect(reach(`on: pull_request\njobs:\n  j:\n${steps}`, { kind: 'context', role: 'pull_request', events: null, what: 'title' })).toBe('outsider-unprivileged');
  });

  it('a failing permission check step before the agent gates outsiders', () => {
    const wf = `on: issue_comment\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/github-script@v7\n        with:\n          script: |\n            const r = await github.rest.repos.getCollaboratorPermissionLevel({owner: 'o', repo: 'r', username: context.actor});\n            if (r.data.permission !== 'admin') core.setFailed('no');\n      - id: agent\n        run: echo\n`;
    expect(reach(wf, COMMENT)).toBe('none');
  });

  it('a condition that needs a maintainer event excludes outsiders', () => {
    expect(reach(`on: [issues, workflow_dispatch]\njobs:\n  j:\n    if: github.event_name == 'workflow_dispatch'\n${steps}`, TITLE)).toBe('none');
  });
});
