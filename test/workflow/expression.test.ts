import {
  Expr,
  ExpressionSyntaxError,
  KNOWN_CONTEXTS,
  KNOWN_FUNCTIONS,
  MAX_NESTING,
  Reference,
  accessPath,
  findTemplates,
  parseExpression,
  references,
  tryParseExpression,
  valueReferences,
  walk,
} from '../../src/workflow/expression';
import { rng } from '../random';

// ---------------------------------------------------------------------------------------------
// helpers

/** Fully parenthesised rendering of a tree, so tests can compare shapes as strings. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      if (typeof e.value === 'string') return `'${e.value.replace(/'/g, "''")}'`;
      if (typeof e.value === 'number') return Object.is(e.value, -0) ? '-0' : String(e.value);
      return String(e.value);
    case 'context':
      return e.name;
    case 'property':
      return `${show(e.object)}.${e.name}`;
    case 'index':
      return `${show(e.object)}[${show(e.index)}]`;
    case 'star':
      return `${show(e.object)}.*`;
    case 'call':
      return `${e.name}(${e.args.map(show).join(', ')})`;
    case 'unary':
      return `(! ${show(e.operand)})`;
    case 'binary':
      return `(${e.op} ${show(e.left)} ${show(e.right)})`;
  }
}

const p = (text: string): string => show(parseExpression(text));

function syntaxError(text: string): ExpressionSyntaxError {
  try {
    parseExpression(text);
  } catch (err) {
    if (err instanceof ExpressionSyntaxError) return err;
    throw err;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(text)}`);
}

function refs(text: string): Array<[string, string[]]> {
  return references(parseExpression(text)).map((r) => [r.path, r.functions]);
}

function timed<T>(fn: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = fn();
  return { result, ms: performance.now() - t0 };
}

function countNodes(e: Expr): number {
  let n = 0;
  walk(e, () => {
    n++;
  });
  return n;
}

// ---------------------------------------------------------------------------------------------
// literals

describe('literals', () => {
  test.each<[string, null | boolean | number | string]>([
    ['null', null],
    ['true', true],
    ['false', false],
    ['TRUE', true],
    ['True', true],
    ['Null', null],
    ['NULL', null],
    ['FaLsE', false],
    ['0', 0],
    ['1', 1],
    ['42', 42],
    ['-1', -1],
    ['+1', 1],
    ['1.5', 1.5],
    ['-2.25', -2.25],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['1.', 1],
    ['1e3', 1000],
    ['1E3', 1000],
    ['2.5e-3', 0.0025],
    ['-2.5e+2', -250],
    ['0xff', 255],
    ['0xFF', 255],
    ['0x7fffffff', 2147483647],
    ['0xffffffff', -1], // the runner reads hex as a signed 32-bit integer
    ['0o17', 15],
    ['007', 7],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ["'abc'", 'abc'],
    ["''", ''],
    ["'it''s'", "it's"],
    ["''''", "'"],
    ["'a''''b'", "a''b"],
    ["'}}'", '}}'],
    ["'${{ x }}'", '${{ x }}'],
    ["'line1\nline2'", 'line1\nline2'],
    ["'ünïcödé ✓'", 'ünïcödé ✓'],
    ["'\"double\"'", '"double"'],
    ["'  spaced  '", '  spaced  '],
  ])('%j', (text, value) => {
    const e = parseExpression(text);
    expect(e).toEqual({ kind: 'literal', value, start: 0, end: text.length });
  });

  test('NaN is a number literal (case-sensitive, like the runner)', () => {
    const e = parseExpression('NaN');
    expect(e.kind).toBe('literal');
    expect(e.kind === 'literal' && Number.isNaN(e.value)).toBe(true);
    expect(parseExpression('nan')).toEqual({ kind: 'context', name: 'nan', start: 0, end: 3 });
    expect(parseExpression('infinity')).toEqual({ kind: 'context', name: 'infinity', start: 0, end: 8 });
  });

  test('whitespace around a literal is not part of its span', () => {
    expect(parseExpression("  \t'x'\n ")).toEqual({ kind: 'literal', value: 'x', start: 3, end: 6 });
    expect(parseExpression('\u00a0true\u3000')).toEqual({ kind: 'literal', value: true, start: 1, end: 5 });
  });

  test.each(['0x', '0X1', '-0x1', '0xg', '0x100000000', '0o8', '1.2.3', '1e', '1e+', '1abc', '1_000', '--1', '+-1', '1-1', '.5.5'])(
    'invalid number %s',
    (text) => {
      const err = syntaxError(text);
      expect(err.offset).toBe(0);
      expect(err.message).toBe(`invalid number '${text}' at offset 0`);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// operators

describe('precedence and associativity', () => {
  test.each<[string, string]>([
    ['a || b && c', '(|| a (&& b c))'],
    ['a && b || c', '(|| (&& a b) c)'],
    ['a || b || c', '(|| (|| a b) c)'],
    ['a && b && c', '(&& (&& a b) c)'],
    ['a == b && c != d', '(&& (== a b) (!= c d))'],
    ['a == b == c', '(== (== a b) c)'],
    ['a != b == c', '(== (!= a b) c)'],
    ['a < b == c > d', '(== (< a b) (> c d))'],
    ['a < b < c', '(< (< a b) c)'],
    ['a <= b >= c', '(>= (<= a b) c)'],
    ['a > 1 && a <= 10 || b', '(|| (&& (> a 1) (<= a 10)) b)'],
    ['!a == b', '(== (! a) b)'],
    ['!a && !b', '(&& (! a) (! b))'],
    ['!!a', '(! (! a))'],
    ['! ! ! a', '(! (! (! a)))'],
    ['!(a == b)', '(! (== a b))'],
    ['!a.b', '(! a.b)'],
    ['!a[0].b', '(! a[0].b)'],
    ['(a || b) && c', '(&& (|| a b) c)'],
    ['a || (b || c)', '(|| a (|| b c))'],
    ['((a))', 'a'],
    ['a == (b == c)', '(== a (== b c))'],
    ['a==b', '(== a b)'],
    ['a<=b', '(<= a b)'],
    ['a!=b', '(!= a b)'],
    ['a<b', '(< a b)'],
    ['a>b', '(> a b)'],
    ['a>=-1', '(>= a -1)'],
    ['a==.5', '(== a 0.5)'],
    ["a&&'x'||null", "(|| (&& a 'x') null)"],
    ['a\n&&\r\nb\t||\tc', '(|| (&& a b) c)'],
    ['1 == 1.0', '(== 1 1)'],
    ["'a' == 'A'", "(== 'a' 'A')"],
    ['!true', '(! true)'],
    ['(!a)', '(! a)'],
  ])('%j', (text, expected) => {
    expect(p(text)).toBe(expected);
  });

  test('binary and unary spans', () => {
    const e = parseExpression(' a == b && !c ');
    expect(e).toMatchObject({ kind: 'binary', op: '&&', start: 1, end: 13 });
    if (e.kind !== 'binary') throw new Error('shape');
    expect(e.left).toMatchObject({ kind: 'binary', op: '==', start: 1, end: 7 });
    expect(e.right).toMatchObject({ kind: 'unary', start: 11, end: 13 });
    // parentheses around an operand are inside the enclosing span
    const g = parseExpression('(a || b) && (c)');
    expect(g).toMatchObject({ start: 0, end: 15 });
    if (g.kind !== 'binary') throw new Error('shape');
    expect(g.left).toMatchObject({ op: '||', start: 1, end: 7 });
    expect(g.right).toMatchObject({ kind: 'context', name: 'c', start: 13, end: 14 });
  });
});

// ---------------------------------------------------------------------------------------------
// property, index and star

describe('property, index and star access', () => {
  test.each<[string, string]>([
    ['github.event.issue.title', 'github.event.issue.title'],
    ['steps.my-step.outputs.x', 'steps.my-step.outputs.x'],
    ['steps.a--b_c9.outputs', 'steps.a--b_c9.outputs'],
    ['_private.x', '_private.x'],
    ['a . b . c', 'a.b.c'],
    ["a['b']", "a['b']"],
    ["a[ 'b' ].c", "a['b'].c"],
    ['a[0]', 'a[0]'],
    ['a[0][1]', 'a[0][1]'],
    ['a[b.c]', 'a[b.c]'],
    ['a[b[c]]', 'a[b[c]]'],
    ["a[format('{0}', b)]", "a[format('{0}', b)]"],
    ['a[b == c]', 'a[(== b c)]'],
    ['a.*', 'a.*'],
    ['a[*]', 'a.*'],
    ['a[ * ]', 'a.*'],
    ['a.*.b', 'a.*.b'],
    ['a[*].b', 'a.*.b'],
    ['a.*[0]', 'a.*[0]'],
    ['a.*.*', 'a.*.*'],
    ['a.true', 'a.true'],
    ['a.null.false', 'a.null.false'],
    ['a.NaN.Infinity', 'a.NaN.Infinity'],
    ['a.contains', 'a.contains'],
    ['github.Event.ISSUE', 'github.Event.ISSUE'],
    ['(a).b', 'a.b'],
    ['(a || b).c', '(|| a b).c'],
    ['(a || b)[0]', '(|| a b)[0]'],
    ["('abc')[0]", "'abc'[0]"],
    ['fromJSON(x).a', 'fromjson(x).a'],
    ["fromJSON(x)['a'].*", "fromjson(x)['a'].*"],
    ['fromJSON(x)[0]', 'fromjson(x)[0]'],
  ])('%j', (text, expected) => {
    expect(p(text)).toBe(expected);
  });

  test('node shapes and spans', () => {
    expect(parseExpression("github.event['issue'][0].*")).toEqual({
      kind: 'star',
      start: 0,
      end: 26,
      object: {
        kind: 'index',
        start: 0,
        end: 24,
        index: { kind: 'literal', value: 0, start: 22, end: 23 },
        object: {
          kind: 'index',
          start: 0,
          end: 21,
          index: { kind: 'literal', value: 'issue', start: 13, end: 20 },
          object: {
            kind: 'property',
            name: 'event',
            start: 0,
            end: 12,
            object: { kind: 'context', name: 'github', start: 0, end: 6 },
          },
        },
      },
    });
    expect(parseExpression('a[*]')).toEqual({
      kind: 'star',
      start: 0,
      end: 4,
      object: { kind: 'context', name: 'a', start: 0, end: 1 },
    });
    // a postfix chain on a group starts at the '('
    expect(parseExpression(' (a).b ')).toMatchObject({ kind: 'property', name: 'b', start: 1, end: 6 });
  });

  test('property names keep their case; contexts are lower-cased', () => {
    const e = parseExpression('GitHub.Event.Issue');
    expect(e).toMatchObject({ kind: 'property', name: 'Issue', object: { name: 'Event', object: { kind: 'context', name: 'github' } } });
  });
});

// ---------------------------------------------------------------------------------------------
// calls

describe('function calls', () => {
  test.each<[string, string]>([
    ["contains(github.event.issue.labels.*.name, 'bug')", "contains(github.event.issue.labels.*.name, 'bug')"],
    ["startsWith(github.ref, 'refs/tags/')", "startswith(github.ref, 'refs/tags/')"],
    ["endsWith(a, 'x')", "endswith(a, 'x')"],
    ["format('{0} {1}', a, b.c)", "format('{0} {1}', a, b.c)"],
    ["join(a.*.b, ', ')", "join(a.*.b, ', ')"],
    ['toJSON(github)', 'tojson(github)'],
    ["fromJSON('[1,2]')", "fromjson('[1,2]')"],
    ["hashFiles('**/package-lock.json', '**/yarn.lock')", "hashfiles('**/package-lock.json', '**/yarn.lock')"],
    ['success()', 'success()'],
    ['always( )', 'always()'],
    ['cancelled ()', 'cancelled()'],
    ['FAILURE()', 'failure()'],
    ["case(a == 'x', 1, 2)", "case((== a 'x'), 1, 2)"],
    ['toJSON(fromJSON(toJSON(a)))', 'tojson(fromjson(tojson(a)))'],
    ['contains(a, b) && !startsWith(c, d)', '(&& contains(a, b) (! startswith(c, d)))'],
    ['contains((a), (b || c))', 'contains(a, (|| b c))'],
    ['success() || failure()', '(|| success() failure())'],
    ['myfunc(1)', 'myfunc(1)'],
    ['a (b)', 'a(b)'], // like the runner: an identifier followed by '(' (after any whitespace) is a call
  ])('%j', (text, expected) => {
    expect(p(text)).toBe(expected);
  });

  test('call shape and span', () => {
    expect(parseExpression(" Contains( a , 'b' ) ")).toEqual({
      kind: 'call',
      name: 'contains',
      start: 1,
      end: 20,
      args: [
        { kind: 'context', name: 'a', start: 11, end: 12 },
        { kind: 'literal', value: 'b', start: 15, end: 18 },
      ],
    });
  });

  test('known function and context lists are lower case', () => {
    for (const f of KNOWN_FUNCTIONS) expect(f).toBe(f.toLowerCase());
    expect(KNOWN_FUNCTIONS.has('tojson')).toBe(true);
    expect(KNOWN_CONTEXTS.has('secrets')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// errors

describe('syntax errors', () => {
  test.each<[string, number, string]>([
    // empty
    ['', 0, 'empty expression'],
    ['   \n\t ', 0, 'empty expression'],
    // unbalanced parentheses / brackets
    ['(a', 0, "unclosed '(' at offset 0 (expected ')' before end of expression)"],
    ['((a)', 0, "unclosed '(' at offset 0 (expected ')' before end of expression)"],
    ['a && (b || (c)', 5, "unclosed '(' at offset 5 (expected ')' before end of expression)"],
    ['a[0', 1, "unclosed '[' at offset 1 (expected ']' before end of expression)"],
    ['a[*', 1, "unclosed '[' at offset 1 (expected ']' before end of expression)"],
    ['f(a', 1, "unclosed '(' at offset 1 (expected ')' before end of expression)"],
    ['f(a,', 4, 'unexpected end of expression at offset 4'],
    ['f(', 2, 'unexpected end of expression at offset 2'],
    ['(a]', 2, "unexpected ']' at offset 2 (expected ')' to close '(' at offset 0)"],
    ['a[0)', 3, "unexpected ')' at offset 3 (expected ']' to close '[' at offset 1)"],
    ['a)', 1, "unexpected ')' at offset 1"],
    ['(a))', 3, "unexpected ')' at offset 3"],
    ['a]', 1, "unexpected ']' at offset 1"],
    [')', 0, "unexpected ')' at offset 0"],
    ['()', 1, "unexpected ')' at offset 1"],
    ['a[]', 2, "unexpected ']' at offset 2"],
    ['a[*.b]', 3, "unexpected '.' at offset 3 (expected ']' to close '[' at offset 1)"],
    // trailing tokens
    ['a b', 2, "unexpected 'b' at offset 2"],
    ['a.b c.d', 4, "unexpected 'c' at offset 4"],
    ["'a' 'b'", 4, "unexpected 'b' at offset 4"],
    ["a 'it''s'", 2, "unexpected 'it''s' at offset 2"],
    ['true false', 5, "unexpected 'false' at offset 5"],
    ['a !b', 2, "unexpected '!' at offset 2"],
    ['a -1', 2, "unexpected '-1' at offset 2"],
    ['a.b (c)', 4, "unexpected '(' at offset 4"],
    ['(a) (b)', 4, "unexpected '(' at offset 4"],
    // missing operands
    ['a ==', 4, 'unexpected end of expression at offset 4'],
    ['== a', 0, "unexpected '==' at offset 0"],
    ['a && || b', 5, "unexpected '||' at offset 5"],
    ['!', 1, 'unexpected end of expression at offset 1'],
    ['a.', 2, "unexpected end of expression at offset 2 (expected a property name or '*')"],
    ['a..b', 2, "unexpected '.' at offset 2 (expected a property name or '*')"],
    ['a.(b)', 2, "unexpected '(' at offset 2 (expected a property name or '*')"],
    ['a.5', 2, "unexpected '5' at offset 2 (expected a property name or '*')"],
    ["a.'b'", 2, "unexpected 'b' at offset 2 (expected a property name or '*')"],
    ['.a', 0, "unexpected '.' at offset 0"],
    ['*', 0, "unexpected '*' at offset 0"],
    [',', 0, "unexpected ',' at offset 0"],
    ['[0]', 0, "unexpected '[' at offset 0"],
    // calls only at the root, and well-formed argument lists
    ['a.b()', 3, "unexpected '(' at offset 3"],
    ['a.b(c)', 3, "unexpected '(' at offset 3"],
    ['f(a,)', 4, "unexpected ')' at offset 4"],
    ['f(,a)', 2, "unexpected ',' at offset 2"],
    ['f(a b)', 4, "unexpected 'b' at offset 4 (expected ',' or ')')"],
    ['f(a)(b)', 4, "unexpected '(' at offset 4"],
    ['true()', 4, "unexpected '(' at offset 4"],
    ['null.x', 4, "unexpected '.' at offset 4"],
    // postfix on literals is not allowed (as in the runner)
    ["'abc'[0]", 5, "unexpected '[' at offset 5"],
    ["'abc'.length", 5, "unexpected '.' at offset 5"],
    ['1[0]', 1, "unexpected '[' at offset 1"],
    // bad strings
    ["'abc", 0, 'unterminated string literal at offset 0'],
    ["a == 'it''s", 5, 'unterminated string literal at offset 5'],
    ["'", 0, 'unterminated string literal at offset 0'],
    ['"abc"', 0, `unexpected '"' at offset 0 (strings use single quotes)`],
    ['a == "x"', 5, `unexpected '"' at offset 5 (strings use single quotes)`],
    // unknown / lone operator characters
    ['a = b', 2, "unexpected '=' at offset 2 (use '==' to compare)"],
    ['a & b', 2, "unexpected '&' at offset 2 (use '&&')"],
    ['a | b', 2, "unexpected '|' at offset 2 (use '||')"],
    ['a $ b', 2, "unexpected character '$' at offset 2"],
    ['a$', 1, "unexpected character '$' at offset 1"],
    ['${{ a }}', 0, "unexpected character '$' at offset 0"],
    ['a}}', 1, "unexpected character '}' at offset 1"],
    ['a*', 1, "unexpected character '*' at offset 1"],
    ["a'b'", 1, "unexpected character ''' at offset 1"],
    ['a + b', 2, "unexpected '+' at offset 2"],
    ['a - b', 2, "unexpected '-' at offset 2"],
    ['#', 0, "unexpected character '#' at offset 0"],
    ['a ? b : c', 2, "unexpected character '?' at offset 2"],
    ['é', 0, "unexpected character 'é' at offset 0"],
    ['a 😀', 2, "unexpected character '😀' at offset 2"],
    ['a @b', 2, "unexpected character '@' at offset 2"],
    ['a\\b', 1, "unexpected character '\\' at offset 1"],
  ])('%j', (text, offset, message) => {
    const err = syntaxError(text);
    expect(err).toBeInstanceOf(ExpressionSyntaxError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ExpressionSyntaxError');
    expect(err.message).toBe(message);
    expect(err.offset).toBe(offset);
  });

  test('messages stay on one line and are truncated', () => {
    const err = syntaxError("a 'line1\nline2'");
    expect(err.message).toBe("unexpected 'line1\\nline2' at offset 2");
    const long = syntaxError('a ' + 'b'.repeat(100));
    expect(long.message).toBe(`unexpected '${'b'.repeat(40)}…' at offset 2`);
    const longString = syntaxError("a '" + 'b'.repeat(100) + "'");
    expect(longString.message).toBe(`unexpected '${'b'.repeat(39)}… at offset 2`);
    const ctl = syntaxError('a \u0001');
    expect(ctl.message).toBe("unexpected character '\\u0001' at offset 2");
    expect(ctl.message).not.toMatch(/[\n\r\u0001]/);
  });

  test('tryParseExpression returns the error instead of throwing', () => {
    const bad = tryParseExpression('a ==');
    expect(bad).toBeInstanceOf(ExpressionSyntaxError);
    expect((bad as ExpressionSyntaxError).offset).toBe(4);
    expect(tryParseExpression('a == 1')).toMatchObject({ kind: 'binary', op: '==' });
  });

  test('nesting limit is exactly MAX_NESTING', () => {
    expect(MAX_NESTING).toBe(200);
    const ok = '('.repeat(MAX_NESTING) + 'a' + ')'.repeat(MAX_NESTING);
    expect(p(ok)).toBe('a');
    const tooDeep = '('.repeat(MAX_NESTING + 1) + 'a' + ')'.repeat(MAX_NESTING + 1);
    const err = syntaxError(tooDeep);
    expect(err.message).toBe(`expression nests too deeply at offset ${MAX_NESTING}`);
    expect(err.offset).toBe(MAX_NESTING);
    // all kinds of nesting count: (, [, call, !
    const mixed = 'f(a[!(b[!g(c)])])';
    expect(p(mixed)).toBe('f(a[(! b[(! g(c))])])');
    expect(syntaxError('!'.repeat(MAX_NESTING + 1) + 'a').message).toMatch(/^expression nests too deeply/);
    expect(p('!'.repeat(MAX_NESTING) + 'a')).toMatch(/^\(! /);
    // depth is released after each closed group, so siblings do not accumulate
    const siblings = Array.from({ length: 1000 }, () => '(a)').join(' && ');
    expect(countNodes(parseExpression(siblings))).toBe(1999);
  });
});

// ---------------------------------------------------------------------------------------------
// templates

describe('findTemplates', () => {
  test('no templates', () => {
    expect(findTemplates('')).toEqual([]);
    expect(findTemplates('echo hello')).toEqual([]);
    expect(findTemplates('${ x } {{ y }} $ {{ z }} ${{')).toEqual([
      { start: 25, end: 28, innerStart: 28, innerEnd: 28, inner: '', unterminated: true },
    ]);
  });

  test('one template with text around it', () => {
    const s = 'echo "${{ github.event.issue.title }}" done';
    expect(findTemplates(s)).toEqual([{ start: 6, end: 37, innerStart: 9, innerEnd: 35, inner: ' github.event.issue.title ' }]);
  });

  test('multiple templates, adjacent templates and whole-string templates', () => {
    const s = '${{a}}${{ b }}-x-${{c}}';
    const t = findTemplates(s);
    expect(t.map((x) => x.inner)).toEqual(['a', ' b ', 'c']);
    expect(t.map((x) => s.slice(x.start, x.end))).toEqual(['${{a}}', '${{ b }}', '${{c}}']);
    for (const x of t) {
      expect(s.slice(x.innerStart, x.innerEnd)).toBe(x.inner);
      expect(x.unterminated).toBeUndefined();
    }
  });

  test("'}}' inside a string literal does not close the template", () => {
    const s = "${{ format('}}{0}', a) }} tail";
    const [t] = findTemplates(s);
    expect(t.inner).toBe(" format('}}{0}', a) ");
    expect(t.end).toBe(s.indexOf(' tail'));
    expect(p(t.inner)).toBe("format('}}{0}', a)");
  });

  test("escaped quotes ('') keep the literal open", () => {
    const s = "${{ 'it''s }} still a string' }}!";
    const [t] = findTemplates(s);
    expect(t.inner).toBe(" 'it''s }} still a string' ");
    expect(parseExpression(t.inner)).toMatchObject({ kind: 'literal', value: "it's }} still a string" });
    const q = findTemplates("${{ '''' }}${{ x }}");
    expect(q.map((x) => x.inner)).toEqual([" '''' ", ' x ']);
  });

  test('nested braces and ${{ inside strings', () => {
    const s = "${{ fromJSON('{\"a\":{\"b\":1}}') }}";
    expect(findTemplates(s)).toHaveLength(1);
    expect(findTemplates(s)[0].inner).toBe(" fromJSON('{\"a\":{\"b\":1}}') ");
    const t = findTemplates("${{ '${{ inner }}' }} and ${{ x }}");
    expect(t.map((x) => x.inner)).toEqual([" '${{ inner }}' ", ' x ']);
  });

  test('a brace that is not part of }} stays in the template', () => {
    expect(findTemplates('${{ a } b }}')[0].inner).toBe(' a } b ');
    expect(findTemplates('${{ a }}}')[0]).toMatchObject({ inner: ' a ', end: 8 });
    expect(findTemplates('${{}}')[0]).toEqual({ start: 0, end: 5, innerStart: 3, innerEnd: 3, inner: '' });
  });

  test('$${{ and ${{{ start at the ${{', () => {
    expect(findTemplates('$${{ a }}')).toEqual([{ start: 1, end: 9, innerStart: 4, innerEnd: 7, inner: ' a ' }]);
    expect(findTemplates('${{{ a }}')[0].inner).toBe('{ a ');
    expect(findTemplates('$$$')).toEqual([]);
  });

  test('a template without spaces inside a larger word', () => {
    const s = 'prefix-${{matrix.os}}-suffix';
    expect(findTemplates(s)).toEqual([{ start: 7, end: 21, innerStart: 10, innerEnd: 19, inner: 'matrix.os' }]);
  });

  test('unterminated templates run to the end', () => {
    expect(findTemplates('a ${{ b }} c ${{ d')).toEqual([
      { start: 2, end: 10, innerStart: 5, innerEnd: 8, inner: ' b ' },
      { start: 13, end: 18, innerStart: 16, innerEnd: 18, inner: ' d', unterminated: true },
    ]);
    // an unterminated string literal swallows the closing braces
    expect(findTemplates("${{ 'abc }} ${{ x }}")).toEqual([
      { start: 0, end: 20, innerStart: 3, innerEnd: 20, inner: " 'abc }} ${{ x }}", unterminated: true },
    ]);
    expect(findTemplates('${{ a }')).toEqual([{ start: 0, end: 7, innerStart: 3, innerEnd: 7, inner: ' a }', unterminated: true }]);
  });

  test('multi-line run scripts', () => {
    const s = 'echo start\nif [ "${{ github.event_name }}" = "push" ]; then\n  echo ${{ env.X }}\nfi\n';
    const t = findTemplates(s);
    expect(t.map((x) => x.inner.trim())).toEqual(['github.event_name', 'env.X']);
    expect(t.map((x) => accessPath(parseExpression(x.inner)))).toEqual(['github.event_name', 'env.x']);
  });
});

// ---------------------------------------------------------------------------------------------
// accessPath / references

describe('accessPath', () => {
  test.each<[string, string | null]>([
    ['github', 'github'],
    ['GITHUB', 'github'],
    ['github.event.issue.title', 'github.event.issue.title'],
    ['GitHub.Event.Issue.Title', 'github.event.issue.title'],
    ["github.event['issue'].title", 'github.event.issue.title'],
    ["github['EVENT']['Issue']", 'github.event.issue'],
    ['github.event.commits[0].message', 'github.event.commits.*.message'],
    ['github.event.commits.*.message', 'github.event.commits.*.message'],
    ['github.event.commits[*].message', 'github.event.commits.*.message'],
    ['env[matrix.x]', 'env.*'],
    ['env[matrix.x].y', 'env.*.y'],
    ["env[format('{0}', a)]", 'env.*'],
    ['steps.my-step.outputs.result', 'steps.my-step.outputs.result'],
    ['a[true]', 'a.*'],
    ['(github).event', 'github.event'],
    ['(github.event).issue', 'github.event.issue'],
    ['fromJSON(x).a', null],
    ["'lit'", null],
    ['github == 1', null],
    ['!github', null],
    ['tojson(github)', null],
    ['(a || b).c', null],
  ])('%s -> %s', (text, expected) => {
    expect(accessPath(parseExpression(text))).toBe(expected);
  });
});

describe('references', () => {
  test.each<[string, Array<[string, string[]]>]>([
    ["format('{0}', github.event.issue.title)", [['github.event.issue.title', ['format']]]],
    ['toJSON(github.event)', [['github.event', ['tojson']]]],
    ['toJSON(github)', [['github', ['tojson']]]],
    ['github.event.issue.title', [['github.event.issue.title', []]]],
    ["contains(github.event.issue.labels.*.name, 'bug')", [['github.event.issue.labels.*.name', ['contains']]]],
    ['fromJSON(steps.x.outputs.json).field', [['steps.x.outputs.json', ['fromjson']]]],
    ['toJSON(fromJSON(inputs.data))', [['inputs.data', ['fromjson', 'tojson']]]],
    ["format('{0}', toJSON(format('{0}', github.head_ref)))", [['github.head_ref', ['format', 'tojson', 'format']]]],
    [
      'env[github.head_ref]',
      [
        ['env.*', []],
        ['github.head_ref', []],
      ],
    ],
    [
      'contains(env[github.head_ref].x, secrets[inputs.name])',
      [
        ['env.*.x', ['contains']],
        ['github.head_ref', ['contains']],
        ['secrets.*', ['contains']],
        ['inputs.name', ['contains']],
      ],
    ],
    [
      'a[b[c]][d]',
      [
        ['a.*.*', []],
        ['b.*', []],
        ['c', []],
        ['d', []],
      ],
    ],
    [
      "github.event_name == 'issue_comment' && contains(github.event.comment.body, '/run') || inputs.force",
      [
        ['github.event_name', []],
        ['github.event.comment.body', ['contains']],
        ['inputs.force', []],
      ],
    ],
    [
      '!startsWith(github.ref, needs.build.outputs.prefix)',
      [
        ['github.ref', ['startswith']],
        ['needs.build.outputs.prefix', ['startswith']],
      ],
    ],
    [
      '(github.event.issue || github.event.pull_request).title',
      [
        ['github.event.issue', []],
        ['github.event.pull_request', []],
      ],
    ],
    ['fromJSON(format(\'["{0}"]\', github.actor))[0]', [['github.actor', ['format', 'fromjson']]]],
    ["fromJSON(x)[github.ref]['y']", [['x', ['fromjson']], ['github.ref', []]]],
    ["'github.event' == 1 && success()", []],
    ['hashFiles(matrix.os)', [['matrix.os', ['hashfiles']]]],
  ])('%s', (text, expected) => {
    expect(refs(text)).toEqual(expected);
  });

  test('each reference carries the outermost node of its chain', () => {
    const text = "format('{0}', github.event.issue.title)";
    const [r] = references(parseExpression(text));
    expect(r.node.kind).toBe('property');
    expect(text.slice(r.node.start, r.node.end)).toBe('github.event.issue.title');
    expect(accessPath(r.node)).toBe(r.path);
  });

  test('function arrays are fresh per call but shared by siblings', () => {
    const rs: Reference[] = references(parseExpression('f(a, b) || g(c)'));
    expect(rs.map((r) => r.path)).toEqual(['a', 'b', 'c']);
    expect(rs[0].functions).toEqual(['f']);
    expect(rs[2].functions).toEqual(['g']);
  });
});

// ---------------------------------------------------------------------------------------------
// walk

describe('valueReferences and fromJSON selections', () => {
  const values = (text: string) => valueReferences(parseExpression(text)).map((r) => r.path);

  it.each([
    ["github.event.issue && 'issue' || 'pr'", []],
    ["github.event.issue.title || 'untitled'", ['github.event.issue.title']],
    ["contains(github.event.issue.title, 'x')", []],
    ["github.event.issue.body != ''", []],
    ['!github.event.issue.body', []],
    ["format('{0}', github.event.issue.body)", ['github.event.issue.body']],
    ['toJSON(github.event.issue)', ['github.event.issue']],
    ["case(github.event.issue.title == 'x', github.event.issue.body, 'none')", ['github.event.issue.body']],
  ])('%s carries %j', (text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  it('a field read from fromJSON() is handed to the reference inside', () => {
    const [ref] = references(parseExpression('fromJSON(steps.pr.outputs.result).head.sha'));
    expect(ref.path).toBe('steps.pr.outputs.result');
    expect(ref.select).toEqual(['head', 'sha']);
    expect(references(parseExpression('steps.pr.outputs.result'))[0].select).toBeUndefined();
  });
});

describe('walk', () => {
  test('visits parents before children, in source order, with their parent', () => {
    const e = parseExpression("contains(a.b[c], 'x') && !d");
    const seen: Array<[string, string | null]> = [];
    walk(e, (node, parent) => {
      seen.push([show(node), parent ? parent.kind : null]);
    });
    expect(seen).toEqual([
      ["(&& contains(a.b[c], 'x') (! d))", null],
      ["contains(a.b[c], 'x')", 'binary'],
      ['a.b[c]', 'call'],
      ['a.b', 'index'],
      ['a', 'property'],
      ['c', 'index'],
      ["'x'", 'call'],
      ['(! d)', 'binary'],
      ['d', 'unary'],
    ]);
  });

  test('returning false skips children', () => {
    const kinds: string[] = [];
    walk(parseExpression('f(a.b) == g(c)'), (node) => {
      kinds.push(node.kind);
      return node.kind !== 'call';
    });
    expect(kinds).toEqual(['binary', 'call', 'call']);
  });

  test('every node span lies inside its parent span', () => {
    const text = "format('{0}{1}', github.event['issue'].title, (a || !b[0].*)) == 'x' && c.d";
    const e = parseExpression(text);
    walk(e, (node, parent) => {
      expect(node.start).toBeGreaterThanOrEqual(0);
      expect(node.end).toBeGreaterThan(node.start);
      expect(node.end).toBeLessThanOrEqual(text.length);
      if (parent) {
        expect(node.start).toBeGreaterThanOrEqual(parent.start);
        expect(node.end).toBeLessThanOrEqual(parent.end);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// generated round trips and fuzzing

/** Print a tree back to source with minimal parentheses and random whitespace. */
function toSource(e: Expr, r: () => number): string {
  const ws = (): string => ['', ' ', '  ', '\n', '\t'][Math.floor(r() * 5)];
  const prec = (x: Expr): number =>
    x.kind === 'binary' ? { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4 }[x.op] : x.kind === 'unary' ? 5 : 6;
  const paren = (s: string): string => `(${ws()}${s}${ws()})`;
  const postfixObject = (x: Expr): string =>
    x.kind === 'context' || x.kind === 'call' || x.kind === 'property' || x.kind === 'index' || x.kind === 'star'
      ? toSource(x, r)
      : paren(toSource(x, r));
  switch (e.kind) {
    case 'literal':
      if (typeof e.value === 'string') return `'${e.value.replace(/'/g, "''")}'`;
      if (e.value === null) return ['null', 'NULL', 'Null'][Math.floor(r() * 3)];
      if (typeof e.value === 'boolean') return r() < 0.5 ? String(e.value) : String(e.value).toUpperCase();
      return String(e.value);
    case 'context':
      return r() < 0.3 ? e.name.toUpperCase() : e.name;
    case 'property':
      return `${postfixObject(e.object)}${ws()}.${ws()}${e.name}`;
    case 'star':
      return r() < 0.5 ? `${postfixObject(e.object)}.*` : `${postfixObject(e.object)}[${ws()}*${ws()}]`;
    case 'index':
      return `${postfixObject(e.object)}[${ws()}${toSource(e.index, r)}${ws()}]`;
    case 'call':
      return `${r() < 0.5 ? e.name : e.name.toUpperCase()}${ws()}(${ws()}${e.args.map((a) => toSource(a, r)).join(`${ws()},${ws()}`)}${ws()})`;
    case 'unary': {
      const inner = toSource(e.operand, r);
      return `!${ws()}${prec(e.operand) < 5 ? paren(inner) : inner}`;
    }
    case 'binary': {
      const p0 = prec(e);
      const l = toSource(e.left, r);
      const rt = toSource(e.right, r);
      return `${prec(e.left) < p0 ? paren(l) : l}${ws()}${e.op}${ws()}${prec(e.right) <= p0 ? paren(rt) : rt}`;
    }
  }
}

function randomExpr(r: () => number, depth: number): Expr {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const span = { start: 0, end: 0 };
  const choice = depth <= 0 ? Math.floor(r() * 2) : Math.floor(r() * 8);
  switch (choice) {
    case 0:
      return {
        kind: 'literal',
        value: pick<null | boolean | number | string>([null, true, false, 0, 7, 1.5, -3, 1e21, '', 'x', "it's", '}}', 'a b', "''"]),
        ...span,
      };
    case 1:
      return { kind: 'context', name: pick(['github', 'env', 'steps', 'my-ctx', '_x', 'a1']), ...span };
    case 2:
    case 3: {
      const object = randomExpr(r, depth - 1);
      const k = pick(['property', 'index', 'star'] as const);
      if (k === 'property') return { kind: 'property', object, name: pick(['b', 'Event', 'my-step', 'true', 'null', 'NaN', 'x_9']), ...span };
      if (k === 'star') return { kind: 'star', object, ...span };
      return { kind: 'index', object, index: randomExpr(r, depth - 1), ...span };
    }
    case 4: {
      const n = Math.floor(r() * 4);
      return { kind: 'call', name: pick(['contains', 'format', 'tojson', 'fromjson', 'success']), args: Array.from({ length: n }, () => randomExpr(r, depth - 1)), ...span };
    }
    case 5:
      return { kind: 'unary', op: '!', operand: randomExpr(r, depth - 1), ...span };
    default:
      return {
        kind: 'binary',
        op: pick(['==', '!=', '<', '<=', '>', '>=', '&&', '||'] as const),
        left: randomExpr(r, depth - 1),
        right: randomExpr(r, depth - 1),
        ...span,
      };
  }
}

describe('generated expressions', () => {
  test('print -> parse round-trips 3000 random trees, and every node span re-parses to that node', () => {
    const r = rng(12345);
    for (let n = 0; n < 3000; n++) {
      const tree = randomExpr(r, 5);
      const text = toSource(tree, r);
      const parsed = parseExpression(text);
      expect(show(parsed)).toBe(show(tree));
      walk(parsed, (node) => {
        expect(show(parseExpression(text.slice(node.start, node.end)))).toBe(show(node));
      });
    }
  });

  test('random character soup either parses or throws ExpressionSyntaxError with a valid offset', () => {
    const r = rng(777);
    const alphabet = ['a', 'b', '-', '_', '.', ' ', '(', ')', '[', ']', ',', '*', '!', '=', '<', '>', '&', '|', "'", '0', '1', 'x', 'e', '$', '{', '}', '"', '\n', 'true', 'null', '==', '&&', 'f('];
    let parsed = 0;
    let failed = 0;
    const problems: string[] = [];
    for (let n = 0; n < 20000; n++) {
      const len = Math.floor(r() * 16);
      let text = '';
      for (let k = 0; k < len; k++) text += alphabet[Math.floor(r() * alphabet.length)];
      const res = tryParseExpression(text);
      if (res instanceof ExpressionSyntaxError) {
        failed++;
        const okMessage =
          !res.message.includes('\n') && (res.message === 'empty expression' || res.message.includes(`at offset ${res.offset}`));
        if (res.offset < 0 || res.offset > text.length || !okMessage) problems.push(`${JSON.stringify(text)}: ${res.message}`);
      } else {
        parsed++;
        walk(res, (node) => {
          if (node.start < 0 || node.end > text.length || node.end <= node.start) {
            problems.push(`${JSON.stringify(text)}: bad span ${node.start}-${node.end} on ${node.kind}`);
          }
        });
      }
    }
    expect(problems).toEqual([]);
    // the soup must exercise both paths
    expect(parsed).toBeGreaterThan(500);
    expect(failed).toBeGreaterThan(5000);
  });
});

// ---------------------------------------------------------------------------------------------
// pathological inputs

describe('pathological inputs', () => {
  const MB = 1 << 20;
  const LIMIT_MS = 3000;

  test.each<[string, () => string]>([
    ['1 MB of (', () => '('.repeat(MB)],
    ['1 MB of !', () => '!'.repeat(MB) + 'a'],
    ['1 MB of a[', () => 'a['.repeat(MB / 2)],
    ['1 MB of f(', () => 'f('.repeat(MB / 2)],
    ['1 MB of ([!', () => '(a[!'.repeat(MB / 4)],
  ])('%s fails fast with "nests too deeply"', (_name, make) => {
    const text = make();
    const { result, ms } = timed(() => tryParseExpression(text));
    expect(result).toBeInstanceOf(ExpressionSyntaxError);
    expect((result as ExpressionSyntaxError).message).toMatch(/^expression nests too deeply at offset \d+$/);
    expect(ms).toBeLessThan(LIMIT_MS);
  });

  test('1 MB property chain parses; accessPath, references and walk cope with its depth', () => {
    const n = MB / 2;
    const text = 'a' + '.b'.repeat(n);
    const { result: e, ms } = timed(() => parseExpression(text));
    expect(ms).toBeLessThan(LIMIT_MS);
    expect(e).toMatchObject({ kind: 'property', name: 'b', start: 0, end: text.length });
    const path = accessPath(e);
    expect(path).toHaveLength(1 + 2 * n);
    expect(path?.startsWith('a.b.b.')).toBe(true);
    const rs = references(e);
    expect(rs).toHaveLength(1);
    expect(rs[0].path).toBe(path);
    expect(countNodes(e)).toBe(n + 1);
  });

  test('1 MB || chain parses and is left-associative', () => {
    const n = MB / 8;
    const text = Array.from({ length: n }, (_, k) => `x${k % 10}`).join(' || ');
    const { result: e, ms } = timed(() => parseExpression(text));
    expect(ms).toBeLessThan(LIMIT_MS);
    expect(e).toMatchObject({ kind: 'binary', op: '||', right: { kind: 'context', name: `x${(n - 1) % 10}` } });
    expect(countNodes(e)).toBe(2 * n - 1);
    const rs = references(e);
    expect(rs).toHaveLength(n);
    expect(rs[0].path).toBe('x0');
    expect(rs[n - 1].path).toBe(`x${(n - 1) % 10}`);
  });

  test('1 MB of mixed comparisons and index chains', () => {
    const text = Array.from({ length: MB / 32 }, (_, k) => `a[${k}].b == 'v${k}'`).join(' && ');
    const { result: e, ms } = timed(() => parseExpression(text));
    expect(ms).toBeLessThan(LIMIT_MS);
    expect(references(e).every((r) => r.path === 'a.*.b')).toBe(true);
  });

  test('1 MB string literal, with and without escapes', () => {
    const plain = "'" + 'x'.repeat(MB) + "'";
    const a = timed(() => parseExpression(plain));
    expect(a.ms).toBeLessThan(LIMIT_MS);
    expect(a.result).toMatchObject({ kind: 'literal', end: MB + 2 });
    expect((a.result as { value: string }).value).toHaveLength(MB);
    const escaped = "'" + "''".repeat(MB / 2) + "'";
    const b = timed(() => parseExpression(escaped));
    expect(b.ms).toBeLessThan(LIMIT_MS);
    expect((b.result as { value: string }).value).toBe("'".repeat(MB / 2));
    const unterminated = timed(() => tryParseExpression("'" + 'x'.repeat(MB)));
    expect(unterminated.ms).toBeLessThan(LIMIT_MS);
    expect((unterminated.result as ExpressionSyntaxError).message).toBe('unterminated string literal at offset 0');
  });

  test('1 MB identifier, number and whitespace', () => {
    const id = timed(() => parseExpression('a'.repeat(MB)));
    expect(id.ms).toBeLessThan(LIMIT_MS);
    expect(id.result).toMatchObject({ kind: 'context', end: MB });
    const num = timed(() => parseExpression('9'.repeat(MB)));
    expect(num.ms).toBeLessThan(LIMIT_MS);
    expect(num.result).toMatchObject({ kind: 'literal', value: Infinity });
    const ws = timed(() => tryParseExpression(' '.repeat(MB)));
    expect(ws.ms).toBeLessThan(LIMIT_MS);
    expect((ws.result as ExpressionSyntaxError).message).toBe('empty expression');
    const bad = timed(() => tryParseExpression('a'.repeat(MB) + '$'));
    expect(bad.ms).toBeLessThan(LIMIT_MS);
    expect((bad.result as ExpressionSyntaxError).offset).toBe(MB);
  });

  test('1 MB balanced but shallow groups', () => {
    const text = Array.from({ length: MB / 16 }, () => '((a) || (!b))').join('&&');
    const { result: e, ms } = timed(() => parseExpression(text));
    expect(ms).toBeLessThan(LIMIT_MS);
    expect(references(e)).toHaveLength(MB / 8);
  });

  test('findTemplates on 1 MB inputs is linear', () => {
    const many = '${{ a }}'.repeat(MB / 8);
    const t1 = timed(() => findTemplates(many));
    expect(t1.ms).toBeLessThan(LIMIT_MS);
    expect(t1.result).toHaveLength(MB / 8);
    expect(t1.result[t1.result.length - 1].end).toBe(MB);

    const opens = '${{'.repeat(MB / 3);
    const t2 = timed(() => findTemplates(opens));
    expect(t2.ms).toBeLessThan(LIMIT_MS);
    expect(t2.result).toEqual([{ start: 0, end: opens.length, innerStart: 3, innerEnd: opens.length, inner: opens.slice(3), unterminated: true }]);

    const quoted = '${{ ' + "'}}'".repeat(MB / 4) + ' }}';
    const t3 = timed(() => findTemplates(quoted));
    expect(t3.ms).toBeLessThan(LIMIT_MS);
    expect(t3.result).toHaveLength(1);
    expect(t3.result[0].end).toBe(quoted.length);

    const text = 'x'.repeat(MB) + '${{ y }}';
    const t4 = timed(() => findTemplates(text));
    expect(t4.ms).toBeLessThan(LIMIT_MS);
    expect(t4.result).toEqual([{ start: MB, end: MB + 8, innerStart: MB + 3, innerEnd: MB + 6, inner: ' y ' }]);
  });

  test('parsing 10,000 typical expressions is fast', () => {
    const samples = [
      "github.event_name == 'pull_request_target' && contains(github.event.pull_request.labels.*.name, 'safe')",
      "format('{0}-{1}', runner.os, hashFiles('**/package-lock.json'))",
      'toJSON(fromJSON(steps.meta.outputs.json).tags)',
      "!cancelled() && (needs.build.result == 'success' || inputs.force)",
      "env[format('VAR_{0}', matrix.name)] != ''",
    ];
    const { ms } = timed(() => {
      let total = 0;
      for (let k = 0; k < 10000; k++) total += references(parseExpression(samples[k % samples.length])).length;
      return total;
    });
    expect(ms).toBeLessThan(LIMIT_MS);
  });
});
