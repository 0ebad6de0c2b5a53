// Builds the jail's filesystem and bubblewrap command line. bwrap runs as root (directly, or through
// `sudo -n` on a GitHub runner), so it needs no user namespace and the Ubuntu AppArmor restriction
// on unprivileged user namespaces does not apply. Layout:
//   / read-only; fresh /proc and /dev; tmpfs over /tmp, /var/tmp, /dev/shm, /run, /var/run, /home,
//   /root, the caller's HOME, RUNNER_TEMP, the runner's _actions and root; the workspace bound back:
//   with rw, the merged view of an overlay whose writes land in the guard's private folder (see
//   boundary/overlay.ts; its git configs are sanitised copies seeded into the upper layer), with ro
//   the real workspace read-only with its git configs covered by sanitised copies; every host unix
//   socket still visible covered by /dev/null; a fresh HOME for the agent.
// bwrap keeps only CAP_SETUID/SETGID/SETPCAP (to hand the agent its uid and an empty bounding set
// through setpriv), CAP_CHOWN (the agent's HOME) and CAP_DAC_READ_SEARCH (to start the agent in a
// 0700 workspace); the init process gives all of them up once the agent runs.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_HOME } from './env';
import { GuardError } from './errors';
import { sanitizeGitConfig } from './gitConfig';
import type { JailConfig } from './jailInit';
import { jailInitSource } from './jailInit';

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

const WORKSPACE_CREDENTIALS = /^gha-creds-[\w-]+\.json$/;

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

const CREDENTIAL_FILES = ['.npmrc', '.yarnrc', '.yarnrc.yml', '.git-credentials', '.gitconfig', '.netrc', '.pypirc', '.ssh', '.docker', '.kube', '.aws', '.azure', '.config/gh', '.config/gcloud', '.gnupg'];

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
}

export interface JailPlan {
  bwrapArgs: string[];
  config: JailConfig;
  agentUid: number;
}

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
 * Where a command's files live, so a CLI installed under a masked HOME (or a checkout under /tmp)
 * still runs in the jail: for an npm package, the whole node_modules folder it sits in, read-only,
 * because CLIs load sibling packages (Codex its platform binary, others their dependencies).
 */
function installRootOf(executable: string): string {
  const real = fs.realpathSync(executable);
  const nm = real.lastIndexOf('/node_modules/');
  if (nm < 0) return real;
  return real.slice(0, nm) + '/node_modules';
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

export function planJail(input: JailPlanInput, workspace: Workspace): JailPlan {
  const { facts, privateDir } = input;
  const masked = maskedDirectories(facts);
  const isMasked = (p: string) => masked.some((m) => isWithin(p, m)) && !isWithin(p, workspace.dir);
  const args: string[] = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  const sticky = new Set(['/tmp', '/var/tmp']);
  // Explicit modes: a masked HOME must stay traversable (the workspace usually lives below it).
  for (const dir of masked) args.push('--perms', sticky.has(dir) ? '1777' : '0755', '--tmpfs', dir);
  args.push('--perms', '1777', '--tmpfs', '/dev/shm');

  // Programs the jail must run that live under a masked folder: node itself, the agent's CLI.
  const programs = [process.execPath];
  const agentExe = findExecutable(input.command[0], input.env.PATH);
  if (agentExe) programs.push(agentExe);
  for (const program of programs) {
    if (!isMasked(program)) continue;
    const root = installRootOf(program);
    makeTraversable(args, masked, root);
    args.push('--ro-bind', root, root);
    if (program !== root && !isWithin(program, root) && fs.realpathSync(program) !== program) {
      args.push('--ro-bind', program, program);
    }
  }

  // The workspace: the overlay's merged view (rw), or the real one read-only; git's credential
  // carriers neutralised either way. Nothing the agent writes reaches the real workspace except
  // through the boundary's checks, so .git/hooks and .github need no read-only binds of their own.
  // bwrap would create the folders leading to it inside a masked tmpfs as 0700 root, which the
  // agent could not traverse: create them 0755 first.
  if (input.workspaceMode === 'rw' && !input.overlay) throw new GuardError('boundary', 'a writable workspace needs the overlay');
  makeTraversable(args, masked, workspace.dir);
  if (input.overlay) args.push('--bind', input.overlay.merged, workspace.dir);
  else args.push('--ro-bind', workspace.dir, workspace.dir);
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
  // Credential files other actions leave in the workspace: google-github-actions/auth writes the
  // cloud credentials it minted to gha-creds-*.json at the workspace root.
  for (const entry of safeReaddir(workspace.dir)) {
    if (WORKSPACE_CREDENTIALS.test(entry)) args.push('--ro-bind', '/dev/null', path.join(workspace.dir, entry));
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
  const homeCreds = CREDENTIAL_FILES.map((f) => path.join(facts.home, f)).filter((f) => fs.existsSync(f));
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
    env: input.env,
    bridges: input.bridges.map((b) => ({ port: b.port, socket: `${JAIL_DIR}/${b.name}.sock` })),
    lifeline: `${JAIL_DIR}/lifeline.sock`,
    setpriv: findExecutable('setpriv', '/usr/bin:/bin:/usr/sbin:/sbin'),
    canary: {
      hostNamespaces: Object.fromEntries(['pid', 'net', 'mnt', 'ipc', 'uts'].map((ns) => [ns, fs.readlinkSync(`/proc/self/ns/${ns}`)])),
      hostLoopbackPort: input.hostLoopbackPort,
      mustBeEmpty: ['/run', ...[facts.env.RUNNER_TEMP, facts.home].filter((d): d is string => !!d && !isWithin(workspace.dir, d) && fs.existsSync(d))],
      mustNotExist: ['/run/docker.sock', '/var/run/docker.sock', '/run/dbus/system_bus_socket', '/run/systemd/resolve/io.systemd.Resolve', ...homeCreds],
      allowedInRun: ['agent-guard'],
      overlayAt: input.overlay ? workspace.dir : undefined,
    },
  };
  fs.writeFileSync(path.join(privateDir, 'init.js'), jailInitSource(), { mode: 0o644 });
  fs.writeFileSync(path.join(privateDir, 'config.json'), JSON.stringify(config), { mode: 0o644 });
  args.push('--dir', JAIL_DIR);
  args.push('--ro-bind', path.join(privateDir, 'init.js'), `${JAIL_DIR}/init.js`);
  args.push('--ro-bind', path.join(privateDir, 'config.json'), `${JAIL_DIR}/config.json`);
  for (const b of input.bridges) args.push('--bind', b.hostSocket, `${JAIL_DIR}/${b.name}.sock`);
  args.push('--bind', input.lifelineSocket, `${JAIL_DIR}/lifeline.sock`);

  args.push(
    '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--hostname', 'agent-guard', '--new-session', '--die-with-parent',
    '--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_CHOWN', '--cap-add', 'CAP_SETPCAP', '--cap-add', 'CAP_DAC_READ_SEARCH',
    '--clearenv', '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--chdir', '/',
    '--', process.execPath, `${JAIL_DIR}/init.js`, `${JAIL_DIR}/config.json`,
  );
  return { bwrapArgs: args, config, agentUid: workspace.agentUid };
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
