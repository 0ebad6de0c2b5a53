// How far outsiders reach what an agent wrote. A model's answer exists only when the agent ran, so the
// text in it is outsider-steered only as far as outsiders reach that agent: start it (an agent with
// tools reads what it is pointed at) or get their text into it, through its own gates (its action's
// write-access check, its job's `if:`).

import type { StepInstance } from '../analysis/instances';
import { reachOf, REACH_ORDER, TRIGGERING_ACTOR, type Reach } from '../analysis/reach';
import type { Taint } from '../analysis/taint';
import type { CheckContext } from './context';
import { worstTaint } from './common';

/** How far outsiders reach the agent at `producer`; undefined when it is not an agent site here. */
export function agentReach(producer: StepInstance | undefined, ctx: CheckContext): Reach | undefined {
  const site = producer && ctx.sites.find((s) => s.step === producer);
  if (!site) return undefined;
  const started = reachOf(TRIGGERING_ACTOR, site.step, site.actorGate);
  // Model output fed to this agent is another hop of the chain, not counted here.
  const channels = site.channels.map((c) => ({ ...c, taints: c.taints.filter((t) => t.origin.kind !== 'ai-output') })).filter((c) => c.taints.length);
  const read = worstTaint(site, channels)?.reach;
  return read && REACH_ORDER[read.level] > REACH_ORDER[started.level] ? read : started;
}

/** The lesser of two reaches: the sink's, and the producing agent's. */
export function lower(sink: Reach, producer: Reach | undefined): Reach {
  return producer && REACH_ORDER[producer.level] < REACH_ORDER[sink.level] ? producer : sink;
}

/** `reach` bounded by every agent whose answer relayed the taint on its way to the sink. */
export function throughRelays(reach: Reach, taint: Taint, ctx: CheckContext): Reach {
  return (taint.origin.relayedBy ?? []).reduce((r, agent) => lower(r, agentReach(agent, ctx)), reach);
}
