// Recognising agents in workflow steps: `uses:` references to agent actions, and what a matched agent
// CLI invocation means (its flags, bypasses, tools). The data comes from rules/agents.yml (see
// rulesData.ts); this file only matches. Reading `run:` scripts to find the invocations is
// shellScanner.ts.

import { loadRules } from './rulesData';
import type { AgentAction, AgentCli, AgentsFile, ToolReach, ToolWidener } from './ruleTypes';

export interface CliInvocation {
  cli: AgentCli;
  /** Offsets in the script of the command word(s): the agent's name (or package) through its subcommand. */
  start: number;
  end: number;
  /** Arguments after the command word, quotes removed; `$VAR`, `$(...)` and `${{ }}` kept as written. */
  args: string[];
  /** `VAR=value` given on the command itself (leading assignments, `env`/`sudo` assignments). */
  envAssignments: Record<string, string>;
  /** The bypass flags (as written in agents.yml, e.g. `--permission-mode=bypassPermissions`) and bypass env (`GOOSE_MODE=auto`) that matched. */
  bypass: string[];
  /** Values of the CLI's tool flags (`--allowedTools "Bash(git:*),Read"` gives `Bash(git:*),Read`). */
  tools: string[];
  /** The subcommand words that made it a run (`exec`, `github run`), if the CLI has subcommands. */
  subcommand?: string;
  /** Variables exported earlier in the same script (`export GOOSE_MODE=auto`), visible to the command. */
  exportedEnv: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------
// Indexes over the rules (built once).

export interface Index {
  actionsByRepo: Map<string, { prefix: string; action: AgentAction }[]>;
  byCommand: Map<string, AgentCli>;
  byPackage: Map<string, AgentCli>;
  modules: { module: string; cli: AgentCli }[];
  clis: Map<string, AgentCli>;
}

let index: Index | undefined;
/** Agents from the user's config (`agents:`), matched before the shipped ones. */
let extra: AgentsFile = { actions: [], clis: [] };

/** Makes config-declared agents visible to the matchers (lint calls this once per run). */
export function useExtraAgents(agents: AgentsFile): void {
  if (agents.actions === extra.actions && agents.clis === extra.clis) return;
  extra = agents;
  index = undefined;
  matchCache.clear();
}

/** The matchers' indexes over the shipped and configured agents (built once). */
export function agentIndex(): Index {
  if (index) return index;
  const shipped = loadRules().agents;
  const agents: AgentsFile = { actions: [...extra.actions, ...shipped.actions], clis: [...extra.clis, ...shipped.clis] };
  const actionsByRepo = new Map<string, { prefix: string; action: AgentAction }[]>();
  for (const action of agents.actions) {
    for (const u of action.uses) {
      const prefix = u.toLowerCase();
      const repo = prefix.split('/').slice(0, 2).join('/');
      const list = actionsByRepo.get(repo) ?? [];
      list.push({ prefix, action });
      actionsByRepo.set(repo, list);
    }
  }
  for (const list of actionsByRepo.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
  const byCommand = new Map<string, AgentCli>();
  const byPackage = new Map<string, AgentCli>();
  const modules: { module: string; cli: AgentCli }[] = [];
  const clis = new Map<string, AgentCli>();
  for (const cli of agents.clis) {
    clis.set(cli.id, cli);
    for (const c of cli.commands) byCommand.set(c, cli);
    for (const p of cli.packages ?? []) byPackage.set(p.toLowerCase(), cli);
    for (const m of cli.modules ?? []) modules.push({ module: m, cli });
  }
  index = { actionsByRepo, byCommand, byPackage, modules, clis };
  return index;
}

/** The CLI entry with this id (e.g. an action's `cli`). */
export function cliById(id: string): AgentCli | undefined {
  return agentIndex().clis.get(id);
}

// ---------------------------------------------------------------------------------------------------
// Actions.

/**
 * The agent action a `uses:` value refers to: `owner/repo[/path]@ref`, case-insensitive, the longest
 * listed prefix wins (`anthropics/claude-code-action/base-action` before `anthropics/claude-code-action`).
 * Local (`./...`) and `docker://` references are never agents.
 */
const matchCache = new Map<string, AgentAction | null>();

/** Cached: the same few `uses:` strings recur in every job. */
export function matchAgentAction(uses: string): AgentAction | null {
  const known = matchCache.get(uses);
  if (known !== undefined) return known;
  const found = matchAgentActionUncached(uses);
  if (matchCache.size > 10_000) matchCache.clear();
  matchCache.set(uses, found);
  return found;
}

function matchAgentActionUncached(uses: string): AgentAction | null {
  const text = uses.trim();
  if (!text || text.startsWith('./') || text.startsWith('../') || /^docker:\/\//i.test(text)) return null;
  const at = text.indexOf('@');
  const path = (at >= 0 ? text.slice(0, at) : text).replace(/\/+$/, '').toLowerCase();
  const parts = path.split('/');
  if (parts.length < 2) return null;
  const candidates = agentIndex().actionsByRepo.get(`${parts[0]}/${parts[1]}`);
  if (!candidates) return null;
  for (const { prefix, action } of candidates) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return action;
  }
  return null;
}

function regexFor(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'i');
    regexCache.set(pattern, re);
  }
  return re;
}
const regexCache = new Map<string, RegExp>();

const SHELL_ORDER = { none: 0, restricted: 1, full: 2 } as const;

function widen(reach: ToolReach, grants: Partial<ToolReach>): void {
  if (grants.shell && SHELL_ORDER[grants.shell] > SHELL_ORDER[reach.shell]) reach.shell = grants.shell;
  if (grants.network) reach.network = true;
  if (grants.writesFiles) reach.writesFiles = true;
}

function narrow(reach: ToolReach, grants: Partial<ToolReach>): void {
  if (grants.shell && SHELL_ORDER[grants.shell] < SHELL_ORDER[reach.shell]) reach.shell = grants.shell;
  if (grants.network === false) reach.network = false;
  if (grants.writesFiles === false) reach.writesFiles = false;
}

/** Looks an input up the way GitHub does: names are case-insensitive. */
function inputValue(inputs: Record<string, string>, name: string): string | undefined {
  if (name in inputs) return inputs[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(inputs)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** A value that stands for one of a CLI's flags or settings: a project file's field, a slash command's grant. */
export interface CliValue {
  as: string;
  value: string;
}

/** What the agent's CLI reads besides the action's inputs: the repository's settings and commands. */
export interface CliExtras {
  cli: AgentCli;
  values: CliValue[];
  /** The slash command the prompt runs was found in the repository (its grants are in `values`). */
  commandRead?: boolean;
}

/**
 * Tool reach of an agent action given its `with:` inputs: defaults (or, in agent mode, the agent-mode
 * defaults), then wideners, then narrowers (a narrower anywhere wins, as deny rules do). `extras` are
 * values its CLI reads from the repository: they go through the CLI's wideners and narrowers, and
 * through the action's own where they stand for one of its inputs (`.gemini/settings.json` for
 * run-gemini-cli's `settings`).
 */
export function actionToolReach(action: AgentAction, inputs: Record<string, string>, extras?: CliExtras): ToolReach {
  // A prompt that runs a custom slash command (`/triage-issue …`) gets the tools the command's file
  // allows: when that file is not in the repository, keep the wider defaults.
  const runsCommand = (action.agentModeInputs ?? []).some((n) => /^\s*\/[\w:-]+/.test(inputValue(inputs, n) ?? ''));
  const agentMode = action.agentModeDefaults && !actionReadsThread(action, inputs) && (!runsCommand || !!extras?.commandRead);
  const reach: ToolReach = { ...(agentMode ? action.agentModeDefaults! : action.defaults) };
  const values = extras?.values ?? [];
  const apply = (list: ToolWidener[] | undefined, fn: (r: ToolReach, g: Partial<ToolReach>) => void) => {
    for (const w of list ?? []) {
      const value = inputValue(inputs, w.input);
      const re = regexFor(w.pattern);
      if ((value !== undefined && re.test(value)) || values.some((v) => v.as === w.input && re.test(v.value))) fn(reach, w.grants);
    }
  };
  apply(action.toolWideners, widen);
  if (extras) widenByValues(reach, extras.cli, values);
  apply(action.toolNarrowers, narrow);
  if (extras) applyValues(reach, extras.cli.toolNarrowers, values, narrow);
  return reach;
}

/** The CLI's wideners (and bypasses) over values read from the repository. */
function widenByValues(reach: ToolReach, cli: AgentCli, values: CliValue[]): void {
  if (valueBypasses(cli, values)) widen(reach, { shell: 'full', network: true, writesFiles: true });
  applyValues(reach, cli.toolWideners, values, widen);
}

function applyValues(reach: ToolReach, list: ToolWidener[] | undefined, values: CliValue[], fn: (r: ToolReach, g: Partial<ToolReach>) => void): void {
  for (const w of list ?? []) {
    const re = regexFor(w.pattern);
    if (values.some((v) => v.as === w.input && re.test(v.value))) fn(reach, w.grants);
  }
}

/** A value equal to a bypass flag's (`defaultMode: bypassPermissions` for `--permission-mode=bypassPermissions`). */
function valueBypasses(cli: AgentCli, values: CliValue[]): boolean {
  return cli.bypassFlags.some((b) => {
    const eq = b.indexOf('=');
    if (eq < 0) return false;
    const name = b.slice(0, eq);
    const want = b.slice(eq + 1).toLowerCase();
    return values.some((v) => v.as === name && v.value.trim().toLowerCase() === want);
  });
}

/** Whether the model key is within the agent's reach (`keyHandling: process`, or a key widener matched). */
export function actionKeyInProcess(action: AgentAction, inputs: Record<string, string>): boolean {
  if (action.keyHandling === 'process') return true;
  return (action.keyWideners ?? []).some((w) => {
    const value = inputValue(inputs, w.input);
    return value !== undefined && regexFor(w.pattern).test(value);
  });
}

/**
 * Inputs the pinned major version no longer has (`removedInputs`): `owner/action@v1`, `@v1.2.0` or
 * `@1.2` name it; a commit SHA or a branch does not, and then every input counts.
 */
export function droppedInputs(action: AgentAction, uses: string): Set<string> {
  const major = /@v?(\d+)(?:\.\d+)*$/.exec(uses.trim())?.[1];
  if (major === undefined || !action.removedInputs) return new Set();
  return new Set(action.removedInputs.filter((r) => Number(major) >= Number(r.since.slice(1))).flatMap((r) => r.inputs));
}

/** Whether the action fetches the issue/PR thread itself with these inputs. */
export function actionReadsThread(action: AgentAction, inputs: Record<string, string>): boolean {
  if (action.readsThread === 'always') return true;
  if (action.readsThread === 'never') return false;
  const modeInputs = action.agentModeInputs ?? action.promptInputs;
  const forced = (action.threadInputs ?? []).some((n) => {
    const value = (inputValue(inputs, n) ?? '').trim();
    return value !== '' && !value.split('\n').every((v) => /^false$/i.test(v.trim()));
  });
  return forced || !modeInputs.some((n) => (inputValue(inputs, n) ?? '').trim() !== '');
}

/**
 * Tool reach of a CLI invocation: defaults; a bypass flag or env gives everything; then tool-flag and
 * env wideners; then narrowers. `env` is the environment visible to the step (its `env:` and inherited
 * job/workflow env); the invocation's own assignments and earlier exports take precedence. `values`
 * are settings and slash-command grants read from the repository.
 */
export function cliToolReach(inv: CliInvocation, env: Record<string, string> = {}, values: CliValue[] = []): ToolReach {
  const cli = inv.cli;
  const reach: ToolReach = { ...cli.defaults };
  const allEnv = { ...env, ...inv.exportedEnv, ...inv.envAssignments };
  const bypass = inv.bypass.length > 0 || bypassFromEnv(cli, allEnv).length > 0 || valueBypasses(cli, values);
  if (bypass) widen(reach, { shell: 'full', network: true, writesFiles: true });
  const flags = parseArgs(cli, inv.args).flags;
  const apply = (list: ToolWidener[] | undefined, fn: (r: ToolReach, g: Partial<ToolReach>) => void) => {
    for (const w of list ?? []) {
      const re = regexFor(w.pattern);
      if (w.input.startsWith('-')) {
        for (const f of flags) if (f.name === w.input && re.test(f.value ?? '')) fn(reach, w.grants);
      } else {
        const value = allEnv[w.input];
        if (value !== undefined && re.test(value)) fn(reach, w.grants);
      }
    }
  };
  apply(cli.toolWideners, widen);
  applyValues(reach, cli.toolWideners, values, widen);
  if (!bypass) {
    apply(cli.toolNarrowers, narrow);
    applyValues(reach, cli.toolNarrowers, values, narrow);
  }
  return reach;
}

/** Bypass environment settings (`GOOSE_MODE=auto`) present in `env`, as `NAME=value` strings. */
export function bypassFromEnv(cli: AgentCli, env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const b of cli.bypassEnv ?? []) {
    const value = env[b.name];
    if (value !== undefined && b.values.some((v) => v.toLowerCase() === value.trim().toLowerCase())) out.push(`${b.name}=${value.trim()}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// CLI arguments.

interface ParsedFlag {
  name: string;
  value?: string;
}

interface ParsedArgs {
  flags: ParsedFlag[];
  positionals: string[];
}

export function flagTakesValue(cli: AgentCli, name: string): boolean {
  return !!(cli.valueFlags?.includes(name) || cli.toolFlags?.includes(name) || cli.bypassFlags.some((b) => b.startsWith(`${name}=`)));
}

function parseArgs(cli: AgentCli, args: string[]): ParsedArgs {
  const flags: ParsedFlag[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.length > 1 && a.startsWith('-') && !/^-\d/.test(a)) {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      if (eq > 0) {
        flags.push({ name: a.slice(0, eq), value: a.slice(eq + 1) });
      } else if (flagTakesValue(cli, a) && i + 1 < args.length) {
        flags.push({ name: a, value: args[i + 1] });
        i++;
      } else {
        flags.push({ name: a });
      }
      continue;
    }
    positionals.push(a);
  }
  return { flags, positionals };
}

function startsWithWords(positionals: string[], entry: string): boolean {
  const words = entry.split(' ');
  return words.every((w, i) => positionals[i] === w);
}

/** Decides whether a matched CLI with these arguments is an agent run; returns its run details or null. */
/** Whether a matched command is an agent run, and with which bypasses and tools; null when it only prints or configures. */
export function classifyInvocation(cli: AgentCli, args: string[], env: Record<string, string>, exported: Record<string, string>): { bypass: string[]; tools: string[]; subcommand?: string; subWords: number } | null {
  const { flags, positionals } = parseArgs(cli, args);
  if (cli.infoFlags && flags.some((f) => cli.infoFlags!.includes(f.name))) return null;
  if (cli.nonRunSubcommands?.some((s) => startsWithWords(positionals, s))) return null;
  let subcommand: string | undefined;
  if (cli.subcommands || cli.requiredFlags) {
    subcommand = cli.subcommands?.filter((s) => startsWithWords(positionals, s)).sort((a, b) => b.length - a.length)[0];
    const flagged = cli.requiredFlags?.some((r) => flags.some((f) => f.name === r)) ?? false;
    if (!subcommand && !flagged) return null;
  }
  const bypass: string[] = [];
  for (const b of cli.bypassFlags) {
    const eq = b.indexOf('=');
    const name = eq > 0 ? b.slice(0, eq) : b;
    const want = eq > 0 ? b.slice(eq + 1).toLowerCase() : undefined;
    if (flags.some((f) => f.name === name && (want === undefined || (f.value ?? '').trim().replace(/^["']|["']$/g, '').toLowerCase() === want))) bypass.push(b);
  }
  bypass.push(...bypassFromEnv(cli, { ...exported, ...env }));
  const tools = flags.filter((f) => cli.toolFlags?.includes(f.name) && f.value !== undefined).map((f) => f.value!);
  return { bypass, tools, subcommand, subWords: subcommand ? subcommand.split(' ').length : 0 };
}
