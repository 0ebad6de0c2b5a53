// Shapes of the data files in rules/. Agents, untrusted sources and triggers are data so that
// adding an agent or a context is a data change; these types are the contract between the YAML
// and the analysis. rules/*.yml files are validated against them at load time (see rulesData.ts).

/** An agent packaged as a GitHub Action (`uses:`). */
export interface AgentAction {
  /** Stable id, e.g. `claude-code-action`. */
  id: string;
  /** Human name for messages. */
  name: string;
  /** `owner/repo` or `owner/repo/path` prefixes matched case-insensitively against `uses:` (ref ignored). */
  uses: string[];
  /** The CLI agent it runs (an `AgentCli.id`), if any; used for instruction files and key handling. */
  cli?: string;
  /** Inputs whose value is the prompt (or part of it). Tainted text here is direct prompt injection. */
  promptInputs: string[];
  /** Inputs that name a file whose content becomes prompt/instructions. */
  promptFileInputs?: string[];
  /** Other inputs whose value reaches the model or its configuration (tainted text here is injection too). */
  configInputs?: string[];
  /** Inputs that carry a model/vendor key into the agent. */
  keyInputs?: string[];
  /**
   * The input that takes the path of the agent CLI the action starts (claude-code-action's
   * path_to_claude_code_executable, ai-inference's copilot-cli-path): pointed at the wrapper
   * `agent-guard wrap` installs, the agent runs jailed.
   */
  wrapperInput?: string;
  /** Inputs that carry a GitHub token the agent can use. */
  tokenInputs?: string[];
  /**
   * Where the model key ends up. `process`: in the agent's environment (a hijacked agent can read it).
   * `proxy`: held by a key-injecting proxy outside the agent (codex-action).
   */
  keyHandling: 'process' | 'proxy';
  /**
   * For `keyHandling: proxy`: inputs whose value puts the key back within the agent's reach (codex-action
   * `safety-strategy: unsafe` keeps sudo, so the agent can read the proxy's memory). Same pattern form
   * as `toolWideners`.
   */
  keyWideners?: KeyWidener[];
  /** The action's own actor check. */
  gate: ActionGate;
  /**
   * Whether the action itself fetches the issue/PR thread (title, body, comments) into the prompt.
   * `always`, `never`, or `without-prompt` (tag mode: when no prompt input is given).
   */
  readsThread: 'always' | 'never' | 'without-prompt';
  /**
   * For `readsThread: without-prompt`: the inputs whose presence switches the action to a mode that
   * does not fetch the thread (claude-code-action v1 `prompt`; its v0 `direct_prompt` still fetches).
   * Default: all `promptInputs`.
   */
  agentModeInputs?: string[];
  /** Inputs that, set to anything but false, make the action fetch the thread even in agent mode. */
  threadInputs?: string[];
  /**
   * Inputs a major version dropped: from `since` (`v1`) on, the action ignores them (it warns about an
   * unexpected input and runs without it). Applied only when the `uses:` ref names the major version.
   */
  removedInputs?: { since: string; inputs: string[] }[];
  /** Default tool reach without widening inputs. */
  defaults: ToolReach;
  /** Tool reach in agent mode (an `agentModeInputs` input set), when it differs from `defaults`. */
  agentModeDefaults?: ToolReach;
  /** Inputs whose values widen tools; each pattern is a case-insensitive regular expression. */
  toolWideners?: ToolWidener[];
  /** Inputs whose values narrow tools (e.g. `--disallowedTools Bash`); same pattern form. */
  toolNarrowers?: ToolWidener[];
  /** Output names that carry model output (for AI-output-used-unsafely). */
  outputs?: string[];
  /** Outputs that hold no model text: paths the action chose, counts, a conclusion. */
  nonTextOutputs?: string[];
  /** Inputs that leak output or transcripts publicly (logs, artifacts, step summary). */
  leakInputs?: string[];
  /** Provider id in providers.yml the action's model calls go to, when it is not its CLI's (ai-inference: github-models). */
  provider?: string;
  /**
   * Inputs whose value is a block of `NAME: value` lines that become the agent's environment
   * (claude-code-base-action `claude_env`): a token there is in the agent's hands.
   */
  envInputs?: string[];
  /** Commands anyone who can comment chooses (pr-agent's `/describe`, `/update_changelog`, …). */
  commandSurface?: CommandSurface;
  /** Catalogue confidence: verified in source, docs only, third party, uncertain. */
  confidence?: 'V' | 'D' | '3P' | 'U';
  notes?: string;
}

/**
 * A bot whose triggering comment is its command: the commenter, not the model, picks what it does
 * with the job's token. Authority comes from the commands an outsider can pick.
 */
export interface CommandSurface {
  /** Events whose comment body is read as the command. */
  events: string[];
  commands: BotCommand[];
  /** What a commenter can set besides the command (options after it), for messages. */
  options?: string;
}

export interface BotCommand {
  /** As typed, e.g. `/describe`. */
  name: string;
  /** Token scopes the command writes with (`pull-requests`, `contents`, …). */
  writes: string[];
  /** What it does with them, for messages. */
  what: string;
}

export interface KeyWidener {
  input: string;
  /** Regular expression source matched (case-insensitively) against the input value. */
  pattern: string;
}

export interface ActionGate {
  /** `none`: no actor check. `write-access`: the triggering actor must have write/admin. */
  kind: 'none' | 'write-access';
  /** Events on which the check is not performed (the workflow `if:` is then the only gate). */
  skippedOn?: string[];
  /** Inputs that widen or remove the check. */
  wideners?: GateWidener[];
}

export interface GateWidener {
  input: string;
  /** `anyone`: any non-empty value opens the agent to non-writers (`*` or a list of outsiders). `bots`: opens it to bot/App actors. */
  effect: 'anyone' | 'bots';
  /** The widener only works when this input is also set (claude-code-action needs `github_token`). */
  requiresInput?: string;
  /** A value that counts as enabling (default: any non-empty, non-'false' value). */
  enablingValues?: string[];
}

export interface ToolReach {
  /** `full`: arbitrary shell. `restricted`: allowlisted commands only. `none`. */
  shell: 'full' | 'restricted' | 'none';
  /** Tools that reach the network beyond the model API (web fetch/search, MCP servers). */
  network: boolean;
  /** Can write files in the workspace. */
  writesFiles: boolean;
}

export interface ToolWidener {
  /**
   * Actions: the input name. CLIs: a flag (`--allowedTools`; the pattern sees the flag's value, or `''`
   * for a flag without one) or an environment variable (`OPENCODE_PERMISSION`; the pattern sees its value).
   */
  input: string;
  /** Regular expression source matched against the input value. */
  pattern: string;
  /** What matching it grants (or, for narrowers, removes). */
  grants: Partial<ToolReach>;
}

/** An agent CLI invoked from a `run:` script. */
export interface AgentCli {
  id: string;
  name: string;
  /** Command words, e.g. `claude`, `codex`. May be empty when the agent is only run as a module. */
  commands: string[];
  /** npm/pip package names run through npx, bunx, pnpm dlx, yarn dlx, uvx, pipx run. */
  packages?: string[];
  /** Python modules run as `python -m MODULE` (a module also matches its submodules). */
  modules?: string[];
  /**
   * When set, the command is an agent invocation only with one of these subcommands (e.g. `codex exec`).
   * An entry may have several words (`github run`). With `requiredFlags` too, either one suffices.
   */
  subcommands?: string[];
  /** When set, the command is an agent invocation only with one of these flags (e.g. cursor `agent -p`). */
  requiredFlags?: string[];
  /** First arguments that make the command something other than an agent run (`install`, `update`, `mcp`, `login`). */
  nonRunSubcommands?: string[];
  /** Flags that make the command print something and exit (`--version`, `--help`): not an agent run. */
  infoFlags?: string[];
  /** Flags that take the next argument as their value (so it is not mistaken for a subcommand or prompt). */
  valueFlags?: string[];
  /**
   * Flags that skip approvals or the sandbox (shell without confirmation). An entry `--flag=value` matches
   * the flag with that value (case-insensitive), written `--flag value` or `--flag=value`.
   */
  bypassFlags: string[];
  /** Environment variables that grant bypass when set to a truthy value, e.g. `GOOSE_MODE=auto`. */
  bypassEnv?: { name: string; values: string[] }[];
  /** Flags whose next argument (or `=value`) lists allowed tools; scanned for shell/network tools. */
  toolFlags?: string[];
  /** Flags or environment variables whose values widen tools (see `ToolWidener.input`). */
  toolWideners?: ToolWidener[];
  /** Flags or environment variables whose values narrow tools. Narrowers lower `defaults`; wideners then raise. */
  toolNarrowers?: ToolWidener[];
  /** Default tool reach in headless mode without bypass flags. */
  defaults: ToolReach;
  /** Model/vendor key variables. */
  keyEnv: string[];
  /** Base-URL variables that point it at a proxy. */
  baseUrlEnv?: string[];
  /** Repository files it loads as instructions or configuration (paths; trailing `/` = directory). */
  instructionFiles: string[];
  /** Provider id in providers.yml used by `agent-guard run --provider`. */
  provider?: string;
  /**
   * Configuration the repository ships that the CLI reads at start (`.claude/settings.json`): each
   * value read is fed to the CLI's wideners and narrowers as if it were the value of `as`.
   */
  projectFiles?: ProjectFile[];
  /**
   * Where the repository's custom slash commands live (`.claude/commands`): a prompt that starts with
   * `/name` runs that file, whose text joins the prompt and whose front-matter may grant tools.
   */
  commandDirs?: CommandDir[];
  confidence?: 'V' | 'D' | '3P' | 'U';
  notes?: string;
}

/** A configuration file in the repository that widens or narrows what the agent may do. */
export interface ProjectFile {
  /** Path from the repository root. */
  path: string;
  /**
   * Dotted key to read (JSON, or the front-matter of a Markdown file); a list value is joined with
   * commas. Omitted: the whole file text.
   */
  field?: string;
  /** The flag, environment variable or pseudo-input whose wideners and narrowers read the value. */
  as: string;
  /** An agent action input that replaces this file when set (run-gemini-cli writes `settings` over it). */
  replacedByInput?: string;
}

/** A folder of custom slash commands. */
export interface CommandDir {
  /** Folder from the repository root; sub-folders are namespaces (`/ns:name`). */
  dir: string;
  /** File extension of a command (`.md`, `.toml`), or `/SKILL.md` for one folder per command. */
  ext: string;
  /** Front-matter field that grants tools while the command runs (`allowed-tools`). */
  toolsField?: string;
  /** The flag whose wideners read that field's value. */
  toolsAs?: string;
}

/**
 * An HTTP API that runs a model or an agent, called with curl or fetch from a script: the request
 * body is its prompt.
 */
export interface AgentApi {
  id: string;
  name: string;
  /** Host names (exact, lowercase) of `https://` URLs a script calls with an HTTP client. */
  hosts?: string[];
  /** Path prefixes on those hosts; omitted = any path. */
  paths?: string[];
  /**
   * Regular expressions (case-insensitive) over a script that start it without a URL of its own
   * (`gh issue edit N --add-assignee @copilot` starts the Copilot coding agent).
   */
  markers?: string[];
  /** It fetches the issue or pull request it is handed itself. */
  readsThread?: boolean;
  /**
   * `model`: a text-only model call (the script, not the model, holds the key and the token).
   * `agent`: a hosted agent that works on the repository itself (pushes branches, opens PRs).
   */
  kind: 'model' | 'agent';
  /** For agents: what it can do to the repository, for messages. */
  acts?: string;
  confidence?: 'V' | 'D' | '3P' | 'U';
  notes?: string;
}

/** An outsider-controlled context, e.g. `github.event.issue.title`. */
export interface SourceContext {
  /** Lowercased dotted path; `*` matches one segment (array index or key). A path matches itself and anything below it. */
  path: string;
  /** What the text is, for messages: title, body, branch, commit message, email, name, payload, path, url. */
  kind: string;
  /** Whose text it is: `actor` (whoever fires the event), or the author of the object (issue, comment, pull_request, review, discussion, commit, workflow_run, payload). */
  author: string;
  /** Events on which the context exists and is outsider-controlled; empty = any. */
  events?: string[];
}

/** Objects that, passed whole (e.g. to `toJSON`), carry outsider text. */
export interface WholeObjectSource {
  path: string;
  author: string;
  events?: string[];
}

/** Who can fire a trigger and with what the run gets. */
export interface TriggerRule {
  event: string;
  /**
   * `anyone`: any GitHub user, run is privileged (secrets, write token possible).
   * `anyone-unprivileged`: any user, but fork runs get no secrets and a read token (pull_request).
   * `maintainers`: requires write access (push, dispatch, schedule...).
   * `callers`: whoever calls the workflow (workflow_call).
   * `upstream`: whoever could fire the upstream workflow (workflow_run).
   */
  who: 'anyone' | 'anyone-unprivileged' | 'maintainers' | 'callers' | 'upstream';
  /** Activity types that narrow who can fire it, e.g. issues `labeled` needs triage access. */
  maintainerOnlyTypes?: string[];
  /**
   * The objects under `github.event` the event's payload carries, among those gates reason about
   * (PAYLOAD_OBJECTS in gates.ts); the others are null on this event. Omitted: not known.
   */
  payload?: string[];
  note?: string;
}

/**
 * A third-party action whose outputs carry outsider text it fetched (the issue body, a comment, a
 * branch name, changed file names): CodeQL's models of action outputs, as data.
 */
export interface ActionOutputSource {
  /** `owner/repo[/path]` prefix, matched like agent actions (case-insensitive, any ref). */
  uses: string;
  /** Output names that carry the text; `*` for every output. */
  outputs: string[];
  kind: string;
  author: string;
  /** What the action does, for messages. */
  what: string;
}

/**
 * What a GitHub API call made from a script returns (`rest.actions.listJobsForWorkflowRun`): whose text
 * it carries, or `none`. Matched in order against the method path under `github.`; an unlisted call
 * counts as the issue/pull-request thread.
 */
export interface ApiRead {
  /** A regular expression over the method path (`rest.issues.get`, `graphql`, `request`). */
  call: string;
  author: string;
  what: string;
}

/** A third-party action's outputs that name a pull request's head (see sources.yml `prHeadOutputs`). */
export interface PrHeadOutputs {
  uses: string;
  commit?: string[];
  repository?: string[];
  branch?: string[];
  other?: string[];
}

/**
 * A sentence in an agent's prompt that sends it to read issues or pull requests anyone can write
 * ("List open issues and label them"): the agent fetches outsider text although no command is named.
 */
export interface PromptRead {
  /** Regular expression source, matched case-insensitively against the prompt. */
  pattern: string;
  what: string;
}

export interface SourcesFile {
  contexts: SourceContext[];
  wholeObjects: WholeObjectSource[];
  actionOutputs?: ActionOutputSource[];
  apiReads?: ApiRead[];
  prHeadOutputs?: PrHeadOutputs[];
  promptReads?: PromptRead[];
}

export interface AgentsFile {
  actions: AgentAction[];
  clis: AgentCli[];
  /** Model and agent APIs called over HTTP. */
  apis?: AgentApi[];
}

export interface TriggersFile {
  triggers: TriggerRule[];
}
