// What every check receives: the analysed repository. Checks are pure functions of it.

import type { Finding, RuleMeta } from './types';
import type { JobInstance, StepInstance } from '../analysis/instances';
import type { AgentSite } from '../analysis/sites';
import type { TaintEngine } from '../analysis/taint';
import type { RemoteResolver } from '../workflow/load';

export interface CheckContext {
  jobs: JobInstance[];
  steps: StepInstance[];
  sites: AgentSite[];
  engine: TaintEngine;
  /** What the online pre-pass fetched; undefined offline. */
  remote?: RemoteResolver;
}

export interface Check {
  meta: RuleMeta;
  run(ctx: CheckContext): Finding[];
}

export const DOCS_BASE = 'https://github.com/agent-guard/agent-guard/blob/main/docs/rules';

export function docsUrl(id: string): string {
  return `${DOCS_BASE}/${id}.md`;
}
