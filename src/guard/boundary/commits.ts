// Commits the agent made in its copy come back as objects and a ref, never as config, hooks or refs
// it wrote. Nothing runs git against the agent's repository: its ref files are read as text, its
// object files (loose objects and packs, regular files only) are copied into a quarantine inside the
// real repository, and git on the host, with no system or global config and hooks and fsmonitor off,
// packs what the new commits reach out of that quarantine and indexes it into the real repository with
// --strict (every object checked, every link present). Then a ref refs/agent-guard/<run>/<branch> is
// written. The real HEAD, branches and index are never touched: a later step decides what to do.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Owner } from './overlay';
import type { AgentCommit, RefusedChange } from './types';

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$/;
const REF_FILE_BYTES = 4096;
const PACKED_REFS_BYTES = 16 * 1024 * 1024;

export interface CommitImportInput {
  workspace: string;
  /** The agent's copy of .git as the upper layer holds it (only what it changed). */
  agentGitDir: string;
  runId: string;
  owner: Owner | undefined;
}

export interface CommitImport {
  commits: AgentCommit[];
  refused: RefusedChange[];
}

function readSmall(file: string, limit: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > limit) return undefined;
    const buf = Buffer.alloc(st.size);
    return buf.subarray(0, fs.readSync(fd, buf, 0, st.size, 0)).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Branch tips the agent wrote (loose refs and packed-refs under refs/heads) and where HEAD points. */
export function agentTips(agentGitDir: string): Map<string, string> {
  const tips = new Map<string, string>();
  const packed = new Map<string, string>();
  const packedText = readSmall(path.join(agentGitDir, 'packed-refs'), PACKED_REFS_BYTES) ?? '';
  for (const line of packedText.split('\n')) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64}) refs\/heads\/(\S+)$/.exec(line);
    if (m && BRANCH.test(m[2])) packed.set(m[2], m[1]);
  }
  const walk = (dir: string, prefix: string, depth: number) => {
    if (depth > 8) return;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      const st = fs.lstatSync(full);
      if (st.isDirectory()) walk(full, `${prefix}${name}/`, depth + 1);
      else if (st.isFile()) {
        const value = readSmall(full, REF_FILE_BYTES)?.trim();
        if (value && OBJECT_ID.test(value) && BRANCH.test(prefix + name)) tips.set(prefix + name, value);
      }
    }
  };
  for (const [name, sha] of packed) tips.set(name, sha);
  walk(path.join(agentGitDir, 'refs', 'heads'), '', 0);
  // A HEAD on a branch is that branch's tip, already listed; a detached HEAD is a tip of its own.
  const head = readSmall(path.join(agentGitDir, 'HEAD'), REF_FILE_BYTES)?.trim();
  if (head && OBJECT_ID.test(head)) tips.set('HEAD', head);
  return tips;
}

/** Copy the agent's loose objects and packs (regular files with git's names, nothing else) into `into`. */
function quarantineObjects(agentObjects: string, into: string, owner: Owner | undefined): number {
  let copied = 0;
  const copy = (from: string, to: string) => {
    const st = fs.lstatSync(from);
    if (!st.isFile() || st.nlink > 1) return;
    fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(from, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      fs.writeFileSync(to, fs.readFileSync(fd), { mode: 0o444, flag: 'wx' });
    } finally {
      fs.closeSync(fd);
    }
    copied++;
  };
  let names: string[];
  try {
    names = fs.readdirSync(agentObjects);
  } catch {
    return 0;
  }
  for (const name of names) {
    const dir = path.join(agentObjects, name);
    if (/^[0-9a-f]{2}$/.test(name) && fs.lstatSync(dir).isDirectory()) {
      for (const obj of fs.readdirSync(dir)) if (/^(?:[0-9a-f]{38}|[0-9a-f]{62})$/.test(obj)) copy(path.join(dir, obj), path.join(into, name, obj));
    } else if (name === 'pack' && fs.lstatSync(dir).isDirectory()) {
      for (const file of fs.readdirSync(dir)) if (/^pack-[0-9a-f]{40,64}\.(pack|idx)$/.test(file)) copy(path.join(dir, file), path.join(into, 'pack', file));
    }
  }
  if (owner) chownTree(into, owner);
  return copied;
}

function chownTree(dir: string, owner: Owner): void {
  fs.lchownSync(dir, owner.uid, owner.gid);
  for (const name of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    if (fs.lstatSync(full).isDirectory()) chownTree(full, owner);
    else fs.lchownSync(full, owner.uid, owner.gid);
  }
}

/** git on the host with nothing of anyone's config but the real repository's, and nothing that runs code. */
function hostGit(realGitDir: string, owner: Owner | undefined, extraEnv: Record<string, string> = {}) {
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent', LC_ALL: 'C', GIT_DIR: realGitDir,
    GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_NO_REPLACE_OBJECTS: '1', ...extraEnv,
  };
  const safety = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'safe.directory=*', '-c', 'protocol.allow=never', '-c', 'core.sshCommand=false'];
  return (args: string[], input?: Buffer | string) =>
    spawnSync('git', [...safety, ...args], {
      env, input, maxBuffer: 1024 * 1024 * 1024, timeout: 120_000,
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
}

export function importCommits(input: CommitImportInput): CommitImport {
  const realGitDir = path.join(input.workspace, '.git');
  const refused: RefusedChange[] = [];
  const commits: AgentCommit[] = [];
  try {
    if (!fs.lstatSync(realGitDir).isDirectory()) return { commits, refused };
  } catch {
    return { commits, refused };
  }
  const git = hostGit(realGitDir, input.owner);
  const known = (sha: string) => git(['cat-file', '-e', `${sha}^{commit}`]).status === 0;
  const tips = [...agentTips(input.agentGitDir)].filter(([, sha]) => !known(sha));
  if (tips.length === 0) return { commits, refused };

  const incoming = path.join(realGitDir, 'objects', `agent-guard-incoming-${crypto.randomBytes(6).toString('hex')}`);
  fs.mkdirSync(incoming, { mode: 0o700 });
  try {
    if (input.owner) fs.lchownSync(incoming, input.owner.uid, input.owner.gid);
    quarantineObjects(path.join(input.agentGitDir, 'objects'), incoming, input.owner);
    const existing = git(['for-each-ref', '--format=%(objectname)']).stdout?.toString().split('\n').filter((l) => OBJECT_ID.test(l)) ?? [];
    const head = git(['rev-parse', '--verify', '-q', 'HEAD']).stdout?.toString().trim();
    if (head && OBJECT_ID.test(head)) existing.push(head);
    const quarantined = hostGit(realGitDir, input.owner, { GIT_OBJECT_DIRECTORY: incoming, GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(realGitDir, 'objects') });
    const revs = [...new Set(tips.map(([, sha]) => sha)), '--not', ...new Set(existing)].join('\n') + '\n';
    const pack = quarantined(['pack-objects', '--revs', '--stdout', '-q'], revs);
    if (pack.status !== 0) {
      const why = firstLine(pack.stderr) || `exit ${pack.status}`;
      for (const [name] of tips) refused.push({ path: `.git (${name})`, reason: `commit not brought back: its objects are incomplete or invalid (${why})` });
      return { commits, refused };
    }
    const index = git(['index-pack', '--stdin', '--strict', '--fix-thin'], pack.stdout);
    if (index.status !== 0) {
      for (const [name] of tips) refused.push({ path: `.git (${name})`, reason: `commit not brought back: git refused its objects (${firstLine(index.stderr)})` });
      return { commits, refused };
    }
    for (const [name, sha] of tips) {
      const ref = `refs/agent-guard/${input.runId}/${name}`;
      if (git(['check-ref-format', ref]).status !== 0) {
        refused.push({ path: `.git (${name})`, reason: 'commit not brought back: the branch name is not a valid ref name' });
        continue;
      }
      const update = git(['update-ref', ref, sha, '']);
      if (update.status !== 0) {
        refused.push({ path: `.git (${name})`, reason: `commit not brought back: ${firstLine(update.stderr)}` });
        continue;
      }
      const subject = git(['show', '-s', '--format=%s', sha]).stdout?.toString().trim() ?? '';
      commits.push({ sha, ref, subject });
    }
    return { commits, refused };
  } finally {
    fs.rmSync(incoming, { recursive: true, force: true });
  }
}

function firstLine(buf: Buffer | string | null | undefined): string {
  return (buf?.toString() ?? '').split('\n').find((l) => l.trim())?.trim().slice(0, 300) ?? '';
}
