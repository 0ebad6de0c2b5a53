// What may come back, path by path. Structural refusals (not regular data, or inside .git) cannot be
// lifted; tool configuration (rules/file-kinds.yml, and the folders the real repository's git config
// runs hooks from) can, with --allow-path.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builtinFileKinds, type FileKindRule } from './fileKinds';
import { compileGlob, type PathGlob } from './glob';

export interface BoundaryPolicy {
  kinds: FileKindRule[];
  allow: PathGlob[];
}

/** A path segment git reads as its own folder (case-insensitively, as on macOS and Windows checkouts). */
export function isGitName(segment: string): boolean {
  return segment.toLowerCase() === '.git';
}

export const GIT_REASON = "inside .git: the repository's metadata never comes back as files (commits come back as objects and a ref)";

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

export function buildPolicy(workspace: string, allowPaths: string[]): BoundaryPolicy {
  return { kinds: [...gitConfigRules(workspace), ...builtinFileKinds()], allow: allowPaths.map(compileGlob) };
}
