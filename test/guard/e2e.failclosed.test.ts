// The guard fails closed: bad input, a missing key, a workspace it cannot hand over safely, a jail
// that cannot be built, or a jail that was built wrong (caught by the canary) all stop the run with
// exit 125 and one line naming the layer, before the agent starts. Also: exit codes, --timeout,
// and `doctor`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { describeJail } from './helpers/jailAvailable';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

let guard: string;
let workspace: string;
let rootOwned: string;
let fakeBin: string;
const marker = path.join(os.tmpdir(), `agent-guard-ran-${process.pid}`);

function run(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [guard, ...args], {
      env: opts.env ?? { PATH: process.env.PATH, HOME: '/root' },
      cwd: opts.cwd ?? workspace,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
  });
}

const agentThatLeavesAMark = ['sh', '-c', `touch ${marker}`];

function expectRefusal(r: Run, layer: RegExp): void {
  expect(r.code).toBe(125);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^agent-guard: /);
  expect(lines[0]).toMatch(layer);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(marker)).toBe(false);
}

beforeAll(() => {
  guard = buildGuard();
  workspace = fs.mkdtempSync('/var/tmp/agent-guard-fc-');
  fs.chownSync(workspace, 4242, 4242);
  rootOwned = fs.mkdtempSync('/var/tmp/agent-guard-fc-root-');
  fakeBin = fs.mkdtempSync('/var/tmp/agent-guard-fc-bin-');
});

afterAll(() => {
  for (const d of [workspace, rootOwned, fakeBin]) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(marker, { force: true });
});

describe('guard refuses bad input before anything runs', () => {
  it('refuses an unknown option', async () => expectRefusal(await run(['run', '--no-such', '--', ...agentThatLeavesAMark]), /unknown option/));
  it('refuses a missing command', async () => expectRefusal(await run(['run']), /no command/));
  it('refuses an unknown provider', async () => expectRefusal(await run(['run', '--provider', 'nope', '--', ...agentThatLeavesAMark]), /providers layer: unknown provider "nope"/));
  it('refuses a provider without its key', async () => expectRefusal(await run(['run', '--provider', 'anthropic', '--', ...agentThatLeavesAMark]), /ANTHROPIC_API_KEY/));
  it('refuses a plain-http upstream off loopback', async () =>
    expectRefusal(await run(['run', '--provider', 'anthropic=http://api.example.com', '--', ...agentThatLeavesAMark], { env: { PATH: process.env.PATH, ANTHROPIC_API_KEY: 'k' } }), /must be https/));
});

describeJail('guard fails closed around the jail', () => {
  it('refuses to pass GITHUB_TOKEN', async () => expectRefusal(await run(['run', '--pass-env', 'GITHUB_TOKEN', '--', ...agentThatLeavesAMark]), /environment layer: --pass-env GITHUB_TOKEN/));

  it('refuses a root-owned workspace it would have to hand to root', async () => {
    expectRefusal(await run(['run', '--', ...agentThatLeavesAMark], { cwd: rootOwned }), /privilege layer: workspace .* owned by root/);
  });

  it('refuses when the jail cannot be built', async () => {
    const bwrap = path.join(fakeBin, 'bwrap');
    fs.writeFileSync(bwrap, '#!/bin/sh\necho "bwrap: Creating new namespace failed: Operation not permitted" >&2\nexit 1\n', { mode: 0o755 });
    const r = await run(['run', '--', ...agentThatLeavesAMark], { env: { PATH: `${fakeBin}:${process.env.PATH}`, HOME: '/root' } });
    expectRefusal(r, /jail layer: the jail could not be built, the agent did not run: bwrap: Creating new namespace failed/);
  });

  it.each([['--unshare-net', /canary layer: .*net namespace is the host's/], ['--unshare-pid', /canary layer: .*pid namespace is the host's/]])(
    'catches a jail built without %s with the canary',
    async (dropped, message) => {
      const bwrap = path.join(fakeBin, 'bwrap');
      fs.writeFileSync(bwrap, `#!/bin/sh\nfor a; do shift; [ "$a" = "${dropped}" ] || set -- "$@" "$a"; done\nexec /usr/bin/bwrap "$@"\n`, { mode: 0o755 });
      const r = await run(['run', '--', ...agentThatLeavesAMark], { env: { PATH: `${fakeBin}:${process.env.PATH}`, HOME: '/root' } });
      expectRefusal(r, message);
    },
  );

  it("returns the agent's exit code", async () => {
    // The workspace sits under a masked folder (/var/tmp): the path to it must stay traversable.
    const r = await run(['run', '--', 'sh', '-c', 'd=$(pwd); cd / && cd "$d" && echo out; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('out\n');
  });

  it('runs an agent installed under a masked folder (its node_modules is bound in, and reachable)', async () => {
    // e.g. a CLI installed in a HOME or a checkout under /tmp: the jail hides those folders, so the
    // guard binds the agent's own package back, with the folders leading to it traversable.
    // It also loads a sibling package, as Codex loads its platform binary's package.
    const modules = path.join(fs.mkdtempSync('/tmp/agent-guard-fc-pkg-'), 'node_modules');
    const pkg = path.join(modules, 'fake-agent');
    fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(modules, 'fake-dep'), { recursive: true });
    fs.writeFileSync(path.join(modules, 'fake-dep', 'index.js'), "module.exports = 'and its dependency';\n");
    fs.writeFileSync(path.join(pkg, 'lib.js'), "module.exports = 'from the package';\n");
    const bin = path.join(pkg, 'bin', 'agent.js');
    fs.writeFileSync(bin, "#!/usr/bin/env node\nconsole.log(require('../lib.js'), require('fake-dep'));\n", { mode: 0o755 });
    try {
      const r = await run(['run', '--', bin]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'from the package and its dependency\n' });
    } finally {
      fs.rmSync(path.dirname(path.dirname(pkg)), { recursive: true, force: true });
    }
  });

  it('stops the agent and everything it started at --timeout', async () => {
    const r = await run(['run', '--timeout', '1', '--', 'sh', '-c', 'sleep 30 & sleep 31; echo never']);
    expect(r.code).toBe(124);
    expect(r.ms).toBeLessThan(8000);
    expect(r.stdout).not.toContain('never');
    expect(r.stderr).toMatch(/--timeout 1s/);
  });

  it('doctor says what this machine supports and runs a trial jail', async () => {
    const r = await run(['doctor']);
    expect(r.stdout).toMatch(/\[ok\] privilege: running as root/);
    expect(r.stdout).toMatch(/\[ok\] bubblewrap/);
    expect(r.stdout).toMatch(/\[ok\] trial jail: `true` ran in a jail/);
    expect(r.code).toBe(0);
  });
});
