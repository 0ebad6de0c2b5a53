// GraphQL through the bridge: read queries of the triggering repository only. The document is lexed
// and parsed far enough to see every operation's type and root fields and every field name below:
// mutations and subscriptions are refused (writes go through REST, where the grants are checked),
// root fields must be in graphql-roots with `repository(owner, name)` naming the triggering repository
// (literals or variables), and fields that reach other repositories or owners are refused anywhere.

type Token = { kind: 'name' | 'punct' | 'string' | 'number'; value: string };

function lex(doc: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < doc.length) {
    const c = doc[i];
    if (/[\s,\ufeff]/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < doc.length && doc[i] !== '\n' && doc[i] !== '\r') i++;
    } else if (doc.startsWith('"""', i)) {
      const end = doc.indexOf('"""', i + 3);
      if (end < 0) throw new Error('unterminated block string');
      out.push({ kind: 'string', value: doc.slice(i + 3, end) });
      i = end + 3;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < doc.length && doc[j] !== '"') {
        if (doc[j] === '\n') throw new Error('line break in a string');
        if (doc[j] === '\\') {
          const e = doc[j + 1];
          if (e === 'u') {
            value += String.fromCharCode(parseInt(doc.slice(j + 2, j + 6), 16));
            j += 6;
            continue;
          }
          value += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e;
          j += 2;
          continue;
        }
        value += doc[j++];
      }
      if (j >= doc.length) throw new Error('unterminated string');
      out.push({ kind: 'string', value });
      i = j + 1;
    } else if (doc.startsWith('...', i)) {
      out.push({ kind: 'punct', value: '...' });
      i += 3;
    } else if ('!$&()[]{}:=@|'.includes(c)) {
      out.push({ kind: 'punct', value: c });
      i++;
    } else if (/[_A-Za-z]/.test(c)) {
      const m = /^[_A-Za-z][_0-9A-Za-z]*/.exec(doc.slice(i, i + 256))!;
      out.push({ kind: 'name', value: m[0] });
      i += m[0].length;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(doc.slice(i, i + 64));
      if (!m) throw new Error(`unexpected "${c}"`);
      out.push({ kind: 'number', value: m[0] });
      i += m[0].length;
    } else {
      throw new Error(`unexpected character "${c}"`);
    }
  }
  return out;
}

interface Field {
  name: string;
  args: Map<string, Token | { variable: string }>;
}

export interface GraphqlCheckInput {
  query: unknown;
  variables: unknown;
  owner: string;
  repo: string;
  roots: string[];
  nestedDeny: string[];
}

/** Why the query may not go through, or undefined. */
export function graphqlRefusal(input: GraphqlCheckInput): string | undefined {
  if (typeof input.query !== 'string') return 'GraphQL request without a query';
  const variables = (input.variables && typeof input.variables === 'object' ? input.variables : {}) as Record<string, unknown>;
  let tokens: Token[];
  try {
    tokens = lex(input.query);
  } catch (err) {
    return `GraphQL query does not lex: ${(err as Error).message}`;
  }
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const expect = (value: string) => {
    const t = next();
    if (!t || t.value !== value) throw new Error(`expected "${value}"`);
  };
  const skipValue = (): Token | { variable: string } => {
    const t = next();
    if (!t) throw new Error('unexpected end');
    if (t.value === '$') return { variable: next().value };
    if (t.value === '[' || t.value === '{') {
      const close = t.value === '[' ? ']' : '}';
      while (peek() && peek().value !== close) {
        if (t.value === '{') {
          next();
          expect(':');
        }
        skipValue();
      }
      expect(close);
    }
    return t;
  };
  const skipDirectives = () => {
    while (peek()?.value === '@') {
      next();
      next();
      if (peek()?.value === '(') parseArgs();
    }
  };
  const parseArgs = (): Field['args'] => {
    const args: Field['args'] = new Map();
    expect('(');
    while (peek() && peek().value !== ')') {
      const name = next().value;
      expect(':');
      args.set(name, skipValue());
    }
    expect(')');
    return args;
  };
  // Returns root-level fields; checks nested fields against the deny list as it goes.
  const parseSelectionSet = (depth: number): (Field | 'fragment')[] => {
    if (depth > 30) throw new Error('nested too deeply');
    const fields: (Field | 'fragment')[] = [];
    expect('{');
    while (peek() && peek().value !== '}') {
      if (peek().value === '...') {
        next();
        if (peek()?.value === 'on') {
          next();
          next();
        } else if (peek()?.value !== '{' && peek()?.value !== '@') next();
        skipDirectives();
        if (peek()?.value === '{') parseSelectionSet(depth + 1);
        fields.push('fragment');
        continue;
      }
      let name = next().value;
      if (peek()?.value === ':') {
        next();
        name = next().value;
      }
      const args = peek()?.value === '(' ? parseArgs() : new Map();
      skipDirectives();
      if (depth > 0 && (input.nestedDeny.includes(name) || (name === 'repository' && args.size > 0))) {
        throw new Refusal(`GraphQL field "${name}" reaches beyond the triggering repository`);
      }
      if (peek()?.value === '{') parseSelectionSet(depth + 1);
      fields.push({ name, args });
    }
    expect('}');
    return fields;
  };
  class Refusal extends Error {}
  const valueOf = (arg: Token | { variable: string } | undefined): unknown => (arg && 'variable' in arg ? variables[arg.variable] : arg?.kind === 'string' ? arg.value : undefined);
  try {
    if (tokens.length === 0) return 'empty GraphQL document';
    while (pos < tokens.length) {
      const t = peek();
      let type = 'query';
      if (t.value === 'fragment') {
        next();
        next();
        expect('on');
        next();
        skipDirectives();
        parseSelectionSet(1);
        continue;
      }
      if (t.kind === 'name') {
        type = next().value;
        if (type !== 'query') return `GraphQL ${type} refused: writes go through the REST routes the grants allow`;
        if (peek()?.kind === 'name') next();
        if (peek()?.value === '(') {
          // Variable definitions: ($name: Type = default, ...)
          let depth = 0;
          do {
            const v = next()?.value;
            if (v === '(') depth++;
            if (v === ')') depth--;
            if (v === undefined) throw new Error('unterminated variable definitions');
          } while (depth > 0);
        }
        skipDirectives();
      }
      for (const root of parseSelectionSet(0)) {
        if (root === 'fragment') return 'GraphQL fragments at the root are refused';
        if (!input.roots.includes(root.name)) return `GraphQL root field "${root.name}" is not allowed (only ${input.roots.join(', ')})`;
        if (root.name === 'repository') {
          const owner = valueOf(root.args.get('owner'));
          const name = valueOf(root.args.get('name'));
          if (typeof owner !== 'string' || typeof name !== 'string' || owner.toLowerCase() !== input.owner.toLowerCase() || name.toLowerCase() !== input.repo.toLowerCase()) {
            return `GraphQL repository ${String(owner)}/${String(name)} is not the triggering repository ${input.owner}/${input.repo}`;
          }
        }
      }
    }
    return undefined;
  } catch (err) {
    if (err instanceof Refusal) return err.message;
    return `GraphQL query does not parse: ${(err as Error).message}`;
  }
}
