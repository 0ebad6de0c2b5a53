// Parser for GitHub Actions expressions (the text between `${{` and `}}`), plus helpers to find
// templates in strings and to extract context accesses such as `github.event.issue.title`.
//
// The grammar follows GitHub's runner (actions/runner, DTExpressions2) and actions/languageservices:
//
//   expr     := or
//   or       := and ('||' and)*
//   and      := equality ('&&' equality)*
//   equality := compare (('==' | '!=') compare)*
//   compare  := unary (('<' | '<=' | '>' | '>=') unary)*
//   unary    := '!' unary | postfix
//   postfix  := literal
//             | (IDENT '(' [expr (',' expr)*] ')' | IDENT | '(' expr ')') ('.' (IDENT | '*') | '[' ('*' | expr) ']')*
//
// Deliberate differences from the runner, because this is a linter rather than an evaluator:
// - `true`/`false`/`null` are matched case-insensitively (the runner only accepts lower case and
//   would treat `TRUE` as an unknown named value);
// - function and context names are not checked against a list (see KNOWN_FUNCTIONS/KNOWN_CONTEXTS);
//   argument counts are not checked;
// - the runner's limits (21,000 characters, tree depth 50) are not enforced; nesting of
//   parentheses, brackets, calls and `!` is limited to MAX_NESTING instead.
//
// The parser is recursive descent whose recursion depth is bounded by MAX_NESTING; chains
// (`a.b.c...`, `a || b || c ...`) are built in loops and may produce trees that are deep along
// their left spine. `walk`, `accessPath` and `references` are iterative, so they cope with any
// tree the parser produces; code that recurses over an Expr should expect such chains.

export interface Span {
  start: number;
  end: number;
}

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export type Expr =
  | ({ kind: 'literal'; value: null | boolean | number | string } & Span)
  | ({ kind: 'context'; name: string } & Span)
  | ({ kind: 'property'; object: Expr; name: string } & Span)
  | ({ kind: 'index'; object: Expr; index: Expr } & Span)
  | ({ kind: 'star'; object: Expr } & Span)
  | ({ kind: 'call'; name: string; args: Expr[] } & Span)
  | ({ kind: 'unary'; op: '!'; operand: Expr } & Span)
  | ({ kind: 'binary'; op: BinaryOp; left: Expr; right: Expr } & Span);

export type ExprOf<K extends Expr['kind']> = Extract<Expr, { kind: K }>;

/** Maximum nesting of `(`, `[`, function calls and `!` accepted by parseExpression. */
export const MAX_NESTING = 200;

/** GitHub's own limit on the length of one expression (not enforced here). */
export const GITHUB_MAX_EXPRESSION_LENGTH = 21000;

/** Functions GitHub Actions knows (lower case). */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set([
  'contains',
  'startswith',
  'endswith',
  'format',
  'join',
  'tojson',
  'fromjson',
  'hashfiles',
  'success',
  'always',
  'cancelled',
  'failure',
  'case',
]);

/** Context names GitHub Actions knows (lower case). */
export const KNOWN_CONTEXTS: ReadonlySet<string> = new Set([
  'github',
  'env',
  'vars',
  'job',
  'jobs',
  'steps',
  'runner',
  'secrets',
  'strategy',
  'matrix',
  'needs',
  'inputs',
]);

export class ExpressionSyntaxError extends Error {
  /** Offset into the expression text where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ExpressionSyntaxError';
    this.offset = offset;
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

const T_NONE = -1; // before the first token
const T_EOF = 0;
const T_LPAREN = 1;
const T_RPAREN = 2;
const T_LBRACKET = 3;
const T_RBRACKET = 4;
const T_COMMA = 5;
const T_DOT = 6;
const T_STAR = 7;
const T_BANG = 8;
const T_EQ = 9;
const T_NE = 10;
const T_LT = 11;
const T_LE = 12;
const T_GT = 13;
const T_GE = 14;
const T_AND = 15;
const T_OR = 16;
const T_NUMBER = 17;
const T_STRING = 18;
const T_IDENT = 19;
const T_TRUE = 20;
const T_FALSE = 21;
const T_NULL = 22;

/** Binary operator text by token kind (index = token kind). */
const BINARY_OP: (BinaryOp | undefined)[] = [];
BINARY_OP[T_EQ] = '==';
BINARY_OP[T_NE] = '!=';
BINARY_OP[T_LT] = '<';
BINARY_OP[T_LE] = '<=';
BINARY_OP[T_GT] = '>';
BINARY_OP[T_GE] = '>=';
BINARY_OP[T_AND] = '&&';
BINARY_OP[T_OR] = '||';

/** Binary precedence by token kind; 0 = not a binary operator. Higher binds tighter. */
function precedence(tok: number): number {
  switch (tok) {
    case T_OR:
      return 1;
    case T_AND:
      return 2;
    case T_EQ:
    case T_NE:
      return 3;
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
      return 4;
    default:
      return 0;
  }
}

// Character codes
const C_TAB = 9;
const C_SPACE = 32;
const C_BANG = 33;
const C_DQUOTE = 34;
const C_AMP = 38;
const C_QUOTE = 39;
const C_LPAREN = 40;
const C_RPAREN = 41;
const C_STAR = 42;
const C_PLUS = 43;
const C_COMMA = 44;
const C_MINUS = 45;
const C_DOT = 46;
const C_0 = 48;
const C_7 = 55;
const C_9 = 57;
const C_LT = 60;
const C_EQ = 61;
const C_GT = 62;
const C_UPPER_A = 65;
const C_UPPER_E = 69;
const C_UPPER_F = 70;
const C_UPPER_Z = 90;
const C_LBRACKET = 91;
const C_RBRACKET = 93;
const C_UNDERSCORE = 95;
const C_LOWER_A = 97;
const C_LOWER_E = 101;
const C_LOWER_F = 102;
const C_LOWER_O = 111;
const C_LOWER_X = 120;
const C_LOWER_Z = 122;
const C_PIPE = 124;
const C_RBRACE = 125;

function isWhitespace(c: number): boolean {
  if (c <= C_SPACE) return c === C_SPACE || (c >= C_TAB && c <= 13);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}

function isIdentStart(c: number): boolean {
  return (c >= C_LOWER_A && c <= C_LOWER_Z) || (c >= C_UPPER_A && c <= C_UPPER_Z) || c === C_UNDERSCORE;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === C_MINUS;
}

/** Characters that end a number or identifier (as in the runner's lexer). */
function isBoundary(c: number): boolean {
  switch (c) {
    case C_LPAREN:
    case C_RPAREN:
    case C_LBRACKET:
    case C_RBRACKET:
    case C_COMMA:
    case C_DOT:
    case C_BANG:
    case C_GT:
    case C_LT:
    case C_EQ:
    case C_AMP:
    case C_PIPE:
      return true;
    default:
      return isWhitespace(c);
  }
}

function hexValue(c: number): number {
  if (c >= C_0 && c <= C_9) return c - C_0;
  if (c >= C_LOWER_A && c <= C_LOWER_F) return c - C_LOWER_A + 10;
  if (c >= C_UPPER_A && c <= C_UPPER_F) return c - C_UPPER_A + 10;
  return -1;
}

/**
 * Value of the number lexeme src[s, e), or undefined when it is not a number. Accepts what the
 * runner accepts: an optional sign, digits with an optional decimal point and exponent
 * (`1`, `-1.5`, `.5`, `1.`, `+2e-3`), `Infinity`/`-Infinity`, and unsigned `0x` hex / `0o` octal
 * that fit in 32 bits (read as a signed 32-bit integer, like the runner's Int32 parse).
 */
function numberValue(src: string, s: number, e: number): number | undefined {
  let i = s;
  let c = src.charCodeAt(i);
  let negative = false;
  if (c === C_PLUS || c === C_MINUS) {
    negative = c === C_MINUS;
    i++;
    if (i === e) return undefined;
    c = src.charCodeAt(i);
  }
  if (e - i === 8 && src.startsWith('Infinity', i)) return negative ? -Infinity : Infinity;
  if (i === s && e - i > 2 && c === C_0) {
    const kind = src.charCodeAt(i + 1);
    if (kind === C_LOWER_X || kind === C_LOWER_O) {
      const base = kind === C_LOWER_X ? 16 : 8;
      let v = 0;
      for (let j = i + 2; j < e; j++) {
        const d = src.charCodeAt(j);
        const dv = base === 16 ? hexValue(d) : d >= C_0 && d <= C_7 ? d - C_0 : -1;
        if (dv < 0) return undefined;
        v = v * base + dv;
        if (v > 0xffffffff) return undefined;
      }
      return v | 0;
    }
  }
  let digits = 0;
  while (i < e && isDigit(src.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < e && src.charCodeAt(i) === C_DOT) {
    i++;
    while (i < e && isDigit(src.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  if (i < e && (src.charCodeAt(i) === C_LOWER_E || src.charCodeAt(i) === C_UPPER_E)) {
    i++;
    if (i < e && (src.charCodeAt(i) === C_PLUS || src.charCodeAt(i) === C_MINUS)) i++;
    let expDigits = 0;
    while (i < e && isDigit(src.charCodeAt(i))) {
      i++;
      expDigits++;
    }
    if (expDigits === 0) return undefined;
  }
  if (i !== e) return undefined;
  return Number(src.slice(s, e));
}

/** `'text'` for an error message: one line, at most 40 characters (`wrap` false: no quotes added). */
function quote(text: string, wrap = true): string {
  let t = text.length > 40 ? text.slice(0, 40) + '…' : text;
  t = t.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (ch) => {
    switch (ch) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
    }
  });
  return wrap ? `'${t}'` : t;
}

// ---------------------------------------------------------------------------------------------
// Parser (pulls one token at a time from an inline lexer; the current token lives in fields so
// lexing allocates nothing but literal values)

class Parser {
  private readonly src: string;
  private readonly len: number;
  private pos = 0;

  private tok = T_NONE;
  private tokStart = 0;
  private tokEnd = 0;
  private tokValue: null | boolean | number | string = null;

  private prevTok = T_NONE;
  private prevEnd = 0;

  private depth = 0;

  constructor(src: string) {
    this.src = src;
    this.len = src.length;
  }

  parse(): Expr {
    this.advance();
    if (this.is(T_EOF)) throw new ExpressionSyntaxError('empty expression', 0);
    const e = this.parseBinary(1);
    if (!this.is(T_EOF)) throw this.unexpected();
    return e;
  }

  // ---- errors

  private fail(message: string, offset: number, hint?: string): ExpressionSyntaxError {
    return new ExpressionSyntaxError(`${message} at offset ${offset}${hint ? ` (${hint})` : ''}`, offset);
  }

  private unexpected(expected?: string): ExpressionSyntaxError {
    const what =
      this.tok === T_EOF
        ? 'end of expression'
        : quote(this.src.slice(this.tokStart, this.tokEnd), this.tok !== T_STRING); // a string token is already quoted
    return this.fail(`unexpected ${what}`, this.tokStart, expected && `expected ${expected}`);
  }

  /** Expect the closing token of a bracket pair opened at `openAt`. */
  private expectClose(kind: number, open: string, close: string, openAt: number): void {
    if (this.tok === kind) return;
    if (this.tok === T_EOF) {
      throw new ExpressionSyntaxError(
        `unclosed '${open}' at offset ${openAt} (expected '${close}' before end of expression)`,
        openAt,
      );
    }
    throw this.unexpected(`'${close}' to close '${open}' at offset ${openAt}`);
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING) throw this.fail('expression nests too deeply', this.tokStart);
  }

  // ---- lexer

  private advance(): void {
    this.prevTok = this.tok;
    this.prevEnd = this.tokEnd;
    const src = this.src;
    const len = this.len;
    let i = this.pos;
    while (i < len && isWhitespace(src.charCodeAt(i))) i++;
    this.tokStart = i;
    if (i >= len) {
      this.tok = T_EOF;
      this.tokEnd = this.pos = len;
      return;
    }
    const c = src.charCodeAt(i);
    const next = i + 1 < len ? src.charCodeAt(i + 1) : -1;
    switch (c) {
      case C_LPAREN:
        return this.simple(T_LPAREN, i + 1);
      case C_RPAREN:
        return this.simple(T_RPAREN, i + 1);
      case C_LBRACKET:
        return this.simple(T_LBRACKET, i + 1);
      case C_RBRACKET:
        return this.simple(T_RBRACKET, i + 1);
      case C_COMMA:
        return this.simple(T_COMMA, i + 1);
      case C_STAR:
        return this.simple(T_STAR, i + 1);
      case C_BANG:
        return next === C_EQ ? this.simple(T_NE, i + 2) : this.simple(T_BANG, i + 1);
      case C_LT:
        return next === C_EQ ? this.simple(T_LE, i + 2) : this.simple(T_LT, i + 1);
      case C_GT:
        return next === C_EQ ? this.simple(T_GE, i + 2) : this.simple(T_GT, i + 1);
      case C_EQ:
        if (next === C_EQ) return this.simple(T_EQ, i + 2);
        throw this.fail(`unexpected '='`, i, "use '==' to compare");
      case C_AMP:
        if (next === C_AMP) return this.simple(T_AND, i + 2);
        throw this.fail(`unexpected '&'`, i, "use '&&'");
      case C_PIPE:
        if (next === C_PIPE) return this.simple(T_OR, i + 2);
        throw this.fail(`unexpected '|'`, i, "use '||'");
      case C_QUOTE:
        return this.lexString(i);
      case C_DQUOTE:
        throw this.fail(`unexpected '"'`, i, 'strings use single quotes');
      case C_DOT:
        // `.5` is a number where an operand is expected; elsewhere `.` is property access.
        if (isDigit(next) && this.operandExpected()) return this.lexNumber(i);
        return this.simple(T_DOT, i + 1);
      case C_MINUS:
      case C_PLUS:
        return this.lexNumber(i);
      default:
        if (isDigit(c)) return this.lexNumber(i);
        if (isIdentStart(c)) return this.lexIdentifier(i);
        throw this.fail(`unexpected character ${quote(String.fromCodePoint(src.codePointAt(i) ?? c))}`, i);
    }
  }

  private simple(tok: number, end: number): void {
    this.tok = tok;
    this.tokEnd = this.pos = end;
  }

  /** True when the previous token cannot be followed by `.` property access. */
  private operandExpected(): boolean {
    const p = this.prevTok;
    return p === T_NONE || p === T_COMMA || p === T_LPAREN || p === T_LBRACKET || p === T_BANG || precedence(p) > 0;
  }

  private lexString(start: number): void {
    const src = this.src;
    let value = '';
    let segment = start + 1;
    let i = segment;
    for (;;) {
      const q = src.indexOf("'", i);
      if (q < 0) throw this.fail('unterminated string literal', start);
      if (src.charCodeAt(q + 1) === C_QUOTE) {
        // '' is an escaped quote
        value += src.slice(segment, q + 1);
        i = segment = q + 2;
        continue;
      }
      value += src.slice(segment, q);
      this.tok = T_STRING;
      this.tokValue = value;
      this.tokEnd = this.pos = q + 1;
      return;
    }
  }

  private lexNumber(start: number): void {
    const src = this.src;
    const len = this.len;
    let i = start + 1;
    while (i < len) {
      const c = src.charCodeAt(i);
      if (c !== C_DOT && isBoundary(c)) break;
      i++;
    }
    const value = numberValue(src, start, i);
    if (value === undefined) {
      if (i === start + 1) throw this.fail(`unexpected ${quote(src[start])}`, start);
      throw this.fail(`invalid number ${quote(src.slice(start, i))}`, start);
    }
    this.tok = T_NUMBER;
    this.tokValue = value;
    this.tokEnd = this.pos = i;
  }

  private lexIdentifier(start: number): void {
    const src = this.src;
    const len = this.len;
    let i = start + 1;
    while (i < len && isIdentPart(src.charCodeAt(i))) i++;
    if (i < len) {
      const c = src.charCodeAt(i);
      if (!isBoundary(c)) {
        throw this.fail(`unexpected character ${quote(String.fromCodePoint(src.codePointAt(i) ?? c))}`, i);
      }
    }
    this.tokEnd = this.pos = i;
    this.tok = T_IDENT;
    if (this.prevTok === T_DOT) return; // property names are never keywords
    const n = i - start;
    if (n === 4 || n === 5) {
      const word = src.slice(start, i).toLowerCase();
      if (word === 'true') {
        this.tok = T_TRUE;
        this.tokValue = true;
      } else if (word === 'false') {
        this.tok = T_FALSE;
        this.tokValue = false;
      } else if (word === 'null') {
        this.tok = T_NULL;
        this.tokValue = null;
      }
    } else if (n === 3 && src.startsWith('NaN', start)) {
      this.tok = T_NUMBER;
      this.tokValue = NaN;
    } else if (n === 8 && src.startsWith('Infinity', start)) {
      this.tok = T_NUMBER;
      this.tokValue = Infinity;
    }
  }

  // ---- grammar

  /** Current token kind test (a method, so narrowing does not survive advance()). */
  private is(kind: number): boolean {
    return this.tok === kind;
  }

  private parseBinary(minPrec: number): Expr {
    const start = this.tokStart;
    let left = this.parseUnary();
    for (;;) {
      const p = precedence(this.tok);
      if (p === 0 || p < minPrec) return left;
      const op = BINARY_OP[this.tok] as BinaryOp;
      this.advance();
      const right = this.parseBinary(p + 1);
      left = { kind: 'binary', op, left, right, start, end: this.prevEnd };
    }
  }

  private parseUnary(): Expr {
    if (!this.is(T_BANG)) return this.parsePostfix();
    const bangs: number[] = [];
    while (this.is(T_BANG)) {
      this.enter();
      bangs.push(this.tokStart);
      this.advance();
    }
    let e = this.parsePostfix();
    for (let k = bangs.length - 1; k >= 0; k--) {
      e = { kind: 'unary', op: '!', operand: e, start: bangs[k], end: this.prevEnd };
    }
    this.depth -= bangs.length;
    return e;
  }

  private parsePostfix(): Expr {
    const start = this.tokStart;
    let e: Expr;
    switch (this.tok) {
      case T_NUMBER:
      case T_STRING:
      case T_TRUE:
      case T_FALSE:
      case T_NULL:
        e = { kind: 'literal', value: this.tokValue, start, end: this.tokEnd };
        this.advance();
        return e; // literals take no `.`/`[]`, as in the runner
      case T_IDENT: {
        const name = this.src.slice(start, this.tokEnd).toLowerCase();
        this.advance();
        e = this.is(T_LPAREN) ? this.parseCall(name, start) : { kind: 'context', name, start, end: this.prevEnd };
        break;
      }
      case T_LPAREN: {
        this.enter();
        this.advance();
        e = this.parseBinary(1);
        this.expectClose(T_RPAREN, '(', ')', start);
        this.advance();
        this.depth--;
        break;
      }
      default:
        throw this.unexpected();
    }

    for (;;) {
      if (this.is(T_DOT)) {
        this.advance();
        if (this.is(T_IDENT)) {
          e = { kind: 'property', object: e, name: this.src.slice(this.tokStart, this.tokEnd), start, end: this.tokEnd };
        } else if (this.is(T_STAR)) {
          e = { kind: 'star', object: e, start, end: this.tokEnd };
        } else {
          throw this.unexpected("a property name or '*'");
        }
        this.advance();
      } else if (this.is(T_LBRACKET)) {
        const open = this.tokStart;
        this.enter();
        this.advance();
        let index: Expr | null = null;
        if (this.is(T_STAR)) {
          this.advance();
        } else {
          index = this.parseBinary(1);
        }
        this.expectClose(T_RBRACKET, '[', ']', open);
        e = index ? { kind: 'index', object: e, index, start, end: this.tokEnd } : { kind: 'star', object: e, start, end: this.tokEnd };
        this.advance();
        this.depth--;
      } else {
        return e;
      }
    }
  }

  /** The current token is the `(` after a function name. */
  private parseCall(name: string, start: number): Expr {
    const open = this.tokStart;
    this.enter();
    this.advance();
    const args: Expr[] = [];
    if (!this.is(T_RPAREN)) {
      for (;;) {
        args.push(this.parseBinary(1));
        if (this.is(T_COMMA)) {
          this.advance();
          continue;
        }
        if (this.is(T_RPAREN)) break;
        if (this.is(T_EOF)) this.expectClose(T_RPAREN, '(', ')', open);
        throw this.unexpected("',' or ')'");
      }
    }
    const e: Expr = { kind: 'call', name, args, start, end: this.tokEnd };
    this.advance();
    this.depth--;
    return e;
  }
}

/** Parse one expression (the text inside `${{ }}`). Throws ExpressionSyntaxError. */
export function parseExpression(text: string): Expr {
  return new Parser(text).parse();
}

/** Like parseExpression, but returns the error instead of throwing it. */
export function tryParseExpression(text: string): Expr | ExpressionSyntaxError {
  try {
    return parseExpression(text);
  } catch (err) {
    if (err instanceof ExpressionSyntaxError) return err;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Templates

export interface Template {
  /** Offset of `${{`. */
  start: number;
  /** Offset just past `}}` (the end of the string when unterminated). */
  end: number;
  innerStart: number;
  innerEnd: number;
  /** The expression text between `${{` and `}}`; parse offsets are relative to innerStart. */
  inner: string;
  unterminated?: boolean;
}

/**
 * Every `${{ ... }}` in a string. As in the runner, a template ends at the first `}}` that is not
 * inside a single-quoted string literal (`''` inside a literal is an escaped quote). An
 * unterminated `${{` yields one last entry with `unterminated: true` running to the end.
 */
export function findTemplates(s: string): Template[] {
  const out: Template[] = [];
  const n = s.length;
  let from = 0;
  for (;;) {
    const start = s.indexOf('${{', from);
    if (start < 0) return out;
    const innerStart = start + 3;
    let inString = false;
    let close = -1;
    for (let i = innerStart; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === C_QUOTE) {
        inString = !inString; // `''` toggles twice, so escaped quotes need no special case
      } else if (c === C_RBRACE && !inString && s.charCodeAt(i + 1) === C_RBRACE) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      out.push({ start, end: n, innerStart, innerEnd: n, inner: s.slice(innerStart), unterminated: true });
      return out;
    }
    out.push({ start, end: close + 2, innerStart, innerEnd: close, inner: s.slice(innerStart, close) });
    from = close + 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Traversal and context accesses

/**
 * Walk every node, parents before children, children in source order. Iterative, so any tree the
 * parser produces is safe. Returning `false` from `visit` skips that node's children.
 */
export function walk(e: Expr, visit: (node: Expr, parent: Expr | null) => void | boolean): void {
  const nodes: Expr[] = [e];
  const parents: (Expr | null)[] = [null];
  while (nodes.length > 0) {
    const node = nodes.pop() as Expr;
    const parent = parents.pop() as Expr | null;
    if (visit(node, parent) === false) continue;
    switch (node.kind) {
      case 'property':
      case 'star':
        nodes.push(node.object);
        parents.push(node);
        break;
      case 'index':
        nodes.push(node.index, node.object);
        parents.push(node, node);
        break;
      case 'call':
        for (let k = node.args.length - 1; k >= 0; k--) {
          nodes.push(node.args[k]);
          parents.push(node);
        }
        break;
      case 'unary':
        nodes.push(node.operand);
        parents.push(node);
        break;
      case 'binary':
        nodes.push(node.right, node.left);
        parents.push(node, node);
        break;
      default:
        break;
    }
  }
}

function indexSegment(index: Expr): string {
  return index.kind === 'literal' && typeof index.value === 'string' ? index.value.toLowerCase() : '*';
}

/**
 * Follow a `.x` / `[i]` / `.*` chain down to its root. Pushes the path segments (outermost first)
 * and, if `indexes` is given, the non-literal index expressions met on the way (outermost first).
 */
function chainRoot(e: Expr, segments: string[], indexes: Expr[] | null): Expr {
  let n = e;
  for (;;) {
    switch (n.kind) {
      case 'property':
        segments.push(n.name.toLowerCase());
        n = n.object;
        break;
      case 'star':
        segments.push('*');
        n = n.object;
        break;
      case 'index':
        segments.push(indexSegment(n.index));
        if (indexes && n.index.kind !== 'literal') indexes.push(n.index);
        n = n.object;
        break;
      default:
        return n;
    }
  }
}

function joinPath(root: string, segments: string[]): string {
  let path = root;
  for (let k = segments.length - 1; k >= 0; k--) path += '.' + segments[k];
  return path;
}

/**
 * Dotted, lower-case access path of a property chain rooted at a context, or null. String
 * literal indexes become segments; numeric, star and computed indexes become `*`.
 */
export function accessPath(e: Expr): string | null {
  const segments: string[] = [];
  const root = chainRoot(e, segments, null);
  return root.kind === 'context' ? joinPath(root.name, segments) : null;
}

export interface Reference {
  /** As accessPath. */
  path: string;
  /** The outermost node of the access chain. */
  node: Expr;
  /** Lower-case names of the enclosing function calls, innermost first. */
  functions: string[];
  /** For `fromJSON(X).a.b`: the fields read from X's value (`['a', 'b']`; indexes as `*`). */
  select?: string[];
}

/**
 * Every maximal context access in the expression, in source order: for
 * `format('{0}', github.event.issue.title)` one reference `github.event.issue.title` with
 * functions ['format']. Accesses inside index expressions are reported too
 * (`env[github.head_ref]` gives `env.*` and `github.head_ref`).
 */
export function references(e: Expr): Reference[] {
  const out: Reference[] = [];
  const nodes: Expr[] = [e];
  const fns: string[][] = [[]];
  // Fields selected from a fromJSON() result, handed down to the reference inside it.
  const sels: (string[] | undefined)[] = [undefined];
  while (nodes.length > 0) {
    const node = nodes.pop() as Expr;
    const functions = fns.pop() as string[];
    const select = sels.pop();
    switch (node.kind) {
      case 'literal':
        break;
      case 'context':
      case 'property':
      case 'star':
      case 'index': {
        const segments: string[] = [];
        const indexes: Expr[] = [];
        const root = chainRoot(node, segments, indexes);
        // Push so the stack pops the root first, then the indexes left to right.
        for (const ix of indexes) {
          nodes.push(ix);
          fns.push(functions);
          sels.push(undefined);
        }
        if (root.kind === 'context') {
          out.push(select ? { path: joinPath(root.name, segments), node, functions, select } : { path: joinPath(root.name, segments), node, functions });
        } else {
          nodes.push(root);
          fns.push(functions);
          sels.push(segments.length ? [...segments].reverse() : undefined);
        }
        break;
      }
      case 'call': {
        const inner = [node.name, ...functions];
        const passes = node.name === 'fromjson' && node.args.length === 1;
        for (let k = node.args.length - 1; k >= 0; k--) {
          nodes.push(node.args[k]);
          fns.push(inner);
          sels.push(passes ? select : undefined);
        }
        break;
      }
      case 'unary':
        nodes.push(node.operand);
        fns.push(functions);
        sels.push(undefined);
        break;
      case 'binary':
        nodes.push(node.right, node.left);
        fns.push(functions, functions);
        sels.push(undefined, undefined);
        break;
    }
  }
  return out;
}

/** Functions whose result is a boolean or a hash: no argument's text comes out of them. */
const TEST_FUNCTIONS = new Set(['contains', 'startswith', 'endswith', 'success', 'always', 'failure', 'cancelled', 'hashfiles']);

/**
 * The references whose value can become the expression's value: `a && 'x'` is 'x' or a falsy `a`
 * (null, '', 0, false: no text), comparisons and `!` are booleans, `contains()` is a test. What
 * remains is what text can flow through (`a || b`, `format()`, `toJSON()`, `fromJSON()`, `case()`'s values).
 */
export function valueReferences(e: Expr): Reference[] {
  const tested = new Set<Expr>();
  const markTested = (root: Expr) =>
    walk(root, (n) => {
      tested.add(n);
    });
  const visit = (n: Expr): void => {
    switch (n.kind) {
      case 'unary':
        return markTested(n.operand);
      case 'binary':
        if (n.op === '&&') {
          markTested(n.left);
          return visit(n.right);
        }
        if (n.op === '||') {
          visit(n.left);
          return visit(n.right);
        }
        markTested(n.left);
        return markTested(n.right);
      case 'call':
        if (TEST_FUNCTIONS.has(n.name)) return n.args.forEach(markTested);
        if (n.name === 'case') return n.args.forEach((a, i) => (i % 2 === 0 && i < n.args.length - 1 ? markTested(a) : visit(a)));
        return n.args.forEach(visit);
      case 'property':
      case 'index':
      case 'star':
        return visit(n.object);
      default:
        return;
    }
  };
  visit(e);
  return references(e).filter((r) => !tested.has(r.node));
}

// ---------------------------------------------------------------------------------------------
// Cached references: the same few expressions (`matrix.os`, `secrets.X`, `github.event.issue.title`)
// recur across thousands of workflows, so parsing each distinct text once pays for the cache.

const REFERENCE_CACHE_LIMIT = 20_000;
const referenceCache = new Map<string, Reference[] | null>();

const valueReferenceCache = new Map<string, Reference[] | null>();

/** `of` the parsed text, or null when it does not parse, through a bounded cache. */
function cachedOf(cache: Map<string, Reference[] | null>, inner: string, of: (e: Expr) => Reference[]): Reference[] | null {
  const known = cache.get(inner);
  if (known !== undefined) return known;
  const parsed = tryParseExpression(inner);
  const refs = parsed instanceof ExpressionSyntaxError ? null : of(parsed);
  if (cache.size >= REFERENCE_CACHE_LIMIT) cache.clear();
  cache.set(inner, refs);
  return refs;
}

/** valueReferences of an expression text, or null when it does not parse. Results are shared: do not mutate. */
export function valueReferencesOf(inner: string): Reference[] | null {
  return cachedOf(valueReferenceCache, inner, valueReferences);
}

/** The references of an expression text, or null when it does not parse. Results are shared: do not mutate. */
export function referencesOf(inner: string): Reference[] | null {
  return cachedOf(referenceCache, inner, references);
}
