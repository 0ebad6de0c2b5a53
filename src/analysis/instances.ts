// Expands a repository's workflows into job and step instances: a job as it runs for a given entry
// workflow, with the local reusable workflows it calls and the local composite actions its steps use
// inlined, so that taint and gates can be followed across files exactly as the runner would.

import type { PathHop } from '../checks/types';
import type { Expr } from '../workflow/expression';
import { resolveCalledWorkflow, resolveLocalAction, resolveRemoteAction, type Repository } from '../workflow/load';
import type { CompositeAction, Entry, Job, Permissions, Step, Workflow } from '../workflow/model';
import { positionOf, type SourceFile, type YScalar } from '../workflow/yaml';
import { matchAgentAction } from './agents';
import { parseCondition } from './gates';
import { outputResolver } from './outputs';
import type { OutputResolver } from './symbolic';
import { classifyTriggers, type TriggerInfo } from './triggers';
import type { TriggerRule } from './ruleTypes';

/** Logins the maintainers trust (config `trusted-users`, `trusted-bots`), lowercased. */
export interface Trust {
  users: ReadonlySet<string>;
  bots: ReadonlySet<string>;
}

export const NO_TRUST: Trust = { users: new Set(), bots: new Set() };

export interface Condition {
  expr: Expr | null;
  node: YScalar;
  file: SourceFile;
  /** Resolves the step and job outputs the condition reads, from where it is written. */
  outputs?: OutputResolver;
}

export interface CallSite {
  job: JobInstance;
  uses: YScalar;
  with: Entry[];
  secrets: Job['secrets'];
}

export interface JobInstance {
  job: Job;
  /** The file that defines the job. */
  workflow: Workflow;
  /** The workflow whose triggers start this run. */
  entry: Workflow;
  triggers: TriggerInfo[];
  /** Conditions that must hold for the job to run: its own `if:`, its caller's, the `if:` of jobs it needs. */
  conditions: Condition[];
  /** Set for jobs of a called reusable workflow. */
  caller?: CallSite;
  /** Jobs of the same run this one needs (transitively resolved ids). */
  needs: JobInstance[];
  /** Effective token permissions; undefined = repository default. */
  permissions?: Permissions;
  steps: StepInstance[];
  /** The call chain to this job (reusable workflow calls), for taint paths. */
  via: PathHop[];
  /** For a job that calls a reusable workflow: the jobs of the called workflow. */
  callees: JobInstance[];
  trust: Trust;
  /** `owner/name` of the repository the workflow runs in, when known. */
  repository?: string;
}

export interface CompositeFrame {
  action: CompositeAction;
  /** The step that uses the action (inputs resolve there). */
  callerStep: StepInstance;
}

export interface StepInstance {
  job: JobInstance;
  step: Step;
  file: SourceFile;
  conditions: Condition[];
  /** Set for steps inside a local composite action. */
  frame?: CompositeFrame;
  /** The steps `steps.<id>` resolves against (the job's, or the composite action's). */
  siblings: StepInstance[];
  /** Order in the job's flattened step list (earlier steps can write GITHUB_ENV for later ones). */
  position: number;
}

const MAX_CALL_DEPTH = 4;
const MAX_ACTION_DEPTH = 6;

export function hopAt(file: SourceFile, offset: number, note: string): PathHop {
  const pos = positionOf(file, offset);
  return { file: file.path, line: pos.line, column: pos.column, note };
}

/**
 * The job instances one entry workflow starts (with the reusable workflows it calls inlined).
 * Returns nothing for a reusable workflow that only runs when called from this repository: it is
 * analysed through its callers.
 */
const repoTrust = new WeakMap<Repository, Trust>();
const repoIdentity = new WeakMap<Repository, string | undefined>();

export function expandEntry(repo: Repository, workflow: Workflow, triggerRules: TriggerRule[], abs: string, trust: Trust = NO_TRUST, repository?: string): JobInstance[] {
  repoTrust.set(repo, trust);
  repoIdentity.set(repo, repository);
  let triggers = classifyTriggers(workflow, triggerRules, repo.byName);
  if (repo.calledLocally.has(abs)) triggers = triggers.filter((t) => t.event !== 'workflow_call');
  if (!triggers.length) return [];
  return expandWorkflow(repo, workflow, workflow, triggers, undefined, [], 0);
}

function expandWorkflow(
  repo: Repository,
  workflow: Workflow,
  entry: Workflow,
  triggers: TriggerInfo[],
  caller: CallSite | undefined,
  via: PathHop[],
  depth: number,
): JobInstance[] {
  const byId = new Map<string, JobInstance>();
  const out: JobInstance[] = [];
  for (const job of workflow.jobs) {
    const conditions: Condition[] = [...(caller?.job.conditions ?? [])];
    const instance: JobInstance = {
      job,
      workflow,
      entry,
      triggers,
      conditions,
      caller,
      needs: [],
      permissions: job.permissions ?? workflow.permissions ?? caller?.job.permissions,
      steps: [],
      via,
      callees: [],
      trust: caller?.job.trust ?? repoTrust.get(repo) ?? NO_TRUST,
      repository: repoIdentity.get(repo),
    };
    if (job.if) conditions.push({ expr: parseCondition(job.if), node: job.if, file: workflow.file, outputs: outputResolver(instance) });
    byId.set(job.id, instance);
    out.push(instance);
  }
  for (const instance of out) {
    instance.needs = instance.job.needs.map((id) => byId.get(id)).filter((j): j is JobInstance => !!j);
    // A job is skipped when a job it needs was skipped (unless it opts out with always()).
    for (const needed of instance.needs) {
      if (needed.job.if && !/\balways\(\)/.test(instance.job.if?.text ?? '')) {
        instance.conditions.push({ expr: parseCondition(needed.job.if), node: needed.job.if, file: workflow.file, outputs: outputResolver(needed) });
      }
    }
    expandSteps(repo, instance, instance.job.steps, workflow.file, undefined, [], 0);
  }
  const called: JobInstance[] = [];
  if (depth < MAX_CALL_DEPTH) {
    for (const instance of out) {
      const uses = instance.job.uses;
      if (!uses) continue;
      const callee = resolveCalledWorkflow(repo, uses.text, workflow);
      if (!callee) continue;
      const site: CallSite = { job: instance, uses, with: instance.job.with, secrets: instance.job.secrets };
      const hop = hopAt(workflow.file, uses.start, `job '${instance.job.id}' calls ${uses.text}`);
      const calleeJobs = expandWorkflow(repo, callee, entry, triggers, site, [...via, hop], depth + 1);
      instance.callees = calleeJobs.filter((j) => j.caller?.job === instance);
      called.push(...calleeJobs);
    }
  }
  return [...out, ...called];
}

function expandSteps(
  repo: Repository,
  job: JobInstance,
  steps: Step[],
  file: SourceFile,
  frame: CompositeFrame | undefined,
  outer: Condition[],
  depth: number,
): void {
  const siblings: StepInstance[] = [];
  for (const step of steps) {
    const conditions = [...outer];
    const instance: StepInstance = { job, step, file, conditions, frame, siblings, position: job.steps.length };
    if (step.if) conditions.push({ expr: parseCondition(step.if), node: step.if, file, outputs: outputResolver(job, instance) });
    job.steps.push(instance);
    siblings.push(instance);
    const uses = step.uses?.text;
    // Known agent actions are modelled from rules/agents.yml, not from their implementation.
    if (uses && depth < MAX_ACTION_DEPTH && !matchAgentAction(uses)) {
      const action = uses.startsWith('./') ? resolveLocalAction(repo, uses) : resolveRemoteAction(repo, uses);
      if (action && action.using === 'composite' && !isOnStack(frame, action)) {
        expandSteps(repo, job, action.steps, action.file, { action, callerStep: instance }, conditions, depth + 1);
      }
    }
  }
}

function isOnStack(frame: CompositeFrame | undefined, action: CompositeAction): boolean {
  for (let f = frame; f; f = f.callerStep.frame) if (f.action === action) return true;
  return false;
}
