// Applies an accepted change set to the real workspace. The real tree may hold links the pull request
// planted (`docs -> /etc`), so no path is ever resolved through one: every folder on the way is
// checked with lstat (and made, as the workspace owner, when missing), files are written to a new
// name with O_EXCL|O_NOFOLLOW and renamed into place, and a rename or unlink acts on the entry itself,
// never on what a link points to. The agent and its processes are gone by now; the only writers left
// are the job's own steps, which run after the guard returns.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Owner } from './overlay';
import { linkRouteRefusal } from './policy';
import type { FileChange, RefusedChange } from './types';

export interface ApplyResult {
  applied: FileChange[];
  /** Accepted changes the real tree would not take safely (a link in the way, a folder not empty). */
  failed: RefusedChange[];
}

class Unsafe extends Error {}

/** The real folder that holds `rel`, every step a real folder; missing ones are made when `create`. */
function parentOf(workspace: string, rel: string, owner: Owner | undefined, create: boolean): string | undefined {
  let at = workspace;
  const parts = rel.split('/').slice(0, -1);
  for (const part of parts) {
    at = `${at}/${part}`;
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(at);
    } catch {
      st = undefined;
    }
    if (st === undefined) {
      if (!create) return undefined;
      fs.mkdirSync(at, { mode: 0o755 });
      if (owner) fs.lchownSync(at, owner.uid, owner.gid);
      st = fs.lstatSync(at);
    }
    if (st.isSymbolicLink()) throw new Unsafe(`${path.relative(workspace, at)} is a symlink in the real workspace`);
    if (!st.isDirectory()) throw new Unsafe(`${path.relative(workspace, at)} is not a folder in the real workspace`);
  }
  return at;
}

const tempName = (dir: string) => `${dir}/.agent-guard-${crypto.randomBytes(6).toString('hex')}`;

function writeFile(workspace: string, change: Extract<FileChange, { kind: 'write' }>, owner: Owner | undefined): void {
  const dir = parentOf(workspace, change.path, owner, true)!;
  const temp = tempName(dir);
  // COPYFILE_EXCL creates the new name with O_EXCL: it never opens an existing file or link.
  fs.copyFileSync(change.contentFile, temp, fs.constants.COPYFILE_EXCL);
  try {
    const fd = fs.openSync(temp, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
      fs.fchmodSync(fd, change.mode);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, `${workspace}/${change.path}`);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** The route check (policy.ts linkRouteRefusal) against the tree as it now is and every link this change set makes. */
function checkLinkRoute(workspace: string, change: Extract<FileChange, { kind: 'symlink' }>, links: Set<string>): void {
  let exists = true;
  const why = linkRouteRefusal(workspace, change.path, change.target, (rel) => {
    if (links.has(rel)) return true;
    if (!exists) return false; // below a missing name only this change set's links could stand in the way
    try {
      return fs.lstatSync(`${workspace}/${rel}`).isSymbolicLink();
    } catch {
      exists = false;
      return false;
    }
  });
  if (why) throw new Unsafe(why);
}

function writeLink(workspace: string, change: Extract<FileChange, { kind: 'symlink' }>, owner: Owner | undefined, links: Set<string>): void {
  const dir = parentOf(workspace, change.path, owner, true)!;
  checkLinkRoute(workspace, change, links);
  const temp = tempName(dir);
  fs.symlinkSync(change.target, temp);
  try {
    if (owner) fs.lchownSync(temp, owner.uid, owner.gid);
    fs.renameSync(temp, `${workspace}/${change.path}`);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

function remove(workspace: string, rel: string): void {
  const dir = parentOf(workspace, rel, undefined, false);
  if (dir === undefined) return;
  const target = `${workspace}/${rel}`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new Unsafe('it is a folder in the real workspace');
  fs.unlinkSync(target);
}

export function applyChangeSet(workspace: string, files: FileChange[], removedDirs: string[], owner: Owner | undefined): ApplyResult {
  const applied: FileChange[] = [];
  const failed: RefusedChange[] = [];
  const attempt = (rel: string, what: string, action: () => void): boolean => {
    try {
      action();
      return true;
    } catch (err) {
      const why = err instanceof Unsafe ? err.message : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      failed.push({ path: rel, reason: `not applied (${what}): ${why}` });
      return false;
    }
  };
  // Deletions first, then the folders they emptied, so a file may take the place of a removed folder.
  for (const change of files) {
    if (change.kind === 'delete' && attempt(change.path, 'delete', () => remove(workspace, change.path))) applied.push(change);
  }
  for (const dir of removedDirs) {
    attempt(`${dir}/`, 'remove folder', () => {
      const parent = parentOf(workspace, `${dir}/x`, undefined, false);
      if (parent === undefined) return;
      try {
        fs.rmdirSync(parent);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    });
  }
  for (const change of files) {
    if (change.kind === 'write' && attempt(change.path, 'write', () => writeFile(workspace, change, owner))) applied.push(change);
  }
  // Links last: their route is checked against the tree as it now is and against every link this
  // change set makes, whatever the order they are written in.
  const links = new Set(files.filter((c) => c.kind === 'symlink').map((c) => c.path));
  for (const change of files) {
    if (change.kind === 'symlink' && attempt(change.path, 'symlink', () => writeLink(workspace, change, owner, links))) applied.push(change);
  }
  return { applied, failed };
}
