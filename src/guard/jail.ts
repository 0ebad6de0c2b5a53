// Builds the jail's filesystem and bubblewrap command line. bwrap runs as root (directly, or through
// `sudo -n` on a GitHub runner), so it needs no user namespace and the Ubuntu AppArmor restriction
// on unprivileged user namespaces does not apply. Layout:
//   / read-only; fresh /proc and /dev; tmpfs, each with a size (limits.ts), over /tmp, /var/tmp,
//   /dev/shm, /run, /var/run, /home, /root, the caller's HOME, RUNNER_TEMP, the runner's _actions and
//   root; agent installs in those folders brought back read-only (installs.ts); the workspace bound
//   back: with rw, the merged view of an overlay whose writes land in the guard's private folder (see
//   boundary/overlay.ts; its git configs are sanitised copies seeded into the upper layer), with ro
//   the real workspace read-only with its git configs covered by sanitised copies; credential files
//   other steps left hidden (rules/credential-files.yml); every host unix socket still visible
//   covered by /dev/null; a fresh HOME for the agent.
// bwrap keeps only CAP_SETUID/SETGID/SETPCAP (to hand the agent its uid and an empty bounding set
// through setpriv), CAP_CHOWN (the agent's HOME) and CAP_DAC_READ_SEARCH (to start the agent in a
// 0700 workspace); the init process gives all of them up once the agent runs.
import { compileSeccomp, seccompArch, seccompRules } from './seccomp';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCredentialFiles, homeCredentialPaths } from './credentialFiles';
import { AGENT_HOME } from './env';
import { GuardError } from './errors';
import { sanitizeGitConfig } from './gitConfig';
import { ExposeError, type Exposure, InstallExposer } from './installs';
import type { JailConfig } from './jailInit';
import { jailInitSource } from './jailInit';
import { type Limits, MASK_TMPFS_SIZE } from './limits';

export const JAIL_DIR = '/run/agent-guard';
const NOBODY = 65534;
const BRIDGE_UID = 65533;

export interface HostFacts {
  uid: number;
  gid: number;
  home: string;
  env: NodeJS.ProcessEnv;
}

export function findExecutable(name: string, searchPath: string | undefined): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? path.resolve(name) : undefined;
  for (const dir of (searchPath ?? '').split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realDir(p: string | undefined): string | undefined {
  if (!p) return undefined;
  try {
    const real = fs.realpathSync(p);
    return fs.statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The runner's install folder (it holds .credentials and .credentials_rsaparams), from our ancestors. */
export function findRunnerRoot(): string | undefined {
  let pid = process.ppid;
  for (let i = 0; i < 32 && pid > 1; i++) {
    try {
      const exe = fs.readlinkSync(`/proc/${pid}/exe`);
      if (/\/Runner\.(Worker|Listener)$/.test(exe)) return path.dirname(path.dirname(exe));
    } catch {
      // not ours to read: keep walking
    }
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return undefined;
}

/** Directories hidden behind an empty tmpfs, outermost first. */
export function maskedDirectories(facts: HostFacts): string[] {
  const candidates = [
    '/tmp', '/var/tmp', '/run', '/var/run', '/home', '/root', facts.home, facts.env.RUNNER_TEMP,
    facts.env.RUNNER_TEMP ? path.join(path.dirname(facts.env.RUNNER_TEMP), '_actions') : undefined,
    findRunnerRoot(), '/var/lib/docker', '/var/lib/containers', '/etc/sudoers.d',
  ];
  const out: string[] = [];
  for (const candidate of candidates) {
    if (!candidate) continue;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(candidate);
    } catch {
      continue;
    }
    // /var/run is a symlink to /run on Debian and Ubuntu: masking /run covers it.
    if (stat.isSymbolicLink() || !stat.isDirectory()) continue;
    const real = fs.realpathSync(candidate);
    if (out.some((m) => isWithin(real, m))) continue;
    out.push(real);
  }
  return out;
}

/** Bound unix sockets of the host (from /proc/net/unix), as paths. Abstract sockets stay behind the netns. */
export function hostUnixSockets(): string[] {
  let text = '';
  try {
    text = fs.readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const p = fields.slice(7).join(' ');
    if (p.startsWith('/')) out.add(p);
  }
  return [...out];
}

export interface JailPlanInput {
  facts: HostFacts;
  workspace: string;
  workspaceMode: 'rw' | 'ro';
  cwd: string;
  command: string[];
  env: Record<string, string>;
  bridges: { name: string; port: number; hostSocket: string }[];
  hostLoopbackPort: number;
  privateDir: string;
  lifelineSocket: string;
  secrets: string[];
  /** Provider files for the agent's HOME (relative path → content). */
  homeFiles?: Record<string, string>;
  /** With rw: the overlay's merged view, bound over the workspace (the agent never writes it in place). */
  overlay?: { merged: string };
  limits: Limits;
  /** Host folder of the guard's own tools (the grants' `gh` shim), bound read-only at JAIL_DIR/bin. */
  toolsDir?: string;
  /** More host programs or folders the agent's tools need (MCP servers), visible read-only. */
  alsoVisible?: string[];
}

export interface JailPlan {
  bwrapArgs: string[];
  config: JailConfig;
  agentUid: number;
  /** Agent installs brought back from masked folders, and what was left out (for the not-found hint). */
  exposure: Exposure;
  /** The guard's own files only root may read in the jail (init reads them; the agent must not). */
  rootOnlyFiles: string[];
  /** The compiled seccomp filter: the start script opens it as SECCOMP_FD for bwrap's `--seccomp`. */
  seccompFile: string;
}

/** The descriptor the start script opens the seccomp filter on, and bwrap reads it from. */
export const SECCOMP_FD = 9;

export interface Workspace {
  dir: string;
  agentUid: number;
  agentGid: number;
}

/** The workspace, and the uid the agent runs as; refuses layouts that would hand the agent secrets. */
export function resolveWorkspace(facts: HostFacts, mode: 'rw' | 'ro', cwd: string): Workspace {
  const wanted = facts.env.GITHUB_WORKSPACE || cwd;
  const dir = realDir(wanted);
  if (!dir) throw new GuardError('filesystem', `workspace ${wanted} is not a directory`);
  const guarded = [facts.home, facts.env.RUNNER_TEMP, findRunnerRoot(), os.tmpdir(), '/root', '/home', '/run', '/etc', '/usr', '/proc', '/sys', '/dev']
    .map(realDir)
    .filter((d): d is string => d !== undefined);
  for (const g of guarded) {
    if (isWithin(g, dir)) throw new GuardError('filesystem', `workspace ${dir} contains ${g}, which the agent must not see; run from the repository folder`);
  }
  if (facts.uid !== 0) return { dir, agentUid: facts.uid, agentGid: facts.gid };
  // Invoked as root: the agent gets the workspace owner's uid, never root.
  const st = fs.statSync(dir);
  if (st.uid !== 0) return { dir, agentUid: st.uid, agentGid: st.gid === 0 ? st.uid : st.gid };
  if (mode === 'ro') return { dir, agentUid: NOBODY, agentGid: NOBODY };
  throw new GuardError(
    'privilege',
    `workspace ${dir} is owned by root; the agent never runs as root, so it could not write there. ` +
      'Give the workspace to an unprivileged user (chown) or use --workspace ro',
  );
}

function passwdWithAgent(uid: number, gid: number): { passwd: string; group: string } {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const passwdLines = read('/etc/passwd').split('\n').filter((l) => l && l.split(':')[2] !== String(uid));
  passwdLines.push(`agent:x:${uid}:${gid}:agent-guard:${AGENT_HOME}:/bin/sh`);
  const groupLines = read('/etc/group').split('\n').filter(Boolean);
  if (!groupLines.some((l) => l.split(':')[2] === String(gid))) groupLines.push(`agent:x:${gid}:`);
  return { passwd: passwdLines.join('\n') + '\n', group: groupLines.join('\n') + '\n' };
}

/** git config files under .git (the repository's, submodules', worktrees'). */
export function gitConfigFiles(gitDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isFile() && (e.name === 'config' || e.name === 'config.worktree')) out.push(full);
      else if (e.isDirectory() && (depth === 0 ? e.name === 'modules' || e.name === 'worktrees' : e.name !== 'objects' && e.name !== 'refs' && e.name !== 'logs')) {
        walk(full, depth + 1);
      }
    }
  };
  walk(gitDir, 0);
  return out;
}

/**
 * bwrap creates the folders leading to a bind target inside a masked tmpfs as 0700 root, which the
 * agent could not traverse: create them 0755 first.
 */
function makeTraversable(args: string[], masked: string[], target: string): void {
  const mask = masked.find((m) => isWithin(target, m) && m !== target);
  if (!mask) return;
  const parts = path.relative(mask, path.dirname(target)).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) args.push('--perms', '0755', '--dir', path.join(mask, ...parts.slice(0, i)));
}

/** The folders the agent can write: they get the scratch size, every other mask a tiny one. */
const SCRATCH_MASKS = new Set(['/tmp', '/var/tmp', '/home']);

/**
 * Programs the jail must run that live under a masked folder: node for init, the agent's command,
 * and every program on a PATH folder the jail masks (see installs.ts). The command that cannot be
 * shown stops the run with a line that says what to change.
 */
function exposeInstalls(input: JailPlanInput, workspace: Workspace, masked: string[], credentials: string[]): Exposure {
  const { facts } = input;
  const runnerTemp = facts.env.RUNNER_TEMP;
  const exposer = new InstallExposer({
    masked,
    shown: [workspace.dir],
    neverWhole: [facts.home, path.join(facts.home, '.config'), runnerTemp, runnerTemp && path.join(path.dirname(runnerTemp), '_actions'), findRunnerRoot(), input.privateDir]
      .filter((d): d is string => !!d)
      .map((d) => realDir(d) ?? path.resolve(d)),
    credentials,
  });
  try {
    exposer.require(process.execPath);
  } catch (err) {
    if (!(err instanceof ExposeError)) throw err;
    throw new GuardError('filesystem', `node (${process.execPath}) cannot be shown in the jail: ${err.message}; install node outside HOME (e.g. actions/setup-node)`);
  }
  const agentExe = findExecutable(input.command[0], input.env.PATH);
  if (agentExe) {
    try {
      exposer.require(agentExe);
    } catch (err) {
      if (!(err instanceof ExposeError)) throw err;
      throw new GuardError(
        'filesystem',
        `the agent's command ${agentExe} cannot be shown in the jail: ${err.message}. Install it where it has a folder of its own ` +
          '(npm install -g, pipx or uv tool into ~/.local, a release binary in /usr/local/bin), not among credential files',
      );
    }
  }
  // Programs the agent's own tools need (the MCP servers an agent action configures), read-only.
  for (const program of input.alsoVisible ?? []) {
    try {
      exposer.require(program);
    } catch (err) {
      if (!(err instanceof ExposeError)) throw err;
      throw new GuardError('filesystem', `${program}, which the agent's tools run, cannot be shown in the jail: ${err.message}`);
    }
  }
  for (const dir of (input.env.PATH ?? '').split(':')) exposer.pathDir(dir);
  return exposer.result();
}

export function planJail(input: JailPlanInput, workspace: Workspace): JailPlan {
  const { facts, privateDir, limits } = input;
  const masked = maskedDirectories(facts);
  const isMasked = (p: string) => masked.some((m) => isWithin(p, m)) && !isWithin(p, workspace.dir);
  const args: string[] = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  const sticky = new Set(['/tmp', '/var/tmp']);
  // Explicit modes: a masked HOME must stay traversable (the workspace usually lives below it).
  // Explicit sizes: a tmpfs is half the RAM by default, which the agent could pin.
  for (const dir of masked) {
    const size = SCRATCH_MASKS.has(dir) ? limits.scratchSize : MASK_TMPFS_SIZE;
    args.push('--size', String(size), '--perms', sticky.has(dir) ? '1777' : '0755', '--tmpfs', dir);
  }
  args.push('--size', String(limits.shmSize), '--perms', '1777', '--tmpfs', '/dev/shm');
  // Paths the guard itself puts inside masked folders: the canary accepts these and nothing else.
  const exposed: string[] = [JAIL_DIR, AGENT_HOME];

  const credentials = findCredentialFiles(workspace.dir, facts.env);
  const homeCreds = homeCredentialPaths(facts.home);
  const exposure = exposeInstalls(input, workspace, masked, [...homeCreds, ...credentials.files, ...credentials.dirs]);
  for (const root of exposure.binds) {
    makeTraversable(args, masked, root);
    args.push('--ro-bind', root, root);
    exposed.push(root);
  }
  for (const [link, target] of exposure.symlinks) {
    makeTraversable(args, masked, link);
    args.push('--symlink', target, link);
    exposed.push(link);
  }
  // PATH entries the jail hides and nothing was brought back to name only the caller's folders.
  const shownInMask = [...exposure.binds, ...exposure.symlinks.keys()];
  const jailPath = (input.env.PATH ?? '')
    .split(':')
    // The guard's own folder (the grants' gh shim) is put there by the guard, not by the caller.
    .filter((dir) => isWithin(dir, JAIL_DIR) || !isMasked(dir) || shownInMask.some((p) => isWithin(p, dir) || isWithin(dir, p)))
    .join(':');

  // The workspace: the overlay's merged view (rw), or the real one read-only; git's credential
  // carriers neutralised either way. Nothing the agent writes reaches the real workspace except
  // through the boundary's checks, so .git/hooks and .github need no read-only binds of their own.
  // bwrap would create the folders leading to it inside a masked tmpfs as 0700 root, which the
  // agent could not traverse: create them 0755 first.
  if (input.workspaceMode === 'rw' && !input.overlay) throw new GuardError('boundary', 'a writable workspace needs the overlay');
  makeTraversable(args, masked, workspace.dir);
  if (input.overlay) args.push('--bind', input.overlay.merged, workspace.dir);
  else args.push('--ro-bind', workspace.dir, workspace.dir);
  exposed.push(workspace.dir);
  const gitDir = path.join(workspace.dir, '.git');
  let gitIndex = 0;
  if (realDir(gitDir)) {
    // With the overlay, sanitised configs are already in its upper layer (writable by the agent).
    for (const file of input.overlay ? [] : gitConfigFiles(gitDir)) {
      const copy = path.join(privateDir, `gitconfig-${gitIndex++}`);
      fs.writeFileSync(copy, sanitizeGitConfig(fs.readFileSync(file, 'utf8'), input.secrets), { mode: 0o644 });
      args.push('--ro-bind', copy, file);
    }
    for (const entry of fs.readdirSync(gitDir)) {
      if (/credential/i.test(entry)) args.push('--ro-bind', '/dev/null', path.join(gitDir, entry));
    }
  }

  // Credential files other steps left where the jail would show them (rules/credential-files.yml).
  const visible = (p: string) => !isMasked(p);
  for (const file of credentials.files.filter(visible)) args.push('--ro-bind', '/dev/null', file);
  for (const dir of credentials.dirs.filter(visible)) {
    if (isWithin(workspace.dir, dir)) {
      throw new GuardError('filesystem', `${dir} holds credentials (named by a variable in rules/credential-files.yml) and contains the workspace; the jail cannot hide one and show the other`);
    }
    args.push('--size', String(MASK_TMPFS_SIZE), '--perms', '0755', '--tmpfs', dir);
  }

  // Host unix sockets outside the masked folders (docker, D-Bus, resolver, agents of all kinds).
  for (const socket of hostUnixSockets()) {
    if (isMasked(socket) || socket.startsWith('/proc/') || socket.startsWith('/dev/')) continue;
    try {
      if (fs.lstatSync(socket).isSocket()) args.push('--ro-bind', '/dev/null', socket);
    } catch {
      // gone already
    }
  }

  // The agent's own HOME and identity.
  const ids = passwdWithAgent(workspace.agentUid, workspace.agentGid);
  fs.writeFileSync(path.join(privateDir, 'passwd'), ids.passwd, { mode: 0o644 });
  fs.writeFileSync(path.join(privateDir, 'group'), ids.group, { mode: 0o644 });
  args.push('--ro-bind', path.join(privateDir, 'passwd'), '/etc/passwd', '--ro-bind', path.join(privateDir, 'group'), '/etc/group');
  if (!fs.existsSync('/home')) throw new GuardError('filesystem', '/home does not exist; cannot place the agent HOME');
  args.push('--perms', '0700', '--dir', AGENT_HOME);

  // The guard's side: init script, its config, the proxy sockets and the lifeline.
  const nonce = crypto.randomBytes(16).toString('hex');
  const bridgeUid = workspace.agentUid === BRIDGE_UID ? BRIDGE_UID - 1 : BRIDGE_UID;
  const config: JailConfig = {
    nonce,
    agentUid: workspace.agentUid,
    agentGid: workspace.agentGid,
    bridgeUid,
    bridgeGid: bridgeUid,
    home: AGENT_HOME,
    homeFiles: Object.entries(input.homeFiles ?? {}).map(([p, content]) => ({ path: p, content })),
    cwd: input.cwd,
    command: input.command,
    env: { ...input.env, PATH: jailPath },
    bridges: input.bridges.map((b) => ({ port: b.port, socket: `${JAIL_DIR}/${b.name}.sock` })),
    lifeline: `${JAIL_DIR}/lifeline.sock`,
    setpriv: findExecutable('setpriv', '/usr/bin:/bin:/usr/sbin:/sbin'),
    canary: {
      hostNamespaces: Object.fromEntries(['pid', 'net', 'mnt', 'ipc', 'uts'].map((ns) => [ns, fs.readlinkSync(`/proc/self/ns/${ns}`)])),
      hostLoopbackPort: input.hostLoopbackPort,
      masked: [...masked, ...credentials.dirs.filter(visible)],
      exposed: exposed.filter((p) => masked.some((m) => isWithin(p, m) && p !== m)),
      emptyFiles: credentials.files.filter(visible),
      mustNotExist: ['/run/docker.sock', '/var/run/docker.sock', '/run/dbus/system_bus_socket', '/run/systemd/resolve/io.systemd.Resolve', ...homeCreds.filter((f) => fs.existsSync(f))],
      overlayAt: input.overlay ? workspace.dir : undefined,
    },
  };
  fs.writeFileSync(path.join(privateDir, 'init.js'), jailInitSource(), { mode: 0o644 });
  // The config names the caller's HOME, RUNNER_TEMP and credential files: init reads it as root,
  // the agent must not (through sudo the start script hands it to root before bwrap runs).
  const configFile = path.join(privateDir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  args.push('--dir', JAIL_DIR);
  args.push('--ro-bind', path.join(privateDir, 'init.js'), `${JAIL_DIR}/init.js`);
  args.push('--ro-bind', configFile, `${JAIL_DIR}/config.json`);
  if (input.toolsDir) args.push('--ro-bind', input.toolsDir, `${JAIL_DIR}/bin`);
  for (const b of input.bridges) args.push('--bind', b.hostSocket, `${JAIL_DIR}/${b.name}.sock`);
  args.push('--bind', input.lifelineSocket, `${JAIL_DIR}/lifeline.sock`);

  // The filter is compiled before anything starts: an architecture it does not cover stops the run.
  const seccompFile = path.join(privateDir, 'seccomp.bpf');
  fs.writeFileSync(seccompFile, compileSeccomp(seccompRules(), seccompArch()), { mode: 0o600 });
  args.push('--seccomp', String(SECCOMP_FD));
  args.push(
    '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--hostname', 'agent-guard', '--new-session', '--die-with-parent',
    '--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_CHOWN', '--cap-add', 'CAP_SETPCAP', '--cap-add', 'CAP_DAC_READ_SEARCH',
    '--clearenv', '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--chdir', '/',
    '--', process.execPath, `${JAIL_DIR}/init.js`, `${JAIL_DIR}/config.json`,
  );
  return { bwrapArgs: args, config, agentUid: workspace.agentUid, exposure, rootOnlyFiles: [configFile, seccompFile], seccompFile };
}

export function makePrivateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-'));
  fs.chmodSync(dir, 0o700);
  return dir;
}

export type Elevation = { kind: 'root' } | { kind: 'sudo'; sudo: string };

/** How the guard becomes root to build the jail: it is root already, or passwordless sudo works. */
export function findElevation(facts: HostFacts): Elevation {
  if (facts.uid === 0) return { kind: 'root' };
  const sudo = findExecutable('sudo', '/usr/bin:/bin:/usr/sbin:/sbin');
  if (!sudo) throw new GuardError('privilege', 'not root and sudo is not installed: the jail needs root to build its namespaces');
  try {
    execFileSync(sudo, ['-n', 'true'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new GuardError('privilege', 'not root and `sudo -n true` fails: the jail needs root (or passwordless sudo) to build its namespaces');
  }
  return { kind: 'sudo', sudo };
}
