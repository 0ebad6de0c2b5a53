// The jail's seccomp filter (rules/seccomp.yml), attacked from inside: an agent asks the kernel for
// what breaks out of containers (a user namespace, the keyring, userfaultfd, io_uring, perf, bpf,
// mounts, handle-based opens, x32 and 32-bit system calls) and gets EPERM or ENOSYS, while ordinary
// work (files, child processes, threads) still runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { describeJail } from './helpers/jailAvailable';
import { parseSeccompRules } from '../../src/guard/seccomp';

const PYTHON = '/usr/bin/python3';
const rules = parseSeccompRules(fs.readFileSync(path.join(__dirname, '..', '..', 'rules', 'seccomp.yml'), 'utf8'));

/** Each denied call made from inside with zeroed arguments: name, return value, errno name. */
const PROBE = `
import ctypes, errno, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
out = {}
for name, nr in json.loads(sys.argv[1]):
    ctypes.set_errno(0)
    r = libc.syscall(nr, 0, 0, 0, 0, 0)
    out[name] = [r, errno.errorcode.get(ctypes.get_errno(), '0')]
# unshare(CLONE_NEWUSER), and the same through clone's flags
ctypes.set_errno(0); r = libc.syscall(${process.arch === 'arm64' ? 97 : 272}, 0x10000000)
out['unshare(CLONE_NEWUSER)'] = [r, errno.errorcode.get(ctypes.get_errno(), '0')]
ctypes.set_errno(0); r = libc.syscall(${process.arch === 'arm64' ? 97 : 272}, 0x00020000)
out['unshare(CLONE_NEWNS)'] = [r, errno.errorcode.get(ctypes.get_errno(), '0')]
ctypes.set_errno(0); r = libc.syscall(0x40000000 | 39)
out['x32 getpid'] = [r, errno.errorcode.get(ctypes.get_errno(), '0')]
out['getpid'] = [libc.syscall(${process.arch === 'arm64' ? 172 : 39}), '0']
print(json.dumps(out))
`;

describeJail('the seccomp filter', () => {
  let guard: string;
  let workspace: string;
  beforeAll(() => {
    guard = buildGuard();
    workspace = fs.mkdtempSync('/var/tmp/agent-guard-seccomp-');
    fs.chownSync(workspace, 4242, 4242);
  });
  afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));

  const run = (command: string[]) =>
    spawnSync(process.execPath, [guard, 'run', '--workspace', 'ro', '--', ...command], { cwd: workspace, env: { PATH: process.env.PATH, HOME: '/root' }, encoding: 'utf8', timeout: 60_000 });

  it('refuses every denied call from inside, EPERM or ENOSYS as the data says', () => {
    expect(fs.existsSync(PYTHON)).toBe(true);
    const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
    const calls = rules.deny.flatMap((d) => d.names.map((name, i) => [name, d.numbers[arch][i], d.errno === 38 ? 'ENOSYS' : 'EPERM'] as const));
    expect(calls.length).toBeGreaterThan(20);
    const r = run([PYTHON, '-c', PROBE, JSON.stringify(calls.map(([name, nr]) => [name, nr]))]);
    expect(r.stderr).toMatch(/agent exited 0/);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, [number, string]>;
    for (const [name, , errno] of calls) expect({ name, got: got[name] }).toEqual({ name, got: [-1, errno] });
    expect(got['unshare(CLONE_NEWUSER)']).toEqual([-1, 'EPERM']);
    // A mount namespace is refused for want of CAP_SYS_ADMIN, not by the filter.
    expect(got['unshare(CLONE_NEWNS)'][0]).toBe(-1);
    if (arch === 'x86_64') expect(got['x32 getpid']).toEqual([-1, 'EPERM']);
    expect(got.getpid[0]).toBeGreaterThan(0);
  }, 90_000);

  it('the filter is installed before the agent starts, and ordinary work still runs under it', () => {
    const script = [
      'grep -E "^Seccomp:" /proc/self/status',
      'unshare -U true 2>/dev/null && echo "userns: made" || echo "userns: refused"',
      'node -e "const {Worker}=require(\'worker_threads\');new Worker(\'require(\\"fs\\").writeFileSync(\\"/tmp/t\\",\\"ok\\")\',{eval:true}).on(\'exit\',()=>console.log(\'node:\',require(\'fs\').readFileSync(\'/tmp/t\',\'utf8\'),require(\'child_process\').execSync(\'echo child\').toString().trim()))"',
    ].join('; ');
    const r = run(['sh', '-c', script]);
    expect(r.stderr).toMatch(/agent exited 0/);
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(r.stdout).toContain('userns: refused');
    expect(r.stdout).toContain('node: ok child');
  }, 90_000);
});
