// Gates: can an attacker make an `if:` condition true? We evaluate the parsed expression over an
// abstract domain ("one of these values", "any login but the trusted ones", "an outsider's
// author_association", ...) under a scenario that says which roles the attacker plays. A condition
// is a gate for a scenario when it cannot be true there. This is CodeQL's ControlChecks idea made
// compositional: `||` with an open side, `!`, `contains(fromJSON(...))`, `[bot]` logins and
// same-repository checks all fall out of the evaluation instead of being special-cased patterns.
//
// Concrete values follow GitHub's evaluator exactly (checked against @actions/expressions in
// test/analysis/gates.oracle.test.ts): `&&`/`||` return an operand, not a boolean; only '' is a
// falsy string ('0' and 'false' are truthy); `==` between kinds converts to numbers ('' == 0,
// null == 0, '0x10' == 16); strings compare case-insensitively.

import { findTemplates, tryParseExpression, accessPath, GITHUB_MAX_EXPRESSION_LENGTH, type Expr } from '../workflow/expression';
import type { YScalar } from '../workflow/yaml';
import type { OutputResolver, Prim, Sym, SymOp } from './symbolic';

/** Who authored a piece of text. `actor` is whoever fired the event. */
export type Role =
  | 'actor'
  | 'issue'
  | 'comment'
  | 'pull_request'
  | 'review'
  | 'discussion'
  | 'commit'
  | 'workflow_run'
  | 'payload'
  | 'thread';

export interface ActionSet {
  /** When set, the event's activity type is one of these. */
  allowed: string[] | null;
  /** Activity types that cannot occur in this scenario. */
  excluded: string[];
}

export interface Scenario {
  event: string;
  actions: ActionSet;
  attacker: ReadonlySet<Role>;
  /** Step ids (in the job) whose outputs come from a repository-permission check. */
  permissionSteps: ReadonlySet<string>;
  /** Job ids whose outputs/results come from a permission check. */
  permissionJobs: ReadonlySet<string>;
  /** Bot logins the maintainers trust: an equality check on one of them is a gate. */
  trustedBots?: ReadonlySet<string>;
  /** The repository's `owner/name` when known: `github.repository == 'other/repo'` never holds then. */
  repository?: string;
  /** Concrete values of context paths (lower-case, dotted, `*` for any index) that are known. */
  pinned?: (path: string) => unknown;
  /** The PAYLOAD_OBJECTS this event's payload carries (from rules/triggers.yml); the others are null. */
  payload?: ReadonlySet<string>;
}

/** Objects under `github.event` that exist on some events only (`comment` is null on `issues`). */
export const PAYLOAD_OBJECTS: ReadonlySet<string> = new Set(['issue', 'comment', 'pull_request', 'review', 'discussion', 'answer', 'workflow_run', 'head_commit', 'commits']);

/** Abstract values. Strings keep their case; every comparison is case-insensitive, as GitHub's. */
type AVal =
  | { k: 'any' }
  /** Exactly one of these values. */
  | { k: 'vals'; v: Prim[] }
  /** An attacker's login: a non-empty string equal to no login the maintainers chose; it may be a bot's. */
  | { k: 'login' }
  /** A login (or other text) the maintainers chose: never the attacker's login. */
  | { k: 'trusted' }
  /** This repository's `owner/name` (`name` when it is known). */
  | { k: 'repo'; name?: string }
  /** The attacker's fork: never this repository. */
  | { k: 'forkRepo' }
  /**
   * An array; with `open`, `items` are examples of what it holds and its length is unknown. `id` names
   * the context it came from: arrays and dictionaries are equal only to themselves.
   */
  | { k: 'array'; items: AVal[]; open?: boolean; filtered?: boolean; id?: string }
  /** A dictionary with these keys (lower-case); others are null. */
  | { k: 'object'; props: Map<string, AVal>; id?: string }
  /** One of these (never `any`, never nested): a script output that is an object on one branch, '' on another. */
  | { k: 'union'; options: AVal[] };

type Single = Exclude<AVal, { k: 'union' }>;

function optionsOf(v: AVal): Single[] {
  return v.k === 'union' ? (v.options as Single[]) : [v];
}

/** A Truth over every combination of options. */
function anyOf(a: AVal, b: AVal, f: (x: Single, y: Single) => Truth): Truth {
  const out = { t: false, f: false };
  for (const x of optionsOf(a)) {
    for (const y of optionsOf(b)) {
      const r = f(x, y);
      out.t ||= r.t;
      out.f ||= r.f;
    }
  }
  return out;
}

/** A value computed option by option and joined; `null` results (no value, e.g. invalid JSON) drop out. */
function eachOf(v: AVal, f: (x: Single) => AVal | null): AVal | null {
  let out: AVal | null = null;
  for (const x of optionsOf(v)) {
    const r = f(x);
    if (r) out = join(out, r);
  }
  return out;
}

const ANY: AVal = { k: 'any' };
const TRUE: AVal = { k: 'vals', v: [true] };
const FALSE: AVal = { k: 'vals', v: [false] };
const BOTH: AVal = { k: 'vals', v: [true, false] };
const NULL: AVal = { k: 'vals', v: [null] };
const TRUSTED: AVal = { k: 'trusted' };

/** author_association values a non-collaborator can have. */
export const OUTSIDER_ASSOCIATIONS = ['NONE', 'CONTRIBUTOR', 'FIRST_TIME_CONTRIBUTOR', 'FIRST_TIMER', 'MANNEQUIN'];

const OBJECT_ROLES: Record<string, Role> = {
  issue: 'issue',
  comment: 'comment',
  pull_request: 'pull_request',
  review: 'review',
  discussion: 'discussion',
  workflow_run: 'workflow_run',
  head_commit: 'commit',
};

/** Parses an `if:` value. Returns null when there is no condition or it cannot be parsed (then it gates nothing). */
export function parseCondition(node: YScalar | undefined): Expr | null {
  if (!node) return null;
  const text = node.text.trim();
  if (!text) return null;
  const templates = findTemplates(text);
  let source = text;
  if (templates.length) {
    // `if: ${{ a }}` is the expression a; text around a template makes a non-empty string (always true).
    if (templates.length !== 1 || templates[0].start !== 0 || templates[0].end !== text.length) return null;
    source = templates[0].inner;
  }
  // GitHub rejects longer expressions; refusing them also bounds the recursive evaluation below.
  if (source.length > GITHUB_MAX_EXPRESSION_LENGTH) return null;
  const parsed = tryParseExpression(source);
  return parsed instanceof Error ? null : parsed;
}

/**
 * Whether the condition can be true in the scenario. No condition can always be true. `outputs`
 * resolves the step and job outputs the condition reads (a dispatcher's command, a script's verdict).
 */
export function canPass(condition: Expr | null, scenario: Scenario, outputs?: OutputResolver): boolean {
  if (!condition) return true;
  try {
    return truthy(new Evaluator(scenario).expr(condition, outputs)).t;
  } catch (err) {
    // A pathologically deep condition: treat it as no gate rather than crash.
    if (err instanceof RangeError) return true;
    throw err;
  }
}

/** Whether a symbolic value can be truthy in the scenario (used for conditions inside scripts). */
export function canBeTruthy(value: Sym, scenario: Scenario): boolean {
  return truthy(new Evaluator(scenario).sym(value)).t;
}

// ---------------------------------------------------------------------------------------------
// Concrete semantics (GitHub's), on primitives.

function isFalsyPrim(p: Prim): boolean {
  if (p === null) return true;
  if (typeof p === 'boolean') return !p;
  if (typeof p === 'number') return p === 0 || Number.isNaN(p);
  return p.length === 0;
}

function toNumber(p: Prim): number {
  if (p === null) return 0;
  if (typeof p === 'boolean') return p ? 1 : 0;
  if (typeof p === 'number') return p;
  return Number(p);
}

/** GitHub's string form of a value (format, contains, startsWith). */
export function primString(p: Prim): string {
  if (p === null) return '';
  if (typeof p === 'boolean') return p ? 'true' : 'false';
  if (typeof p === 'number') return p === 0 ? '0' : String(+p.toFixed(15));
  return p;
}

function upper(s: string): string {
  // GitHub upper-cases everything but the dotless ı.
  return s.includes('ı') ? s.split('ı').map((x) => x.toUpperCase()).join('ı') : s.toUpperCase();
}

/** The kinds after GitHub's coercion for `==` and ordering: null and booleans become numbers, then a string meets a number as a number. */
function coerced(a: Prim, b: Prim): [Prim, Prim] {
  let x = a;
  let y = b;
  if (x === null || typeof x === 'boolean') x = toNumber(x);
  if (y === null || typeof y === 'boolean') y = toNumber(y);
  if (typeof x === 'number' && typeof y === 'string') y = toNumber(y);
  if (typeof x === 'string' && typeof y === 'number') x = toNumber(x);
  return [x, y];
}

function primEquals(a: Prim, b: Prim): boolean {
  if (typeof a === typeof b && (a === null || typeof a === 'boolean')) return a === b;
  const [x, y] = coerced(a, b);
  if (typeof x === 'number' && typeof y === 'number') return !Number.isNaN(x) && !Number.isNaN(y) && x === y;
  if (typeof x === 'string' && typeof y === 'string') return upper(x) === upper(y);
  return false;
}

function primCompare(op: '<' | '<=' | '>' | '>=', a: Prim, b: Prim): boolean {
  const less = (p: Prim, q: Prim): boolean => {
    if (typeof p === 'boolean' && typeof q === 'boolean') return !p && q;
    const [x, y] = coerced(p, q);
    if (typeof x === 'number' && typeof y === 'number') return !Number.isNaN(x) && !Number.isNaN(y) && x < y;
    if (typeof x === 'string' && typeof y === 'string') return upper(x) < upper(y);
    return false;
  };
  switch (op) {
    case '<':
      return less(a, b);
    case '>':
      return less(b, a);
    case '<=':
      return primEquals(a, b) || less(a, b);
    case '>=':
      return primEquals(a, b) || less(b, a);
  }
}

/** JavaScript's `===` on primitives (scripts compare case-sensitively and without coercion). */
function primStrictEquals(a: Prim, b: Prim): boolean {
  return a === b;
}

// ---------------------------------------------------------------------------------------------
// Abstract operations.

interface Truth {
  t: boolean;
  f: boolean;
}

function truthy(v: AVal): Truth {
  switch (v.k) {
    case 'union':
      return v.options.map(truthy).reduce((a, b) => ({ t: a.t || b.t, f: a.f || b.f }));
    case 'vals':
      return { t: v.v.some((p) => !isFalsyPrim(p)), f: v.v.some(isFalsyPrim) };
    case 'any':
      return { t: true, f: true };
    default:
      // Logins, repository names, arrays and dictionaries are never falsy.
      return { t: true, f: false };
  }
}

function fromTruth(t: Truth): AVal {
  if (t.t && t.f) return BOTH;
  return t.t ? TRUE : FALSE;
}

/** Values of `v` that are truthy (or falsy), for `&&` and `||`, which return an operand. */
function filterTruth(v: AVal, want: boolean): AVal | null {
  if (v.k === 'union') return eachOf(v, (x) => filterTruth(x, want));
  if (v.k === 'vals') {
    const kept = v.v.filter((p) => isFalsyPrim(p) !== want);
    return kept.length ? { k: 'vals', v: kept } : null;
  }
  if (v.k === 'any') return want ? ANY : { k: 'vals', v: ['', null, 0, false] };
  return want ? v : null;
}

/** The least value covering both. */
function join(a: AVal | null, b: AVal | null): AVal {
  if (!a) return b ?? ANY;
  if (!b) return a;
  if (a.k === 'vals' && b.k === 'vals') return { k: 'vals', v: dedupe([...a.v, ...b.v]) };
  // One of two lists: anything either holds, of a length we no longer know.
  if (a.k === 'array' && b.k === 'array') return { k: 'array', items: [...a.items, ...b.items], open: true };
  if (a.k === b.k && (a.k === 'login' || a.k === 'trusted' || a.k === 'forkRepo')) return a;
  if (a.k === 'repo' && b.k === 'repo' && a.name === b.name) return a;
  if (a.k === 'any' || b.k === 'any') return ANY;
  if (a.k === 'union' || b.k === 'union') {
    const [u, rest] = a.k === 'union' ? [a, b] : [b as Extract<AVal, { k: 'union' }>, a];
    return optionsOf(rest).reduce<AVal>((acc, x) => (acc.k === 'union' ? joinUnion(acc, x) : join(acc, x)), u);
  }
  return { k: 'union', options: [a as Single, b as Single] };
}

/** Joins into a union, folding an option into one of the same kind (and giving up past a few). */
function joinUnion(u: Extract<AVal, { k: 'union' }>, x: Single): AVal {
  const options = [...u.options];
  const same = options.findIndex((o) => o.k === x.k);
  if (same >= 0) {
    const merged = join(options[same], x);
    if (merged.k !== 'union' && merged.k !== 'any') {
      options[same] = merged as Single;
      return { k: 'union', options };
    }
  }
  options.push(x);
  return options.length > 8 ? ANY : { k: 'union', options };
}

function dedupe(v: Prim[]): Prim[] {
  const out: Prim[] = [];
  for (const p of v) if (!out.some((q) => q === p || (Number.isNaN(q) && Number.isNaN(p)))) out.push(p);
  return out;
}

/** A login as GitHub names bots. */
function isBotLogin(login: string): boolean {
  return login.toLowerCase().endsWith('[bot]');
}

type Cmp = (a: Prim, b: Prim) => boolean;

/** Whether `test` holds for some pair of known values (t) and fails for some (f). */
function pairwise<X, Y>(xs: X[], ys: Y[], test: (x: X, y: Y) => boolean): Truth {
  const out = { t: false, f: false };
  for (const x of xs) for (const y of ys) (test(x, y) ? (out.t = true) : (out.f = true));
  return out;
}

/** Abstract `==` (or `===` with `strict`). */
function equals(a: AVal, b: AVal, s: Scenario, strict = false): Truth {
  return anyOf(a, b, (x, y) => equalsOne(x, y, s, strict));
}

function equalsOne(a: Single, b: Single, s: Scenario, strict: boolean): Truth {
  if (a.k === 'any' || b.k === 'any') return { t: true, f: true };
  const eq: Cmp = strict ? primStrictEquals : primEquals;
  if (a.k === 'vals' && b.k === 'vals') return pairwise(a.v, b.v, eq);
  // Put the symbolic side first.
  if (a.k === 'vals') [a, b] = [b, a];
  if (a.k === 'array' || a.k === 'object') return { t: sameObject(a, b), f: !sameObject(a, b) };
  if (b.k === 'array' || b.k === 'object') return { t: false, f: true };
  if (a.k === 'login') {
    if (b.k === 'vals') {
      // Only a bot's login can stand for the attacker: bots act on outsiders' requests.
      const t = b.v.some((p) => typeof p === 'string' && isBotLogin(p) && !s.trustedBots?.has(p.toLowerCase()));
      return { t, f: true };
    }
    if (b.k === 'login') return { t: true, f: true };
    return { t: false, f: true }; // trusted logins, repository names
  }
  if (a.k === 'trusted') return b.k === 'login' ? { t: false, f: true } : { t: true, f: true };
  if (a.k === 'forkRepo') return b.k === 'repo' || b.k === 'login' ? { t: false, f: true } : { t: true, f: true };
  if (a.k === 'repo') {
    if (b.k === 'repo') return a.name !== undefined && b.name !== undefined && a.name !== b.name ? { t: false, f: true } : { t: true, f: false };
    if (b.k === 'vals' && a.name !== undefined) return equalsOne({ k: 'vals', v: [a.name] }, b, s, strict);
    if (b.k === 'login' || b.k === 'forkRepo') return { t: false, f: true };
    return { t: true, f: true };
  }
  return { t: true, f: true };
}

/** Reference equality: the same context read twice (fromJSON makes a new value every time). */
function sameObject(a: AVal, b: AVal): boolean {
  return (a.k === 'array' || a.k === 'object') && (b.k === 'array' || b.k === 'object') && a.id !== undefined && a.id === b.id;
}

function compare(op: '<' | '<=' | '>' | '>=', a: AVal, b: AVal): Truth {
  return anyOf(a, b, (x, y) => compareOne(op, x, y));
}

function compareOne(op: '<' | '<=' | '>' | '>=', a: Single, b: Single): Truth {
  // Dictionaries and arrays are ordered against nothing; `<=` and `>=` still hold for the same one.
  if (a.k === 'array' || a.k === 'object' || b.k === 'array' || b.k === 'object') {
    if (a.k === 'any' || b.k === 'any') return { t: true, f: true };
    const t = (op === '<=' || op === '>=') && sameObject(a, b);
    return { t, f: !t };
  }
  if (a.k === 'vals' && b.k === 'vals') return pairwise(a.v, b.v, (x, y) => primCompare(op, x, y));
  return { t: true, f: true };
}

/** The primitive strings of a value when all are known. */
function strings(v: AVal): string[] | null {
  if (v.k === 'vals') return v.v.map(primString);
  if (v.k === 'repo' && v.name !== undefined) return [v.name];
  return null;
}

/** contains(haystack, needle): a substring test on primitives (case-insensitive), membership in arrays. */
function contains(hay: AVal, needle: AVal, s: Scenario, jsIncludes = false): Truth {
  return anyOf(hay, needle, (h, n) => containsOne(h, n, s, jsIncludes));
}

function containsOne(hay: Single, needle: Single, s: Scenario, jsIncludes: boolean): Truth {
  if (hay.k === 'any' || needle.k === 'any') return { t: true, f: true };
  if (hay.k === 'array') {
    if (!hay.items.length) return { t: false, f: true };
    // One needle value at a time: `['a','b'].includes(x)` with x one of a, b is always true.
    const needles: AVal[] = needle.k === 'vals' ? needle.v.map((p) => ({ k: 'vals', v: [p] })) : [needle];
    let t = false;
    let f = false;
    for (const n of needles) {
      const results = hay.items.map((item) => equals(item, n, s, jsIncludes));
      t ||= results.some((r) => r.t);
      f ||= hay.open || results.every((r) => r.f);
    }
    return { t, f };
  }
  if (hay.k === 'object') return { t: false, f: true };
  if (needle.k === 'array' || needle.k === 'object') return jsIncludes ? { t: true, f: true } : { t: false, f: true };
  const hs = strings(hay);
  const ns = strings(needle);
  if (!hs || !ns) return { t: true, f: true };
  return pairwise(hs, ns, (h, n) => (jsIncludes ? h.includes(n) : h.toLowerCase().includes(n.toLowerCase())));
}

function affix(which: 'start' | 'end', a: AVal, b: AVal, caseSensitive: boolean): Truth {
  return anyOf(a, b, (x, y) => affixOne(which, x, y, caseSensitive));
}

function affixOne(which: 'start' | 'end', a: Single, b: Single, caseSensitive: boolean): Truth {
  if (a.k === 'array' || a.k === 'object' || b.k === 'array' || b.k === 'object') return { t: false, f: true };
  const as = strings(a);
  const bs = strings(b);
  if (!as || !bs) return { t: true, f: true };
  return pairwise(as, bs, (x, y) => {
    const [p, q] = caseSensitive ? [x, y] : [upper(x), upper(y)];
    return which === 'start' ? p.startsWith(q) : p.endsWith(q);
  });
}

/** GitHub's format('{0} {1}', a, b) over every combination of known values (a few at most). */
function format(args: AVal[]): AVal {
  const at = args.findIndex((a) => a.k === 'union');
  if (at >= 0) return eachOf(args[at], (x) => format(args.map((a, i) => (i === at ? x : a)))) ?? ANY;
  return formatSingle(args);
}

function formatSingle(args: AVal[]): AVal {
  // GitHub writes a dictionary as 'Object' and an array as 'Array'.
  const lists = args.map((a) => (a.k === 'array' ? ['Array'] : a.k === 'object' ? ['Object'] : strings(a)));
  if (lists.some((l) => !l)) return ANY;
  let combos = 1;
  for (const l of lists) combos *= l!.length;
  if (combos > 64) return ANY;
  const out: string[] = [];
  const pick = (i: number, chosen: string[]) => {
    if (i === lists.length) {
      const text = formatOne(chosen[0], chosen.slice(1));
      if (text !== null) out.push(text);
      return;
    }
    for (const v of lists[i]!) pick(i + 1, [...chosen, v]);
  };
  pick(0, []);
  return out.length ? { k: 'vals', v: out } : ANY;
}

function formatOne(fmt: string, args: string[]): string | null {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c === '{' && fmt[i + 1] === '{') {
      out += '{';
      i++;
    } else if (c === '}' && fmt[i + 1] === '}') {
      out += '}';
      i++;
    } else if (c === '{') {
      const close = fmt.indexOf('}', i);
      const index = close > i + 1 ? fmt.slice(i + 1, close) : '';
      if (!/^\d+$/.test(index) || Number(index) >= args.length) return null;
      out += args[Number(index)];
      i = close;
    } else if (c === '}') {
      return null;
    } else {
      out += c;
    }
  }
  return out;
}

function fromJsonValue(v: unknown): AVal {
  if (Array.isArray(v)) return { k: 'array', items: v.map(fromJsonValue) };
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return { k: 'vals', v: [v] };
  if (typeof v === 'object') {
    const props = new Map<string, AVal>();
    for (const [key, value] of Object.entries(v as Record<string, unknown>)) if (!props.has(key.toLowerCase())) props.set(key.toLowerCase(), fromJsonValue(value));
    return { k: 'object', props };
  }
  return ANY;
}

/** fromJSON(v); null when no value of `v` parses (GitHub fails the job on invalid JSON). */
function fromJson(v: AVal): AVal | null {
  return eachOf(v, (x) => {
    if (x.k === 'array' || x.k === 'object') return x; // an output that serialised this value
    if (x.k !== 'vals') return ANY;
    let out: AVal | null = null;
    for (const p of x.v) {
      try {
        out = join(out, fromJsonValue(JSON.parse(primString(p))));
      } catch {
        // no value comes out of this one
      }
    }
    return out;
  });
}

/** `value.name` / `value[index]` on an evaluated value. */
function member(v: AVal, key: AVal | '*'): AVal {
  if (v.k === 'union') return eachOf(v, (x) => member(x, key)) ?? ANY;
  if (v.k === 'any') return ANY;
  if (key === '*') {
    if (v.k === 'array') return { ...v, filtered: true };
    if (v.k === 'object') return { k: 'array', items: [...v.props.values()], filtered: true };
    return { k: 'array', items: [], filtered: true };
  }
  if (v.k === 'array' && v.filtered) {
    // A filtered array (`a.*`) projects the access onto each item that has it; primitives drop out.
    const items: AVal[] = [];
    let open = v.open;
    for (const item of v.items) {
      if (item.k === 'any') open = true;
      else if (item.k === 'object' && key.k === 'vals' && typeof key.v[0] === 'string' && key.v.length === 1) {
        const found = item.props.get(key.v[0].toLowerCase());
        if (found) items.push(found);
      } else if (item.k === 'object' || item.k === 'array') {
        items.push(member(item, key));
        if (item.k === 'object') open = true; // a computed key may or may not be present
      }
    }
    return { k: 'array', items, open, filtered: true };
  }
  if (v.k === 'array') {
    if (key.k !== 'vals' || key.v.length !== 1) return v.open ? ANY : joinAll(v.items, NULL);
    const n = key.v[0];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return NULL;
    if (n < v.items.length) return v.items[n];
    return v.open ? ANY : NULL;
  }
  if (v.k === 'object') {
    if (key.k !== 'vals' || key.v.length !== 1 || typeof key.v[0] !== 'string') return joinAll([...v.props.values()], NULL);
    return v.props.get(key.v[0].toLowerCase()) ?? NULL;
  }
  return NULL;
}

function joinAll(values: AVal[], extra: AVal): AVal {
  let out: AVal | null = extra;
  for (const v of values) out = join(out, v);
  return out ?? ANY;
}

// ---------------------------------------------------------------------------------------------
// The evaluator.

const MAX_DEPTH = 40;

class Evaluator {
  private depth = 0;

  constructor(private readonly s: Scenario) {}

  expr(e: Expr, outputs?: OutputResolver): AVal {
    switch (e.kind) {
      case 'literal':
        return { k: 'vals', v: [e.value] };
      case 'unary':
        return fromTruth(negate(truthy(this.expr(e.operand, outputs))));
      case 'binary':
        return this.binary(e.op, () => this.expr(e.left, outputs), () => this.expr(e.right, outputs));
      case 'call':
        return this.call(e.name, e.args.map((a) => () => this.expr(a, outputs)));
      case 'context':
        return this.context(e.name.toLowerCase(), outputs);
      default: {
        // Select from the object when its value is known (`fromJSON(x).y`, a fork run's empty
        // `pull_requests[0]`); otherwise the path itself may be known (`github.event.issue.user.login`).
        const object = this.expr(e.object, outputs);
        if (object.k !== 'any') {
          if (e.kind === 'property') return member(object, { k: 'vals', v: [e.name] });
          if (e.kind === 'index') return member(object, this.expr(e.index, outputs));
          return member(object, '*');
        }
        const path = accessPath(e);
        return path !== null ? this.context(path, outputs) : ANY;
      }
    }
  }

  sym(v: Sym): AVal {
    // A value no branch can produce here stands for nothing; `any` is the safe answer at the top.
    return this.possible(v) ?? ANY;
  }

  /** The value, or null when no branch that produces it can be taken in the scenario. */
  private possible(v: Sym): AVal | null {
    if (this.depth > MAX_DEPTH) return ANY;
    this.depth++;
    try {
      if (v.k !== 'oneOf') return this.symInner(v);
      let out: AVal | null = null;
      for (const option of v.options) {
        if (!option.when.every((w) => truthy(this.sym(w)).t)) continue;
        const value = this.possible(option.value);
        if (value) out = join(out, value);
      }
      return out;
    } finally {
      this.depth--;
    }
  }

  private symInner(v: Exclude<Sym, { k: 'oneOf' }>): AVal {
    switch (v.k) {
      case 'const':
        return { k: 'vals', v: [v.value] };
      case 'expr':
        return this.expr(v.expr, v.outputs);
      case 'op':
        return this.op(v.op, v.args);
      case 'object': {
        const props = new Map<string, AVal>();
        for (const [key, value] of v.props) props.set(key.toLowerCase(), this.sym(value));
        return { k: 'object', props };
      }
      case 'array':
        return { k: 'array', items: v.items.map((i) => this.sym(i)) };
      case 'repoFile':
        // On pull_request the checkout is the pull request's merge commit: its author wrote the file.
        if (v.prCheckout || (this.s.event === 'pull_request' && this.s.attacker.has('pull_request'))) return ANY;
        return v.parsed ? { k: 'array', items: [TRUSTED], open: true } : TRUSTED;
      default:
        return ANY;
    }
  }

  private op(name: SymOp, args: Sym[]): AVal {
    const lazy = args.map((a) => () => this.sym(a));
    switch (name) {
      case '!':
        return fromTruth(negate(truthy(lazy[0]())));
      case '===':
      case '!==': {
        const eq = equals(lazy[0](), lazy[1](), this.s, true);
        return fromTruth(name === '===' ? eq : negate(eq));
      }
      case 'includes':
        return fromTruth(contains(lazy[0](), lazy[1](), this.s, true));
      case 'jsstartswith':
        return fromTruth(affix('start', lazy[0](), lazy[1](), true));
      case 'jsendswith':
        return fromTruth(affix('end', lazy[0](), lazy[1](), true));
      case 'json':
      case 'output': {
        // Outputs are strings; dictionaries and arrays stay whole so that fromJSON() gets them back.
        const encode = (p: Prim): string => (name === 'json' ? (typeof p === 'string' ? JSON.stringify(p) : p === null ? 'null' : primString(p)) : primString(p));
        return eachOf(lazy[0](), (value) => (value.k === 'vals' ? { k: 'vals', v: dedupe(value.v.map(encode)) } : value)) ?? ANY;
      }
      case 'length':
        return (
          eachOf(lazy[0](), (value) => {
            if (value.k === 'array' && !value.open) return { k: 'vals', v: [value.items.length] };
            if (value.k === 'vals' && value.v.every((p) => typeof p === 'string')) return { k: 'vals', v: dedupe(value.v.map((p) => (p as string).length)) };
            return ANY;
          }) ?? ANY
        );
      case 'cond': {
        const c = truthy(lazy[0]());
        return c.t && c.f ? join(lazy[1](), lazy[2]()) : c.t ? lazy[1]() : lazy[2]();
      }
      case 'get': {
        const key = lazy[1]();
        return member(lazy[0](), key);
      }
      default:
        if (name === '==' || name === '!=' || name === '<' || name === '<=' || name === '>' || name === '>=' || name === '&&' || name === '||') {
          return this.binary(name, lazy[0], lazy[1]);
        }
        return this.call(name, lazy);
    }
  }

  private binary(op: string, left: () => AVal, right: () => AVal): AVal {
    if (op === '&&' || op === '||') {
      // Both return an operand: `a || b` is a when a is truthy, else b.
      const l = left();
      const keepLeft = filterTruth(l, op === '||');
      const passOn = truthy(l)[op === '||' ? 'f' : 't'];
      return passOn ? join(keepLeft, right()) : (keepLeft ?? ANY);
    }
    const l = left();
    const r = right();
    switch (op) {
      case '==':
        return fromTruth(equals(l, r, this.s));
      case '!=':
        return fromTruth(negate(equals(l, r, this.s)));
      case '<':
      case '<=':
      case '>':
      case '>=':
        return fromTruth(compare(op, l, r));
      default:
        return ANY;
    }
  }

  private call(name: string, args: (() => AVal)[]): AVal {
    switch (name) {
      case 'success':
      case 'failure':
      case 'cancelled':
        return BOTH;
      case 'always':
        return TRUE;
      case 'fromjson':
        return args.length === 1 ? (fromJson(args[0]()) ?? ANY) : ANY;
      case 'contains':
        return args.length === 2 ? fromTruth(contains(args[0](), args[1](), this.s)) : BOTH;
      case 'startswith':
      case 'endswith':
        return args.length === 2 ? fromTruth(affix(name === 'startswith' ? 'start' : 'end', args[0](), args[1](), false)) : BOTH;
      case 'format':
        return args.length >= 1 ? format(args.map((a) => a())) : ANY;
      default:
        return ANY;
    }
  }

  /** The abstract value of a context path (lowercased, dotted) in the scenario. */
  private context(path: string, outputs?: OutputResolver): AVal {
    const s = this.s;
    const pinned = s.pinned?.(path);
    if (pinned !== undefined) {
      const value = fromJsonValue(pinned);
      return value.k === 'array' || value.k === 'object' ? { ...value, id: path } : value;
    }
    const attacked = (role: Role) => s.attacker.has(role);
    switch (path) {
      case 'github.event_name':
        return { k: 'vals', v: [s.event] };
      case 'github.event.action':
        return s.actions.allowed ? { k: 'vals', v: s.actions.allowed } : ANY;
      case 'github.actor':
      case 'github.triggering_actor':
      case 'github.event.sender.login':
        return attacked('actor') ? { k: 'login' } : ANY;
      case 'github.repository':
        return { k: 'repo', name: s.repository };
      case 'github.repository_owner':
        return s.repository ? { k: 'vals', v: [s.repository.split('/')[0]] } : ANY;
      case 'github.event.label.name':
        // Only people with triage access label; an attacker firing the event has no label event.
        return attacked('actor') ? NULL : ANY;
      case 'github.event.pull_request.head.repo.fork':
        return attacked('pull_request') ? TRUE : ANY;
      case 'github.event.pull_request.head.repo.full_name':
      case 'github.event.pull_request.head.label':
        return attacked('pull_request') ? { k: 'forkRepo' } : ANY;
      case 'github.event.workflow_run.head_repository.full_name':
        return attacked('workflow_run') ? { k: 'forkRepo' } : ANY;
      case 'github.event.workflow_run.head_repository.fork':
        return attacked('workflow_run') ? TRUE : ANY;
      case 'github.event.workflow_run.pull_requests':
        // GitHub leaves it empty for runs from forks (the PR's head is in another repository).
        return attacked('workflow_run') ? { k: 'array', items: [], id: path } : ANY;
      case 'github.event.workflow_run.actor.login':
      case 'github.event.workflow_run.triggering_actor.login':
        return attacked('workflow_run') ? { k: 'login' } : ANY;
      case 'github.event.head_commit.author.name':
      case 'github.event.head_commit.author.username':
      case 'github.event.head_commit.committer.username':
        return attacked('commit') ? { k: 'login' } : ANY;
    }
    const parts = path.split('.');
    if (parts[0] === 'github' && parts[1] === 'event' && s.payload && PAYLOAD_OBJECTS.has(parts[2]) && !s.payload.has(parts[2])) return NULL;
    if (parts[0] === 'github' && parts[1] === 'event' && parts.length >= 4) {
      const role = OBJECT_ROLES[parts[2]];
      const rest = parts.slice(3).join('.');
      if (role) {
        if (rest === 'author_association') return attacked(role) ? { k: 'vals', v: OUTSIDER_ASSOCIATIONS } : ANY;
        if (rest === 'user.login' || rest === 'head.user.login' || rest === 'head.repo.owner.login') {
          return attacked(role) ? { k: 'login' } : ANY;
        }
      }
    }
    if (parts[0] === 'steps' && parts.length >= 3 && s.permissionSteps.has(parts[1]) && attacked('actor')) {
      return NOT_PERMITTED;
    }
    if (parts[0] === 'needs' && parts.length >= 3 && s.permissionJobs.has(parts[1]) && attacked('actor')) {
      return NOT_PERMITTED;
    }
    if ((parts[0] === 'steps' || parts[0] === 'needs') && parts[2] === 'outputs' && parts.length === 4 && outputs) {
      const value = outputs(path);
      if (value) return this.sym(value);
    }
    return ANY;
  }
}

function negate(t: Truth): Truth {
  return { t: t.f, f: t.t };
}

/** What a permission-check step reports for someone without write access. */
const NOT_PERMITTED: AVal = { k: 'vals', v: ['', 'false', 'none', 'read', 'triage', 'failure', 'skipped'] };
