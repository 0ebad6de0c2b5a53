// A second real agent CLI under the guard: Gemini CLI (npm @google/gemini-cli, a devDependency)
// runs one headless turn with a placeholder key against a fake Gemini API on the host's loopback,
// reached only through the jail's bridge and the key-injecting proxy. This also checks the provider's
// home files: without the API-key auth the guard writes into the fresh HOME, Gemini CLI refuses the
// gateway auth its base-URL variable selects.
import fs from 'node:fs';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { fakeGemini } from './helpers/fakeGemini';
import { describeJail } from './helpers/jailAvailable';
import { runGuard } from './helpers/runGuard';

const GEMINI = path.join(__dirname, '..', '..', 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
const REAL_KEY = 'AIzaSy-REAL-GEMINI-KEY-held-only-by-the-guard-0123';

describeJail('guard end to end: one Gemini CLI turn', () => {
  let guard: string;
  let fake: Awaited<ReturnType<typeof fakeGemini>>;
  let workspace: string;
  let auditFile: string;

  beforeAll(async () => {
    if (!fs.existsSync(GEMINI)) throw new Error(`Gemini CLI is not installed at ${GEMINI}: run npm ci`);
    guard = buildGuard();
    fake = await fakeGemini('PONG from the fake Gemini API');
    workspace = fs.mkdtempSync('/var/tmp/agent-guard-gemini-');
    fs.chownSync(workspace, 4242, 4242);
    auditFile = path.join(fs.mkdtempSync('/var/tmp/agent-guard-audit-'), 'audit.jsonl');
  });

  afterAll(async () => {
    await fake?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(path.dirname(auditFile), { recursive: true, force: true });
  });

  it('answers through the proxy with the real key injected', async () => {
    const env = { PATH: process.env.PATH, HOME: '/root', GEMINI_API_KEY: REAL_KEY, LANG: 'C.UTF-8' };
    const { code, stdout, stderr } = await runGuard(guard, ['--provider', `gemini=${fake.url}`, '--audit', auditFile, '--timeout', '90', '--', GEMINI, '--skip-trust', '-p', 'Say pong.'], env, workspace);
    expect({ code, tail: code === 0 ? '' : stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });
    expect(stdout).toContain('PONG from the fake Gemini API');
    expect(fake.seen.some((s) => s.url.includes(':streamGenerateContent'))).toBe(true);
    for (const s of fake.seen) expect(s.key).toBe(REAL_KEY);
    expect(fake.seen.some((s) => s.body.includes(REAL_KEY))).toBe(false);
    const audit = fs.readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((a) => !a.refused).length).toBeGreaterThanOrEqual(1);
    expect(stderr).toMatch(/agent-guard: agent exited 0; \d+ request\(s\) forwarded/);
  }, 120_000);
});
