// The constant evaluator that resolves tool lists and prompt paths (src/analysis/literal.ts) against
// GitHub's own (@actions/expressions): every constant expression over the coercion corner cases must
// come out as the same text GitHub writes into a template.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { resolveText, type LiteralScope } from '../../src/analysis/literal';

const VALUES = ["''", "'0'", "'false'", "'true'", "'abc'", "'ABC'", "'0x10'", "' 1 '", "'1e2'", "'Infinity'", '0', '1', '16', '-1', '0.5', 'true', 'false', 'null'];

function constants(): string[] {
  const out: string[] = [];
  for (const a of VALUES) {
    out.push(a, `!${a}`, `fromJSON('${a.replace(/'/g, '')}')`);
    for (const b of VALUES) out.push(`${a} == ${b}`, `${a} != ${b}`, `${a} && ${b}`, `${a} || ${b}`, `contains(${a}, ${b})`, `startsWith(${a}, ${b})`, `format('{0}-{1}', ${a}, ${b})`);
  }
  return out;
}

it('resolves constant expressions to the text GitHub writes', () => {
  const exprs = constants();
  const oracle = path.join(__dirname, 'oracle', 'evaluateString.mjs');
  const github: ({ value: string } | { error: string })[] = JSON.parse(execFileSync('node', [oracle], { input: JSON.stringify(exprs.map((expr) => ({ expr }))), encoding: 'utf8' }));
  // Nothing in these expressions reads a context: an empty job is scope enough.
  const scope = { job: { job: { env: [] }, workflow: { env: [] }, steps: [] } } as unknown as LiteralScope;
  const wrong: string[] = [];
  let compared = 0;
  exprs.forEach((e, i) => {
    const want = github[i];
    if ('error' in want) return;
    compared++;
    const got = resolveText(`\${{ ${e} }}`, scope);
    if (got.length !== 1 || got[0] !== want.value) wrong.push(`${e}: GitHub ${JSON.stringify(want.value)}, literal.ts ${JSON.stringify(got)}`);
  });
  expect(compared).toBeGreaterThan(2000);
  expect(wrong.slice(0, 20)).toEqual([]);
});
