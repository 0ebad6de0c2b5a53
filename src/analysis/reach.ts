// Reach: can an outsider get a given text into a given step? For each trigger of the job we try two
// scenarios against every condition that dominates the step (job and step `if:`, callers' and needed
// jobs' `if:`, `environment:`, permission-check steps, the agent action's own actor check):
//   direct   — the outsider fires the event and wrote the text (opens the issue, comments, opens the PR);
//   indirect — the outsider wrote the text earlier and a maintainer fires the event (labels the issue,
//              comments on it, dispatches a run over it). One click on a poisoned issue is enough.
// A scheduled agent that fetches open issues has no human in between: that counts as direct.

import { inputOf } from '../workflow/model';
import { canBeTruthy, canPass, type Role, type Scenario, type ActionSet } from './gates';
import type { StepInstance } from './instances';
import type { Origin } from './taint';
import { ACTOR_ROLES, type TriggerInfo } from './triggers';

/**
 * `action-gated`: outsiders would reach it but for the agent action's own write-access check (a
 * latent risk: one input, a version change or a bypass away).
 */
export type ReachLevel = 'outsider' | 'outsider-unprivileged' | 'maintainer' | 'action-gated' | 'none';

export const REACH_ORDER: Record<ReachLevel, number> = { none: 0, 'action-gated': 1, maintainer: 2, 'outsider-unprivileged': 3, outsider: 4 };

export interface Reach {
  level: ReachLevel;
  trigger?: TriggerInfo;
  /** Human explanation: which event, who fires it, which gate stopped what. */
  how: string;
  uncertain?: string;
  /** Reached only through callers this repository does not show (a reusable workflow nobody here calls). */
  callersUnknown?: boolean;
}

export interface ActorGate {
  /** Events on which the agent's own actor check stops non-writers. */
  enforcedOn: (event: string) => boolean;
  description: string;
}

/** Events that carry an issue/PR/discussion thread the agent could read. */
const THREAD_EVENTS = new Set([
  'issues',
  'issue_comment',
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment',
  'discussion',
  'discussion_comment',
]);

/** Whoever fires the event, as the text's author: "can an outsider start this step at all?" */
export const TRIGGERING_ACTOR: Origin = { kind: 'context', role: 'actor', events: null, what: 'the triggering actor' };

export function reachOf(origin: Origin, step: StepInstance, actorGate?: ActorGate): Reach {
  let best: Reach = { level: 'none', how: 'no trigger lets an outsider reach it' };
  const hard = hardGates(step);
  for (const trigger of step.job.triggers) {
    const event = trigger.event;
    // A reusable workflow with no caller here sees its caller's event, whatever that is: the
    // payload text it reads is an outsider's if any caller runs on an event they fire.
    const callersUnknown = trigger.firing === 'callers';
    if (!callersUnknown && origin.events && !origin.events.includes(event)) continue;
    if (!callersUnknown && origin.kind === 'thread' && !THREAD_EVENTS.has(event)) continue;
    const candidate = reachOnTrigger(origin, step, trigger, hard, actorGate);
    if (callersUnknown && candidate.level !== 'none') {
      candidate.callersUnknown = true;
      if (origin.events) candidate.how = `its callers are unknown here (a reusable workflow no workflow of this repository calls); called from a workflow on ${origin.events.slice(0, 3).join(', ')}, ${origin.what} is outsider text`;
    }
    if (REACH_ORDER[candidate.level] > REACH_ORDER[best.level]) best = candidate;
    if (best.level === 'outsider') break;
  }
  if (best.level !== 'none' && best.trigger && !step.job.repository && runsOnlyInNamedRepository(step, origin, best.trigger, hard)) {
    best = { ...best, uncertain: [best.uncertain, REPOSITORY_UNKNOWN].filter(Boolean).join(', nor ') };
  }
  return best;
}

const REPOSITORY_UNKNOWN = 'which repository this is, and the job runs only in the one its `if:` names (github.repository): lint a git clone or pass --repository OWNER/NAME';

/** Whether a `github.repository == '…'` condition stops the step in any repository but the one it names. */
function runsOnlyInNamedRepository(step: StepInstance, origin: Origin, trigger: TriggerInfo, hard: HardGates): boolean {
  const mentions = (c: { node: { text: string } }) => /github\.repository(_owner)?\b/.test(c.node.text);
  if (!step.job.conditions.some(mentions) && !step.conditions.some(mentions)) return false;
  const elsewhere = { ...scenario(trigger, trigger.allActions, new Set<Role>(), hard, step), repository: '\u0000another/repository' };
  return !passes(step, origin, elsewhere);
}

interface HardGates {
  environment?: string;
  permissionSteps: Set<string>;
  permissionJobs: Set<string>;
  /** A permission check that fails the job runs before the step. */
  blockingCheck?: string;
}

function reachOnTrigger(origin: Origin, step: StepInstance, trigger: TriggerInfo, hard: HardGates, actorGate?: ActorGate): Reach {
  const event = trigger.event;
  const role = origin.role;
  const actorRoles = ACTOR_ROLES[event] ?? [];
  const who = trigger.firing;
  // An environment stops outsiders only if it requires reviewers, which the workflow does not show;
  // many environments exist just to scope secrets.
  const envNote = hard.environment ? `whether environment '${hard.environment}' requires a reviewer's approval (a repository setting)` : undefined;
  const uncertain = [trigger.uncertain, envNote].filter(Boolean).join(', nor ') || undefined;

  const outsiderFires = (who === 'anyone' || who === 'anyone-unprivileged' || who === 'callers') && trigger.outsiderActions && !origin.maintainerChosen;
  let fallback: Reach = { level: 'none', how: 'gated', uncertain };
  if (outsiderFires) {
    const attacker = new Set<Role>(['actor', ...actorRoles, role]);
    const blockedBy = directBlocker(hard, actorGate, event);
    if (passes(step, origin, scenario(trigger, trigger.outsiderActions!, attacker, hard, step))) {
      const callers = who === 'callers' ? 'whoever calls this reusable workflow (callers unknown here)' : 'any GitHub user';
      if (!blockedBy) {
        const level = who === 'anyone-unprivileged' ? 'outsider-unprivileged' : 'outsider';
        return { level, trigger, how: `${callers} can fire '${event}'${describeTypes(trigger.outsiderActions!)}`, uncertain: who === 'callers' ? 'who calls this reusable workflow (no caller in this repository)' : uncertain };
      }
      if (actorGate && blockedBy === actorGate.description) {
        fallback = { level: 'action-gated', trigger, how: `${callers} can fire '${event}'; only ${actorGate.description} stops outsiders`, uncertain };
      }
    }
  }

  // Delayed outsider text: a scheduled or pushed run that reads the thread has no human gate. (A
  // workflow_run job reading its own upstream run's jobs and logs reads whoever triggered that run:
  // the direct scenario above.)
  const ownRun = origin.role === 'workflow_run' && event === 'workflow_run';
  if ((origin.kind === 'fetch' || origin.kind === 'thread') && !origin.maintainerChosen && !ownRun && (event === 'schedule' || event === 'workflow_run' || event === 'push')) {
    if (passes(step, origin, scenario(trigger, trigger.allActions, new Set<Role>([role]), hard, step))) {
      return { level: 'outsider', trigger, how: `'${event}' runs unattended over text outsiders wrote (issues, comments, pull requests)`, uncertain };
    }
  }

  const indirectPossible = role !== 'actor' && (!actorRoles.includes(role) || hasMaintainerActions(trigger) || origin.kind !== 'context');
  if (indirectPossible && passes(step, origin, scenario(trigger, trigger.allActions, new Set<Role>([role, ...(role === 'pull_request' ? (['commit'] as Role[]) : [])]), hard, step))) {
    return { level: 'maintainer', trigger, how: maintainerHow(trigger, origin), uncertain };
  }
  return fallback;
}

const OBJECT_NAMES: Partial<Record<Role, string>> = {
  issue: 'the issue',
  comment: 'the comment',
  pull_request: 'the pull request',
  review: 'the review',
  discussion: 'the discussion',
  commit: 'the commits',
  workflow_run: "the upstream run's branch and commits",
  payload: 'the dispatched payload',
};

/** "Only a maintainer's label starts it, but over the issue an outsider wrote": what the maintainer does, on what. */
function maintainerHow(trigger: TriggerInfo, origin: Origin): string {
  const whose =
    origin.kind === 'context'
      ? `${OBJECT_NAMES[origin.role] ?? 'text'} an outsider wrote`
      : origin.maintainerChosen
        ? 'text a maintainer picked (a label filter) from what outsiders wrote'
        : 'issues, comments or pull requests outsiders wrote';
  const types = maintainerTypes(trigger);
  const named = types.length ? types.map((t) => `'${t}'`).join(' or ') : '';
  let act: string;
  let tail = '';
  switch (trigger.event) {
    case 'issues':
    case 'pull_request':
    case 'pull_request_target':
    case 'discussion':
      act = named ? `a maintainer's ${named}` : `a maintainer acting on it ('${trigger.event}')`;
      if (types.some((t) => /label|assign/.test(t))) tail = ': one label on a poisoned issue or pull request is enough';
      break;
    case 'issue_comment':
    case 'discussion_comment':
    case 'pull_request_review_comment':
      act = 'a maintainer\'s comment';
      tail = ': one comment on a poisoned thread is enough';
      break;
    case 'pull_request_review':
      act = "a maintainer's review";
      tail = ': one review of a poisoned pull request is enough';
      break;
    case 'workflow_dispatch':
      act = 'a maintainer dispatching it';
      break;
    case 'schedule':
      act = "the maintainers' schedule";
      break;
    case 'workflow_run':
      act = "a maintainer's run of the upstream workflow (a push, or re-running an outsider's checks)";
      break;
    case 'push':
      act = "a maintainer's push (it may bring an outsider's merged commits)";
      break;
    default:
      act = `a maintainer's '${trigger.event}'`;
  }
  return `only ${act} starts it, but over ${whose}${tail}`;
}

/** Activity types in the trigger's filter that only people with triage or write access cause. */
function maintainerTypes(trigger: TriggerInfo): string[] {
  const all = trigger.allActions.allowed ?? [];
  const outsider = trigger.outsiderActions?.allowed;
  return all.filter((t) => !outsider || !outsider.includes(t));
}

function describeTypes(actions: ActionSet): string {
  return actions.allowed ? ` (${actions.allowed.join(', ')})` : '';
}

function hasMaintainerActions(trigger: TriggerInfo): boolean {
  const outsider = trigger.outsiderActions;
  if (!outsider) return true;
  const all = trigger.allActions.allowed;
  if (!all) return outsider.excluded.length > 0;
  return all.some((a) => !outsider.allowed || !outsider.allowed.includes(a));
}

function directBlocker(hard: HardGates, actorGate: ActorGate | undefined, event: string): string | undefined {
  if (hard.blockingCheck) return hard.blockingCheck;
  if (actorGate?.enforcedOn(event)) return actorGate.description;
  return undefined;
}

function scenario(trigger: TriggerInfo, actions: ActionSet, attacker: Set<Role>, hard: HardGates, step: StepInstance): Scenario {
  return { event: trigger.event, actions, attacker, permissionSteps: hard.permissionSteps, permissionJobs: hard.permissionJobs, trustedBots: step.job.trust.bots, payload: trigger.payload, repository: step.job.repository };
}

function passes(step: StepInstance, origin: Origin, s: Scenario): boolean {
  if (origin.guards && !origin.guards.every((g) => canBeTruthy(g, s))) return false;
  for (const c of step.job.conditions) if (!canPass(c.expr, s, c.outputs)) return false;
  for (const c of step.conditions) if (!canPass(c.expr, s, c.outputs)) return false;
  return true;
}

/**
 * Gates that do not depend on the `if:` text: a protected environment (someone approves the run), a
 * permission check that fails the job, permission checks whose outputs later conditions read.
 */
function hardGates(step: StepInstance): HardGates {
  const job = step.job;
  const gates: HardGates = { permissionSteps: new Set(), permissionJobs: new Set() };
  if (job.job.environment) gates.environment = job.job.environment.name;
  for (const s of job.steps) {
    if (s.position >= step.position) break;
    const kind = permissionCheckKind(s);
    if (!kind) continue;
    if (s.step.id) gates.permissionSteps.add(s.step.id);
    if (kind === 'fails' && !s.step.continueOnError) gates.blockingCheck = `the permission check in step '${s.step.label}'`;
  }
  for (const needed of allNeeds(job.needs)) {
    if (needed.steps.some((s) => permissionCheckKind(s))) {
      gates.permissionJobs.add(needed.job.id);
      if (needed.steps.some((s) => permissionCheckKind(s) === 'fails')) gates.blockingCheck = `the permission check in job '${needed.job.id}'`;
    }
  }
  return gates;
}

function allNeeds(needs: StepInstance['job'][]): StepInstance['job'][] {
  const out = new Set<StepInstance['job']>();
  const stack = [...needs];
  while (stack.length) {
    const j = stack.pop()!;
    if (out.has(j)) continue;
    out.add(j);
    stack.push(...j.needs);
  }
  return [...out];
}

const PERMISSION_ACTIONS = /^(actions-cool\/check-user-permission|sushichop\/action-repository-permission|prince-chrismc\/check-actor-permissions-action|lannonbr\/repo-permission-check-action|xt0rted\/slash-command-action|TheModdingInquisition\/actions-team-membership|tspascoal\/get-user-teams-membership)@/i;
const PERMISSION_API = /getCollaboratorPermissionLevel|collaborators\/[^/\s]+\/permission|\/permission\b|checkMembershipForUser|getMembershipForUserInOrg|orgs\/[^/\s]+\/members\/|teams\/[^/\s]+\/memberships/;
const FAILS = /setFailed|process\.exit\(\s*1|\bexit\s+1\b|throw\s+new\s+Error|core\.setFailed/;

const permissionMemo = new WeakMap<StepInstance, 'fails' | 'reports' | null>();

/** `fails`: the step stops the job for non-writers; `reports`: it sets outputs a condition reads. */
export function permissionCheckKind(s: StepInstance): 'fails' | 'reports' | null {
  if (permissionMemo.has(s)) return permissionMemo.get(s)!;
  const kind = computePermissionCheckKind(s);
  permissionMemo.set(s, kind);
  return kind;
}

function computePermissionCheckKind(s: StepInstance): 'fails' | 'reports' | null {
  const uses = s.step.uses?.text ?? '';
  if (PERMISSION_ACTIONS.test(uses)) {
    // actions-cool/check-user-permission only reports; most others fail the job.
    return /actions-cool\/check-user-permission|membership/i.test(uses) ? 'reports' : 'fails';
  }
  const code = /^actions\/github-script@/i.test(uses) ? (inputOf(s.step.with, 'script')?.text ?? '') : (s.step.run?.text ?? '');
  if (!code || !PERMISSION_API.test(code)) return null;
  return FAILS.test(code) ? 'fails' : 'reports';
}
