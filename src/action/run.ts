// `agent-guard action run` and `agent-guard action wrap`: the Action's guard modes.
//
// run: decide whether the triggering input is outsider-controlled, refuse openings (allow-hosts,
// pass-env) under untrusted input unless allow-on-untrusted, then run the `run` input with bash in
// the jail. Provider keys come from the step's env and are read by the guard only; the agent never
// gets the Action's inputs or the keys.
//
// wrap: install a wrapper for Claude Code or the Copilot CLI (see src/guard/wrap.ts) for actions that
// start the CLI themselves, with the same inputs baked in and the same refusal.

import path from 'node:path';
import { boundaryMarkdown } from '../guard/boundary';
import { runGuarded } from '../guard/command';
import { applyDeferred, applySummaryMarkdown, parseApplyArgs } from '../guard/grants/apply';
import { describeGrantOutcome } from '../guard/grants/session';
import { GUARD_FAILURE_EXIT, GuardError } from '../guard/errors';
import { parseRunArgs, type RunOptions } from '../guard/options';
import { builtinProviders } from '../guard/providers';
import { readTrustDecision, type TrustDecision, untrustedRefusal } from '../guard/untrusted';
import { logSafe } from '../guard/workflowCommands';
import { installWrapper, prepareWrapper, WRAPPABLE } from '../guard/wrap';
import { md } from '../report/summary';
import {
  type ActionContext,
  InputError,
  appendSummary,
  errorCommand,
  getBooleanInput,
  getChoiceInput,
  getInput,
  getListInput,
  getPositiveIntInput,
  setOutputs,
  withoutInputs,
} from './runner';

const OVERRIDE = 'allow-on-untrusted: true';

/** The shell the `run` input runs in, as GitHub runs a `run:` step with `shell: bash`. */
export const RUN_SHELL = ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c'];

/** `agent-guard run` options from the Action's inputs (everything before `--`). */
export function guardArgsFromInputs(ctx: ActionContext, defaultProviders: string[] = []): string[] {
  const args: string[] = [];
  const providers = getListInput(ctx, 'providers');
  for (const p of providers.length ? providers : defaultProviders) args.push('--provider', p);
  for (const h of getListInput(ctx, 'allow-hosts')) args.push('--allow-host', h);
  for (const n of getListInput(ctx, 'pass-env')) args.push('--pass-env', n);
  args.push('--workspace', getChoiceInput(ctx, 'workspace', ['rw', 'ro'] as const, 'rw'));
  for (const p of getListInput(ctx, 'allow-paths')) args.push('--allow-path', p);
  const maxRequests = getPositiveIntInput(ctx, 'max-requests');
  if (maxRequests !== undefined) args.push('--max-requests', String(maxRequests));
  const maxTokens = getPositiveIntInput(ctx, 'max-tokens');
  if (maxTokens !== undefined) args.push('--max-tokens', String(maxTokens));
  // Limits are checked by the guard's own parser (sizes, `none`, the least that works).
  for (const name of ['memory', 'pids', 'tmpfs-size', 'max-disk', 'max-files']) {
    const value = getInput(ctx, name);
    if (value) args.push(`--${name}`, value);
  }
  args.push(...grantArgsFromInputs(ctx));
  const defer = getInput(ctx, 'defer');
  if (defer) args.push('--defer', defer);
  const timeout = getPositiveIntInput(ctx, 'timeout');
  if (timeout !== undefined) args.push('--timeout', String(timeout));
  const audit = auditFile(ctx);
  if (audit) args.push('--audit', audit);
  return args;
}

/** `--grant` per line of the `grants` input (one per line: a label list holds commas), and --allow-links. */
export function grantArgsFromInputs(ctx: ActionContext): string[] {
  const args: string[] = [];
  for (const line of getInput(ctx, 'grants').split('\n')) {
    const grant = line.replace(/(^|\s)#.*$/, '').trim();
    if (grant) args.push('--grant', grant);
  }
  if (getBooleanInput(ctx, 'allow-links', false)) args.push('--allow-links');
  return args;
}

/** The guard's environment: the runner's, without the Action's inputs, with the token grants use. */
function guardEnv(ctx: ActionContext): NodeJS.ProcessEnv {
  const env = withoutInputs(ctx.env);
  const token = getInput(ctx, 'github-token');
  if (token) env.GITHUB_TOKEN = token;
  return env;
}

/** Where the audit goes when the `audit` input names no file: kept out of the agent's reach. */
export const DEFAULT_AUDIT_NAME = 'agent-guard-audit.jsonl';

/**
 * The audit file: the `audit` input (a path; `false` for none), else (`true`, or empty)
 * `$RUNNER_TEMP/agent-guard-audit.jsonl`.
 * Never inside the workspace: the agent can write there and would rewrite its own record.
 */
export function auditFile(ctx: ActionContext): string | undefined {
  const input = getInput(ctx, 'audit');
  if (input === 'false') return undefined;
  const given = input === 'true' ? '' : input;
  const temp = ctx.env.RUNNER_TEMP;
  if (!given && !temp) return undefined;
  const file = path.resolve(ctx.cwd, given || path.join(temp!, DEFAULT_AUDIT_NAME));
  for (const workspace of [ctx.cwd, ctx.env.GITHUB_WORKSPACE]) {
    if (!workspace) continue;
    const rel = path.relative(path.resolve(workspace), file);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      throw new InputError(`input 'audit': ${file} is inside the workspace, where the agent could rewrite it; name a file under $RUNNER_TEMP, or leave it empty`);
    }
  }
  return file;
}

export function trustSummary(decision: TrustDecision): string {
  const verdict = decision.untrusted ? 'untrusted (outsider-controlled)' : 'trusted';
  return `### agent-guard: triggering input ${verdict}\n\n${md(decision.reason)}\n\n`;
}

function announce(ctx: ActionContext, decision: TrustDecision): void {
  ctx.stderr.write(`agent-guard: triggering input is ${decision.untrusted ? 'untrusted' : 'trusted'}: ${decision.reason}\n`);
  setOutputs(ctx, { untrusted: String(decision.untrusted) });
  appendSummary(ctx, trustSummary(decision));
}

/** One line on stderr, an error annotation, and a line in the summary. */
function fail(ctx: ActionContext, message: string): number {
  ctx.stderr.write(`agent-guard: ${logSafe(message)}\n`);
  ctx.stdout.write(errorCommand(message));
  appendSummary(ctx, `**Not run:** ${md(message)}\n`);
  return GUARD_FAILURE_EXIT;
}

function guardFailure(err: unknown): string {
  if (err instanceof GuardError) return `${err.layer === 'usage' ? '' : `${err.layer} layer: `}${err.message}`;
  if (err instanceof InputError) return err.message;
  return `internal error: ${(err as Error)?.message ?? String(err)}`;
}

export async function actionRun(ctx: ActionContext): Promise<number> {
  const decision = readTrustDecision(ctx.env);
  announce(ctx, decision);
  let opts: RunOptions;
  try {
    const command = getInput(ctx, 'run');
    if (!command) throw new InputError("input 'run' is empty: give the agent's command line");
    if (!getListInput(ctx, 'providers').length) {
      throw new InputError(`input 'providers' is empty: name the model provider(s) the agent calls (${[...builtinProviders().keys()].join(', ')})`);
    }
    opts = parseRunArgs([...guardArgsFromInputs(ctx), '--', ...RUN_SHELL, command]);
    const refusal = untrustedRefusal(decision, opts, getBooleanInput(ctx, 'allow-on-untrusted', false), OVERRIDE);
    if (refusal) return fail(ctx, refusal);
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }

  try {
    // The guard builds the agent's environment from scratch; the inputs are not even offered to it.
    const result = await runGuarded(opts, { stdout: ctx.stdout, stderr: ctx.stderr, env: guardEnv(ctx), cwd: ctx.cwd });
    result.release();
    const { exitCode, audit, grants } = result;
    ctx.stderr.write(`${audit.summaryLine(exitCode)}\n`);
    if (grants) ctx.stderr.write(describeGrantOutcome(grants, opts.deferFile));
    appendSummary(ctx, audit.stepSummaryMarkdown(exitCode) + boundaryMarkdown(result.boundary));
    setOutputs(ctx, {
      'exit-code': String(exitCode),
      ...(grants?.deferSha256 ? { 'defer-sha256': grants.deferSha256 } : {}),
      ...(opts.auditFile ? { 'audit-file': opts.auditFile } : {}),
    });
    return exitCode;
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }
}

export function actionWrap(ctx: ActionContext, self: { node: string; guard: string }): number {
  const decision = readTrustDecision(ctx.env);
  announce(ctx, decision);
  try {
    const temp = ctx.env.RUNNER_TEMP;
    if (!temp) throw new InputError('RUNNER_TEMP is not set: mode wrap installs the wrapper there, out of the agent\'s reach');
    const name = getChoiceInput(ctx, 'agent', ['claude', 'copilot'] as const, 'claude');
    const agent = WRAPPABLE[name];
    const allowOnUntrusted = getBooleanInput(ctx, 'allow-on-untrusted', false);
    const guardArgs = guardArgsFromInputs(ctx, [agent.providers[0]]);
    const prepared = prepareWrapper(
      name,
      { agentPath: getInput(ctx, name) || undefined, guardArgs, allowOnUntrusted: true },
      { env: withoutInputs(ctx.env), cwd: ctx.cwd, node: self.node, guard: self.guard },
    );
    const refusal = untrustedRefusal(decision, prepared.options, allowOnUntrusted, OVERRIDE);
    if (refusal) return fail(ctx, refusal);
    const target = installWrapper(path.join(temp, 'agent-guard'), prepared.text, name);
    ctx.stderr.write(`agent-guard: wrapper installed: ${target} runs ${prepared.spec.agent} under the guard; set ${agent.actionInput} to it\n`);
    const audit = prepared.options.auditFile;
    setOutputs(ctx, { [`${name}-wrapper`]: target, ...(audit ? { 'audit-file': audit } : {}) });
    const title = agent.title.replace(/^the /, '');
    appendSummary(ctx, `${title[0].toUpperCase()}${title.slice(1)} wrapper: <code>${md(target)}</code> runs <code>${md(prepared.spec.agent)}</code> under the guard.\n`);
    return 0;
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }
}

/**
 * apply: perform what a `defer` run recorded, checked again against this step's `grants` (never the
 * run's) and this run's event. `defer-sha256` (the run's output) makes a file changed in between refused.
 */
export async function actionApply(ctx: ActionContext): Promise<number> {
  try {
    const file = getInput(ctx, 'defer');
    if (!file) throw new InputError("input 'defer' is empty: name the file the run recorded (download its artifact first)");
    const grantArgs = grantArgsFromInputs(ctx);
    if (!grantArgs.includes('--grant')) throw new InputError("input 'grants' is empty: apply checks every request against the grants given here");
    const sha = getInput(ctx, 'defer-sha256');
    const opts = parseApplyArgs([path.resolve(ctx.cwd, file), ...grantArgs, ...(sha ? ['--sha256', sha] : [])]);
    const { performed, audit } = await applyDeferred(opts, { env: guardEnv(ctx), stdout: ctx.stdout, stderr: ctx.stderr });
    ctx.stderr.write(`agent-guard: applied ${performed} deferred request(s)\n`);
    appendSummary(ctx, applySummaryMarkdown(audit, performed));
    return 0;
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }
}
