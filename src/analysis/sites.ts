// Agent sites: every place an agent runs (an agent action, or an agent CLI inside a `run:` script),
// with every channel through which text reaches it (prompt and config inputs, its environment, the
// script that builds its prompt, files, the thread it fetches itself, the checked-out workspace) and
// what it holds there.

import { inputOf } from '../workflow/model';
import { findTemplates, referencesOf } from '../workflow/expression';
import type { SourceFile, YScalar } from '../workflow/yaml';
import { locateInScalar } from '../workflow/yaml';
import { actionKeyInProcess, actionReadsThread, actionToolReach, cliToolReach, matchAgentAction, type CliInvocation } from './agents';
import { findCliInvocations } from './shellScanner';
import { capabilitiesAt, type Capabilities } from './capabilities';
import { checksOutPrCode, type Denotes } from './checkouts';
import { hopAt, type StepInstance } from './instances';
import type { ActorGate } from './reach';
import type { AgentAction, AgentCli, ToolReach } from './ruleTypes';
import { runtimeFetch, scriptFacts } from './shell';
import { fetchTaint, type Taint, type TaintEngine } from './taint';

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
  channels: Channel[];
  capabilities: Capabilities;
  actorGate?: ActorGate;
  /** The action's actor check was switched off by this input (e.g. `allowed_non_write_users`). */
  gateWidenedBy?: GateWidening;
  /** Text of the prompt (for finding env vars and files it names). */
  promptText: string;
}

const DENOTES: Record<Denotes, string> = {
  'head-commit': "the pull request's head commit",
  'head-repo': "the pull request's head repository",
  'pr-ref': "the pull request's ref",
  'head-branch': "the head branch's name",
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
  // `run:` scripts, and the agent-guard Action's `run` input in `mode: run` (always jailed).
  const script = step.step.run ?? guardActionScript(step);
  if (script && mayInvokeAgent(script.text, engine)) {
    const underAction = script !== step.step.run;
    const { masked, jailedFrom } = maskGuardWrapper(script.text);
    for (const invocation of findCliInvocations(masked)) {
      const jailed = underAction || jailedFrom.some((j) => j.start <= invocation.start && invocation.start <= j.lineEnd);
      out.push(cliSite(step, script, invocation, engine, jailed));
    }
  }
  return out;
}

/** `uses: <owner>/agent-guard@…` with `mode: run`: its `run` input is a script run in the jail. */
function guardActionScript(step: StepInstance): YScalar | undefined {
  const uses = step.step.uses?.text ?? '';
  if (!/^[\w.-]+\/agent-guard(@|$)/i.test(uses)) return undefined;
  if ((inputOf(step.step.with, 'mode')?.text.trim() ?? 'lint') !== 'run') return undefined;
  const run = inputOf(step.step.with, 'run')?.value;
  return run?.kind === 'scalar' ? run : undefined;
}

/**
 * claude-code-action with `path_to_claude_code_executable` pointing at the wrapper `agent-guard wrap
 * claude` installs (directly, or through the Action's `claude-wrapper` output): Claude runs jailed.
 */
function runsWrappedClaude(step: StepInstance): boolean {
  const path = inputOf(step.step.with, 'path_to_claude_code_executable')?.text ?? '';
  return /agent-guard|claude-wrapper/.test(path);
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
function maskGuardWrapper(script: string): { masked: string; jailedFrom: { start: number; lineEnd: number }[] } {
  const jailedFrom: { start: number; lineEnd: number }[] = [];
  if (!script.includes('agent-guard')) return { masked: script, jailedFrom };
  const masked = script.replace(GUARD_WRAPPER, (match, offset: number) => {
    const lineEnd = script.indexOf('\n', offset);
    jailedFrom.push({ start: offset, lineEnd: lineEnd === -1 ? script.length : lineEnd });
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
  const input = (name: string) => inputOf(step.step.with, name);
  const promptParts: string[] = [];
  for (const name of action.promptInputs) {
    const entry = input(name);
    if (!entry) continue;
    promptParts.push(entry.text);
    channels.push({ kind: 'prompt', name: `input ${name}`, taints: engine.ofNode(entry.value, step.file, scope), confidence: 'high' });
  }
  const configInputs = new Set([...(action.configInputs ?? []), ...(action.toolWideners ?? []).map((w) => w.input)]);
  for (const name of configInputs) {
    const entry = input(name);
    if (!entry || action.promptInputs.includes(name)) continue;
    promptParts.push(entry.text);
    channels.push({ kind: 'config', name: `input ${name}`, taints: engine.ofNode(entry.value, step.file, scope), confidence: 'high' });
  }
  const promptText = promptParts.join('\n');
  for (const name of action.promptFileInputs ?? []) {
    const entry = input(name);
    if (entry) channels.push(fileChannel(step, engine, entry.text, `file named by input ${name}`));
  }
  channels.push(...envChannels(step, engine, promptText));
  const inputs = inputRecord(step);
  if (actionReadsThread(action, inputs)) {
    channels.push({
      kind: 'thread',
      name: 'the issue or pull request thread it fetches itself',
      taints: [{ origin: { kind: 'thread', role: 'thread', events: null, what: 'the issue/PR thread (title, body, comments)' }, hops: [hopAt(step.file, uses.start, `${action.name} fetches the issue/PR thread into its prompt`)] }],
      confidence: 'high',
    });
  }
  // Only the prompt is an instruction to fetch; a tool allowlist is a capability, not an intent.
  const fetch = runtimeFetch(promptParts.slice(0, action.promptInputs.filter((n) => input(n)).length).join('\n'));
  if (fetch) channels.push({ kind: 'fetch', name: 'text its prompt tells it to fetch', taints: [fetchTaint(fetch, hopAt(step.file, uses.start, `its prompt tells it to read ${fetch.what}`))], confidence: 'medium' });
  for (const file of engine.taintedFiles(step)) {
    if (promptText.includes(file.path)) channels.push({ kind: 'file', name: `file ${file.path} its prompt names`, taints: file.taints, confidence: 'high' });
  }
  channels.push(...workspaceChannels(step));

  const tools = withRunnerNetwork(actionToolReach(action, inputs));
  if (!channels.some((c) => c.kind === 'thread') && canFetch(tools, step) && pointsAtThread(promptText)) {
    channels.push(workedOnThread(step, uses.start));
  }
  const widened = gateWidener(action, step);
  const gate = action.gate;
  const actorGate: ActorGate | undefined =
    gate.kind === 'write-access' && !(widened && widened.effect === 'anyone' && !widened.inertWithout)
      ? { enforcedOn: (event) => !(gate.skippedOn ?? []).includes(event), description: `${action.name}'s own write-access check` }
      : undefined;
  const cliId = action.cli;
  const keyEnv = cliId ? (engine.agentsData.clis.find((c) => c.id === cliId)?.keyEnv ?? []) : [];
  return {
    step,
    file: step.file,
    offset: uses.start,
    agentName: action.name,
    action,
    channels: channels.filter((c) => c.taints.length),
    capabilities: capabilitiesAt(step, { action, keyEnv, keyInProcess: actionKeyInProcess(action, inputs) }, tools, action.cli === 'claude' && runsWrappedClaude(step)),
    actorGate,
    gateWidenedBy: widened,
    promptText,
  };
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

function cliSite(step: StepInstance, run: YScalar, invocation: CliInvocation, engine: TaintEngine, jailed: boolean): AgentSite {
  const scope = { job: step.job, step };
  const cli = invocation.cli;
  const script = run.text;
  // The prompt is built by the script up to the end of the invocation.
  const upTo = script.slice(0, commandEnd(script, invocation.start));
  const channels: Channel[] = [];
  channels.push({ kind: 'script', name: 'the run script that builds its prompt', taints: engine.shellText(upTo, run, 0, scope), confidence: 'high' });
  channels.push(...envChannels(step, engine, upTo));
  const facts = scriptFacts(run, run.text);
  for (const file of engine.taintedFiles(step)) {
    if (upTo.includes(file.path) && !facts.files.some((f) => f.path === file.path && f.offset < invocation.start)) {
      channels.push({ kind: 'file', name: `file ${file.path}`, taints: file.taints, confidence: 'medium' });
    }
  }
  channels.push(...workspaceChannels(step));
  const tools = withRunnerNetwork(cliToolReach(invocation, stepEnvText(step)));
  if (canFetch(tools, step) && pointsAtThread(upTo)) channels.push(workedOnThread(step, run.start));
  const offset = locateInScalar(step.file, run, invocation.start, Math.max(1, invocation.end - invocation.start));
  return {
    step,
    file: step.file,
    offset,
    agentName: cli.name,
    cli,
    channels: channels.filter((c) => c.taints.length),
    capabilities: capabilitiesAt(step, { cli, keyEnv: cli.keyEnv }, tools, jailed),
    promptText: upTo,
  };
}

/** Literal env values a step sees (workflow, then job, then step: inner wins). */
function stepEnvText(step: StepInstance): Record<string, string> {
  const out: Record<string, string> = {};
  for (const layer of [step.job.workflow.env, step.job.job.env, step.step.env]) for (const e of layer) out[e.name] = e.text;
  return out;
}

function inputRecord(step: StepInstance): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of step.step.with) out[w.name] = w.text;
  return out;
}

const THREAD_IDENTITY = /^github\.event\.(issue\.(number|html_url|url)|pull_request\.(number|html_url|url)|number|discussion\.(number|html_url)|comment\.html_url)$/;

/** The prompt names the issue or pull request to work on (`Triage issue #${{ github.event.issue.number }}`). */
function pointsAtThread(text: string): boolean {
  if (!text.includes('${{')) return false;
  return findTemplates(text).some((t) => (referencesOf(t.inner) ?? []).some((r) => THREAD_IDENTITY.test(r.path)));
}

/** Tools that can fetch an issue: a shell (gh), the network, or a GitHub token the action uses for its tools. */
function canFetch(tools: ToolReach, step: StepInstance): boolean {
  return tools.shell !== 'none' || tools.network || (tools.writesFiles && step.step.with.some((w) => /token/i.test(w.name)));
}

/** An agent told to work on issue #N reads that issue, written by whoever opened it. */
function workedOnThread(step: StepInstance, offset: number): Channel {
  const fetch = { what: 'the issue or pull request it is told to work on (it fetches the thread with its tools)', labelGated: false };
  return { kind: 'fetch', name: 'the issue or pull request its prompt points at', taints: [fetchTaint(fetch, hopAt(step.file, offset, 'its prompt names the issue or pull request to work on'))], confidence: 'medium' };
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
        out.push(workspace(step, earlier, hit.input.keyNode.start, `checks out the pull request's code (${hit.input.name}: ${hit.input.text.trim()}, ${DENOTES[hit.denotes]})`, 'pull_request'));
      }
    } else if (/^actions\/download-artifact@|^dawidd6\/action-download-artifact@/i.test(uses)) {
      out.push(workspace(step, earlier, earlier.step.uses!.start, 'downloads artifacts a fork-triggered run may have produced', 'workflow_run'));
    } else if (earlier.step.run && FETCH_PR_IN_SHELL.test(earlier.step.run.text)) {
      out.push(workspace(step, earlier, earlier.step.run.start, "fetches and checks out the pull request's code", 'pull_request'));
    }
  }
  return out;
}

function workspace(step: StepInstance, earlier: StepInstance, offset: number, note: string, role: 'pull_request' | 'workflow_run'): Channel {
  const events = role === 'workflow_run' ? ['workflow_run'] : null;
  return {
    kind: 'workspace',
    name: 'instruction and config files in the checked-out workspace',
    taints: [{ origin: { kind: 'fork-checkout', role, events, what: 'pull request code and instruction files' }, hops: [hopAt(earlier.file, offset, `step '${earlier.step.label}' ${note}`)] }],
    confidence: role === 'workflow_run' ? 'medium' : 'high',
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
