import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandEntry, type JobInstance, type StepInstance } from '../../src/analysis/instances';
import { loadRules } from '../../src/analysis/rulesData';
import { findAgentSites, type AgentSite } from '../../src/analysis/sites';
import { TaintEngine } from '../../src/analysis/taint';
import { discover, openRepository } from '../../src/workflow/load';
import type { LintError } from '../../src/checks/types';

export interface Analysed {
  jobs: JobInstance[];
  steps: StepInstance[];
  sites: AgentSite[];
  engine: TaintEngine;
  errors: string[];
}

/** Writes the files into a fresh repository and analyses every workflow in it. */
export function analyse(files: Record<string, string>): Analysed {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-analysis-'));
  for (const [name, text] of Object.entries(files)) {
    const full = path.join(dir, name.includes('/') ? name : `.github/workflows/${name}`);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
  }
  const rules = loadRules();
  const engine = new TaintEngine(rules.sources, rules.agents);
  const out: Analysed = { jobs: [], steps: [], sites: [], engine, errors: [] };
  const errors: LintError[] = [];
  for (const set of discover([dir], errors)) {
    const repo = openRepository(set, dir);
    for (const f of repo.files) {
      const workflow = repo.workflow(f.abs);
      if (!workflow) continue;
      const jobs = expandEntry(repo, workflow, rules.triggers.triggers, f.abs);
      out.jobs.push(...jobs);
      for (const job of jobs) {
        out.steps.push(...job.steps);
        for (const step of job.steps) out.sites.push(...findAgentSites(step, engine));
      }
    }
    out.errors.push(...repo.errors.map((e) => `${e.file}:${e.line}: ${e.message}`));
  }
  out.errors.push(...errors.map((e) => `${e.file}: ${e.message}`));
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

export function stepById(a: Analysed, id: string): StepInstance {
  const s = a.steps.find((x) => x.step.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}
