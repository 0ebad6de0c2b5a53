// Differential test of the gate evaluator against GitHub's own expression evaluator
// (@actions/expressions). Every `if:` in the corpora and fixtures is evaluated with concrete context
// values (drawn from the expression's own literals and the coercion corner cases), and a set of
// generated constant expressions covers the coercions one by one. With every context value pinned,
// gates.ts must agree exactly: a condition GitHub evaluates true that gates.ts calls impossible is a
// gate that does not exist (unsafe), the converse hides an open `!` or `||` branch.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import YAML from 'yaml';
import { canPass, parseCondition, type Scenario } from '../../src/analysis/gates';
import { references, walk, type Expr } from '../../src/workflow/expression';
import { SHARED } from '../corpus/helpers';
import { rng } from '../random';

const ORACLE = path.join(__dirname, 'oracle', 'evaluate.mjs');
const FIXTURES = path.resolve(__dirname, '../fixtures');

interface Case {
  expr: string;
  context: Record<string, unknown>;
  origin: string;
}

function oracle(cases: Case[]): ({ truthy: boolean } | { error: string })[] {
  const out = execFileSync('node', [ORACLE], { input: JSON.stringify(cases.map((c) => ({ expr: c.expr, context: c.context }))), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out);
}

function yamlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** Every `if:` value in a YAML file (any document, any depth). */
function conditionsIn(file: string): string[] {
  const out: string[] = [];
  const visit = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'if' && (typeof x === 'string' || typeof x === 'boolean' || typeof x === 'number')) out.push(String(x));
        else visit(x);
      }
    }
  };
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    try {
      visit(doc.toJS({ maxAliasCount: 100 }));
    } catch {
      // not ours to judge
    }
  }
  return out;
}

const CORNERS: unknown[] = ['', '0', 'false', 'true', 'x', '0x10', ' 1 ', 'NONE', null, 0, 1, 16, true, false];

function literalsOf(e: Expr): unknown[] {
  const out: unknown[] = [];
  walk(e, (n) => {
    if (n.kind === 'literal') out.push(n.value);
  });
  return out;
}

interface Tree {
  children: Map<string, Tree>;
}

/** A concrete context for the paths an expression reads, with leaves drawn from `pool`. */
function contextFor(paths: string[], pool: unknown[], random: () => number): Record<string, unknown> {
  const root: Tree = { children: new Map() };
  for (const p of paths) {
    let node = root;
    for (const seg of p.split('.')) {
      let next = node.children.get(seg);
      if (!next) node.children.set(seg, (next = { children: new Map() }));
      node = next;
    }
  }
  const pick = () => pool[Math.floor(random() * pool.length)];
  const build = (t: Tree, depth: number): unknown => {
    if (!t.children.size) return pick();
    // Now and then an object is missing altogether (null), as `github.event.issue` is on other events.
    if (depth > 2 && random() < 0.1) return null;
    if (t.children.has('*')) {
      const n = Math.floor(random() * 3);
      return Array.from({ length: n }, () => build(t.children.get('*')!, depth + 1));
    }
    const obj: Record<string, unknown> = {};
    for (const [k, c] of t.children) obj[k] = build(c, depth + 1);
    return obj;
  };
  return build(root, 0) as Record<string, unknown>;
}

/** GitHub's access of a dotted path (`*` filters) in a concrete value. */
function lookup(value: unknown, segments: string[]): unknown {
  if (!segments.length) return value;
  const [seg, ...rest] = segments;
  if (seg === '*') {
    const items = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.values(value) : [];
    const out: unknown[] = [];
    for (const item of items) {
      if (!rest.length) out.push(item);
      else if (item && typeof item === 'object') {
        const v = lookupFiltered(item, rest);
        out.push(...v);
      }
    }
    return out;
  }
  if (Array.isArray(value)) {
    const i = Number(seg);
    return Number.isInteger(i) && i < value.length ? lookup(value[i], rest) : null;
  }
  if (value && typeof value === 'object') {
    const key = Object.keys(value).find((k) => k.toLowerCase() === seg);
    return key === undefined ? null : lookup((value as Record<string, unknown>)[key], rest);
  }
  return null;
}

/** Access under a filter: missing keys drop out instead of becoming null. */
function lookupFiltered(item: object, segments: string[]): unknown[] {
  const [seg, ...rest] = segments;
  if (seg === '*') {
    const v = lookup(item, segments);
    return Array.isArray(v) ? v : [];
  }
  const key = Object.keys(item).find((k) => k.toLowerCase() === seg);
  if (key === undefined) return [];
  const v = (item as Record<string, unknown>)[key];
  if (!rest.length) return [v];
  return v && typeof v === 'object' ? lookupFiltered(v, rest) : [];
}

function pinnedScenario(context: Record<string, unknown>): Scenario {
  return {
    event: String(lookup(context, ['github', 'event_name']) ?? 'push'),
    actions: { allowed: null, excluded: [] },
    attacker: new Set(),
    permissionSteps: new Set(),
    permissionJobs: new Set(),
    pinned: (p) => lookup(context, p.split('.')),
  };
}

/** Functions whose value gates.ts does not compute (it answers "either"), so only soundness is checked. */
const OPAQUE_FUNCTIONS = /\b(join|tojson|hashfiles|case|success|failure|cancelled|always)\s*\(/i;

function inner(text: string): string {
  const m = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(text);
  return m ? m[1] : text;
}

const VALUES = ["''", "'0'", "'false'", "'true'", "'abc'", "'ABC'", "'0x10'", "' 1 '", "'1e2'", "'-0'", "'Infinity'", "'0o17'", "'ı'", "'I'", '0', '1', '16', '-1', '0.5', 'true', 'false', 'null', "fromJSON('[]')", "fromJSON('{}')", "fromJSON('[1]')", "fromJSON('{\"a\":\"b\"}')"];

function generated(): string[] {
  const out: string[] = [];
  for (const v of VALUES) out.push(v, `!${v}`, `${v} && 'yes'`, `${v} || ''`, `format('{0}', ${v}) == ${v}`);
  for (const a of VALUES) {
    for (const b of VALUES) {
      for (const op of ['==', '!=', '<', '<=', '>', '>=']) out.push(`${a} ${op} ${b}`);
      out.push(`contains(${a}, ${b})`, `startsWith(${a}, ${b})`, `endsWith(${a}, ${b})`, `(${a} || ${b}) == ${b}`, `(${a} && ${b}) == ${a}`);
    }
  }
  out.push(
    "contains(fromJSON('[\"OWNER\",\"MEMBER\"]'), 'owner')",
    "contains(fromJSON('[1,2]'), '2')",
    "contains(fromJSON('[null]'), '')",
    "fromJSON('{\"a\":[1,{\"b\":2}]}').a[1].b == 2",
    "fromJSON('[{\"n\":\"x\"},{\"n\":\"y\"}]').*.n[1] == 'y'",
    "contains(fromJSON('[{\"n\":\"x\"},{\"m\":\"y\"}]').*.n, 'y')",
    "format('{0}.{1}', 'issues', 'opened') == 'issues.opened'",
    "format('{{0}}', 'a') == '{0}'",
    "fromJSON('\"review\"') == 'review'",
  );
  return out;
}

describe('gate evaluator against GitHub\'s (@actions/expressions)', () => {
  const corpusFiles = [...yamlFiles(SHARED), ...yamlFiles(FIXTURES)];
  const cases: Case[] = [];
  const random = rng(9);
  const seen = new Set<string>();
  for (const file of corpusFiles) {
    for (const text of conditionsIn(file)) {
      const source = inner(text).trim();
      if (!source || seen.has(source)) continue;
      seen.add(source);
      const expr = parseCondition({ text } as never);
      if (!expr) continue;
      const paths = [...new Set(references(expr).map((r) => r.path))];
      const pool = [...CORNERS, ...literalsOf(expr)];
      for (let i = 0; i < 6; i++) cases.push({ expr: source, context: contextFor(paths, pool, random), origin: path.relative(path.resolve(__dirname, '../../..'), file) });
    }
  }
  for (const expr of generated()) cases.push({ expr, context: {}, origin: 'generated' });

  it('covers the corpora and the generated corner cases', () => {
    expect(seen.size).toBeGreaterThan(100);
    expect(cases.length).toBeGreaterThan(3000);
  });

  it('agrees on every case GitHub can evaluate', () => {
    const results = oracle(cases);
    const unsafe: string[] = [];
    const imprecise: string[] = [];
    let evaluated = 0;
    cases.forEach((c, i) => {
      const r = results[i];
      if ('error' in r) return; // GitHub fails the step: nothing to compare
      evaluated++;
      const expr = parseCondition({ text: `\${{ ${c.expr} }}` } as never);
      if (!expr) {
        unsafe.push(`${c.expr} (${c.origin}): gates.ts cannot parse what GitHub evaluates`);
        return;
      }
      const s = pinnedScenario(c.context);
      const t = canPass(expr, s);
      const f = canPass({ kind: 'unary', op: '!', operand: expr, start: 0, end: 0 }, s);
      const where = `${c.expr}  [${c.origin}] with ${JSON.stringify(c.context)}`;
      if ((r.truthy && !t) || (!r.truthy && !f)) unsafe.push(`${where}: GitHub says ${r.truthy}, gates.ts says it cannot be`);
      else if (!OPAQUE_FUNCTIONS.test(c.expr) && t === f) imprecise.push(`${where}: GitHub says ${r.truthy}, gates.ts says either`);
    });
    expect(evaluated).toBeGreaterThan(2500);
    expect(unsafe.slice(0, 20)).toEqual([]);
    expect(imprecise.slice(0, 20)).toEqual([]);
  });
});
