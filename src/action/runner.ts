// The GitHub Actions runner's side of the Action: inputs from INPUT_* variables, outputs and the
// step summary through the files the runner names in GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
//
// Everything goes through an ActionContext so tests can run an entry point with a simulated
// runner (their own env, streams and files) and nothing reads process globals behind their back.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';

export interface ActionContext {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  cwd: string;
}

/** A bad input: one line, naming the input, and the step fails before doing anything. */
export class InputError extends Error {}

/**
 * An input's value, trimmed; '' when unset. The runner names the variable `INPUT_` + the upper-cased
 * name with hyphens kept (`INPUT_FAIL-ON`); a composite action passes its inputs through `env:`,
 * where action.yml spells them with underscores (`INPUT_FAIL_ON`). Both are read, the runner's first.
 */
export function getInput(ctx: ActionContext, name: string): string {
  const upper = name.toUpperCase();
  for (const key of [`INPUT_${upper}`, `INPUT_${upper.replace(/-/g, '_')}`]) {
    const value = ctx.env[key];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  return '';
}

/** YAML 1.2 core-schema booleans, as the runner's own getBooleanInput takes them; '' is `fallback`. */
export function getBooleanInput(ctx: ActionContext, name: string, fallback: boolean): boolean {
  const value = getInput(ctx, name);
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(`input '${name}' must be true or false, not '${printable(value)}'`);
}

/** A list input: items separated by newlines or commas, blanks and `#` comments dropped. */
export function getListInput(ctx: ActionContext, name: string): string[] {
  return getInput(ctx, name)
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A whole number >= 1, or undefined when the input is empty. */
export function getPositiveIntInput(ctx: ActionContext, name: string): number | undefined {
  const value = getInput(ctx, name);
  if (value === '') return undefined;
  if (!/^[1-9][0-9]{0,14}$/.test(value)) throw new InputError(`input '${name}' must be a positive whole number, not '${printable(value)}'`);
  return Number(value);
}

/** One of `choices`; '' is `fallback`. */
export function getChoiceInput<T extends string>(ctx: ActionContext, name: string, choices: readonly T[], fallback: T): T {
  const value = getInput(ctx, name);
  if (value === '') return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new InputError(`input '${name}' must be one of ${choices.join(', ')}, not '${printable(value)}'`);
  }
  return value as T;
}

/** Input text quoted in an error: short, one line, nothing a terminal or the runner would act on. */
export function printable(value: string): string {
  const flat = value.replace(/[^\x20-\x7e]/g, '?').replace(/::/g, ':\u200b:');
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

/**
 * Set step outputs. Each is written in the runner's heredoc form (`name<<DELIMITER`, the value, the
 * delimiter) with a fresh random delimiter, so a value can hold newlines and can never end the
 * block early. Without GITHUB_OUTPUT (not on a runner) nothing is written.
 */
export function setOutputs(ctx: ActionContext, outputs: Record<string, string>): void {
  const file = ctx.env.GITHUB_OUTPUT;
  if (!file) return;
  let text = '';
  for (const [name, value] of Object.entries(outputs)) text += fileCommand(name, value);
  fs.appendFileSync(file, text);
}

function fileCommand(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`bad output name '${name}'`);
  let delimiter = `ghadelimiter_${randomUUID()}`;
  while (value.includes(delimiter)) delimiter = `ghadelimiter_${randomUUID()}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

/** Append Markdown to the job summary; without GITHUB_STEP_SUMMARY nothing is written. */
export function appendSummary(ctx: ActionContext, markdown: string): void {
  const file = ctx.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  fs.appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
}

/** An `::error::` line the runner shows as an annotation; the message is escaped as the runner wants. */
export function errorCommand(message: string): string {
  return `::error title=agent-guard::${message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`;
}

/** The environment without the Action's own inputs, for anything the Action starts. */
export function withoutInputs(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith('INPUT_')) out[name] = value;
  return out;
}
