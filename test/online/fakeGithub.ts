// A fake GitHub REST API on loopback, serving fixture repositories: just the endpoints the online
// mode calls, with GitHub's behaviour where it matters — pagination with `link` headers, ETags and
// 304s (which cost no rate limit), `x-ratelimit-*` headers and a 403 when the budget is spent, a
// secondary limit with `retry-after`, 404 for unknown and private repositories, 409 for an empty
// one, truncated recursive trees, and the raw / sha media types. Every request is recorded.
//
// Used by test/online/*.test.ts and by bench/online.mjs (bundled there with esbuild).

import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RepoOptions {
  defaultBranch?: string;
  archived?: boolean;
  fork?: boolean;
  /** Private and unreadable with any token: 404 everywhere, as GitHub answers. Listed only when `listed`. */
  hidden?: boolean;
  listed?: boolean;
  /** 403 on its tree and contents (a token without access to this repository's contents). */
  forbidden?: boolean;
  /** The recursive tree is answered truncated (the workflows must be listed through contents). */
  truncatedTree?: boolean;
  /** Extra refs (tags, branches) pointing at the first commit. */
  tags?: string[];
  /** No commits at all (409 from git endpoints). */
  empty?: boolean;
}

interface Repo {
  owner: string;
  name: string;
  options: RepoOptions;
  refs: Map<string, string>;
  commits: Map<string, Record<string, string>>;
  pushedAt: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  conditional: boolean;
}

export interface FakeGithubOptions {
  /** Largest page a listing returns (GitHub: 100). */
  maxPerPage?: number;
  /** Requests allowed per window before a 403 rate-limit answer (default: unlimited). */
  rateLimit?: number;
  /** Seconds until a spent budget resets. */
  rateLimitResetSeconds?: number;
  /** Milliseconds each answer is held back, to make concurrency observable. */
  latencyMs?: number;
}

export class FakeGithub {
  readonly requests: RecordedRequest[] = [];
  /** Most requests being answered at the same time. */
  maxInFlight = 0;
  private inFlight = 0;
  private readonly repos = new Map<string, Repo>();
  private readonly orgs = new Set<string>();
  private server: http.Server | null = null;
  private remaining: number;
  private resetAt = 0;
  private secondary: number | null = null;
  private clock = 0;

  constructor(readonly options: FakeGithubOptions = {}) {
    this.remaining = options.rateLimit ?? Infinity;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('fake GitHub is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const finish = () => {
        this.inFlight--;
      };
      const respond = () => {
        try {
          this.handle(req, res);
        } catch (err) {
          this.send(req, res, 500, { message: (err as Error).message });
        }
        finish();
      };
      if (this.options.latencyMs) setTimeout(respond, this.options.latencyMs);
      else respond();
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds an organisation (its listing answers at /orgs/NAME/repos; others only at /users/NAME/repos). */
  addOrg(name: string): this {
    this.orgs.add(name.toLowerCase());
    return this;
  }

  /** Adds a repository whose default branch holds `files`; returns its first commit. */
  addRepo(fullName: string, files: Record<string, string>, options: RepoOptions = {}): string {
    const [owner, name] = fullName.split('/');
    const repo: Repo = { owner, name, options, refs: new Map(), commits: new Map(), pushedAt: this.timestamp() };
    this.repos.set(fullName.toLowerCase(), repo);
    if (options.empty) return '';
    const sha = this.commit(repo, files);
    repo.refs.set(options.defaultBranch ?? 'main', sha);
    for (const tag of options.tags ?? []) repo.refs.set(tag, sha);
    return sha;
  }

  /** A new commit on a branch (default: the default branch), as a push does. */
  push(fullName: string, files: Record<string, string>, branch?: string): string {
    const repo = this.repo(fullName);
    const sha = this.commit(repo, files);
    repo.refs.set(branch ?? repo.options.defaultBranch ?? 'main', sha);
    repo.pushedAt = this.timestamp();
    return sha;
  }

  /** Points an existing ref at a commit (e.g. moving a tag). */
  setRef(fullName: string, ref: string, sha: string): void {
    this.repo(fullName).refs.set(ref, sha);
  }

  /** The next request gets a secondary rate limit: 403 with `retry-after: seconds`. */
  secondaryLimitOnce(seconds: number): void {
    this.secondary = seconds;
  }

  /** Spends the primary budget now: requests get 403 until `seconds` from now. */
  exhaustRateLimit(seconds: number): void {
    this.remaining = 0;
    this.resetAt = Date.now() + seconds * 1000;
  }

  resetCounters(): void {
    this.requests.length = 0;
    this.maxInFlight = 0;
  }

  /** Requests matching a path pattern (all by default). */
  count(pattern?: RegExp, filter?: (r: RecordedRequest) => boolean): number {
    return this.requests.filter((r) => (!pattern || pattern.test(r.path)) && (!filter || filter(r))).length;
  }

  /** Requests that count against the rate limit (everything but 304s). */
  get charged(): number {
    return this.requests.filter((r) => r.status !== 304).length;
  }

  // ---------------------------------------------------------------------------------------------

  private repo(fullName: string): Repo {
    const repo = this.repos.get(fullName.toLowerCase());
    if (!repo) throw new Error(`no fixture repository ${fullName}`);
    return repo;
  }

  private commit(repo: Repo, files: Record<string, string>): string {
    const sha = crypto
      .createHash('sha1')
      .update(`${repo.owner}/${repo.name}\0${this.clock++}\0${JSON.stringify(files)}`)
      .digest('hex');
    repo.commits.set(sha, { ...files });
    return sha;
  }

  private timestamp(): string {
    return new Date(Date.UTC(2026, 0, 1) + this.clock++ * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method !== 'GET') return this.send(req, res, 404, { message: 'Not Found' });

    // Rate limits come first, as on GitHub.
    if (this.secondary !== null) {
      const seconds = this.secondary;
      this.secondary = null;
      return this.send(req, res, 403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': String(seconds) });
    }
    if (this.remaining <= 0 && Date.now() >= this.resetAt) this.remaining = this.options.rateLimit ?? Infinity;
    if (this.remaining <= 0 && !this.isConditional(req)) {
      return this.send(req, res, 403, { message: 'API rate limit exceeded for 127.0.0.1. (But here\'s the good news: Authenticated requests get a higher rate limit.)' });
    }

    if (parts[0] === 'orgs' && parts[2] === 'repos' && parts.length === 3) {
      if (!this.orgs.has(parts[1].toLowerCase())) return this.send(req, res, 404, { message: 'Not Found' });
      return this.list(req, res, url, parts[1]);
    }
    if (parts[0] === 'users' && parts[2] === 'repos' && parts.length === 3) {
      const any = [...this.repos.values()].some((r) => r.owner.toLowerCase() === parts[1].toLowerCase());
      if (!any) return this.send(req, res, 404, { message: 'Not Found' });
      return this.list(req, res, url, parts[1]);
    }
    if (parts[0] !== 'repos' || parts.length < 4) return this.send(req, res, 404, { message: 'Not Found' });
    const repo = this.repos.get(`${parts[1]}/${parts[2]}`.toLowerCase());
    if (!repo || repo.options.hidden) return this.send(req, res, 404, { message: 'Not Found' });
    const rest = parts.slice(3);
    if (rest[0] === 'commits' && rest.length >= 2) return this.commitSha(req, res, repo, rest.slice(1).join('/'));
    if (repo.options.empty) return this.send(req, res, 409, { message: 'Git Repository is empty.' });
    if (repo.options.forbidden) return this.send(req, res, 403, { message: 'Resource not accessible by integration' });
    if (rest[0] === 'git' && rest[1] === 'trees' && rest.length >= 3) return this.tree(req, res, repo, rest.slice(2).join('/'), url.searchParams.get('recursive'));
    if (rest[0] === 'git' && rest[1] === 'blobs' && rest.length === 3) return this.blob(req, res, repo, rest[2]);
    if (rest[0] === 'contents') return this.contents(req, res, repo, rest.slice(1).join('/'), url.searchParams.get('ref'));
    return this.send(req, res, 404, { message: 'Not Found' });
  }

  private list(req: http.IncomingMessage, res: http.ServerResponse, url: URL, owner: string): void {
    const perPage = Math.min(this.options.maxPerPage ?? 100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30)));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const all = [...this.repos.values()]
      .filter((r) => r.owner.toLowerCase() === owner.toLowerCase() && (!r.options.hidden || r.options.listed))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const items = all.slice((page - 1) * perPage, page * perPage).map((r) => ({
      id: this.idOf(r),
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      owner: { login: r.owner },
      private: !!r.options.hidden,
      html_url: `https://github.com/${r.owner}/${r.name}`,
      fork: !!r.options.fork,
      archived: !!r.options.archived,
      disabled: false,
      default_branch: r.options.defaultBranch ?? 'main',
      pushed_at: r.pushedAt,
    }));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link: string[] = [];
    const base = `${this.url}${url.pathname}`;
    if (page < last) link.push(`<${base}?per_page=${perPage}&page=${page + 1}>; rel="next"`, `<${base}?per_page=${perPage}&page=${last}>; rel="last"`);
    if (page > 1) link.push(`<${base}?per_page=${perPage}&page=1>; rel="first"`, `<${base}?per_page=${perPage}&page=${page - 1}>; rel="prev"`);
    const body = JSON.stringify(items);
    this.withEtag(req, res, body, 'application/json; charset=utf-8', link.length ? { link: link.join(', ') } : {});
  }

  private commitSha(req: http.IncomingMessage, res: http.ServerResponse, repo: Repo, ref: string): void {
    if (repo.options.empty) return this.send(req, res, 409, { message: 'Git Repository is empty.' });
    let sha = repo.refs.get(ref);
    if (!sha && /^[0-9a-f]{7,40}$/.test(ref)) sha = [...repo.commits.keys()].find((c) => c.startsWith(ref));
    if (!sha) return this.send(req, res, 422, { message: `No commit found for SHA: ${ref}` });
    if (/application\/vnd\.github\.sha/.test(req.headers.accept ?? '')) return this.withEtag(req, res, sha, 'application/vnd.github.sha; charset=utf-8');
    return this.withEtag(req, res, JSON.stringify({ sha }), 'application/json; charset=utf-8');
  }

  private tree(req: http.IncomingMessage, res: http.ServerResponse, repo: Repo, sha: string, recursive: string | null): void {
    const files = repo.commits.get(sha) ?? repo.commits.get(repo.refs.get(sha) ?? '');
    if (!files) return this.send(req, res, 404, { message: 'Not Found' });
    const dirs = new Set<string>();
    for (const p of Object.keys(files)) {
      const segments = p.split('/');
      for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'));
    }
    let tree = [
      ...[...dirs].map((d) => ({ path: d, mode: '040000', type: 'tree', sha: this.hash(d) })),
      ...Object.keys(files).map((p) => ({ path: p, mode: '100644', type: 'blob', sha: this.hash(files[p]), size: Buffer.byteLength(files[p]) })),
    ].sort((a, b) => (a.path < b.path ? -1 : 1));
    if (!recursive) tree = tree.filter((e) => !e.path.includes('/'));
    const truncated = !!repo.options.truncatedTree && !!recursive;
    if (truncated) tree = tree.filter((e) => !e.path.startsWith('.github/workflows/')).slice(0, 2);
    this.send(req, res, 200, { sha, url: `${this.url}/repos/${repo.owner}/${repo.name}/git/trees/${sha}`, tree, truncated });
  }

  private blob(req: http.IncomingMessage, res: http.ServerResponse, repo: Repo, sha: string): void {
    for (const files of repo.commits.values()) {
      for (const text of Object.values(files)) {
        if (this.hash(text) !== sha) continue;
        if (/application\/vnd\.github\.raw/.test(req.headers.accept ?? '')) return this.send(req, res, 200, text, { 'content-type': 'text/plain; charset=utf-8' });
        return this.send(req, res, 200, { sha, size: Buffer.byteLength(text), encoding: 'base64', content: Buffer.from(text).toString('base64') });
      }
    }
    this.send(req, res, 404, { message: 'Not Found' });
  }

  private contents(req: http.IncomingMessage, res: http.ServerResponse, repo: Repo, path: string, ref: string | null): void {
    const sha = ref ? (repo.refs.get(ref) ?? (repo.commits.has(ref) ? ref : undefined)) : repo.refs.get(repo.options.defaultBranch ?? 'main');
    const files = sha ? repo.commits.get(sha) : undefined;
    if (!files) return this.send(req, res, 404, { message: `No commit found for the ref ${ref}` });
    const clean = path.replace(/^\/+|\/+$/g, '');
    if (clean in files) {
      const text = files[clean];
      if (/application\/vnd\.github\.raw/.test(req.headers.accept ?? '')) return this.send(req, res, 200, text, { 'content-type': 'text/plain; charset=utf-8' });
      return this.send(req, res, 200, { type: 'file', name: clean.split('/').pop(), path: clean, encoding: 'base64', content: Buffer.from(text).toString('base64') });
    }
    const prefix = clean ? `${clean}/` : '';
    const children = new Map<string, 'file' | 'dir'>();
    for (const p of Object.keys(files)) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length).split('/');
      children.set(rest[0], rest.length > 1 ? 'dir' : 'file');
    }
    if (!children.size) return this.send(req, res, 404, { message: 'Not Found' });
    const listing = [...children].sort().map(([name, type]) => ({ name, path: `${prefix}${name}`, type, sha: type === 'file' ? this.hash(files[`${prefix}${name}`]) : this.hash(`${prefix}${name}`) }));
    this.send(req, res, 200, listing);
  }

  private isConditional(req: http.IncomingMessage): boolean {
    return typeof req.headers['if-none-match'] === 'string';
  }

  private withEtag(req: http.IncomingMessage, res: http.ServerResponse, body: string, contentType: string, extra: Record<string, string> = {}): void {
    const etag = `"${this.hash(body)}"`;
    if (req.headers['if-none-match'] === etag) return this.send(req, res, 304, '', { etag, ...extra });
    this.send(req, res, 200, body, { etag, 'content-type': contentType, ...extra });
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const charged = status !== 304;
    if (charged && status !== 403 && Number.isFinite(this.remaining)) {
      this.remaining--;
      if (this.remaining <= 0) this.resetAt = Date.now() + (this.options.rateLimitResetSeconds ?? 60) * 1000;
    }
    const limit = this.options.rateLimit ?? 5000;
    const remaining = Number.isFinite(this.remaining) ? Math.max(0, this.remaining) : 4999;
    const reset = Math.ceil((this.resetAt || Date.now() + 3600_000) / 1000);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const out: Record<string, string> = {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-used': String(Math.max(0, limit - remaining)),
      ...(typeof body === 'string' ? {} : { 'content-type': 'application/json; charset=utf-8' }),
      ...headers,
    };
    this.requests.push({ method: req.method ?? 'GET', path: decodeURIComponent((req.url ?? '/').split('?')[0]) + ((req.url ?? '').includes('?') ? `?${(req.url ?? '').split('?')[1]}` : ''), status, conditional: this.isConditional(req) });
    res.writeHead(status, out);
    res.end(status === 304 ? undefined : text);
  }

  private idOf(repo: Repo): number {
    return parseInt(this.hash(`${repo.owner}/${repo.name}`).slice(0, 8), 16);
  }

  private hash(text: string): string {
    return crypto.createHash('sha1').update(text).digest('hex');
  }
}
