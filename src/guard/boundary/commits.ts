// Commits the agent made in its copy come back as objects and a ref, never as config, hooks or refs
// it wrote. Nothing runs git against the agent's repository: its ref files are read as text, its
// object files (loose objects and packs, regular files only, read through real folders only: a link
// there would have the guard read another repository) are copied into a quarantine inside the real
// repository, and git on the host, with no system or global config and hooks and fsmonitor off,
// judges every new commit's changes with the same policy as the files (a later `git checkout` or push
// of the ref must not bring what the file boundary refused: a workflow, an .npmrc, a link out, a
// submodule), packs what the accepted commits reach out of that quarantine and indexes it into the
// real repository with --strict (every object checked, every link present, no .git-like or `..`
// names). Then a ref refs/agent-guard/<run>/<branch> is written. The real HEAD, branches and index
// are never touched: a later step decides what to do.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../limits';
import type { Owner } from './overlay';
import { isGitName, judgedText, kindRefusal, linkRefusal, linkRouteRefusal, nameRefusal, printedRefusal, type BoundaryPolicy } from './policy';
import { printedCommand, PrintedCommandScan } from './printedCommands';
import type { AgentCommit, RefusedChange } from './types';

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$/;
const REF_FILE_BYTES = 4096;
const PACKED_REFS_BYTES = 16 * 1024 * 1024;
/** More branches than this, or new commits on one, and nothing comes back: each costs git calls on the host. */
export const MAX_TIPS = 100;
export const MAX_COMMITS = 10_000;

export interface CommitImportInput {
  workspace: string;
  /** The agent's copy of .git as the upper layer holds it (only what it changed). */
  agentGitDir: string;
  runId: string;
  owner: Owner | undefined;
  policy: BoundaryPolicy;
  /** Bytes the agent's object files and the files its commits add may hold (--max-disk). */
  maxBytes: number;
  /** Object files the agent's repository may hold (--max-files). */
  maxFiles: number;
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

/** Branch tips the agent wrote (loose refs and packed-refs under refs/heads) and where HEAD points; past MAX_TIPS it stops reading. */
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
      if (tips.size > MAX_TIPS) return;
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
  if (firstLink(agentGitDir, ['refs', 'refs/heads']) === undefined) walk(path.join(agentGitDir, 'refs', 'heads'), '', 0);
  // A HEAD on a branch is that branch's tip, already listed; a detached HEAD is a tip of its own.
  const head = readSmall(path.join(agentGitDir, 'HEAD'), REF_FILE_BYTES)?.trim();
  if (head && OBJECT_ID.test(head)) tips.set('HEAD', head);
  return tips;
}

/**
 * The first of `rels` (folders under `dir`, outermost first) that is a symlink or not a folder, or
 * undefined when each is a real folder or missing. readdir and open follow links in a path's folders:
 * the agent's `.git/objects -> /elsewhere/.git/objects` would have the guard, as root, copy another
 * repository's objects in.
 */
export function firstLink(dir: string, rels: string[]): string | undefined {
  for (const rel of ['', ...rels]) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(rel ? path.join(dir, rel) : dir);
    } catch {
      continue;
    }
    if (!st.isDirectory()) return rel;
  }
  return undefined;
}

class TooLarge extends Error {}

/** Copy the agent's loose objects and packs (regular files with git's names, nothing else) into `into`; at most `limits`. */
function quarantineObjects(agentObjects: string, into: string, owner: Owner | undefined, limits: { maxBytes: number; maxFiles: number }): number {
  let copied = 0;
  let bytes = 0;
  const copy = (from: string, to: string) => {
    const st = fs.lstatSync(from);
    if (!st.isFile() || st.nlink > 1) return;
    bytes += st.size;
    if (bytes > limits.maxBytes) throw new TooLarge(`its object files hold more than --max-disk ${formatBytes(limits.maxBytes)}`);
    if (copied >= limits.maxFiles) throw new TooLarge(`its repository holds more than ${limits.maxFiles} object files (--max-files)`);
    fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(to, 0o444);
    copied++;
  };
  let names: string[];
  try {
    names = fs.readdirSync(agentObjects);
  } catch {
    return 0;
  }
  // A folder the agent made unreadable is skipped: what it held is missing, and pack-objects says so.
  const list = (dir: string) => {
    try {
      return fs.lstatSync(dir).isDirectory() ? fs.readdirSync(dir) : [];
    } catch {
      return [];
    }
  };
  for (const name of names) {
    const dir = path.join(agentObjects, name);
    if (/^[0-9a-f]{2}$/.test(name)) {
      for (const obj of list(dir)) if (/^(?:[0-9a-f]{38}|[0-9a-f]{62})$/.test(obj)) copy(path.join(dir, obj), path.join(into, name, obj));
    } else if (name === 'pack') {
      for (const file of list(dir)) if (/^pack-[0-9a-f]{40,64}\.(pack|idx)$/.test(file)) copy(path.join(dir, file), path.join(into, 'pack', file));
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
  return (args: string[], input?: Buffer | string, stdoutFd?: number) =>
    spawnSync('git', [...safety, ...args], {
      env, input, maxBuffer: 1024 * 1024 * 1024, timeout: 120_000,
      ...(stdoutFd === undefined ? {} : { stdio: ['pipe', stdoutFd, 'pipe'] }),
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
  const link = firstLink(input.agentGitDir, ['objects']);
  if (link !== undefined) {
    const what = link ? `.git/${link}` : '.git';
    refused.push({ path: '.git', reason: `commits not brought back: ${what} is a symlink or not a folder (the guard reads the agent's repository through real folders only)` });
    return { commits, refused };
  }
  const git = hostGit(realGitDir, input.owner);
  const all = agentTips(input.agentGitDir);
  if (all.size > MAX_TIPS) {
    refused.push({ path: '.git', reason: `commits not brought back: the agent made more than ${MAX_TIPS} branches` });
    return { commits, refused };
  }
  // Tips the real repository already has a commit for need nothing (one git call for all of them).
  const check = git(['cat-file', '--batch-check=%(objecttype)'], [...all.values()].map((sha) => `${sha}^{commit}`).join('\n') + '\n');
  const answers = check.stdout?.toString().split('\n') ?? [];
  let tips = [...all].filter((_, i) => answers[i] !== 'commit');
  if (tips.length === 0) return { commits, refused };

  const incoming = path.join(realGitDir, 'objects', `agent-guard-incoming-${crypto.randomBytes(6).toString('hex')}`);
  fs.mkdirSync(incoming, { mode: 0o700 });
  const refuseAll = (why: string) => {
    for (const [name] of tips) refused.push({ path: `.git (${name})`, reason: `commit not brought back: ${why}` });
    return { commits, refused };
  };
  try {
    if (input.owner) fs.lchownSync(incoming, input.owner.uid, input.owner.gid);
    try {
      quarantineObjects(path.join(input.agentGitDir, 'objects'), incoming, input.owner, input);
    } catch (err) {
      if (err instanceof TooLarge) return refuseAll(err.message);
      throw err;
    }
    // What the objects inflate to, read from their headers before any git walks them: a 1 MB loose
    // object can hold a 1 GiB blob or tree, and git on the host is outside the jail's memory cap.
    const inflated = hostGit(realGitDir, input.owner, { GIT_OBJECT_DIRECTORY: incoming })(['cat-file', '--batch-all-objects', '--batch-check=%(objectsize)']);
    if (inflated.status !== 0) return refuseAll(`git could not read its objects (${firstLine(inflated.stderr) || `exit ${inflated.status}`})`);
    const total = inflated.stdout.toString().split('\n').reduce((sum, line) => sum + (Number(line) || 0), 0);
    if (total > input.maxBytes) return refuseAll(`its objects hold ${formatBytes(total)} once inflated, more than --max-disk ${formatBytes(input.maxBytes)}`);
    const existing = git(['for-each-ref', '--format=%(objectname)']).stdout?.toString().split('\n').filter((l) => OBJECT_ID.test(l)) ?? [];
    const head = git(['rev-parse', '--verify', '-q', 'HEAD']).stdout?.toString().trim();
    if (head && OBJECT_ID.test(head)) existing.push(head);
    const not = ['--not', ...new Set(existing)];
    const quarantined = hostGit(realGitDir, input.owner, { GIT_OBJECT_DIRECTORY: incoming, GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(realGitDir, 'objects') });
    tips = tips.filter(([name, sha]) => {
      const problem = judgeCommits(quarantined, sha, input.policy, input.maxBytes, incoming);
      if (problem) refused.push({ path: `.git (${name})`, reason: `commit not brought back: ${problem}` });
      return !problem;
    });
    if (tips.length === 0) return { commits, refused };
    const revs = [...new Set(tips.map(([, sha]) => sha)), ...not].join('\n') + '\n';
    const pack = quarantined(['pack-objects', '--revs', '--stdout', '-q'], revs);
    if (pack.status !== 0) return refuseAll(`its objects are incomplete or invalid (${firstLine(pack.stderr) || `exit ${pack.status}`})`);
    const index = git(['index-pack', '--stdin', '--strict', '--fix-thin'], pack.stdout);
    if (index.status !== 0) return refuseAll(`git refused its objects (${firstLine(index.stderr)})`);
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

type Git = (args: string[], input?: Buffer | string, stdoutFd?: number) => SpawnSyncReturns<Buffer>;

interface TreeChange {
  commit: string;
  oldMode: string;
  newMode: string;
  newSha: string;
  status: string;
  path: string;
}

const RAW = /^\n?:([0-7]{6}) ([0-7]{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([A-Z])[0-9]*$/;
const GITLINK = '160000';
const SYMLINK = '120000';
// Blob content is read for `when` rules and link targets only; larger blobs are judged unread (refused).
const BLOB_READ_LIMIT = 16 * 1024 * 1024;

/**
 * Every change each commit `tip` reaches beyond the real refs makes against its first parent (all its
 * files for a root commit), oldest commit first. `--not --all` is the real repository's refs and HEAD: the quarantine's git
 * has the real GIT_DIR.
 */
function treeChanges(git: Git, tip: string): TreeChange[] | string {
  const list = git(['rev-list', '--reverse', '--parents', tip, '--not', '--all']);
  if (list.status !== 0) return `git could not read its commits (${firstLine(list.stderr) || `exit ${list.status}`})`;
  const pairs = list.stdout.toString().split('\n').filter(Boolean).map((line) => line.split(' ').slice(0, 2).join(' '));
  if (pairs.length === 0) return [];
  if (pairs.length > MAX_COMMITS) return `it brings more than ${MAX_COMMITS} new commits`;
  const diff = git(['diff-tree', '--stdin', '-r', '-z', '--no-renames', '--no-abbrev', '--root'], pairs.join('\n') + '\n');
  if (diff.status !== 0) return `git could not read its changes (${firstLine(diff.stderr) || `exit ${diff.status}`})`;
  const tokens = diff.stdout.toString('utf8').split('\0');
  const changes: TreeChange[] = [];
  let commit = '';
  // Positional: a path always follows its change line, so a file named like an object id is still a path.
  for (let i = 0; i < tokens.length; i++) {
    const raw = RAW.exec(tokens[i]);
    if (raw) changes.push({ commit, oldMode: raw[1], newMode: raw[2], newSha: raw[4], status: raw[5], path: tokens[++i] ?? '' });
    else if (OBJECT_ID.test(tokens[i].trim())) commit = tokens[i].trim();
  }
  return changes;
}

interface BlobFacts {
  sizes: Map<string, number>;
  /** Content kept for `when` rules and link targets (blobs in `keep`, up to BLOB_READ_LIMIT). */
  content: Map<string, Buffer>;
  /** The steering workflow command a later step printing the blob would hand the runner. */
  printed: Map<string, string>;
}

// Blobs are read in batches of about this many bytes, so the whole change never sits in memory at once.
const READ_BATCH = 64 * 1024 * 1024;

/**
 * Sizes of the blobs, then their content in batches: scanned for printed commands, kept only when
 * asked for. A blob over BLOB_READ_LIMIT is written to a file in `scratch` and scanned from there.
 */
function readBlobs(git: Git, shas: string[], keep: Set<string>, scratch: string): BlobFacts {
  const facts: BlobFacts = { sizes: new Map(), content: new Map(), printed: new Map() };
  if (shas.length === 0) return facts;
  const check = git(['cat-file', '--batch-check=%(objectname) %(objectsize)'], shas.join('\n') + '\n');
  for (const line of check.stdout.toString().split('\n')) {
    const [sha, size] = line.split(' ');
    if (OBJECT_ID.test(sha) && /^[0-9]+$/.test(size)) facts.sizes.set(sha, Number(size));
  }
  for (const sha of shas.filter((x) => (facts.sizes.get(x) ?? 0) > BLOB_READ_LIMIT)) {
    const command = scanLargeBlob(git, sha, scratch);
    if (command) facts.printed.set(sha, command);
  }
  const readable = shas.filter((sha) => (facts.sizes.get(sha) ?? Infinity) <= BLOB_READ_LIMIT);
  for (let i = 0; i < readable.length;) {
    const batch: string[] = [];
    for (let bytes = 0; i < readable.length && (batch.length === 0 || bytes + facts.sizes.get(readable[i])! <= READ_BATCH); i++) {
      bytes += facts.sizes.get(readable[i])!;
      batch.push(readable[i]);
    }
    const out = git(['cat-file', '--batch'], batch.join('\n') + '\n').stdout;
    let at = 0;
    while (at < out.length) {
      const eol = out.indexOf(0x0a, at);
      if (eol < 0) break;
      const [sha, , size] = out.subarray(at, eol).toString().split(' ');
      const n = Number(size);
      if (!Number.isSafeInteger(n)) break;
      const blob = out.subarray(eol + 1, eol + 1 + n);
      if (keep.has(sha)) facts.content.set(sha, Buffer.from(blob));
      const command = printedCommand(blob);
      if (command) facts.printed.set(sha, command);
      at = eol + 1 + n + 1;
    }
  }
  return facts;
}

/** Stream one large blob through git into a file, then through the printed-command scan, a chunk at a time. */
function scanLargeBlob(git: Git, sha: string, scratch: string): string | undefined {
  const file = path.join(scratch, `blob-${sha}`);
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    git(['cat-file', 'blob', sha], undefined, fd);
  } finally {
    fs.closeSync(fd);
  }
  const scan = new PrintedCommandScan();
  const buf = Buffer.allocUnsafe(1024 * 1024);
  const read = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(read, buf, 0, buf.length, null)) > 0;) scan.push(buf.subarray(0, n));
  } finally {
    fs.closeSync(read);
    fs.rmSync(file, { force: true });
  }
  return scan.end();
}

const VERB: Record<string, string> = { A: 'adds', D: 'deletes', M: 'changes', T: 'changes' };

/**
 * Why the commits `tip` reaches beyond the real refs may not come back, or undefined. Each commit is
 * judged against its first parent, so whatever its tree holds that the base did not was judged once:
 * a change a later commit undoes still counts (pushing the branch pushes that commit too).
 */
function judgeCommits(git: Git, tip: string, policy: BoundaryPolicy, maxBytes: number, scratch: string): string | undefined {
  const changes = treeChanges(git, tip);
  if (typeof changes === 'string') return changes;
  const kept = changes.filter((c) => c.status !== 'D' && c.newMode !== GITLINK);
  const needContent = new Set(kept.filter((c) => c.newMode === SYMLINK || policy.kinds.some((k) => k.when && k.globs.some((g) => g.matches(c.path)))).map((c) => c.newSha));
  const blobs = readBlobs(git, [...new Set(kept.map((c) => c.newSha))], needContent, scratch);
  const total = [...new Set(kept.map((c) => c.newSha))].reduce((sum, sha) => sum + (blobs.sizes.get(sha) ?? 0), 0);
  if (total > maxBytes) return `its files hold ${formatBytes(total)}, more than --max-disk ${formatBytes(maxBytes)}`;
  // A later checkout makes every link of the tip's tree, and the commits' own: no link may route through another.
  const links = new Set(changes.filter((c) => c.newMode === SYMLINK && c.status !== 'D').map((c) => c.path));
  if (links.size > 0) for (const p of treeLinks(git, tip)) links.add(p);
  for (const c of changes) {
    const why = changeRefusal(c, policy, blobs, links);
    if (why) return `${c.commit.slice(0, 12)} ${VERB[c.status] ?? 'changes'} ${JSON.stringify(c.path).slice(1, -1)}: ${why}`;
  }
  return undefined;
}

/** The paths the commit's tree holds as symlinks. */
function treeLinks(git: Git, commit: string): string[] {
  const tree = git(['ls-tree', '-r', '-z', '--full-tree', commit]);
  return tree.stdout.toString('utf8').split('\0').filter((entry) => entry.startsWith(`${SYMLINK} `)).map((entry) => entry.slice(entry.indexOf('\t') + 1));
}

function changeRefusal(c: TreeChange, policy: BoundaryPolicy, blobs: BlobFacts, links: Set<string>): string | undefined {
  for (const segment of c.path.split('/')) {
    const bad = nameRefusal(segment) ?? (isGitName(segment) ? 'a name git takes for .git' : undefined);
    if (bad) return bad;
  }
  if (c.newMode === GITLINK || c.oldMode === GITLINK) return 'a submodule commit (gitlink): a later `git submodule update` checks out and runs what the submodule holds';
  if (c.status === 'D') return kindRefusal(policy, c.path);
  const blob = blobs.content.get(c.newSha);
  const text = () => (blob === undefined ? undefined : judgedText(blob));
  if (c.newMode === SYMLINK) {
    const target = blob?.toString('utf8');
    if (target === undefined) return 'a symlink whose target could not be read';
    const route = linkRouteRefusal(policy.workspace, c.path, target, (rel) => links.has(rel));
    return linkRefusal(policy, c.path, target) ?? (route && `a symlink to ${JSON.stringify(target)}: ${route}`) ?? kindRefusal(policy, c.path, () => undefined);
  }
  return kindRefusal(policy, c.path, text) ?? printedRefusal(policy, c.path, blobs.printed.get(c.newSha));
}

function firstLine(buf: Buffer | string | null | undefined): string {
  return (buf?.toString() ?? '').split('\n').find((l) => l.trim())?.trim().slice(0, 300) ?? '';
}
