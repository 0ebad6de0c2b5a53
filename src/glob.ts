// Globs in ignore lists (`ignore: - file: …`) and `scan --repo-filter`, with picomatch's semantics:
// `*` within a path segment, `**` across segments (and over none: `a/**/b` matches `a/b`), `?`,
// `[abc]`, `{a,b}`, and dotfiles matched like any other name (`.github/**`). `!` is a literal and
// extglobs are off: in an ignore list, a pattern that means "everything but" would hide findings.
//
// picomatch (like minimatch) compiles a glob to a backtracking regular expression, and a pattern with
// many wildcards takes time exponential in their number on a path that almost matches (`**a` × 8 on
// a 60-character path: over 40 s). Measured worst cases on a 250-character path: 3 wildcards 7 ms,
// 4 wildcards 330 ms. So a pattern has at most MAX_WILDCARDS, checked when the config is read.

import picomatch from 'picomatch';

export const MAX_WILDCARDS = 3;

const OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true };
const compiled = new Map<string, (path: string) => boolean>();

/** Why `pattern` cannot be used, or undefined when it can. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'an empty pattern';
  const wildcards = pattern.match(/\*+/g)?.length ?? 0;
  if (wildcards > MAX_WILDCARDS) {
    return `'${pattern}' has ${wildcards} wildcards; at most ${MAX_WILDCARDS} are allowed (each one more multiplies the time to match a path)`;
  }
  return undefined;
}

/**
 * Whether `file` matches `pattern`, or any trailing part of it that starts at a folder boundary: so
 * `legacy-*.yml` matches `.github/workflows/legacy-a.yml`, and `.github/workflows/*.yml` matches
 * whatever folder the repository was linted from.
 */
export function globMatch(pattern: string, file: string): boolean {
  let matcher = compiled.get(pattern);
  if (!matcher) {
    const problem = globProblem(pattern);
    if (problem) throw new Error(`glob ${problem}`);
    compiled.set(pattern, (matcher = picomatch(pattern, OPTIONS)));
  }
  const segments = file.replace(/\\/g, '/').replace(/^(\.\/)+/, '').split('/');
  for (let i = 0; i < segments.length; i++) if (matcher(segments.slice(i).join('/'))) return true;
  return false;
}
