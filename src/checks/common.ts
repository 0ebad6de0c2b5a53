// Shared pieces of findings: where, the path, what the agent holds, and the fixes that apply.

import { positionOf } from '../workflow/yaml';
import type { Capabilities } from '../analysis/capabilities';
import { describeCapabilities } from '../analysis/capabilities';
import { reachOf, REACH_ORDER, type Reach } from '../analysis/reach';
import type { Channel, AgentSite } from '../analysis/sites';
import type { Taint } from '../analysis/taint';
import type { StepInstance } from '../analysis/instances';
import type { Confidence, PathHop, Severity, StepAnchor } from './types';
import type { Step } from '../workflow/model';
import type { SourceFile } from '../workflow/yaml';
import { severityFor } from '../analysis/severity';

export interface ReachedTaint {
  channel: Channel;
  taint: Taint;
  reach: Reach;
}

const CONFIDENCE_ORDER: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };

/** The worst taint among channels: highest reach, then confidence, then shortest path. */
export function worstTaint(site: AgentSite, channels: Channel[]): ReachedTaint | null {
  let best: ReachedTaint | null = null;
  for (const channel of channels) {
    for (const taint of channel.taints) {
      const reach = reachOf(taint.origin, site.step, site.actorGate);
      if (reach.level === 'none') continue;
      const candidate = { channel, taint, reach };
      if (!best || better(candidate, best)) best = candidate;
    }
  }
  return best;
}

function better(a: ReachedTaint, b: ReachedTaint): boolean {
  const r = REACH_ORDER[a.reach.level] - REACH_ORDER[b.reach.level];
  if (r) return r > 0;
  const c = CONFIDENCE_ORDER[a.channel.confidence] - CONFIDENCE_ORDER[b.channel.confidence];
  if (c) return c > 0;
  return a.taint.hops.length < b.taint.hops.length;
}

export function confidenceOf(hit: ReachedTaint): Confidence {
  return surer(hit.channel.confidence, hit.reach);
}

/** A confidence, lower when the reach rests on something the workflow does not show. */
export function surer(confidence: Confidence, reach: Reach): Confidence {
  // What a reusable workflow with unknown callers reads depends on callers nobody here can see.
  if (reach.callersUnknown) return 'low';
  if (reach.uncertain && confidence === 'high') return 'medium';
  return confidence;
}

export function siteLocation(site: AgentSite): { file: string; line: number; column: number } {
  const pos = positionOf(site.file, site.offset);
  return { file: site.file.path, line: pos.line, column: pos.column };
}

export function stepLocation(step: StepInstance, offset: number): { file: string; line: number; column: number } {
  const pos = positionOf(step.file, offset);
  return { file: step.file.path, line: pos.line, column: pos.column };
}

export function jobAndStep(step: StepInstance): { job: string; step: string; stepAt: StepAnchor } {
  return { job: step.job.job.id, step: step.step.label, stepAt: stepAnchor(step.file, step.step) };
}

const IDENTIFYING_KEYS = new Set(['name', 'id', 'uses', 'run']);

export function stepAnchor(file: SourceFile, step: Step): StepAnchor {
  const lines = [step.node.start, ...step.node.pairs.filter((p) => IDENTIFYING_KEYS.has(p.key.text)).map((p) => p.key.start)].map((offset) => positionOf(file, offset).line);
  return { file: file.path, position: step.index + 1, lines: [...new Set(lines)].sort((a, b) => a - b) };
}

/** The path of a finding: call chain, the hops of the taint, then the sink. */
export function pathOf(site: AgentSite, hit: ReachedTaint, sinkNote: string): PathHop[] {
  const loc = siteLocation(site);
  return [...site.step.job.via, ...actionCalls(site.step, hit.taint.hops), ...hit.taint.hops, { ...loc, note: sinkNote }];
}

/**
 * For an agent inside local composite actions, the steps that use them (outermost first), so the path
 * starts in the workflow that runs it, unless the taint path already does.
 */
function actionCalls(step: StepInstance, hops: PathHop[]): PathHop[] {
  const out: PathHop[] = [];
  for (let f = step.frame; f; f = f.callerStep.frame) {
    const caller = f.callerStep;
    const uses = caller.step.uses;
    if (!uses) continue;
    const pos = positionOf(caller.file, uses.start);
    out.unshift({ file: caller.file.path, line: pos.line, column: pos.column, note: `step '${caller.step.label}' runs ${uses.text}` });
  }
  const outermost = out[0]?.file;
  return outermost && hops.some((h) => h.file === outermost) ? [] : out;
}

export function severityOf(hit: ReachedTaint, caps: Capabilities): Severity | null {
  return severityFor(hit.reach.level, caps);
}

export function capabilityList(caps: Capabilities): string[] {
  return describeCapabilities(caps);
}

const PROVIDER_BY_KEY: Record<string, string> = { anthropic: 'anthropic', openai: 'openai', gemini: 'gemini' };

/** Concrete edits, most effective first. */
export function fixFor(site: AgentSite, hit: ReachedTaint | null): string {
  const lines: string[] = [];
  const event = hit?.reach.trigger?.event;
  const obj = gateObject(event);
  const c = site.capabilities;
  // A jailed agent that outsiders reach is usually the point (a triage bot reads strangers' issues):
  // gating it would stop it working, and what is left to fix is what its output can steer.
  if (hit && !c.jailed && (hit.reach.level === 'outsider' || hit.reach.level === 'outsider-unprivileged')) {
    if (obj) {
      lines.push(
        // Unless reading strangers' text is the job (a triage bot): then the jail and grants below are the fix.
        `Unless reading strangers' text is the agent's job (a triage bot), gate the job on who wrote it: \`if: contains(fromJSON('["OWNER","MEMBER","COLLABORATOR"]'), github.event.${obj}.author_association)\`.`,
      );
    } else {
      lines.push("Do not run the agent on events outsiders can fire, or gate the job on the actor's write access.");
    }
  }
  const w = site.gateWidenedBy;
  if (w && !w.inertWithout) lines.push(`Remove \`${w.input}: ${w.value}\` so the action's own write-access check applies.`);
  if (w?.inertWithout) lines.push(`Remove \`${w.input}: ${w.value}\`: it opens the agent to outsiders as soon as \`${w.inertWithout}\` is set.`);
  if (c.jailed) {
    lines.push(
      'The agent runs in the jail and holds nothing; what remains is what its output and its writes to the workspace can steer: treat them as untrusted, and let a job without AI check them (an allowlist, a schema) before anything acts on them (see poisoned-workspace and ai-output-unsafe).',
    );
  }
  // claude-code-action's own steps need the job's token (its tracking comment, its branch): Claude
  // Code gets none of it under the wrapper, and its tools write through grants (said below).
  const claudeAction = !c.jailed && !!site.action?.id.startsWith('claude-code-action');
  if ((c.writeScopes.length || c.idToken) && !claudeAction) lines.push(writeAdvice(c));
  if (c.tokens.some((t) => t.foreign)) lines.push('Do not hand the agent a personal access token or App token; use the job\'s short-lived GITHUB_TOKEN with read permissions.');
  if (c.persistedCredentials) lines.push('Set `persist-credentials: false` on actions/checkout.');
  if (c.secrets.some((s) => !s.modelKey)) lines.push(`Move secrets the agent does not need (${c.secrets.filter((s) => !s.modelKey).map((s) => s.name).join(', ')}) out of its job.`);
  const provider = providerFor(site);
  if (site.cli && !c.jailed) {
    lines.push(`Run it in the jail: \`agent-guard run${provider ? ` --provider ${provider}` : ''} -- ${site.cli.commands[0]} ...\` (no secrets, no network but the model API, the key held by a proxy).`);
  } else if (site.action) {
    if (c.jailed) {
      // Already wrapped.
    } else if (site.action.id.startsWith('claude-code-action')) {
      lines.push(
        "Run Claude Code in the jail: agent-guard's Action with `mode: wrap` installs a wrapper; set `path_to_claude_code_executable` to its `claude-wrapper` output. With `grants: update-comment` (add `comment`, `review` as the workflow needs) the action's GitHub tools work through the guard with a token Claude Code never sees; the action's own steps keep the job's permissions.",
      );
    } else if (site.action.cli) {
      lines.push(`Replace the action with its CLI under the jail: \`agent-guard run${provider ? ` --provider ${provider}` : ''} -- ${site.action.cli} ...\`.`);
    }
  }
  if (site.api?.kind === 'agent') {
    lines.push(`${site.api.name} ${site.api.acts}: start it only from text a maintainer wrote or approved (a label, a maintainer's comment), never from an outsider's issue or comment.`);
  }
  if (hit && !c.jailed && (hit.channel.kind === 'prompt' || hit.channel.kind === 'script' || hit.channel.kind === 'env')) {
    lines.push('Pass outsider text as data the agent reads with no tools that matter, never as instructions: moving it into env: protects a shell, not a prompt.');
  }
  return lines.join(' ');
}

/** Where the job's write access should live: with the guard, reached by the agent only through grants. */
function writeAdvice(c: AgentSite['capabilities']): string {
  if (c.jailed && c.grants?.length) {
    return `The job's write permissions belong to the guard, and the agent reaches them only through its grants (${c.grants.join('; ')}), each request checked: keep them to what the agent's task needs.`;
  }
  if (c.jailed) {
    return "The job's write permissions belong to the guard: grant the agent only the writes it needs (`--grant comment`, `--grant label=bug,question`, or the Action's `grants`); each request is checked and performed with a token the agent never sees.";
  }
  return "Give the agent job `permissions: { contents: read }` (no id-token), and let the guard do the writes it needs: `agent-guard run --grant comment --grant label=bug,question ...` (the Action's `grants`) checks each request and performs it with a token the agent never sees, and `--defer` moves the writes to a job without AI.";
}

function providerFor(site: AgentSite): string | undefined {
  const p = site.cli?.provider;
  if (p) return p;
  return site.action?.cli ? PROVIDER_BY_KEY[site.action.cli] : undefined;
}

function gateObject(event: string | undefined): string | null {
  switch (event) {
    case 'issues':
      return 'issue';
    case 'issue_comment':
    case 'discussion_comment':
    case 'pull_request_review_comment':
      return 'comment';
    case 'pull_request_target':
    case 'pull_request':
      return 'pull_request';
    case 'pull_request_review':
      return 'review';
    case 'discussion':
      return 'discussion';
    default:
      return null;
  }
}

export function describeReach(hit: ReachedTaint): string {
  return reachText(hit.reach);
}

/** Who reaches it and how, with what the workflow does not show (a protected environment, an unknown caller). */
export function reachText(reach: Reach): string {
  if (reach.level === 'none') return 'not reachable';
  const how = reach.level === 'outsider-unprivileged' ? `${reach.how} (from a fork: no secrets, read-only token)` : reach.how;
  return reach.uncertain ? `${how}; not known here: ${reach.uncertain}` : how;
}
