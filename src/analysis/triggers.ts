// Who can fire each trigger of a workflow, and in which scenarios an attacker is the actor.

import type { TriggerRule } from './ruleTypes';
import type { ActionSet, Role } from './gates';
import type { Trigger, Workflow } from '../workflow/model';

export type Firing = 'anyone' | 'anyone-unprivileged' | 'maintainers' | 'callers';

export interface TriggerInfo {
  event: string;
  trigger: Trigger;
  /** The workflow whose `on:` declares it (the entry workflow for called ones). */
  workflow: Workflow;
  /** Who can fire it with outsider-chosen activity types (after the `types:` filter). */
  firing: Firing;
  /** Activity types an outsider can cause here; null when the event has no types. */
  outsiderActions: ActionSet | null;
  /** Activity types in the filter (null = all). */
  allActions: ActionSet;
  /** Set when the firing was decided without full information (e.g. workflow_run upstream unknown). */
  uncertain?: string;
  /** Objects under `github.event` the payload carries (rules/triggers.yml `payload`), when known. */
  payload?: ReadonlySet<string>;
}

/**
 * The roles the actor authors when an outsider fires the event: commenting makes you the comment's
 * author, opening a PR makes you its author and the author of its commits.
 */
export const ACTOR_ROLES: Record<string, Role[]> = {
  issues: ['issue'],
  issue_comment: ['comment'],
  discussion: ['discussion'],
  discussion_comment: ['comment'],
  pull_request: ['pull_request', 'commit'],
  pull_request_target: ['pull_request', 'commit'],
  pull_request_review: ['review'],
  pull_request_review_comment: ['comment'],
  workflow_run: ['workflow_run', 'commit'],
  repository_dispatch: ['payload'],
  push: ['commit'],
};

export function triggerRuleFor(rules: TriggerRule[], event: string): TriggerRule | undefined {
  return rules.find((r) => r.event === event);
}

/**
 * Classifies the workflow's own triggers. `workflow_run` is resolved against the repository's other
 * workflows by name: it is outsider-fired when an upstream workflow can be fired by a fork PR or an
 * outsider; unresolvable upstreams are assumed outsider-fired (and marked uncertain).
 */
export type WorkflowsByName = (name: string) => Iterable<Workflow>;

export function classifyTriggers(workflow: Workflow, rules: TriggerRule[], byName: WorkflowsByName): TriggerInfo[] {
  return workflow.triggers.map((trigger) => classify(trigger, workflow, rules, byName, new Set()));
}

function classify(trigger: Trigger, workflow: Workflow, rules: TriggerRule[], byName: WorkflowsByName, seen: Set<Workflow>): TriggerInfo {
  const event = trigger.event.toLowerCase();
  const rule = triggerRuleFor(rules, event);
  const filter = trigger.types.map((t) => t.toLowerCase());
  const maintainerOnly = (rule?.maintainerOnlyTypes ?? []).map((t) => t.toLowerCase());
  const allActions: ActionSet = { allowed: filter.length ? filter : null, excluded: [] };
  const outsiderTypes = filter.length ? filter.filter((t) => !maintainerOnly.includes(t)) : null;
  const outsiderActions: ActionSet | null =
    outsiderTypes === null ? { allowed: null, excluded: maintainerOnly } : outsiderTypes.length ? { allowed: outsiderTypes, excluded: [] } : null;
  const base = { event, trigger, workflow, allActions, payload: rule?.payload ? new Set(rule.payload) : undefined };
  if (!rule) return { ...base, firing: 'maintainers', outsiderActions: null, uncertain: `who can fire '${event}' (an event agent-guard does not know)` };
  switch (rule.who) {
    case 'anyone':
    case 'anyone-unprivileged':
      return { ...base, firing: outsiderActions ? rule.who : 'maintainers', outsiderActions };
    case 'callers':
      return { ...base, firing: 'callers', outsiderActions };
    case 'maintainers':
      return { ...base, firing: 'maintainers', outsiderActions: null };
    case 'upstream':
      return { ...base, ...upstreamFiring(trigger, workflow, rules, byName, seen), outsiderActions };
  }
}

/** Who fires the workflows of a name, per repository (a name is shared by many files in big corpora). */
const upstreamMemo = new WeakMap<WorkflowsByName, Map<string, 'outsiders' | 'maintainers'>>();

function memoFor(byName: WorkflowsByName): Map<string, 'outsiders' | 'maintainers'> {
  let memo = upstreamMemo.get(byName);
  if (!memo) upstreamMemo.set(byName, (memo = new Map()));
  return memo;
}

function upstreamFiring(
  trigger: Trigger,
  workflow: Workflow,
  rules: TriggerRule[],
  byName: WorkflowsByName,
  seen: Set<Workflow>,
): { firing: Firing; uncertain?: string } {
  const config = trigger.config;
  const names: string[] = [];
  if (config?.kind === 'map') {
    const list = config.pairs.find((p) => p.key.text === 'workflows')?.value;
    if (list?.kind === 'seq') {
      for (const i of list.items) if (i.kind === 'scalar') names.push(i.text);
    } else if (list?.kind === 'scalar') {
      names.push(list.text);
    }
  }
  if (!names.length) return { firing: 'anyone', uncertain: 'which workflows start it (workflow_run without a workflows list)' };
  seen.add(workflow);
  let unresolved = 0;
  for (const name of names) {
    const known = memoFor(byName).get(name);
    if (known === 'outsiders') return { firing: 'anyone' };
    if (known === 'maintainers') continue;
    let outsiders = false;
    let found = false;
    for (const upstream of byName(name)) {
      found = true;
      if (seen.has(upstream)) continue;
      const fired = upstream.triggers.map((t) => classify(t, upstream, rules, byName, seen));
      if (fired.some((t) => t.firing === 'anyone' || t.firing === 'anyone-unprivileged')) {
        outsiders = true;
        break;
      }
    }
    if (!found) {
      unresolved++;
      continue;
    }
    memoFor(byName).set(name, outsiders ? 'outsiders' : 'maintainers');
    if (outsiders) return { firing: 'anyone' };
  }
  if (unresolved) return { firing: 'anyone', uncertain: `who can start the upstream workflow '${names.join("', '")}' (not in the repository)` };
  return { firing: 'maintainers' };
}
