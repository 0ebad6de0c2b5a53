// The lint pipeline: discover → load → expand → find agent sites → run checks → filter (ignores,
// inline comments, config) → result. Pure apart from reading files.

import fs from 'node:fs';
import path from 'node:path';
import { findAgentSites, type AgentSite } from './analysis/sites';
import { expandEntry, type Trust } from './analysis/instances';
import { loadRules } from './analysis/rulesData';
import { useExtraAgents } from './analysis/agents';
import { TaintEngine } from './analysis/taint';
import { projectConfig } from './analysis/projectConfig';
import { CHECKS } from './checks';
import { foldSameSource } from './checks/fold';
import { severityRank, type Finding, type LintError, type LintResult, type LintStats } from './checks/types';
import { EMPTY_CONFIG, type Config } from './config';
import { globMatch } from './glob';
import { badInlineIgnores, inlineIgnored } from './ignores';
import { discover, memorySets, openRepository, reportRoot, repositoryIdentity, type RemoteResolver, type Repository } from './workflow/load';
import type { Workflow } from './workflow/model';

type LoadedRules = ReturnType<typeof loadRules>;

export interface LintOptions {
  paths: string[];
  config?: Config;
  cwd?: string;
  /** Remote actions and reusable workflows fetched by an online pre-pass (`--online`). */
  remote?: RemoteResolver;
  /**
   * Lint one in-memory repository instead of `paths` (the organisation scan): files by path relative
   * to its root; the workflows are its `.github/workflows/*.yml`, the rest (local actions) is there
   * for `./` uses. Nothing is read from disk.
   */
  files?: { path: string; text: string }[];
  /**
   * Lint only these entry workflows (absolute paths) of the repositories found; the others are still
   * indexed and read where needed (callers, upstreams). Used to split a large run across workers.
   */
  only?: ReadonlySet<string>;
  /**
   * `owner/name` of the repository being linted (the Action's GITHUB_REPOSITORY, `--repository`, the
   * organisation scan's). Without it, each repository's git remote `origin` is read when there is one.
   * Conditions on `github.repository` are decided against it.
   */
  repository?: string;
}

export function lint(options: LintOptions): LintResult {
  const started = performance.now();
  const config = options.config ?? EMPTY_CONFIG;
  const errors: LintError[] = [];
  const notes: string[] = [];
  const checkedIgnores = new Set<string>();
  const findings: Finding[] = [];
  const kept = new Map<string, Map<number, string>>();
  const stats: LintStats = { files: 0, workflows: 0, actions: 0, jobs: 0, steps: 0, agentSteps: 0, durationMs: 0 };
  const rules = withConfiguredAgents(loadRules(), config);
  useExtraAgents({ actions: config.actions, clis: config.clis });
  const trust: Trust = {
    users: new Set(config.trustedUsers.map((u) => u.toLowerCase())),
    bots: new Set(config.trustedBots.map((u) => u.toLowerCase())),
  };

  const sets = options.files ? memorySets(options.files, notes) : discover(options.paths, errors, notes, options.cwd);
  const root = reportRoot(sets, options.cwd ?? process.cwd());
  // Reported paths are relative to `root`; files are read back through it.
  const readQuietly = (f: string) => readFileQuietly(path.resolve(root, f));
  for (const set of sets) {
    const repo = openRepository(set, root, options.remote);
    const identity = options.repository ?? (set.memory ? undefined : repositoryIdentity(set.root));
    for (const file of repo.files) {
      if (options.only && !options.only.has(file.abs)) continue;
      const workflow = repo.workflow(file.abs);
      if (!workflow) continue;
      stats.workflows++;
      const textOf = (f: string) => repo.text(f) ?? repo.sources.get(f) ?? readQuietly(f);
      const raw = lintWorkflow(repo, workflow, file.abs, rules, stats, trust, identity);
      // Ignore comments are checked in the workflow and in every file a finding points into.
      for (const f of new Set([workflow.file.path, ...raw.map((r) => r.stepAt?.file ?? r.file)])) {
        if (!checkedIgnores.has(f)) errors.push(...badInlineIgnores(f, textOf(f)));
        checkedIgnores.add(f);
      }
      const found = foldSameSource(applyConfig(raw, config, textOf));
      for (const finding of found) {
        const f = detached(finding);
        findings.push(f);
        // Keep only the lines reporters quote, so memory does not grow with the corpus.
        keepLines(kept, f.file, [f.line], textOf);
        for (const hop of f.path) keepLines(kept, hop.file, [hop.line], textOf);
      }
    }
    for (const e of repo.errors) keepLines(kept, e.file, [e.line], (f) => repo.text(f) ?? readQuietly(f));
    errors.push(...repo.errors);
    stats.files += repo.stats.files;
    stats.actions += repo.stats.actions;
  }
  stats.durationMs = Math.round(performance.now() - started);
  const sources = new Map<string, string>();
  for (const [file, lines] of kept) sources.set(file, sparseText(lines));
  return { findings: dedupe(findings), errors: uniqueErrors(errors), stats, rules: CHECKS.map((c) => c.meta), sources, notes, root };
}

function keepLines(kept: Map<string, Map<number, string>>, file: string, lines: number[], textOf: (file: string) => string): void {
  let map = kept.get(file);
  if (!map) kept.set(file, (map = new Map()));
  const missing = lines.filter((l) => !map!.has(l));
  if (!missing.length) return;
  const all = textOf(file).split('\n');
  for (const l of missing) map.set(l, detach(all[l - 1] ?? ''));
}

/**
 * A copy that shares no memory with the file it came from. V8 keeps substrings (slices) pointing at
 * their parent string, so a job id or a quoted line would otherwise keep a whole workflow's text
 * alive for as long as the finding lives — and memory would grow with the corpus.
 */
function detach(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

function detached(f: Finding): Finding {
  return JSON.parse(JSON.stringify(f)) as Finding;
}

/** The kept lines at their line numbers, the others empty. */
function sparseText(lines: Map<number, string>): string {
  const max = Math.max(0, ...lines.keys());
  const out: string[] = new Array(max).fill('');
  for (const [l, text] of lines) if (l >= 1) out[l - 1] = text;
  return out.join('\n');
}

/** Merges results of workers that each linted part of the same inputs. */
export function mergeResults(parts: LintResult[]): LintResult {
  const stats: LintStats = { files: 0, workflows: 0, actions: 0, jobs: 0, steps: 0, agentSteps: 0, durationMs: 0 };
  const sources = new Map<string, string>();
  for (const part of parts) {
    for (const key of Object.keys(stats) as (keyof LintStats)[]) {
      // Wall time and shared local actions are not additive; files read by several workers (callers,
      // upstreams) are counted once per worker, a small over-count.
      if (key === 'threads') continue;
      stats[key] = key === 'durationMs' || key === 'actions' ? Math.max(stats[key], part.stats[key]) : stats[key] + part.stats[key];
    }
    for (const [file, text] of part.sources) {
      const known = sources.get(file);
      sources.set(file, known ? mergeSparse(known, text) : text);
    }
  }
  stats.threads = parts.length;
  return {
    findings: dedupe(parts.flatMap((p) => p.findings)),
    errors: uniqueErrors(parts.flatMap((p) => p.errors)),
    stats,
    rules: parts[0]?.rules ?? CHECKS.map((c) => c.meta),
    sources,
    notes: [...new Set(parts.flatMap((p) => p.notes ?? []))],
    root: parts[0]?.root,
  };
}

/** Two sparse texts of the same file: each line from whichever has it. */
function mergeSparse(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  return Array.from({ length: Math.max(x.length, y.length) }, (_, i) => x[i] || y[i] || '').join('\n');
}

function readFileQuietly(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function lintWorkflow(repo: Repository, workflow: Workflow, abs: string, rules: LoadedRules, stats: LintStats, trust: Trust, identity: string | undefined): Finding[] {
  const jobs = expandEntry(repo, workflow, rules.triggers.triggers, abs, trust, identity);
  if (!jobs.length) return [];
  const engine = new TaintEngine(rules.sources, rules.agents, projectConfig(repo));
  const steps = jobs.flatMap((j) => j.steps);
  const sites: AgentSite[] = [];
  for (const step of steps) sites.push(...findAgentSites(step, engine));
  stats.jobs += jobs.length;
  stats.steps += steps.length;
  stats.agentSteps += new Set(sites.map((s) => s.step.step)).size;
  const out: Finding[] = [];
  for (const check of CHECKS) {
    try {
      out.push(...check.run({ jobs, steps, sites, engine, remote: repo.remote }));
    } catch (err) {
      // A bug in one check must not hide the others' findings; report it as an error.
      repo.errors.push({ file: workflow.file.path, line: 1, column: 1, message: `internal error in rule ${check.meta.id}: ${(err as Error).message}` });
    }
  }
  return out;
}

function withConfiguredAgents(rules: LoadedRules, config: Config): LoadedRules {
  if (!config.actions.length && !config.clis.length) return rules;
  return {
    ...rules,
    agents: { actions: [...config.actions, ...rules.agents.actions], clis: [...config.clis, ...rules.agents.clis] },
  };
}

/** The same step seen through several callers or triggers: keep the most severe finding per place. */
function dedupe(findings: Finding[]): Finding[] {
  const best = new Map<string, Finding>();
  for (const f of findings) {
    const key = `${f.rule}\u0000${f.file}\u0000${f.line}\u0000${f.column}`;
    const seen = best.get(key);
    if (!seen || severityRank(f.severity) > severityRank(seen.severity)) best.set(key, f);
  }
  return [...best.values()];
}

function applyConfig(findings: Finding[], config: Config, textOf: (file: string) => string): Finding[] {
  const lineCache = new Map<string, string[]>();
  const lineOf = (file: string, line: number) => {
    let lines = lineCache.get(file);
    if (!lines) lineCache.set(file, (lines = textOf(file).split('\n')));
    return lines[line - 1] ?? '';
  };
  return findings
    .filter((f) => {
      if (inlineIgnored(f, lineOf)) return false;
      return !config.ignore.some(
        (ig) => (!ig.rule || ig.rule === f.rule) && (!ig.file || globMatch(ig.file, f.file)) && (!ig.job || ig.job === f.job),
      );
    })
    .map((f) => (config.severity[f.rule] ? { ...f, severity: config.severity[f.rule] } : f));
}

function uniqueErrors(errors: LintError[]): LintError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.file}:${e.line}:${e.column}:${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `.github/agent-guard.yml` in the first path's repository, when present. */
export function defaultConfigPath(paths: string[]): string | undefined {
  for (const given of paths.length ? paths : ['.']) {
    let dir = path.resolve(given);
    try {
      if (fs.statSync(dir).isFile()) dir = path.dirname(dir);
    } catch {
      continue;
    }
    for (let i = 0; i < 4; i++) {
      for (const name of ['agent-guard.yml', 'agent-guard.yaml']) {
        const candidate = path.basename(dir) === '.github' ? path.join(dir, name) : path.join(dir, '.github', name);
        if (fs.existsSync(candidate)) return candidate;
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}
