// Real agent CLIs using grants in the jail, driven by scripted fake model APIs on loopback:
//   - Claude Code whose Bash tool runs `gh issue edit 7 --add-label bug` and `gh issue comment 7 ...`
//     under `--allowedTools "Bash(gh issue edit:*)" "Bash(gh issue comment:*)"`;
//   - Gemini CLI doing the same through `run_shell_command` under `--allowed-tools`;
//   - claude-code-action's wrapper path: the wrapper (`agent-guard wrap claude`) is started the way the
//     action starts Claude Code, with `--mcp-config` carrying the github_comment server and the real
//     GitHub token inline; the guard swaps the token for the placeholder, points the server at the
//     bridge, and the tracking comment update arrives at the fake GitHub with the real token.
// The github_comment server here is a stand-in, not the action's own: the action runs its servers with
// bun, which is not installed here. It makes the same call (Octokit's issues.updateComment with
// GITHUB_TOKEN, GITHUB_API_URL, REPO_OWNER, REPO_NAME, CLAUDE_COMMENT_ID from its env) over MCP stdio.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { installWrapper, prepareClaudeWrapper } from '../../src/guard/wrap';
import { buildGuard } from './helpers/build';
import { COMMENT_SERVER } from './helpers/commentServer';
import { type FakeGithubApi, startFakeGithubApi } from './helpers/fakeGithubApi';
import { describeJail } from './helpers/jailAvailable';
import { runGuard, runProcess } from './helpers/runGuard';
import { type ScriptedModel, scriptedAnthropic, scriptedGemini } from './helpers/scriptedModels';

const ROOT = path.join(__dirname, '..', '..');
const CLAUDE = path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
const GEMINI = path.join(ROOT, 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
const TOKEN = `ghs_AgentGrantSECRET${crypto.randomBytes(12).toString('hex')}`;
const TOKEN_PATTERN = 'AgentGrant[S]ECRET';
const ANTHROPIC_KEY = 'sk-ant-api03-REAL-KEY-for-the-grants-turn-0123456789';
const GEMINI_KEY = 'AIzaSy-REAL-GEMINI-KEY-for-the-grants-0123';


describeJail('real agents use grants through the jail', () => {
  let guard: string;
  let github: FakeGithubApi;
  let model: ScriptedModel | undefined;
  let root: string;
  let workspace: string;
  let eventFile: string;

  beforeAll(() => {
    for (const f of [CLAUDE, GEMINI]) if (!fs.existsSync(f)) throw new Error(`${f} is not installed: run npm ci`);
    guard = buildGuard();
    root = fs.mkdtempSync('/var/tmp/agent-guard-agent-grants-');
    eventFile = path.join(root, 'event.json');
    fs.writeFileSync(eventFile, JSON.stringify({ action: 'created', issue: { number: 7 }, comment: { id: 1, body: '@claude triage this' }, repository: { full_name: 'octo/widgets', default_branch: 'main' } }));
  });
  beforeEach(async () => {
    github = await startFakeGithubApi();
    workspace = fs.mkdtempSync(path.join(root, 'ws-'));
    fs.chownSync(workspace, 4242, 4242);
  });
  afterEach(async () => {
    await github?.close();
    await model?.close();
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const githubEnv = () => ({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'octo/widgets', GITHUB_EVENT_NAME: 'issue_comment', GITHUB_EVENT_PATH: eventFile });
  const triageSteps = (tool: string, key: string) => [
    { tool, input: { [key]: 'gh issue edit 7 --add-label bug', description: 'Label the issue' } },
    { tool, input: { [key]: 'gh issue comment 7 --body "Triage: this is a bug in the widget loader."', description: 'Comment' } },
    { text: 'Triage done.' },
  ];
  const expectTriageWrites = () => {
    expect(github.writes().map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/repos/octo/widgets/issues/7/labels', { labels: ['bug'] }],
      ['POST', '/repos/octo/widgets/issues/7/comments', { body: 'Triage: this is a bug in the widget loader.' }],
    ]);
    for (const c of github.calls) expect(c.authorization).toBe(`Bearer ${TOKEN}`);
    // What went back to the model (tool results) never held the token, and no grant was refused.
    expect(model!.bodies.some((b) => b.includes(TOKEN))).toBe(false);
    expect(model!.bodies.some((b) => b.includes('gh (agent-guard)'))).toBe(false);
  };

  it('Claude Code: Bash(gh issue edit:*) and Bash(gh issue comment:*) succeed through the grants', async () => {
    model = await scriptedAnthropic(triageSteps('Bash', 'command'));
    const env = { PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8', ANTHROPIC_API_KEY: ANTHROPIC_KEY, ...githubEnv() };
    const args = ['--provider', `anthropic=${model.url}`, '--grant', 'comment', '--grant', 'label=bug,question', '--timeout', '100', '--'];
    const r = await runGuard(guard, [...args, CLAUDE, '-p', 'Triage issue 7.', '--allowedTools', 'Bash(gh issue edit:*)', 'Bash(gh issue comment:*)', '--max-turns', '5'], env, workspace);
    expect({ code: r.code, tail: r.code === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ code: 0, tail: '' });
    expect(r.stdout).toContain('Triage done.');
    expectTriageWrites();
  }, 150_000);

  it('Gemini CLI: run_shell_command(gh issue edit) and run_shell_command(gh issue comment) succeed through the grants', async () => {
    model = await scriptedGemini(triageSteps('run_shell_command', 'command'));
    const env = { PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8', GEMINI_API_KEY: GEMINI_KEY, ...githubEnv() };
    const args = ['--provider', `gemini=${model.url}`, '--grant', 'comment', '--grant', 'label=bug,question', '--timeout', '100', '--'];
    const r = await runGuard(guard, [...args, GEMINI, '--skip-trust', '-p', 'Triage issue 7.', '--allowed-tools', 'run_shell_command(gh issue edit)', '--allowed-tools', 'run_shell_command(gh issue comment)'], env, workspace);
    expect({ code: r.code, tail: r.code === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ code: 0, tail: '' });
    expect(r.stdout).toContain('Triage done.');
    expectTriageWrites();
  }, 150_000);

  it("claude-code-action's wrapper path: the tracking comment update arrives with the real token, which the agent never held", async () => {
    // The action's folder lives under a folder the jail masks (as _actions does on a runner).
    const actionDir = fs.mkdtempSync('/var/tmp/agent-guard-fake-action-');
    fs.writeFileSync(path.join(actionDir, 'package.json'), '{"name":"claude-code-action-stand-in"}');
    fs.mkdirSync(path.join(actionDir, 'src', 'mcp'), { recursive: true });
    const server = path.join(actionDir, 'src', 'mcp', 'github-comment-server.js');
    fs.writeFileSync(server, COMMENT_SERVER);
    fs.chmodSync(actionDir, 0o755);
    const snoop = `found=0; for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ /run/agent-guard/*; do [ -r "$f" ] && [ -f "$f" ] && grep -qaE '${TOKEN_PATTERN}' "$f" && found=1; done; env | grep -qE '${TOKEN_PATTERN}' && found=1; echo "token-visible=$found"`;
    model = await scriptedAnthropic([
      { tool: 'Bash', input: { command: snoop, description: 'look around' } },
      { tool: 'mcp__github_comment__update_claude_comment', input: { body: 'Working on it... done: the widget loader is fixed.' } },
      { text: 'Comment updated.' },
    ]);
    const binDir = fs.mkdtempSync(path.join(root, 'wrapper-'));
    const prepared = prepareClaudeWrapper(
      { claude: CLAUDE, guardArgs: ['--provider', `anthropic=${model.url}`, '--grant', 'update-comment', '--timeout', '100'], allowOnUntrusted: false },
      { env: { PATH: process.env.PATH }, cwd: workspace, node: process.execPath, guard },
    );
    const wrapper = installWrapper(binDir, prepared.text);
    // What claude-code-action hands Claude Code: its servers with the GitHub token inline.
    const mcpConfig = {
      mcpServers: {
        github_comment: {
          command: 'node',
          args: [server],
          env: { GITHUB_TOKEN: TOKEN, REPO_OWNER: 'octo', REPO_NAME: 'widgets', CLAUDE_COMMENT_ID: '4321', GITHUB_EVENT_NAME: 'issue_comment', GITHUB_API_URL: github.url },
        },
      },
    };
    const env = { PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8', ANTHROPIC_API_KEY: ANTHROPIC_KEY, ...githubEnv() };
    const args = ['--mcp-config', JSON.stringify(mcpConfig), '-p', 'Update your tracking comment.', '--allowedTools', 'Bash,mcp__github_comment__update_claude_comment', '--max-turns', '5'];
    const r = await runProcess(wrapper, args, { env, cwd: workspace });
    fs.rmSync(actionDir, { recursive: true, force: true });
    expect({ code: r.code, tail: r.code === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ code: 0, tail: '' });
    expect(r.stdout).toContain('Comment updated.');
    expect(model.bodies.some((b) => b.includes('token-visible=0'))).toBe(true);
    expect(model.bodies.some((b) => b.includes(TOKEN))).toBe(false);
    expect(github.writes().map((c) => [c.method, c.path, c.body])).toEqual([
      ['PATCH', '/repos/octo/widgets/issues/comments/4321', { body: 'Working on it... done: the widget loader is fixed.' }],
    ]);
    for (const c of github.calls) expect(c.authorization).toBe(`Bearer ${TOKEN}`);
  }, 150_000);
});
