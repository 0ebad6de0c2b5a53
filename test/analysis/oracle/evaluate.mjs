// GitHub's own expression evaluator (@actions/expressions, the one the workflow editor uses) as an
// oracle. Reads a JSON array of { expr, context } cases on stdin and writes, for each, whether the
// expression is truthy, or the error GitHub would stop on. Run as a child process because the
// package is an ES module and the tests are CommonJS.
import { Lexer, Parser, Evaluator, data } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';

const CONTEXTS = ['github', 'env', 'vars', 'job', 'jobs', 'steps', 'runner', 'secrets', 'strategy', 'matrix', 'needs', 'inputs'];

function toData(value) {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === 'boolean') return new data.BooleanData(value);
  if (typeof value === 'number') return new data.NumberData(value);
  if (typeof value === 'string') return new data.StringData(value);
  if (Array.isArray(value)) return new data.Array(...value.map(toData));
  const dict = new data.Dictionary();
  for (const [k, v] of Object.entries(value)) dict.add(k, toData(v));
  return dict;
}

const cases = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (c) => (text += c));
  process.stdin.on('end', () => resolve(text));
}));

const results = cases.map(({ expr, context }) => {
  try {
    const lexed = new Lexer(expr).lex();
    const parsed = new Parser(lexed.tokens, CONTEXTS, []).parse();
    const root = new data.Dictionary();
    for (const name of CONTEXTS) root.add(name, toData(context?.[name] ?? {}));
    return { truthy: truthy(new Evaluator(parsed, root).evaluate()) };
  } catch (err) {
    return { error: String(err?.message ?? err) };
  }
});
process.stdout.write(JSON.stringify(results));
