// `agent-guard run` command line. Bad input is a GuardError('usage'): one line, exit 125.
import { compileGlob } from './boundary/glob';
import { isGitName } from './boundary/policy';
import { GuardError } from './errors';
import { addGrant, type Grant } from './grants/spec';
import { ArgReader } from '../args';

export interface ProviderChoice {
  name: string;
  upstream?: string;
}

export interface AllowedHost {
  host: string;
  port: number;
}

export interface RunOptions {
  providers: ProviderChoice[];
  allowHosts: AllowedHost[];
  passEnv: string[];
  workspaceMode: 'rw' | 'ro';
  maxRequests?: number;
  maxTokens?: number;
  auditFile?: string;
  timeoutSeconds?: number;
  /** Globs of workspace paths to accept back although rules/file-kinds.yml refuses them (never .git, never non-regular files). */
  allowPaths: string[];
  /** Let provider-side tools that fetch URLs through (web fetch/search, MCP servers, URL sources). */
  allowProviderFetch: boolean;
  /** Memory cap of the jail in bytes, 'none' to set none; unset: the default (limits.ts). */
  memory?: number | 'none';
  /** Most processes and threads in the jail, 'none' to set none; unset: the default. */
  pids?: number | 'none';
  /** Size in bytes of each tmpfs the agent can write (/tmp, /var/tmp, its HOME); unset: the default. */
  tmpfsSize?: number;
  /** Bytes the agent's copy of the workspace may take on disk and bring back; unset: the default. */
  maxDisk?: number;
  /** Files, folders, links and deletions that may come back; unset: the default. */
  maxFiles?: number;
  /** --grant: what the agent may ask the guard to do on GitHub (src/guard/grants). */
  grants?: Grant[];
  /** Where the guard reads the GitHub token for grants (default GITHUB_TOKEN). */
  githubTokenEnv?: string;
  /** --defer FILE: record checked grant requests instead of performing them. */
  deferFile?: string;
  /** --allow-links: keep links and images to hosts outside GitHub live in published text. */
  allowLinks?: boolean;
  command: string[];
}

export const RUN_USAGE =
  'usage: agent-guard run [--provider NAME[=UPSTREAM_URL]]... [--allow-host HOST[:PORT]]... [--pass-env NAME]... ' +
  '[--workspace rw|ro] [--allow-path GLOB]... [--max-requests N] [--max-tokens N] [--audit FILE] [--timeout SECONDS] ' +
  '[--memory SIZE|none] [--pids N|none] [--tmpfs-size SIZE] [--max-disk SIZE] [--max-files N] [--allow-provider-fetch] [--grant GRANT]... [--github-token-env NAME] ' +
  '[--defer FILE] [--allow-links] -- CMD [ARG...]';

const WITH_VALUE = new Set([
  '--provider',
  '--allow-host',
  '--pass-env',
  '--workspace',
  '--allow-path',
  '--max-requests',
  '--max-tokens',
  '--audit',
  '--timeout',
  '--memory',
  '--pids',
  '--tmpfs-size',
  '--max-disk',
  '--max-files',
  '--grant',
  '--github-token-env',
  '--defer',
]);

function positiveInt(flag: string, text: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(text)) throw new GuardError('usage', `${flag} wants a positive whole number, got "${text}"`);
  return Number(text);
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A size such as 512m, 4G, 2GiB or 1048576 (bytes); units are powers of 1024. */
export function parseSize(flag: string, text: string): number {
  const m = /^([1-9][0-9]{0,12})([kmgt]?)(i?b)?$/i.exec(text);
  const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()] : NaN;
  if (!m || !Number.isSafeInteger(bytes) || (m[3] && !m[2])) {
    throw new GuardError('usage', `${flag} wants a size such as 512m or 4g, got "${text}"`);
  }
  return bytes;
}

const MIN_MEMORY = 64 * 1024 ** 2;
const MIN_PIDS = 32;
const MIN_SIZE = 1024 ** 2;

function atLeast(flag: string, value: number, min: number, hint: string): number {
  if (value < min) throw new GuardError('usage', `${flag} is too small; the least that works is ${hint}`);
  return value;
}

// A hostname as DNS spells it (no NUL, userinfo, wildcards or IP-looking tricks beyond plain literals).
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function parseAllowHost(text: string): AllowedHost {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(text);
  const host = m?.[1].toLowerCase().replace(/^\[|\]$/g, '');
  const port = m?.[2] ? Number(m[2]) : 443;
  const isIpv6 = m?.[1].startsWith('[') ?? false;
  if (!m || !host || port < 1 || port > 65535 || (!isIpv6 && !HOSTNAME.test(host))) {
    throw new GuardError('usage', `--allow-host wants HOST[:PORT], got "${text}"`);
  }
  return { host, port };
}

/** A workspace path glob; nothing under .git can be allowed back. */
export function parseAllowPath(text: string): string {
  try {
    compileGlob(text);
  } catch (err) {
    throw new GuardError('usage', `--allow-path: ${(err as Error).message}`);
  }
  if (text.split('/').some(isGitName)) throw new GuardError('usage', `--allow-path ${text}: nothing under .git comes back; commits come back as objects and a ref`);
  return text;
}

export function parseRunArgs(args: string[]): RunOptions {
  const opts: RunOptions = {
    providers: [],
    allowHosts: [],
    passEnv: [],
    workspaceMode: 'rw',
    allowPaths: [],
    allowProviderFetch: false,
    command: [],
  };
  const grants: Grant[] = [];
  let command: string[] = [];
  const reader = new ArgReader(args, (message) => new GuardError('usage', message));
  while (reader.next()) {
    const { arg, flag } = reader;
    if (arg === '--') {
      command = reader.rest();
      break;
    }
    if (arg === '--allow-provider-fetch') {
      opts.allowProviderFetch = true;
      continue;
    }
    if (arg === '--allow-links') {
      opts.allowLinks = true;
      continue;
    }
    if (!WITH_VALUE.has(flag)) {
      throw new GuardError('usage', `unknown option "${arg}" (the agent's command goes after --)`);
    }
    const value = reader.value();
    switch (flag) {
      case '--provider': {
        const at = value.indexOf('=');
        const name = at < 0 ? value : value.slice(0, at);
        if (!/^[a-z0-9-]+$/.test(name)) throw new GuardError('usage', `--provider wants NAME[=UPSTREAM_URL], got "${value}"`);
        if (opts.providers.some((p) => p.name === name)) throw new GuardError('usage', `--provider ${name} given twice`);
        opts.providers.push(at < 0 ? { name } : { name, upstream: value.slice(at + 1) });
        break;
      }
      case '--allow-host':
        opts.allowHosts.push(parseAllowHost(value));
        break;
      case '--pass-env':
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new GuardError('usage', `--pass-env wants a variable name, got "${value}"`);
        opts.passEnv.push(value);
        break;
      case '--workspace':
        if (value !== 'rw' && value !== 'ro') throw new GuardError('usage', `--workspace wants rw or ro, got "${value}"`);
        opts.workspaceMode = value;
        break;
      case '--allow-path':
        opts.allowPaths.push(parseAllowPath(value));
        break;
      case '--max-requests':
        opts.maxRequests = positiveInt(flag, value);
        break;
      case '--max-tokens':
        opts.maxTokens = positiveInt(flag, value);
        break;
      case '--audit':
        if (!value) throw new GuardError('usage', '--audit needs a file name');
        opts.auditFile = value;
        break;
      case '--timeout':
        opts.timeoutSeconds = positiveInt(flag, value);
        break;
      case '--memory':
        opts.memory = value === 'none' ? 'none' : atLeast(flag, parseSize(flag, value), MIN_MEMORY, '64m: the jail\'s own node process needs about 50 MiB');
        break;
      case '--pids':
        opts.pids = value === 'none' ? 'none' : atLeast(flag, positiveInt(flag, value), MIN_PIDS, '32: node alone runs about ten threads, and each counts');
        break;
      case '--tmpfs-size':
        opts.tmpfsSize = atLeast(flag, parseSize(flag, value), MIN_SIZE, '1m');
        break;
      case '--max-disk':
        opts.maxDisk = atLeast(flag, parseSize(flag, value), MIN_SIZE, '1m');
        break;
      case '--max-files':
        opts.maxFiles = positiveInt(flag, value);
        break;
      case '--grant':
        addGrant(grants, value);
        break;
      case '--github-token-env':
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new GuardError('usage', `--github-token-env wants a variable name, got "${value}"`);
        opts.githubTokenEnv = value;
        break;
      case '--defer':
        if (!value) throw new GuardError('usage', '--defer needs a file name');
        opts.deferFile = value;
        break;
    }
  }
  if (grants.length) opts.grants = grants;
  if (opts.deferFile && grants.length === 0) throw new GuardError('usage', '--defer records grant requests: give at least one --grant');
  opts.command = command;
  if (opts.command.length === 0) throw new GuardError('usage', `no command to run. ${RUN_USAGE}`);
  return opts;
}
