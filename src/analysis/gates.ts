// Gates: can an attacker make an `if:` condition true? We evaluate the parsed expression over an
// abstract domain ("one of these strings", "any login but the trusted ones", "an outsider's
// author_association", ...) under a scenario that says which roles the attacker plays. A condition
// is a gate for a scenario when it cannot be true there. This is CodeQL's ControlChecks idea made
// compositional: `||` with an open side, `!`, `contains(fromJSON(...))`, `[bot]` logins and
// same-repository checks all fall out of the evaluation instead of being special-cased patterns.

import { findTemplates, tryParseExpression, accessPath, GITHUB_MAX_EXPRESSION_LENGTH, type Expr } from '../workflow/expression';
import type { YScalar } from '../workflow/yaml';

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
}

type AVal =
  | { k: 'any' }
  | { k: 'strs'; v: string[] }
  | { k: 'bool'; t: boolean; f: boolean }
  | { k: 'login' } // an attacker's login: equal to no trusted literal, but may be a bot's
  | { k: 'repo' } // this repository
  | { k: 'forkRepo' } // an attacker's fork
  | { k: 'array'; items: AVal[] };

const ANY: AVal = { k: 'any' };
const BOTH: AVal = { k: 'bool', t: true, f: true };
const TRUE: AVal = { k: 'bool', t: true, f: false };
const FALSE: AVal = { k: 'bool', t: false, f: true };

/** author_association values a non-collaborator can have. */
export const OUTSIDER_ASSOCIATIONS = ['none', 'contributor', 'first_time_contributor', 'first_timer', 'mannequin'];

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

/** Whether the condition can be true in the scenario. No condition can always be true. */
export function canPass(condition: Expr | null, scenario: Scenario): boolean {
  if (!condition) return true;
  try {
    return truthy(evaluate(condition, scenario)).t;
  } catch (err) {
    // A pathologically deep condition: treat it as no gate rather than crash.
    if (err instanceof RangeError) return true;
    throw err;
  }
}

function truthy(v: AVal): { t: boolean; f: boolean } {
  switch (v.k) {
    case 'bool':
      return v;
    case 'strs':
      return { t: v.v.some((s) => s !== '' && s !== 'false' && s !== '0'), f: v.v.some((s) => s === '' || s === '0') };
    case 'array':
    case 'login':
    case 'repo':
    case 'forkRepo':
      return { t: true, f: false };
    default:
      return { t: true, f: true };
  }
}

function evaluate(e: Expr, s: Scenario): AVal {
  switch (e.kind) {
    case 'literal':
      if (e.value === null) return { k: 'strs', v: [''] };
      if (typeof e.value === 'boolean') return e.value ? TRUE : FALSE;
      return { k: 'strs', v: [String(e.value).toLowerCase()] };
    case 'unary': {
      const t = truthy(evaluate(e.operand, s));
      return { k: 'bool', t: t.f, f: t.t };
    }
    case 'binary':
      return binary(e.op, e.left, e.right, s);
    case 'call':
      return call(e.name, e.args, s);
    default: {
      const path = accessPath(e);
      return path ? contextValue(path, s) : ANY;
    }
  }
}

function binary(op: string, left: Expr, right: Expr, s: Scenario): AVal {
  if (op === '&&') {
    const l = truthy(evaluate(left, s));
    const r = truthy(evaluate(right, s));
    return { k: 'bool', t: l.t && r.t, f: l.f || r.f };
  }
  if (op === '||') {
    const l = truthy(evaluate(left, s));
    const r = truthy(evaluate(right, s));
    return { k: 'bool', t: l.t || r.t, f: l.f && r.f };
  }
  const l = evaluate(left, s);
  const r = evaluate(right, s);
  if (op === '==') return equals(l, r, s);
  if (op === '!=') {
    const eq = equals(l, r, s) as { t: boolean; f: boolean };
    return { k: 'bool', t: eq.f, f: eq.t };
  }
  return BOTH;
}

function equals(a: AVal, b: AVal, s?: Scenario): AVal {
  if (a.k === 'any' || b.k === 'any') return BOTH;
  if (b.k === 'login' || b.k === 'forkRepo' || (b.k === 'repo' && a.k !== 'login' && a.k !== 'forkRepo')) [a, b] = [b, a];
  if (a.k === 'login') {
    // Only a bot login can stand for the attacker: bots act on outsiders' requests.
    if (b.k === 'strs') return { k: 'bool', t: b.v.some((v) => isBotLogin(v) && !s?.trustedBots?.has(v)), f: true };
    return BOTH;
  }
  if (a.k === 'forkRepo') return b.k === 'repo' ? FALSE : BOTH;
  if (a.k === 'repo') return b.k === 'repo' ? TRUE : BOTH;
  if (a.k === 'strs' && b.k === 'strs') {
    const t = a.v.some((x) => b.v.includes(x));
    const f = !(a.v.length === 1 && b.v.length === 1 && a.v[0] === b.v[0]);
    return { k: 'bool', t, f };
  }
  if (a.k === 'bool' && b.k === 'bool') return { k: 'bool', t: (a.t && b.t) || (a.f && b.f), f: (a.t && b.f) || (a.f && b.t) };
  if (a.k === 'bool' && b.k === 'strs') return boolVsStrings(a, b.v);
  if (b.k === 'bool' && a.k === 'strs') return boolVsStrings(b, a.v);
  return BOTH;
}

/** GitHub compares a boolean with a string by number coercion; 'true'/'false' strings are NaN and never equal. */
function boolVsStrings(a: { t: boolean; f: boolean }, strs: string[]): AVal {
  const t = (a.t && strs.includes('1')) || (a.f && strs.some((x) => x === '0' || x === ''));
  return { k: 'bool', t, f: true };
}

function isBotLogin(login: string): boolean {
  return login.endsWith('[bot]');
}

function call(name: string, args: Expr[], s: Scenario): AVal {
  switch (name) {
    case 'success':
    case 'failure':
    case 'cancelled':
      return BOTH;
    case 'always':
      return TRUE;
    case 'fromjson': {
      const arg = args[0] && evaluate(args[0], s);
      if (arg?.k === 'strs' && arg.v.length === 1) return fromJsonLiteral(arg.v[0]);
      return ANY;
    }
    case 'contains': {
      if (args.length !== 2) return BOTH;
      const hay = evaluate(args[0], s);
      const needle = evaluate(args[1], s);
      if (hay.k === 'array') {
        const results = hay.items.map((item) => equals(item, needle, s) as { t: boolean; f: boolean });
        return { k: 'bool', t: results.some((r) => r.t), f: results.every((r) => r.f) };
      }
      if (hay.k === 'strs' && needle.k === 'strs') {
        const t = hay.v.some((h) => needle.v.some((n) => h.includes(n)));
        const f = hay.v.some((h) => needle.v.some((n) => !h.includes(n)));
        return { k: 'bool', t, f };
      }
      return BOTH;
    }
    case 'startswith':
    case 'endswith': {
      const a = args[0] && evaluate(args[0], s);
      const b = args[1] && evaluate(args[1], s);
      if (a?.k === 'strs' && b?.k === 'strs') {
        const test = (x: string, y: string) => (name === 'startswith' ? x.startsWith(y) : x.endsWith(y));
        return { k: 'bool', t: a.v.some((x) => b.v.some((y) => test(x, y))), f: a.v.some((x) => b.v.some((y) => !test(x, y))) };
      }
      return BOTH;
    }
    default:
      return ANY;
  }
}

function fromJsonLiteral(text: string): AVal {
  try {
    return jsonToValue(JSON.parse(text));
  } catch {
    return ANY;
  }
}

function jsonToValue(v: unknown): AVal {
  if (Array.isArray(v)) return { k: 'array', items: v.map(jsonToValue) };
  if (typeof v === 'boolean') return v ? TRUE : FALSE;
  if (v === null) return { k: 'strs', v: [''] };
  if (typeof v === 'string' || typeof v === 'number') return { k: 'strs', v: [String(v).toLowerCase()] };
  return ANY;
}

/** The abstract value of a context path (lowercased, dotted) in the scenario. */
function contextValue(path: string, s: Scenario): AVal {
  const attacked = (role: Role) => s.attacker.has(role);
  switch (path) {
    case 'github.event_name':
      return { k: 'strs', v: [s.event] };
    case 'github.event.action':
      return s.actions.allowed ? { k: 'strs', v: s.actions.allowed } : ANY;
    case 'github.actor':
    case 'github.triggering_actor':
    case 'github.event.sender.login':
      return attacked('actor') ? { k: 'login' } : ANY;
    case 'github.repository':
      return { k: 'repo' };
    case 'github.event.label.name':
      // Only people with triage access label; an attacker firing the event has no label event.
      return attacked('actor') ? { k: 'strs', v: [''] } : ANY;
    case 'github.event.pull_request.head.repo.fork':
      return attacked('pull_request') ? TRUE : ANY;
    case 'github.event.pull_request.head.repo.full_name':
    case 'github.event.pull_request.head.label':
      return attacked('pull_request') ? { k: 'forkRepo' } : ANY;
    case 'github.event.workflow_run.head_repository.full_name':
      return attacked('workflow_run') ? { k: 'forkRepo' } : ANY;
    case 'github.event.workflow_run.head_repository.fork':
      return attacked('workflow_run') ? TRUE : ANY;
    case 'github.event.workflow_run.actor.login':
    case 'github.event.workflow_run.triggering_actor.login':
      return attacked('workflow_run') ? { k: 'login' } : ANY;
    case 'github.event.head_commit.author.name':
    case 'github.event.head_commit.author.username':
    case 'github.event.head_commit.committer.username':
      return attacked('commit') ? { k: 'login' } : ANY;
  }
  const parts = path.split('.');
  if (parts[0] === 'github' && parts[1] === 'event' && parts.length >= 4) {
    const role = OBJECT_ROLES[parts[2]];
    const rest = parts.slice(3).join('.');
    if (role) {
      if (rest === 'author_association') return attacked(role) ? { k: 'strs', v: OUTSIDER_ASSOCIATIONS } : ANY;
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
  return ANY;
}

/** What a permission-check step reports for someone without write access. */
const NOT_PERMITTED: AVal = { k: 'strs', v: ['', 'false', 'none', 'read', 'triage', 'failure', 'skipped'] };
