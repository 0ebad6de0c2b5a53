// The command-line side of the online mode: `lint --online` (a pre-pass before the synchronous lint)
// and `scan --org ORG`. Settings come from flags and the environment as on Actions runners:
// GITHUB_TOKEN or GH_TOKEN, GITHUB_API_URL, CI; the cache from AGENT_GUARD_CACHE_DIR /
// XDG_CACHE_HOME. Every failure is one line on stderr and exit code 2, never a stack trace.

import fs from 'node:fs';
import { SEVERITIES, severityRank, type Severity } from '../checks/types';
import { ConfigError, readConfig, type Config } from '../config';
import { globProblem } from '../glob';
import { helpFor } from '../help';
import type { RemoteResolver } from '../workflow/load';
import { DiskCache, defaultCacheDir } from './cache';
import { GitHubClient, GitHubError, duration, type RateLimitPolicy } from './github';
import { prefetchPaths, RemoteStore, DEFAULT_MAX_DEPTH } from './prefetch';
import { formatScan, isScanFormat, type ScanFormat } from './report';
import { scanOrganisation, type RepoOutcome } from './scan';
import { severityBreakdown, countBySeverity, plural } from '../report/common';
import { ArgReader } from '../args';

export interface OnlineIO {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const PROCESS_IO: OnlineIO = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** Flags shared by `lint --online` and `scan`. */
export interface OnlineFlags {
  noCache?: boolean;
  onRateLimit?: RateLimitPolicy;
  /** Seconds the client may wait for rate limits in total. */
  maxWait?: number;
  maxDepth?: number;
}

export class OnlineUsageError extends Error {}

/**
 * The flags `lint --online` and `scan` share. Returns false for any other flag; `value` reads the
 * flag's argument.
 */
export function parseOnlineFlag(flag: string, value: () => string, out: OnlineFlags): boolean {
  switch (flag) {
    case '--no-cache':
      out.noCache = true;
      return true;
    case '--on-rate-limit':
      out.onRateLimit = parseRateLimitPolicy(value());
      return true;
    case '--max-wait':
      out.maxWait = positiveInt('--max-wait', value(), 24 * 3600);
      return true;
    case '--max-depth':
      out.maxDepth = positiveInt('--max-depth', value(), 16);
      return true;
    default:
      return false;
  }
}

/** `--on-rate-limit` default: stop in CI (`CI=true`), wait (up to --max-wait) on a terminal. */
export function defaultRateLimitPolicy(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): RateLimitPolicy {
  if (env.CI === 'true' || env.CI === '1') return 'stop';
  return isTTY ? 'wait' : 'stop';
}

export function parseRateLimitPolicy(value: string): RateLimitPolicy {
  if (value !== 'wait' && value !== 'stop') throw new OnlineUsageError(`--on-rate-limit takes wait or stop, not '${value}'`);
  return value;
}

export function positiveInt(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new OnlineUsageError(`${flag} takes a whole number from 1 to ${max}, not '${value}'`);
  return n;
}

export function makeClient(flags: OnlineFlags, io: OnlineIO, version: string): GitHubClient {
  const log = (line: string) => io.stderr.write(`agent-guard: ${line}\n`);
  const token = io.env.GITHUB_TOKEN || io.env.GH_TOKEN || undefined;
  if (!token) log('no GITHUB_TOKEN or GH_TOKEN: unauthenticated requests are limited to 60 an hour and cannot read private repositories');
  const cache = new DiskCache(flags.noCache ? null : defaultCacheDir(io.env), log);
  return new GitHubClient({
    token,
    baseUrl: io.env.GITHUB_API_URL || undefined,
    cache,
    onRateLimit: flags.onRateLimit ?? defaultRateLimitPolicy(io.env, io.stderr.isTTY),
    maxWaitMs: (flags.maxWait ?? 900) * 1000,
    userAgent: `agent-guard/${version}`,
    log,
  });
}

/**
 * `lint --online`: fetches what the workflows under `paths` use remotely and returns the resolver for
 * lint, after one summary line on stderr. Never throws for network trouble: what could not be
 * fetched is reported by the unresolved-remote rule.
 */
export async function prefetchForLint(paths: string[], flags: OnlineFlags, version: string, io: OnlineIO = PROCESS_IO): Promise<RemoteResolver> {
  const client = makeClient(flags, io, version);
  const store = new RemoteStore(client);
  const result = await prefetchPaths(paths, store, flags.maxDepth ?? DEFAULT_MAX_DEPTH);
  const s = client.stats;
  const parts = [`followed ${plural(result.followed.length, 'remote file')}`, `${plural(s.requests, 'request')} (${s.notModified} answered 304)`, `${plural(client.cache.hits, 'cache hit')}`];
  let line = `online: ${parts.join(', ')}`;
  if (result.failed.length) line += `; ${result.failed.length} not followed: ${result.failed.slice(0, 3).map((f) => f.error).join('; ')}${result.failed.length > 3 ? '; …' : ''}`;
  io.stderr.write(`agent-guard: ${line}\n`);
  return result.resolver;
}

// ---- scan ------------------------------------------------------------------------------------------

interface ScanArgs extends OnlineFlags {
  org?: string;
  repoFilter: string[];
  includeArchived: boolean;
  includeForks: boolean;
  format: ScanFormat;
  output?: string;
  failOn: Severity | 'none';
  config?: string;
  help?: boolean;
}

export function parseScanArgs(args: string[]): ScanArgs {
  const out: ScanArgs = { repoFilter: [], includeArchived: false, includeForks: false, format: 'text', failOn: 'none' };
  const reader = new ArgReader(args, (message) => new OnlineUsageError(message));
  while (reader.next()) {
    const { arg, flag } = reader;
    const value = () => reader.value();
    switch (flag) {
      case '--org':
        out.org = value();
        if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(out.org)) throw new OnlineUsageError(`'${out.org}' is not an organisation or user name`);
        break;
      case '--repo-filter': {
        const glob = value();
        const problem = globProblem(glob);
        if (problem) throw new OnlineUsageError(`--repo-filter: ${problem}`);
        out.repoFilter.push(glob);
        break;
      }
      case '--include-archived':
        out.includeArchived = true;
        break;
      case '--include-forks':
        out.includeForks = true;
        break;
      case '--format': {
        const f = value();
        if (!isScanFormat(f)) throw new OnlineUsageError(`unknown format '${f}' (text, json, sarif, markdown)`);
        out.format = f;
        break;
      }
      case '--output':
      case '-o':
        out.output = value();
        break;
      case '--fail-on': {
        const s = value();
        if (s !== 'none' && !(SEVERITIES as readonly string[]).includes(s)) throw new OnlineUsageError(`--fail-on takes critical, high, medium, low or none, not '${s}'`);
        out.failOn = s as Severity | 'none';
        break;
      }
      case '--config':
        out.config = value();
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        if (parseOnlineFlag(flag, value, out)) break;
        throw new OnlineUsageError(flag.startsWith('-') ? `unknown option '${flag}' (see agent-guard scan --help)` : `unexpected argument '${arg}' (scan takes --org ORG)`);
    }
  }
  return out;
}

/** `agent-guard scan`: 0 done, 1 findings at or above --fail-on, 2 bad usage or nothing could be scanned. */
export async function scanMain(rawArgs: string[], version: string, io: OnlineIO = PROCESS_IO): Promise<number> {
  const fail = (message: string) => {
    io.stderr.write(`agent-guard: ${message}\n`);
    return 2;
  };
  let args: ScanArgs;
  let config: Config | undefined;
  try {
    args = parseScanArgs(rawArgs);
    if (args.help) {
      io.stdout.write(helpFor('scan'));
      return 0;
    }
    if (!args.org) throw new OnlineUsageError('scan needs --org ORG (see agent-guard scan --help)');
    config = args.config ? readConfig(args.config) : undefined;
  } catch (err) {
    if (err instanceof OnlineUsageError || err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  const client = makeClient(args, io, version);
  const progress = new Progress(io);
  let scan;
  try {
    scan = await scanOrganisation({
      org: args.org,
      client,
      repoFilter: args.repoFilter,
      includeArchived: args.includeArchived,
      includeForks: args.includeForks,
      maxDepth: args.maxDepth,
      config,
      onStart: (total) => progress.start(total, args.org!),
      onRepository: (outcome, done, total) => progress.update(outcome, done, total),
    });
  } catch (err) {
    progress.end();
    if (err instanceof GitHubError) return fail(`cannot list the repositories of ${args.org}: ${err.message}`);
    throw err;
  }
  progress.end();
  // The required check's threshold: --fail-on when it names one, else the template's `high`.
  const report = formatScan(scan, args.format, { toolVersion: version, checkFailOn: args.failOn === 'none' ? 'high' : args.failOn });
  try {
    if (args.output) fs.writeFileSync(args.output, report);
    else io.stdout.write(report);
  } catch (err) {
    return fail(`cannot write ${args.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const scanned = scan.repos.filter((r) => r.status === 'scanned').length;
  const failed = scan.repos.filter((r) => r.status === 'failed').length;
  io.stderr.write(
    `agent-guard: scanned ${scanned} of ${plural(scan.listed, 'repository', 'repositories')}${failed ? `, ${failed} failed` : ''} in ${duration(scan.stats.durationMs)}; ` +
      `${plural(scan.stats.requests, 'API request')} (${scan.stats.notModified} answered 304), ${plural(scan.stats.cacheHits, 'cache hit')}\n`,
  );
  if (failed > 0 && scanned === 0) return 2;
  if (args.failOn === 'none') return 0;
  const threshold = severityRank(args.failOn);
  return scan.repos.some((r) => r.result?.findings.some((f) => severityRank(f.severity) >= threshold)) ? 1 : 0;
}

/** A bar on a terminal; in CI (or any non-terminal) one plain line per repository. */
class Progress {
  private bar: boolean;
  private total = 0;

  constructor(private readonly io: OnlineIO) {
    this.bar = !!io.stderr.isTTY && io.env.CI !== 'true' && io.env.CI !== '1';
  }

  start(total: number, org: string): void {
    this.total = total;
    this.io.stderr.write(`agent-guard: scanning ${plural(total, 'repository', 'repositories')} of ${org}\n`);
  }

  update(outcome: RepoOutcome, done: number, total: number): void {
    if (this.bar) {
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : width;
      const name = outcome.repo.fullName.length > 40 ? `${outcome.repo.fullName.slice(0, 39)}…` : outcome.repo.fullName;
      this.io.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name}`);
      return;
    }
    this.io.stderr.write(`agent-guard: [${done}/${total}] ${outcome.repo.fullName}: ${describeOutcome(outcome)}\n`);
  }

  end(): void {
    if (this.bar && this.total) this.io.stderr.write('\r\x1b[K');
  }
}

function describeOutcome(outcome: RepoOutcome): string {
  if (outcome.status !== 'scanned') return outcome.status === 'failed' ? `failed: ${outcome.error}` : outcome.status === 'empty' ? 'empty' : 'no workflows';
  const { findings, errors } = outcome.result!;
  const parts = [findings.length ? `${plural(findings.length, 'finding')} (${severityBreakdown(countBySeverity(findings))})` : 'no findings'];
  if (outcome.baselined) parts.push(`${outcome.baselined} in its baseline`);
  const unreadable = new Set(errors.map((e) => e.file)).size;
  if (unreadable) parts.push(`${plural(unreadable, 'file')} could not be read`);
  return parts.join(', ');
}
