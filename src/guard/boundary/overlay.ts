// The agent's copy of the workspace: an overlayfs whose lower layer is the real workspace and whose
// upper layer (where every write lands) sits in the guard's private folder, out of the agent's reach.
//
// bwrap 0.8 cannot mount an overlay, so the guard wraps it: `unshare --mount` gives a private mount
// namespace, a short /bin/sh script mounts the overlay there (as root, directly or through sudo -n),
// runs bwrap (which binds the merged view over the workspace path) and, once the jail is gone, runs a
// small probe that says which of the upper folders are opaque. The mount dies with that namespace.
//
// Mount options keep the upper folder self-describing: redirect_dir=off (renaming a folder of the
// real workspace copies it instead of recording a redirect), metacopy=off (a chmod copies the data),
// index=off and xino=off. Whiteouts (char 0/0) mark deletions and opaque folders mark a folder that
// was removed and made again. The opaque flag is an xattr that node cannot read; the probe instead
// compares the merged view with the lower one while the mount still exists.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GuardError } from '../errors';
import { sanitizeGitConfig } from '../gitConfig';

export interface OverlayLayout {
  /** Private folder holding the layers (inside the guard's 0700 private folder). */
  root: string;
  /** Where a workspace whose path an overlay option cannot carry is bound inside the private namespace. */
  lower: string;
  upper: string;
  work: string;
  /** Where the overlay is mounted; bwrap binds it over the workspace path. */
  merged: string;
  /** The probe's answer: a JSON list of opaque folders (workspace-relative), or {"error": why}. */
  opaqueList: string;
  probe: string;
  /** Files the guard put in the upper layer itself (sanitised git configs), workspace-relative. */
  seeded: Set<string>;
}

export interface Owner {
  uid: number;
  gid: number;
}

export const BOUNDARY_MARKER = 'AGENT_GUARD_BOUNDARY';

// Characters the overlay option string or mount(8) would read as separators.
const SAFE_PATH = /^[A-Za-z0-9/._+-]+$/;

/** Make the layer folders; the upper root takes the workspace's mode and owner (the merged root shows them). */
export function prepareOverlay(privateDir: string, workspace: string, asRoot: boolean): OverlayLayout {
  const root = path.join(privateDir, 'boundary');
  if (!SAFE_PATH.test(root)) {
    throw new GuardError('boundary', `the guard's private folder ${JSON.stringify(root)} has characters an overlay mount cannot take; set TMPDIR to a plain path`);
  }
  const layout: OverlayLayout = {
    root,
    lower: path.join(root, 'lower'),
    upper: path.join(root, 'upper'),
    work: path.join(root, 'work'),
    merged: path.join(root, 'merged'),
    opaqueList: path.join(root, 'opaque.json'),
    probe: path.join(privateDir, 'boundary-probe.js'),
    seeded: new Set(),
  };
  fs.mkdirSync(root, { mode: 0o700 });
  for (const dir of [layout.lower, layout.work, layout.merged]) fs.mkdirSync(dir, { mode: 0o700 });
  const st = fs.statSync(workspace);
  fs.mkdirSync(layout.upper, { mode: 0o700 });
  fs.chmodSync(layout.upper, st.mode & 0o7777);
  if (asRoot) fs.chownSync(layout.upper, st.uid, st.gid);
  fs.writeFileSync(layout.probe, probeSource(), { mode: 0o644 });
  return layout;
}

/**
 * Put a sanitised copy of each git config into the upper layer, so the agent sees (and may change)
 * a config without credentials while the real one stays as it was. The folders leading to it copy the
 * real ones' mode and owner, as an overlay copy-up would.
 */
export function seedGitConfigs(layout: OverlayLayout, workspace: string, configFiles: string[], secrets: string[], asRoot: boolean): void {
  for (const file of configFiles) {
    const rel = path.relative(workspace, file);
    const parts = rel.split(path.sep);
    for (let i = 1; i < parts.length; i++) {
      const dirRel = parts.slice(0, i).join('/');
      const real = fs.lstatSync(path.join(workspace, dirRel));
      if (!real.isDirectory()) throw new GuardError('boundary', `cannot seed ${rel}: ${dirRel} is not a folder`);
      const target = path.join(layout.upper, dirRel);
      if (fs.existsSync(target)) continue;
      fs.mkdirSync(target);
      fs.chmodSync(target, real.mode & 0o7777);
      if (asRoot) fs.chownSync(target, real.uid, real.gid);
    }
    const real = fs.lstatSync(file);
    const target = path.join(layout.upper, rel);
    fs.writeFileSync(target, sanitizeGitConfig(fs.readFileSync(file, 'utf8'), secrets), { mode: real.mode & 0o777 });
    fs.chmodSync(target, real.mode & 0o777);
    if (asRoot) fs.chownSync(target, real.uid, real.gid);
    layout.seeded.add(parts.join('/'));
  }
}

export const OVERLAY_OPTIONS = 'redirect_dir=off,metacopy=off,index=off,xino=off';

// $1 workspace, $2 lower, $3 upper, $4 work, $5 merged, $6 node, $7 probe, $8 probe output, $9 "clean"
// or "keep"; then bwrap and its arguments. A workspace path with characters the option string would
// split on is bound to a plain path first, and that bind is detached at once (the overlay keeps its
// own reference), so no second view of the real workspace exists for the jail to inherit. Only
// shell builtins run between the jail and the probe.
const WRAPPER_SCRIPT = [
  'ws=$1 lower=$2 upper=$3 work=$4 merged=$5 node=$6 probe=$7 out=$8 clean=$9',
  'shift 9',
  `fail() { echo "${BOUNDARY_MARKER} fail $1" >&2; exit 125; }`,
  'if [ "$lower" != "$ws" ]; then err=$(mount --bind "$ws" "$lower" 2>&1) || fail "cannot bind the workspace: $err"; fi',
  `err=$(mount -t overlay agent-guard -o "lowerdir=$lower,upperdir=$upper,workdir=$work,${OVERLAY_OPTIONS}" "$merged" 2>&1) || fail "cannot mount an overlay over the workspace: $err"`,
  'if [ "$lower" != "$ws" ]; then err=$(umount "$lower" 2>&1) || fail "cannot detach the workspace bind: $err"; fi',
  '"$@"',
  'status=$?',
  // The probe (a node start) is needed only when the agent left a folder outside .git: any such
  // folder sits in a top-level one, so a glob over the upper root tells.
  'folders=',
  'for entry in "$upper"/* "$upper"/.[!.]* "$upper"/..?*; do',
  '  if [ -d "$entry" ] && [ ! -L "$entry" ] && [ "$entry" != "$upper/.git" ]; then folders=yes; break; fi',
  'done',
  'if [ -n "$folders" ]; then',
  // The probe writes its own failure; this covers it dying (its stack trace is not the agent's output).
  `  "$node" "$probe" "$ws" "$upper" "$merged" "$out" 2>/dev/null || echo '{"error":"the probe stopped"}' > "$out"`,
  'else echo "[]" > "$out"; fi',
  // Through sudo the guard is not root and could not remove the overlay's root-owned work folder.
  'if [ "$clean" = clean ]; then umount "$merged" && rm -rf "$work"; fi',
  'exit $status',
].join('\n');

/** The command that builds the overlay in a private mount namespace and runs bwrap over it. */
export function overlayCommand(layout: OverlayLayout, workspace: string, node: string, bwrap: string, bwrapArgs: string[], unshare: string, asRoot: boolean): string[] {
  const lower = SAFE_PATH.test(workspace) ? workspace : layout.lower;
  return [unshare, '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', WRAPPER_SCRIPT, 'agent-guard-boundary',
    workspace, lower, layout.upper, layout.work, layout.merged, node, layout.probe, layout.opaqueList, asRoot ? 'keep' : 'clean', bwrap, ...bwrapArgs];
}

/** Which upper folders the probe found opaque; undefined when it did not run (the jail was killed). */
export function readOpaqueList(layout: OverlayLayout): Set<string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(layout.opaqueList, 'utf8');
  } catch {
    return undefined;
  }
  const list = JSON.parse(text) as unknown;
  if (list && typeof list === 'object' && !Array.isArray(list) && typeof (list as { error?: unknown }).error === 'string') {
    throw new GuardError('boundary', `could not read which folders the agent replaced (${(list as { error: string }).error}); nothing was brought back`);
  }
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw new GuardError('boundary', 'the overlay probe wrote something that is not a list of folders');
  return new Set(list as string[]);
}

/**
 * Runs as root inside the private namespace after the jail is gone, so nothing races it. A folder of
 * the upper layer is opaque when the merged view hides an entry of the lower folder that the upper
 * folder has no whiteout for. Serialised like jailInit: self-contained, node built-ins only. It reads
 * folder listings and never follows a link (lower paths are walked with lstat).
 */
/**
 * Remove a layer folder the guard owns even where the agent took permissions away (chmod 000), as
 * the sudo path needs. Best effort: what is left is in the guard's private folder, out of reach.
 */
export function removeTree(dir: string): boolean {
  const open = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (!st.isDirectory()) return;
    try {
      fs.chmodSync(p, 0o700);
    } catch {
      return; // not ours: rmSync says so below
    }
    for (const name of fs.readdirSync(p)) open(path.join(p, name));
  };
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  } catch {
    try {
      open(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      return true;
    } catch {
      return removeDeepTree(dir);
    }
  }
}

/**
 * node names every file by its whole path, so it cannot remove a tree deeper than PATH_MAX (an agent
 * can make one with relative mkdir and chdir). coreutils walk with openat: no such limit.
 */
function removeDeepTree(dir: string): boolean {
  const env = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };
  spawnSync('chmod', ['-R', 'u+rwx', '--', dir], { env, stdio: 'ignore', timeout: 300_000 });
  return spawnSync('rm', ['-rf', '--one-file-system', '--', dir], { env, stdio: 'ignore', timeout: 300_000 }).status === 0 && !fs.existsSync(dir);
}

export function probeMain(): void {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const fs = require('node:fs') as typeof import('node:fs');
  const [lower, upper, merged, out] = process.argv.slice(2);
  // Folders whose path a syscall cannot take (deeper than PATH_MAX) are not walked: the change set
  // refuses them by the same measure.
  const room = 4096 - 2 - Math.max(Buffer.byteLength(lower), Buffer.byteLength(upper), Buffer.byteLength(merged));
  const opaque: string[] = [];
  const isRealDir = (base: string, rel: string): boolean => {
    let at = base;
    for (const part of rel.split('/')) {
      at += '/' + part;
      try {
        if (!fs.lstatSync(at).isDirectory()) return false;
      } catch {
        return false;
      }
    }
    return true;
  };
  const walk = (rel: string): void => {
    const upperNames = fs.readdirSync(`${upper}/${rel}`);
    if (rel && isRealDir(lower, rel)) {
      const kept = new Set(upperNames);
      const shown = new Set(fs.readdirSync(`${merged}/${rel}`));
      if (fs.readdirSync(`${lower}/${rel}`).some((n) => !kept.has(n) && !shown.has(n))) opaque.push(rel);
    }
    for (const name of upperNames) {
      const child = rel ? `${rel}/${name}` : name;
      if (!rel && name === '.git') continue;
      if (Buffer.byteLength(child) > room) continue;
      if (fs.lstatSync(`${upper}/${child}`).isDirectory()) walk(child);
    }
  };
  let result: unknown;
  try {
    walk('');
    result = opaque;
  } catch (err) {
    result = { error: String((err as Error).message).split('\n')[0] };
  }
  fs.writeFileSync(out, JSON.stringify(result), { mode: 0o644 });
}

export function probeSource(): string {
  return `(${probeMain.toString()})();\n`;
}
