// Turns the overlay's upper folder into a ChangeSet. The agent is gone and its mount namespace with
// it, so nothing changes under our feet; still, every entry is read with lstat, never followed, and
// content is read with O_NOFOLLOW into the guard's private folder before anything is judged.
// Two passes: the first walks the folder (lstat only) and counts entries and bytes against the
// limits, so a million files or a sparse terabyte is refused before a byte is copied; the second
// copies out and judges the content.
//
// Upper-folder grammar (overlayfs with redirect_dir and metacopy off): a regular file is the file's
// whole new content; a char device 0/0 is a whiteout (the lower entry was deleted); a folder merges
// with the lower folder unless the probe found it opaque (the lower folder was removed and made
// again); a folder or file standing where the lower tree had something else replaced it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GuardError } from '../errors';
import { formatBytes } from '../limits';
import { folderRefusal, GIT_LOOKALIKE_REASON, GIT_REASON, isGitName, judgedText, kindRefusal, linkRefusal, nameRefusal, printedRefusal, type BoundaryPolicy } from './policy';
import { PrintedCommandScan } from './printedCommands';
import type { ChangeSet, FileChange, RefusedChange } from './types';

/** How much may come back at all (--max-files, --max-disk). */
export interface ChangeLimits {
  /** Entries of the change set: files, folders, links and deletions, refused ones included. */
  maxFiles: number;
  /** Bytes of the files that come back, at their apparent size (a sparse file counts in full). */
  maxBytes: number;
}

export interface ScanInput {
  upper: string;
  /** The real workspace (the lower layer), read-only here. */
  workspace: string;
  opaque: Set<string>;
  /** Upper files the guard wrote itself (sanitised git configs): not the agent's changes. */
  seeded: Set<string>;
  contentDir: string;
  policy: BoundaryPolicy;
  limits: ChangeLimits;
}

export interface ScanResult {
  changes: ChangeSet;
  /** Folders of the real workspace the agent removed, each after those inside it (apply removes them when empty). */
  removedDirs: string[];
  /** The agent changed something under .git (it may have committed). */
  gitChanged: boolean;
}

type LowerKind = 'dir' | 'file' | 'symlink' | 'other' | undefined;

// A file a `when` rule judges is read whole (a tool reads all of it); past this it is not judged but refused.
const WHEN_BYTES = 16 * 1024 * 1024;
// Linux refuses a path of PATH_MAX (4096) bytes or more, NUL included.
const PATH_MAX = 4096;
// Room left on a disk after the copy-out and the apply.
const DISK_RESERVE = 64 * 1024 * 1024;
const FILE_TYPE = (st: fs.Stats): string =>
  st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isBlockDevice() ? 'a block device' : st.isCharacterDevice() ? 'a character device' : 'not a regular file';

const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

export function buildChangeSet(input: ScanInput): ScanResult {
  const files: FileChange[] = [];
  const refused: RefusedChange[] = [];
  const removedDirs: string[] = [];
  let gitChanged = false;
  let contentCount = 0;
  const contentPrefix = crypto.randomBytes(6).toString('hex');
  const refuse = (rel: string, reason: string): void => {
    refused.push({ path: rel, reason });
  };
  // Pass one counts; pass two (after the limits hold) copies these out.
  const pending: { rel: string; st: fs.Stats }[] = [];
  let entries = 0;
  let bytes = 0;
  const count = (): void => {
    if (++entries > input.limits.maxFiles) {
      throw new GuardError('boundary', `the agent's changes hold more than ${input.limits.maxFiles} files and folders (--max-files); nothing was brought back`);
    }
  };
  // The longest path a change may have: both the upper layer's copy and the real workspace's must open.
  const pathRoom = PATH_MAX - 2 - Math.max(Buffer.byteLength(input.upper), Buffer.byteLength(input.workspace));

  // What the real workspace has at `rel`, walking its folders with lstat: below a link or a file,
  // there is nothing (a planted `dir -> /etc` has no children as far as the boundary is concerned).
  const lowerKind = (rel: string): LowerKind => {
    let at = input.workspace;
    const parts = rel.split('/');
    for (const [i, part] of parts.entries()) {
      at = `${at}/${part}`;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(at);
      } catch {
        return undefined;
      }
      const last = i === parts.length - 1;
      if (st.isDirectory()) {
        if (last) return 'dir';
        continue;
      }
      if (!last) return undefined;
      return st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
    }
    return undefined;
  };

  // A deletion of whatever the real workspace has at `rel`, folders expanded to their files.
  const deleteLower = (rel: string): void => {
    const kind = lowerKind(rel);
    if (kind === undefined) return;
    count();
    if (rel.split('/').some(isGitName)) {
      gitChanged = true;
      refuse(rel, `deletion refused, ${GIT_REASON}`);
      return;
    }
    if (kind !== 'dir') {
      const reason = kindRefusal(input.policy, rel);
      if (reason) refuse(rel, `deletion refused: ${reason}`);
      else files.push({ kind: 'delete', path: rel });
      return;
    }
    const folderReason = folderRefusal(input.policy, rel);
    if (folderReason) {
      refuse(`${rel}/`, `deletion of the folder refused: ${folderReason}`);
      return;
    }
    for (const name of fs.readdirSync(`${input.workspace}/${rel}`)) deleteLower(join(rel, name));
    removedDirs.push(rel);
  };

  const sameAsLower = (rel: string, st: fs.Stats, mode: number, sha256: string): boolean => {
    if (lowerKind(rel) !== 'file') return false;
    const lower = fs.lstatSync(`${input.workspace}/${rel}`);
    if (lower.size !== st.size || ((lower.mode & 0o100) !== 0 ? 0o755 : 0o644) !== mode) return false;
    try {
      return hashFile(`${input.workspace}/${rel}`).sha256 === sha256;
    } catch {
      return false; // unreadable to the guard: count it as changed (the real file's mode is not ours to touch)
    }
  };

  const regularFile = (rel: string, st: fs.Stats): void => {
    if (st.mode & 0o7000) return refuse(rel, `refused: setuid, setgid or sticky bit (mode ${(st.mode & 0o7777).toString(8)})`);
    if (st.nlink > 1) return refuse(rel, 'refused: a hard link (only plain files with one name come back)');
    bytes += st.size;
    pending.push({ rel, st });
  };

  const copyRegularFile = (rel: string, st: fs.Stats): void => {
    const mode = st.mode & 0o100 ? 0o755 : 0o644;
    const contentFile = path.join(input.contentDir, `${contentPrefix}-${contentCount++}`);
    const copied = copyOut(`${input.upper}/${rel}`, contentFile);
    if (sameAsLower(rel, st, mode, copied.sha256)) {
      fs.rmSync(contentFile);
      return;
    }
    const reason = kindRefusal(input.policy, rel, () => readWhole(contentFile, copied.size)) ?? printedRefusal(input.policy, rel, copied.printed);
    if (reason) {
      fs.rmSync(contentFile);
      return refuse(rel, `refused: ${reason}`);
    }
    files.push({ kind: 'write', path: rel, mode, contentFile, size: copied.size, sha256: copied.sha256 });
  };

  const symlink = (rel: string): void => {
    const target = fs.readlinkSync(`${input.upper}/${rel}`);
    if (lowerKind(rel) === 'symlink' && fs.readlinkSync(`${input.workspace}/${rel}`) === target) return;
    const unsafe = linkRefusal(input.policy, rel, target);
    if (unsafe) return refuse(rel, `refused: ${unsafe}`);
    const reason = kindRefusal(input.policy, rel, () => undefined);
    if (reason) return refuse(rel, `refused: ${reason}`);
    files.push({ kind: 'symlink', path: rel, target });
  };

  // Entries under an agent-made .git count as one refusal; the guard's own seeded configs do not count.
  // Raw names all the way down: nothing here is written back, it is only counted.
  const countGit = (rel: string): number => {
    const count = (dir: Buffer, relName: string | undefined): number => {
      let n = 0;
      for (const entry of fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
        const childRel = relName === undefined ? undefined : utf8(entry.name) === undefined ? undefined : `${relName}/${utf8(entry.name)}`;
        const child = Buffer.concat([dir, Buffer.from('/'), entry.name]);
        if (entry.isDirectory()) n += count(child, childRel);
        else if (childRel === undefined || !input.seeded.has(childRel)) n++;
      }
      return n;
    };
    const top = `${input.upper}/${rel}`;
    if (!fs.lstatSync(top).isDirectory()) return input.seeded.has(rel) ? 0 : 1;
    try {
      return count(Buffer.from(top), rel);
    } catch {
      return 1; // unreadable (the agent took permissions away): still a change, still refused
    }
  };

  const walk = (rel: string): void => {
    const names: string[] = [];
    for (const raw of readdirOwned(rel ? `${input.upper}/${rel}` : input.upper)) {
      // A name that is not UTF-8 has no faithful string form: the guard could not write it back.
      const name = utf8(raw);
      if (name === undefined) refuse(join(rel, raw.toString('latin1')), 'refused: the name is not valid UTF-8');
      else names.push(name);
    }
    if (rel) {
      const lower = lowerKind(rel);
      if (lower !== undefined && lower !== 'dir') deleteLower(rel);
      else if (lower === 'dir' && input.opaque.has(rel)) {
        const kept = new Set(names);
        for (const name of fs.readdirSync(`${input.workspace}/${rel}`)) if (!kept.has(name)) deleteLower(join(rel, name));
      }
    }
    for (const name of names.sort()) {
      const child = join(rel, name);
      count();
      // Past PATH_MAX not even lstat can name it: refused unread (the probe did not walk it either).
      if (Buffer.byteLength(child) > pathRoom) {
        refuse(child, `refused: the path is longer than the ${pathRoom} bytes a file in the workspace can have`);
        continue;
      }
      const st = fs.lstatSync(`${input.upper}/${child}`);
      const shown = st.isDirectory() ? `${child}/` : child;
      if (isGitName(name) && name.toLowerCase() !== '.git') {
        refuse(shown, `refused: ${GIT_LOOKALIKE_REASON}`);
        continue;
      }
      if (isGitName(name)) {
        const whiteout = st.isCharacterDevice() && st.rdev === 0;
        const changed = whiteout ? 1 : countGit(child);
        if (changed > 0) {
          gitChanged = true;
          refuse(st.isDirectory() || whiteout ? `${child}/` : child, `${changed} change(s) refused, ${GIT_REASON}`);
        }
        continue;
      }
      if (st.isCharacterDevice() && st.rdev === 0) {
        deleteLower(child);
        continue;
      }
      const badName = nameRefusal(name);
      if (badName) {
        refuse(shown, `refused: ${badName}`);
        continue;
      }

      // Something else now stands where the real workspace has a folder: that folder goes first.
      if (!st.isDirectory() && lowerKind(child) === 'dir') deleteLower(child);
      if (st.isDirectory()) {
        const folderReason = folderRefusal(input.policy, child);
        if (folderReason) refuse(`${child}/`, `the folder refused: ${folderReason}`);
        else walk(child);
      } else if (st.isFile()) regularFile(child, st);
      else if (st.isSymbolicLink()) symlink(child);
      else refuse(child, `refused: ${FILE_TYPE(st)}`);
    }
  };

  walk('');
  if (bytes > input.limits.maxBytes) {
    throw new GuardError('boundary', `the agent's changes hold ${formatBytes(bytes)} (sparse files count in full), more than --max-disk ${formatBytes(input.limits.maxBytes)}; nothing was brought back`);
  }
  ensureRoom(input.contentDir, input.workspace, bytes);
  for (const { rel, st } of pending) copyRegularFile(rel, st);
  refuseGitDirLookalikes(files, refused, input.workspace);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes: { files, refused, commits: [] }, removedDirs, gitChanged };
}

/**
 * git treats any folder holding HEAD, objects/ and refs/ as a repository and runs its config (a later
 * `git status` there runs core.fsmonitor). A written HEAD, config or commondir that completes one is refused.
 */
function refuseGitDirLookalikes(files: FileChange[], refused: RefusedChange[], workspace: string): void {
  const written = new Set(files.filter((f) => f.kind !== 'delete').map((f) => f.path));
  const hasBelow = (dir: string, name: string) => {
    const prefix = join(dir, name);
    try {
      if (fs.lstatSync(`${workspace}/${prefix}`).isDirectory()) return true;
    } catch {
      // not in the real workspace
    }
    for (const p of written) if (p.startsWith(prefix + '/')) return true;
    return false;
  };
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i];
    if (f.kind === 'delete') continue;
    const base = path.posix.basename(f.path);
    if (base !== 'HEAD' && base !== 'config' && base !== 'commondir') continue;
    const dir = path.posix.dirname(f.path) === '.' ? '' : path.posix.dirname(f.path);
    const headThere = written.has(join(dir, 'HEAD')) || fs.existsSync(`${workspace}/${join(dir, 'HEAD')}`);
    if (headThere && hasBelow(dir, 'refs') && (hasBelow(dir, 'objects') || written.has(join(dir, 'commondir')))) {
      refused.push({ path: f.path, reason: 'refused: it would make its folder look like a git repository whose config git would run' });
      files.splice(i, 1);
    }
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
function utf8(raw: Buffer): string | undefined {
  try {
    return decoder.decode(raw);
  } catch {
    return undefined;
  }
}

/**
 * readdir (raw names) that, on the sudo path, gives the guard (the folder's owner) back the read and
 * search access the agent took away: without search (x) every lstat inside fails.
 */
function readdirOwned(dir: string): Buffer[] {
  const st = fs.lstatSync(dir);
  if (st.isDirectory() && (st.mode & 0o500) !== 0o500 && process.getuid?.() !== 0) fs.chmodSync(dir, (st.mode & 0o777) | 0o700);
  try {
    return fs.readdirSync(dir, { encoding: 'buffer' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES' || !st.isDirectory()) throw err;
    fs.chmodSync(dir, (st.mode & 0o777) | 0o700);
    return fs.readdirSync(dir, { encoding: 'buffer' });
  }
}

/** Open with O_NOFOLLOW; in the upper layer only, give the owner back the read access the agent took away. */
function openNoFollow(file: string, inUpper: boolean): number {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  try {
    return fs.openSync(file, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES' || !inUpper) throw err;
    const st = fs.lstatSync(file);
    if (!st.isFile()) throw err;
    fs.chmodSync(file, (st.mode & 0o777) | 0o400);
    return fs.openSync(file, flags);
  }
}

function hashFile(file: string): { sha256: string; size: number } {
  return pump(file, undefined);
}

interface Copied {
  sha256: string;
  size: number;
  /** A steering workflow command a later step printing the file would hand the runner. */
  printed: string | undefined;
}

/** Copy a regular file out with O_NOFOLLOW (into a file only the guard can reach), hashing as it goes. */
function copyOut(file: string, to: string): Copied {
  const scan = new PrintedCommandScan();
  const copied = pump(file, to, (chunk) => scan.push(chunk));
  return { ...copied, printed: scan.end() };
}

// One buffer for every copy: the scan is synchronous, so nothing else uses it meanwhile.
const COPY_BUFFER = Buffer.allocUnsafe(256 * 1024);

function pump(file: string, to: string | undefined, observe?: (chunk: Buffer) => void): { sha256: string; size: number } {
  const fd = openNoFollow(file, to !== undefined);
  const out = to === undefined ? undefined : fs.openSync(to, 'wx', 0o600);
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
    const hash = crypto.createHash('sha256');
    const buf = COPY_BUFFER;
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      observe?.(buf.subarray(0, n));
      if (out !== undefined) fs.writeSync(out, buf, 0, n);
      size += n;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    fs.closeSync(fd);
    if (out !== undefined) fs.closeSync(out);
  }
}

/** The whole of a copied-out file as text for a `when` rule (see judgedText); undefined when it is too large. */
function readWhole(file: string, size: number): string | undefined {
  return size > WHEN_BYTES ? undefined : judgedText(fs.readFileSync(file));
}

/** Refuse the change set when copying it out and applying it would leave a disk nearly full. */
function ensureRoom(contentDir: string, workspace: string, bytes: number): void {
  if (bytes === 0) return;
  const content = fs.statSync(contentDir);
  const real = fs.statSync(workspace);
  const free = (dir: string) => {
    const st = fs.statfsSync(dir);
    return st.bavail * st.bsize;
  };
  const needs: [string, number][] = content.dev === real.dev
    ? [[workspace, 2 * bytes]]
    : [[contentDir, bytes], [workspace, bytes]];
  for (const [dir, need] of needs) {
    const available = free(dir);
    if (need + DISK_RESERVE > available) {
      throw new GuardError('boundary', `the agent's changes hold ${formatBytes(bytes)}, and the disk holding ${dir} has ${formatBytes(available)} free: not enough to copy them out and apply them; nothing was brought back`);
    }
  }
}
