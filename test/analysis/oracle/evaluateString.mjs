// Like evaluate.mjs, but reports the value as GitHub writes it into a template (coerceString).
import { Lexer, Parser, Evaluator, data } from '@actions/expressions';
const CONTEXTS = ['github', 'env', 'vars', 'job', 'jobs', 'steps', 'runner', 'secrets', 'strategy', 'matrix', 'needs', 'inputs'];
const cases = JSON.parse(await new Promise((r) => { let t = ''; process.stdin.on('data', (c) => (t += c)); process.stdin.on('end', () => r(t)); }));
const out = cases.map(({ expr }) => {
  try {
    const parsed = new Parser(new Lexer(expr).lex().tokens, CONTEXTS, []).parse();
    const root = new data.Dictionary();
    for (const n of CONTEXTS) root.add(n, new data.Dictionary());
    return { value: new Evaluator(parsed, root).evaluate().coerceString() };
  } catch (e) { return { error: String(e?.message ?? e) }; }
});
process.stdout.write(JSON.stringify(out));
