// The online pre-pass. lint is synchronous and reads nothing from the network, so before it runs we
// walk the repository's workflows, collect the remote `uses:` they make (reusable workflows at job
// level, actions at step level, and local `./` files on the way), fetch each at the commit its ref
// names, parse it, and follow its own `uses:` in turn — breadth first, so every file is reached at its
// shortest distance, up to a depth limit, each `uses:` once (which also ends cycles). The result is a
// RemoteResolver over what was fetched, which lint's expansion (src/analysis/instances.ts) reads.
//
// Not fetched, by design: known agent actions (modelled from rules/agents.yml), GitHub's own
// `actions/*` and `github/*`, and docker actions (`docker://` images: there is no YAML to read).

import fs from 'node:fs';
import path from 'node:path';
import { matchAgentAction } from '../analysis/agents';
import { discover, MAX_FILE_BYTES, type RemoteFile, type RemoteResolver } from '../workflow/load';
import { buildAction, buildWorkflow, looksLikeAction } from '../workflow/model';
import { loadYaml, makeSourceFile } from '../workflow/yaml';
import { GitHubError, type GitHubClient } from './github';
import { describeRef, isCommitSha, isDockerUses, isFirstPartyAction, isWorkflowPath, parseRemoteUses } from './uses';

export const DEFAULT_MAX_DEPTH = 4;

type Kind = 'action' | 'workflow';

/** A `uses:` to follow. `local`: a `./` path in the repository being linted (its workspace). */
interface Use {
  kind: Kind;
  uses: string;
  local: boolean;
}

interface Fetched {
  file: RemoteFile;
  nested: Use[];
}

type Got = { ok: true; value: Fetched } | { ok: false; error: string };

/**
 * Remote files by `uses:`, fetched once per run however many repositories ask (an organisation's
 * repositories often call the same shared workflow).
 */
export class RemoteStore {
  private readonly memo = new Map<string, Promise<Got>>();

  constructor(readonly client: GitHubClient) {}

  get(kind: Kind, uses: string): Promise<Got> {
    const key = `${kind}:${uses}`;
    let got = this.memo.get(key);
    if (!got) this.memo.set(key, (got = this.fetch(kind, uses)));
    return got;
  }

  /** How many distinct remote files were asked for, and how many could not be read. */
  get counts(): { asked: number } {
    return { asked: this.memo.size };
  }

  private async fetch(kind: Kind, uses: string): Promise<Got> {
    const ref = parseRemoteUses(uses);
    if (!ref) return { ok: false, error: `cannot follow '${uses}': not an owner/repo[/path]@ref reference` };
    if (kind === 'workflow' && !isWorkflowPath(ref.path)) return { ok: false, error: `'${uses}' is not a reusable workflow (those live in .github/workflows/)` };
    try {
      const sha = await this.client.resolveRef(ref.owner, ref.repo, ref.ref);
      const candidates = kind === 'workflow' ? [ref.path] : ['action.yml', 'action.yaml'].map((n) => (ref.path ? `${ref.path}/${n}` : n));
      for (const file of candidates) {
        const text = await this.client.fileAt(ref.owner, ref.repo, sha, file);
        if (text === null) continue;
        if (Buffer.byteLength(text) > MAX_FILE_BYTES) return { ok: false, error: `${describeRef(ref)}: file too large to be a workflow or action` };
        const shown = isCommitSha(ref.ref) ? ref.ref.slice(0, 12) : ref.ref;
        const display = `${ref.owner}/${ref.repo}/${file}@${shown}`;
        const remote: RemoteFile = { display, text, repository: `${ref.owner}/${ref.repo}`, commit: sha };
        return { ok: true, value: { file: remote, nested: usesIn(kind, text, display, { repository: remote.repository!, commit: sha }) } };
      }
      const at = `${ref.ref}${isCommitSha(ref.ref) ? '' : ` (${sha.slice(0, 7)})`}`;
      return {
        ok: false,
        error: kind === 'workflow' ? `${describeRef(ref)}: no such file at ${at} (404)` : `${describeRef(ref)}: no action.yml or action.yaml at ${at} (404)`,
      };
    } catch (err) {
      return { ok: false, error: err instanceof GitHubError ? err.message : `internal error: ${(err as Error).message}` };
    }
  }
}

export interface RootFile {
  /** Path relative to the repository root, e.g. `.github/workflows/ci.yml`. */
  path: string;
  text: string;
}

export interface PrefetchOptions {
  store: RemoteStore;
  /** Remote hops followed from the repository (default 4). */
  maxDepth?: number;
  /** A file of the repository being linted, by path relative to its root; null when it has none. */
  readLocal(relPath: string): Promise<string | null>;
}

export interface PrefetchResult {
  resolver: RemoteResolver;
  /** Files of the repository read to follow `./` uses (local actions, called workflows), by path. */
  localFiles: Map<string, string>;
  /** Remote files fetched and parsed. */
  followed: string[];
  /** Remote `uses:` that could not be followed, with why. */
  failed: { uses: string; error: string }[];
}

/** Follows the remote `uses:` of one repository's workflows (see the top of this file). */
export async function prefetchRemote(roots: RootFile[], options: PrefetchOptions): Promise<PrefetchResult> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const results = new Map<string, RemoteFile | { error: string }>();
  const localFiles = new Map<string, string>();
  const queued = new Set<string>();
  const walkedLocal = new Set<string>(roots.map((r) => normalise(r.path) ?? r.path));

  const enqueue = (u: Use, into: Use[]) => {
    const key = `${u.kind}:${u.uses}`;
    if (queued.has(key)) return;
    queued.add(key);
    into.push(u);
  };

  /** Walks a local file (and local files it uses); remote uses go to `into`. */
  const walkLocal = async (u: Use, into: Use[]): Promise<void> => {
    const rel = normalise(u.uses.replace(/@.*$/, ''));
    if (rel === null) return;
    const candidates = u.kind === 'workflow' ? [rel] : ['action.yml', 'action.yaml'].map((n) => path.posix.join(rel, n));
    for (const file of candidates) {
      if (walkedLocal.has(file)) return;
      const text = await options.readLocal(file).catch(() => null);
      if (text === null) continue;
      walkedLocal.add(file);
      localFiles.set(file, text);
      await walkUses(usesIn(u.kind, text, file), into);
      return;
    }
  };

  const walkUses = async (uses: Use[], into: Use[]) => {
    for (const n of uses) {
      if (n.local) await walkLocal(n, into);
      else enqueue(n, into);
    }
  };

  let frontier: Use[] = [];
  for (const root of roots) await walkUses(usesIn('workflow', root.text, root.path), frontier);
  for (let depth = 1; frontier.length; depth++) {
    const next: Use[] = [];
    await Promise.all(
      frontier.map(async (u) => {
        const key = `${u.kind}:${u.uses}`;
        if (depth > maxDepth) {
          results.set(key, { error: `not followed: more than ${maxDepth} hops from the repository` });
          return;
        }
        const got = await options.store.get(u.kind, u.uses);
        if (!got.ok) {
          results.set(key, { error: got.error });
          return;
        }
        results.set(key, got.value.file);
        await walkUses(got.value.nested, next);
      }),
    );
    frontier = next;
  }

  const followed: string[] = [];
  const failed: { uses: string; error: string }[] = [];
  for (const [key, value] of results) {
    const uses = key.slice(key.indexOf(':') + 1);
    if ('error' in value) failed.push({ uses, error: value.error });
    else followed.push(value.display);
  }
  return { resolver: mapResolver(results), localFiles, followed: followed.sort(), failed: failed.sort((a, b) => (a.uses < b.uses ? -1 : a.uses > b.uses ? 1 : 0)) };
}

function mapResolver(results: Map<string, RemoteFile | { error: string }>): RemoteResolver {
  return {
    action: (uses) => results.get(`action:${uses.trim()}`) ?? null,
    workflow: (uses) => results.get(`workflow:${uses.trim()}`) ?? null,
  };
}

/** The first answer among resolvers: a file over an error, an error over nothing. */
export function mergeResolvers(resolvers: RemoteResolver[]): RemoteResolver {
  const pick = (answers: ReturnType<RemoteResolver['action']>[]) => answers.find((a) => a && !('error' in a)) ?? answers.find((a) => a) ?? null;
  return {
    action: (uses) => pick(resolvers.map((r) => r.action(uses))),
    workflow: (uses) => pick(resolvers.map((r) => r.workflow(uses))),
  };
}

/**
 * The `uses:` of a workflow or action text. Job-level `./` in a remote workflow names a workflow of
 * that repository at the same commit; step-level `./` always names the workspace (the repository
 * being linted), wherever the step is defined.
 */
function usesIn(kind: Kind, text: string, display: string, remote?: { repository: string; commit: string }): Use[] {
  let root;
  try {
    root = loadYaml(makeSourceFile(display, text));
  } catch {
    return []; // lint reports the YAML error
  }
  const out: Use[] = [];
  const step = (uses: string | undefined) => {
    if (!uses) return;
    if (uses.startsWith('./')) return out.push({ kind: 'action', uses, local: true });
    if (isDockerUses(uses) || matchAgentAction(uses)) return;
    const ref = parseRemoteUses(uses);
    if (ref && isFirstPartyAction(ref)) return;
    out.push({ kind: 'action', uses: uses.trim(), local: false });
  };
  if (kind === 'action' || looksLikeAction(root)) {
    const action = buildAction(makeSourceFile(display, text), root);
    if (action.using === 'composite') for (const s of action.steps) step(s.uses?.text);
    return out;
  }
  const workflow = buildWorkflow(makeSourceFile(display, text), root);
  for (const job of workflow.jobs) {
    const uses = job.uses?.text.trim();
    if (uses?.startsWith('./')) {
      if (remote) out.push({ kind: 'workflow', uses: `${remote.repository}/${uses.slice(2).replace(/@.*$/, '')}@${remote.commit}`, local: false });
      else out.push({ kind: 'workflow', uses, local: true });
    } else if (uses) {
      out.push({ kind: 'workflow', uses, local: false });
    }
    for (const s of job.steps) step(s.uses?.text);
  }
  return out;
}

/** `./a/b/` → `a/b`; null for paths that leave the repository. */
function normalise(rel: string): string | null {
  const n = path.posix.normalize(rel.replace(/\\/g, '/')).replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (!n || n === '.' || n.startsWith('../') || n === '..' || n.startsWith('/')) return null;
  return n;
}

/**
 * `lint --online`: follows the remote uses of the workflows under `paths` (read from disk), one
 * repository per discovered root. Unreadable paths are left for lint to report.
 */
export async function prefetchPaths(paths: string[], store: RemoteStore, maxDepth?: number): Promise<PrefetchResult> {
  const results: PrefetchResult[] = [];
  for (const set of discover(paths, [])) {
    const readLocal = async (rel: string): Promise<string | null> => {
      const abs = path.resolve(set.root, rel);
      const inside = path.relative(set.root, abs);
      if (inside.startsWith('..') || path.isAbsolute(inside)) return null;
      try {
        const stat = fs.statSync(abs);
        return stat.isFile() && stat.size <= MAX_FILE_BYTES ? fs.readFileSync(abs, 'utf8') : null;
      } catch {
        return null;
      }
    };
    const roots: RootFile[] = [];
    for (const abs of set.files) {
      const text = await readLocal(path.relative(set.root, abs));
      if (text !== null) roots.push({ path: path.relative(set.root, abs).split(path.sep).join('/'), text });
    }
    results.push(await prefetchRemote(roots, { store, maxDepth, readLocal }));
  }
  return {
    resolver: mergeResolvers(results.map((r) => r.resolver)),
    localFiles: new Map(results.flatMap((r) => [...r.localFiles])),
    followed: [...new Set(results.flatMap((r) => r.followed))].sort(),
    failed: results.flatMap((r) => r.failed),
  };
}
