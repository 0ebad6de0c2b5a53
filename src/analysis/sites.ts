// Agent sites: every place an agent runs (an agent action, or an agent CLI inside a `run:` script),
// with every channel through which text reaches it (prompt and config inputs, its environment, the
// script that builds its prompt, files, the thread it fetches itself, the checked-out workspace) and
// what it holds there.

import { inputOf } from '../workflow/model';
import { findTemplates, referencesOf } from '../workflow/expression';
import type { SourceFile, YScalar } from '../workflow/yaml';
import { locateInScalar } from '../workflow/yaml';
import { actionKeyInProcess, actionReadsThread, actionToolReach, cliById, cliToolReach, droppedInputs, matchAgentAction, type CliInvocation } from './agents';
import { actionInstructions, cliInstructions, namesFile, resolvedInvocations, type Instructions } from './instructions';
import type { ProjectCommand } from './projectConfig';
import type { RuntimeFetch } from './shell';
import { findCliInvocations } from './shellScanner';
import { capabilitiesAt, type Capabilities } from './capabilities';
import { checksOutPrCode, type Denotes } from './checkouts';
import { resolveText } from './literal';
import { hopAt, type StepInstance } from './instances';
import type { ActorGate } from './reach';
import type { AgentAction, AgentApi, AgentCli, ToolReach } from './ruleTypes';
import { findApiCalls, type ApiCall } from './apiCalls';
import type { Entry } from '../workflow/model';
import { runtimeFetch, scriptFacts } from './shell';
import { fetchTaint, githubScriptTaint, type Taint, type TaintEngine } from './taint';

export type ChannelKind = 'prompt' | 'config' | 'env' | 'script' | 'file' | 'thread' | 'fetch' | 'workspace';

export interface Channel {
  kind: ChannelKind;
  /** e.g. `input prompt`, `env ISSUE_BODY`, `instruction files (CLAUDE.md, AGENTS.md, …)`. */
  name: string;
  taints: Taint[];
  /** How sure we are that text in this channel steers the agent. */
  confidence: 'high' | 'medium' | 'low';
}

export interface AgentSite {
  step: StepInstance;
  file: SourceFile;
  /** Offset of the `uses:` value or the command word. */
  offset: number;
  agentName: string;
  action?: AgentAction;
  cli?: AgentCli;
  /** A model or hosted agent called over HTTP. */
  api?: AgentApi;
  channels: Channel[];
  capabilities: Capabilities;
  actorGate?: ActorGate;
  /** The action's actor check was switched off by this input (e.g. `allowed_non_write_users`). */
  gateWidenedBy?: GateWidening;
  /** Text of the prompt (for finding env vars and files it names). */
  promptText: string;
  /** The repository's slash command it runs (`.claude/commands/dedupe.md`). */
  command?: ProjectCommand;
}

const DENOTES: Record<Denotes, string> = {
  'head-commit': "the pull request's head commit",
  'head-repo': "the pull request's head repository",
  'pr-ref': "the pull request's ref",
  'head-branch': "the head branch's name",
  'upstream-run': 'the upstream run',
};
const FETCH_PR_IN_SHELL = /\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n]*\bpull\/|\bgit\s+(checkout|switch)\b[^\n]*\$\{\{\s*github\.event\.(pull_request\.head|workflow_run\.head)/;

export interface GateWidening {
  input: string;
  value: string;
  node: YScalar | undefined;
  effect: 'anyone' | 'bots';
  /** Set when the widener has no effect yet because the input it needs is missing (e.g. `github_token`). */
  inertWithout?: string;
}

export function findAgentSites(step: StepInstance, engine: TaintEngine): AgentSite[] {
  const out: AgentSite[] = [];
  const uses = step.step.uses;
  if (uses) {
    const action = matchAgentAction(uses.text);
    if (action) out.push(actionSite(step, uses, action, engine));
  }
  out.push(...apiSites(step, engine));
  // `run:` scripts, and the agent-guard Action's `run` input in `mode: run` (always jailed).
  const script = step.step.run ?? guardActionScript(step);
  if (script && mayInvokeAgent(script.text, engine)) {
    const underAction = script !== step.step.run;
    const { masked, jailedFrom } = maskGuardWrapper(script.text);
    for (const invocation of findCliInvocations(masked)) {
      const wrapper = jailedFrom.find((j) => j.start <= invocation.start && invocation.start <= j.lineEnd);
      const jailed = underAction || !!wrapper;
      const grants = underAction ? guardGrantsInput(step) : (wrapper?.grants ?? []);
      out.push(cliSite(step, script, invocation, engine, jailed, grants));
    }
  }
  return out;
}

/** Models and agents a `run:` script or a github-script calls over HTTP (`apis` in rules/agents.yml). */
function apiSites(step: StepInstance, engine: TaintEngine): AgentSite[] {
  const apis = engine.agentsData.apis ?? [];
  const github = /^actions\/github-script@/i.test(step.step.uses?.text ?? '') ? inputOf(step.step.with, 'script') : undefined;
  const script = step.step.run ?? (github?.value.kind === 'scalar' ? github.value : undefined);
  if (!script || !apis.length) return [];
  return findApiCalls(script.text, apis).map((call) => apiSite(step, script, call, github, engine));
}

function apiSite(step: StepInstance, script: YScalar, call: ApiCall, github: Entry | undefined, engine: TaintEngine): AgentSite {
  const scope = { job: step.job, step };
  const api = call.api;
  const text = script.text;
  const channels: Channel[] = [];
  let promptText: string;
  if (github) {
    // The request body is built from whatever the script read: the event payload, a fetched thread.
    promptText = text;
    channels.push({ kind: 'script', name: 'the github-script that builds its request', taints: [...githubScriptTaint(step, github), ...engine.ofNode(script, step.file, scope)], confidence: 'high' });
  } else {
    promptText = text.slice(0, commandEnd(text, call.start));
    channels.push({ kind: 'script', name: 'the run script that builds its request', taints: engine.shellText(promptText, script, 0, scope), confidence: 'high' });
  }
  channels.push(...envChannels(step, engine, promptText));
  for (const file of engine.taintedFiles(step)) {
    if (namesFile(promptText, file.path)) channels.push({ kind: 'file', name: `file ${file.path}`, taints: file.taints, confidence: 'medium' });
  }
  const offset = locateInScalar(step.file, script, call.start, call.end - call.start);
  if (api.readsThread) {
    channels.push({
      kind: 'thread',
      name: 'the issue or pull request it is handed',
      taints: [{ origin: { kind: 'thread', role: 'thread', events: null, what: 'the issue/PR thread (title, body, comments)' }, hops: [hopAt(step.file, offset, `${api.name} works on the issue it is handed and reads it`)] }],
      confidence: 'high',
    });
  }
  const capabilities = capabilitiesAt(step, { keyEnv: [], keyInProcess: false }, NO_TOOLS, false);
  return {
    step,
    file: step.file,
    offset,
    agentName: api.name,
    api,
    channels: channels.filter((c) => c.taints.length),
    capabilities: api.kind === 'agent' ? { ...capabilities, remoteAgent: api.acts } : capabilities,
    promptText,
  };
}

/** A model called over HTTP has no tools of its own: the script that called it holds the rest. */
const NO_TOOLS: ToolReach = { shell: 'none', network: false, writesFiles: false };

/** agent-guard's own Action: known, and its `run` input is analysed as a jailed agent. */
export function isAgentGuardAction(uses: string): boolean {
  return /^[\w.-]+\/agent-guard(@|$)/i.test(uses.trim());
}

/** `uses: <owner>/agent-guard@…` with `mode: run`: its `run` input is a script run in the jail. */
function guardActionScript(step: StepInstance): YScalar | undefined {
  if (!isAgentGuardAction(step.step.uses?.text ?? '')) return undefined;
  if ((inputOf(step.step.with, 'mode')?.text.trim() ?? 'lint') !== 'run') return undefined;
  const run = inputOf(step.step.with, 'run')?.value;
  return run?.kind === 'scalar' ? run : undefined;
}

/** The `grants` input of an agent-guard Action step, one grant per line. */
function guardGrantsInput(step: StepInstance): string[] {
  const text = inputOf(step.step.with, 'grants')?.text ?? '';
  return text.split('\n').map((l) => l.replace(/(^|\s)#.*$/, '').trim()).filter(Boolean);
}

/** `--grant X` / `--grant=X` words of an `agent-guard run … --` command line. */
function grantsInCommand(text: string): string[] {
  return [...text.matchAll(/--grant(?:=|\s+)(?:'([^']*)'|"([^"]*)"|(\S+))/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The grants of the agent-guard `mode: wrap` step that installed the wrapper an agent action uses. */
function wrapperGrants(step: StepInstance): string[] {
  const wrap = step.job.steps.find(
    (s) => s.position < step.position && /^[\w.-]+\/agent-guard(@|$)/i.test(s.step.uses?.text ?? '') && inputOf(s.step.with, 'mode')?.text.trim() === 'wrap',
  );
  return wrap ? guardGrantsInput(wrap) : [];
}

/**
 * An agent action whose `wrapperInput` (claude-code-action's path_to_claude_code_executable,
 * ai-inference's copilot-cli-path) points at the wrapper `agent-guard wrap` installs, directly or
 * through the Action's `claude-wrapper`/`copilot-wrapper` output: the agent runs jailed.
 */
function runsWrapped(step: StepInstance, action: AgentAction): boolean {
  if (!action.wrapperInput) return false;
  const path = inputOf(step.step.with, action.wrapperInput)?.text ?? '';
  return /agent-guard|(?:claude|copilot)-wrapper/.test(path);
}

const agentWords = new WeakMap<object, RegExp>();

/** A cheap pre-check before tokenising a script: does any agent command or package name occur at all? */
function mayInvokeAgent(script: string, engine: TaintEngine): boolean {
  const data = engine.agentsData;
  let words = agentWords.get(data);
  if (!words) {
    const all = data.clis.flatMap((c) => [...c.commands, ...(c.packages ?? []), ...(c.modules ?? [])]).map((w) => w.split(/\s+/)[0]);
    const alternatives = [...new Set(all)].map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
    // Whole words only: `q`, `cn` and `agent` are commands too.
    words = new RegExp(`(?:^|[^\\w@.-])(?:${alternatives})(?![\\w-])`, 'm');
    agentWords.set(data, words);
  }
  return words.test(script);
}

const GUARD_WRAPPER = /(?:\b(?:npx|bunx|pnpm\s+dlx|yarn\s+dlx)\s+(?:(?:-y|--yes)\s+)?)?(?:[\w./-]*\/)?agent-guard(?:@[\w.^~-]+)?\s+run\b[^\n]*?\s--\s/g;

/**
 * `agent-guard run [options] -- claude -p ...`: blank the wrapper (keeping offsets) so the agent
 * command is found, and remember that it runs in the jail.
 */
function maskGuardWrapper(script: string): { masked: string; jailedFrom: { start: number; lineEnd: number; grants: string[] }[] } {
  const jailedFrom: { start: number; lineEnd: number; grants: string[] }[] = [];
  if (!script.includes('agent-guard')) return { masked: script, jailedFrom };
  const masked = script.replace(GUARD_WRAPPER, (match, offset: number) => {
    const lineEnd = script.indexOf('\n', offset);
    jailedFrom.push({ start: offset, lineEnd: lineEnd === -1 ? script.length : lineEnd, grants: grantsInCommand(match) });
    return ' '.repeat(match.length);
  });
  return { masked, jailedFrom };
}

/** End of the command that starts at `start`: the line, continued by `\` or by an open quote. */
function commandEnd(script: string, start: number): number {
  let quote: string | null = null;
  for (let i = start; i < script.length; i++) {
    const c = script[i];
    if (c === '\\' && quote !== "'") {
      i++;
      continue;
    }
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '\n') return i;
  }
  return script.length;
}

function actionSite(step: StepInstance, uses: YScalar, action: AgentAction, engine: TaintEngine): AgentSite {
  const scope = { job: step.job, step };
  const channels: Channel[] = [];
  const dropped = droppedInputs(action, uses.text);
  const input = (name: string) => (dropped.has(name) ? undefined : inputOf(step.step.with, name));
  const promptParts: string[] = [];
  for (const name of action.promptInputs) {
    const entry = input(name);
    if (!entry) continue;
    promptParts.push(entry.text);
    channels.push({ kind: 'prompt', name: `input ${name}`, taints: engine.ofNode(entry.value, step.file, scope), confidence: 'high' });
  }
  const prompts = [...promptParts];
  const configInputs = new Set([...(action.configInputs ?? []), ...(action.toolWideners ?? []).map((w) => w.input)]);
  for (const name of configInputs) {
    const entry = input(name);
    if (!entry || action.promptInputs.includes(name)) continue;
    promptParts.push(entry.text);
    channels.push({ kind: 'config', name: `input ${name}`, taints: engine.ofNode(entry.value, step.file, scope), confidence: 'high' });
  }
  const promptFiles: string[] = [];
  for (const name of action.promptFileInputs ?? []) {
    const entry = input(name);
    if (!entry) continue;
    promptFiles.push(entry.text);
    channels.push(fileChannel(step, engine, entry.text, `file named by input ${name}`));
  }
  const cli = action.cli ? cliById(action.cli) : undefined;
  const told = actionInstructions(step, cli, prompts, promptFiles, engine, (name) => !!input(name)?.text.trim());
  const promptText = [...promptParts, told.extra].join('\n');
  channels.push(...envChannels(step, engine, promptText));
  const inputs = inputRecord(step, dropped);
  if (actionReadsThread(action, inputs)) {
    channels.push({
      kind: 'thread',
      name: 'the issue or pull request thread it fetches itself',
      taints: [{ origin: { kind: 'thread', role: 'thread', events: null, what: 'the issue/PR thread (title, body, comments)' }, hops: [hopAt(step.file, uses.start, `${action.name} fetches the issue/PR thread into its prompt`)] }],
      confidence: 'high',
    });
  }
  // Only the prompt is an instruction to fetch; a tool allowlist is a capability, not an intent.
  const fetch = runtimeFetch(told.text);
  if (fetch) channels.push({ kind: 'fetch', name: 'text its prompt tells it to fetch', taints: [fetchTaint(fetch, hopAt(step.file, uses.start, `its prompt tells it to read ${fetch.what}`))], confidence: 'medium' });
  for (const file of engine.taintedFiles(step)) {
    if (promptText.includes(file.path)) channels.push({ kind: 'file', name: `file ${file.path} its prompt names`, taints: file.taints, confidence: 'high' });
  }
  channels.push(...workspaceChannels(step));

  const tools = withRunnerNetwork(actionToolReach(action, inputs, cli ? { cli, values: told.values, commandRead: !!told.command } : undefined));
  // Commands in its prompt files or slash command were read above with the prompt (`fetch`).
  channels.push(...toldToRead(step, uses.start, told, tools, engine, false));
  const widened = gateWidener(action, step);
  const gate = action.gate;
  const actorGate: ActorGate | undefined =
    gate.kind === 'write-access' && !(widened && widened.effect === 'anyone' && !widened.inertWithout)
      ? { enforcedOn: (event) => !(gate.skippedOn ?? []).includes(event), description: `${action.name}'s own write-access check` }
      : undefined;
  const keyEnv = cli?.keyEnv ?? [];
  return {
    step,
    file: step.file,
    offset: uses.start,
    agentName: action.name,
    action,
    channels: channels.filter((c) => c.taints.length),
    capabilities: wrappedCapabilities(step, { action, keyEnv, keyInProcess: actionKeyInProcess(action, inputs) }, tools, runsWrapped(step, action)),
    actorGate,
    gateWidenedBy: widened,
    promptText,
    command: told.command,
  };
}

/**
 * Channels through which an agent with tools that can fetch reads what it is pointed at: the issue
 * its prompt names (`#${{ github.event.issue.number }}`), commands in its prompt files or slash command
 * (`gh issue view`), or a sentence that sends it to the open issues ("List open issues and label them").
 */
function toldToRead(step: StepInstance, offset: number, told: Instructions, tools: ToolReach, engine: TaintEngine, commandsInExtra: boolean): Channel[] {
  if (!canFetch(tools, step)) return [];
  const out: Channel[] = [];
  const pointed = pointsAtThread(told.text, step);
  if (pointed) out.push(workedOnThread(step, offset, pointed, told.command));
  const fetch = commandsInExtra ? runtimeFetch(told.extra) : null;
  const read = fetch ?? promptRead(told.text, engine);
  if (read) out.push({ kind: 'fetch', name: 'text its prompt tells it to fetch', taints: [fetchTaint(read, hopAt(step.file, offset, `${told.command ? `its command ${told.command.name} (${told.command.file})` : 'its prompt'} tells it to read ${read.what}`))], confidence: 'medium' });
  return out;
}

function gateWidener(action: AgentAction, step: StepInstance): AgentSite['gateWidenedBy'] {
  for (const w of action.gate.wideners ?? []) {
    const entry = inputOf(step.step.with, w.input);
    const value = entry?.text.trim() ?? '';
    if (!entry || !value || /^false$/i.test(value)) continue;
    // A list of logins the maintainers trust (config trusted-users / trusted-bots) opens nothing.
    const listed = value.split(/[\s,]+/).filter(Boolean).map((v) => v.toLowerCase());
    const trust = step.job.trust;
    if (value !== '*' && listed.length && listed.every((l) => trust.users.has(l) || trust.bots.has(l))) continue;
    if (w.enablingValues && !w.enablingValues.some((v) => v.toLowerCase() === value.toLowerCase())) continue;
    const inert = w.requiresInput && !inputOf(step.step.with, w.requiresInput)?.text.trim() ? w.requiresInput : undefined;
    return { input: w.input, value, node: entry.value.kind === 'scalar' ? entry.value : undefined, effect: w.effect, inertWithout: inert };
  }
  return undefined;
}

function wrappedCapabilities(step: StepInstance, agent: Parameters<typeof capabilitiesAt>[1], tools: Parameters<typeof capabilitiesAt>[2], jailed: boolean): Capabilities {
  return capabilitiesAt(step, agent, tools, jailed, jailed ? wrapperGrants(step) : []);
}

function cliSite(step: StepInstance, run: YScalar, invocation: CliInvocation, engine: TaintEngine, jailed: boolean, grants: string[]): AgentSite {
  const scope = { job: step.job, step };
  const cli = invocation.cli;
  const script = run.text;
  // The prompt is built by the script up to the end of the invocation.
  const upTo = script.slice(0, commandEnd(script, invocation.start));
  const told = cliInstructions(step, { key: run, text: script }, invocation, upTo, engine);
  const channels: Channel[] = [];
  channels.push({ kind: 'script', name: 'the run script that builds its prompt', taints: engine.shellText(upTo, run, 0, scope), confidence: 'high' });
  channels.push(...envChannels(step, engine, told.text));
  const facts = scriptFacts(run, run.text);
  for (const file of engine.taintedFiles(step)) {
    if (namesFile(told.text, file.path) && !facts.files.some((f) => f.path === file.path && f.offset < invocation.start)) {
      channels.push({ kind: 'file', name: `file ${file.path}`, taints: file.taints, confidence: 'medium' });
    }
  }
  channels.push(...workspaceChannels(step));
  const env = stepEnvText(step);
  const tools = withRunnerNetwork(widest(resolvedInvocations(invocation, step).map((inv) => cliToolReach(inv, env, told.values))));
  channels.push(...toldToRead(step, run.start, told, tools, engine, true));
  const offset = locateInScalar(step.file, run, invocation.start, Math.max(1, invocation.end - invocation.start));
  return {
    step,
    file: step.file,
    offset,
    agentName: cli.name,
    cli,
    channels: channels.filter((c) => c.taints.length),
    capabilities: capabilitiesAt(step, { cli, keyEnv: cli.keyEnv }, tools, jailed, grants),
    promptText: told.text,
    command: told.command,
  };
}

/**
 * A sentence in the prompt that sends the agent to read issues or pull requests anyone can write
 * (rules/sources.yml `promptReads`). A sentence that filters by a label reads what a maintainer labelled.
 */
function promptRead(text: string, engine: TaintEngine): RuntimeFetch | null {
  for (const line of text.split('\n')) {
    for (const read of engine.sourcesData.promptReads ?? []) {
      if (!regexFor(read.pattern).test(line)) continue;
      const labelGated = /\b(?:with|having|carrying)\s+(?:the\s+)?labels?\b|\blabell?ed\s+["'`]/i.test(line);
      return { what: labelGated ? `${read.what} (filtered to a maintainer-applied label)` : read.what, labelGated };
    }
  }
  return null;
}

const regexes = new Map<string, RegExp>();
function regexFor(pattern: string): RegExp {
  let re = regexes.get(pattern);
  if (!re) regexes.set(pattern, (re = new RegExp(pattern, 'i')));
  return re;
}

/** The most any of several readings of an invocation allows (one per resolved form of its arguments). */
function widest(reaches: ToolReach[]): ToolReach {
  const order = { none: 0, restricted: 1, full: 2 } as const;
  return reaches.reduce((a, b) => ({
    shell: order[b.shell] > order[a.shell] ? b.shell : a.shell,
    network: a.network || b.network,
    writesFiles: a.writesFiles || b.writesFiles,
  }));
}

/** Literal env values a step sees (workflow, then job, then step: inner wins). */
function stepEnvText(step: StepInstance): Record<string, string> {
  const out: Record<string, string> = {};
  for (const layer of [step.job.workflow.env, step.job.job.env, step.step.env]) for (const e of layer) out[e.name] = e.text;
  return out;
}

/**
 * The step's inputs as the action receives them where the workflow says (`claude_args: ${{ env.ARGS }}`
 * is the env's text); a value with several candidates lists each on its own line.
 */
function inputRecord(step: StepInstance, dropped: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of step.step.with) if (!dropped.has(w.name)) out[w.name] = w.value.kind === 'scalar' ? resolveText(w.text, { job: step.job, step }).join('\n') : w.text;
  return out;
}

const THREAD_IDENTITY = /^github\.event\.(issue\.(number|html_url|url)|pull_request\.(number|html_url|url)|number|discussion\.(number|html_url)|comment\.html_url)$/;

/**
 * The prompt names the issue or pull request to work on: the event's (`#${{ github.event.issue.number }}`),
 * or one an earlier step picked from a listing of open issues (`${{ steps.pick.outputs.number }}` where
 * `pick` runs `gh issue list`). Picked from a label-filtered listing, a maintainer chose it.
 */
function pointsAtThread(text: string, step: StepInstance): { what: string; labelGated: boolean; from?: string } | null {
  if (!text.includes('${{')) return null;
  let picked: { what: string; labelGated: boolean; from?: string } | null = null;
  for (const t of findTemplates(text)) {
    for (const r of referencesOf(t.inner) ?? []) {
      if (THREAD_IDENTITY.test(r.path)) return { what: 'the issue or pull request it is told to work on (it fetches the thread with its tools)', labelGated: false };
      const listing: { from: string; labelGated: boolean; passed?: boolean } | null = picked ? null : pickedFromListing(r.path, step);
      if (listing) {
        const how: string = listing.passed ? 'passes on from the event' : 'picked from a listing';
        picked = { what: `the issue or pull request ${listing.from} ${how} (it fetches the thread with its tools)`, labelGated: listing.labelGated, from: `${listing.from} ${how}` };
      }
    }
  }
  return picked;
}

const LISTS_THREADS = /\bgh\s+(?:issue|pr)\s+list\b|\bgh\s+search\s+(?:issues|prs)\b|\bgh\s+api\b[^\n]*\/(?:issues|pulls)\b|\b(?:issues|pulls)\.(?:listForRepo|list)\b|\bsearch\.issuesAndPullRequests\b/;

/** `steps.X.outputs.Y` / `needs.J.outputs.Y` produced by a step that lists issues or pull requests. */
function pickedFromListing(path: string, step: StepInstance): { from: string; labelGated: boolean; passed?: boolean } | null {
  const parts = path.split('.');
  if (parts[2] !== 'outputs' || !parts[1]) return null;
  let producers: StepInstance[] = [];
  let from = '';
  if (parts[0] === 'steps') {
    producers = step.siblings.filter((s) => s.step.id === parts[1]);
    from = `step '${parts[1]}'`;
  } else if (parts[0] === 'needs') {
    producers = step.job.needs.find((j) => j.job.id === parts[1])?.steps ?? [];
    from = `job '${parts[1]}'`;
  }
  for (const producer of producers) {
    const code = producer.step.run?.text ?? inputOf(producer.step.with, 'script')?.text ?? '';
    const line = code.split('\n').find((l) => LISTS_THREADS.test(l));
    if (line) return { from, labelGated: /\s(?:--label|-l)[=\s]|\blabels\s*:/.test(line) };
    // A step that passes the event's own issue or pull request number along (`ISSUE: ${{ github.event.issue.number }}`).
    const given = [...producer.step.env, ...producer.step.with].map((e) => e.text).join('\n');
    if (given.includes('${{') && findTemplates(given).some((t) => (referencesOf(t.inner) ?? []).some((r) => THREAD_IDENTITY.test(r.path)))) return { from, labelGated: false, passed: true };
  }
  return null;
}

/** Tools that can fetch an issue: a shell (gh), the network, or a GitHub token the action uses for its tools. */
function canFetch(tools: ToolReach, step: StepInstance): boolean {
  return tools.shell !== 'none' || tools.network || (tools.writesFiles && step.step.with.some((w) => /token/i.test(w.name)));
}

/** An agent told to work on issue #N reads that issue, written by whoever opened it. */
function workedOnThread(step: StepInstance, offset: number, fetch: { what: string; labelGated: boolean; from?: string }, command?: ProjectCommand): Channel {
  const note = fetch.from ? `its prompt names the issue or pull request ${fetch.from}${fetch.labelGated ? ' (by a maintainer-applied label)' : ''}` : 'its prompt names the issue or pull request to work on';
  const taint = fetchTaint(fetch, hopAt(step.file, offset, note));
  // The tools it fetches with may come from the repository's command file: show where.
  if (command?.grants.length) {
    taint.hops.push({ file: command.shown, line: command.line, column: 1, note: `it runs ${command.name}, which allows ${command.grants.map((g) => g.value).join(', ')}` });
  }
  return { kind: 'fetch', name: 'the issue or pull request its prompt points at', taints: [taint], confidence: 'medium' };
}

/** A shell on a runner reaches the internet unless something (the guard) takes the network away. */
function withRunnerNetwork(reach: ToolReach): ToolReach {
  return reach.shell === 'full' ? { ...reach, network: true } : reach;
}

/**
 * Tainted variables in the agent's environment. Env-var indirection protects a shell, not a prompt:
 * the agent can read its environment, and a prompt that names the variable hands the text over.
 */
function envChannels(step: StepInstance, engine: TaintEngine, promptText: string): Channel[] {
  return engine
    .visibleEnv(step)
    .filter((e) => e.taints.length)
    .map((e) => {
      const named = mentionsName(promptText, e.name);
      return { kind: 'env' as const, name: `env ${e.name}`, taints: e.taints, confidence: named ? ('high' as const) : ('medium' as const) };
    });
}

function fileChannel(step: StepInstance, engine: TaintEngine, path: string, name: string): Channel {
  const match = engine.taintedFiles(step).filter((f) => f.path === path.trim() || path.includes(f.path));
  return { kind: 'file', name, taints: match.flatMap((m) => m.taints), confidence: 'high' };
}

/**
 * A checkout of the pull request's code (or a download of a fork run's artifacts) before the agent:
 * the outsider now writes the agent's instruction files (CLAUDE.md, AGENTS.md, .mcp.json, …).
 */
export function workspaceChannels(step: StepInstance): Channel[] {
  const out: Channel[] = [];
  for (const earlier of step.job.steps) {
    if (earlier.position >= step.position) break;
    const uses = earlier.step.uses?.text ?? '';
    if (/^actions\/checkout@/i.test(uses)) {
      const hit = checksOutPrCode(earlier);
      if (hit) {
        // The head of a workflow_run's upstream run is whoever triggered that run's (a fork's, or a writer's).
        out.push(workspace(step, earlier, hit.input.keyNode.start, `checks out the pull request's code (${hit.input.name}: ${hit.input.text.trim()}, ${DENOTES[hit.denotes]})`, hit.upstreamRun ? 'workflow_run' : 'pull_request'));
      }
    } else if (/^actions\/download-artifact@|^dawidd6\/action-download-artifact@/i.test(uses)) {
      out.push(workspace(step, earlier, earlier.step.uses!.start, 'downloads artifacts a fork-triggered run may have produced', 'workflow_run', true));
    } else if (earlier.step.run && FETCH_PR_IN_SHELL.test(earlier.step.run.text)) {
      out.push(workspace(step, earlier, earlier.step.run.start, "fetches and checks out the pull request's code", 'pull_request'));
    }
  }
  return out;
}

/** `artifacts`: files a run may have produced (less sure than a checkout of the head itself). */
function workspace(step: StepInstance, earlier: StepInstance, offset: number, note: string, role: 'pull_request' | 'workflow_run', artifacts = false): Channel {
  const events = artifacts ? ['workflow_run'] : null;
  return {
    kind: 'workspace',
    name: 'instruction and config files in the checked-out workspace',
    taints: [{ origin: { kind: 'fork-checkout', role, events, what: 'pull request code and instruction files' }, hops: [hopAt(earlier.file, offset, `step '${earlier.step.label}' ${note}`)] }],
    confidence: artifacts ? 'medium' : 'high',
  };
}

/** Whether `text` names the variable as a whole word (no regex: names come from the workflow). */
function mentionsName(text: string, name: string): boolean {
  const isWord = (c: string | undefined) => !!c && /[A-Za-z0-9_]/.test(c);
  for (let i = text.indexOf(name); i !== -1; i = text.indexOf(name, i + 1)) {
    if (!isWord(text[i - 1]) && !isWord(text[i + name.length])) return true;
  }
  return false;
}
