// unresolved-remote: a remote action or reusable workflow that outsiders can reach, whose contents
// agent-guard did not see. Offline (the default) remote files are never fetched; with `--online` a
// fetch can still fail (404, a private repository, the rate limit). Either way the file is unknown,
// which is not the same as safe: many agent steps hide one hop away (`uses: someone/wrapper@v1` is a
// composite action running `claude -p`). Known agent actions are modelled from rules/agents.yml and
// GitHub's own actions are known, so neither is reported.

import { matchAgentAction } from '../analysis/agents';
import { looksLikeModelKey } from '../analysis/capabilities';
import { isAgentGuardAction } from '../analysis/sites';
import type { JobInstance, StepInstance } from '../analysis/instances';
import { REACH_ORDER, reachOf, TRIGGERING_ACTOR, type Reach } from '../analysis/reach';
import type { Taint } from '../analysis/taint';
import { isDockerUses, isFirstPartyAction, parseRemoteUses } from '../online/uses';
import { references, findTemplates, tryParseExpression } from '../workflow/expression';
import { effectiveWorkflowUses, type RemoteResolver } from '../workflow/load';
import type { Entry, Step } from '../workflow/model';
import { positionOf, type SourceFile, type YScalar } from '../workflow/yaml';
import { stepAnchor } from './common';
import { docsUrl, type Check } from './context';
import type { Finding, PathHop, Severity } from './types';

export const unresolvedRemote: Check = {
  meta: {
    id: 'unresolved-remote',
    title: 'A remote action or reusable workflow outsiders can reach was not followed',
    severity: 'medium',
    docs: docsUrl('unresolved-remote'),
    help:
      'Outsider-controlled text (or the secrets of a run outsiders can start) goes into an action or reusable workflow of another repository that agent-guard did not read: ' +
      'offline, remote files are not fetched; online, the fetch failed (not found, private, rate limit). Unknown is not safe: a wrapper action may run an agent on that text. ' +
      'Run `agent-guard lint --online` with a token that can read the repository, or review the file yourself and pin it to that commit.',
  },
  run(ctx) {
    const findings: Finding[] = [];
    for (const job of ctx.jobs) {
      const uses = job.job.uses;
      if (!uses) continue;
      const target = effectiveWorkflowUses(uses.text.trim(), job.workflow);
      if (target.startsWith('./')) continue;
      const why = notFollowed(ctx.remote, 'workflow', target);
      if (!why) continue;
      const probe = callProbe(job);
      const taints = job.job.with.flatMap((e) => ctx.engine.ofNode(e.value, job.workflow.file, { job }));
      const finding = report('workflow', uses.text.trim(), uses, job.workflow.file, probe, taints, workflowSecrets(job), why);
      if (finding) findings.push(finding);
    }
    for (const step of ctx.steps) {
      const uses = step.step.uses;
      const text = uses?.text.trim();
      if (!uses || !text || text.startsWith('./')) continue;
      let why: NotFollowed | null;
      if (isDockerUses(text)) {
        why = { reason: 'docker image actions are not analysed (there is no action.yml to follow)', failed: false };
      } else {
        if (matchAgentAction(text) || isAgentGuardAction(text)) continue;
        const ref = parseRemoteUses(text);
        if (ref && isFirstPartyAction(ref)) continue;
        why = notFollowed(ctx.remote, 'action', text);
      }
      if (!why) continue;
      const taints = step.step.with.flatMap((e) => ctx.engine.ofNode(e.value, step.file, { job: step.job, step }));
      const finding = report('action', text, uses, step.file, step, taints, actionSecrets(step.step), why);
      if (finding) findings.push(finding);
    }
    return findings;
  },
};

interface NotFollowed {
  reason: string;
  /** The online pre-pass tried and failed (as opposed to: never tried). */
  failed: boolean;
}

function notFollowed(remote: RemoteResolver | undefined, kind: 'action' | 'workflow', uses: string): NotFollowed | null {
  if (uses.includes('${{')) return { reason: 'its target is an expression, which cannot be followed', failed: false };
  if (!remote) return { reason: 'remote files are not fetched offline; run `agent-guard lint --online` to follow it', failed: false };
  const answer = kind === 'action' ? remote.action(uses) : remote.workflow(uses);
  if (!answer) return { reason: 'it was not fetched', failed: false };
  if ('error' in answer) return { reason: `it could not be fetched: ${answer.error}`, failed: true };
  return null;
}

function report(
  kind: 'action' | 'workflow',
  uses: string,
  node: YScalar,
  file: SourceFile,
  probe: StepInstance,
  taints: Taint[],
  secrets: HandedSecrets | null,
  why: NotFollowed,
): Finding | null {
  let best: { taint: Taint; reach: Reach } | null = null;
  for (const taint of taints) {
    if (taint.origin.kind === 'ai-output') continue; // ai-output-unsafe's business
    const reach = reachOf(taint.origin, probe);
    if (reach.level === 'none') continue;
    if (!best || REACH_ORDER[reach.level] > REACH_ORDER[best.reach.level] || (reach.level === best.reach.level && taint.hops.length < best.taint.hops.length)) {
      best = { taint, reach };
    }
  }
  const label = kind === 'workflow' ? 'Reusable workflow' : 'Action';
  const at = positionOf(file, node.start);
  const sink: PathHop = { file: file.path, line: at.line, column: at.column, note: `${uses} is not followed: ${why.reason}` };
  let severity: Severity;
  let reach: Reach;
  let message: string;
  let path: PathHop[];
  if (best) {
    reach = best.reach;
    severity = reach.level === 'outsider' && (secrets || kind === 'workflow') ? 'medium' : 'low';
    message = `${label} \`${uses}\` gets ${best.taint.origin.what}${secrets ? ` and ${secrets.text}` : ''}: ${reach.how}. What it does with them is unknown: ${why.reason}.`;
    path = [...probe.job.via, ...best.taint.hops, sink];
  } else {
    // No outsider text in its inputs: any action or reusable workflow can still read the event
    // payload itself. With secrets, in a run outsiders start, it is worth a look: an action handed a
    // model key there is most likely an AI step reading their text (medium); other secrets are low.
    // Every action can get the job's GITHUB_TOKEN: alone it is not worth a finding.
    if (!secrets || secrets.names.every((n) => n === 'GITHUB_TOKEN')) return null;
    reach = reachOf(TRIGGERING_ACTOR, probe);
    if (reach.level !== 'outsider') return null;
    severity = kind === 'workflow' || secrets.modelKey ? 'medium' : 'low';
    const likely = kind === 'action' && secrets.modelKey ? ' A model key suggests an AI step that may read the issue or comment itself.' : '';
    message = `${label} \`${uses}\` gets ${secrets.text} in a run outsiders start, and can read the event's outsider-written text: ${reach.how}. What it does with them is unknown: ${why.reason}.${likely}`;
    path = [...probe.job.via, sink];
  }
  return {
    rule: 'unresolved-remote',
    severity,
    confidence: reach.uncertain || (!best && kind === 'action') ? 'low' : 'medium',
    file: file.path,
    line: at.line,
    column: at.column,
    job: probe.job.job.id,
    ...(kind === 'action' ? { step: probe.step.label, stepAt: stepAnchor(file, probe.step) } : {}),
    message,
    path,
    capabilities: secrets?.capabilities ?? [],
    holder: 'step',
    fix: why.failed
      ? `${/rate limit/.test(why.reason) ? 'Run again once the rate limit resets (or with `--on-rate-limit wait`)' : 'Check that the reference exists and give the token read access to that repository (GitHub answers 404 for a private repository the token cannot read)'}; until then review the file yourself, pin it to a commit SHA, and pass it neither outsider text nor secrets it does not need.`
      : 'Run `agent-guard lint --online` (with GITHUB_TOKEN or GH_TOKEN set) so agent-guard fetches it and follows the text inside. Pin it to a commit SHA you have reviewed, and pass it explicit secrets instead of `secrets: inherit`.',
  };
}

/** A stand-in step for a job that calls a reusable workflow, so reach can weigh the job's gates. */
function callProbe(job: JobInstance): StepInstance {
  const step: Step = { index: 0, node: job.job.node, label: job.job.id, uses: job.job.uses, with: job.job.with, env: [] };
  return { job, step, file: job.workflow.file, conditions: [], siblings: [], position: 0 };
}

interface HandedSecrets {
  text: string;
  capabilities: string[];
  names: string[];
  /** One of them looks like a model key (by its name or the variable it is put in). */
  modelKey: boolean;
}

function workflowSecrets(job: JobInstance): HandedSecrets | null {
  const secrets = job.job.secrets;
  if (secrets === 'inherit') return { text: 'every secret (secrets: inherit)', capabilities: ['secret:* via secrets: inherit'], names: ['*'], modelKey: true };
  if (!secrets?.length) return null;
  const names = secrets.map((s) => s.name);
  return { text: `secrets ${names.join(', ')}`, capabilities: names.map((n) => `secret:${n} via secrets: ${n}`), names, modelKey: names.some(looksLikeModelKey) };
}

/** Secrets and tokens a step hands to its action (its `with:` and `env:`). */
function actionSecrets(step: Step): HandedSecrets | null {
  const found = new Map<string, string>();
  const scan = (entries: Entry[], where: string) => {
    for (const e of entries) for (const name of secretNames(e.text)) if (!found.has(name)) found.set(name, `${where} ${e.name}`);
  };
  scan(step.with, 'input');
  scan(step.env, 'env');
  if (!found.size) return null;
  const names = [...found.keys()];
  return { text: `secrets ${names.join(', ')}`, capabilities: names.map((n) => `secret:${n} via ${found.get(n)}`), names, modelKey: [...found].some(([n, via]) => looksLikeModelKey(n) || looksLikeModelKey(via)) };
}

function secretNames(text: string): string[] {
  if (!text.includes('${{')) return [];
  const out: string[] = [];
  for (const template of findTemplates(text)) {
    const parsed = tryParseExpression(template.inner);
    if (parsed instanceof Error) continue;
    for (const ref of references(parsed)) {
      if (ref.path === 'github.token') out.push('GITHUB_TOKEN');
      else if (ref.path.startsWith('secrets.') && ref.path.length > 8) out.push(ref.path.slice(8).toUpperCase());
    }
  }
  return out;
}
