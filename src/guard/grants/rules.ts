// rules/grants.yml, validated when loaded: a typo in the data must fail loudly (exit 125 naming the
// entry), never open a route or drop a check.
import { parseDataText } from '../../dataText';
import grantsText from '../../../rules/grants.yml';
import { GuardError } from '../errors';

export const REQUEST_KINDS = [
  'comment.create',
  'comment.update',
  'review-comment.update',
  'labels.add',
  'labels.remove',
  'review.create',
  'review.comment',
  'review.reply',
  'pull-request.create',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export const GRANT_KINDS = ['comment', 'label', 'review', 'pull-request', 'update-comment'] as const;
export type GrantKind = (typeof GRANT_KINDS)[number];

export interface RoutePattern {
  method: string;
  pattern: string;
  /** Names of the {placeholders}, in order. */
  names: string[];
  /** Matches decoded path segments; returns the placeholder values or undefined. */
  match(segments: string[]): Record<string, string> | undefined;
}

export interface GrantRule {
  requests: RequestKind[];
  caps: Record<string, number>;
  values?: string[];
  defaultValues?: string[];
}

export interface GrantRules {
  routes: { route: RoutePattern; kind: RequestKind }[];
  grants: Record<GrantKind, GrantRule>;
  reads: RoutePattern[];
  readQuery: string[];
  graphqlRoots: string[];
  graphqlObjects: string[];
  graphqlActors: string[];
  credentialShapes: { name: string; pattern: RegExp }[];
  githubHosts: string[];
  pullRequestExclude: string[];
}

function fail(where: string, message: string): never {
  throw new GuardError('grants', `rules/grants.yml: ${where}: ${message}`);
}

export function compileRoutePattern(spec: string, where: string): RoutePattern {
  const m = /^(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9_{}/.-]*)$/.exec(spec);
  if (!m) fail(where, `bad route "${spec}" (want "METHOD /path")`);
  const parts = m[2].split('/').slice(1);
  const names: string[] = [];
  for (const part of parts) {
    const ph = /^\{([a-z_]+)\}$/.exec(part);
    if (ph) names.push(ph[1]);
    else if (/[{}]/.test(part)) fail(where, `placeholder must be a whole segment in "${spec}"`);
  }
  return {
    method: m[1],
    pattern: m[2],
    names,
    match(segments) {
      if (segments.length !== parts.length) return undefined;
      const out: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const ph = /^\{([a-z_]+)\}$/.exec(parts[i]);
        if (ph) out[ph[1]] = segments[i];
        else if (parts[i] !== segments[i]) return undefined;
      }
      return out;
    },
  };
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) fail(where, 'must be a list of strings');
  return value as string[];
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(where, `"${String(value)}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

function onlyKeys(obj: Record<string, unknown>, keys: string[], where: string): void {
  for (const k of Object.keys(obj)) if (!keys.includes(k)) fail(where, `unknown key "${k}"`);
}

export function parseGrantRules(text: string): GrantRules {
  const doc = parseDataText(text) as Record<string, unknown>;
  if (!doc || typeof doc !== 'object') fail('top', 'not a mapping');
  onlyKeys(doc, ['routes', 'grants', 'reads', 'read-query', 'graphql-roots', 'graphql-objects', 'graphql-actors', 'credential-shapes', 'github-hosts', 'pull-request-exclude'], 'top');

  const routes = Object.entries((doc.routes ?? {}) as Record<string, unknown>).map(([spec, kind]) => ({
    route: compileRoutePattern(spec, `routes.${spec}`),
    kind: oneOf(kind, REQUEST_KINDS, `routes.${spec}`),
  }));

  const grantsRaw = (doc.grants ?? {}) as Record<string, Record<string, unknown>>;
  const grants = {} as Record<GrantKind, GrantRule>;
  for (const kind of GRANT_KINDS) {
    const raw = grantsRaw[kind];
    const where = `grants.${kind}`;
    if (!raw || typeof raw !== 'object') fail(where, 'missing');
    onlyKeys(raw, ['requests', 'caps', 'values', 'default-values'], where);
    const caps: Record<string, number> = {};
    for (const [cap, n] of Object.entries((raw.caps ?? {}) as Record<string, unknown>)) {
      if (!Number.isInteger(n) || (n as number) < 0) fail(`${where}.caps.${cap}`, 'must be a whole number');
      caps[cap] = n as number;
    }
    if (caps.max === undefined) fail(`${where}.caps`, 'needs max');
    const rule: GrantRule = { requests: stringList(raw.requests, `${where}.requests`).map((r) => oneOf(r, REQUEST_KINDS, `${where}.requests`)), caps };
    if (raw.values !== undefined) {
      rule.values = stringList(raw.values, `${where}.values`);
      rule.defaultValues = stringList(raw['default-values'] ?? [], `${where}.default-values`);
      for (const v of rule.defaultValues) if (!rule.values.includes(v)) fail(`${where}.default-values`, `"${v}" is not in values`);
    }
    grants[kind] = rule;
  }
  for (const k of Object.keys(grantsRaw)) oneOf(k, GRANT_KINDS, 'grants');

  const credentialShapes = ((doc['credential-shapes'] ?? []) as Record<string, unknown>[]).map((c, i) => {
    const where = `credential-shapes[${i}]`;
    if (typeof c?.name !== 'string' || typeof c?.pattern !== 'string') fail(where, 'needs name and pattern');
    try {
      return { name: c.name, pattern: new RegExp(c.pattern) };
    } catch (err) {
      return fail(where, `pattern does not compile: ${(err as Error).message}`);
    }
  });
  return {
    routes,
    grants,
    reads: stringList(doc.reads, 'reads').map((r) => compileRoutePattern(r, `reads.${r}`)),
    readQuery: stringList(doc['read-query'], 'read-query'),
    graphqlRoots: stringList(doc['graphql-roots'], 'graphql-roots'),
    graphqlObjects: stringList(doc['graphql-objects'], 'graphql-objects'),
    graphqlActors: stringList(doc['graphql-actors'], 'graphql-actors'),
    credentialShapes,
    githubHosts: stringList(doc['github-hosts'], 'github-hosts'),
    pullRequestExclude: stringList(doc['pull-request-exclude'], 'pull-request-exclude'),
  };
}

let cached: GrantRules | undefined;
export function grantRules(): GrantRules {
  cached ??= parseGrantRules(grantsText);
  return cached;
}
