// `agent-guard COMMAND --help`: one layout for every command (a usage line, what it does, its
// options, its exit codes), printed on standard output with exit 0. A test checks that every flag
// listed here is documented in README.md, and that `run`'s synopsis (used in its error messages)
// lists no flag this help does not explain.

import { builtinProviders } from './guard/providers';
import { DEFAULT_MAX_DEPTH } from './online/prefetch';
import { wrap } from './report/common';

/** An option's text, or a function that makes it when help is printed (from data too slow to load on every start). */
type HelpText = string | (() => string);

export interface CommandHelp {
  usage: string[];
  about: string;
  options: [flag: string, text: HelpText][];
  /** Closing lines: environment, exit codes. */
  notes?: string[];
}

/** Help lines are wrapped to this many columns. */
const WIDTH = 100;

const SEVERITY_CHOICES = 'critical|high|medium|low|none';

const ONLINE_OPTIONS: [string, string][] = [
  ['--no-cache', 'neither read nor write the cache (~/.cache/agent-guard)'],
  ['--on-rate-limit wait|stop', 'at the API rate limit: wait for the reset or stop (default: stop in CI, wait on a terminal)'],
  ['--max-wait SECONDS', 'longest total wait for rate limits (default 900)'],
  ['--max-depth N', `remote hops followed (default ${DEFAULT_MAX_DEPTH})`],
];

const GITHUB_ENV = 'environment: GITHUB_TOKEN or GH_TOKEN, GITHUB_API_URL (GitHub Enterprise Server), AGENT_GUARD_CACHE_DIR';

export const HELP: Record<string, CommandHelp> = {
  lint: {
    usage: ['agent-guard lint [PATH...] [options]'],
    about:
      'Find the AI-agent steps in GitHub Actions workflows that outsider-written text can reach. PATH is a ' +
      'repository root, a .github folder, a workflows folder or workflow files (default: .).',
    options: [
      ['--format text|json|sarif|github', 'report format (default text)'],
      ['--fail-on ' + SEVERITY_CHOICES, 'exit 1 when a finding is at or above this severity (default high)'],
      ['--config FILE', 'config file (default .github/agent-guard.yml when present)'],
      ['--output FILE, -o FILE', 'write the report to FILE instead of standard output'],
      ['--baseline FILE', 'report only findings not recorded in FILE'],
      ['--write-baseline FILE', 'record every current finding in FILE (and exit 0)'],
      ['--repository OWNER/NAME', 'the repository linted, for conditions on github.repository (default: the git remote origin of each path)'],
      ['--online', 'follow remote actions and reusable workflows through the GitHub API'],
      ...ONLINE_OPTIONS.map(([flag, text]): [string, string] => [flag, `with --online: ${text}`]),
    ],
    notes: [
      'exit: 0 no finding at or above --fail-on (or nothing to lint), 1 such findings, 2 bad usage, a bad config or baseline, or no workflow could be read',
      GITHUB_ENV,
    ],
  },
  scan: {
    usage: ['agent-guard scan --org ORG [options]'],
    about:
      'Lint the workflows of every repository of a GitHub organisation (or user), following remote actions and ' +
      "reusable workflows, with each repository's config and baseline; say where the required workflow would fail, " +
      'and report findings per repository ranked by severity.',
    options: [
      ['--org ORG', 'organisation or user to scan (required)'],
      ['--repo-filter GLOB', "only repositories whose name matches (repeatable; e.g. 'api-*')"],
      ['--include-archived', 'also scan archived repositories'],
      ['--include-forks', 'also scan forks'],
      ['--format text|json|sarif|markdown', 'report format (default text; markdown is ready to paste into an issue)'],
      ['--output FILE, -o FILE', 'write the report to FILE instead of standard output'],
      ['--fail-on ' + SEVERITY_CHOICES, "exit 1 when a finding not in its repository's baseline is at or above this severity (default none); the report's required-check table uses it too (default high)"],
      ['--config FILE', "config applied to every repository (default: each repository's own)"],
      ...ONLINE_OPTIONS,
    ],
    notes: ['exit: 0 done, 1 findings at or above --fail-on, 2 bad usage or the organisation could not be listed', GITHUB_ENV],
  },
  run: {
    usage: ['agent-guard run [options] -- CMD [ARG...]'],
    about:
      'Run an agent command in a jail with no secrets, no network but its model API (through a proxy that holds ' +
      'the key) and nothing of the runner visible. Needs bubblewrap, and root or sudo.',
    options: [
      ['--provider NAME[=UPSTREAM_URL]', () => `a model provider the agent calls (repeatable): ${[...builtinProviders().keys()].join(', ')}`],
      ['--allow-host HOST[:PORT]', 'let the agent reach HOST through the egress proxy, CONNECT only (repeatable)'],
      ['--pass-env NAME', 'pass variable NAME to the agent (repeatable; tokens, runner variables and loaders never pass)'],
      ['--workspace rw|ro', "the agent's access to the workspace (default rw: it works on a copy, and its checked changes come back)"],
      ['--allow-path GLOB', 'accept changes to tool configuration the boundary refuses by default, such as .npmrc (repeatable; never .git or non-regular files)'],
      ['--max-requests N', 'most model API requests'],
      ['--max-tokens N', 'most model tokens (input + output)'],
      ['--audit FILE', 'write every model and egress request as JSON lines to FILE'],
      ['--timeout SECONDS', 'stop the agent after SECONDS (exit 124)'],
      ['--allow-provider-fetch', 'let provider-side tools that fetch URLs through (web fetch and search, MCP servers, URL sources)'],
      ['--memory SIZE|none', "most memory the jail may use, tmpfs files included (default 75% of RAM; e.g. 4g, 512m)"],
      ['--pids N|none', 'most processes and threads in the jail (default 4096)'],
      ['--tmpfs-size SIZE', 'size of each folder the agent can write outside the workspace: /tmp, /var/tmp, its HOME (default 2g)'],
      ['--max-disk SIZE', "most disk the agent's copy of the workspace may take while it runs (then exit 122), and most bytes that may come back (default 4g)"],
      ['--max-files N', 'most files, folders, links and deletions that may come back (default 100000)'],
      ['--grant GRANT', 'let the agent ask the guard for one narrow GitHub write (repeatable): comment, label=A,B, review, pull-request[=GLOB,...], update-comment'],
      ['--github-token-env NAME', 'the variable holding the token grants are performed with (default GITHUB_TOKEN)'],
      ['--defer FILE', 'record the checked grant requests in FILE instead of performing them (see apply)'],
      ['--allow-links', 'keep links and images to hosts outside GitHub live in text the agent publishes'],
    ],
    notes: [
      "exit: the agent's exit code; 122 when --max-requests, --max-tokens or --max-disk ran out (the agent was stopped); 124 on --timeout; " +
        "125 when the guard could not set up a layer, or could not bring the agent's changes back (one line says which and why)",
    ],
  },
  apply: {
    usage: ['agent-guard apply FILE --grant GRANT... [options]'],
    about:
      'Perform the GitHub writes an `agent-guard run --defer FILE` recorded, after checking every request again against the ' +
      'grants given here (never the ones in the file). Run it in a later job that holds the token; the agent job needs none.',
    options: [
      ['--grant GRANT', 'what the requests may do (repeatable; as for run)'],
      ['--sha256 HEX', "refuse the file unless its SHA-256 is HEX (the run's defer-sha256)"],
      ['--github-token-env NAME', 'the variable holding the token (default GITHUB_TOKEN)'],
      ['--allow-links', 'keep links and images to hosts outside GitHub live'],
      ['--audit FILE', 'write every request, performed or refused, as JSON lines to FILE'],
    ],
    notes: ['exit: 0 every request performed, 125 the file or a request was refused (nothing is written then) or bad usage'],
  },
  doctor: {
    usage: ['agent-guard doctor [--json]'],
    about: 'Say which isolation layers this machine supports, and whether `agent-guard run` can run here.',
    options: [['--json', 'the report as JSON']],
    notes: ['exit: 0 the guard can run here, 1 it cannot, 125 bad usage'],
  },
  wrap: {
    usage: ['agent-guard wrap claude|copilot [--install DIR] [--claude PATH|--copilot PATH] [--allow-on-untrusted] [-- GUARD_OPTION...]'],
    about:
      'Write a stand-in for an agent CLI that runs the real one under `agent-guard run`, for actions that start it ' +
      'themselves: Claude Code (claude-code-action: give it to path_to_claude_code_executable) or the Copilot CLI ' +
      '(actions/ai-inference v3: give it to copilot-cli-path). Without --install, print it.',
    options: [
      ['--install DIR', 'install the wrapper as DIR/claude or DIR/copilot (outside the workspace) and print its path'],
      ['--claude PATH, --copilot PATH', 'the real CLI (default: claude or copilot on PATH)'],
      ['--allow-on-untrusted', 'keep --allow-host and --pass-env when the triggering input is outsider-controlled'],
      ['-- GUARD_OPTION...', '`agent-guard run` options for the wrapper (default --provider anthropic, or copilot)'],
    ],
    notes: ['exit: 0 written, 125 bad usage'],
  },
  action: {
    usage: ['agent-guard action lint|run|wrap|apply'],
    about:
      "The GitHub Action's entry points (action.yml runs them): each reads its inputs from INPUT_* variables, " +
      'writes outputs to GITHUB_OUTPUT and the job summary to GITHUB_STEP_SUMMARY. See README.md, Inputs.',
    options: [],
    notes: ['exit: as lint, run, wrap or apply; 2 on a bad input'],
  },
  version: {
    usage: ['agent-guard version'],
    about: 'Print the version.',
    options: [],
  },
};

export const GENERAL_HELP: CommandHelp = {
  usage: ['agent-guard COMMAND [options]', 'agent-guard COMMAND --help'],
  about: 'Find AI-agent steps outsiders can reach (lint, scan), run agents in a jail (run, wrap), and perform what they asked for later (apply).',
  options: [
    ['lint [PATH...]', 'find AI-agent steps outsiders can reach (default PATH: .)'],
    ['scan --org ORG', 'lint every repository of an organisation online'],
    ['run [options] -- CMD', 'run an agent in the jail'],
    ['apply FILE --grant GRANT...', 'perform what a run recorded with --defer, checked again against these grants'],
    ['doctor', 'what isolation this machine supports'],
    ['wrap claude|copilot', 'a Claude Code or Copilot CLI wrapper that runs it under the guard'],
    ['action lint|run|wrap|apply', "the GitHub Action's entry points"],
    ['version', 'print the version'],
  ],
};

/** A help text in the common layout; `heading` names the list (options, or commands). */
export function formatHelp(help: CommandHelp, heading = 'options'): string {
  const out = help.usage.map((u, i) => `${i === 0 ? 'usage:' : '      '} ${u}`);
  out.push('', ...wrap(help.about, WIDTH), '');
  if (help.options.length) {
    const width = Math.min(32, Math.max(...help.options.map(([flag]) => flag.length)));
    out.push(`${heading}:`);
    const hang = ' '.repeat(width + 4);
    for (const [flag, text] of help.options) {
      const lines = wrap(typeof text === 'function' ? text() : text, WIDTH - hang.length).map((l) => hang + l);
      // A flag wider than the column gets a line of its own.
      if (flag.length > width) out.push(`  ${flag}`, ...lines);
      else out.push(`  ${flag.padEnd(width)}  ${lines[0].trimStart()}`, ...lines.slice(1));
    }
    out.push('');
  }
  if (help.notes?.length) out.push(...help.notes.flatMap((n) => wrap(n, WIDTH)), '');
  return out.join('\n');
}

/** Help for `command`, or the general help. */
export function helpFor(command: string | undefined): string {
  const known = command !== undefined ? HELP[command] : undefined;
  return known ? formatHelp(known) : formatHelp(GENERAL_HELP, 'commands');
}

/** Whether the words before `--` ask for help. */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Flags (`--name`) a usage text names: what the README must document. */
export function flagsIn(text: string): string[] {
  return [...new Set(text.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])];
}
