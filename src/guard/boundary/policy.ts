// What may come back, path by path. Structural refusals (not regular data, inside .git, names that
// read as another name, links to what the jail hid) cannot be lifted; tool configuration
// (rules/file-kinds.yml, and the folders the real repository's git config runs hooks from) can, with
// --allow-path. The same rules judge files in the agent's copy and paths in the commits it made.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builtinFileKinds, type FileKindRule } from './fileKinds';
import { compileGlob, type PathGlob } from './glob';
import { printedCommandReason } from './printedCommands';

export interface BoundaryPolicy {
  kinds: FileKindRule[];
  allow: PathGlob[];
  /** The real workspace: where a link's target is looked at. */
  workspace: string;
  /** Workspace-relative paths the jail hid from the agent (credential files other steps left). */
  hidden: string[];
  /** What the real folders links point at were found to hold, and how many entries are left to look at (see linkRefusal). */
  linkTargets: { seen: Map<string, TargetKind>; budget: number };
}

type TargetKind = 'git' | 'too large' | 'special' | 'plain';
// All links of a run together look at no more than this many entries: 100,000 links into big folders must not take an hour.
const LINK_LOOK_BUDGET = 1_000_000;

// git's is_ntfs_dotgit: `.git` or its 8.3 short name `git~1`, then only dots and spaces, or an
// alternate data stream (`:`) or a Windows separator.
const NTFS_DOTGIT = /^(?:\.git|git~1)[. ]*(?:[:\\].*)?$/i;
// Code points HFS+ ignores when it compares names (git's next_hfs_char).
const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * A path segment git reads as its own folder: `.git` in any case (macOS and Windows checkouts), and
 * the forms NTFS and HFS+ fold into it (`.git.`, `git~1`, `.g\u200cit`), which git refuses to add.
 */
export function isGitName(segment: string): boolean {
  return NTFS_DOTGIT.test(segment) || segment.replace(HFS_IGNORED, '').toLowerCase() === '.git';
}

export const GIT_REASON = "inside .git: the repository's metadata never comes back as files (commits come back as objects and a ref)";
export const GIT_LOOKALIKE_REASON = 'git takes this name for .git (as NTFS or HFS+ would) and refuses to add it, so a later `git add` of the workspace would fail';

// C0 and C1 controls (newline, tab, escape), DEL, and the bidirectional controls that reorder what a
// reader sees.
const UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

// What breaks out of a double-quoted shell string: command and parameter substitution, a backtick, a
// quote. Workflows often put changed file names into a script (`run: echo "${{ steps.changed.outputs.files }}"`).
// `;`, `|`, `&`, spaces, `[]` and `()` stay allowed: real projects use them (`[id].tsx`, `(group)/`,
// `Foo$Bar.class`), and they only break a script that leaves the names unquoted.
const SHELL_SYNTAX = /[`"]|\$[({]/;

/** Why a path segment may not come back whatever it holds, or undefined. */
export function nameRefusal(segment: string): string | undefined {
  if (UNSAFE_NAME.test(segment)) return 'the name holds a control or bidi character: a later step reading names a line at a time (or a reviewer) would see another name';
  if (SHELL_SYNTAX.test(segment)) return 'the name holds shell syntax ($(, ${, a backtick or a double quote): a later step that puts file names into a script, even in double quotes, would run it';
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// PEP 263: pip decodes a requirements file in the encoding its first two lines declare.
const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;
const PLAIN_CODINGS = /^(utf[-_]?8|(us[-_]?)?ascii)$/i;

/**
 * A file's content as a `when` rule may judge it, or undefined (judged as matching) when it is not
 * plain UTF-8: NUL bytes, invalid UTF-8 (a UTF-16 or UTF-32 byte-order mark among them), or a coding
 * line naming another encoding. Tools decode such files their own way (pip honours a UTF-16 mark and
 * `# -*- coding: utf-7 -*-`), so a pattern over the UTF-8 reading would miss the `--index-url` that
 * pip then reads. A UTF-8 byte-order mark is dropped.
 */
export function judgedText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  for (const line of text.split('\n', 2)) {
    const coding = CODING.exec(line);
    if (coding && !PLAIN_CODINGS.test(coding[1])) return undefined;
  }
  return text;
}

/**
 * The rule refusing `rel`, or undefined. `content` is asked for only by rules with `when`; a deletion
 * (no content) of a listed file is always refused.
 */
export function kindRefusal(policy: BoundaryPolicy, rel: string, content?: () => string | undefined): string | undefined {
  if (policy.allow.some((g) => g.matches(rel))) return undefined;
  for (const rule of policy.kinds) {
    if (!rule.globs.some((g) => g.matches(rel))) continue;
    if (rule.when && content) {
      const text = content();
      if (text !== undefined && !rule.when.test(text)) continue;
    }
    return rule.reason;
  }
  return undefined;
}

/** Why a file whose content a later step's printing would turn into a steering workflow command may not come back (--allow-path lifts it). */
export function printedRefusal(policy: BoundaryPolicy, rel: string, command: string | undefined): string | undefined {
  if (command === undefined || policy.allow.some((g) => g.matches(rel))) return undefined;
  return printedCommandReason(command);
}

/** The reason a whole folder is refused (a `DIR/**` rule), when no --allow-path could lift part of it. */
export function folderRefusal(policy: BoundaryPolicy, rel: string): string | undefined {
  if (policy.allow.length > 0) return undefined;
  return policy.kinds.find((rule) => rule.globs.some((g) => g.coversFolder(rel)))?.reason;
}

/** Values of the keys matching `pattern` in a config file and what it includes, in one git call. */
function gitConfigEntries(configFile: string, pattern: string): [string, string][] {
  try {
    const out = execFileSync('git', ['config', '--file', configFile, '--includes', '--null', '--get-regexp', pattern], {
      encoding: 'utf8',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    // --null: "key\nvalue\0" per entry.
    return out.split('\0').filter(Boolean).map((entry) => {
      const at = entry.indexOf('\n');
      return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    });
  } catch {
    return []; // no such key (exit 1), or no git: nothing to add
  }
}

/**
 * Folders and files the real repository's git config makes git run or read: `core.hooksPath` (husky,
 * lefthook, .githooks) and `include.path` targets inside the workspace. Read from the real config
 * before the agent starts; the agent's copy of the config is never read.
 */
export function gitConfigRules(workspace: string): FileKindRule[] {
  const config = path.join(workspace, '.git', 'config');
  try {
    if (!fs.lstatSync(config).isFile()) return [];
    // Most configs name neither: skip starting git for them.
    if (!/hookspath|include/i.test(fs.readFileSync(config, 'utf8'))) return [];
  } catch {
    return [];
  }
  const rules: FileKindRule[] = [];
  // `~/` is the caller's HOME, never inside the workspace.
  const inside = (value: string, base: string): string | undefined => {
    const abs = path.resolve(base, value.replace(/^~(?=\/)/, '/nonexistent'));
    const rel = path.relative(workspace, abs);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
    return rel.split(path.sep).join('/');
  };
  for (const [key, value] of gitConfigEntries(config, '^(core\\.hookspath|include\\.path|includeif\\..*\\.path)$')) {
    if (key === 'core.hookspath') {
      const rel = inside(value, workspace);
      if (rel) rules.push({ globs: [compileGlob(`/${rel}/**`)], reason: `git runs the hooks in ${rel} (core.hooksPath) at the next commit` });
    } else {
      const rel = inside(value, path.join(workspace, '.git'));
      if (rel) rules.push({ globs: [compileGlob(`/${rel}`)], reason: 'the repository git config includes this file (include.path)' });
    }
  }
  return rules;
}

export function buildPolicy(workspace: string, allowPaths: string[], hidden: string[] = []): BoundaryPolicy {
  return {
    kinds: [...gitConfigRules(workspace), ...builtinFileKinds()], allow: allowPaths.map(compileGlob), workspace, hidden,
    linkTargets: { seen: new Map(), budget: LINK_LOOK_BUDGET },
  };
}

/** Where a link's target lands, workspace-relative and normalised; undefined when it leaves the workspace. */
function linkDestination(workspace: string, rel: string, target: string): string | undefined {
  let resolved: string;
  if (path.posix.isAbsolute(target)) {
    if (target !== workspace && !target.startsWith(workspace + '/')) return undefined;
    resolved = path.posix.normalize(target.slice(workspace.length + 1) || '.');
  } else {
    resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
  }
  return resolved === '..' || resolved.startsWith('../') ? undefined : resolved.replace(/\/$/, '');
}

/** Why a symlink's target leaves the workspace or enters .git, lexically; undefined when it stays. */
export function symlinkEscape(workspace: string, rel: string, target: string): string | undefined {
  const resolved = linkDestination(workspace, rel, target);
  if (resolved === undefined) return 'which points outside the workspace';
  if (resolved.split('/').some(isGitName)) return 'which points into .git';
  return undefined;
}

/**
 * Every name a link's target walks through must be a real folder or file, never another link: `a ->
 * sub/c/../..` is harmless lexically, but with `sub/c -> ..` the kernel would climb out of the
 * workspace. The target is walked as written, `..` by `..`, not normalised; `isLink` is asked about
 * each name on the way, in order.
 */
export function linkRouteRefusal(workspace: string, rel: string, target: string, isLink: (rel: string) => boolean): string | undefined {
  const escape = symlinkEscape(workspace, rel, target);
  if (escape) return `its target ${escape}`;
  const absolute = path.posix.isAbsolute(target);
  const parts = (absolute ? target.slice(workspace.length + 1) : target).split('/');
  const at = absolute ? [] : rel.split('/').slice(0, -1);
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) return 'its target climbs out of the workspace';
      at.pop();
      continue;
    }
    at.push(part);
    if (isLink(at.join('/'))) return `its target passes through ${at.join('/')}, a symlink`;
  }
  return undefined;
}

const GIT_SEARCH_LIMIT = 10_000;

/**
 * What the real tree holds at `rel`, walked with lstat and never through a link (the apply refuses a
 * link whose route has one anyway): a FIFO, socket or device ('special', a later `cat` would hang or
 * read a device), a folder holding anything named like .git ('git'), a folder too large to look
 * through ('too large'), or else 'plain'. Remembered per path, and bounded across all links.
 */
function targetKind(policy: BoundaryPolicy, rel: string): TargetKind {
  const cached = policy.linkTargets.seen.get(rel);
  if (cached) return cached;
  const kind = lookAt(policy, rel);
  policy.linkTargets.seen.set(rel, kind);
  return kind;
}

function lookAt(policy: BoundaryPolicy, rel: string): TargetKind {
  const { workspace } = policy;
  let at = workspace;
  const parts = rel.split('/');
  for (const [i, part] of parts.entries()) {
    at += `/${part}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(at);
    } catch {
      return 'plain';
    }
    if (i < parts.length - 1 && !st.isDirectory()) return 'plain';
    if (i === parts.length - 1 && !st.isDirectory()) return st.isFile() || st.isSymbolicLink() ? 'plain' : 'special';
  }
  let seen = 0;
  const pending = [rel];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(`${workspace}/${dir}`, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (isGitName(entry.name)) return 'git';
      if (++seen > GIT_SEARCH_LIMIT || --policy.linkTargets.budget < 0) return 'too large';
      if (entry.isDirectory()) pending.push(`${dir}/${entry.name}`);
    }
  }
  return 'plain';
}

/**
 * Why a symlink may not come back: its target leaves the workspace or enters .git (lexically), or is
 * something a later step must not reach through a name the agent chose: the whole workspace, a
 * credential file the jail hid (or a folder holding one), a folder holding a git repository (whose
 * config can hold a checkout token), a FIFO or device. A later `cat report.md` or an upload of
 * `reports/` follows links.
 */
export function linkRefusal(policy: BoundaryPolicy, rel: string, target: string): string | undefined {
  const escape = symlinkEscape(policy.workspace, rel, target);
  if (escape) return `a symlink to ${JSON.stringify(target)}, ${escape}`;
  const to = linkDestination(policy.workspace, rel, target)!;
  const why = (what: string) => `a symlink to ${JSON.stringify(target)}, which points at ${what}`;
  if (to === '.') return why('the whole workspace, .git and the files the jail hid included');
  if (policy.hidden.some((h) => to === h || to.startsWith(h + '/'))) return why('a credential file the jail hid from the agent');
  if (policy.hidden.some((h) => h.startsWith(to + '/'))) return why('a folder holding a credential file the jail hid from the agent');
  const kind = targetKind(policy, to);
  if (kind === 'git') return why('a folder holding a git repository (its config can hold a token)');
  if (kind === 'special') return why('a FIFO, socket or device (a later read would hang or read the device)');
  if (kind === 'too large') return why('a folder too large to check for a git repository');
  return undefined;
}
