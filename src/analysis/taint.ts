// Taint: which outsider-controlled texts a value can carry, and the path they took to get there.
// Values are followed through `${{ }}` references (env, step outputs, job outputs via needs, inputs
// of local reusable workflows and composite actions), through `$GITHUB_OUTPUT` / `$GITHUB_ENV`
// writes and shell variables in `run:` scripts, and through files written from tainted text.

import { inputOf } from '../workflow/model';
import type { PathHop } from '../checks/types';
import { findTemplates, referencesOf, type Reference } from '../workflow/expression';
import type { Entry } from '../workflow/model';
import { locateInScalar, type SourceFile, type YNode, type YScalar } from '../workflow/yaml';
import type { Role } from './gates';
import { hopAt, type JobInstance, type StepInstance } from './instances';
import type { ActionOutputSource, SourceContext, SourcesFile, WholeObjectSource, AgentsFile } from './ruleTypes';
import { runtimeFetch, scriptFacts, shellVariables, type RuntimeFetch } from './shell';
import { matchAgentAction } from './agents';
import { projectConfig, type ProjectConfig } from './projectConfig';

export type OriginKind = 'context' | 'fetch' | 'thread' | 'fork-checkout' | 'ai-output';

export interface Origin {
  kind: OriginKind;
  /** A maintainer chose what is read (a label filter): reachable only through a maintainer's act. */
  maintainerChosen?: boolean;
  role: Role;
  /** Events on which this text is outsider-controlled; null = whatever fires the job. */
  events: string[] | null;
  /** For messages: `github.event.issue.title`, or what the fetch does. */
  what: string;
}

export interface Taint {
  origin: Origin;
  /** From the source to the value being asked about. */
  hops: PathHop[];
}

export interface Scope {
  job: JobInstance;
  step?: StepInstance;
}

const MAX_TAINTS = 16;

export class TaintEngine {
  private readonly memo = new Map<YNode, Map<object, Taint[]>>();
  private readonly active = new Set<string>();

  constructor(
    private readonly sources: SourcesFile,
    private readonly agents: AgentsFile,
    /** The agent configuration the linted repository ships (settings, slash commands). */
    readonly project: ProjectConfig = projectConfig(undefined),
  ) {
    this.index = sourceIndex(sources);
  }

  /** Taint of every template in a YAML value (mappings and sequences are walked). */
  ofNode(node: YNode | undefined, file: SourceFile, scope: Scope): Taint[] {
    if (!node) return [];
    if (node.kind === 'scalar') return this.ofScalar(node, file, scope);
    const items = node.kind === 'map' ? node.pairs.map((p) => p.value) : node.items;
    return limit(items.flatMap((i) => this.ofNode(i, file, scope)));
  }

  ofScalar(node: YScalar, file: SourceFile, scope: Scope): Taint[] {
    if (typeof node.value !== 'string' || !node.text.includes('${{')) return [];
    const scopeKey: object = scope.step ?? scope.job;
    let byScope = this.memo.get(node);
    const known = byScope?.get(scopeKey);
    if (known) return known;
    const key = `${node.start}:${file.path}:${scope.job.job.id}:${scope.step?.position ?? -1}`;
    if (this.active.has(key)) return [];
    this.active.add(key);
    const result = limit(this.templates(node.text, (offset, length) => locateInScalar(file, node, offset, length), file, scope));
    this.active.delete(key);
    if (!byScope) this.memo.set(node, (byScope = new Map()));
    byScope.set(scopeKey, result);
    return result;
  }

  /** Taint of the `${{ }}` references in `text`; `locate` maps a text offset to a file offset. */
  templates(text: string, locate: (offset: number, length: number) => number, file: SourceFile, scope: Scope): Taint[] {
    const out: Taint[] = [];
    for (const template of findTemplates(text)) {
      const refs = referencesOf(template.inner);
      if (!refs) continue;
      for (const ref of refs) {
        // Locating costs a search; most references carry nothing, so only locate the ones that do.
        const at = () => locate(template.innerStart + ref.node.start, ref.node.end - ref.node.start);
        out.push(...this.ofReference(ref, file, at, scope));
      }
    }
    return out;
  }

  /** Taint of one context reference; `at` gives its file offset (called only when a hop is made). */
  ofReference(ref: Reference, file: SourceFile, at: () => number, scope: Scope): Taint[] {
    const path = ref.path;
    // The same path can be written by different people on different events (changes.body.from):
    // one taint per matching context, each live only on its own events.
    const matches = this.matchSources(path, ref.functions);
    if (matches.length) {
      return matches.map((source) => ({
        origin: { kind: 'context', role: source.author as Role, events: source.events?.length ? source.events : null, what: path },
        hops: [hopAt(file, at(), `${path} is ${describe(source)}`)],
      }));
    }
    const parts = path.split('.');
    const via = (taints: Taint[], note: string) => (taints.length ? extend(taints, hopAt(file, at(), note)) : taints);
    switch (parts[0]) {
      case 'env':
        return parts[1] && parts[1] !== '*' ? via(this.envTaint(parts[1], scope), `read as env.${parts[1]}`) : [];
      case 'steps':
        if (parts.length >= 4 && parts[2] === 'outputs') {
          return via(this.stepOutputTaint(parts[1], parts[3], scope), `read as steps.${parts[1]}.outputs.${parts[3]}`);
        }
        return [];
      case 'needs':
        if (parts.length >= 4 && parts[2] === 'outputs') {
          return via(this.needsOutputTaint(parts[1], parts[3], scope), `read as needs.${parts[1]}.outputs.${parts[3]}`);
        }
        return [];
      case 'inputs':
        return parts[1] ? via(this.inputTaint(parts[1], scope), `read as inputs.${parts[1]}`) : [];
      default:
        return [];
    }
  }

  private matchSources(path: string, functions: string[]): (SourceContext | WholeObjectSource)[] {
    // Most references (github.sha, steps.*, secrets.*) are not under github.event: skip them cheaply.
    if (!path.startsWith('github')) return [];
    const out = this.index.contextsAbove(path);
    if (out.length) return out;
    const serialised = functions.includes('tojson') || functions.includes('join');
    return this.sources.wholeObjects.filter((w) => path === w.path || (serialised && pathWithin(w.path, path)));
  }

  private readonly index: SourceIndex;

  /** A third-party action modelled in sources.yml whose `output` carries outsider text. */
  private actionOutputSource(uses: string, output: string): ActionOutputSource | undefined {
    const name = uses.replace(/@.*$/, '').toLowerCase();
    return (this.sources.actionOutputs ?? [])
      .filter((a) => name === a.uses.toLowerCase() || name.startsWith(`${a.uses.toLowerCase()}/`))
      .find((a) => a.outputs.includes('*') || a.outputs.includes(output));
  }

  /** Taint of an environment variable as a step (or, without a step, the job) sees it. */
  envTaint(name: string, scope: Scope): Taint[] {
    const out: Taint[] = [];
    const step = scope.step;
    if (step) {
      const own = step.step.env.find((e) => e.name === name);
      if (own) return this.entryTaint(own, step.file, scope, `env ${name} of step '${step.step.label}'`);
      // Composite action steps also see the env of the step that uses the action.
      for (let frame = step.frame; frame; frame = frame.callerStep.frame) {
        const outer = frame.callerStep.step.env.find((e) => e.name === name);
        if (outer) return this.entryTaint(outer, frame.callerStep.file, { job: scope.job, step: frame.callerStep }, `env ${name} of step '${frame.callerStep.step.label}'`);
      }
      // Earlier steps of the job may have written it to $GITHUB_ENV.
      for (const earlier of scope.job.steps) {
        if (earlier.position >= step.position || !earlier.step.run) continue;
        const run = earlier.step.run;
        for (const write of scriptFacts(run, run.text).env) {
          if (write.name !== name) continue;
          out.push(...extend(this.shellText(write.text, run, write.offset, { job: scope.job, step: earlier }), hopAt(earlier.file, locateInScalar(earlier.file, run, write.offset, write.text.length), `written to $GITHUB_ENV as ${name}`)));
        }
      }
    }
    const jobEntry = scope.job.job.env.find((e) => e.name === name);
    if (jobEntry) return [...out, ...this.entryTaint(jobEntry, scope.job.workflow.file, { job: scope.job }, `env ${name} of job '${scope.job.job.id}'`)];
    const wfEntry = scope.job.workflow.env.find((e) => e.name === name);
    if (wfEntry) return [...out, ...this.entryTaint(wfEntry, scope.job.workflow.file, { job: scope.job }, `workflow env ${name}`)];
    return out;
  }

  private entryTaint(entry: Entry, file: SourceFile, scope: Scope, note: string): Taint[] {
    return extend(this.ofNode(entry.value, file, scope), hopAt(file, entry.keyNode.start, note));
  }

  /** `steps.<id>.outputs.<name>` as seen from the scope's step. */
  stepOutputTaint(id: string, output: string, scope: Scope): Taint[] {
    const siblings = scope.step?.siblings ?? scope.job.steps.filter((s) => !s.frame);
    const producer = siblings.find((s) => s.step.id === id);
    if (!producer) return [];
    const step = producer.step;
    const pscope: Scope = { job: scope.job, step: producer };
    if (step.run) {
      const run = step.run;
      return limit(
        scriptFacts(run, run.text)
          .outputs.filter((w) => w.name === output)
          .flatMap((w) =>
            extend(this.shellText(w.text, run, w.offset, pscope), hopAt(producer.file, locateInScalar(producer.file, run, w.offset, w.text.length), `written to $GITHUB_OUTPUT as ${output}`)),
          ),
      );
    }
    const uses = step.uses?.text ?? '';
    const nested = producer.job.steps.find((s) => s.frame?.callerStep === producer);
    if (nested?.frame) {
      const entry = nested.frame.action.outputs.find((o) => o.name === output);
      return entry ? this.entryTaint(entry, nested.frame.action.file, { job: scope.job, step: nested }, `output ${output} of ${uses}`) : [];
    }
    const agent = matchAgentAction(uses);
    const inputs = step.with.flatMap((w) => this.ofNode(w.value, producer.file, pscope));
    if (agent) {
      const ai: Taint = { origin: { kind: 'ai-output', role: 'thread', events: null, what: `output ${output} of ${agent.name}` }, hops: [hopAt(producer.file, step.uses!.start, `model output of step '${step.label}' (${agent.name})`)] };
      return [ai, ...extend(inputs, hopAt(producer.file, step.uses!.start, `the model's answer can repeat its input (${agent.name})`))];
    }
    if (/^actions\/github-script@/i.test(uses)) {
      const script = inputOf(step.with, 'script');
      return [...githubScriptTaint(producer, script), ...inputs];
    }
    const modelled = this.actionOutputSource(uses, output);
    if (modelled) {
      const what = `${modelled.what}, output ${output}`;
      return [{ origin: { kind: 'fetch', role: modelled.author as Role, events: null, what }, hops: [hopAt(producer.file, step.uses!.start, `step '${step.label}' outputs ${what}`)] }];
    }
    // An unknown action: assume what goes in can come out.
    return extend(inputs, hopAt(producer.file, step.uses?.start ?? step.node.start, `assumed to pass its inputs to output ${output} (${uses})`));
  }

  needsOutputTaint(jobId: string, output: string, scope: Scope): Taint[] {
    const needed = scope.job.needs.find((j) => j.job.id === jobId);
    if (!needed) return [];
    if (needed.job.uses) return this.calledWorkflowOutput(needed, output);
    const entry = needed.job.outputs.find((o) => o.name === output);
    return entry ? this.entryTaint(entry, needed.workflow.file, { job: needed }, `output ${output} of job '${jobId}'`) : [];
  }

  /** Output of a reusable workflow call: `on.workflow_call.outputs.<name>.value`, read from its jobs. */
  private calledWorkflowOutput(caller: JobInstance, output: string): Taint[] {
    const first = caller.callees[0];
    if (!first) return [];
    const entry = first.workflow.callOutputs.find((o) => o.name === output);
    if (!entry || entry.value.kind !== 'scalar') return [];
    const node = entry.value;
    const file = first.workflow.file;
    const out: Taint[] = [];
    for (const template of findTemplates(node.text)) {
      for (const ref of referencesOf(template.inner) ?? []) {
        const parts = ref.path.split('.');
        if (parts[0] !== 'jobs' || parts[2] !== 'outputs' || !parts[3]) continue;
        const job = caller.callees.find((j) => j.job.id === parts[1]);
        const jobOutput = job?.job.outputs.find((o) => o.name === parts[3]);
        if (!job || !jobOutput) continue;
        const at = locateInScalar(file, node, template.innerStart + ref.node.start, ref.node.end - ref.node.start);
        out.push(...extend(this.entryTaint(jobOutput, job.workflow.file, { job }, `output ${parts[3]} of job '${parts[1]}'`), hopAt(file, at, `workflow output ${output}`)));
      }
    }
    return limit(out);
  }

  /** `inputs.<name>`: the `with:` of the composite action's caller step, or of the reusable workflow's caller job. */
  inputTaint(name: string, scope: Scope): Taint[] {
    const frame = scope.step?.frame;
    if (frame) {
      const given = inputOf(frame.callerStep.step.with, name);
      const callerScope: Scope = { job: scope.job, step: frame.callerStep };
      if (given) return this.entryTaint(given, frame.callerStep.file, callerScope, `input ${name} of ${frame.callerStep.step.uses?.text}`);
      const input = frame.action.inputs.find((i) => i.name === name);
      return input?.default ? this.ofScalar(input.default, frame.action.file, scope) : [];
    }
    const caller = scope.job.caller;
    if (caller) {
      const given = inputOf(caller.with, name);
      if (given) return this.entryTaint(given, caller.job.workflow.file, { job: caller.job }, `input ${name} of ${caller.uses.text}`);
    }
    return [];
  }

  /** Taint of shell text: its templates, the variables it expands, and run-time fetches. */
  shellText(text: string, run: YScalar, offset: number, scope: Scope): Taint[] {
    const step = scope.step!;
    const file = step.file;
    const out = this.templates(text, (o, l) => locateInScalar(file, run, offset + o, l), file, scope);
    const fetch = runtimeFetch(text);
    if (fetch) out.push(fetchTaint(fetch, hopAt(file, locateInScalar(file, run, offset, text.length), `the script pulls in ${fetch.what}`)));
    const facts = scriptFacts(run, run.text);
    // Reading a file an earlier step wrote from outsider text (`jq .title /tmp/issue.json`).
    for (const file of this.taintedFiles(step)) {
      if (file.path.length > 3 && text.includes(file.path) && !facts.files.some((f) => f.path === file.path && f.offset === offset)) {
        out.push(...extend(file.taints, hopAt(step.file, locateInScalar(step.file, run, offset, text.length), `reads ${file.path}`)));
      }
    }
    for (const variable of shellVariables(text)) {
      const local = facts.assignments.filter((a) => a.name === variable.name && a.offset < offset + variable.index);
      if (local.length) {
        const last = local[local.length - 1];
        if (last.offset !== offset) out.push(...extend(this.shellText(last.text, run, last.offset, scope), hopAt(file, locateInScalar(file, run, last.offset, last.text.length), `assigned to $${variable.name}`)));
        continue;
      }
      out.push(...this.envTaint(variable.name, scope));
    }
    return limit(out);
  }

  /** Files that steps of the job up to `step` wrote from outsider text (memoised per step). */
  taintedFiles(step: StepInstance): TaintedFile[] {
    const known = this.fileMemo.get(step);
    if (known) return known;
    const key = `files:${step.job.job.id}:${step.position}`;
    if (this.active.has(key)) return [];
    this.active.add(key);
    const out: TaintedFile[] = [];
    for (const earlier of step.job.steps) {
      if (earlier.position > step.position) continue;
      out.push(...this.scriptWrittenFiles(earlier));
      if (!earlier.step.run) continue;
      const run = earlier.step.run;
      for (const write of scriptFacts(run, run.text).files) {
        const taints = this.shellText(write.text, run, write.offset, { job: step.job, step: earlier });
        if (!taints.length) continue;
        const hop = hopAt(earlier.file, locateInScalar(earlier.file, run, write.offset, write.text.length), `written to ${write.path}`);
        out.push({ path: write.path, taints: extend(taints, hop) });
      }
    }
    this.active.delete(key);
    this.fileMemo.set(step, out);
    return out;
  }

  private readonly fileMemo = new Map<StepInstance, TaintedFile[]>();

  /** Files a github-script step writes (`fs.writeFileSync(path, …)`) from the event or a fetched thread. */
  private scriptWrittenFiles(step: StepInstance): TaintedFile[] {
    if (!/^actions\/github-script@/i.test(step.step.uses?.text ?? '')) return [];
    const script = inputOf(step.step.with, 'script');
    if (!script || !/\b(?:writeFileSync|appendFileSync|writeFile|appendFile)\s*\(/.test(script.text)) return [];
    const taints = [...githubScriptTaint(step, script), ...this.ofNode(script.value, step.file, { job: step.job, step })];
    if (!taints.length) return [];
    return scriptFileTargets(script.text).map((path) => ({
      path,
      taints: extend(taints, hopAt(step.file, script.keyNode.start, `github-script in step '${step.step.label}' writes it to ${path}`)),
    }));
  }

  /** All environment variables a step's process gets from the workflow, with their taint. */
  visibleEnv(step: StepInstance): { name: string; taints: Taint[] }[] {
    const names = new Set<string>();
    for (const e of step.step.env) names.add(e.name);
    for (let f = step.frame; f; f = f.callerStep.frame) for (const e of f.callerStep.step.env) names.add(e.name);
    for (const e of step.job.job.env) names.add(e.name);
    for (const e of step.job.workflow.env) names.add(e.name);
    for (const earlier of step.job.steps) {
      if (earlier.position >= step.position || !earlier.step.run) continue;
      for (const w of scriptFacts(earlier.step.run, earlier.step.run.text).env) names.add(w.name);
    }
    return [...names].map((name) => ({ name, taints: this.envTaint(name, { job: step.job, step }) }));
  }

  get agentsData(): AgentsFile {
    return this.agents;
  }

  get sourcesData(): SourcesFile {
    return this.sources;
  }
}

export interface TaintedFile {
  path: string;
  taints: Taint[];
}

/** The event payload or a thread that a github-script reads (`context.payload.comment.body`, `issues.get`). */
export function githubScriptTaint(step: StepInstance, script: Entry | undefined): Taint[] {
  const text = script?.text ?? '';
  if (!script || !/context\.payload\.(issue|comment|pull_request|review|discussion)|github\.rest\.(issues|pulls)\.(get|list)/.test(text)) return [];
  return [{ origin: { kind: 'fetch', role: 'thread', events: null, what: 'the event payload or thread read by github-script' }, hops: [hopAt(step.file, script.keyNode.start, `github-script in step '${step.step.label}' reads outsider text`)] }];
}

/**
 * Paths a script writes with `fs.writeFileSync(…)` and friends: the last string literal of the first
 * argument (`process.env.GITHUB_WORKSPACE + '/.prompt.txt'` → `.prompt.txt`; `path.join(dir, 'p.md')` → `p.md`).
 */
function scriptFileTargets(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\b(?:writeFileSync|appendFileSync|writeFile|appendFile)\s*\(([^,;]*?)(?:,|\))/g)) {
    const literals = [...m[1].matchAll(/(['"`])([^'"`$]*)\1/g)].map((l) => l[2]);
    const last = literals[literals.length - 1]?.replace(/^\.?\/+/, '');
    if (last && last.length >= 3) out.push(last);
  }
  return [...new Set(out)];
}

export function fetchTaint(fetch: RuntimeFetch, hop: PathHop): Taint {
  return { origin: { kind: 'fetch', role: 'thread', events: null, what: fetch.what, maintainerChosen: fetch.labelGated }, hops: [hop] };
}

/** `a.b.c` is within `a.b` (and within `a.*`). */
export function pathWithin(path: string, pattern: string): boolean {
  const p = path.split('.');
  const q = pattern.split('.');
  if (p.length < q.length) return false;
  for (let i = 0; i < q.length; i++) if (q[i] !== '*' && q[i] !== p[i] && p[i] !== '*') return false;
  return true;
}

function describe(source: SourceContext | WholeObjectSource): string {
  const kind = 'kind' in source ? source.kind : 'whole object';
  return `outsider-controlled (${kind}, written by the ${source.author === 'actor' ? 'actor' : `${source.author} author`})`;
}

function extend(taints: Taint[], hop: PathHop): Taint[] {
  return taints.map((t) => ({ origin: t.origin, hops: [...t.hops, hop] }));
}

/** Keeps taint lists small: one taint per origin text, shortest path first. */
function limit(taints: Taint[]): Taint[] {
  if (taints.length <= 1) return taints;
  const best = new Map<string, Taint>();
  for (const t of taints) {
    const key = `${t.origin.kind}:${t.origin.what}:${t.origin.role}`;
    const seen = best.get(key);
    if (!seen || t.hops.length < seen.hops.length) best.set(key, t);
  }
  return [...best.values()].slice(0, MAX_TAINTS);
}

/** Source contexts as a trie over path segments (`*` matches any one segment), built once per rules. */
interface SourceIndex {
  contextsAbove(path: string): SourceContext[];
}

interface TrieNode {
  children: Map<string, TrieNode>;
  contexts: SourceContext[];
}

const indexes = new WeakMap<SourcesFile, SourceIndex>();

function sourceIndex(sources: SourcesFile): SourceIndex {
  const known = indexes.get(sources);
  if (known) return known;
  const root: TrieNode = { children: new Map(), contexts: [] };
  for (const context of sources.contexts) {
    let node = root;
    for (const segment of context.path.split('.')) {
      let next = node.children.get(segment);
      if (!next) node.children.set(segment, (next = { children: new Map(), contexts: [] }));
      node = next;
    }
    node.contexts.push(context);
  }
  const memo = new Map<string, SourceContext[]>();
  const index: SourceIndex = {
    contextsAbove(path) {
      const cached = memo.get(path);
      if (cached) return cached;
      const out: SourceContext[] = [];
      // A path matches a context when the context is a prefix of it (segment-wise, with wildcards).
      const walk = (node: TrieNode, segments: string[], i: number) => {
        out.push(...node.contexts);
        if (i >= segments.length) return;
        const seg = segments[i];
        const exact = node.children.get(seg);
        if (exact) walk(exact, segments, i + 1);
        const star = node.children.get('*');
        if (star && seg !== '*') walk(star, segments, i + 1);
        if (seg === '*') for (const [key, child] of node.children) if (key !== '*') walk(child, segments, i + 1);
      };
      walk(root, path.split('.'), 0);
      if (memo.size < 10_000) memo.set(path, out);
      return out;
    },
  };
  indexes.set(sources, index);
  return index;
}
