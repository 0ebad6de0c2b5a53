// Providers are data (rules/providers.yml); this module validates that data and turns route
// patterns into matchers, so a typo in the rules fails loudly instead of opening a route.
import { parse } from 'yaml';
import providersText from '../../rules/providers.yml';
import { GuardError } from './errors';

export interface KeySource {
  env: string;
  header: string;
  prefix: string;
}

export interface Route {
  method: string;
  pattern: string;
  matches(path: string): boolean;
}

export interface Provider {
  name: string;
  upstream: URL;
  keys: KeySource[];
  removeEnv: string[];
  placeholder: string;
  agentEnv: Record<string, string>;
  /** Files written into the agent's fresh HOME (path relative to HOME → content), e.g. a CLI's settings. */
  homeFiles: Record<string, string>;
  routes: Route[];
  query: string[];
}

const SEGMENT = '[A-Za-z0-9._-]+';

export function compileRoute(spec: string): Route {
  const m = /^(GET|POST|PUT|DELETE|PATCH) (\/[A-Za-z0-9._:{}/-]*)$/.exec(spec);
  if (!m) throw new GuardError('providers', `bad route "${spec}" (want "METHOD /path")`);
  const [, method, pattern] = m;
  const source = pattern
    .split(/(\{[a-z]+\})/)
    .map((part) => (/^\{[a-z]+\}$/.test(part) ? SEGMENT : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${source}$`);
  return { method, pattern, matches: (path) => regex.test(path) };
}

function asStringArray(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new GuardError('providers', `${where} must be a list of strings`);
  }
  return value as string[];
}

export function parseProviders(text: string): Map<string, Provider> {
  const doc = parse(text) as Record<string, Record<string, unknown>>;
  const out = new Map<string, Provider>();
  for (const [name, raw] of Object.entries(doc ?? {})) {
    const where = `providers.yml: ${name}`;
    if (typeof raw?.upstream !== 'string') throw new GuardError('providers', `${where}: upstream missing`);
    const keysRaw = raw.keys;
    if (!Array.isArray(keysRaw) || keysRaw.length === 0) throw new GuardError('providers', `${where}: keys missing`);
    const keys = keysRaw.map((k: Record<string, unknown>) => {
      if (typeof k?.env !== 'string' || typeof k?.header !== 'string') {
        throw new GuardError('providers', `${where}: each key needs env and header`);
      }
      return { env: k.env, header: k.header.toLowerCase(), prefix: typeof k.prefix === 'string' ? k.prefix : '' };
    });
    const agentEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries((raw['agent-env'] as Record<string, unknown>) ?? {})) {
      if (typeof v !== 'string') throw new GuardError('providers', `${where}: agent-env.${k} must be a string`);
      agentEnv[k] = v;
    }
    const homeFiles: Record<string, string> = {};
    for (const [file, content] of Object.entries((raw['home-files'] as Record<string, unknown>) ?? {})) {
      if (typeof content !== 'string') throw new GuardError('providers', `${where}: home-files.${file} must be a string`);
      if (file.startsWith('/') || file.split('/').includes('..')) throw new GuardError('providers', `${where}: home-files.${file} must stay inside HOME`);
      homeFiles[file] = content;
    }
    if (typeof raw.placeholder !== 'string') throw new GuardError('providers', `${where}: placeholder missing`);
    out.set(name, {
      name,
      upstream: parseUpstream(raw.upstream, where),
      keys,
      removeEnv: asStringArray(raw['remove-env'], `${where}: remove-env`),
      placeholder: raw.placeholder,
      agentEnv,
      homeFiles,
      routes: asStringArray(raw.routes, `${where}: routes`).map(compileRoute),
      query: asStringArray(raw.query, `${where}: query`),
    });
  }
  return out;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An upstream is https, or plain http to loopback (a test double): never a key in cleartext. */
export function parseUpstream(text: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GuardError('providers', `${where}: upstream "${text}" is not a URL`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new GuardError('providers', `${where}: upstream "${text}" must not carry credentials, query or fragment`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new GuardError('providers', `${where}: upstream "${text}" must be https (plain http only to loopback)`);
  }
  return url;
}

let cached: Map<string, Provider> | undefined;
export function builtinProviders(): Map<string, Provider> {
  cached ??= parseProviders(providersText);
  return cached;
}

/** A provider's HOME files with `{base}` and `{placeholder}` filled in, as for its agent-env. */
export function homeFilesFor(provider: Provider, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, content] of Object.entries(provider.homeFiles)) {
    out[file] = content.replace(/\{base\}/g, base).replace(/\{placeholder\}/g, provider.placeholder);
  }
  return out;
}
