// `agent-guard action lint`: the Action's lint mode. Lints the workflows, prints the report in the
// chosen format, annotates the offending lines, writes the job summary and a SARIF file, sets the
// outputs, and exits 1 when a finding is at or above `fail-on` (after the baseline, if any).

import fs from 'node:fs';
import path from 'node:path';
import { applyBaseline, baselineNote, readBaseline, type BaselineOutcome } from '../baseline';
import { SEVERITIES, severityRank, type LintResult, type Severity } from '../checks/types';
import { readConfig } from '../config';
import { defaultConfigPath, lint } from '../lint';
import { FORMATS, formatGithub, formatReport, formatSarif, formatStepSummary, type Format } from '../report';
import { md } from '../report/summary';
import { type ActionContext, InputError, appendSummary, getBooleanInput, getChoiceInput, getInput, getListInput, setOutputs } from './runner';

export interface LintInputs {
  paths: string[];
  format: Format;
  failOn: Severity | 'none';
  config?: string;
  sarifFile: string;
  baseline?: string;
  uploadSarif: boolean;
}

export function readLintInputs(ctx: ActionContext): LintInputs {
  const paths = getListInput(ctx, 'path').map((p) => path.resolve(ctx.cwd, p));
  for (const p of paths) if (!fs.existsSync(p)) throw new InputError(`input 'path': ${relative(ctx, p)} does not exist`);
  const sarif = getInput(ctx, 'sarif-file');
  const config = getInput(ctx, 'config');
  const baseline = getInput(ctx, 'baseline');
  return {
    paths: paths.length ? paths : [ctx.cwd],
    format: getChoiceInput(ctx, 'format', FORMATS, 'text'),
    failOn: getChoiceInput<Severity | 'none'>(ctx, 'fail-on', [...SEVERITIES, 'none'], 'high'),
    config: config ? path.resolve(ctx.cwd, config) : undefined,
    sarifFile: path.resolve(ctx.cwd, sarif || path.join(ctx.env.RUNNER_TEMP || ctx.cwd, 'agent-guard.sarif')),
    baseline: baseline ? path.resolve(ctx.cwd, baseline) : undefined,
    // Read here so that a typo fails the step instead of silently skipping the upload.
    uploadSarif: getBooleanInput(ctx, 'upload-sarif', false),
  };
}

function highest(result: LintResult): Severity | 'none' {
  let worst: Severity | 'none' = 'none';
  for (const f of result.findings) if (worst === 'none' || severityRank(f.severity) > severityRank(worst)) worst = f.severity;
  return worst;
}

function relative(ctx: ActionContext, file: string): string {
  const rel = path.relative(ctx.cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export function actionLint(ctx: ActionContext, toolVersion: string): number {
  const inputs = readLintInputs(ctx);
  const configPath = inputs.config ?? defaultConfigPath(inputs.paths);
  const config = configPath ? readConfig(configPath) : undefined;
  // The Action lints the repository it runs in.
  const full = lint({ paths: inputs.paths, config, cwd: ctx.cwd, repository: ctx.env.GITHUB_REPOSITORY || undefined });

  let outcome: BaselineOutcome | undefined;
  let result = full;
  if (inputs.baseline) {
    outcome = applyBaseline(full.findings, readBaseline(inputs.baseline), full.root ?? ctx.cwd);
    result = { ...full, findings: outcome.fresh };
  }

  const root = full.root ?? ctx.cwd;
  ctx.stdout.write(formatReport(result, inputs.format, { color: false, toolVersion, root }));
  // Annotations on the offending lines, whatever the log format (unless the log already is them).
  if (inputs.format !== 'github') ctx.stdout.write(formatGithub(result, { root }));

  fs.mkdirSync(path.dirname(inputs.sarifFile), { recursive: true });
  fs.writeFileSync(inputs.sarifFile, formatSarif(result, { toolVersion, root }));

  const notes: string[] = [];
  for (const note of full.notes ?? []) {
    ctx.stderr.write(`agent-guard: ${note}\n`);
    notes.push(md(note));
  }
  if (inputs.baseline && outcome) {
    const note = baselineNote(relative(ctx, inputs.baseline), outcome);
    ctx.stderr.write(`agent-guard: ${note}\n`);
    notes.push(`> ${md(note)}`);
  }
  notes.push(`SARIF: <code>${md(relative(ctx, inputs.sarifFile))}</code>${inputs.uploadSarif ? ', uploaded to code scanning by the next step' : ''}`);
  appendSummary(ctx, `${formatStepSummary(result)}\n${notes.join('\n\n')}\n`);

  const worst = highest(result);
  setOutputs(ctx, {
    findings: String(result.findings.length),
    'highest-severity': worst,
    'sarif-file': inputs.sarifFile,
  });

  // Fail closed: errors and not one workflow linted means nothing was checked.
  const nothingRead = full.stats.workflows === 0 && full.errors.length > 0;
  if (nothingRead) {
    ctx.stderr.write('agent-guard: no workflow could be read; failing\n');
    return 2;
  }
  if (inputs.failOn === 'none') return 0;
  const threshold = severityRank(inputs.failOn);
  const failing = result.findings.filter((f) => severityRank(f.severity) >= threshold).length;
  if (failing > 0) {
    ctx.stderr.write(`agent-guard: ${failing} finding${failing === 1 ? '' : 's'} at or above fail-on: ${inputs.failOn}\n`);
    return 1;
  }
  return 0;
}
