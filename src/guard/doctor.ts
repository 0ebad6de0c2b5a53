// `agent-guard doctor`: what isolation this machine supports and what `run` would do or refuse,
// in plain words. It ends with a trial: `true` run in a real jail, canary included.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { GuardError } from './errors';
import { findExecutable } from './jail';
import { describeLimits, planCgroups, resolveLimits } from './limits';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  canRun: boolean;
  checks: DoctorCheck[];
  verdict: string;
  text: string;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function sudoWorks(): boolean {
  const sudo = findExecutable('sudo', '/usr/bin:/bin:/usr/sbin:/sbin');
  if (!sudo) return false;
  try {
    execFileSync(sudo, ['-n', 'true'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function inContainer(): string | undefined {
  if (fs.existsSync('/.dockerenv')) return 'Docker (/.dockerenv)';
  if (fs.existsSync('/run/.containerenv')) return 'Podman (/run/.containerenv)';
  const cgroup = read('/proc/1/cgroup') ?? '';
  if (/docker|kubepods|containerd|lxc/.test(cgroup)) return `a container (cgroup ${cgroup.split('\n')[0]})`;
  return undefined;
}

const sink = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

export async function doctorReport(env: NodeJS.ProcessEnv): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const uid = process.getuid?.() ?? -1;
  const root = uid === 0;
  const sudo = !root && sudoWorks();
  checks.push({
    name: 'privilege',
    ok: root || sudo,
    detail: root ? 'running as root: the jail is built directly and the agent gets an unprivileged uid'
      : sudo ? `uid ${uid} with passwordless sudo: the jail is built through sudo and the agent keeps uid ${uid}`
      : `uid ${uid} without passwordless sudo: the jail cannot be built (it needs root to create namespaces without a user namespace)`,
  });
  const bwrap = findExecutable('bwrap', `${env.PATH ?? ''}:/usr/bin`);
  let bwrapVersion = '';
  if (bwrap) {
    try {
      bwrapVersion = execFileSync(bwrap, ['--version'], { encoding: 'utf8', timeout: 5000 }).trim();
    } catch {
      bwrapVersion = 'unknown version';
    }
  }
  // --size (a tmpfs that cannot take the host's memory) came in bubblewrap 0.7.0.
  const [major, minor] = (/(\d+)\.(\d+)/.exec(bwrapVersion) ?? []).slice(1).map(Number);
  const sizes = major > 0 || minor >= 7;
  checks.push({
    name: 'bubblewrap',
    ok: !!bwrap && sizes,
    detail: !bwrap ? 'not installed: apt-get install bubblewrap'
      : sizes ? `${bwrap} (${bwrapVersion})`
      : `${bwrap} (${bwrapVersion}) is older than 0.7.0 and cannot give a tmpfs a size; install bubblewrap 0.7 or later`,
  });
  const setpriv = findExecutable('setpriv', '/usr/bin:/bin');
  checks.push({
    name: 'setpriv',
    ok: true,
    detail: setpriv ? `${setpriv}: the agent starts with an empty capability bounding set`
      : 'not found: the agent still gets a new uid, no capabilities and no_new_privs, but keeps a full (unusable) bounding set',
  });
  // --workspace rw (the default) gives the agent an overlay of the workspace, mounted in a private
  // mount namespace made with util-linux's unshare; the module may load on first use.
  const overlay = (read('/proc/filesystems') ?? '').split('\n').some((l) => l.trim().endsWith('overlay'))
    || fs.existsSync(`/lib/modules/${os.release()}/kernel/fs/overlayfs`);
  const unshare = findExecutable('unshare', '/usr/bin:/bin:/usr/sbin:/sbin');
  checks.push({
    name: 'overlay',
    ok: overlay && !!unshare,
    detail: !overlay ? 'overlayfs is not available: only --workspace ro can run (the agent\'s copy of the workspace is an overlay)'
      : !unshare ? 'unshare (util-linux) is not installed: only --workspace ro can run'
      : `overlayfs and ${unshare}: the agent writes a copy of the workspace; its checked changes come back`,
  });
  const userns = read('/proc/sys/user/max_user_namespaces');
  const apparmor = read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  checks.push({
    name: 'user namespaces',
    ok: true,
    detail: `max_user_namespaces=${userns ?? 'unknown'}; apparmor_restrict_unprivileged_userns=${apparmor ?? 'absent'}. ` +
      'Not needed: the jail is built as root, so the AppArmor restriction does not apply and is left untouched.',
  });
  const yama = read('/proc/sys/kernel/yama/ptrace_scope');
  checks.push({ name: 'kernel', ok: true, detail: `Linux ${os.release()}; Yama ptrace_scope=${yama ?? 'absent'} (the pid namespace hides host processes either way); cgroup ${fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1 or none'}` });
  const limits = resolveLimits({});
  try {
    const dirs = planCgroups(limits, 'agent-guard-<run>', read('/proc/self/mountinfo') ?? '', read('/proc/self/cgroup') ?? '');
    checks.push({ name: 'limits', ok: true, detail: `${describeLimits(limits)} by default; the jail's cgroup goes in ${dirs.map((d) => path.dirname(d.path)).join(' and ')}` });
  } catch (err) {
    checks.push({ name: 'limits', ok: false, detail: err instanceof GuardError ? err.message : String(err) });
  }
  const lsm = read('/sys/kernel/security/lsm');
  if (lsm) checks.push({ name: 'security modules', ok: true, detail: lsm });
  const container = inContainer();
  if (container) checks.push({ name: 'container', ok: true, detail: `running inside ${container}: creating namespaces usually needs --privileged or CAP_SYS_ADMIN` });

  let trial: DoctorCheck = { name: 'trial jail', ok: false, detail: 'skipped: the checks above already fail' };
  if ((root || sudo) && bwrap) {
    const started = Date.now();
    try {
      // Imported here: command.ts imports this module.
      const { runGuarded } = await import('./command');
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-doctor-'));
      const result = await runGuarded(
        { providers: [], allowHosts: [], passEnv: [], workspaceMode: 'ro', allowPaths: [], allowProviderFetch: false, command: ['true'] },
        { stdout: sink(), stderr: sink(), env: { PATH: env.PATH, HOME: env.HOME }, cwd },
      ).finally(() => fs.rmSync(cwd, { recursive: true, force: true }));
      trial = result.exitCode === 0
        ? { name: 'trial jail', ok: true, detail: `\`true\` ran in a jail in ${Date.now() - started} ms; the canary found no network and no host` }
        : { name: 'trial jail', ok: false, detail: `\`true\` exited ${result.exitCode} in the jail` };
    } catch (err) {
      trial = { name: 'trial jail', ok: false, detail: err instanceof GuardError ? `${err.layer}: ${err.message}` : String(err) };
    }
  }
  checks.push(trial);
  const canRun = checks.every((c) => c.ok);
  const verdict = canRun
    ? 'agent-guard run will jail agents on this machine: own pid/mount/net/ipc/uts namespaces, loopback only, read-only root, masked homes and runner folders, no privileges.'
    : 'agent-guard run will refuse to start agents here (it fails closed rather than run an agent without every layer).';
  const text = [
    'agent-guard doctor',
    ...checks.map((c) => `  [${c.ok ? 'ok' : 'NO'}] ${c.name}: ${c.detail}`),
    '',
    verdict,
  ].join('\n');
  return { canRun, checks, verdict, text };
}
