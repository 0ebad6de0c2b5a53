// `agent-guard action run` and `agent-guard action wrap`: the Action's guard modes.
//
// run: decide whether the triggering input is outsider-controlled, refuse openings (allow-hosts,
// pass-env) under untrusted input unless allow-on-untrusted, then run the `run` input with bash in
// the jail. Provider keys come from the step's env and are read by the guard only; the agent never
// gets the Action's inputs or the keys.
//
// wrap: install a Claude Code wrapper (see src/guard/wrap.ts) for actions that start Claude Code
// themselves, with the same inputs baked in and the same refusal.

import path from 'node:path';
import { boundaryMarkdown } from '../guard/boundary';
import { runGuarded } from '../guard/command';
import { GUARD_FAILURE_EXIT, GuardError } from '../guard/errors';
import { parseRunArgs, type RunOptions } from '../guard/options';
import { readTrustDecision, type TrustDecision, untrustedRefusal } from '../guard/untrusted';
import { installWrapper, prepareClaudeWrapper } from '../guard/wrap';
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
  return args;
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
  ctx.stderr.write(`agent-guard: ${message}\n`);
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
      throw new InputError("input 'providers' is empty: name the model provider(s) the agent calls (anthropic, openai, gemini, github-models, openrouter)");
    }
    opts = parseRunArgs([...guardArgsFromInputs(ctx), '--', ...RUN_SHELL, command]);
    const refusal = untrustedRefusal(decision, opts, getBooleanInput(ctx, 'allow-on-untrusted', false), OVERRIDE);
    if (refusal) return fail(ctx, refusal);
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }

  try {
    // The guard builds the agent's environment from scratch; the inputs are not even offered to it.
    const result = await runGuarded(opts, { stdout: ctx.stdout, stderr: ctx.stderr, env: withoutInputs(ctx.env), cwd: ctx.cwd });
    result.release();
    const { exitCode, audit } = result;
    ctx.stderr.write(`${audit.summaryLine(exitCode)}\n`);
    appendSummary(ctx, audit.stepSummaryMarkdown(exitCode) + boundaryMarkdown(result.boundary));
    setOutputs(ctx, { 'exit-code': String(exitCode) });
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
    const allowOnUntrusted = getBooleanInput(ctx, 'allow-on-untrusted', false);
    const guardArgs = guardArgsFromInputs(ctx, ['anthropic']);
    const prepared = prepareClaudeWrapper(
      { claude: getInput(ctx, 'claude') || undefined, guardArgs, allowOnUntrusted: true },
      { env: withoutInputs(ctx.env), cwd: ctx.cwd, node: self.node, guard: self.guard },
    );
    const refusal = untrustedRefusal(decision, prepared.options, allowOnUntrusted, OVERRIDE);
    if (refusal) return fail(ctx, refusal);
    const target = installWrapper(path.join(temp, 'agent-guard'), prepared.text);
    ctx.stderr.write(`agent-guard: wrapper installed: ${target} runs ${prepared.spec.claude} under the guard\n`);
    setOutputs(ctx, { 'claude-wrapper': target });
    appendSummary(ctx, `Claude Code wrapper: <code>${md(target)}</code> runs <code>${md(prepared.spec.claude)}</code> under the guard.\n`);
    return 0;
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }
}
