// What an agent holds at its step: secrets in its process or inputs, the GitHub token and what it may
// write, OIDC, the runner, and its tools (shell, network, file writes). This is the "so what" half of
// a finding: the same injected prompt is a nuisance for a text-only model and a worm for an agent
// with a shell and a publish token.

import { findTemplates, referencesOf } from '../workflow/expression';
import { inputOf, type Permissions } from '../workflow/model';
import type { YNode } from '../workflow/yaml';
import type { JobInstance, StepInstance } from './instances';
import type { AgentAction, AgentCli, BotCommand, ToolReach } from './ruleTypes';

export interface SecretUse {
  name: string;
  /** Where the agent gets it: `env NAME`, `input NAME`, `job env NAME`. */
  via: string;
  /** A model/vendor key for this agent (theft costs money; it does not publish packages). */
  modelKey: boolean;
}

export interface TokenReach {
  /** How the agent gets a GitHub token. */
  via: string;
  /** A personal access token or App token passed in (not the job's GITHUB_TOKEN). */
  foreign: boolean;
}

export interface Capabilities {
  secrets: SecretUse[];
  tokens: TokenReach[];
  /** Scopes the job's GITHUB_TOKEN may write; `*` when permissions are left to the repository default. */
  writeScopes: string[];
  permissionsDefault: boolean;
  idToken: boolean;
  /** Cloud credentials earlier steps minted into the job (files in the workspace, env for later steps). */
  cloudCredentials: string[];
  selfHosted: boolean;
  /** Set when `selfHosted` is inferred from custom labels only (it may be a larger GitHub-hosted runner). */
  customRunner?: string;
  persistedCredentials: boolean;
  tools: ToolReach;
  /** The model key sits in the agent's own process (not behind a proxy). */
  keyInProcess: boolean;
  /** The agent runs under `agent-guard run` (no secrets, network only to its model). */
  jailed: boolean;
  /** What the jailed agent may ask the guard to do on GitHub (`--grant`, the Action's `grants`). */
  grants?: string[];
  /**
   * Commands a commenter picks that write with the job's token (pr-agent `/describe`): authority the
   * outsider chooses, whatever tools the model has.
   */
  commands?: BotCommand[];
  /** A hosted agent started over HTTP that works on the repository itself, and what it can do there. */
  remoteAgent?: string;
}

const HOSTED_RUNNER = /^(ubuntu|windows|macos)-|^(ubuntu|windows|macos)$/i;
const MODEL_KEY_NAME = /(ANTHROPIC|CLAUDE|OPENAI|GEMINI|GOOGLE_API|QWEN|DASHSCOPE|OPENROUTER|MISTRAL|GROQ|DEEPSEEK|COHERE|XAI|OPENCODE|CURSOR|FACTORY|WARP|AMP|LLM|AI)_?(API_?)?(KEY|TOKEN)|OAUTH_TOKEN/i;
/** A secret or variable name that looks like a model or vendor key (`OPENAI_API_KEY`, `LLM_TOKEN`). */
export function looksLikeModelKey(name: string): boolean {
  return MODEL_KEY_NAME.test(name);
}

const TOKEN_ENV = /^(GITHUB_TOKEN|GH_TOKEN|GITHUB_PAT|GH_PAT|GH_ENTERPRISE_TOKEN|GITHUB_PERSONAL_ACCESS_TOKEN|COPILOT_GITHUB_TOKEN)$/;

/**
 * Secret and token names referenced in a YAML value. Inside a composite action, `inputs.X` is followed
 * to the `with:` of the step that uses the action (secrets are usually passed in that way).
 */
function secretRefs(node: YNode | undefined, within?: StepInstance, depth = 0): { secrets: string[]; githubToken: boolean } {
  const out = { secrets: [] as string[], githubToken: false };
  const visit = (n: YNode | undefined) => {
    if (!n) return;
    if (n.kind === 'map') return n.pairs.forEach((p) => visit(p.value));
    if (n.kind === 'seq') return n.items.forEach(visit);
    if (typeof n.value !== 'string') return;
    const inner = textSecretRefs(n.text, within, depth);
    out.secrets.push(...inner.secrets);
    out.githubToken ||= inner.githubToken;
  };
  visit(node);
  return out;
}

function textSecretRefs(text: string, within: StepInstance | undefined, depth: number): { secrets: string[]; githubToken: boolean } {
  const out = { secrets: [] as string[], githubToken: false };
  if (!text.includes('${{')) return out;
  for (const t of findTemplates(text)) {
    for (const r of referencesOf(t.inner) ?? []) {
      if (r.path === 'github.token' || r.path === 'secrets.github_token') out.githubToken = true;
      else if (r.path.startsWith('secrets.') && r.path.length > 8) out.secrets.push(r.path.slice(8).toUpperCase());
      else if (r.path === 'secrets' || r.path === 'secrets.*') out.secrets.push('*');
      else if (r.path.startsWith('inputs.') && within?.frame && depth < 8) {
        const given = inputOf(within.frame.callerStep.step.with, r.path.slice(7));
        const inner = secretRefs(given?.value, within.frame.callerStep, depth + 1);
        out.secrets.push(...inner.secrets);
        out.githubToken ||= inner.githubToken;
      }
    }
  }
  return out;
}

/** `NAME: value` lines of an input the action turns into the agent's environment (`claude_env`). */
function envLines(text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]\s*(.*?)\s*$/.exec(line);
    if (m) out.push({ name: m[1], value: m[2] });
  }
  return out;
}

export function writeScopesOf(permissions: Permissions | undefined): { scopes: string[]; isDefault: boolean; idToken: boolean } {
  if (!permissions) return { scopes: ['*'], isDefault: true, idToken: false };
  if (permissions.all === 'write') return { scopes: ['*'], isDefault: false, idToken: true };
  const scopes = Object.entries(permissions.scopes)
    .filter(([scope, level]) => level === 'write' && scope !== 'id-token')
    .map(([scope]) => scope);
  return { scopes, isDefault: false, idToken: permissions.scopes['id-token'] === 'write' };
}

export interface AgentIdentity {
  action?: AgentAction;
  cli?: AgentCli;
  /** Key env names of the CLI (or the action's CLI) so model keys are told apart from other secrets. */
  keyEnv: string[];
  /** For actions: whether the model key ends up in the agent's process (not behind the action's proxy). */
  keyInProcess?: boolean;
}

/** What a `run:` script itself holds: it is a full shell on the runner. */
export const RUN_SCRIPT: ToolReach = { shell: 'full', network: true, writesFiles: true };

/** What a shell step holds: everything its job gives a script. */
export function shellCapabilities(step: StepInstance): Capabilities {
  return capabilitiesAt(step, { keyEnv: [] }, RUN_SCRIPT, false);
}

/** Everything in the step's process environment and inputs, seen from the agent. */
export function capabilitiesAt(step: StepInstance, agent: AgentIdentity, tools: ToolReach, jailed: boolean, grants: string[] = []): Capabilities {
  const secrets: SecretUse[] = [];
  const tokens: TokenReach[] = [];
  const keyInputs = new Set((agent.action?.keyInputs ?? []).map((i) => i.toLowerCase()));
  const tokenInputs = new Set((agent.action?.tokenInputs ?? []).map((i) => i.toLowerCase()));
  const isModelKey = (name: string, secret: string) =>
    agent.keyEnv.includes(name) || keyInputs.has(name.toLowerCase()) || MODEL_KEY_NAME.test(secret) || MODEL_KEY_NAME.test(name);

  const envLayers: { entries: { name: string; value: YNode }[]; where: string; within: StepInstance }[] = [
    { entries: step.step.env, where: 'env', within: step },
    ...framesOf(step).map((caller) => ({ entries: caller.step.env, where: `env of step '${caller.step.label}'`, within: caller })),
    { entries: step.job.job.env, where: 'job env', within: step },
    { entries: step.job.workflow.env, where: 'workflow env', within: step },
  ];
  for (const layer of envLayers) {
    for (const entry of layer.entries) {
      const refs = secretRefs(entry.value, layer.within);
      for (const s of refs.secrets) secrets.push({ name: s, via: `${layer.where} ${entry.name}`, modelKey: isModelKey(entry.name, s) });
      // GH_TOKEN / GITHUB_TOKEN with any value (a secret, an App token from an earlier step); `''` is none.
      const tokenVar = TOKEN_ENV.test(entry.name) && entry.value.kind === 'scalar' && entry.value.text.trim() !== '';
      if (refs.githubToken || tokenVar) {
        tokens.push({ via: `${layer.where} ${entry.name}`, foreign: !refs.githubToken });
      }
    }
  }
  const envInputs = new Set((agent.action?.envInputs ?? []).map((i) => i.toLowerCase()));
  for (const input of step.step.with) {
    if (envInputs.has(input.name.toLowerCase())) {
      // Lines of this input are the agent's own environment: a token there is in its hands.
      for (const line of envLines(input.text)) {
        const refs = textSecretRefs(line.value, step, 0);
        for (const s of refs.secrets) secrets.push({ name: s, via: `input ${input.name} ${line.name}`, modelKey: isModelKey(line.name, s) });
        if (refs.githubToken || (TOKEN_ENV.test(line.name) && line.value !== '' && line.value !== "''")) tokens.push({ via: `input ${input.name} ${line.name}`, foreign: !refs.githubToken });
      }
      continue;
    }
    const refs = secretRefs(input.value, step);
    for (const s of refs.secrets) {
      const token = tokenInputs.has(input.name.toLowerCase()) || TOKEN_ENV.test(s);
      if (token) tokens.push({ via: `input ${input.name}`, foreign: true });
      else secrets.push({ name: s, via: `input ${input.name}`, modelKey: isModelKey(input.name, s) });
    }
    if (refs.githubToken && tokenInputs.has(input.name.toLowerCase())) tokens.push({ via: `input ${input.name}`, foreign: false });
  }
  if (agent.action?.tokenInputs?.length && !tokens.some((t) => t.via.startsWith('input'))) {
    // Actions that take a token default to the job's GITHUB_TOKEN.
    tokens.push({ via: 'the default github.token', foreign: false });
  }
  const inherited = step.job.caller?.secrets;
  if (inherited === 'inherit') secrets.push({ name: '*', via: 'secrets: inherit from the caller', modelKey: false });

  // A full shell on a runner with passwordless sudo reads Runner.Worker's memory: every secret the job
  // uses in any step, and the job's GITHUB_TOKEN (the tj-actions / s1ngularity technique). Self-hosted
  // runners may not grant sudo, so it is not assumed there.
  if (tools.shell === 'full' && !isSelfHosted(step)) {
    const known = new Set(secrets.map((s) => s.name));
    for (const { name, label } of jobSecrets(step.job)) {
      if (known.has(name)) continue;
      known.add(name);
      secrets.push({ name, via: `the runner's memory (used by step '${label}')`, modelKey: MODEL_KEY_NAME.test(name) });
    }
    tokens.push({ via: "the runner's memory (a shell with sudo reads the job's GITHUB_TOKEN)", foreign: false });
  }
  const cloud = cloudLogins(step);
  const persisted = persistedCheckout(step);
  if (persisted) tokens.push({ via: 'credentials persisted in .git/config by actions/checkout', foreign: false });

  const perms = writeScopesOf(step.job.permissions);
  const keyInProcess = agent.keyInProcess ?? true;
  const commands = jailed ? [] : commandsInReach(step, agent.action, tokens.length > 0, perms.scopes);
  return {
    secrets: jailed ? [] : secrets,
    tokens: jailed ? [] : tokens,
    writeScopes: perms.scopes,
    permissionsDefault: perms.isDefault,
    idToken: perms.idToken && !jailed,
    cloudCredentials: jailed ? [] : cloud,
    selfHosted: isSelfHosted(step),
    customRunner: customRunnerLabels(step),
    persistedCredentials: persisted && !jailed,
    tools: jailed ? { ...tools, network: false } : tools,
    keyInProcess: keyInProcess && !jailed,
    jailed,
    grants: jailed ? grants : [],
    ...(commands.length ? { commands } : {}),
  };
}

/** The bot's commands a commenter can pick on this job's triggers that write with a token it holds. */
function commandsInReach(step: StepInstance, action: AgentAction | undefined, hasToken: boolean, scopes: string[]): BotCommand[] {
  const surface = action?.commandSurface;
  if (!surface || !hasToken || !step.job.triggers.some((t) => surface.events.includes(t.event))) return [];
  return surface.commands.filter((c) => c.writes.some((w) => scopes.includes('*') || scopes.includes(w)));
}

const jobSecretsMemo = new WeakMap<JobInstance, { name: string; label: string }[]>();

/** Every secret the job's steps reference, each with the first step that does (computed once per job). */
function jobSecrets(job: JobInstance): { name: string; label: string }[] {
  let known = jobSecretsMemo.get(job);
  if (known) return known;
  known = [];
  const seen = new Set<string>();
  for (const other of job.steps) {
    for (const name of stepSecrets(other)) {
      if (seen.has(name)) continue;
      seen.add(name);
      known.push({ name, label: other.step.label });
    }
  }
  jobSecretsMemo.set(job, known);
  return known;
}

/** Secrets a step references anywhere (inputs, env, script). */
function stepSecrets(step: StepInstance): string[] {
  const out: string[] = [];
  const nodes: (YNode | undefined)[] = [...step.step.with.map((w) => w.value), ...step.step.env.map((e) => e.value), step.step.run];
  for (const n of nodes) out.push(...secretRefs(n).secrets);
  return out.filter((s) => s !== '*' && s !== 'GITHUB_TOKEN');
}

function framesOf(step: StepInstance): StepInstance[] {
  const out: StepInstance[] = [];
  for (let f = step.frame; f; f = f.callerStep.frame) out.push(f.callerStep);
  return out;
}

/** The labels of a runner picked by custom labels only (no `self-hosted`, no GitHub image name). */
function customRunnerLabels(step: StepInstance): string | undefined {
  const labels = step.job.job.runsOn;
  if (!isSelfHosted(step) || labels.some((l) => /self-hosted/i.test(l))) return undefined;
  return labels.join(', ');
}

function isSelfHosted(step: StepInstance): boolean {
  const labels = step.job.job.runsOn;
  if (!labels.length) return false;
  if (labels.some((l) => l.includes('${{'))) return false;
  return labels.some((l) => /self-hosted/i.test(l)) || !labels.some((l) => HOSTED_RUNNER.test(l));
}

/** Actions that leave cloud credentials for the rest of the job, and where they put them. */
const CLOUD_LOGINS: { uses: RegExp; leaves: string }[] = [
  { uses: /^google-github-actions\/auth@/i, leaves: 'GCP credentials (gha-creds-*.json in the workspace, GOOGLE_APPLICATION_CREDENTIALS)' },
  { uses: /^aws-actions\/configure-aws-credentials@/i, leaves: 'AWS credentials (AWS_ACCESS_KEY_ID/AWS_SESSION_TOKEN in the environment)' },
  { uses: /^azure\/login@/i, leaves: 'Azure credentials (the az CLI token cache in HOME)' },
];

function cloudLogins(step: StepInstance): string[] {
  const out: string[] = [];
  // The agent action itself may mint them (run-gemini-cli's workload identity inputs).
  const own = step.step.with.find((w) => /workload_identity_provider|workload-identity-provider|role-to-assume/i.test(w.name) && w.text.trim());
  if (own) out.push(`cloud credentials minted by this step (input ${own.name})`);
  for (const s of step.job.steps) {
    if (s.position >= step.position) break;
    const hit = CLOUD_LOGINS.find((c) => c.uses.test(s.step.uses?.text ?? ''));
    if (hit && !out.includes(hit.leaves)) out.push(hit.leaves);
  }
  return out;
}

/** actions/checkout earlier in the job without `persist-credentials: false` leaves the token in .git/config. */
function persistedCheckout(step: StepInstance): boolean {
  return step.job.steps.some((s) => {
    if (s.position >= step.position) return false;
    if (!/^actions\/checkout@/i.test(s.step.uses?.text ?? '')) return false;
    const persist = inputOf(s.step.with, 'persist-credentials')?.text;
    return persist === undefined || !/^false$/i.test(persist.trim());
  });
}

/** The capability strings reported with a finding. */
export function describeCapabilities(c: Capabilities): string[] {
  const out: string[] = [];
  if (c.jailed) out.push('jailed:agent-guard-run');
  for (const g of c.grants ?? []) out.push(`grant:${g} (through the guard, no token in the agent)`);
  if (c.remoteAgent) out.push(`remote-agent: ${c.remoteAgent}`);
  for (const cmd of c.commands ?? []) out.push(`command:${cmd.name} (${cmd.what}; ${cmd.writes.map((w) => `${w}:write`).join(', ')})`);
  for (const s of c.secrets) out.push(`secret:${s.name}${s.modelKey ? ' (model key)' : ''} via ${s.via}`);
  for (const t of c.tokens) out.push(`github-token:${t.foreign ? 'pat-or-app-token' : 'GITHUB_TOKEN'} via ${t.via}`);
  if (c.permissionsDefault) out.push('permissions:default (write-all where the repository default is permissive)');
  // A jailed agent never holds the job's token: the guard does, for the grants.
  else for (const s of c.writeScopes) out.push(`permission:${s}:write${c.jailed ? ' (the guard holds it, not the agent)' : ''}`);
  if (c.idToken) out.push('permission:id-token:write (OIDC)');
  for (const cloud of c.cloudCredentials) out.push(`cloud:${cloud}`);
  // Larger GitHub-hosted runners are also picked by custom labels: say what is known.
  if (c.selfHosted) out.push(c.customRunner ? `runner:custom label '${c.customRunner}' (self-hosted, or a larger GitHub-hosted runner)` : 'runner:self-hosted');
  else if (c.tools.shell === 'full' && !c.jailed) out.push("actions-cache:write (poisons caches that release workflows restore)");
  if (c.tools.shell !== 'none') out.push(`shell:${c.tools.shell}`);
  if (c.tools.network) out.push('network:unrestricted');
  if (c.tools.writesFiles) out.push('writes-files');
  if (c.keyInProcess && c.secrets.some((s) => s.modelKey)) out.push('model-key-in-agent-process');
  return out;
}
