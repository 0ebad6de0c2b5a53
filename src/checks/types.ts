// The shapes every check produces and every reporter consumes. Kept free of analysis imports so
// reporters (and their tests) depend on nothing but this file.

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type Confidence = 'high' | 'medium' | 'low';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

/** Higher is worse. */
export function severityRank(s: Severity): number {
  return 4 - SEVERITIES.indexOf(s);
}

export interface Location {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  endLine?: number;
  endColumn?: number;
}

/** One hop of a taint path: where the value is, and what happens to it there. */
export interface PathHop extends Location {
  note: string;
}

export interface StepAnchor {
  file: string;
  /** 1-based position in its job (or composite action): what `#N` step keys meant before. */
  position: number;
  /** Lines of the step's keys that say what it is (`name:`, `id:`, `uses:`, `run:`), first line first. */
  lines: number[];
}

export interface Finding extends Location {
  rule: string;
  severity: Severity;
  confidence: Confidence;
  /** Job id, when the finding is inside a job. */
  job?: string;
  /** The step's identity (`id`, else `name`, else what it runs), when the finding is inside a step. */
  step?: string;
  /** Where that step is: for inline ignores on the step, and for baselines keyed by position. Not reported. */
  stepAt?: StepAnchor;
  message: string;
  /** From the outsider-controlled source to the sink, in order. Empty when the rule has no flow. */
  path: PathHop[];
  /** Other outsider-controlled sources that reach the same sink (where each is written). */
  related?: PathHop[];
  /** What the agent holds at the sink, e.g. `secret:NPM_TOKEN`, `permission:contents:write`, `shell`. */
  capabilities: string[];
  /** Who holds `capabilities`: the agent (when absent), or a step that is no agent (a script, an action). */
  holder?: 'agent' | 'step';
  /** Concrete edits that remove the finding. */
  fix: string;
  /** Where the text lands, in words (`the run script of step 'x'`, an agent's name): to fold findings on one line. Not reported. */
  sink?: string;
}

export interface RuleMeta {
  id: string;
  /** One line, shown in SARIF `shortDescription` and the docs index. */
  title: string;
  /** The highest severity the rule reports. */
  severity: Severity;
  /** Markdown: why it matters and how to fix it (SARIF `help`). */
  help: string;
  /** URL of the rule's docs page. */
  docs: string;
}

/** A file that could not be read or parsed, or a bad ignore comment in it. The other files are still linted. */
export interface LintError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface LintStats {
  files: number;
  workflows: number;
  actions: number;
  jobs: number;
  steps: number;
  agentSteps: number;
  durationMs: number;
  /** Threads the run used (1 unless a large run was split across workers). */
  threads?: number;
}

export interface LintResult {
  findings: Finding[];
  errors: LintError[];
  stats: LintStats;
  /** Rule metadata for every rule that ran (reporters need it for SARIF and help). */
  rules: RuleMeta[];
  /** File text by path, for reporters that quote the offending line. */
  sources: Map<string, string>;
  /** One-line remarks that are not errors, e.g. a folder with nothing to lint. */
  notes?: string[];
  /** Absolute folder the reported paths are relative to (the repository root). */
  root?: string;
}
