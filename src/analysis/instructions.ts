// What an agent is told, as far as the repository shows it: its prompt as written and with the
// values composite-action inputs, `env:` and `$GITHUB_ENV` give it; the prompt files earlier steps
// wrote (`cat > /tmp/prompt.txt <<EOF` … `claude -p "$(cat /tmp/prompt.txt)"`); the custom slash
// command it runs (`/dedupe …` runs `.claude/commands/dedupe.md`); and the settings its CLI reads from
// the checkout. Sites read this to see that an agent is pointed at an issue, told to fetch one, or
// granted tools by a file rather than a flag.

import { classifyInvocation, type CliInvocation, type CliValue } from './agents';
import type { StepInstance } from './instances';
import { envValues, expandShell, resolveText, shellWords, type LiteralScope } from './literal';
import type { ProjectCommand } from './projectConfig';
import type { AgentCli } from './ruleTypes';
import { scriptFacts, type FileWrite } from './shell';
import type { TaintEngine } from './taint';

export interface Instructions {
  /** The prompt as written, its resolved forms, the command file and the prompt files it reads. */
  text: string;
  /** Only what is not written in the step itself: resolved forms, prompt files, the command file. */
  extra: string;
  /** The repository's slash command the prompt runs, if any. */
  command?: ProjectCommand;
  /** Values for the CLI's wideners and narrowers: repository settings and the command's grants. */
  values: CliValue[];
}

/** Instructions of an agent action: `prompts` are its prompt inputs, `promptFiles` the paths its file inputs name. */
export function actionInstructions(step: StepInstance, cli: AgentCli | undefined, prompts: string[], promptFiles: string[], engine: TaintEngine, replaced: (input: string) => boolean): Instructions {
  const scope: LiteralScope = { job: step.job, step };
  const resolved = prompts.flatMap((p) => resolveText(p, scope));
  const files = promptFiles.flatMap((p) => resolveText(p, scope)).flatMap((p) => expandShell(p, scope));
  const written = filesWrittenBefore(step).filter((f) => files.some((p) => namesFile(p, f.path)));
  const command = cli ? slashCommand(cli, resolved, engine) : undefined;
  const values = cli ? [...engine.project.values(cli).filter((v) => !(v.replacedByInput && replaced(v.replacedByInput))), ...(command?.grants ?? [])] : [];
  const named = repositoryFilesNamed([...prompts, ...resolved].join('\n'), engine);
  const extra = joinUnique([...resolved.filter((r) => !prompts.includes(r)), ...written.map((f) => f.text), ...named, command?.text ?? '']);
  return { text: joinUnique([...prompts, extra]), extra, command, values };
}

/**
 * Instructions of a CLI run in a `run:` script: the script up to the end of the command (`upTo`),
 * resolved, the values of the environment variables it names, and the files it reads that earlier
 * steps (or earlier lines) wrote.
 */
export function cliInstructions(step: StepInstance, script: { key: object; text: string }, invocation: CliInvocation, upTo: string, engine: TaintEngine): Instructions {
  const scope: LiteralScope = { job: step.job, step };
  const variants = resolveText(upTo, scope).flatMap((v) => expandShell(v, scope, script));
  const named = namedEnvValues(upTo, scope);
  const seen = [...variants, ...named];
  const written = filesWrittenBefore(step, { key: script.key, text: script.text, before: invocation.start }).filter((f) => seen.some((v) => namesFile(v, f.path)));
  const args = resolvedArgs(invocation, scope);
  const command = slashCommand(invocation.cli, args.filter((a) => !a.startsWith('-')), engine);
  const values = [...engine.project.values(invocation.cli), ...(command?.grants ?? [])];
  const files = repositoryFilesNamed(variants.join('\n'), engine);
  const extra = joinUnique([...variants.filter((v) => v !== upTo), ...named, ...written.map((f) => f.text), ...files, command?.text ?? '']);
  return { text: joinUnique([upTo, extra]), extra, command, values };
}

/**
 * The invocation with `${{ }}` in its arguments replaced by what they resolve to, split into words
 * again (`${{ format('--allowedTools "{0}"', inputs.tools) }}` becomes a flag and its value). One
 * invocation per combination of candidates.
 */
export function resolvedInvocations(invocation: CliInvocation, step: StepInstance): CliInvocation[] {
  if (!invocation.args.some((a) => a.includes('${{'))) return [invocation];
  const scope: LiteralScope = { job: step.job, step };
  const out: CliInvocation[] = [];
  for (const args of argVariants(invocation, scope)) {
    const verdict = classifyInvocation(invocation.cli, args, invocation.envAssignments, invocation.exportedEnv);
    if (verdict) out.push({ ...invocation, args, bypass: verdict.bypass, tools: verdict.tools });
  }
  return out.length ? out : [invocation];
}

function argVariants(invocation: CliInvocation, scope: LiteralScope): string[][] {
  let variants: string[][] = [[]];
  for (const arg of invocation.args) {
    if (!arg.includes('${{')) {
      variants = variants.map((v) => [...v, arg]);
      continue;
    }
    const options = resolveText(arg, scope).map((r) => (r === arg ? [arg] : shellWords(r)));
    variants = variants.flatMap((v) => options.map((o) => [...v, ...o])).slice(0, 6);
  }
  return variants;
}

function resolvedArgs(invocation: CliInvocation, scope: LiteralScope): string[] {
  return argVariants(invocation, scope).flat();
}

/** The repository's command a prompt starts with (`/dedupe owner/repo/issues/1` → `.claude/commands/dedupe.md`). */
function slashCommand(cli: AgentCli, prompts: string[], engine: TaintEngine): ProjectCommand | undefined {
  if (!cli.commandDirs?.length) return undefined;
  for (const prompt of prompts) {
    const m = /^\s*\/([A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*)(?=\s|$)/.exec(prompt);
    if (!m) continue;
    const found = engine.project.command(cli, m[1]);
    if (found) return found;
  }
  return undefined;
}

/** Prompt-like files a text names that the repository has ("Read .github/prompts/triage.md and follow it"). */
const NAMED_FILE = /(?:^|[\s"'`(])((?:\.?[\w-]+\/)+[\w.-]+\.(?:md|markdown|txt|prompt))\b/g;

function repositoryFilesNamed(text: string, engine: TaintEngine): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(NAMED_FILE)) {
    const body = engine.project.text(m[1]);
    if (body !== undefined) out.push(body);
    if (out.length >= 4) break;
  }
  return out;
}

/** Literal values of the environment variables a text names (`$CODEX_PROMPT`, `env.PROMPT`). */
function namedEnvValues(text: string, scope: LiteralScope): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)|\benv\.([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1] ?? m[2]);
  return [...names].flatMap((n) => envValues(n, scope));
}

/** Files written by `run:` scripts of the job before this step, and by this script before `before`. */
function filesWrittenBefore(step: StepInstance, own?: { key: object; text: string; before: number }): FileWrite[] {
  const out: FileWrite[] = [];
  for (const earlier of step.job.steps) {
    if (earlier.position >= step.position || !earlier.step.run) continue;
    out.push(...scriptFacts(earlier.step.run, earlier.step.run.text).files);
  }
  if (own) out.push(...scriptFacts(own.key, own.text).files.filter((f) => f.offset < own.before));
  return out;
}

/**
 * Whether a text names a written file: its path, or (for a path built from variables, such as
 * `"$RUNNER_TEMP/prompt.md"`) its file name.
 */
export function namesFile(text: string, path: string): boolean {
  if (path.length < 4) return false;
  if (!path.includes('$')) return text.includes(path);
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.length >= 4 && !name.includes('$') && text.includes(name);
}

function joinUnique(parts: string[]): string {
  return [...new Set(parts.filter(Boolean))].join('\n');
}
