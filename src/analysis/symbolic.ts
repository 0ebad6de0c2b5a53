// Symbolic values: what a step output (or a variable in the script that computes it) holds, described
// so that two different questions can be asked of it later:
//   - gates (gates.ts): can `needs.dispatch.outputs.command == 'review'` be true when an outsider fires
//     the event? The value is evaluated in each scenario like any expression.
//   - taint (taint.ts): which outsider-written texts can it carry? A number, a SHA or a login carries
//     none, whichever object it was read from.
// Scripts are read into these values by scriptValues.ts; nothing here knows about JavaScript.

import type { Expr } from '../workflow/expression';

export type Prim = string | number | boolean | null;

/** Resolves `steps.<id>.outputs.<name>` / `needs.<job>.outputs.<name>` paths where an expression is evaluated. */
export type OutputResolver = (path: string) => Sym | undefined;

export type SymOp =
  | '=='
  | '!='
  | '==='
  | '!=='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | '!'
  /** GitHub's contains(haystack, needle) (case-insensitive). */
  | 'contains'
  /** JavaScript's haystack.includes(needle) (case-sensitive, arrays by strict equality). */
  | 'includes'
  | 'startswith'
  | 'endswith'
  | 'jsstartswith'
  | 'jsendswith'
  | 'fromjson'
  /** github-script's JSON result encoding (`return 'x'` sets the output to `"x"`). */
  | 'json'
  /** How `core.setOutput` writes a value: strings as they are, null as '', anything else as JSON. */
  | 'output'
  | 'format'
  | 'length'
  /** `a ? b : c` */
  | 'cond'
  /** Property `args[1]` (a constant) of `args[0]`. */
  | 'get';

export type Sym =
  | { k: 'const'; value: Prim }
  /** The value of a GitHub expression; `outputs` resolves the step and job outputs it names. */
  | { k: 'expr'; expr: Expr; outputs?: OutputResolver }
  /** One of the options whose conditions can all be true (branches of an `if`, a ternary). */
  | { k: 'oneOf'; options: { when: Sym[]; value: Sym }[] }
  | { k: 'op'; op: SymOp; args: Sym[] }
  | { k: 'object'; props: Map<string, Sym> }
  | { k: 'array'; items: Sym[] }
  /** A string computed from these values (concatenation, trim, replace …): unknown, carries their text. */
  | { k: 'text'; from: Sym[] }
  /** A value that carries no text: a number, an id, a SHA, a login, a boolean whose value is unknown. */
  | { k: 'opaque'; what: string }
  /**
   * Data a script fetched from the GitHub API at run time: `call` is the method (`rest.pulls.get`),
   * `path` the fields read from the response (`data.head.sha`).
   */
  | { k: 'fetched'; call: string; path: string[] }
  /**
   * A file from the job's checkout (an allowlist, a config), `parsed` into a list or object: the
   * maintainers' text, except on `pull_request`, where the checkout is the pull request's merge commit,
   * and after a step checked out the pull request's code (`prCheckout`).
   */
  | { k: 'repoFile'; file: string; parsed?: boolean; prCheckout?: boolean }
  | { k: 'unknown' };

export const UNKNOWN: Sym = { k: 'unknown' };
export const EMPTY: Sym = { k: 'const', value: '' };

export function konst(value: Prim): Sym {
  return { k: 'const', value };
}

export function op(name: SymOp, ...args: Sym[]): Sym {
  return { k: 'op', op: name, args };
}

/** A union of values (no conditions), flattened. */
export function union(values: Sym[]): Sym {
  const flat: Sym[] = [];
  for (const v of values) {
    if (v.k === 'oneOf' && v.options.every((o) => o.when.length === 0)) flat.push(...v.options.map((o) => o.value));
    else flat.push(v);
  }
  if (flat.length === 1) return flat[0];
  // Too many to tell apart: keep what they carry, forget which value it is.
  if (flat.length > MAX_OPTIONS) return { k: 'text', from: flat };
  return { k: 'oneOf', options: flat.map((value) => ({ when: [], value })) };
}

export const MAX_OPTIONS = 64;
