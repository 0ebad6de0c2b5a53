// The model of workflows, jobs, steps and composite actions that every analysis reads. Built from
// the positioned YAML tree; malformed parts become problems (with an offset) instead of exceptions,
// so one bad job never hides the rest of the file.

import {
  mapGet,
  mapPair,
  scalarText,
  stringList,
  type SourceFile,
  type YMap,
  type YNode,
  type YScalar,
} from './yaml';

export interface Problem {
  message: string;
  offset: number;
}

/** A named value with its YAML node (env entries, `with:` inputs, outputs). */
export interface Entry {
  name: string;
  keyNode: YScalar;
  value: YNode;
  /** The value as the runner sees it (scalars as text; mappings/sequences as ''). */
  text: string;
}

export type PermissionLevel = 'read' | 'write' | 'none';

/** `undefined` means the key was absent (the repository/organisation default applies). */
export interface Permissions {
  node: YNode;
  /** `read-all`/`write-all`/`{}` shorthands are expanded into `all`. */
  all?: PermissionLevel;
  scopes: Record<string, PermissionLevel>;
}

export interface Trigger {
  event: string;
  /** Activity types (`types:`), empty when not filtered. */
  types: string[];
  node: YScalar;
  config?: YNode;
}

export interface Step {
  index: number;
  node: YMap;
  id?: string;
  name?: string;
  /**
   * The step's identity in messages and baselines: `id`, else `name`, else what it runs (see
   * {@link stepIdentity}), so inserting a step above does not change it; `#N` (1-based) only for a
   * step that has none of these.
   */
  label: string;
  if?: YScalar;
  uses?: YScalar;
  run?: YScalar;
  shell?: string;
  with: Entry[];
  env: Entry[];
  /** A step-level `env:` that is an expression (`env: ${{ fromJSON(...) }}`) rather than a mapping. */
  envExpression?: YScalar;
  workingDirectory?: string;
  continueOnError?: YNode;
}

export interface Job {
  id: string;
  node: YMap;
  keyNode: YScalar;
  name?: string;
  if?: YScalar;
  needs: string[];
  permissions?: Permissions;
  env: Entry[];
  environment?: { name: string; node: YNode };
  runsOn: string[];
  runsOnNode?: YNode;
  container?: YNode;
  steps: Step[];
  /** Reusable workflow call (`uses:` at job level). */
  uses?: YScalar;
  with: Entry[];
  /** `secrets: inherit` or explicit secrets passed to a reusable workflow. */
  secrets?: 'inherit' | Entry[];
  secretsNode?: YNode;
  outputs: Entry[];
  strategy?: YNode;
}

export interface WorkflowCallInput {
  name: string;
  node: YNode;
  default?: YScalar;
}

export interface Workflow {
  kind: 'workflow';
  file: SourceFile;
  root: YMap;
  name?: string;
  triggers: Trigger[];
  onNode?: YNode;
  permissions?: Permissions;
  env: Entry[];
  jobs: Job[];
  /** `on.workflow_call.inputs`, `.secrets`, `.outputs`. */
  callInputs: WorkflowCallInput[];
  callOutputs: Entry[];
  problems: Problem[];
}

export interface ActionInput {
  name: string;
  node: YNode;
  default?: YScalar;
}

export interface CompositeAction {
  kind: 'action';
  file: SourceFile;
  root: YMap;
  name?: string;
  /** `composite`, `node20`, `docker`, ... */
  using: string;
  inputs: ActionInput[];
  outputs: Entry[];
  steps: Step[];
  /** For docker actions: `runs.image`, `runs.args`, `runs.env`. */
  env: Entry[];
  problems: Problem[];
}

// ---- building ------------------------------------------------------------------------------

export function buildWorkflow(file: SourceFile, root: YNode | null): Workflow {
  const problems: Problem[] = [];
  if (!root || root.kind !== 'map') {
    problems.push({ message: 'a workflow must be a mapping', offset: root?.start ?? 0 });
    return emptyWorkflow(file, root, problems);
  }
  const onPair = mapPair(root, 'on') ?? mapPairBoolKey(root);
  const triggers = onPair ? readTriggers(onPair.value, problems) : [];
  if (!onPair) problems.push({ message: "a workflow needs an 'on:' key", offset: root.start });
  const callConfig = triggers.find((t) => t.event === 'workflow_call')?.config;
  const jobsNode = mapGet(root, 'jobs');
  const jobs: Job[] = [];
  if (jobsNode && jobsNode.kind === 'map') {
    for (const pair of jobsNode.pairs) {
      if (pair.value.kind !== 'map') {
        problems.push({ message: `job '${pair.key.text}' must be a mapping`, offset: pair.value.start });
        continue;
      }
      jobs.push(readJob(pair.key, pair.value, problems));
    }
  } else if (jobsNode) {
    problems.push({ message: "'jobs' must be a mapping", offset: jobsNode.start });
  } else {
    problems.push({ message: "a workflow needs a 'jobs:' key", offset: root.start });
  }
  return {
    kind: 'workflow',
    file,
    root,
    name: scalarText(mapGet(root, 'name')),
    triggers,
    onNode: onPair?.value,
    permissions: readPermissions(mapGet(root, 'permissions'), problems),
    env: readEntries(mapGet(root, 'env'), 'env', problems),
    jobs,
    callInputs: readCallInputs(mapGet(callConfig, 'inputs')),
    callOutputs: readOutputs(mapGet(callConfig, 'outputs'), problems),
    problems,
  };
}

/** YAML 1.1 readers turn `on` into `true`; the library follows 1.2, but be lenient anyway. */
function mapPairBoolKey(root: YMap) {
  return root.pairs.find((p) => p.key.value === true);
}

function emptyWorkflow(file: SourceFile, root: YNode | null, problems: Problem[]): Workflow {
  return {
    kind: 'workflow',
    file,
    root: { kind: 'map', pairs: [], start: root?.start ?? 0, end: root?.end ?? 0 },
    triggers: [],
    env: [],
    jobs: [],
    callInputs: [],
    callOutputs: [],
    problems,
  };
}

function readTriggers(node: YNode, problems: Problem[]): Trigger[] {
  if (node.kind === 'scalar') return node.value === null ? [] : [{ event: node.text, types: [], node }];
  if (node.kind === 'seq') {
    return node.items
      .filter((i): i is YScalar => i.kind === 'scalar')
      .map((i) => ({ event: i.text, types: [], node: i }));
  }
  const triggers: Trigger[] = [];
  for (const pair of node.pairs) {
    const config = pair.value;
    const typesNode = mapGet(config, 'types');
    if (typesNode && typesNode.kind === 'map') {
      problems.push({ message: `'types' of '${pair.key.text}' must be a list`, offset: typesNode.start });
    }
    triggers.push({ event: pair.key.text, types: stringList(typesNode), node: pair.key, config });
  }
  return triggers;
}

function readJob(keyNode: YScalar, node: YMap, problems: Problem[]): Job {
  const stepsNode = mapGet(node, 'steps');
  const steps: Step[] = [];
  if (stepsNode?.kind === 'seq') {
    stepsNode.items.forEach((item, index) => {
      if (item.kind !== 'map') {
        problems.push({ message: `step ${index + 1} of job '${keyNode.text}' must be a mapping`, offset: item.start });
        return;
      }
      steps.push(readStep(item, index, problems));
    });
  } else if (stepsNode) {
    problems.push({ message: `'steps' of job '${keyNode.text}' must be a list`, offset: stepsNode.start });
  }
  const secretsNode = mapGet(node, 'secrets');
  const environmentNode = mapGet(node, 'environment');
  const environmentName =
    environmentNode?.kind === 'scalar' ? environmentNode.text : scalarText(mapGet(environmentNode, 'name'));
  const runsOnNode = mapGet(node, 'runs-on');
  return {
    id: keyNode.text,
    node,
    keyNode,
    name: scalarText(mapGet(node, 'name')),
    if: asScalar(mapGet(node, 'if')),
    needs: stringList(mapGet(node, 'needs')),
    permissions: readPermissions(mapGet(node, 'permissions'), problems),
    env: readEntries(mapGet(node, 'env'), 'env', problems),
    environment: environmentNode && environmentName !== undefined ? { name: environmentName, node: environmentNode } : undefined,
    runsOn: readRunsOn(runsOnNode),
    runsOnNode,
    container: mapGet(node, 'container'),
    steps,
    uses: asScalar(mapGet(node, 'uses')),
    with: readEntries(mapGet(node, 'with'), 'with', problems),
    secrets:
      secretsNode?.kind === 'scalar' && secretsNode.text === 'inherit'
        ? 'inherit'
        : secretsNode
          ? readEntries(secretsNode, 'secrets', problems)
          : undefined,
    secretsNode,
    outputs: readOutputs(mapGet(node, 'outputs'), problems),
    strategy: mapGet(node, 'strategy'),
  };
}

function readRunsOn(node: YNode | undefined): string[] {
  if (!node) return [];
  if (node.kind === 'map') return [...stringList(mapGet(node, 'labels')), ...stringList(mapGet(node, 'group'))];
  return stringList(node);
}

export function readStep(node: YMap, index: number, problems: Problem[]): Step {
  const id = scalarText(mapGet(node, 'id'));
  const name = scalarText(mapGet(node, 'name'));
  const envNode = mapGet(node, 'env');
  const uses = asScalar(mapGet(node, 'uses'));
  const run = asScalar(mapGet(node, 'run'));
  return {
    index,
    node,
    id,
    name,
    label: id ?? name ?? stepIdentity(uses?.text, run?.text) ?? `#${index + 1}`,
    if: asScalar(mapGet(node, 'if')),
    uses,
    run,
    shell: scalarText(mapGet(node, 'shell')),
    with: readEntries(mapGet(node, 'with'), 'with', problems),
    env: envNode?.kind === 'scalar' ? [] : readEntries(envNode, 'env', problems),
    envExpression: envNode?.kind === 'scalar' && envNode.value !== null ? envNode : undefined,
    workingDirectory: scalarText(mapGet(node, 'working-directory')),
    continueOnError: mapGet(node, 'continue-on-error'),
  };
}

/** Longest step identity; longer commands are cut with `…`. */
const MAX_IDENTITY = 60;

/**
 * What a step runs, as a name for it: the action it uses without its ref (so a version bump keeps
 * it), or the first command of its script, skipping blank lines, comments and shell option lines
 * (`set -euo pipefail`), with runs of spaces collapsed.
 */
export function stepIdentity(uses: string | undefined, run: string | undefined): string | undefined {
  if (uses !== undefined && uses.trim() !== '') return uses.trim().replace(/@[^@]*$/, '');
  if (run === undefined) return undefined;
  for (const raw of run.split('\n')) {
    const line = raw.replace(/\\$/, '').replace(/\s+/g, ' ').trim();
    if (line === '' || line.startsWith('#') || /^(set|shopt) [-+]/.test(line)) continue;
    return line.length > MAX_IDENTITY ? `${line.slice(0, MAX_IDENTITY - 1)}…` : line;
  }
  return undefined;
}

function asScalar(node: YNode | undefined): YScalar | undefined {
  return node?.kind === 'scalar' && node.value !== null ? node : undefined;
}

export function readEntries(node: YNode | undefined, what: string, problems: Problem[]): Entry[] {
  if (!node) return [];
  if (node.kind !== 'map') {
    if (node.kind === 'scalar' && node.value === null) return [];
    // `env: ${{ fromJSON(...) }}` is legal for some keys; callers that care look at the node.
    if (node.kind === 'scalar' && node.text.includes('${{')) return [];
    problems.push({ message: `'${what}' must be a mapping`, offset: node.start });
    return [];
  }
  return node.pairs.map((pair) => ({
    name: pair.key.text,
    keyNode: pair.key,
    value: pair.value,
    text: pair.value.kind === 'scalar' ? pair.value.text : '',
  }));
}

/** Job outputs are `name: value`; workflow_call/action outputs are `name: { value: ... }`. */
function readOutputs(node: YNode | undefined, problems: Problem[]): Entry[] {
  return readEntries(node, 'outputs', problems).map((entry) => {
    const inner = entry.value.kind === 'map' ? mapGet(entry.value, 'value') : undefined;
    return inner ? { ...entry, value: inner, text: scalarText(inner) ?? '' } : entry;
  });
}

function readCallInputs(node: YNode | undefined): WorkflowCallInput[] {
  if (!node || node.kind !== 'map') return [];
  return node.pairs.map((p) => ({ name: p.key.text, node: p.value, default: asScalar(mapGet(p.value, 'default')) }));
}

const LEVELS: Record<string, PermissionLevel> = { read: 'read', write: 'write', none: 'none' };

export function readPermissions(node: YNode | undefined, problems: Problem[]): Permissions | undefined {
  if (!node) return undefined;
  if (node.kind === 'scalar') {
    if (node.text === 'read-all') return { node, all: 'read', scopes: {} };
    if (node.text === 'write-all') return { node, all: 'write', scopes: {} };
    if (node.value === null) return { node, all: 'none', scopes: {} };
    if (node.text.includes('${{')) return undefined;
    problems.push({ message: `unknown permissions value '${node.text}'`, offset: node.start });
    return undefined;
  }
  if (node.kind !== 'map') {
    problems.push({ message: "'permissions' must be a mapping or read-all/write-all", offset: node.start });
    return undefined;
  }
  // An explicit mapping sets every unlisted scope to none.
  const scopes: Record<string, PermissionLevel> = {};
  for (const pair of node.pairs) {
    const level = LEVELS[scalarText(pair.value) ?? ''];
    if (level) scopes[pair.key.text] = level;
    else problems.push({ message: `unknown permission level for '${pair.key.text}'`, offset: pair.value.start });
  }
  return { node, all: 'none', scopes };
}

export function buildAction(file: SourceFile, root: YNode | null): CompositeAction {
  const problems: Problem[] = [];
  const map: YMap = root?.kind === 'map' ? root : { kind: 'map', pairs: [], start: 0, end: 0 };
  if (!root || root.kind !== 'map') problems.push({ message: 'an action must be a mapping', offset: root?.start ?? 0 });
  const runs = mapGet(map, 'runs');
  const using = scalarText(mapGet(runs, 'using')) ?? '';
  if (!runs) problems.push({ message: "an action needs a 'runs:' key", offset: map.start });
  const steps: Step[] = [];
  const stepsNode = mapGet(runs, 'steps');
  if (stepsNode?.kind === 'seq') {
    stepsNode.items.forEach((item, index) => {
      if (item.kind === 'map') steps.push(readStep(item, index, problems));
      else problems.push({ message: `step ${index + 1} must be a mapping`, offset: item.start });
    });
  }
  const inputsNode = mapGet(map, 'inputs');
  return {
    kind: 'action',
    file,
    root: map,
    name: scalarText(mapGet(map, 'name')),
    using,
    inputs:
      inputsNode?.kind === 'map'
        ? inputsNode.pairs.map((p) => ({ name: p.key.text, node: p.value, default: asScalar(mapGet(p.value, 'default')) }))
        : [],
    outputs: readOutputs(mapGet(map, 'outputs'), problems),
    steps,
    env: readEntries(mapGet(runs, 'env'), 'env', problems),
    problems,
  };
}

/** Whether a parsed document looks like an action metadata file rather than a workflow. */
export function looksLikeAction(root: YNode | null): boolean {
  return !!root && root.kind === 'map' && !!mapGet(root, 'runs') && !mapGet(root, 'jobs');
}

/** A `with:` input by name. The runner matches input names case-insensitively. */
export function inputOf(entries: Entry[], name: string): Entry | undefined {
  const wanted = name.toLowerCase();
  return entries.find((e) => e.name.toLowerCase() === wanted);
}
