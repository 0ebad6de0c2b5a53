// The GitHub REST client of the online mode, over @octokit/core (its `request()` is all we use;
// @octokit/rest adds only generated method names, 13% of dist). It adds what a scan of hundreds of
// repositories needs and Octokit leaves to its plugins:
//   - bounded concurrency (a semaphore around every request);
//   - the cache: contents by commit, ref → commit and listing pages revalidated with If-None-Match;
//   - one promise per question per run, so 500 repositories calling one shared workflow ask once;
//   - rate limits: `x-ratelimit-*`, 403/429 and `retry-after` are read; on a limit the client either
//     waits until the reset (bounded) or stops, and every later request fails fast with one message;
//   - failures turned into a GitHubError with a kind and a one-line message (404 / private, 403,
//     rate limit, network), never a stack trace.

import { Octokit } from '@octokit/core';
import type { DiskCache } from './cache';
import { isCommitSha, isWorkflowPath, repoKey } from './uses';

export type RateLimitPolicy = 'wait' | 'stop';

export type FailureKind = 'not-found' | 'forbidden' | 'auth' | 'rate-limit' | 'empty' | 'network' | 'server' | 'invalid';

export class GitHubError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  token?: string;
  /** The REST API root (`GITHUB_API_URL` on runners; https://api.github.com by default). */
  baseUrl?: string;
  cache: DiskCache;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  onRateLimit: RateLimitPolicy;
  /** The longest the client waits for a rate limit to reset, in total (default 15 minutes). */
  maxWaitMs?: number;
  /** Page size of listings (default 100, GitHub's maximum). */
  perPage?: number;
  userAgent?: string;
  /** One-line messages for the user (rate-limit waits, a cache that cannot be written). */
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface ClientStats {
  /** HTTP requests sent. */
  requests: number;
  /** Of those, answered 304 Not Modified (free: they do not count against the rate limit). */
  notModified: number;
  /** Answers that were a rate-limit refusal. */
  rateLimited: number;
  /** Milliseconds spent waiting for a rate limit to reset. */
  waitedMs: number;
  /** Recursive trees GitHub truncated (listed again through the contents API). */
  truncatedTrees: number;
}

export interface RepoInfo {
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  archived: boolean;
  fork: boolean;
  private: boolean;
  disabled: boolean;
  pushedAt: string | null;
  htmlUrl: string;
}

/** The YAML files of a commit (see GitHubClient.treeOf). */
export interface RepoTree {
  /** False when GitHub truncated the tree: `blobs` is then empty and says nothing about absence. */
  complete: boolean;
  workflows: { path: string; sha: string }[];
  /** Blob SHA of every `*.yml`/`*.yaml` by path (complete trees only). */
  blobs: Record<string, string>;
}

export const DEFAULT_API_URL = 'https://api.github.com';

interface Answer {
  status: number;
  data: unknown;
  headers: Record<string, string | undefined>;
}

interface RequestFailure {
  status?: number;
  message?: string;
  response?: { status: number; headers: Record<string, string | undefined>; data?: unknown };
}

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

export class GitHubClient {
  readonly stats: ClientStats = { requests: 0, notModified: 0, rateLimited: 0, waitedMs: 0, truncatedTrees: 0 };
  readonly baseUrl: string;
  readonly authenticated: boolean;
  private readonly octokit: Octokit;
  private readonly gate: Semaphore;
  private readonly memo = new Map<string, Promise<unknown>>();
  private readonly perPage: number;
  private readonly log: (line: string) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private waitBudgetMs: number;
  private waiting: Promise<void> | null = null;
  private stopped: string | null = null;
  /** Last `x-ratelimit-*` seen, for messages. */
  private limit: { limit?: string; remaining?: string; reset?: number } = {};

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = (options.baseUrl || DEFAULT_API_URL).replace(/\/+$/, '');
    this.authenticated = !!options.token;
    this.octokit = new Octokit({ auth: options.token || undefined, baseUrl: this.baseUrl, userAgent: options.userAgent ?? 'agent-guard', log: SILENT });
    this.gate = new Semaphore(Math.max(1, options.concurrency ?? 8));
    this.perPage = Math.min(100, Math.max(1, options.perPage ?? 100));
    this.log = options.log ?? (() => {});
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.waitBudgetMs = options.maxWaitMs ?? 15 * 60_000;
  }

  get cache(): DiskCache {
    return this.options.cache;
  }

  /** A ref (branch, tag, short or full SHA) → the full commit SHA. */
  resolveRef(owner: string, repo: string, ref: string): Promise<string> {
    if (isCommitSha(ref)) return Promise.resolve(ref.toLowerCase());
    const key = `${repoKey(owner, repo)}@${ref}`;
    return this.once(`ref:${key}`, async () => {
      const cached = this.cache.get<{ sha: string; etag: string }>('ref', key);
      const what = `${owner}/${repo}@${ref}`;
      const res = await this.request(
        'GET /repos/{owner}/{repo}/commits/{ref}',
        { owner, repo, ref, headers: { accept: 'application/vnd.github.sha', ...(cached ? { 'if-none-match': cached.etag } : {}) } },
        what,
      );
      if (res.status === 304 && cached) return cached.sha;
      const sha = textOf(res.data).trim().toLowerCase();
      if (!isCommitSha(sha)) throw new GitHubError('invalid', `${what}: GitHub did not answer with a commit SHA`);
      if (res.headers.etag) this.cache.set('ref', key, { sha, etag: res.headers.etag });
      return sha;
    });
  }

  /** A file's text at a commit; null when the commit has no such file. */
  fileAt(owner: string, repo: string, sha: string, path: string): Promise<string | null> {
    const key = `${repoKey(owner, repo)}@${sha}:${path}`;
    return this.once(`content:${key}`, async () => {
      const cached = this.cache.get<{ text: string } | { missing: true }>('content', key);
      if (cached) return 'text' in cached ? cached.text : null;
      let text: string | null;
      try {
        const res = await this.request(
          'GET /repos/{owner}/{repo}/contents/{path}',
          { owner, repo, path, ref: sha, headers: { accept: 'application/vnd.github.raw' } },
          `${owner}/${repo}/${path}@${sha.slice(0, 7)}`,
        );
        // A directory answers with its JSON listing even when the raw form is asked for.
        text = typeof res.data === 'string' || res.data instanceof ArrayBuffer ? textOf(res.data) : null;
      } catch (err) {
        if (!(err instanceof GitHubError) || err.kind !== 'not-found') throw err;
        text = null;
      }
      this.cache.set('content', key, text === null ? { missing: true } : { text });
      return text;
    });
  }

  /** The repositories of an organisation (or, failing that, of a user), every page. */
  listRepositories(org: string): Promise<RepoInfo[]> {
    return this.once(`list:${org.toLowerCase()}`, async () => {
      try {
        return await this.listPages('GET /orgs/{org}/repos', { org, type: 'all' }, `orgs/${org.toLowerCase()}/repos`, `organisation ${org}`);
      } catch (err) {
        if (!(err instanceof GitHubError) || err.kind !== 'not-found') throw err;
      }
      try {
        return await this.listPages('GET /users/{username}/repos', { username: org, type: 'owner' }, `users/${org.toLowerCase()}/repos`, `user ${org}`);
      } catch (err) {
        if (err instanceof GitHubError && err.kind === 'not-found') throw new GitHubError('not-found', `no organisation or user '${org}' (404)`, 404);
        throw err;
      }
    });
  }

  /**
   * The commit at the head of a repository's default branch. The listing's `pushed_at` changes with
   * every push, so while it is unchanged the commit found last time is still the head: no request.
   */
  async headOf(repo: RepoInfo): Promise<string> {
    const key = `${repoKey(repo.owner, repo.name)}#${repo.defaultBranch}`;
    const cached = this.cache.get<{ pushedAt: string; sha: string }>('head', key);
    if (cached && repo.pushedAt && cached.pushedAt === repo.pushedAt) return cached.sha;
    const sha = await this.resolveRef(repo.owner, repo.name, repo.defaultBranch);
    if (repo.pushedAt) this.cache.set('head', key, { pushedAt: repo.pushedAt, sha });
    return sha;
  }

  /**
   * The YAML files of a commit, from the recursive git tree: the workflows (`.github/workflows/*.yml`)
   * and every `*.yml`/`*.yaml` with its blob SHA, so that local actions are known present or absent
   * without a request. When GitHub truncates the tree (very large repositories) the workflows folder
   * is listed through the contents API instead, and other files are looked up one by one.
   */
  treeOf(owner: string, repo: string, sha: string): Promise<RepoTree> {
    const key = `${repoKey(owner, repo)}@${sha}`;
    return this.once(`tree:${key}`, async () => {
      const cached = this.cache.get<RepoTree>('tree', key);
      if (cached) return cached;
      const what = `${owner}/${repo}@${sha.slice(0, 7)}`;
      const res = await this.request('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', { owner, repo, tree_sha: sha, recursive: '1' }, what);
      const data = res.data as { tree?: { path?: unknown; type?: unknown; sha?: unknown }[]; truncated?: boolean };
      const blobs: Record<string, string> = {};
      for (const e of data.tree ?? []) {
        if (e.type === 'blob' && typeof e.path === 'string' && typeof e.sha === 'string' && /\.ya?ml$/i.test(e.path)) blobs[e.path] = e.sha;
      }
      let tree: RepoTree;
      if (data.truncated) {
        this.stats.truncatedTrees++;
        tree = { complete: false, workflows: await this.listWorkflowsDir(owner, repo, sha, what), blobs: {} };
      } else {
        tree = { complete: true, workflows: Object.keys(blobs).filter(isWorkflowPath).sort().map((path) => ({ path, sha: blobs[path] })), blobs };
      }
      this.cache.set('tree', key, tree);
      return tree;
    });
  }

  /**
   * A file by its blob SHA. Content-addressed, so identical files (an organisation's templated
   * workflows) are fetched once across every repository and kept forever.
   */
  blob(owner: string, repo: string, sha: string): Promise<string> {
    const key = `blob:${sha.toLowerCase()}`;
    return this.once(key, async () => {
      const cached = this.cache.get<{ text: string }>('content', key);
      if (cached) return cached.text;
      const res = await this.request('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', { owner, repo, file_sha: sha, headers: { accept: 'application/vnd.github.raw' } }, `${owner}/${repo} blob ${sha.slice(0, 7)}`);
      let text: string;
      if (typeof res.data === 'string' || res.data instanceof ArrayBuffer) text = textOf(res.data);
      else {
        const json = res.data as { content?: unknown; encoding?: unknown };
        text = typeof json.content === 'string' && json.encoding === 'base64' ? Buffer.from(json.content, 'base64').toString('utf8') : '';
      }
      this.cache.set('content', key, { text });
      return text;
    });
  }

  private async listWorkflowsDir(owner: string, repo: string, sha: string, what: string): Promise<{ path: string; sha: string }[]> {
    try {
      const res = await this.request('GET /repos/{owner}/{repo}/contents/{path}', { owner, repo, path: '.github/workflows', ref: sha }, what);
      const entries = Array.isArray(res.data) ? (res.data as { path?: unknown; type?: unknown; sha?: unknown }[]) : [];
      return entries
        .filter((e): e is { path: string; type: string; sha: string } => e.type === 'file' && typeof e.path === 'string' && typeof e.sha === 'string' && isWorkflowPath(e.path))
        .map((e) => ({ path: e.path, sha: e.sha }))
        .sort((a, b) => (a.path < b.path ? -1 : 1));
    } catch (err) {
      if (err instanceof GitHubError && err.kind === 'not-found') return [];
      throw err;
    }
  }

  private async listPages(route: string, params: Record<string, unknown>, key: string, what: string): Promise<RepoInfo[]> {
    const out: RepoInfo[] = [];
    for (let page = 1; page <= 1000; page++) {
      const pageKey = `${key}?per_page=${this.perPage}&page=${page}`;
      const cached = this.cache.get<{ etag: string; items: RepoInfo[]; next: boolean }>('list', pageKey);
      const res = await this.request(route, { ...params, per_page: this.perPage, page, headers: cached ? { 'if-none-match': cached.etag } : {} }, what);
      let items: RepoInfo[];
      let next: boolean;
      if (res.status === 304 && cached) {
        items = cached.items;
        next = cached.next;
      } else {
        if (!Array.isArray(res.data)) throw new GitHubError('invalid', `${what}: GitHub did not answer with a list of repositories`);
        items = (res.data as Record<string, unknown>[]).map(repoInfo).filter((r): r is RepoInfo => !!r);
        next = /<[^>]+>;\s*rel="next"/.test(res.headers.link ?? '');
        if (res.headers.etag) this.cache.set('list', pageKey, { etag: res.headers.etag, items, next });
      }
      out.push(...items);
      if (!next) break;
    }
    return out;
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) this.memo.set(key, (p = make()));
    return p;
  }

  /** One request through the semaphore, with rate-limit handling and one retry on network and 5xx errors. */
  private async request(route: string, params: Record<string, unknown>, what: string): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new GitHubError('rate-limit', this.stopped, 403);
      await this.gate.acquire();
      let failure: RequestFailure;
      try {
        if (this.stopped) throw new GitHubError('rate-limit', this.stopped, 403);
        this.stats.requests++;
        const res = await this.octokit.request(route, params);
        const headers = res.headers as Record<string, string | undefined>;
        this.noteLimits(headers);
        return { status: res.status, data: res.data, headers };
      } catch (err) {
        if (err instanceof GitHubError) throw err;
        failure = err as RequestFailure;
      } finally {
        this.gate.release();
      }
      const response = failure.response;
      const status = response?.status ?? failure.status ?? 0;
      const headers = response?.headers ?? {};
      if (response) this.noteLimits(headers);
      if (status === 304) {
        this.stats.notModified++;
        return { status, data: undefined, headers };
      }
      const message = cleanMessage(failure.message ?? '');
      if (!response) {
        if (attempt < 1) {
          await this.sleep(300);
          continue;
        }
        throw new GitHubError('network', `cannot reach ${this.baseUrl}: ${message || 'network error'}`);
      }
      if (isRateLimited(status, headers, message)) {
        this.stats.rateLimited++;
        await this.onRateLimit(headers);
        continue;
      }
      if (status >= 500 && attempt < 1) {
        await this.sleep(500);
        continue;
      }
      throw classify(status, message, what, this.authenticated);
    }
  }

  private noteLimits(headers: Record<string, string | undefined>): void {
    if (headers['x-ratelimit-remaining'] === undefined) return;
    const reset = Number(headers['x-ratelimit-reset']);
    this.limit = { limit: headers['x-ratelimit-limit'], remaining: headers['x-ratelimit-remaining'], reset: Number.isFinite(reset) ? reset : undefined };
  }

  /** Waits for the reset (sharing one wait among every request that hit the limit), or stops. */
  private async onRateLimit(headers: Record<string, string | undefined>): Promise<void> {
    if (this.stopped) throw new GitHubError('rate-limit', this.stopped, 403);
    const retryAfter = Number(headers['retry-after']);
    const reset = Number(headers['x-ratelimit-reset']);
    const now = Date.now();
    const waitMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : Number.isFinite(reset) ? Math.max(0, reset * 1000 - now) + 1000 : 60_000;
    const resetAt = new Date(now + waitMs);
    const secondary = Number.isFinite(retryAfter) && headers['x-ratelimit-remaining'] !== '0';
    const limit = headers['x-ratelimit-limit'] ?? this.limit.limit;
    const reached = secondary
      ? 'GitHub API secondary rate limit reached'
      : `GitHub API rate limit reached${limit ? ` (${limit} requests an hour${this.authenticated ? '' : ' without a token'})` : ''}`;
    const when = `it ${secondary ? 'lifts' : 'resets'} at ${resetAt.toISOString().slice(11, 19)} UTC, in ${duration(waitMs)}`;
    if (this.options.onRateLimit === 'stop' || waitMs > this.waitBudgetMs) {
      const why = this.options.onRateLimit === 'stop' ? 'stopped (--on-rate-limit stop; use --on-rate-limit wait to wait for it)' : `stopped: waiting would take longer than the ${duration(this.options.maxWaitMs ?? 15 * 60_000)} allowed`;
      const hint = this.authenticated ? '' : '; set GITHUB_TOKEN or GH_TOKEN for 5000 requests an hour';
      this.stopped = `${reached}; ${when}; ${why}${hint}`;
      this.log(this.stopped);
      throw new GitHubError('rate-limit', this.stopped, 403);
    }
    if (!this.waiting) {
      this.log(`${reached}; waiting ${duration(waitMs)} until ${resetAt.toISOString().slice(11, 19)} UTC (--on-rate-limit wait; Ctrl-C to stop)`);
      this.waitBudgetMs -= waitMs;
      this.stats.waitedMs += waitMs;
      this.waiting = this.sleep(waitMs).finally(() => {
        this.waiting = null;
      });
    }
    await this.waiting;
  }
}

function isRateLimited(status: number, headers: Record<string, string | undefined>, message: string): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  return headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined || /rate limit/i.test(message);
}

function classify(status: number, message: string, what: string, authenticated: boolean): GitHubError {
  const detail = message ? `: ${message}` : '';
  switch (status) {
    case 401:
      return new GitHubError('auth', `bad credentials (401): check GITHUB_TOKEN or GH_TOKEN`, status);
    case 403:
      return new GitHubError('forbidden', `${what}: forbidden (403)${detail}`, status);
    case 404:
      return new GitHubError(
        'not-found',
        `${what}: not found (404): it does not exist, or it is private and ${authenticated ? 'the token cannot read it' : 'no token was given (GITHUB_TOKEN or GH_TOKEN)'}`,
        status,
      );
    case 409:
      return new GitHubError('empty', `${what}: the repository is empty (409)`, status);
    case 422:
      return new GitHubError('not-found', `${what}: not found (422)${detail}`, status);
    default:
      return new GitHubError('server', `${what}: GitHub answered ${status}${detail}`, status);
  }
}

/** Octokit appends the docs URL to messages; one line is enough. */
function cleanMessage(message: string): string {
  return message.replace(/\s+-\s+https?:\/\/\S+$/, '').replace(/\s+/g, ' ').trim().slice(0, 200);
}

function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return '';
}

function repoInfo(r: Record<string, unknown>): RepoInfo | null {
  const fullName = typeof r.full_name === 'string' ? r.full_name : null;
  if (!fullName || !fullName.includes('/')) return null;
  const [owner, name] = fullName.split('/');
  return {
    owner,
    name,
    fullName,
    defaultBranch: typeof r.default_branch === 'string' && r.default_branch ? r.default_branch : 'main',
    archived: r.archived === true,
    fork: r.fork === true,
    private: r.private === true,
    disabled: r.disabled === true,
    pushedAt: typeof r.pushed_at === 'string' ? r.pushed_at : null,
    htmlUrl: typeof r.html_url === 'string' ? r.html_url : `https://github.com/${fullName}`,
  };
}

export function duration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly size: number) {}

  acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }
}
