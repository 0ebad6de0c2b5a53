// `agent-guard scan --org ORG`: list an organisation's repositories, and for each one read its
// workflows at the head of its default branch through the API, follow their remote `uses:` (shared
// across repositories: a workflow many repositories call is fetched once), and lint them from memory.
// A repository that fails (no access, empty, rate limit, broken YAML) is recorded with why, and the
// scan goes on with the others.

import { applyBaseline, parseBaseline } from '../baseline';
import { ConfigError, parseConfig, type Config } from '../config';
import { globMatch } from '../glob';
import { lint } from '../lint';
import type { LintResult } from '../checks/types';
import { GitHubError, type ClientStats, type GitHubClient, type RepoInfo } from './github';
import { prefetchRemote, RemoteStore } from './prefetch';

export interface ScanOptions {
  org: string;
  client: GitHubClient;
  /** Globs over `name` or `owner/name`; a repository is scanned when one matches (all when empty). */
  repoFilter?: string[];
  includeArchived?: boolean;
  includeForks?: boolean;
  /** Remote hops followed from each repository. */
  maxDepth?: number;
  config?: Config;
  /** Repositories worked on at once (default 8; requests are bounded separately by the client). */
  concurrency?: number;
  /** Called once the repositories to scan are known. */
  onStart?(total: number): void;
  /** Called as each repository finishes. */
  onRepository?(outcome: RepoOutcome, done: number, total: number): void;
}

export type RepoStatus = 'scanned' | 'no-workflows' | 'empty' | 'failed';

export interface RepoOutcome {
  repo: RepoInfo;
  status: RepoStatus;
  /** The commit scanned (head of the default branch). */
  commit?: string;
  /** Why it failed or was not scanned. */
  error?: string;
  /**
   * The failure is the repository's own agent-guard file (its config or baseline does not load):
   * its required check stops on the same error.
   */
  configError?: boolean;
  /** Findings after the repository's baseline, as its required check reports them. */
  result?: LintResult;
  /** Findings its baseline (.github/agent-guard-baseline.json) records: not in `result`. */
  baselined?: number;
  /** Remote `uses:` whose file could not be fetched. */
  unfollowed: { uses: string; error: string }[];
}

export interface ScanResult {
  org: string;
  /** Repositories the listing returned. */
  listed: number;
  skipped: { archived: number; forks: number; disabled: number; filtered: number };
  repos: RepoOutcome[];
  stats: ClientStats & { durationMs: number; cacheHits: number; remoteFiles: number };
}

/** Throws a GitHubError only when the listing itself fails; a repository's failure is recorded instead. */
export async function scanOrganisation(options: ScanOptions): Promise<ScanResult> {
  const started = performance.now();
  const { client } = options;
  const listed = await client.listRepositories(options.org);
  const skipped = { archived: 0, forks: 0, disabled: 0, filtered: 0 };
  const chosen: RepoInfo[] = [];
  for (const repo of listed) {
    if (options.repoFilter?.length && !options.repoFilter.some((g) => globMatch(g, repo.fullName) || globMatch(g, repo.name))) skipped.filtered++;
    else if (repo.archived && !options.includeArchived) skipped.archived++;
    else if (repo.fork && !options.includeForks) skipped.forks++;
    else if (repo.disabled) skipped.disabled++;
    else chosen.push(repo);
  }
  options.onStart?.(chosen.length);

  const store = new RemoteStore(client);
  const outcomes: RepoOutcome[] = new Array(chosen.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < chosen.length) {
      const index = next++;
      outcomes[index] = await scanRepository(chosen[index], store, options);
      done++;
      options.onRepository?.(outcomes[index], done, chosen.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(chosen.length, Math.max(1, options.concurrency ?? 8)) }, worker));

  return {
    org: options.org,
    listed: listed.length,
    skipped,
    repos: outcomes,
    stats: { ...client.stats, durationMs: Math.round(performance.now() - started), cacheHits: client.cache.hits, remoteFiles: store.counts.asked },
  };
}

async function scanRepository(repo: RepoInfo, store: RemoteStore, options: ScanOptions): Promise<RepoOutcome> {
  const client = options.client;
  try {
    const commit = await client.headOf(repo);
    const tree = await client.treeOf(repo.owner, repo.name, commit);
    if (!tree.workflows.length) return { repo, status: 'no-workflows', commit, unfollowed: [] };
    const roots = await Promise.all(tree.workflows.map(async (w) => ({ path: w.path, text: await client.blob(repo.owner, repo.name, w.sha) })));
    // Local actions: a complete tree says whether they exist, so a missing one costs no request.
    const readLocal = async (rel: string) => {
      const blob = tree.blobs[rel];
      if (blob) return client.blob(repo.owner, repo.name, blob);
      return tree.complete ? null : client.fileAt(repo.owner, repo.name, commit, rel);
    };
    const prefetched = await prefetchRemote(roots, { store, readLocal, maxDepth: options.maxDepth });
    const files = [...roots, ...[...prefetched.localFiles].map(([path, text]) => ({ path, text }))];
    const readRoot = (name: string) => (tree.blobs[name] ? client.blob(repo.owner, repo.name, tree.blobs[name]) : tree.complete ? Promise.resolve(null) : client.fileAt(repo.owner, repo.name, commit, name));
    const config = options.config ?? (await repositoryConfig(readRoot));
    const result = lint({ paths: [], files, remote: prefetched.resolver, config, repository: repo.fullName });
    // The baseline the required workflow template passes when the file exists: findings it records
    // do not fail the repository's check, so they are counted here, not reported.
    const baselineText = await readRoot(BASELINE_FILE);
    if (baselineText === null) return { repo, status: 'scanned', commit, result, baselined: 0, unfollowed: prefetched.failed };
    const { fresh, known } = applyBaseline(result.findings, parseBaseline(BASELINE_FILE, baselineText), '/', '/');
    return { repo, status: 'scanned', commit, result: { ...result, findings: fresh }, baselined: known.length, unfollowed: prefetched.failed };
  } catch (err) {
    if (err instanceof ConfigError) return { repo, status: 'failed', error: err.message, configError: true, unfollowed: [] };
    if (err instanceof GitHubError && err.kind === 'empty') return { repo, status: 'empty', error: 'the repository is empty', unfollowed: [] };
    const message = err instanceof GitHubError ? err.message : `internal error: ${(err as Error).message}`;
    return { repo, status: 'failed', error: message, unfollowed: [] };
  }
}

/** Where the required workflow (.github/workflows/agent-guard.yml) finds a repository's baseline. */
export const BASELINE_FILE = '.github/agent-guard-baseline.json';

/**
 * The repository's own `.github/agent-guard.yml` (its ignores, trusted users, extra agents), as
 * `lint` would read it locally. Used when the scan was given no `--config`.
 */
async function repositoryConfig(read: (path: string) => Promise<string | null>): Promise<Config | undefined> {
  for (const name of ['.github/agent-guard.yml', '.github/agent-guard.yaml']) {
    const text = await read(name);
    if (text !== null) return parseConfig(name, text);
  }
  return undefined;
}
