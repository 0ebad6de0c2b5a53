// Loads and validates rules/agents.yml, rules/sources.yml and rules/triggers.yml. The files are bundled
// as text (esbuild text loader; a jest transform in tests), parsed with `yaml`, and checked field by field
// against the shapes in ruleTypes.ts: types, enums, required keys, unknown keys, compilable and
// backtracking-safe regular expressions, unique ids, and references between the files. A bad entry throws
// one line: `rules/agents.yml:12:7: actions[3] (codex-action).gate.kind: expected one of ...`.

import { Document, LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Node as YNode } from 'yaml';
import { jsonData } from '../dataText';
import agentsText from '../../rules/agents.yml';
import sourcesText from '../../rules/sources.yml';
import triggersText from '../../rules/triggers.yml';
import { PAYLOAD_OBJECTS } from './gates';
import type { AgentsFile, SourcesFile, TriggersFile } from './ruleTypes';

export interface RuleSet {
  agents: AgentsFile;
  sources: SourcesFile;
  triggers: TriggersFile;
}

/** Provider ids known to the guard's providers.yml. */
export const PROVIDER_IDS: readonly string[] = ['anthropic', 'openai', 'gemini', 'github-models', 'openrouter'];

export const SOURCE_KINDS: readonly string[] = ['title', 'body', 'branch', 'commit message', 'email', 'name', 'payload', 'path', 'url', 'code'];
export const SOURCE_AUTHORS: readonly string[] = ['actor', 'issue', 'comment', 'pull_request', 'review', 'discussion', 'commit', 'workflow_run', 'payload'];

const CONFIDENCE = ['V', 'D', '3P', 'U'] as const;

export class RuleDataError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
    this.name = 'RuleDataError';
  }
}

// ---------------------------------------------------------------------------------------------------
// A small schema language over YAML nodes.

type Spec =
  | { t: 'string'; enum?: readonly string[]; nonEmpty?: boolean; regex?: boolean; format?: RegExp; formatHint?: string }
  | { t: 'boolean' }
  | { t: 'array'; of: Spec; nonEmpty?: boolean; unique?: boolean }
  | { t: 'object'; fields: Record<string, Field>; atLeastOne?: boolean };

interface Field {
  spec: Spec;
  required?: boolean;
}

const str = (extra: Omit<Extract<Spec, { t: 'string' }>, 't'> = {}): Spec => ({ t: 'string', nonEmpty: true, ...extra });
const strList = (extra: Omit<Extract<Spec, { t: 'string' }>, 't'> = {}, nonEmpty = false): Spec => ({ t: 'array', of: str(extra), unique: true, nonEmpty });
const req = (spec: Spec): Field => ({ spec, required: true });
const opt = (spec: Spec): Field => ({ spec });

const ID = /^[a-z0-9][a-z0-9-]*$/;
const USES = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.\/-]+)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FLAG = /^--?[A-Za-z0-9?][A-Za-z0-9_-]*(=.+)?$/;
const FLAG_OR_ENV = /^(--?[A-Za-z0-9?][A-Za-z0-9_-]*|[A-Za-z_][A-Za-z0-9_]*)$/;
const EVENT = /^[a-z_]+$/;
const CONTEXT_PATH = /^[a-z_][a-z0-9_-]*(\.([a-z0-9_-]+|\*))*$/;

const toolReachSpec: Spec = {
  t: 'object',
  fields: {
    shell: req(str({ enum: ['full', 'restricted', 'none'] })),
    network: req({ t: 'boolean' }),
    writesFiles: req({ t: 'boolean' }),
  },
};

const grantsSpec: Spec = {
  t: 'object',
  atLeastOne: true,
  fields: {
    shell: opt(str({ enum: ['full', 'restricted', 'none'] })),
    network: opt({ t: 'boolean' }),
    writesFiles: opt({ t: 'boolean' }),
  },
};

const actionWidenerSpec: Spec = {
  t: 'object',
  fields: { input: req(str()), pattern: req(str({ regex: true })), grants: req(grantsSpec) },
};

const cliWidenerSpec: Spec = {
  t: 'object',
  fields: {
    input: req(str({ format: FLAG_OR_ENV, formatHint: 'a flag (`--name`) or an environment variable name' })),
    pattern: req(str({ regex: true })),
    grants: req(grantsSpec),
  },
};

const actionSpec: Spec = {
  t: 'object',
  fields: {
    id: req(str({ format: ID, formatHint: 'lowercase letters, digits and dashes' })),
    name: req(str()),
    uses: req(strList({ format: USES, formatHint: '`owner/repo` or `owner/repo/path`, without `@ref`' }, true)),
    cli: opt(str()),
    promptInputs: req(strList()),
    promptFileInputs: opt(strList()),
    configInputs: opt(strList()),
    keyInputs: opt(strList()),
    tokenInputs: opt(strList()),
    wrapperInput: opt(str()),
    keyHandling: req(str({ enum: ['process', 'proxy'] })),
    keyWideners: opt({ t: 'array', of: { t: 'object', fields: { input: req(str()), pattern: req(str({ regex: true })) } } }),
    gate: req({
      t: 'object',
      fields: {
        kind: req(str({ enum: ['none', 'write-access'] })),
        skippedOn: opt(strList({ format: EVENT })),
        wideners: opt({
          t: 'array',
          of: {
            t: 'object',
            fields: {
              input: req(str()),
              effect: req(str({ enum: ['anyone', 'bots'] })),
              requiresInput: opt(str()),
              enablingValues: opt(strList({}, true)),
            },
          },
        }),
      },
    }),
    readsThread: req(str({ enum: ['always', 'never', 'without-prompt'] })),
    agentModeInputs: opt(strList({}, true)),
    threadInputs: opt(strList({}, true)),
    removedInputs: opt({ t: 'array', of: { t: 'object', fields: { since: req(str({ format: /^v\d+$/, formatHint: 'a major version like v1' })), inputs: req(strList({}, true)) } } }),
    defaults: req(toolReachSpec),
    agentModeDefaults: opt(toolReachSpec),
    toolWideners: opt({ t: 'array', of: actionWidenerSpec }),
    toolNarrowers: opt({ t: 'array', of: actionWidenerSpec }),
    outputs: opt(strList()),
    nonTextOutputs: opt(strList()),
    leakInputs: opt(strList()),
    provider: opt(str({ enum: PROVIDER_IDS })),
    envInputs: opt(strList({}, true)),
    commandSurface: opt({
      t: 'object',
      fields: {
        events: req(strList({ format: EVENT, formatHint: 'an event name' }, true)),
        commands: req({
          t: 'array',
          nonEmpty: true,
          of: {
            t: 'object',
            fields: {
              name: req(str({ format: /^\/[a-z0-9_-]+$/, formatHint: 'a slash command, e.g. `/describe`' })),
              writes: req(strList({ format: /^[a-z-]+$/, formatHint: 'a token permission scope' })),
              what: req(str()),
            },
          },
        }),
        options: opt(str()),
      },
    }),
    confidence: opt(str({ enum: CONFIDENCE })),
    notes: opt(str()),
  },
};

const REPO_PATH = /^\.?[A-Za-z0-9_-][A-Za-z0-9_.\/-]*$/;

const cliSpec: Spec = {
  t: 'object',
  fields: {
    id: req(str({ format: ID, formatHint: 'lowercase letters, digits and dashes' })),
    name: req(str()),
    commands: req(strList({ format: /^[A-Za-z0-9_.+-]+$/, formatHint: 'a command name without a path' })),
    packages: opt(strList({ format: /^(@[a-z0-9_.-]+\/)?[A-Za-z0-9_.-]+$/, formatHint: 'an npm or PyPI package name without a version' })),
    modules: opt(strList({ format: /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, formatHint: 'a dotted Python module name' })),
    subcommands: opt(strList({ format: /^[A-Za-z0-9_.:-]+( [A-Za-z0-9_.:-]+)*$/, formatHint: 'words separated by single spaces' }, true)),
    requiredFlags: opt(strList({ format: FLAG, formatHint: 'a flag starting with `-`' }, true)),
    nonRunSubcommands: opt(strList({ format: /^[A-Za-z0-9_.:-]+( [A-Za-z0-9_.:-]+)*$/, formatHint: 'words separated by single spaces' })),
    infoFlags: opt(strList({ format: FLAG, formatHint: 'a flag starting with `-`' })),
    valueFlags: opt(strList({ format: FLAG, formatHint: 'a flag starting with `-`' })),
    bypassFlags: req(strList({ format: FLAG, formatHint: 'a flag starting with `-`, optionally `=value`' })),
    bypassEnv: opt({
      t: 'array',
      of: { t: 'object', fields: { name: req(str({ format: ENV_NAME, formatHint: 'an environment variable name' })), values: req(strList({}, true)) } },
    }),
    toolFlags: opt(strList({ format: FLAG, formatHint: 'a flag starting with `-`' })),
    toolWideners: opt({ t: 'array', of: cliWidenerSpec }),
    toolNarrowers: opt({ t: 'array', of: cliWidenerSpec }),
    defaults: req(toolReachSpec),
    keyEnv: req(strList({ format: ENV_NAME, formatHint: 'an environment variable name' })),
    baseUrlEnv: opt(strList({ format: ENV_NAME, formatHint: 'an environment variable name' })),
    instructionFiles: req(strList()),
    provider: opt(str({ enum: PROVIDER_IDS })),
    projectFiles: opt({
      t: 'array',
      of: {
        t: 'object',
        fields: {
          path: req(str({ format: REPO_PATH, formatHint: 'a path from the repository root' })),
          field: opt(str({ format: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, formatHint: 'a dotted key' })),
          as: req(str()),
          replacedByInput: opt(str()),
        },
      },
    }),
    commandDirs: opt({
      t: 'array',
      of: {
        t: 'object',
        fields: {
          dir: req(str({ format: REPO_PATH, formatHint: 'a folder from the repository root' })),
          ext: req(str({ format: /^(\.[a-z]+|\/[A-Za-z_.-]+)$/, formatHint: '`.md`, `.toml` or `/SKILL.md`' })),
          toolsField: opt(str()),
          toolsAs: opt(str({ format: FLAG, formatHint: 'a flag starting with `-`' })),
        },
      },
    }),
    confidence: opt(str({ enum: CONFIDENCE })),
    notes: opt(str()),
  },
};

const apiSpec: Spec = {
  t: 'object',
  fields: {
    id: req(str({ format: ID, formatHint: 'lowercase letters, digits and dashes' })),
    name: req(str()),
    hosts: opt(strList({ format: /^[a-z0-9.-]+\.[a-z]+$/, formatHint: 'a lowercase host name' }, true)),
    paths: opt(strList({ format: /^\/[A-Za-z0-9_.\/-]*$/, formatHint: 'a path prefix starting with `/`' }, true)),
    markers: opt(strList({ regex: true }, true)),
    readsThread: opt({ t: 'boolean' }),
    kind: req(str({ enum: ['model', 'agent'] })),
    acts: opt(str()),
    confidence: opt(str({ enum: CONFIDENCE })),
    notes: opt(str()),
  },
};

const agentsSpec: Spec = {
  t: 'object',
  fields: {
    actions: req({ t: 'array', of: actionSpec, nonEmpty: true }),
    clis: req({ t: 'array', of: cliSpec, nonEmpty: true }),
    apis: opt({ t: 'array', of: apiSpec }),
  },
};

const eventsField = opt(strList({ format: EVENT, formatHint: 'an event name' }, true));

const sourcesSpec: Spec = {
  t: 'object',
  fields: {
    contexts: req({
      t: 'array',
      nonEmpty: true,
      of: {
        t: 'object',
        fields: {
          path: req(str({ format: CONTEXT_PATH, formatHint: 'a lowercased dotted context path (`*` for one segment)' })),
          kind: req(str({ enum: SOURCE_KINDS })),
          author: req(str({ enum: SOURCE_AUTHORS })),
          events: eventsField,
        },
      },
    }),
    wholeObjects: req({
      t: 'array',
      nonEmpty: true,
      of: {
        t: 'object',
        fields: {
          path: req(str({ format: CONTEXT_PATH, formatHint: 'a lowercased dotted context path' })),
          author: req(str({ enum: SOURCE_AUTHORS })),
          events: eventsField,
        },
      },
    }),
    actionOutputs: opt({
      t: 'array',
      of: {
        t: 'object',
        fields: {
          uses: req(str({ format: USES, formatHint: 'owner/repo[/path]' })),
          outputs: req(strList({}, true)),
          kind: req(str({ enum: SOURCE_KINDS })),
          author: req(str({ enum: SOURCE_AUTHORS })),
          what: req(str()),
        },
      },
    }),
    prHeadOutputs: opt({
      t: 'array',
      of: {
        t: 'object',
        fields: {
          uses: req(str({ format: USES, formatHint: 'owner/repo[/path]' })),
          commit: opt(strList()),
          repository: opt(strList()),
          branch: opt(strList()),
          other: opt(strList()),
        },
      },
    }),
    apiReads: opt({
      t: 'array',
      of: {
        t: 'object',
        fields: {
          call: req(str({ regex: true })),
          author: req(str({ enum: [...SOURCE_AUTHORS, 'thread', 'none'] })),
          what: req(str()),
        },
      },
    }),
    promptReads: opt({
      t: 'array',
      of: { t: 'object', fields: { pattern: req(str({ regex: true })), what: req(str()) } },
    }),
  },
};

const triggersSpec: Spec = {
  t: 'object',
  fields: {
    triggers: req({
      t: 'array',
      nonEmpty: true,
      of: {
        t: 'object',
        fields: {
          event: req(str({ format: EVENT, formatHint: 'an event name' })),
          who: req(str({ enum: ['anyone', 'anyone-unprivileged', 'maintainers', 'callers', 'upstream'] })),
          maintainerOnlyTypes: opt(strList({ format: /^[a-z_]+$/, formatHint: 'an activity type' }, true)),
          payload: opt(strList({ enum: [...PAYLOAD_OBJECTS] })),
          note: opt(str()),
        },
      },
    }),
  },
};

// ---------------------------------------------------------------------------------------------------
// Conversion with positions.

/** Where each field of a converted object came from, for errors found after conversion. */
interface Origin {
  ctx: Ctx;
  node: YNode;
  fields: Map<string, YNode>;
  label: string;
}

const origins = new WeakMap<object, Origin>();

class Ctx {
  readonly lines = new LineCounter();
  doc!: Document.Parsed;
  constructor(readonly file: string) {}

  fail(node: YNode | null | undefined, label: string, message: string): never {
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    throw new RuleDataError(this.file, pos.line, pos.col, label ? `${label}: ${message}` : message);
  }
}

function describe(node: YNode | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
    return `${typeof v} ${String(v)}`;
  }
  return 'an unsupported node';
}

function convert(ctx: Ctx, raw: YNode | null, spec: Spec, label: string, fallback: YNode | null): unknown {
  const node = raw && isAlias(raw) ? (raw.resolve(ctx.doc) as YNode | undefined) ?? null : raw;
  const at = node ?? fallback;
  switch (spec.t) {
    case 'string': {
      if (!node || !isScalar(node) || typeof node.value !== 'string') ctx.fail(at, label, `expected a string, got ${describe(node)}`);
      const value = node.value as string;
      if (spec.nonEmpty && !value.trim()) ctx.fail(at, label, 'must not be empty');
      if (spec.enum && !spec.enum.includes(value)) ctx.fail(at, label, `expected one of ${spec.enum.map((e) => `"${e}"`).join(', ')}; got "${value}"`);
      if (spec.format && !spec.format.test(value)) ctx.fail(at, label, `"${value}" is not ${spec.formatHint ?? 'well formed'}`);
      if (spec.regex) {
        const problem = regexProblem(value);
        if (problem) ctx.fail(at, label, problem);
      }
      return value;
    }
    case 'boolean': {
      if (!node || !isScalar(node) || typeof node.value !== 'boolean') ctx.fail(at, label, `expected true or false, got ${describe(node)}`);
      return node.value;
    }
    case 'array': {
      if (!node || !isSeq(node)) ctx.fail(at, label, `expected a list, got ${describe(node)}`);
      if (spec.nonEmpty && node.items.length === 0) ctx.fail(node, label, 'must not be empty');
      const out: unknown[] = [];
      const seen = new Set<string>();
      node.items.forEach((item, i) => {
        const itemNode = item as YNode | null;
        const value = convert(ctx, itemNode, spec.of, `${label}[${i}]${idSuffix(itemNode)}`, node);
        if (spec.unique && typeof value === 'string') {
          if (seen.has(value)) ctx.fail(itemNode ?? node, `${label}[${i}]`, `duplicate entry "${value}"`);
          seen.add(value);
        }
        out.push(value);
      });
      return out;
    }
    case 'object': {
      if (!node || !isMap(node)) ctx.fail(at, label, `expected a mapping, got ${describe(node)}`);
      const out: Record<string, unknown> = {};
      const fields = new Map<string, YNode>();
      for (const pair of node.items) {
        const keyNode = pair.key as YNode | null;
        const key = keyNode && isScalar(keyNode) ? keyNode.value : undefined;
        if (typeof key !== 'string') ctx.fail(keyNode ?? node, label, `expected a string key, got ${describe(keyNode)}`);
        const field = spec.fields[key];
        const where = label ? `${label}.${key}` : key;
        if (!field) {
          const known = Object.keys(spec.fields).join(', ');
          ctx.fail(keyNode, label || key, `unknown key "${key}" (known: ${known})`);
        }
        const valueNode = pair.value as YNode | null;
        out[key] = convert(ctx, valueNode, field.spec, where, keyNode);
        fields.set(key, valueNode ?? keyNode!);
      }
      for (const [key, field] of Object.entries(spec.fields)) {
        if (field.required && !(key in out)) ctx.fail(node, label, `missing required key "${key}"`);
      }
      if (spec.atLeastOne && Object.keys(out).length === 0) ctx.fail(node, label, 'must set at least one field');
      origins.set(out, { ctx, node, fields, label });
      return out;
    }
  }
}

function idSuffix(node: YNode | null): string {
  if (!node || !isMap(node)) return '';
  for (const key of ['id', 'event', 'path', 'input', 'name']) {
    const v = node.get(key);
    if (typeof v === 'string') return ` (${v})`;
  }
  return '';
}

/** Throws for a problem found after conversion, pointing at the offending field of `obj`. */
function failAt(obj: object, field: string | null, message: string): never {
  const origin = origins.get(obj);
  if (!origin) throw new Error(message);
  const node = (field && origin.fields.get(field)) || origin.node;
  const label = field ? `${origin.label}.${field}` : origin.label;
  return origin.ctx.fail(node, label, message);
}

/**
 * The bundle carries the rules files as JSON made from the checked YAML (scripts/build.mjs): parsing
 * 100 KB of YAML was most of a cold lint. Nodes made from the data have no positions; the YAML in
 * rules/ is where mistakes are reported (the tests read it).
 */
function jsonDocument(text: string): Document.Parsed | null {
  const json = jsonData(text);
  return json ? (new Document(json.data) as unknown as Document.Parsed) : null;
}

function parseWith<T>(text: string, fileName: string, spec: Spec): T {
  const ctx = new Ctx(fileName);
  const doc = jsonDocument(text) ?? parseDocument(text, { lineCounter: ctx.lines, prettyErrors: false, uniqueKeys: true });
  ctx.doc = doc;
  const err = doc.errors[0];
  if (err) {
    const pos = ctx.lines.linePos(err.pos[0]);
    const firstLine = err.message.split('\n')[0];
    throw new RuleDataError(fileName, pos.line, pos.col, `YAML ${firstLine}`);
  }
  return convert(ctx, doc.contents as YNode | null, spec, '', null) as T;
}

// ---------------------------------------------------------------------------------------------------
// Regular expressions: must compile (case-insensitively, as they are used) and must not nest quantifiers,
// the shape behind catastrophic backtracking (`(a+)+`, `(?:x*y?)*`).

export function regexProblem(source: string): string | null {
  try {
    new RegExp(source, 'i');
  } catch (e) {
    return `invalid regular expression /${source}/: ${(e as Error).message}`;
  }
  if (hasNestedQuantifier(source)) return `regular expression /${source}/ repeats a group that itself contains a quantifier (catastrophic backtracking risk)`;
  return null;
}

function hasNestedQuantifier(src: string): boolean {
  // Stack of open groups: does the group contain a quantifier? Lookarounds are not quantified themselves.
  const stack: { quantified: boolean }[] = [];
  let lastGroupHadQuantifier = false;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      lastGroupHadQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      lastGroupHadQuantifier = false;
      continue;
    }
    if (c === '(') {
      stack.push({ quantified: false });
      lastGroupHadQuantifier = false;
      continue;
    }
    if (c === ')') {
      const group = stack.pop();
      lastGroupHadQuantifier = !!group?.quantified;
      if (group?.quantified && stack.length) stack[stack.length - 1].quantified = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      const isQuantifier = c !== '{' || /^\{\d+(,\d*)?\}/.test(src.slice(i, i + 12));
      // `?` right after `(` (group syntax) or after another quantifier (lazy) is not a new quantifier.
      if (c === '?' && (src[i - 1] === '(' || src[i - 1] === '*' || src[i - 1] === '+' || src[i - 1] === '?' || src[i - 1] === '}')) continue;
      if (!isQuantifier) continue;
      const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d+,\d*\}/.test(src.slice(i, i + 12)));
      if (src[i - 1] === ')' && lastGroupHadQuantifier && unbounded) return true;
      if (stack.length) stack[stack.length - 1].quantified = true;
      lastGroupHadQuantifier = false;
      continue;
    }
    lastGroupHadQuantifier = false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Per-file semantic checks.

export function parseAgentsFile(text: string, fileName = 'rules/agents.yml'): AgentsFile {
  const file = parseWith<AgentsFile>(text, fileName, agentsSpec);
  const ids = new Map<string, object>();
  const prefixes = new Map<string, string>();
  for (const action of file.actions) {
    if (ids.has(action.id)) failAt(action, 'id', `duplicate id "${action.id}"`);
    ids.set(action.id, action);
    for (const u of action.uses) {
      const key = u.toLowerCase();
      const other = prefixes.get(key);
      if (other) failAt(action, 'uses', `"${u}" is already listed by "${other}"`);
      prefixes.set(key, action.id);
    }
    for (const w of action.gate.wideners ?? []) {
      if (w.requiresInput && w.requiresInput === w.input) failAt(w, 'requiresInput', 'a widener cannot require itself');
    }
    if (action.agentModeInputs && action.readsThread !== 'without-prompt') failAt(action, 'agentModeInputs', 'only meaningful with readsThread: without-prompt');
    if (action.agentModeDefaults && action.readsThread !== 'without-prompt') failAt(action, 'agentModeDefaults', 'only meaningful with readsThread: without-prompt');
    if (action.keyWideners && action.keyHandling !== 'proxy') failAt(action, 'keyWideners', 'only meaningful with keyHandling: proxy');
  }
  const cliIds = new Set<string>();
  const commands = new Map<string, string>();
  for (const cli of file.clis) {
    if (cliIds.has(cli.id) || ids.has(cli.id)) failAt(cli, 'id', `duplicate id "${cli.id}"`);
    cliIds.add(cli.id);
    if (!cli.commands.length && !cli.modules?.length) failAt(cli, 'commands', 'needs at least one command or a `modules` entry');
    for (const c of cli.commands) {
      const other = commands.get(c);
      if (other) failAt(cli, 'commands', `command "${c}" is already claimed by "${other}"`);
      commands.set(c, cli.id);
    }
  }
  for (const action of file.actions) {
    if (action.cli && !cliIds.has(action.cli)) failAt(action, 'cli', `unknown cli "${action.cli}" (not an id under clis)`);
  }
  const hosts = new Map<string, string>();
  for (const api of file.apis ?? []) {
    if (ids.has(api.id) || cliIds.has(api.id) || hosts.has(`id:${api.id}`)) failAt(api, 'id', `duplicate id "${api.id}"`);
    hosts.set(`id:${api.id}`, api.id);
    if (api.kind === 'agent' && !api.acts) failAt(api, 'acts', 'an agent API must say what it does to the repository');
    if (!api.hosts?.length && !api.markers?.length) failAt(api, 'hosts', 'needs `hosts` or `markers`');
    if (api.paths && !api.hosts) failAt(api, 'paths', 'only meaningful with `hosts`');
    for (const h of api.hosts ?? []) {
      for (const p of api.paths ?? ['/']) {
        const other = hosts.get(h + p);
        if (other) failAt(api, 'hosts', `"${h}${p}" is already listed by "${other}"`);
        hosts.set(h + p, api.id);
      }
    }
  }
  return file;
}

export function parseSourcesFile(text: string, fileName = 'rules/sources.yml'): SourcesFile {
  const file = parseWith<SourcesFile>(text, fileName, sourcesSpec);
  const seen = new Map<string, Set<string>>();
  const check = (entry: { path: string; events?: string[] }) => {
    const events = entry.events ?? ['*'];
    const got = seen.get(entry.path) ?? new Set<string>();
    for (const e of events) {
      if (got.has(e) || (got.size && (e === '*' || got.has('*')))) failAt(entry, 'path', `"${entry.path}" is listed twice for event ${e === '*' ? '(any)' : e}`);
      got.add(e);
    }
    seen.set(entry.path, got);
  };
  file.contexts.forEach(check);
  seen.clear();
  file.wholeObjects.forEach(check);
  return file;
}

export function parseTriggersFile(text: string, fileName = 'rules/triggers.yml'): TriggersFile {
  const file = parseWith<TriggersFile>(text, fileName, triggersSpec);
  const seen = new Set<string>();
  for (const t of file.triggers) {
    if (seen.has(t.event)) failAt(t, 'event', `duplicate event "${t.event}"`);
    seen.add(t.event);
  }
  return file;
}

/** Checks between files: every event named in agents.yml and sources.yml exists in triggers.yml. */
export function checkRuleSet(rules: RuleSet): void {
  const events = new Set(rules.triggers.triggers.map((t) => t.event));
  const checkEvents = (obj: object, field: string, list: string[] | undefined) => {
    for (const e of list ?? []) if (!events.has(e)) failAt(obj, field, `unknown event "${e}" (not in triggers.yml)`);
  };
  for (const action of rules.agents.actions) {
    checkEvents(action.gate, 'skippedOn', action.gate.skippedOn);
    if (action.commandSurface) checkEvents(action.commandSurface, 'events', action.commandSurface.events);
  }
  for (const c of rules.sources.contexts) checkEvents(c, 'events', c.events);
  for (const w of rules.sources.wholeObjects) checkEvents(w, 'events', w.events);
}

export function parseRuleSet(texts: { agents: string; sources: string; triggers: string }): RuleSet {
  const rules: RuleSet = {
    agents: parseAgentsFile(texts.agents),
    sources: parseSourcesFile(texts.sources),
    triggers: parseTriggersFile(texts.triggers),
  };
  checkRuleSet(rules);
  return rules;
}

let cached: RuleSet | undefined;

/** The shipped rules, parsed and validated once. */
export function loadRules(): RuleSet {
  if (!cached) cached = parseRuleSet({ agents: agentsText, sources: sourcesText, triggers: triggersText });
  return cached;
}
