// The on-disk cache of the online mode. What is keyed by a commit never changes, so it is kept
// forever: file contents (`owner/repo@sha:path`, including "not there"), workflow listings of a tree.
// What can change (a ref's commit, a page of an organisation's repositories) is kept with its ETag and
// revalidated with a conditional request, which GitHub answers 304 without counting it against the
// rate limit.
//
// Layout: <dir>/v1/<namespace>/<2 hex>/<sha256 of key>.json holding { key, value }. Writes go to a
// temporary file renamed into place, so a reader never sees half a file and concurrent runs are safe.
// A cache that cannot be written (read-only home) turns itself off after one warning.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type CacheSpace = 'content' | 'ref' | 'tree' | 'list' | 'head';

/** `AGENT_GUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/agent-guard`, else `~/.cache/agent-guard`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AGENT_GUARD_CACHE_DIR) return path.resolve(env.AGENT_GUARD_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'agent-guard');
}

export class DiskCache {
  private dir: string | null;
  private warned = false;
  hits = 0;
  writes = 0;

  /** `dir` null: a cache that remembers nothing (`--no-cache`). */
  constructor(dir: string | null, private readonly warn: (message: string) => void = () => {}) {
    this.dir = dir ? path.join(dir, 'v1') : null;
  }

  get enabled(): boolean {
    return this.dir !== null;
  }

  get<T>(space: CacheSpace, key: string): T | undefined {
    if (!this.dir) return undefined;
    try {
      const stored = JSON.parse(fs.readFileSync(this.file(space, key), 'utf8')) as { key?: unknown; value?: T };
      if (stored.key !== key || stored.value === undefined) return undefined;
      this.hits++;
      return stored.value;
    } catch {
      return undefined; // missing or unreadable: fetch again
    }
  }

  set(space: CacheSpace, key: string, value: unknown): void {
    if (!this.dir) return;
    const file = this.file(space, key);
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify({ key, value }));
      fs.renameSync(tmp, file);
      this.writes++;
    } catch (err) {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // nothing to clean
      }
      if (!this.warned) {
        this.warned = true;
        this.warn(`cache disabled: cannot write ${this.dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      this.dir = null;
    }
  }

  private file(space: CacheSpace, key: string): string {
    const hash = crypto.createHash('sha256').update(key).digest('hex');
    return path.join(this.dir!, space, hash.slice(0, 2), `${hash}.json`);
  }
}
