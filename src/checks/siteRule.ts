// The three agent-input rules differ only in which channels they look at and how they word it.

import type { AgentSite } from '../analysis/sites';
import type { OriginKind } from '../analysis/taint';
import type { Check, CheckContext } from './context';
import { capabilityList, confidenceOf, describeReach, fixFor, jobAndStep, pathOf, severityOf, siteLocation, worstTaint, type ReachedTaint } from './common';
import type { Finding, PathHop, RuleMeta } from './types';
import type { Channel } from '../analysis/sites';
import { reachOf } from '../analysis/reach';

/** A rule over agent sites, reporting the worst taint whose origin is one of `origins`. */
export function siteRule(meta: RuleMeta, origins: OriginKind[], message: (site: AgentSite, hit: ReachedTaint) => string, sinkNote: string): Check {
  return {
    meta,
    run(ctx: CheckContext): Finding[] {
      const findings: Finding[] = [];
      for (const site of ctx.sites) {
        const channels = site.channels
          .map((c) => ({ ...c, taints: c.taints.filter((t) => origins.includes(t.origin.kind)) }))
          .filter((c) => c.taints.length);
        const hit = worstTaint(site, channels);
        if (!hit) continue;
        const severity = severityOf(hit, site.capabilities);
        if (!severity) continue;
        findings.push({
          rule: meta.id,
          severity,
          confidence: confidenceOf(hit),
          ...siteLocation(site),
          ...jobAndStep(site.step),
          message: `${message(site, hit)}: ${describeReach(hit)}.`,
          sink: site.agentName,
          path: pathOf(site, hit, `${sinkNote} (${hit.channel.name})`),
          related: relatedSources(site, channels, hit),
          capabilities: capabilityList(site.capabilities),
          fix: fixFor(site, hit),
        });
      }
      return findings;
    },
  };
}

/** Where the other reachable sources of this sink are written (first hop of each), one per place. */
function relatedSources(site: AgentSite, channels: Channel[], chosen: ReachedTaint): PathHop[] {
  const out: PathHop[] = [];
  const seen = new Set([key(chosen.taint.hops[0])]);
  for (const channel of channels) {
    for (const taint of channel.taints) {
      const first = taint.hops[0];
      if (!first || seen.has(key(first))) continue;
      if (reachOf(taint.origin, site.step, site.actorGate).level === 'none') continue;
      seen.add(key(first));
      out.push(first);
    }
  }
  return out.slice(0, 20);
}

function key(h: PathHop | undefined): string {
  return h ? `${h.file}:${h.line}:${h.column}` : '';
}
