// A real agent CLI under the guard: Claude Code (npm @anthropic-ai/claude-code, a devDependency)
// runs one turn with a placeholder key against a fake Anthropic API on the host's loopback, reached
// only through the jail's bridge and the key-injecting proxy. Nothing leaves the machine.
import fs from 'node:fs';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { type FakeProvider, startFakeProvider } from './helpers/fakeProvider';
import { describeJail } from './helpers/jailAvailable';
import { runGuard } from './helpers/runGuard';

const CLAUDE = path.join(__dirname, '..', '..', 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
const REAL_KEY = 'sk-ant-api03-REAL-KEY-held-only-by-the-guard-0123456789';

describeJail('guard end to end: one Claude Code turn', () => {
  let guard: string;
  let fake: FakeProvider;
  let workspace: string;
  let auditFile: string;

  beforeAll(async () => {
    if (!fs.existsSync(CLAUDE)) throw new Error(`Claude Code is not installed at ${CLAUDE}: run npm ci`);
    guard = buildGuard();
    fake = await startFakeProvider({ reply: 'PONG from the fake provider' });
    workspace = fs.mkdtempSync('/var/tmp/agent-guard-claude-');
    fs.chownSync(workspace, 4242, 4242);
    auditFile = path.join(fs.mkdtempSync('/var/tmp/agent-guard-audit-'), 'audit.jsonl');
  });

  afterAll(async () => {
    await fake?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(path.dirname(auditFile), { recursive: true, force: true });
  });

  it('answers through the proxy with the real key injected and nothing else allowed out', async () => {
    const env = { PATH: process.env.PATH, HOME: '/root', ANTHROPIC_API_KEY: REAL_KEY, LANG: 'C.UTF-8' };
    const { code, stdout, stderr } = await runGuard(guard, ['--provider', `anthropic=${fake.url}`, '--audit', auditFile, '--timeout', '90', '--', CLAUDE, '-p', 'Say pong.', '--max-turns', '1'], env, workspace);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('PONG from the fake provider');
    const calls = fake.seen.filter((s) => s.url.startsWith('/v1/messages'));
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const s of fake.seen) {
      expect(s.headers['x-api-key']).toBe(REAL_KEY);
      expect(s.headers.authorization).toBeUndefined();
    }
    // The request Claude Code built carried the placeholder, never the key.
    expect(fake.seen.some((s) => s.body.includes(REAL_KEY))).toBe(false);
    const audit = fs.readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((a) => !a.refused && a.route === '/v1/messages').length).toBeGreaterThanOrEqual(1);
    expect(stderr).toMatch(/agent-guard: agent exited 0; \d+ request\(s\) forwarded/);
  }, 120_000);
});
