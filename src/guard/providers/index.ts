// The provider side of the guard: the catalogue in rules/providers.yml, and a provider resolved for
// one run (its settings, its upstream, and the credential the proxy will put on every request).
import providersText from '../../../rules/providers.yml';
import { GuardError } from '../errors';
import type { Authorizer } from './authorizer';
import { type Catalogue, type CredentialSpec, parseCatalogue, type Provider } from './catalogue';
import { googleAdcAuthorizer } from './googleAdc';
import { oidcExchangeAuthorizer } from './oidcExchange';
import { sigv4Authorizer } from './sigv4';
import { staticKeyAuthorizer } from './staticKey';

export type { Authorizer, UpstreamRequest } from './authorizer';
export { compileRoute, parseCatalogue } from './catalogue';
export type { AuthFailure, Catalogue, CredentialSpec, FetcherPolicy, Provider, Route } from './catalogue';

let cached: Catalogue | undefined;
export function builtinCatalogue(): Catalogue {
  cached ??= parseCatalogue(providersText);
  return cached;
}

export function builtinProviders(): Map<string, Provider> {
  return builtinCatalogue().providers;
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

/** Replace {name} with values; unknown names stay as they are. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function settingFromUrl(text: string): string | undefined {
  try {
    return new URL(text).hostname.split('.')[0];
  } catch {
    return undefined;
  }
}

/** The provider's settings from the guard's environment; GuardError naming the variables when one is missing. */
export function resolveSettings(provider: Provider, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of provider.settings) {
    const fromEnv = s.env.map((name) => env[name]?.trim()).find(Boolean);
    const value = fromEnv ?? (s.fromUrlEnv && env[s.fromUrlEnv] ? settingFromUrl(env[s.fromUrlEnv] as string) : undefined) ?? s.default;
    const names = [...s.env, ...(s.fromUrlEnv ? [s.fromUrlEnv] : [])].join(', ');
    if (value === undefined) throw new GuardError('providers', `--provider ${provider.name} needs its ${s.name}: set one of ${names}`);
    if (!s.pattern.test(value)) throw new GuardError('providers', `--provider ${provider.name}: ${s.name} "${value.slice(0, 80)}" (from ${names}) does not look like one`);
    out[s.name] = value;
  }
  return out;
}

export function upstreamFor(provider: Provider, settings: Record<string, string>): URL {
  const choice = provider.upstreams.find((u) => Object.entries(u.when).every(([k, v]) => settings[k] === v));
  if (!choice) throw new GuardError('providers', `--provider ${provider.name}: no upstream for these settings`);
  return parseUpstream(fillTemplate(choice.url, settings), `provider ${provider.name}`);
}

/** The first credential kind whose variable is set, or undefined. */
export function credentialFor(provider: Provider, env: NodeJS.ProcessEnv): CredentialSpec | undefined {
  return provider.credentials.find((c) => env[c.env]?.trim());
}

function authorizerFor(spec: CredentialSpec, env: NodeJS.ProcessEnv, upstream: URL, settings: Record<string, string>): Authorizer {
  switch (spec.kind) {
    case 'static':
      return staticKeyAuthorizer(spec, env);
    case 'oidc-exchange':
      return oidcExchangeAuthorizer(spec, env, upstream);
    case 'aws-sigv4':
      return sigv4Authorizer(spec, env, settings.region ?? '');
    case 'google-adc':
      return googleAdcAuthorizer(spec, env);
  }
}

export interface ResolvedProvider {
  provider: Provider;
  settings: Record<string, string>;
  upstream: URL;
  authorizer: Authorizer;
}

/** Settings, upstream and credential for one run. Throws GuardError('providers') with one line. */
export function resolveProvider(provider: Provider, env: NodeJS.ProcessEnv, upstreamOverride?: string): ResolvedProvider {
  const settings = resolveSettings(provider, env);
  const upstream = upstreamOverride ? parseUpstream(upstreamOverride, `--provider ${provider.name}`) : upstreamFor(provider, settings);
  const spec = credentialFor(provider, env);
  if (!spec) {
    const names = [...new Set(provider.credentials.map((c) => c.env))].join(', ');
    throw new GuardError('providers', `--provider ${provider.name}: none of ${names} is set in the guard's environment`);
  }
  try {
    return { provider, settings, upstream, authorizer: authorizerFor(spec, env, upstream, settings) };
  } catch (err) {
    throw new GuardError('providers', `--provider ${provider.name}: ${(err as Error).message}`);
  }
}

/** Obtain every credential before the agent starts (fail closed, naming the provider). */
export async function prepareCredentials(resolved: ResolvedProvider[]): Promise<void> {
  for (const r of resolved) {
    try {
      await r.authorizer.prepare();
    } catch (err) {
      throw new GuardError('providers', `--provider ${r.provider.name}: cannot obtain a credential from ${r.authorizer.source}: ${(err as Error).message}`);
    }
  }
}

/** The agent-side values of a provider: {base}, {placeholder} and its settings. */
export function agentValues(r: { provider: Provider; settings?: Record<string, string> }, base: string): Record<string, string> {
  return { ...r.settings, base, placeholder: r.provider.placeholder };
}

/** A provider's HOME files with {base}, {placeholder} and its settings filled in, as for its agent-env. */
export function homeFilesFor(provider: Provider, base: string, settings: Record<string, string> = {}): Record<string, string> {
  const values = agentValues({ provider, settings }, base);
  return Object.fromEntries(Object.entries(provider.homeFiles).map(([file, content]) => [file, fillTemplate(content, values)]));
}

/** Every chosen provider's HOME files; two that write the same file with different content are refused. */
export function mergedHomeFiles(chosen: { provider: Provider; base: string; settings?: Record<string, string> }[]): Record<string, string> {
  const out: Record<string, string> = {};
  const owner: Record<string, string> = {};
  for (const c of chosen) {
    for (const [file, content] of Object.entries(homeFilesFor(c.provider, c.base, c.settings))) {
      if (file in out && out[file] !== content) throw new GuardError('providers', `providers ${owner[file]} and ${c.provider.name} both write ~/${file}; pick one`);
      out[file] = content;
      owner[file] = c.provider.name;
    }
  }
  return out;
}

/** Providers whose credential is set in `env`, with the variable: for "add --provider X" hints. */
export function providersWithCredentials(env: NodeJS.ProcessEnv, among?: string[]): { name: string; env: string }[] {
  const out: { name: string; env: string }[] = [];
  for (const [name, provider] of builtinProviders()) {
    if (among && !among.includes(name)) continue;
    const spec = credentialFor(provider, env);
    // GITHUB_TOKEN is in every step's environment: it says nothing about the agent's provider.
    if (spec && spec.env !== 'GITHUB_TOKEN') out.push({ name, env: spec.env });
  }
  return out;
}

function hintFor(found: { name: string; env: string }[]): string {
  return found.map((f) => `--provider ${f.name} (${f.env} is set)`).join(' or ');
}

/** One line for a run with no --provider while a known credential is in the guard's environment. */
export function missingProviderHint(env: NodeJS.ProcessEnv): string | undefined {
  const found = providersWithCredentials(env);
  if (found.length === 0) return undefined;
  return `no --provider given, so the agent has no model API; to let it use the credential in this step's environment, add ${hintFor(found)}`;
}

/** One line when the agent's output says it could not authenticate, naming the provider to add. */
export function authFailureHint(output: string, chosen: string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const failure of builtinCatalogue().authFailures) {
    if (!failure.output.test(output)) continue;
    const missing = failure.providers.filter((p) => !chosen.includes(p));
    if (missing.length === failure.providers.length || chosen.length === 0) {
      const found = providersWithCredentials(env, missing);
      const add = found.length ? hintFor(found) : missing.map((p) => `--provider ${p}`).join(' or ');
      return `${failure.agent} could not authenticate: the guard fronts ${chosen.length ? chosen.join(', ') : 'no provider'}; add ${add}`;
    }
    return `${failure.agent} could not authenticate through --provider ${chosen.filter((p) => failure.providers.includes(p)).join(', ')}: check the credential the guard holds (see the audit for the upstream's status)`;
  }
  return undefined;
}
