// What an actions/github-script step outputs, read from its JavaScript: the value it returns (the
// `result` output) and every `core.setOutput(name, value)`, each with the branch conditions under
// which it is produced. A small abstract interpreter over the parsed script (acorn): it follows
// variables, `if`/`else` chains, early returns, object and array literals and field reads, and maps
// the runner's objects to what the workflow knows (`context.payload.issue.body` is
// `github.event.issue.body`, `process.env.X` is the step's `env: X`). Anything it does not model
// becomes `unknown`, which callers treat as "whatever this script could have read".

import { parse, type Node } from 'acorn';
import { findTemplates, tryParseExpression, type Expr } from '../workflow/expression';
import { EMPTY, UNKNOWN, konst, op, union, type Prim, type Sym } from './symbolic';

export interface ScriptValues {
  /** The returned value, as the `result` output holds it (JSON-encoded unless `result-encoding: string`). */
  result: Sym;
  /** `core.setOutput` values by name; `*` collects calls whose name is not a constant. */
  outputs: Map<string, Sym>;
}

export interface ScriptEnv {
  /** The value of the step's environment variable, or undefined when the workflow does not set it. */
  env(name: string): Sym | undefined;
  /** `result-encoding: string`. */
  stringResult: boolean;
  /** An earlier step checked out the pull request's code: files read from the workspace are its author's. */
  prCheckout?: boolean;
}

/** A `${{ }}` template in the script, replaced by an identifier before parsing. */
const TEMPLATE_MARK = /_\$T(\d+)_/g;

const MAX_STEPS = 20_000;

const FUNCTION: Sym = { k: 'opaque', what: 'a function' };

/** Reads the outputs of a github-script script, or returns null when it does not parse. */
export function scriptValues(script: string, env: ScriptEnv): ScriptValues | null {
  const templates: Expr[] = [];
  // GitHub expands `${{ }}` before the script runs; each becomes a marker the interpreter resolves.
  let marked = '';
  let from = 0;
  for (const t of findTemplates(script)) {
    const parsed = tryParseExpression(t.inner);
    marked += script.slice(from, t.start) + (parsed instanceof Error ? '_$TX_' : `_$T${templates.push(parsed) - 1}_`);
    from = t.end;
  }
  marked += script.slice(from);
  let program: Node;
  try {
    program = parse(marked, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true });
  } catch {
    return null;
  }
  const run = new Interpreter(env, templates);
  run.block((program as unknown as { body: Node[] }).body, new Scope(), []);
  if (run.exhausted) return null;
  // An output nobody set (no return on that path, no setOutput) is the empty string.
  const returns = run.returns.map((r) => guarded(r.when, op(env.stringResult ? 'output' : 'json', r.value)));
  const outputs = new Map<string, Sym>();
  for (const [name, values] of run.outputs) outputs.set(name, union([...values.map((r) => guarded(r.when, op('output', r.value))), EMPTY]));
  return { result: union([...returns, EMPTY]), outputs };
}

function guarded(when: Sym[], value: Sym): Sym {
  return when.length ? { k: 'oneOf', options: [{ when, value }] } : value;
}

class Scope {
  constructor(
    readonly vars = new Map<string, Sym>(),
    readonly parent?: Scope,
  ) {}

  get(name: string): Sym | undefined {
    return this.vars.get(name) ?? this.parent?.get(name);
  }

  has(name: string): boolean {
    return this.vars.has(name) || !!this.parent?.has(name);
  }

  set(name: string, value: Sym): void {
    if (this.vars.has(name) || !this.parent?.has(name)) this.vars.set(name, value);
    else this.parent.set(name, value);
  }

  /** A copy for one branch (shares nothing that a branch may change). */
  fork(): Scope {
    return new Scope(new Map(this.vars), this.parent?.fork());
  }

  names(): Set<string> {
    const out = new Set(this.vars.keys());
    for (const n of this.parent?.names() ?? []) out.add(n);
    return out;
  }
}

interface Produced {
  when: Sym[];
  value: Sym;
}

type AnyNode = Node & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Fields of API objects that hold no text anyone could shape into an injection. */
const SAFE_FIELDS = new Set([
  'number',
  'id',
  'node_id',
  'sha',
  'head_sha',
  'login',
  'state',
  'draft',
  'merged',
  'locked',
  'length',
  'created_at',
  'updated_at',
  'closed_at',
  'merged_at',
  'run_id',
  'run_number',
  'run_attempt',
  'conclusion',
  'status',
  'type',
  'author_association',
  'permission',
  'comments',
  'additions',
  'deletions',
  'changed_files',
  'commits',
]);

/** Whether a field of API data holds no outsider text (`number`, `sha`, `login`, …). */
export function isSafeField(name: string): boolean {
  return SAFE_FIELDS.has(name);
}

class Interpreter {
  returns: Produced[] = [];
  outputs = new Map<string, Produced[]>();
  private steps = 0;
  exhausted = false;

  constructor(
    private readonly env: ScriptEnv,
    private readonly templates: Expr[],
  ) {}

  /**
   * Runs statements; returns true when every path through them returned or threw. `when` is the
   * path condition: a statement that ends one of its branches (`if (x) return;`) adds the other
   * branch's condition to it for the statements after it, so record copies of it.
   */
  block(statements: Node[], scope: Scope, when: Sym[]): boolean {
    for (const s of statements) if (this.statement(s as AnyNode, scope, when)) return true;
    return false;
  }

  private statement(s: AnyNode, scope: Scope, when: Sym[]): boolean {
    if (++this.steps > MAX_STEPS) {
      this.exhausted = true;
      return true;
    }
    switch (s.type) {
      case 'ExpressionStatement':
        this.value(s.expression, scope, when);
        return false;
      case 'VariableDeclaration':
        for (const d of s.declarations) this.bind(d.id, d.init ? this.value(d.init, scope, when) : konst(null), scope, true);
        return false;
      case 'ReturnStatement':
        this.returns.push({ when: [...when], value: s.argument ? this.value(s.argument, scope, when) : konst(null) });
        return true;
      case 'ThrowStatement':
        if (s.argument) this.value(s.argument, scope, when);
        return true;
      case 'BlockStatement':
        return this.block(s.body, new Scope(new Map(), scope), when);
      case 'IfStatement': {
        const test = this.value(s.test, scope, when);
        const yes = scope.fork();
        const no = scope.fork();
        const yesEnds = this.statement(s.consequent, yes, [...when, test]);
        const noEnds = s.alternate ? this.statement(s.alternate, no, [...when, op('!', test)]) : false;
        this.merge(scope, [
          { scope: yes, when: test, ends: yesEnds },
          { scope: no, when: op('!', test), ends: noEnds },
        ]);
        if (yesEnds && !noEnds) when.push(op('!', test));
        if (noEnds && !yesEnds) when.push(test);
        return yesEnds && noEnds;
      }
      case 'TryStatement': {
        // The catch block runs when the try block failed part-way: either's assignments may stand.
        const tried = scope.fork();
        const tryEnds = this.statement(s.block, tried, [...when]);
        let caught = scope.fork();
        let catchEnds = false;
        if (s.handler) {
          caught = scope.fork();
          if (s.handler.param) this.bind(s.handler.param, UNKNOWN, caught, true);
          catchEnds = this.statement(s.handler.body, caught, [...when]);
        }
        this.merge(scope, [
          { scope: tried, ends: tryEnds },
          { scope: caught, ends: catchEnds && !!s.handler },
        ]);
        const ends = s.finalizer ? this.statement(s.finalizer, scope, when) : false;
        return ends || (tryEnds && catchEnds);
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'WhileStatement':
      case 'DoWhileStatement': {
        // One pass over the body; what it assigns may or may not have happened.
        const body = scope.fork();
        if (s.type === 'ForStatement' && s.init) {
          if (s.init.type === 'VariableDeclaration') this.statement(s.init, body, when);
          else this.value(s.init, body, when);
        }
        if (s.type === 'ForOfStatement' || s.type === 'ForInStatement') {
          const source = this.value(s.right, body, when);
          const item = s.type === 'ForOfStatement' ? elementOf(source) : { k: 'opaque' as const, what: 'a key' };
          const target = s.left.type === 'VariableDeclaration' ? s.left.declarations[0].id : s.left;
          this.bind(target, item, body, true);
        }
        // The body may not run at all: what it learns about the path does not carry past the loop.
        this.statement(s.body, body, [...when]);
        this.merge(scope, [{ scope: body, ends: false }, { scope: scope.fork(), ends: false }]);
        return false;
      }
      case 'SwitchStatement': {
        const disc = this.value(s.discriminant, scope, when);
        const branches: { scope: Scope; when?: Sym; ends: boolean }[] = [];
        for (const c of s.cases) {
          const branch = scope.fork();
          const test = c.test ? op('===', disc, this.value(c.test, scope, when)) : undefined;
          const ends = this.block(c.consequent.filter((x: AnyNode) => x.type !== 'BreakStatement'), branch, test ? [...when, test] : [...when]);
          branches.push({ scope: branch, when: test, ends });
        }
        branches.push({ scope: scope.fork(), ends: false });
        this.merge(scope, branches);
        return false;
      }
      case 'LabeledStatement':
        return this.statement(s.body, scope, when);
      case 'FunctionDeclaration':
        if (s.id) scope.set(s.id.name, UNKNOWN);
        return false;
      default:
        return false;
    }
  }

  /** After branches: a variable a branch changed holds that branch's value under its condition. */
  private merge(scope: Scope, branches: { scope: Scope; when?: Sym; ends: boolean }[]): void {
    const live = branches.filter((b) => !b.ends);
    for (const name of scope.names()) {
      const before = scope.get(name);
      const values = live.map((b) => ({ when: b.when, value: b.scope.get(name) ?? UNKNOWN }));
      if (values.every((v) => v.value === before)) continue;
      if (!values.length) continue;
      const options = values.map((v) => ({ when: v.when ? [v.when] : [], value: v.value }));
      scope.set(name, options.length === 1 ? options[0].value : { k: 'oneOf', options });
    }
    // Variables declared inside a branch do not outlive it (block scope); `var` is rare in scripts.
  }

  private bind(target: AnyNode, value: Sym, scope: Scope, declare: boolean): void {
    switch (target.type) {
      case 'Identifier':
        if (declare) scope.vars.set(target.name, value);
        else scope.set(target.name, value);
        return;
      case 'ObjectPattern':
        for (const p of target.properties) {
          if (p.type === 'RestElement') this.bind(p.argument, value, scope, declare);
          else this.bind(p.value, member(value, propertyKey(p, (n) => this.value(n, scope, []))), scope, declare);
        }
        return;
      case 'ArrayPattern':
        target.elements.forEach((e: AnyNode | null, i: number) => {
          if (e) this.bind(e.type === 'RestElement' ? e.argument : e, member(value, konst(i)), scope, declare);
        });
        return;
      case 'AssignmentPattern':
        this.bind(target.left, op('||', value, this.value(target.right, scope, [])), scope, declare);
        return;
      case 'MemberExpression': {
        // obj.field = value on an object literal we hold: update that field.
        if (target.object.type === 'Identifier' && !target.computed && target.property.type === 'Identifier') {
          const obj = scope.get(target.object.name);
          if (obj?.k === 'object') {
            const props = new Map(obj.props);
            props.set(target.property.name, value);
            scope.set(target.object.name, { k: 'object', props });
          }
        }
        return;
      }
      default:
        return;
    }
  }

  value(e: AnyNode, scope: Scope, when: Sym[]): Sym {
    if (++this.steps > MAX_STEPS) {
      this.exhausted = true;
      return UNKNOWN;
    }
    switch (e.type) {
      case 'Literal':
        if (typeof e.value === 'string') return this.text(e.value);
        if (e.value === null || typeof e.value === 'boolean' || typeof e.value === 'number') return konst(e.value);
        return { k: 'opaque', what: 'a regular expression' };
      case 'TemplateLiteral': {
        const parts: Sym[] = [];
        e.quasis.forEach((q: AnyNode, i: number) => {
          parts.push(this.text(q.value.cooked ?? q.value.raw));
          if (e.expressions[i]) parts.push(this.value(e.expressions[i], scope, when));
        });
        return concat(parts);
      }
      case 'Identifier': {
        const template = /^_\$T(\d+)_$/.exec(e.name);
        if (template) return { k: 'expr', expr: this.templates[Number(template[1])] };
        if (e.name === 'undefined') return konst(null);
        return scope.get(e.name) ?? UNKNOWN;
      }
      case 'AwaitExpression':
      case 'ParenthesizedExpression':
      case 'ChainExpression':
        return this.value(e.argument ?? e.expression, scope, when);
      case 'AssignmentExpression': {
        let v = this.value(e.right, scope, when);
        if (e.operator === '+=') v = concat([e.left.type === 'Identifier' ? (scope.get(e.left.name) ?? UNKNOWN) : UNKNOWN, v]);
        else if (e.operator === '||=' || e.operator === '??=') v = op('||', e.left.type === 'Identifier' ? (scope.get(e.left.name) ?? UNKNOWN) : UNKNOWN, v);
        else if (e.operator !== '=') v = { k: 'opaque', what: 'a number' };
        this.bind(e.left, v, scope, false);
        return v;
      }
      case 'SequenceExpression':
        return e.expressions.map((x: AnyNode) => this.value(x, scope, when)).pop() ?? UNKNOWN;
      case 'ConditionalExpression':
        return op('cond', this.value(e.test, scope, when), this.value(e.consequent, scope, when), this.value(e.alternate, scope, when));
      case 'LogicalExpression':
        return op(e.operator === '&&' ? '&&' : '||', this.value(e.left, scope, when), this.value(e.right, scope, when));
      case 'UnaryExpression':
        if (e.operator === '!') return op('!', this.value(e.argument, scope, when));
        this.value(e.argument, scope, when);
        return { k: 'opaque', what: e.operator === 'typeof' ? 'a type name' : 'a number' };
      case 'BinaryExpression':
        return this.binary(e, scope, when);
      case 'ObjectExpression': {
        const props = new Map<string, Sym>();
        const spread: Sym[] = [];
        for (const p of e.properties) {
          if (p.type === 'SpreadElement') spread.push(this.value(p.argument, scope, when));
          else props.set(propertyName(p.key, p.computed) ?? '*', p.value.type === 'FunctionExpression' || p.value.type === 'ArrowFunctionExpression' ? UNKNOWN : this.value(p.value, scope, when));
        }
        // A spread copies fields we cannot list: keep what it carries under a field no one names.
        if (spread.length) props.set('*', union(spread));
        return { k: 'object', props };
      }
      case 'ArrayExpression':
        return { k: 'array', items: e.elements.map((x: AnyNode | null) => (x ? (x.type === 'SpreadElement' ? elementOf(this.value(x.argument, scope, when)) : this.value(x, scope, when)) : konst(null))) };
      case 'MemberExpression':
        return this.member(e, scope, when);
      case 'CallExpression':
        return this.call(e, scope, when);
      case 'NewExpression':
        for (const a of e.arguments) this.value(a, scope, when);
        return { k: 'opaque', what: 'an object' };
      case 'ArrowFunctionExpression':
      case 'FunctionExpression':
        return UNKNOWN;
      default:
        return UNKNOWN;
    }
  }

  /** A string literal: constant text, or text around `${{ }}` templates. */
  private text(s: string): Sym {
    if (!s.includes('_$T')) return konst(s);
    const parts: Sym[] = [];
    let from = 0;
    for (const m of s.matchAll(TEMPLATE_MARK)) {
      if (m.index! > from) parts.push(konst(s.slice(from, m.index)));
      parts.push({ k: 'expr', expr: this.templates[Number(m[1])] });
      from = m.index! + m[0].length;
    }
    if (from < s.length) parts.push(konst(s.slice(from)));
    return concat(parts);
  }

  private binary(e: AnyNode, scope: Scope, when: Sym[]): Sym {
    const l = this.value(e.left, scope, when);
    const r = this.value(e.right, scope, when);
    switch (e.operator) {
      case '===':
      case '!==':
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
        return op(e.operator, l, r);
      case '+':
        return l.k === 'const' && r.k === 'const' && typeof l.value === 'number' && typeof r.value === 'number' ? konst(l.value + r.value) : concat([l, r]);
      default:
        return { k: 'opaque', what: 'a number' };
    }
  }

  private member(e: AnyNode, scope: Scope, when: Sym[]): Sym {
    const known = runnerObject(e);
    if (known) return known.env ? (this.env.env(known.env) ?? konst(null)) : known.value!;
    const object = this.value(e.object, scope, when);
    const key = e.computed ? this.value(e.property, scope, when) : konst(e.property.name);
    if (key.k === 'const' && key.value === 'length') return op('length', object);
    return member(object, key);
  }

  private call(e: AnyNode, scope: Scope, when: Sym[]): Sym {
    const callee = e.callee as AnyNode;
    // A callback (`.map(u => '@' + u)`) transforms the elements; it is not itself a value.
    const args = e.arguments.map((a: AnyNode) => (a.type === 'SpreadElement' ? this.value(a.argument, scope, when) : a.type === 'ArrowFunctionExpression' || a.type === 'FunctionExpression' ? FUNCTION : this.value(a, scope, when)));
    const name = calleeName(callee);
    if (name === 'core.setOutput') {
      const key = args[0]?.k === 'const' && typeof args[0].value === 'string' ? args[0].value : '*';
      const list = this.outputs.get(key) ?? [];
      list.push({ when: [...when], value: args[1] ?? konst(null) });
      this.outputs.set(key, list);
      return konst(null);
    }
    if (name && /^github\.(rest\.|request$|graphql$|paginate$|paginate\.)/.test(name)) {
      // github.paginate(github.rest.issues.listComments, …) reads what the method it is given reads.
      const inner = name.startsWith('github.paginate') && e.arguments[0] ? calleeName(e.arguments[0]) : null;
      return { k: 'fetched', call: (inner ?? name).replace(/^github\./, ''), path: [] };
    }
    if (name && /(^|\.)readFileSync$/.test(name)) {
      const file = args[0]?.k === 'const' && typeof args[0].value === 'string' ? args[0].value : 'a file';
      return { k: 'repoFile', file, prCheckout: this.env.prCheckout };
    }
    if (name === 'JSON.parse') return args[0]?.k === 'repoFile' ? { ...args[0], parsed: true } : { k: 'text', from: args.slice(0, 1) };
    if (name === 'JSON.stringify' || name === 'String') return { k: 'text', from: args.slice(0, 1) };
    if (name && /^(parseInt|parseFloat|Number|Boolean|Math\.\w+|Date\.now|isNaN)$/.test(name)) return { k: 'opaque', what: 'a number' };
    if (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier') {
      const self = this.value(callee.object, scope, when);
      return method(self, callee.property.name, args);
    }
    return UNKNOWN;
  }
}

/** The runner's objects the workflow also knows. */
function runnerObject(e: AnyNode): { value?: Sym; env?: string } | null {
  const path = memberPath(e);
  if (!path) return null;
  if (path[0] === 'process' && path[1] === 'env' && path.length === 3) return { env: path[2] };
  if (path[0] !== 'context') return null;
  const [, field, ...rest] = path;
  const expr = (p: string) => ({ value: exprAt(p) });
  switch (field) {
    case 'eventName':
      return rest.length ? null : expr('github.event_name');
    case 'payload':
      return expr(['github.event', ...rest].join('.'));
    case 'actor':
    case 'sha':
    case 'ref':
    case 'workflow':
    case 'job':
    case 'runId':
    case 'runNumber':
    case 'serverUrl':
    case 'apiUrl':
      return rest.length ? null : field === 'actor' ? expr('github.actor') : { value: { k: 'opaque', what: `context.${field}` } };
    case 'repo':
      return { value: rest.length ? { k: 'opaque', what: 'the repository name' } : { k: 'object', props: new Map([['owner', { k: 'opaque', what: 'the owner' } as Sym], ['repo', { k: 'opaque', what: 'the name' } as Sym]]) } };
    case 'issue':
      return { value: rest.length ? { k: 'opaque', what: 'the issue number' } : { k: 'opaque', what: 'the issue' } };
    default:
      return null;
  }
}

/** `a.b.c` as names, or null when a part is computed. */
function memberPath(e: AnyNode): string[] | null {
  const out: string[] = [];
  let n = e;
  while (n.type === 'MemberExpression') {
    if (n.computed) {
      if (n.property.type !== 'Literal' || typeof n.property.value !== 'string') return null;
      out.unshift(n.property.value);
    } else out.unshift(n.property.name);
    n = n.object;
  }
  if (n.type !== 'Identifier') return null;
  out.unshift(n.name);
  return out;
}

function calleeName(callee: AnyNode): string | null {
  const path = callee.type === 'Identifier' ? [callee.name] : memberPath(callee);
  return path ? path.join('.') : null;
}

const exprCache = new Map<string, Expr>();

/** A context path as an expression (`github.event.issue.title`). */
function exprAt(path: string): Sym {
  let expr = exprCache.get(path);
  if (!expr) {
    const parsed = tryParseExpression(path.split('.').map((p, i) => (i === 0 || /^[A-Za-z_][\w-]*$/.test(p) ? p : '*')).join('.'));
    expr = parsed instanceof Error ? ({ kind: 'context', name: 'unknown', start: 0, end: 0 } as Expr) : parsed;
    exprCache.set(path, expr);
  }
  return { k: 'expr', expr };
}

function propertyName(key: AnyNode, computed: boolean): string | null {
  if (!computed && key.type === 'Identifier') return key.name;
  if (key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number')) return String(key.value);
  return null;
}

function propertyKey(p: AnyNode, evaluate: (n: AnyNode) => Sym): Sym {
  const name = propertyName(p.key, p.computed);
  return name !== null ? konst(name) : evaluate(p.key);
}

/** `value[key]` on a symbolic value. */
export function member(value: Sym, key: Sym): Sym {
  const name = key.k === 'const' ? key.value : undefined;
  switch (value.k) {
    case 'object':
      if (typeof name === 'string' || typeof name === 'number') return value.props.get(String(name)) ?? value.props.get('*') ?? konst(null);
      return union([...value.props.values()]);
    case 'array':
      if (typeof name === 'number') return value.items[name] ?? konst(null);
      return union([...value.items, konst(null)]);
    case 'expr': {
      if (typeof name !== 'string' && typeof name !== 'number') return op('get', value, key);
      const expr = value.expr;
      const next: Expr =
        typeof name === 'number'
          ? { kind: 'index', object: expr, index: { kind: 'literal', value: name, start: 0, end: 0 }, start: 0, end: 0 }
          : /^[A-Za-z_][\w-]*$/.test(name)
            ? { kind: 'property', object: expr, name, start: 0, end: 0 }
            : { kind: 'index', object: expr, index: { kind: 'literal', value: name, start: 0, end: 0 }, start: 0, end: 0 };
      return { k: 'expr', expr: next, outputs: value.outputs };
    }
    case 'fetched':
      // Keep the field path: `data.head.sha` is a SHA (no text), and says which commit it is.
      return { ...value, path: [...value.path, typeof name === 'string' || typeof name === 'number' ? String(name) : '*'] };
    case 'repoFile':
      return value;
    case 'text':
      return value;
    case 'oneOf':
      return { k: 'oneOf', options: value.options.map((o) => ({ when: o.when, value: member(o.value, key) })) };
    case 'const':
    case 'opaque':
      return konst(null);
    default:
      return op('get', value, key);
  }
}

/** An element of an array-like value (for `for … of`, spreads, `.find`). */
function elementOf(value: Sym): Sym {
  if (value.k === 'array') return union(value.items.length ? value.items : [konst(null)]);
  if (value.k === 'expr') return member(value, konst(0));
  if (value.k === 'fetched' || value.k === 'text' || value.k === 'repoFile') return value;
  return UNKNOWN;
}

/** Concatenated text: constant when every part is. */
function concat(parts: Sym[]): Sym {
  if (parts.every((p) => p.k === 'const')) return konst(parts.map((p) => primText((p as { value: Prim }).value)).join(''));
  return { k: 'text', from: parts.filter((p) => p.k !== 'const') };
}

function primText(p: Prim): string {
  return p === null ? 'null' : String(p);
}

/** String, array and object methods scripts use on values. */
function method(self: Sym, name: string, args: Sym[]): Sym {
  // A list read from a file stays the maintainers' list through split/trim/map.
  if (self.k === 'repoFile' && /^(split|trim|toLowerCase|map|filter|flat)$/.test(name)) return { ...self, parsed: self.parsed || name === 'split' };
  switch (name) {
    case 'includes':
      return op('includes', self, args[0] ?? konst(null));
    case 'startsWith':
      return op('jsstartswith', self, args[0] ?? konst(null));
    case 'endsWith':
      return op('jsendswith', self, args[0] ?? konst(null));
    case 'some':
    case 'every':
    case 'test':
    case 'hasOwnProperty':
    case 'indexOf':
    case 'lastIndexOf':
    case 'findIndex':
    case 'localeCompare':
      return { k: 'opaque', what: 'a boolean or an index' };
    case 'find':
    case 'at':
    case 'pop':
    case 'shift':
      return elementOf(self);
    case 'toString':
    case 'trim':
    case 'trimStart':
    case 'trimEnd':
    case 'toLowerCase':
    case 'toUpperCase':
    case 'slice':
    case 'substring':
    case 'substr':
    case 'replace':
    case 'replaceAll':
    case 'split':
    case 'join':
    case 'match':
    case 'matchAll':
    case 'concat':
    case 'padStart':
    case 'padEnd':
    case 'repeat':
    case 'map':
    case 'filter':
    case 'flat':
    case 'flatMap':
    case 'sort':
    case 'reverse':
    case 'normalize':
    case 'exec':
      if (self.k === 'const' && args.every((a) => a.k === 'const')) return { k: 'text', from: [] };
      return { k: 'text', from: [self, ...args] };
    default:
      return UNKNOWN;
  }
}
