// The Action and grants: `grants` lines become --grant options (a label list keeps its commas),
// grants stay allowed under untrusted input while allow-hosts does not, and `mode: apply` performs a
// deferred file with `github-token` against a fake GitHub, refusing one whose digest differs.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { grantArgsFromInputs } from '../../src/action/run';
import { AuditLog } from '../../src/guard/audit';
import { contextFromPayload } from '../../src/guard/grants/context';
import { createGitHubClient } from '../../src/guard/grants/github';
import { GrantSession } from '../../src/guard/grants/session';
import { parseGrant } from '../../src/guard/grants/spec';
import { parseRunArgs } from '../../src/guard/options';
import { readTrustDecision, untrustedRefusal } from '../../src/guard/untrusted';
import { type FakeGithubApi, startFakeGithubApi } from '../guard/helpers/fakeGithubApi';
import { describeJail } from '../guard/helpers/jailAvailable';
import { runActionInProcess, simulateRunner } from './helpers/runner';

const TOKEN = 'ghs_ActionApplyToken0123456789abcdefABCDEF';
const ISSUE_EVENT = { action: 'opened', issue: { number: 7, user: { login: 'stranger' }, author_association: 'NONE' }, repository: { full_name: 'octo/widgets', default_branch: 'main' } };

describe('the Action with grants', () => {
  let fake: FakeGithubApi;
  afterEach(async () => fake?.close());

  it('reads one grant per line, comments dropped, commas kept', () => {
    const runner = simulateRunner({ inputs: { grants: 'comment;max=1\nlabel=bug, good first issue   # the triage labels\n\n', 'allow-links': 'true' } });
    expect(grantArgsFromInputs({ env: runner.env, stdout: process.stdout, stderr: process.stderr, cwd: '/' })).toEqual([
      '--grant', 'comment;max=1', '--grant', 'label=bug, good first issue', '--allow-links',
    ]);
    runner.cleanup();
  });

  it('mode wrap bakes the grants into the wrapper', async () => {
    const runner = simulateRunner({ event: 'issue_comment', payload: 'comment-member.json', inputs: { mode: 'wrap', claude: process.execPath, grants: 'update-comment\ncomment' } });
    // The step runs in the checkout, as on a runner (RUNNER_TEMP is outside it).
    const workspace = path.join(runner.dir, 'work');
    fs.mkdirSync(workspace);
    const ran = await runActionInProcess('wrap', runner, workspace);
    expect({ code: ran.code, stderr: ran.code === 0 ? '' : ran.stderr }).toEqual({ code: 0, stderr: '' });
    const wrapper = fs.readFileSync(runner.outputs()['claude-wrapper'], 'utf8');
    expect(wrapper).toContain("'--grant' 'update-comment' '--grant' 'comment'");
    runner.cleanup();
  });

  it('under untrusted input, grants keep working and allow-hosts is still refused', () => {
    const runner = simulateRunner({ event: 'issues', payload: 'issue-stranger.json' });
    const decision = readTrustDecision(runner.env);
    expect(decision.untrusted).toBe(true);
    expect(untrustedRefusal(decision, parseRunArgs(['--grant', 'comment', '--grant', 'label=bug', '--', 'true']), false, 'x')).toBeUndefined();
    expect(untrustedRefusal(decision, parseRunArgs(['--grant', 'comment', '--allow-host', 'example.com', '--', 'true']), false, 'x')).toMatch(/allow-hosts \(example\.com:443\)/);
    runner.cleanup();
  });

  it('mode apply performs a deferred file with github-token, and refuses one whose digest differs', async () => {
    fake = await startFakeGithubApi();
    const runner = simulateRunner({ event: 'issues', payload: ISSUE_EVENT, env: { GITHUB_REPOSITORY: 'octo/widgets', GITHUB_API_URL: fake.url } });
    const deferFile = path.join(runner.dir, 'triage.json');
    // What a --defer run leaves: made here by a session that records instead of writing.
    const context = contextFromPayload(runner.env, ISSUE_EVENT);
    const session = new GrantSession(
      { grants: [parseGrant('comment'), parseGrant('label=bug')], context, secrets: [TOKEN], allowLinks: false, github: createGitHubClient(new URL(fake.url), TOKEN), audit: new AuditLog(), deferFile },
      'http://127.0.0.1:41098',
    );
    await new Promise<void>((r) => session.server.listen(0, '127.0.0.1', () => r()));
    const bridge = `http://127.0.0.1:${(session.server.address() as AddressInfo).port}`;
    const post = (p: string, body: unknown) => fetch(`${bridge}${p}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.status);
    expect(await post('/repos/octo/widgets/issues/7/comments', { body: 'Looks like a bug.' })).toBe(201);
    expect(await post('/repos/octo/widgets/issues/7/labels', { labels: ['bug'] })).toBe(200);
    session.server.closeAllConnections();
    await new Promise((r) => session.server.close(r));
    const { deferSha256 } = await session.finish(undefined);
    expect(fake.writes()).toEqual([]);

    const apply = async (sha: string) => {
      const r = simulateRunner({ event: 'issues', payload: ISSUE_EVENT, inputs: { mode: 'apply', defer: deferFile, 'defer-sha256': sha, grants: 'comment\nlabel=bug', 'github-token': TOKEN }, env: { GITHUB_REPOSITORY: 'octo/widgets', GITHUB_API_URL: fake.url } });
      try {
        return { ...(await runActionInProcess('apply', r, runner.dir)), summary: r.summary() };
      } finally {
        r.cleanup();
      }
    };
    const refused = await apply('0'.repeat(64));
    expect(refused.code).toBe(125);
    expect(refused.stderr).toMatch(/is refused: its SHA-256 is [0-9a-f]{64}, not the 0{64}/);
    expect(fake.writes()).toEqual([]);

    const applied = await apply(deferSha256!);
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: 'agent-guard: applied 2 deferred request(s)\n' });
    expect(applied.summary).toContain('Applied 2 deferred request(s).');
    expect(fake.writes().map((c) => [c.method, c.path, c.authorization])).toEqual([
      ['POST', '/repos/octo/widgets/issues/7/comments', `Bearer ${TOKEN}`],
      ['POST', '/repos/octo/widgets/issues/7/labels', `Bearer ${TOKEN}`],
    ]);
    expect(fs.existsSync(deferFile)).toBe(true);
    runner.cleanup();
  });
});

describeJail('the Action runs an agent with grants (in the jail)', () => {
  let fake: FakeGithubApi;
  afterEach(async () => fake?.close());

  it('github-token reaches the guard, never the agent, and the granted comment arrives with it', async () => {
    fake = await startFakeGithubApi();
    const runner = simulateRunner({
      event: 'issues',
      payload: ISSUE_EVENT,
      inputs: { mode: 'run', providers: 'anthropic', grants: 'comment', 'github-token': TOKEN, run: 'echo "token=$GITHUB_TOKEN"; gh issue comment "$AGENT_GUARD_ISSUE" -b "Seen by the bot."' },
      env: { GITHUB_REPOSITORY: 'octo/widgets', GITHUB_API_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-api03-unused-key-for-this-run-0123456789' },
    });
    const workspace = fs.mkdtempSync('/var/tmp/agent-guard-action-grants-');
    fs.chownSync(workspace, 4242, 4242);
    runner.env.GITHUB_WORKSPACE = workspace;
    try {
      const ran = await runActionInProcess('run', runner, workspace);
      expect({ code: ran.code, stderr: ran.code === 0 ? '' : ran.stderr }).toEqual({ code: 0, stderr: '' });
      expect(ran.stdout).toContain('token=agent-guard-placeholder-github-token');
      expect(ran.stdout).not.toContain(TOKEN);
      expect(fake.writes().map((c) => [c.method, c.path, c.authorization, c.body])).toEqual([
        ['POST', '/repos/octo/widgets/issues/7/comments', `Bearer ${TOKEN}`, { body: 'Seen by the bot.' }],
      ]);
      expect(runner.summary()).toContain('| grant | comment | POST /repos/\\{owner\\}/\\{repo\\}/issues/\\{number\\}/comments | 201 |');
    } finally {
      runner.cleanup();
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  }, 60_000);
});
