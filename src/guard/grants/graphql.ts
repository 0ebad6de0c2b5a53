// GraphQL through the bridge: read queries of the triggering repository only. The document is parsed
// by graphql-js, the reference implementation of the spec GitHub's own parser follows, because a
// hand-made lexer that reads a document differently from GitHub is a way past every check below
// (a block string's `\"""` once hid a whole root field from it). Then:
//   * mutations, subscriptions and anything but executable definitions are refused (writes go
//     through REST, where the grants are checked);
//   * root fields must be in graphql-roots, with `repository(owner, name)` naming the triggering
//     repository (literals or variables), and no fragments at the root;
//   * below the root, a field that opens a selection set (an object or a connection) must be a hop
//     the data allows: graphql-objects stay within the repository (its issues, pull requests,
//     comments, reviews, labels), graphql-actors are people and bots, below which only scalars,
//     connection plumbing and other actors may be selected (a user's own issues, repositories or
//     gists are other repositories' data). A list of fields to refuse could never be complete
//     (parent, projectsV2, a cross-reference's source, ...); leaves (scalars) are free.
// The parser alone: the package's index would pull the whole executor into the bundle.
import type { ArgumentNode, DocumentNode, FragmentDefinitionNode, SelectionSetNode, ValueNode } from 'graphql/language/ast';
import { Kind } from 'graphql/language/kinds';
import { parse } from 'graphql/language/parser';

export interface GraphqlCheckInput {
  query: unknown;
  variables: unknown;
  owner: string;
  repo: string;
  roots: string[];
  objects: string[];
  actors: string[];
}

// Relay connection plumbing: the same hop as the connection it belongs to.
const CONNECTION_FIELDS = ['nodes', 'edges', 'node', 'pageInfo'];

// Enough for any query an agent's tools send; bounds the parser's work on a hostile document.
const MAX_TOKENS = 5000;
const MAX_DEPTH = 30;

class Refusal extends Error {}

/** Why the query may not go through, or undefined. */
export function graphqlRefusal(input: GraphqlCheckInput): string | undefined {
  if (typeof input.query !== 'string') return 'GraphQL request without a query';
  const variables = (input.variables && typeof input.variables === 'object' && !Array.isArray(input.variables) ? input.variables : {}) as Record<string, unknown>;
  let doc: DocumentNode;
  try {
    doc = parse(input.query, { noLocation: true, maxTokens: MAX_TOKENS });
  } catch (err) {
    return `GraphQL query does not parse: ${(err as Error).message.split('\n')[0].slice(0, 200)}`;
  }
  const valueOf = (value: ValueNode | undefined): unknown =>
    value?.kind === Kind.STRING ? value.value : value?.kind === Kind.VARIABLE ? variables[value.name.value] : undefined;

  /** `inActor`: below a person or bot, where only scalars, plumbing and other actors may follow. */
  const nested = (set: SelectionSetNode | undefined, depth: number, inActor: boolean): void => {
    if (!set) return;
    if (depth > MAX_DEPTH) throw new Refusal('GraphQL query nested too deeply');
    for (const sel of set.selections) {
      // A fragment is checked where it is spread: the same fields mean other things below an actor.
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(sel.name.value);
        if (!fragment) throw new Refusal(`GraphQL fragment "${sel.name.value}" is not defined`);
        // Once per fragment and place: fragments spreading each other twice must not cost 2^depth.
        const key = `${inActor}:${sel.name.value}`;
        if (!checked.has(key)) {
          checked.add(key);
          nested(fragment.selectionSet, depth + 1, inActor);
        }
        continue;
      }
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        nested(sel.selectionSet, depth + 1, inActor);
        continue;
      }
      const name = sel.name.value;
      if (!sel.selectionSet) continue;
      if (CONNECTION_FIELDS.includes(name)) nested(sel.selectionSet, depth + 1, inActor);
      else if (input.actors.includes(name)) nested(sel.selectionSet, depth + 1, true);
      else if (!inActor && input.objects.includes(name)) {
        // Without arguments `repository` is the object's own repository; with them, any repository.
        if (name === 'repository' && (sel.arguments?.length ?? 0) > 0) throw new Refusal('GraphQL field "repository" with arguments reaches beyond the triggering repository');
        nested(sel.selectionSet, depth + 1, false);
      } else {
        throw new Refusal(`GraphQL field "${name}"${inActor ? ' below a user or bot' : ''} reaches beyond the triggering repository (the hops allowed are graphql-objects and graphql-actors in rules/grants.yml)`);
      }
    }
  };

  const sameRepository = (args: readonly ArgumentNode[] | undefined): void => {
    const byName = new Map<string, ValueNode>();
    for (const arg of args ?? []) {
      if (byName.has(arg.name.value)) throw new Refusal(`GraphQL argument "${arg.name.value}" given twice`);
      byName.set(arg.name.value, arg.value);
    }
    const owner = valueOf(byName.get('owner'));
    const name = valueOf(byName.get('name'));
    if (typeof owner !== 'string' || typeof name !== 'string' || owner.toLowerCase() !== input.owner.toLowerCase() || name.toLowerCase() !== input.repo.toLowerCase()) {
      throw new Refusal(`GraphQL repository ${String(owner).slice(0, 100)}/${String(name).slice(0, 100)} is not the triggering repository ${input.owner}/${input.repo}`);
    }
  };

  const fragments = new Map<string, FragmentDefinitionNode>();
  const checked = new Set<string>();
  try {
    for (const def of doc.definitions) {
      if (def.kind !== Kind.FRAGMENT_DEFINITION) continue;
      if (fragments.has(def.name.value)) throw new Refusal(`GraphQL fragment "${def.name.value}" defined twice`);
      fragments.set(def.name.value, def);
    }
    for (const def of doc.definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) continue;
      if (def.kind !== Kind.OPERATION_DEFINITION) return `GraphQL ${def.kind} refused: only queries go through`;
      if (def.operation !== 'query') return `GraphQL ${def.operation} refused: writes go through the REST routes the grants allow`;
      for (const root of def.selectionSet.selections) {
        if (root.kind !== Kind.FIELD) return 'GraphQL fragments at the root are refused';
        const name = root.name.value;
        if (!input.roots.includes(name)) return `GraphQL root field "${name}" is not allowed (only ${input.roots.join(', ')})`;
        if (name === 'repository') sameRepository(root.arguments);
        nested(root.selectionSet, 1, false);
      }
    }
    return undefined;
  } catch (err) {
    if (err instanceof Refusal) return err.message;
    throw err;
  }
}
