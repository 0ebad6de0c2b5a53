// Taint: which outsider-controlled texts a value can carry, and the path they took to get there.
// Values are followed through `${{ }}` references (env, step outputs, job outputs via needs, inputs
// of local reusable workflows and composite actions), through `$GITHUB_OUTPUT` / `$GITHUB_ENV`
// writes and shell variables in `run:` scripts, and through files written from tainted text.

import { inputOf } from '../workflow/model';
import type { PathHop } from '../checks/types';
import { findTemplates, referencesOf, valueReferences, valueReferencesOf, type Expr, type Reference } from '../workflow/expression';
import type { Entry } from '../workflow/model';
import { locateInScalar, type SourceFile, type YNode, type YScalar } from '../workflow/yaml';
import type { Role } from './gates';
import { hopAt, type JobInstance, type StepInstance } from './instances';
import type { ActionOutputSource, SourceContext, SourcesFile, WholeObjectSource, AgentsFile } from './ruleTypes';
import { runtimeFetch, scriptFacts, shellVariables, type RuntimeFetch } from './shell';
import { matchAgentAction } from './agents';
import { githubScriptValues } from './outputs';
import { isSafeField } from './scriptValues';
import type { Sym } from './symbolic';
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
  /** For model output: the agent step that wrote it (outsiders steer it only as far as they reach that agent). */
  producer?: StepInstance;
  /**
   * Agents whose answer repeated this text on its way here: it arrives only when each of them ran, so
   * outsiders reach it no further than they reach the least reachable of them.
   */
  relayedBy?: StepInstance[];
  /**
   * Conditions under which the text flows at all (the `if` branch of a script that picks
   * `context.payload.issue.body` only when the event is `issues`); all must be able to hold.
   */
  guards?: Sym[];
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

  /**
   * What a condition (`if:`) reads, whatever it tests it for: `steps.ai.outputs.verdict == 'approve'`
   * lets the model decide, though no text of it comes out of the comparison.
   */
  ofCondition(node: YScalar, file: SourceFile, scope: Scope): Taint[] {
    const text = node.text;
    const templates = findTemplates(text);
    // `if: a == b` without `${{ }}` is an expression too.
    const inner = templates.length ? null : text;
    const out: Taint[] = [];
    const parts = inner !== null ? [{ inner, innerStart: 0 }] : templates;
    for (const t of parts) {
      for (const ref of referencesOf(t.inner) ?? []) {
        out.push(...this.ofReference(ref, file, () => locateInScalar(file, node, t.innerStart + ref.node.start, ref.node.end - ref.node.start), scope));
      }
    }
    return limit(out);
  }

  /** Taint of the `${{ }}` references in `text`; `locate` maps a text offset to a file offset. */
  templates(text: string, locate: (offset: number, length: number) => number, file: SourceFile, scope: Scope): Taint[] {
    const out: Taint[] = [];
    for (const template of findTemplates(text)) {
      const refs = valueReferencesOf(template.inner);
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
    const select = ref.select ?? [];
    const field = select.length ? ` (field ${select.join('.')})` : '';
    switch (parts[0]) {
      case 'env':
        return parts[1] && parts[1] !== '*' ? via(this.envTaint(parts[1], scope, select), `read as env.${parts[1]}${field}`) : [];
      case 'steps':
        if (parts.length >= 4 && parts[2] === 'outputs') {
          return via(this.stepOutputTaint(parts[1], parts[3], scope, select), `read as steps.${parts[1]}.outputs.${parts[3]}${field}`);
        }
        return [];
      case 'needs':
        if (parts.length >= 4 && parts[2] === 'outputs') {
          return via(this.needsOutputTaint(parts[1], parts[3], scope, select), `read as needs.${parts[1]}.outputs.${parts[3]}${field}`);
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

  /** Whose text a GitHub API call returns (sources.yml `apiReads`); unlisted calls read the thread. */
  private apiRead(call: string): { author: string; what: string } {
    const found = (this.sources.apiReads ?? []).find((r) => new RegExp(r.call).test(call));
    return found ?? { author: 'thread', what: 'issue or pull request text' };
  }

  /** A third-party action modelled in sources.yml whose `output` carries outsider text. */
  private actionOutputSource(uses: string, output: string): ActionOutputSource | undefined {
    const name = uses.replace(/@.*$/, '').toLowerCase();
    return (this.sources.actionOutputs ?? [])
      .filter((a) => name === a.uses.toLowerCase() || name.startsWith(`${a.uses.toLowerCase()}/`))
      .find((a) => a.outputs.includes('*') || a.outputs.includes(output));
  }

  /** Taint of an environment variable as a step (or, without a step, the job) sees it; `select`: fields read from its JSON. */
  envTaint(name: string, scope: Scope, select: string[] = []): Taint[] {
    const out: Taint[] = [];
    const step = scope.step;
    if (step) {
      const own = step.step.env.find((e) => e.name === name);
      if (own) return this.entryTaint(own, step.file, scope, `env ${name} of step '${step.step.label}'`, select);
      // Composite action steps also see the env of the step that uses the action.
      for (let frame = step.frame; frame; frame = frame.callerStep.frame) {
        const outer = frame.callerStep.step.env.find((e) => e.name === name);
        if (outer) return this.entryTaint(outer, frame.callerStep.file, { job: scope.job, step: frame.callerStep }, `env ${name} of step '${frame.callerStep.step.label}'`, select);
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
    if (jobEntry) return [...out, ...this.entryTaint(jobEntry, scope.job.workflow.file, { job: scope.job }, `env ${name} of job '${scope.job.job.id}'`, select)];
    const wfEntry = scope.job.workflow.env.find((e) => e.name === name);
    if (wfEntry) return [...out, ...this.entryTaint(wfEntry, scope.job.workflow.file, { job: scope.job }, `workflow env ${name}`, select)];
    return out;
  }

  /**
   * Taint of a named value (env, output, input). With `select`, only those fields of its JSON are
   * read: passed on when the value is one reference (`${{ steps.x.outputs.result }}`).
   */
  private entryTaint(entry: Entry, file: SourceFile, scope: Scope, note: string, select: string[] = []): Taint[] {
    const hop = hopAt(file, entry.keyNode.start, note);
    const only = select.length ? wholeReference(entry.value) : null;
    if (only) {
      const ref: Reference = { ...only.ref, select: [...(only.ref.select ?? []), ...select] };
      const node = entry.value as YScalar;
      return extend(this.ofReference(ref, file, () => locateInScalar(file, node, only.offset, only.ref.node.end - only.ref.node.start), scope), hop);
    }
    return extend(this.ofNode(entry.value, file, scope), hop);
  }

  /** `steps.<id>.outputs.<name>` as seen from the scope's step; `select`: the fields of its JSON that are read. */
  stepOutputTaint(id: string, output: string, scope: Scope, select: string[] = []): Taint[] {
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
      return entry ? this.entryTaint(entry, nested.frame.action.file, { job: scope.job, step: nested }, `output ${output} of ${uses}`, select) : [];
    }
    const agent = matchAgentAction(uses);
    // A path the action chose, a count, a conclusion: nothing the model or its input wrote.
    if (agent?.nonTextOutputs?.some((o) => o.toLowerCase() === output.toLowerCase())) return [];
    const inputs = step.with.flatMap((w) => this.ofNode(w.value, producer.file, pscope));
    if (agent) {
      const ai: Taint = { origin: { kind: 'ai-output', role: 'thread', events: null, what: `output ${output} of ${agent.name}`, producer }, hops: [hopAt(producer.file, step.uses!.start, `model output of step '${step.label}' (${agent.name})`)] };
      const relayed = inputs.map((t) => ({ ...t, origin: { ...t.origin, relayedBy: [...(t.origin.relayedBy ?? []), producer] } }));
      return [ai, ...extend(relayed, hopAt(producer.file, step.uses!.start, `the model's answer can repeat its input (${agent.name})`))];
    }
    if (/^actions\/github-script@/i.test(uses)) {
      const script = inputOf(step.with, 'script');
      const at = script?.keyNode.start ?? step.node.start;
      // What the script could have read, for the parts of its value we cannot follow.
      const whatever = (): Taint[] => [...githubScriptTaint(producer, script), ...inputs];
      const values = githubScriptValues(producer);
      if (!values) return whatever();
      const value = output === 'result' ? values.result : (values.outputs.get(output) ?? values.outputs.get('*'));
      if (!value) return [];
      return limit(this.symTaint(value, select, pscope, producer.file, at, whatever, 0));
    }
    const modelled = this.actionOutputSource(uses, output);
    if (modelled) {
      const what = `${modelled.what}, output ${output}`;
      return [{ origin: { kind: 'fetch', role: modelled.author as Role, events: null, what }, hops: [hopAt(producer.file, step.uses!.start, `step '${step.label}' outputs ${what}`)] }];
    }
    // An unknown action: assume what goes in can come out.
    return extend(inputs, hopAt(producer.file, step.uses?.start ?? step.node.start, `assumed to pass its inputs to output ${output} (${uses})`));
  }

  needsOutputTaint(jobId: string, output: string, scope: Scope, select: string[] = []): Taint[] {
    const needed = scope.job.needs.find((j) => j.job.id === jobId);
    if (!needed) return [];
    if (needed.job.uses) return this.calledWorkflowOutput(needed, output);
    const entry = needed.job.outputs.find((o) => o.name === output);
    return entry ? this.entryTaint(entry, needed.workflow.file, { job: needed }, `output ${output} of job '${jobId}'`, select) : [];
  }

  /**
   * The outsider texts a symbolic value (a github-script output) can carry, reading only the
   * `select`ed fields: numbers, SHAs, logins and booleans carry none; `unknown` parts carry
   * `whatever` the script could have read.
   */
  private symTaint(v: Sym, select: string[], scope: Scope, file: SourceFile, at: number, whatever: () => Taint[], depth: number): Taint[] {
    if (depth > 24) return whatever();
    const next = (x: Sym, sel = select) => this.symTaint(x, sel, scope, file, at, whatever, depth + 1);
    switch (v.k) {
      case 'const':
      case 'opaque':
        return [];
      case 'expr': {
        const refs = valueReferences(selectFields(v.expr, select));
        return refs.flatMap((ref) => this.ofReference(ref, file, () => at, scope));
      }
      case 'oneOf':
        return v.options.flatMap((o) => guarded(next(o.value), o.when));
      case 'op':
        switch (v.op) {
          case '&&':
          case '||':
            return v.args.flatMap((a) => next(a));
          case 'cond':
            return [...next(v.args[1]), ...next(v.args[2])];
          case 'json':
          case 'output':
          case 'fromjson':
            return next(v.args[0]);
          case 'format':
            return v.args.slice(1).flatMap((a) => next(a, []));
          case 'get': {
            const key = v.args[1];
            return key.k === 'const' && key.value !== null ? next(v.args[0], [String(key.value), ...select]) : next(v.args[0], []);
          }
          default:
            return []; // comparisons, membership, lengths: booleans and numbers
        }
      case 'object': {
        if (!select.length) return [...v.props.values()].flatMap((p) => next(p));
        const prop = v.props.get(select[0]) ?? v.props.get('*');
        return prop ? next(prop, select.slice(1)) : [];
      }
      case 'array':
        return v.items.flatMap((i) => next(i, select.length && /^(\d+|\*)$/.test(select[0]) ? select.slice(1) : select));
      case 'text':
        return v.from.flatMap((x) => next(x, []));
      case 'fetched': {
        if (v.path.some(isSafeField) || select.some(isSafeField)) return [];
        const read = this.apiRead(v.call);
        if (read.author === 'none') return [];
        return [{ origin: { kind: 'fetch', role: read.author as Role, events: null, what: `${read.what} (github-script, ${v.call})` }, hops: [hopAt(file, at, `github-script fetches ${read.what}`)] }];
      }
      case 'repoFile':
        // On pull_request the checkout is the pull request's merge commit: its author wrote the file.
        return [{ origin: { kind: 'context', role: 'pull_request', events: v.prCheckout ? null : ['pull_request'], what: `${v.file} as the pull request changed it` }, hops: [hopAt(file, at, `github-script reads ${v.file} from the checkout`)] }];
      default:
        return whatever();
    }
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

/** `expr.a.b` for a selection of fields (`*` and digits become indexes). */
function selectFields(expr: Expr, select: string[]): Expr {
  let out = expr;
  for (const field of select) {
    out =
      field === '*' || /^\d+$/.test(field)
        ? { kind: 'index', object: out, index: { kind: 'literal', value: field === '*' ? 0 : Number(field), start: 0, end: 0 }, start: 0, end: 0 }
        : { kind: 'property', object: out, name: field, start: 0, end: 0 };
  }
  return out;
}

/** The value is exactly one context reference (`${{ steps.x.outputs.result }}`), with its offset in the text. */
function wholeReference(node: YNode): { ref: Reference; offset: number } | null {
  if (node.kind !== 'scalar') return null;
  const templates = findTemplates(node.text);
  if (templates.length !== 1 || node.text.trim() !== node.text.slice(templates[0].start, templates[0].end)) return null;
  const refs = referencesOf(templates[0].inner);
  if (!refs || refs.length !== 1 || refs[0].node.end - refs[0].node.start !== templates[0].inner.trim().length) return null;
  return { ref: refs[0], offset: templates[0].innerStart + refs[0].node.start };
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
/** Taints that flow only when `when` holds. */
function guarded(taints: Taint[], when: Sym[]): Taint[] {
  if (!when.length) return taints;
  return taints.map((t) => ({ ...t, origin: { ...t.origin, guards: [...(t.origin.guards ?? []), ...when] } }));
}

const guardIds = new WeakMap<Sym[], number>();
let nextGuardId = 0;

/** Taints of the same text under different conditions are different paths. */
function guardKey(guards: Sym[] | undefined): string {
  if (!guards) return '';
  let id = guardIds.get(guards);
  if (id === undefined) guardIds.set(guards, (id = nextGuardId++));
  return `:${id}`;
}

function limit(taints: Taint[]): Taint[] {
  if (taints.length <= 1) return taints;
  const best = new Map<string, Taint>();
  for (const t of taints) {
    const key = `${t.origin.kind}:${t.origin.what}:${t.origin.role}${guardKey(t.origin.guards)}`;
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
