import { analyse } from './helpers';

function firing(files: Record<string, string>, file: string) {
  const a = analyse(files);
  expect(a.errors).toEqual([]);
  const job = a.jobs.find((j) => j.workflow.file.path.endsWith(file));
  if (!job) throw new Error(`no job in ${file}`);
  return job.triggers.map((t) => `${t.event}:${t.firing}${t.uncertain ? '?' : ''}`);
}

const job = 'jobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n';

describe('triggers', () => {
  it('knows who fires each event', () => {
    expect(firing({ 'a.yml': `on: [issues, issue_comment, push, pull_request, pull_request_target, schedule]\n${job}` }, 'a.yml')).toEqual([
      'issues:anyone',
      'issue_comment:anyone',
      'push:maintainers',
      'pull_request:anyone-unprivileged',
      'pull_request_target:anyone',
      'schedule:maintainers',
    ]);
  });

  it('narrows by activity types outsiders cannot cause', () => {
    expect(firing({ 'a.yml': `on:\n  issues:\n    types: [labeled, assigned]\n${job}` }, 'a.yml')).toEqual(['issues:maintainers']);
    expect(firing({ 'a.yml': `on:\n  issues:\n    types: [labeled, opened]\n${job}` }, 'a.yml')).toEqual(['issues:anyone']);
  });

  it('resolves workflow_run upstreams by name', () => {
    const fromFork = { 'ci.yml': `name: CI\non: pull_request\n${job}`, 'after.yml': `on:\n  workflow_run:\n    workflows: [CI]\n${job}` };
    expect(firing(fromFork, 'after.yml')).toEqual(['workflow_run:anyone']);
    const fromPush = { 'ci.yml': `name: CI\non: push\n${job}`, 'after.yml': `on:\n  workflow_run:\n    workflows: [CI]\n${job}` };
    expect(firing(fromPush, 'after.yml')).toEqual(['workflow_run:maintainers']);
    expect(firing({ 'after.yml': `on:\n  workflow_run:\n    workflows: [Missing]\n${job}` }, 'after.yml')).toEqual(['workflow_run:anyone?']);
  });

  it('analyses a locally called reusable workflow through its caller only', () => {
    const a = analyse({
      'caller.yml': 'on: issues\njobs:\n  c:\n    uses: ./.github/workflows/callee.yml\n',
      'callee.yml': `on: workflow_call\n${job}`,
    });
    const calleeJobs = a.jobs.filter((j) => j.workflow.file.path.endsWith('callee.yml'));
    expect(calleeJobs).toHaveLength(1);
    expect(calleeJobs[0].entry.file.path).toMatch(/caller\.yml$/);
    expect(calleeJobs[0].triggers.map((t) => t.event)).toEqual(['issues']);
  });
});
