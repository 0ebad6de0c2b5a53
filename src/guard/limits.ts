// Host resources the agent may use: a memory and a pids cgroup for the whole jail, and a size on
// every tmpfs. Without them a hijacked agent can pin the host's memory in a tmpfs (each is half the
// RAM by default) or fork until the host stops, which on a self-hosted runner takes it down.
//
// The cgroup is a child of the guard's own cgroup in each hierarchy, so whatever limits the host
// already puts on the guard still apply above it:
//   * cgroup v1 (one hierarchy per controller): a child of the guard's memory and pids cgroups;
//   * cgroup v2 (GitHub-hosted runners): a non-root cgroup cannot hold processes and also give
//     controllers to children, so the child goes under the nearest ancestor whose
//     cgroup.subtree_control already enables memory and pids (system.slice under systemd, or the root).
// A root-side wrapper (sh, directly or through sudo) creates the cgroup, writes the limits, moves
// itself in and only then execs bwrap, so the jail and everything in it are born inside the limits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GuardError } from './errors';
import type { RunOptions } from './options';

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
export const DEFAULT_PIDS = 4096;
const DEFAULT_TMPFS = 2 * GIB;
/** Docker's default /dev/shm; programs that need more can use /tmp. */
const SHM_SIZE = 64 * MIB;
/** Folders the guard masks but the agent cannot write hold only mount points. */
export const MASK_TMPFS_SIZE = MIB;

export interface Limits {
  /** Bytes, or undefined for no memory cgroup (--memory none). */
  memory?: number;
  /** Tasks (processes and threads), or undefined for no pids cgroup (--pids none). */
  pids?: number;
  /** Size of each tmpfs the agent can write: /tmp, /var/tmp, /home (its HOME). */
  scratchSize: number;
  shmSize: number;
}

/** The defaults fit a GitHub-hosted runner: 75% of its RAM, 4096 tasks, 2 GiB scratch folders. */
export function resolveLimits(opts: Pick<RunOptions, 'memory' | 'pids' | 'tmpfsSize'>, totalMemory = os.totalmem()): Limits {
  const memory = opts.memory === 'none' ? undefined : opts.memory ?? Math.floor((totalMemory * 0.75) / MIB) * MIB;
  const pids = opts.pids === 'none' ? undefined : opts.pids ?? DEFAULT_PIDS;
  // tmpfs pages are charged to the jail's memory cgroup, so a scratch folder larger than it only misleads.
  const scratchSize = opts.tmpfsSize ?? Math.min(DEFAULT_TMPFS, memory ?? DEFAULT_TMPFS);
  return { memory, pids, scratchSize, shmSize: Math.min(SHM_SIZE, scratchSize) };
}

export interface CgroupDir {
  /** The cgroup the guard creates; the wrapper moves itself in before it execs bwrap. */
  path: string;
  /** Files written in order; `optional` ones are skipped when the kernel does not offer them. */
  writes: { file: string; value: string; optional?: boolean }[];
}

interface Hierarchy {
  version: 1 | 2;
  mountPoint: string;
  mountRoot: string;
  controllers: Set<string>;
}

type Read = (file: string) => string | undefined;

const readOrUndefined: Read = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** cgroup mounts from /proc/self/mountinfo. v2's controllers are read from its root. */
export function cgroupHierarchies(mountinfo: string, read: Read = readOrUndefined): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions] = right.split(' ');
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const mountRoot = unescape(fields[3]);
    const mountPoint = unescape(fields[4]);
    if (fsType === 'cgroup2') {
      const controllers = (read(path.join(mountPoint, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
      out.push({ version: 2, mountPoint, mountRoot, controllers: new Set(controllers) });
    } else if (fsType === 'cgroup') {
      out.push({ version: 1, mountPoint, mountRoot, controllers: new Set((superOptions ?? '').split(',')) });
    }
  }
  return out;
}

/** Where this process sits in `h`, as a folder under its mount. */
function ownCgroupDir(h: Hierarchy, procCgroup: string): string | undefined {
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const isV2Line = m[1] === '0' && m[2] === '';
    const matches = h.version === 2 ? isV2Line : m[2].split(',').some((c) => h.controllers.has(c));
    if (!matches) continue;
    const inMount = m[3].startsWith(h.mountRoot) ? m[3].slice(h.mountRoot.length) : m[3];
    return path.join(h.mountPoint, inMount);
  }
  return undefined;
}

function v2Parent(h: Hierarchy, own: string, wanted: string[], read: Read): string {
  for (let dir = own; ; dir = path.dirname(dir)) {
    const enabled = new Set((read(path.join(dir, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/));
    if (wanted.every((c) => enabled.has(c))) return dir;
    if (dir === h.mountPoint || dir === path.dirname(dir)) break;
  }
  throw new GuardError(
    'limits',
    `cgroup v2: no cgroup above this process (${own}) enables ${wanted.join(' and ')} for its children (cgroup.subtree_control); ` +
      `enable ${wanted.map((c) => `+${c}`).join(' ')} in ${h.mountPoint}/cgroup.subtree_control, or run with ${wanted.map((c) => `--${c} none`).join(' ')}`,
  );
}

/**
 * The cgroup folders for `limits`, one per hierarchy that carries a needed controller. v2 is used
 * when it offers the controller (a unified host), v1 otherwise (a hybrid host keeps them in v1).
 */
export function planCgroups(limits: Limits, name: string, mountinfo: string, procCgroup: string, read: Read = readOrUndefined): CgroupDir[] {
  const wanted: { controller: string; v2: CgroupDir['writes']; v1: CgroupDir['writes'] }[] = [];
  if (limits.memory !== undefined) {
    const bytes = String(limits.memory);
    wanted.push({
      controller: 'memory',
      // No swap either: the cap is on memory the host loses, wherever the kernel puts it.
      v2: [{ file: 'memory.max', value: bytes }, { file: 'memory.swap.max', value: '0', optional: true }],
      v1: [{ file: 'memory.limit_in_bytes', value: bytes }, { file: 'memory.memsw.limit_in_bytes', value: bytes, optional: true }],
    });
  }
  if (limits.pids !== undefined) {
    const max = String(limits.pids);
    wanted.push({ controller: 'pids', v2: [{ file: 'pids.max', value: max }], v1: [{ file: 'pids.max', value: max }] });
  }
  if (wanted.length === 0) return [];
  const hierarchies = cgroupHierarchies(mountinfo, read);
  const unified = hierarchies.find((h) => h.version === 2);
  const onV2 = wanted.filter((w) => unified?.controllers.has(w.controller));
  const out: CgroupDir[] = [];
  if (unified && onV2.length > 0) {
    const own = ownCgroupDir(unified, procCgroup);
    if (!own) throw new GuardError('limits', 'cgroup v2 is mounted but /proc/self/cgroup does not place this process in it');
    const parent = v2Parent(unified, own, onV2.map((w) => w.controller), read);
    out.push({ path: path.join(parent, name), writes: onV2.flatMap((w) => w.v2) });
  }
  for (const w of wanted.filter((x) => !onV2.includes(x))) {
    const h = hierarchies.find((x) => x.version === 1 && x.controllers.has(w.controller));
    if (!h) {
      throw new GuardError('limits', `this kernel has no ${w.controller} cgroup controller mounted (neither v2 nor v1); the jail's ${w.controller} cannot be limited. Run with --${w.controller} none to go without`);
    }
    const own = ownCgroupDir(h, procCgroup);
    if (!own) throw new GuardError('limits', `/proc/self/cgroup does not place this process in the ${w.controller} hierarchy at ${h.mountPoint}`);
    out.push({ path: path.join(own, name), writes: w.v1 });
  }
  return out;
}

/** POSIX shell single quoting: safe for any byte string but NUL. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The root-side start of the jail, run as `sh -c SCRIPT agent-guard BWRAP ARGS...`: create each
 * cgroup, write its limits (unless the guard, being root, `made` them already), move this shell in,
 * make the guard's config readable by root only, then exec bwrap. A step that fails leaves the shell's own error on stderr, then one
 * `AGENT_GUARD_LIMITS <nonce> <what failed>` line, and exits 125 before bwrap exists. Only
 * built-ins run between the steps (mkdir and chown aside): start-up stays cheap.
 */
export function jailStartScript(cgroups: CgroupDir[], nonce: string, rootOnlyFiles: string[], made = false, seccomp?: { file: string; fd: number }): string {
  const lines = [`fail() { printf 'AGENT_GUARD_LIMITS ${nonce} %s\\n' "$1" >&2; exit 125; }`];
  for (const cg of cgroups) {
    if (made) {
      lines.push(`printf %s "$$" > ${q(path.join(cg.path, 'cgroup.procs'))} || fail ${q(`cannot move the jail into the cgroup ${cg.path}`)}`);
      continue;
    }
    lines.push(`mkdir ${q(cg.path)} || fail ${q(`cannot create the cgroup ${cg.path}`)}`);
    for (const w of cg.writes) {
      const file = path.join(cg.path, w.file);
      const write = `printf %s ${q(w.value)} > ${q(file)} || fail ${q(`cannot set ${w.file}=${w.value} in ${cg.path}`)}`;
      lines.push(w.optional ? `if [ -e ${q(file)} ]; then ${write}; fi` : write);
    }
    lines.push(`printf %s "$$" > ${q(path.join(cg.path, 'cgroup.procs'))} || fail ${q(`cannot move the jail into the cgroup ${cg.path}`)}`);
  }
  for (const file of rootOnlyFiles) lines.push(`chown 0:0 ${q(file)} || fail ${q(`cannot make ${file} readable by root only`)}`);
  // bwrap reads the seccomp filter from this descriptor (--seccomp), opened here as root.
  if (seccomp) lines.push(`exec ${seccomp.fd}< ${q(seccomp.file)} || fail ${q(`cannot open the seccomp filter ${seccomp.file}`)}`);
  lines.push('exec "$@"');
  return lines.join('\n');
}

/**
 * What the start script does before it joins, for a guard that is root itself: no mkdir to start,
 * and errors with their errno. The script then only joins (jailStartScript with `made`).
 */
export function makeCgroupsDirectly(cgroups: CgroupDir[]): void {
  for (const cg of cgroups) {
    try {
      fs.mkdirSync(cg.path);
    } catch (err) {
      throw new GuardError('limits', `cannot limit the jail's resources, the agent did not run: cannot create the cgroup ${cg.path} (${(err as Error).message})`);
    }
    for (const w of cg.writes) {
      const file = path.join(cg.path, w.file);
      if (w.optional && !fs.existsSync(file)) continue;
      try {
        fs.writeFileSync(file, w.value);
      } catch (err) {
        throw new GuardError('limits', `cannot limit the jail's resources, the agent did not run: cannot set ${w.file}=${w.value} in ${cg.path} (${(err as Error).message})`);
      }
    }
  }
}

/**
 * After the jail: kill anything left in the cgroups (v2 cgroup.kill, or each task on v1) and remove
 * them, retrying while the kernel finishes tearing the pid namespace down. Used through sudo; as
 * root the guard does the same with removeCgroupsDirectly.
 */
export function cgroupCleanupScript(cgroups: CgroupDir[]): string {
  const lines = [
    'gone() { d=$1; i=0; while [ -d "$d" ]; do',
    '  if [ -e "$d/cgroup.kill" ]; then echo 1 > "$d/cgroup.kill" 2>/dev/null; else while read -r p; do kill -9 "$p" 2>/dev/null; done < "$d/cgroup.procs"; fi',
    '  rmdir "$d" 2>/dev/null && return 0; i=$((i+1)); [ $i -ge 100 ] && { echo "cannot remove the cgroup $d" >&2; return 1; }; sleep 0.02',
    'done; }',
    'status=0',
    ...cgroups.map((cg) => `gone ${q(cg.path)} || status=1`),
    'exit $status',
  ];
  return lines.join('\n');
}

/** The cleanup of cgroupCleanupScript, for a guard that is root itself: no process to start. */
export async function removeCgroupsDirectly(cgroups: CgroupDir[]): Promise<string | undefined> {
  for (const cg of cgroups) {
    for (let attempt = 0; fs.existsSync(cg.path); attempt++) {
      try {
        if (fs.existsSync(path.join(cg.path, 'cgroup.kill'))) fs.writeFileSync(path.join(cg.path, 'cgroup.kill'), '1');
        else for (const pid of (readOrUndefined(path.join(cg.path, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      try {
        fs.rmdirSync(cg.path);
      } catch (err) {
        if (attempt >= 100) return `cannot remove the cgroup ${cg.path}: ${(err as NodeJS.ErrnoException).code}`;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  return undefined;
}

const BYTE_UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1.5 GiB, 48 MiB, 12 bytes: powers of 1024, one decimal at most. */
export function formatBytes(n: number): string {
  let unit = 0;
  while (unit < BYTE_UNITS.length - 1 && n >= 1024 ** (unit + 1)) unit++;
  const value = n / 1024 ** unit;
  return `${unit === 0 ? value : Number(value.toFixed(1))} ${BYTE_UNITS[unit]}`;
}

export function describeLimits(limits: Limits): string {
  return `memory ${limits.memory === undefined ? 'unlimited' : formatBytes(limits.memory)}, pids ${limits.pids ?? 'unlimited'}, /tmp ${formatBytes(limits.scratchSize)}`;
}
