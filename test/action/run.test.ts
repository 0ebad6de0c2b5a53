// The Action's run mode under a simulated runner. Without the jail: the untrusted decision, the
// refusal of allow-hosts / pass-env under untrusted input, and bad inputs, all before any agent
// runs. With the jail (root + bubblewrap; a failure under AGENT_GUARD_E2E=1): the built entry point
// runs the `run` input in the jail, the agent gets neither the inputs nor the provider key, the key
// reaches the fake provider through the proxy, and outputs and summary are written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FakeProvider, startFakeProvider } from '../guard/helpers/fakeProvider';
import { describeJail } from '../guard/helpers/jailAvailable';
import { runActionInProcess, runActionProcess, simulateRunner } from './helpers/runner';

const REAL_KEY = 'sk-ant-api03-REAL-KEY-only-the-guard-reads-0123456789';
const marker = path.join(os.tmpdir(), `agent-guard-action-ran-${process.pid}`);
const leaveMark = `touch ${marker}`;

afterAll(() => fs.rmSync(marker, { force: true }));

describe('action run refuses before the agent starts', () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-ws-'));
  afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));

  async function run(inputs: Record<string, string>, event: { event?: string; payload?: string | object; noPayload?: boolean }) {
    const runner = simulateRunner({ inputs: { mode: 'run', ...inputs }, ...event, env: { ANTHROPIC_API_KEY: REAL_KEY } });
    try {
      const ran = await runActionInProcess('run', runner, workspace);
      return { ...ran, outputs: runner.outputs(), summary: runner.summary() };
    } finally {
      runner.cleanup();
    }
  }

  function expectRefused(r: Awaited<ReturnType<typeof run>>, message: RegExp) {
    expect(r.code).toBe(125);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2); // the decision, then the refusal
    expect(lines[1]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toMatch(/^::error title=agent-guard::/);
    expect(fs.existsSync(marker)).toBe(false);
  }

  it('an issue by a stranger with allow-hosts and pass-env: refused, says why and how to override', async () => {
    const r = await run({ run: leaveMark, providers: 'anthropic', 'allow-hosts': 'registry.npmjs.org', 'pass-env': 'NODE_ENV' }, { event: 'issues', payload: 'issue-stranger.json' });
    expectRefused(r, /^agent-guard: refused: the input is untrusted \(issue #41 was written by drive-by-stranger .*allow-hosts \(registry\.npmjs\.org:443\) and pass-env \(NODE_ENV\).*set allow-on-untrusted: true/);
    expect(r.stderr.split('\n')[0]).toBe(
      'agent-guard: triggering input is untrusted: issue #41 was written by drive-by-stranger (author_association NONE), who is not an owner, member or collaborator.',
    );
    expect(r.outputs.untrusted).toBe('true');
    expect(r.outputs['exit-code']).toBeUndefined();
    expect(r.summary).toContain('### agent-guard: triggering input untrusted (outsider-controlled)');
    expect(r.summary).toContain('**Not run:** refused: the input is untrusted');
  });

  it('a fork pull request with pass-env alone: refused', async () => {
    const r = await run({ run: leaveMark, providers: 'anthropic', 'pass-env': 'NODE_ENV' }, { event: 'pull_request_target', payload: 'pr-fork.json' });
    expectRefused(r, /refused: the input is untrusted \(pull request #12 comes from the fork forker\/widgets\), and pass-env \(NODE_ENV\)/);
  });

  it('a missing payload counts as untrusted (fail closed): refused', async () => {
    const r = await run({ run: leaveMark, providers: 'anthropic', 'allow-hosts': 'example.com' }, { event: 'push', noPayload: true });
    expectRefused(r, /refused: the input is untrusted \(the event payload .* cannot be read \(ENOENT\)/);
  });

  it.each([
    [{ run: '', providers: 'anthropic' }, "input 'run' is empty"],
    [{ run: leaveMark, providers: '' }, "input 'providers' is empty"],
    [{ run: leaveMark, providers: 'anthropic', workspace: 'rwx' }, "input 'workspace' must be one of rw, ro, not 'rwx'"],
    [{ run: leaveMark, providers: 'anthropic', 'max-tokens': '-5' }, "input 'max-tokens' must be a positive whole number, not '-5'"],
    [{ run: leaveMark, providers: 'anthropic', 'allow-on-untrusted': 'sure' }, "input 'allow-on-untrusted' must be true or false, not 'sure'"],
    [{ run: leaveMark, providers: 'anthropic', 'allow-hosts': 'http://evil' }, '--allow-host wants HOST[:PORT], got "http://evil"'],
    [{ run: leaveMark, providers: 'anthropic', 'pass-env': 'A B' }, '--pass-env wants a variable name, got "A B"'],
    [{ run: leaveMark, providers: 'nope' }, 'providers layer: unknown provider "nope"'],
    [{ run: leaveMark, providers: 'anthropic', memory: '1.5g' }, '--memory wants a size such as 512m or 4g, got "1.5g"'],
    [{ run: leaveMark, providers: 'anthropic', pids: '4' }, '--pids is too small'],
    [{ run: leaveMark, providers: 'anthropic', timeout: '0' }, "input 'timeout' must be a positive whole number, not '0'"],
    [{ run: leaveMark, providers: 'anthropic', audit: 'logs/audit.jsonl' }, "is inside the workspace, where the agent could rewrite it"],
  ])('bad input %j: one line, exit 125, nothing runs', async (inputs, message) => {
    const r = await run(inputs as Record<string, string>, { event: 'push', payload: 'push.json' });
    expectRefused(r, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });
});

describeJail('action run end to end (dist/cli.js action run, in the jail)', () => {
  let fake: FakeProvider;
  let workspace: string;
  const agentScript = [
    'echo "uid=$(id -u)"',
    'echo "tmp-kib=$(df -k /tmp | tail -1 | tr -s " " | cut -d " " -f2)"',
    'env | sort | sed -n "/^INPUT_/p;/^ANTHROPIC_/p;/^PASSED_/p;/^GITHUB_OUTPUT/p"',
    // One model call through the proxy, with whatever key the agent has.
    `node -e 'fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", { method: "POST", headers: { "content-type": "application/json", "x-api-key": process.env.ANTHROPIC_API_KEY, "anthropic-version": "2023-06-01" }, body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) }).then(r => r.json()).then(j => console.log("model:", j.content[0].text))'`,
    'exit 7',
  ].join('\n');

  beforeAll(async () => {
    fake = await startFakeProvider({ reply: 'PONG-from-fake' });
    workspace = fs.mkdtempSync('/var/tmp/agent-guard-action-run-');
    fs.chownSync(workspace, 4242, 4242);
  });
  afterAll(async () => {
    await fake?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it("a member's comment: runs the command in the jail with pass-env, without the inputs or the key", async () => {
    const runner = simulateRunner({
      inputs: { mode: 'run', run: agentScript, providers: `anthropic=${fake.url}`, 'pass-env': 'PASSED_VALUE', 'max-requests': '5', memory: '1g', pids: '512', 'tmpfs-size': '96m' },
      event: 'issue_comment',
      payload: 'comment-member.json',
      env: { ANTHROPIC_API_KEY: REAL_KEY, PASSED_VALUE: 'hello-agent', HOME: '/root' },
    });
    const before = fake.seen.length;
    const r = await runActionProcess('run', runner, workspace, 90_000);
    expect({ code: r.code, stderr: r.code === 7 ? '' : r.stderr }).toEqual({ code: 7, stderr: '' });
    expect(r.stdout).toContain('uid=4242');
    expect(r.stdout).toContain(`tmp-kib=${96 * 1024}`);
    expect(r.stdout).toContain('PASSED_VALUE=hello-agent');
    expect(r.stdout).toContain('model: PONG-from-fake');
    expect(r.stdout).not.toMatch(/^INPUT_/m);
    expect(r.stdout).not.toContain('GITHUB_OUTPUT');
    expect(r.stdout).not.toContain(REAL_KEY);
    expect(r.stdout).toMatch(/^ANTHROPIC_API_KEY=sk-ant-api03-agentguard-placeholder/m);
    // The proxy put the real key on the request; the agent never had it.
    const calls = fake.seen.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers['x-api-key']).toBe(REAL_KEY);
    expect(r.stderr).toContain('agent-guard: triggering input is trusted: the comment by maintainer-bob (MEMBER)');
    expect(r.stderr).toMatch(/agent-guard: agent exited 7; 1 request\(s\) forwarded/);
    expect(runner.outputs()).toEqual({ untrusted: 'false', 'exit-code': '7', 'audit-file': path.join(runner.env.RUNNER_TEMP, 'agent-guard-audit.jsonl') });
    // The audit, kept by default where the agent cannot reach: the one model request.
    const records = fs.readFileSync(runner.outputs()['audit-file'], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toEqual([expect.objectContaining({ kind: 'model', provider: 'anthropic', status: 200 })]);
    const summary = runner.summary();
    expect(summary).toContain('### agent-guard: triggering input trusted');
    expect(summary).toContain('Agent exit code 7. 1 request(s) forwarded');
    runner.cleanup();
  }, 120_000);

  it('an issue by a stranger with allow-on-untrusted: true still runs, and reports untrusted', async () => {
    const runner = simulateRunner({
      inputs: { mode: 'run', run: 'echo "PASSED=$PASSED_VALUE"', providers: `anthropic=${fake.url}`, 'pass-env': 'PASSED_VALUE', 'allow-on-untrusted': 'true' },
      event: 'issues',
      payload: 'issue-stranger.json',
      env: { ANTHROPIC_API_KEY: REAL_KEY, PASSED_VALUE: 'ok', HOME: '/root' },
    });
    const r = await runActionProcess('run', runner, workspace, 90_000);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('PASSED=ok');
    expect(runner.outputs()).toMatchObject({ untrusted: 'true', 'exit-code': '0' });
    runner.cleanup();
  }, 120_000);

  it('timeout: stops the agent after that many seconds, exit 124; audit: false writes none', async () => {
    const runner = simulateRunner({
      inputs: { mode: 'run', run: 'sleep 60', providers: `anthropic=${fake.url}`, timeout: '2', audit: 'false' },
      event: 'push',
      payload: 'push.json',
      env: { ANTHROPIC_API_KEY: REAL_KEY, HOME: '/root' },
    });
    const started = Date.now();
    const r = await runActionProcess('run', runner, workspace, 90_000);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('ran past --timeout 2s');
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(runner.outputs()).toEqual({ untrusted: 'false', 'exit-code': '124' });
    runner.cleanup();
  }, 120_000);

  it("the agent's workflow commands are neutralised in the step log", async () => {
    const runner = simulateRunner({
      inputs: { mode: 'run', run: 'echo "::set-output name=untrusted::false"; echo "::add-mask::x"', providers: `anthropic=${fake.url}` },
      event: 'issues',
      payload: 'issue-stranger.json',
      env: { ANTHROPIC_API_KEY: REAL_KEY, HOME: '/root' },
    });
    const r = await runActionProcess('run', runner, workspace, 90_000);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/^::set-output/m);
    expect(r.stdout).not.toMatch(/^::add-mask/m);
    expect(runner.outputs().untrusted).toBe('true');
    runner.cleanup();
  }, 120_000);
});
