// Grants end to end, in the jail: an agent with no token comments, labels and opens a pull request
// through the `gh` shim and the GitHub bridge; a fake GitHub API on the host's loopback receives
// exactly those writes, each with the real token, which the agent never saw (not in its environment,
// its files, the jail's config or any /proc entry it can read). A hostile agent's attempts are each
// refused and never reach the fake. --defer writes nothing; `apply` performs the same writes and
// refuses a tampered file. The pull request's change set comes from the runGuarded hook the boundary's
// overlay will fill; here it is built from what the agent wrote in the workspace.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { ChangeSet } from '../../src/guard/boundary/types';
import { runGuarded } from '../../src/guard/command';
import { applyMain } from '../../src/guard/grants/apply';
import { parseRunArgs } from '../../src/guard/options';
import { type FakeGithubApi, startFakeGithubApi } from './helpers/fakeGithubApi';
import { describeJail } from './helpers/jailAvailable';

// The agent greps for the token by a pattern that does not spell it (its own command line is visible).
const TOKEN = `ghs_E2EgrantSECRET${crypto.randomBytes(12).toString('hex')}`;
const TOKEN_PATTERN = 'E2Egrant[S]ECRET';
const AGENT_UID = 4242;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  deferSha256?: string;
  pullRequest?: unknown;
}

/**
 * A change set of the files the agent wrote (what the boundary's overlay will hand over), plus
 * `captured` entries standing for writes the overlay would catch where the real workspace is read-only.
 */
function changeSetFrom(workspace: string, paths: string[], captured: Record<string, string> = {}): ChangeSet {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-cs-'));
  const contents: [string, Buffer][] = [
    ...paths.filter((p) => fs.existsSync(path.join(workspace, p))).map((p): [string, Buffer] => [p, fs.readFileSync(path.join(workspace, p))]),
    ...Object.entries(captured).map(([p, text]): [string, Buffer] => [p, Buffer.from(text)]),
  ].sort(([a], [b]) => a.localeCompare(b));
  return {
    files: contents
      .map(([p, content], i) => {
        const contentFile = path.join(out, String(i));
        fs.writeFileSync(contentFile, content);
        return { kind: 'write' as const, path: p, mode: 0o644 as const, contentFile, size: content.length, sha256: crypto.createHash('sha256').update(content).digest('hex') };
      }),
    refused: [],
    commits: [],
  };
}

describeJail('grants end to end (in the jail, fake GitHub on loopback)', () => {
  let fake: FakeGithubApi;
  let root: string;
  let workspace: string;
  let eventFile: string;

  beforeAll(() => {
    root = fs.mkdtempSync('/var/tmp/agent-guard-grants-');
    eventFile = path.join(root, 'event.json');
    fs.writeFileSync(eventFile, JSON.stringify({ action: 'opened', issue: { number: 7, user: { login: 'stranger' }, author_association: 'NONE' }, repository: { full_name: 'octo/widgets', default_branch: 'main' } }));
  });
  beforeEach(async () => {
    fake = await startFakeGithubApi();
    workspace = fs.mkdtempSync(path.join(root, 'ws-'));
    fs.mkdirSync(path.join(workspace, 'src'));
    fs.mkdirSync(path.join(workspace, '.github', 'workflows'), { recursive: true });
    for (const dir of [workspace, path.join(workspace, 'src')]) fs.chownSync(dir, AGENT_UID, AGENT_UID);
  });
  afterEach(async () => fake?.close());
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  async function run(args: string[], script: string, changed: string[] = [], captured: Record<string, string> = {}): Promise<Ran> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d) => (out += d));
    stderr.on('data', (d) => (err += d));
    const env = {
      PATH: process.env.PATH,
      HOME: '/root',
      LANG: 'C.UTF-8',
      GITHUB_TOKEN: TOKEN,
      GITHUB_API_URL: fake.url,
      GITHUB_REPOSITORY: 'octo/widgets',
      GITHUB_EVENT_NAME: 'issues',
      GITHUB_EVENT_PATH: eventFile,
      GITHUB_RUN_ID: '777',
      GITHUB_WORKSPACE: workspace,
    };
    try {
      const result = await runGuarded(parseRunArgs([...args, '--timeout', '60', '--', 'bash', '-c', script]), { stdout, stderr, env, cwd: workspace }, { changeSet: () => changeSetFrom(workspace, changed, captured) });
      return { code: result.exitCode, stdout: out, stderr: err, deferSha256: result.grants?.deferSha256, pullRequest: result.grants?.pullRequest };
    } catch (e) {
      return { code: 125, stdout: out, stderr: `${err}${(e as Error).message}` };
    }
  }

  const SNOOP = `
    found=0
    env | grep -qE '${TOKEN_PATTERN}' && { echo "FOUND in env"; found=1; }
    for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline /run/agent-guard/* /run/agent-guard/bin/* "$HOME"/.* "$HOME"/* ; do
      [ -r "$f" ] && [ -f "$f" ] && grep -qaE '${TOKEN_PATTERN}' "$f" 2>/dev/null && { echo "FOUND in $f"; found=1; }
    done
    echo "token-visible=$found"
    echo "api=$GITHUB_API_URL token=$GITHUB_TOKEN gh=$(command -v gh)"`;

  it('an honest agent comments, labels and opens a pull request; GitHub gets exactly those writes with the real token', async () => {
    const script = `set -e
      ${SNOOP}
      gh issue view 7 --json title --jq .title
      gh issue comment 7 --body "Thanks! This looks like a crash in the widget loader."
      gh issue edit 7 --add-label bug
      echo 'export const fixed = true;' > src/fix.ts
      gh pr create --title "Fix the widget crash" --body "Fixes #7"`;
    const r = await run(['--grant', 'comment', '--grant', 'label=bug,question', '--grant', 'pull-request'], script, ['src/fix.ts']);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('token-visible=0');
    expect(r.stdout).toContain('api=http://127.0.0.1:41098 token=agent-guard-placeholder-github-token gh=/run/agent-guard/bin/gh');
    expect(r.stdout).toContain('Widget crashes on start');
    expect(r.stdout).not.toContain(TOKEN);
    expect(fake.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /repos/octo/widgets/issues/7/comments',
      'POST /repos/octo/widgets/issues/7/labels',
      'POST /repos/octo/widgets/git/blobs',
      'POST /repos/octo/widgets/git/trees',
      'POST /repos/octo/widgets/git/commits',
      'POST /repos/octo/widgets/git/refs',
      'POST /repos/octo/widgets/pulls',
    ]);
    for (const c of fake.calls) expect(c.authorization).toBe(`Bearer ${TOKEN}`);
    expect(fake.writes()[6].body).toMatchObject({ title: 'Fix the widget crash', body: 'Fixes #7', base: 'main', head: expect.stringMatching(/^agent-guard\/run-777-/) });
    expect(r.pullRequest).toMatchObject({ url: 'https://github.com/octo/widgets/pull/99' });
  }, 90_000);

  it('a hostile agent: every attempt outside the grants is refused and never reaches GitHub', async () => {
    const attempts = [
      'gh issue comment 8 -b "other issue"',
      'gh issue comment 7 -R evil/repo -b "other repo"',
      'gh issue edit 7 --add-label security',
      `gh issue comment 7 -b "key: $(printf 'ghp_%036d' 0)"`,
      'gh issue comment 7 -b "@a @b @c @d @e @f"',
      "gh api -X PUT repos/octo/widgets/contents/.github/workflows/pwn.yml -f message=x -f content=eA==",
      'gh api -X POST /user/repos -f name=exfil',
      "gh api graphql -f query='mutation { addComment(input:{subjectId:\"I_1\", body:\"x\"}) { clientMutationId } }'",
      'gh api repos/octo/widgets/actions/secrets',
    ];
    // Around the shim: a raw request with a foreign Host header, and a direct one to the real API.
    const raw = `
      const http = require('http');
      const req = http.request(process.env.GITHUB_API_URL + '/repos/octo/widgets/issues/7/comments', { method: 'POST', headers: { host: 'api.github.com' } }, (r) => console.log('raw', r.statusCode));
      req.on('error', () => console.log('raw error'));
      req.end(JSON.stringify({ body: 'spoofed host' }));
      fetch('${fake.url}/repos/octo/widgets/issues/7/comments', { method: 'POST', body: '{}' }).then((r) => console.log('DIRECT', r.status), () => console.log('direct blocked'));`;
    const script = `${SNOOP}
      cat > /tmp/raw.js <<'EOF'
${raw}
EOF
      node /tmp/raw.js
      ${attempts.map((a) => `${a} >/dev/null 2>>/tmp/refusals || true`).join('\n')}
      gh issue comment 7 -b "/deploy production"
      gh issue comment 7 -b "over the cap" || echo "cap held"
      echo 'export const ok = 1;' > src/ok.ts
      gh pr create --title "Innocent" --body "x"
      cat /tmp/refusals`;
    const r = await run(['--grant', 'comment;max=1', '--grant', 'label=bug', '--grant', 'pull-request'], script, ['src/ok.ts'], { '.github/workflows/pwn.yml': 'on: push' });
    expect(r.stdout).toContain('token-visible=0');
    expect(r.stdout).toContain('cap held');
    expect(r.stdout).not.toContain('DIRECT');
    expect(r.stdout).toContain('direct blocked');
    expect(r.stdout).toContain('raw 400');
    const refusals = r.stdout.split('\n').filter((l) => l.startsWith('gh (agent-guard):'));
    expect(refusals.length).toBeGreaterThanOrEqual(9);
    // Only the one comment within the cap arrived, with its slash command neutralised.
    expect(fake.writes().map((c) => [c.method, c.path, c.body])).toEqual([['POST', '/repos/octo/widgets/issues/7/comments', { body: '`/deploy` production' }]]);
    expect(r.pullRequest).toMatchObject({ refused: expect.stringMatching(/\.github\/workflows\/pwn\.yml is workflow or tool configuration/) });
  }, 90_000);

  it('--defer writes nothing; apply performs the same writes; a tampered file is refused', async () => {
    const deferFile = path.join(root, `deferred-${Date.now()}.json`);
    const grants = ['--grant', 'comment', '--grant', 'label=bug,question'];
    const r = await run([...grants, '--defer', deferFile], 'gh issue comment 7 -b "Deferred triage: a bug." && gh issue edit 7 --add-label bug');
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(fake.writes()).toEqual([]);
    expect(r.deferSha256).toMatch(/^[0-9a-f]{64}$/);

    const apply = async (file: string, sha?: string, applyGrants = grants) => {
      const stderr = new PassThrough();
      let err = '';
      stderr.on('data', (d) => (err += d));
      const env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: fake.url, GITHUB_REPOSITORY: 'octo/widgets', GITHUB_EVENT_NAME: 'issues', GITHUB_EVENT_PATH: eventFile };
      const code = await applyMain([file, ...applyGrants, ...(sha ? ['--sha256', sha] : [])], { env, stdout: new PassThrough(), stderr });
      return { code, stderr: err };
    };

    // Tampered: another issue, an extra label (within the JSON, with no digest to compare), a changed digest.
    const doc = JSON.parse(fs.readFileSync(deferFile, 'utf8'));
    const otherIssue = path.join(root, 'other-issue.json');
    fs.writeFileSync(otherIssue, JSON.stringify({ ...doc, requests: doc.requests.map((q: { number?: number }) => ({ ...q, number: 8 })) }));
    expect(await apply(otherIssue)).toMatchObject({ code: 125, stderr: expect.stringMatching(/request 1 \(comment\.create\) is refused .*#8 is not the triggering issue #7/) });
    const extraLabel = path.join(root, 'extra-label.json');
    fs.writeFileSync(extraLabel, JSON.stringify({ ...doc, requests: [...doc.requests, { kind: 'labels.add', owner: 'octo', repo: 'widgets', number: 7, labels: ['security'] }] }));
    expect(await apply(extraLabel)).toMatchObject({ code: 125, stderr: expect.stringMatching(/label "security" is not in the grant/) });
    const inGrantLabel = path.join(root, 'in-grant-label.json');
    fs.writeFileSync(inGrantLabel, JSON.stringify({ ...doc, requests: [...doc.requests, { kind: 'labels.add', owner: 'octo', repo: 'widgets', number: 7, labels: ['question'] }] }));
    expect(await apply(inGrantLabel, r.deferSha256)).toMatchObject({ code: 125, stderr: expect.stringMatching(/SHA-256 is [0-9a-f]{64}, not the/) });
    expect(await apply(deferFile, r.deferSha256, ['--grant', 'comment'])).toMatchObject({ code: 125, stderr: expect.stringMatching(/request 2 \(labels\.add\) is refused .*no grant allows labels\.add/) });
    expect(fake.writes()).toEqual([]);

    expect(await apply(deferFile, r.deferSha256)).toEqual({ code: 0, stderr: `agent-guard: applied 2 deferred request(s) from ${deferFile}\n` });
    expect(fake.writes().map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/repos/octo/widgets/issues/7/comments', { body: 'Deferred triage: a bug.' }],
      ['POST', '/repos/octo/widgets/issues/7/labels', { labels: ['bug'] }],
    ]);
    for (const c of fake.calls) expect(c.authorization).toBe(`Bearer ${TOKEN}`);
  }, 90_000);
});
