// Path globs for the boundary's rules and --allow-path: `*` and `?` stay within a path segment, `**`
// crosses segments. A pattern matches in any folder unless it starts with `/`, which anchors it at the
// workspace root. Matching ignores case: on a case-insensitive checkout (macOS, Windows, a casefold
// folder) `.NPMRC` is `.npmrc`. Compiled once: the change set of an `npm install` can hold thousands of paths.

export interface PathGlob {
  readonly source: string;
  /** The path itself matches. */
  matches(path: string): boolean;
  /** `DIR/**` patterns: the folder matches as a whole, so one refusal can stand for everything in it. */
  coversFolder(dir: string): boolean;
}

function toRegex(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '*' && body[i + 1] === '*') {
      // `**/` may match no folder at all; a final `**` matches anything below.
      if (body[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

export function compileGlob(pattern: string): PathGlob {
  const anchored = pattern.startsWith('/');
  const body = anchored ? pattern.slice(1) : pattern;
  if (!body || body.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`"${pattern}" is not a workspace path glob (no empty, "." or ".." segments)`);
  }
  const prefix = anchored ? '^' : '(?:^|/)';
  const whole = new RegExp(`${prefix}${toRegex(body)}$`, 'i');
  const folder = body.endsWith('/**') ? new RegExp(`${prefix}${toRegex(body.slice(0, -3))}$`, 'i') : undefined;
  return {
    source: pattern,
    matches: (path) => whole.test(path),
    coversFolder: (dir) => folder !== undefined && folder.test(dir),
  };
}
