// Providers are data (rules/providers.yml); this module validates that data and turns route
// patterns into matchers, so a typo in the rules fails loudly instead of opening a route.
import { parseDataText } from '../../dataText';
import { GuardError } from '../errors';

export interface Setting {
  name: string;
  env: string[];
  /** A variable holding an https URL whose first host label is the value (AZURE_OPENAI_ENDPOINT). */
  fromUrlEnv?: string;
  default?: string;
  pattern: RegExp;
}

export interface UpstreamChoice {
  when: Record<string, string>;
  url: string;
}

interface HeaderTemplates {
  /** Header name → value with {secret}. */
  headers: Record<string, string>;
  /** Comma-separated headers the agent may send too: the value is added to the agent's list. */
  listHeaders: Record<string, string>;
}

export type CredentialSpec =
  | ({ kind: 'static'; env: string } & HeaderTemplates)
  | ({
      kind: 'oidc-exchange';
      env: string;
      /** A path on the upstream ("/v1/oauth/token"), or an absolute URL with {names} from tokenUrlValues. */
      tokenUrl: string;
      tokenUrlValues: Setting[];
      tokenHeaders: Record<string, string>;
      /** How the exchange's fields travel: a JSON object or an HTML form (OAuth token endpoints). */
      body: 'json' | 'form';
      /** The field that carries the OIDC token (`assertion`, or `client_assertion` for a client credential). */
      assertionField: string;
      grantType: string;
      constants: Record<string, string>;
      audienceEnv?: string;
      audienceDefault: string;
      identityFileEnv?: string;
      identityFileFirst: boolean;
      fields: Record<string, string>;
      optionalFields: Record<string, string>;
    } & HeaderTemplates)
  | ({ kind: 'aws-sigv4'; env: string; service: string; source: AwsSource } & AwsIdentity)
  | { kind: 'google-adc'; env: string; scopes: string[] };

/** Where AWS credentials come from (see src/guard/providers/awsCredentials.ts). */
export const AWS_SOURCES = ['env', 'web-identity', 'profile', 'container'] as const;
export type AwsSource = (typeof AWS_SOURCES)[number];

interface AwsIdentity {
  /** web-identity: the GitHub OIDC token's audience when the guard fetches it, and the file that wins over it. */
  audienceDefault?: string;
  identityFileEnv?: string;
}

export interface Route {
  method: string;
  pattern: string;
  /** Where the proxy sends a matching request, when not to the same path. */
  target?: string;
  /** The path's parameters when it matches (bound settings must be equal), else undefined. */
  match(path: string, settings: Record<string, string>): Record<string, string> | undefined;
}

export interface Provider {
  name: string;
  upstreams: UpstreamChoice[];
  settings: Setting[];
  credentials: CredentialSpec[];
  removeEnv: string[];
  placeholder: string;
  agentEnv: Record<string, string>;
  /** Files written into the agent's fresh HOME (path relative to HOME → content), e.g. a CLI's settings. */
  homeFiles: Record<string, string>;
  routes: Route[];
  query: string[];
}

export interface FetcherPolicy {
  toolTypes: string[];
  toolKeys: string[];
  optionKeys: string[];
  pluginIds: string[];
  urlFields: string[];
  sourceTypes: string[];
  searchModels: RegExp[];
}

/** Where a request body says how much it may generate (dotted paths from the body's root). */
export interface BudgetFields {
  outputCaps: string[][];
  outputMultipliers: string[][];
}

export interface AuthFailure {
  agent: string;
  output: RegExp;
  providers: string[];
}

export interface Catalogue {
  providers: Map<string, Provider>;
  fetchers: FetcherPolicy;
  budget: BudgetFields;
  authFailures: AuthFailure[];
}

// A parameter: what model ids, deployments and projects are spelled with (Vertex ids carry @). One
// that fills a whole path segment may hold a colon too (Bedrock's "…-v1:0"); one followed by ":verb"
// in the same segment may not, so the verb the proxy judged is the one upstream reads.
const SEGMENT = '([A-Za-z0-9._@-]+)';
const WHOLE_SEGMENT = '([A-Za-z0-9._:@-]+)';
const ROUTE_SPEC = /^(GET|POST|PUT|DELETE|PATCH) (\/[A-Za-z0-9._:@{}/-]*)(?: -> (\/[A-Za-z0-9._:@{}/-]*))?$/;

function fail(where: string, message: string): never {
  throw new GuardError('providers', `providers.yml: ${where}: ${message}`);
}

export function compileRoute(spec: string, where = 'route'): Route {
  const m = ROUTE_SPEC.exec(spec);
  if (!m) fail(where, `bad route "${spec}" (want "METHOD /path" or "METHOD /path -> /path")`);
  const [, method, pattern, target] = m;
  const names: string[] = [];
  const parts = pattern.split(/(\{[a-z]+\})/);
  const source = parts
    .map((part, i) => {
      if (!/^\{[a-z]+\}$/.test(part)) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(part.slice(1, -1));
      const whole = parts[i - 1].endsWith('/') && (parts[i + 1] === '' || parts[i + 1].startsWith('/'));
      return whole ? WHOLE_SEGMENT : SEGMENT;
    })
    .join('');
  const regex = new RegExp(`^${source}$`);
  return {
    method,
    pattern,
    target,
    match(path, settings) {
      const found = regex.exec(path);
      if (!found) return undefined;
      const params: Record<string, string> = {};
      for (const [i, name] of names.entries()) {
        if (name in settings && settings[name] !== found[i + 1]) return undefined;
        params[name] = found[i + 1];
      }
      return params;
    },
  };
}

function stringArray(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(where, 'must be a list of strings');
  return value as string[];
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(where, 'must be a map');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(where, `${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function requiredString(raw: Record<string, unknown>, key: string, where: string): string {
  if (typeof raw[key] !== 'string' || !raw[key]) fail(where, `${key} missing`);
  return raw[key] as string;
}

function headerTemplates(raw: Record<string, unknown>, where: string): HeaderTemplates {
  const lower = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));
  const headers = lower(stringMap(raw.headers, `${where}.headers`));
  if (Object.keys(headers).length === 0 || !Object.values(headers).some((v) => v.includes('{secret}'))) {
    fail(where, 'headers must carry the {secret}');
  }
  return { headers, listHeaders: lower(stringMap(raw['list-headers'], `${where}.list-headers`)) };
}

function parseCredential(raw: Record<string, unknown>, where: string): CredentialSpec {
  const env = requiredString(raw, 'env', where);
  switch (raw.kind) {
    case 'static':
      return { kind: 'static', env, ...headerTemplates(raw, where) };
    case 'oidc-exchange': {
      const audience = (raw.audience ?? {}) as Record<string, unknown>;
      const tokenUrl = requiredString(raw, 'token-url', where);
      const tokenUrlValues = parseSettings(raw['token-url-values'], where, 'token-url-values');
      const unfilled = [...tokenUrl.matchAll(/\{([a-z]+)\}/g)].map((m) => m[1]).filter((n) => !tokenUrlValues.some((v) => v.name === n));
      if (unfilled.length) fail(where, `token-url names {${unfilled.join('}, {')}} but token-url-values does not say where it comes from`);
      if (!tokenUrl.startsWith('/') && !tokenUrl.startsWith('{') && !tokenUrl.startsWith('https://')) fail(where, 'token-url must be a path (/…) or an https URL');
      const body = raw.body ?? 'json';
      if (body !== 'json' && body !== 'form') fail(where, `body must be json or form, not ${String(body)}`);
      return {
        kind: 'oidc-exchange',
        env,
        tokenUrl,
        tokenUrlValues,
        tokenHeaders: stringMap(raw['token-headers'], `${where}.token-headers`),
        body,
        assertionField: typeof raw['assertion-field'] === 'string' ? raw['assertion-field'] : 'assertion',
        grantType: requiredString(raw, 'grant-type', where),
        constants: stringMap(raw.constants, `${where}.constants`),
        audienceEnv: typeof audience.env === 'string' ? audience.env : undefined,
        audienceDefault: requiredString(audience, 'default', `${where}.audience`),
        ...identityFile(raw, where),
        identityFileFirst: raw['identity-file-first'] === true,
        fields: stringMap(raw.fields, `${where}.fields`),
        optionalFields: stringMap(raw['optional-fields'], `${where}.optional-fields`),
        ...headerTemplates(raw, where),
      };
    }
    case 'aws-sigv4': {
      const source = raw.source ?? 'env';
      if (!AWS_SOURCES.includes(source as AwsSource)) fail(where, `source must be one of ${AWS_SOURCES.join(', ')}`);
      const audience = raw.audience as Record<string, unknown> | undefined;
      if (source === 'web-identity' && typeof audience?.default !== 'string') fail(where, 'a web-identity source needs audience.default');
      return {
        kind: 'aws-sigv4',
        env,
        service: requiredString(raw, 'service', where),
        source: source as AwsSource,
        audienceDefault: typeof audience?.default === 'string' ? audience.default : undefined,
        ...identityFile(raw, where),
      };
    }
    case 'google-adc': {
      const scopes = stringArray(raw.scopes, `${where}.scopes`);
      if (scopes.length === 0) fail(where, 'scopes missing');
      return { kind: 'google-adc', env, scopes };
    }
    default:
      return fail(where, `unknown credential kind "${String(raw.kind)}"`);
  }
}

function identityFile(raw: Record<string, unknown>, where: string): { identityFileEnv?: string } {
  const value = raw['identity-file-env'];
  if (value !== undefined && typeof value !== 'string') fail(where, 'identity-file-env must be a variable name');
  return { identityFileEnv: value };
}

function parseSettings(raw: unknown, where: string, key = 'settings'): Setting[] {
  return Object.entries((raw ?? {}) as Record<string, Record<string, unknown> | null>).map(([name, value]) => {
    const at = `${where}.${key}.${name}`;
    const s = value ?? {};
    if (!/^[a-z]+$/.test(name)) fail(at, 'setting names are lower-case letters');
    const env = typeof s.env === 'string' ? [s.env] : stringArray(s.env, `${at}.env`);
    let pattern: RegExp;
    try {
      pattern = new RegExp(requiredString(s, 'pattern', at));
    } catch (err) {
      return fail(at, `bad pattern: ${(err as Error).message}`);
    }
    const fromUrlEnv = typeof s['from-url-env'] === 'string' ? s['from-url-env'] : undefined;
    if (env.length === 0 && !fromUrlEnv && typeof s.default !== 'string') fail(at, 'needs env, from-url-env or default');
    return { name, env, fromUrlEnv, default: typeof s.default === 'string' ? s.default : undefined, pattern };
  });
}

function parseUpstreams(raw: unknown, where: string): UpstreamChoice[] {
  if (typeof raw === 'string') return [{ when: {}, url: raw }];
  if (!Array.isArray(raw) || raw.length === 0) fail(where, 'upstream missing');
  return raw.map((choice: Record<string, unknown>, i) => ({ when: stringMap(choice?.when, `${where}.upstream[${i}].when`), url: requiredString(choice, 'url', `${where}.upstream[${i}]`) }));
}

function parseProvider(name: string, raw: Record<string, unknown>): Provider {
  const where = name;
  const credentialsRaw = raw.credentials;
  if (!Array.isArray(credentialsRaw) || credentialsRaw.length === 0) fail(where, 'credentials missing');
  const homeFiles = stringMap(raw['home-files'], `${where}.home-files`);
  for (const file of Object.keys(homeFiles)) {
    if (file.startsWith('/') || file.split('/').includes('..')) fail(where, `home-files.${file} must stay inside HOME`);
  }
  return {
    name,
    upstreams: parseUpstreams(raw.upstream, where),
    settings: parseSettings(raw.settings, where),
    credentials: credentialsRaw.map((c: Record<string, unknown>, i) => parseCredential(c ?? {}, `${where}.credentials[${i}]`)),
    removeEnv: stringArray(raw['remove-env'], `${where}.remove-env`),
    placeholder: requiredString(raw, 'placeholder', where),
    agentEnv: stringMap(raw['agent-env'], `${where}.agent-env`),
    homeFiles,
    routes: stringArray(raw.routes, `${where}.routes`).map((r) => compileRoute(r, `${where}.routes`)),
    query: stringArray(raw.query, `${where}.query`),
  };
}

function regexList(value: unknown, where: string): RegExp[] {
  return stringArray(value, where).map((text) => {
    try {
      return new RegExp(text, 'i');
    } catch (err) {
      return fail(where, `bad pattern "${text}": ${(err as Error).message}`);
    }
  });
}

export function parseCatalogue(text: string): Catalogue {
  const doc = (parseDataText(text) ?? {}) as Record<string, unknown>;
  const providers = new Map<string, Provider>();
  for (const [name, raw] of Object.entries((doc.providers ?? {}) as Record<string, Record<string, unknown>>)) {
    providers.set(name, parseProvider(name, raw ?? {}));
  }
  const f = (doc.fetchers ?? {}) as Record<string, unknown>;
  const fetchers: FetcherPolicy = {
    toolTypes: stringArray(f['tool-types'], 'fetchers.tool-types'),
    toolKeys: stringArray(f['tool-keys'], 'fetchers.tool-keys'),
    optionKeys: stringArray(f['option-keys'], 'fetchers.option-keys'),
    pluginIds: stringArray(f['plugin-ids'], 'fetchers.plugin-ids'),
    urlFields: stringArray(f['url-fields'], 'fetchers.url-fields'),
    sourceTypes: stringArray(f['source-types'], 'fetchers.source-types'),
    searchModels: regexList(f['search-models'], 'fetchers.search-models'),
  };
  const b = (doc.budget ?? {}) as Record<string, unknown>;
  const paths = (value: unknown, where: string) => stringArray(value, where).map((p) => p.split('.'));
  const budget: BudgetFields = { outputCaps: paths(b['output-caps'], 'budget.output-caps'), outputMultipliers: paths(b['output-multipliers'], 'budget.output-multipliers') };
  const authFailures = ((doc['auth-failures'] ?? []) as Record<string, unknown>[]).map((a, i) => {
    const where = `auth-failures[${i}]`;
    const [output] = regexList([requiredString(a, 'output', where)], where);
    const providersNamed = stringArray(a.providers, `${where}.providers`);
    for (const p of providersNamed) if (!providers.has(p)) fail(where, `unknown provider ${p}`);
    return { agent: requiredString(a, 'agent', where), output, providers: providersNamed };
  });
  return { providers, fetchers, budget, authFailures };
}
