// `agent-guard wrap claude|copilot`: a small executable that stands in for an agent CLI and runs the
// real one under the guard. Agent actions that start the CLI themselves can then be pointed at it, so
// the agent runs in the jail while the action keeps doing everything else: claude-code-action takes
// `path_to_claude_code_executable`, actions/ai-inference v3 takes `copilot-cli-path` (it spawns
// `copilot -p PROMPT -s --no-ask-user [--model M] [--allow-tool=T]...` with its own environment, which
// holds COPILOT_GITHUB_TOKEN: the guard reads it, the Copilot CLI gets a placeholder).
//
// Every path in the wrapper (node, the guard, the real CLI) is resolved when it is written, so
// nothing at run time (PATH, the workspace) decides what runs on the host.

import fs from 'node:fs';
import path from 'node:path';
import { GUARD_FAILURE_EXIT, GuardError } from './errors';
import { parseRunArgs, type RunOptions } from './options';
import { readTrustDecision, untrustedRefusal } from './untrusted';
import { ArgReader } from '../args';

/** Every wrapper says so in its first lines; a CLI found on PATH that says it is never wrapped again. */
export const WRAPPER_MARKER = 'written by `agent-guard wrap';

interface WrappableAgent {
  /** What the agent is called in messages. */
  title: string;
  /** Providers it can reach; the first is the default. */
  providers: string[];
  /** The action input that takes the wrapper's path. */
  actionInput: string;
}

/** The agent CLIs an agent action starts by a path it takes as an input. */
export const WRAPPABLE: Record<string, WrappableAgent> = {
  // claude-code-action's default, use_bedrock, use_vertex, use_foundry.
  claude: { title: 'Claude Code', providers: ['anthropic', 'bedrock', 'vertex', 'foundry'], actionInput: "claude-code-action's path_to_claude_code_executable" },
  copilot: { title: 'the Copilot CLI', providers: ['copilot'], actionInput: "actions/ai-inference's copilot-cli-path" },
};
export type WrappableName = keyof typeof WRAPPABLE;

const WRAP_SYNOPSIS = 'usage: agent-guard wrap claude|copilot [--install DIR] [--claude PATH|--copilot PATH] [--allow-on-untrusted] [-- GUARD_OPTION...]';

export interface WrapSpec {
  /** The wrapped CLI's name (claude, copilot): the wrapper is installed under it. */
  name: WrappableName;
  /** Absolute path of the node binary that runs the guard. */
  node: string;
  /** Absolute path of the guard's script (dist/cli.js). */
  guard: string;
  /** Absolute path of the real agent executable. */
  agent: string;
  /** `agent-guard run` options, before `--`. */
  guardArgs: string[];
}

export interface WrapIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The running node and guard script: what the wrapper will call. */
  node: string;
  guard: string;
}

/** POSIX shell single quoting: safe for any byte string but NUL. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderWrapper(spec: WrapSpec): string {
  const words = [spec.node, spec.guard, 'run', ...spec.guardArgs, '--', spec.agent].map(shellQuote);
  return [
    '#!/bin/sh',
    `# ${WRAPPABLE[spec.name].title} under agent-guard, ${WRAPPER_MARKER} ${spec.name}\`. The real CLI runs in the`,
    "# jail: no secrets, no network but its model API through the guard's proxy, which holds the key.",
    `exec ${words.join(' ')} "$@"`,
    '',
  ].join('\n');
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function isExecutableFile(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isWrapper(p: string): boolean {
  try {
    const fd = fs.openSync(p, 'r');
    try {
      const buf = Buffer.alloc(512);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString('utf8').includes(WRAPPER_MARKER);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** The real `name` on PATH: absolute entries only, skipping `exclude` folders and our own wrappers. */
export function findRealAgent(name: string, pathEnv: string | undefined, exclude: string[]): string | undefined {
  const skip = exclude.map(realOrSelf);
  for (const dir of (pathEnv ?? '').split(':')) {
    if (!path.isAbsolute(dir) || skip.includes(realOrSelf(dir))) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate) && !isWrapper(candidate)) return realOrSelf(candidate);
  }
  return undefined;
}

interface WrapArgs {
  name: WrappableName;
  install?: string;
  agentPath?: string;
  allowOnUntrusted: boolean;
  guardArgs: string[];
}

function parseWrapArgs(args: string[]): WrapArgs {
  const [agent, ...rest] = args;
  if (!agent || !Object.hasOwn(WRAPPABLE, agent)) throw new GuardError('usage', `wrap supports ${Object.keys(WRAPPABLE).join(' and ')}${agent ? `, not '${agent}'` : ''}. ${WRAP_SYNOPSIS}`);
  const out: WrapArgs = { name: agent, allowOnUntrusted: false, guardArgs: [] };
  const reader = new ArgReader(rest, (message) => new GuardError('usage', message));
  while (reader.next()) {
    const { arg, flag } = reader;
    if (arg === '--') {
      out.guardArgs = reader.rest();
      break;
    }
    const value = () => reader.value();
    if (flag === '--install') out.install = value();
    else if (flag === `--${agent}`) out.agentPath = value();
    else if (flag === '--allow-on-untrusted') out.allowOnUntrusted = true;
    else throw new GuardError('usage', `unknown option '${arg}' (guard options go after --). ${WRAP_SYNOPSIS}`);
  }
  if (out.guardArgs.includes('--')) throw new GuardError('usage', `the guard options after -- cannot hold another --: the command is the real ${agent}`);
  return out;
}

export interface PreparedWrapper {
  spec: WrapSpec;
  options: RunOptions;
  text: string;
}

export interface WrapperInput {
  /** The real CLI (default: `name` on PATH). */
  agentPath?: string;
  install?: string;
  guardArgs: string[];
  allowOnUntrusted: boolean;
}

/**
 * Resolve and check everything the wrapper needs. Throws GuardError with one line when a path is
 * missing, a guard option is bad, or the wrapper or the guard would sit where the agent can write.
 */
export function prepareWrapper(name: WrappableName, input: WrapperInput, io: Pick<WrapIO, 'env' | 'cwd' | 'node' | 'guard'>): PreparedWrapper {
  const agent = WRAPPABLE[name];
  const workspace = realOrSelf(io.env.GITHUB_WORKSPACE || io.cwd);
  const installDir = input.install ? path.resolve(io.cwd, input.install) : undefined;
  if (installDir && isInside(realOrSelf(installDir), workspace)) {
    throw new GuardError('usage', `--install ${installDir} is inside the workspace ${workspace}, which the agent can write; install it outside (e.g. "$RUNNER_TEMP/agent-guard")`);
  }
  const guard = realOrSelf(path.resolve(io.cwd, io.guard));
  if (!fs.existsSync(guard)) throw new GuardError('usage', `cannot find the guard's own script at ${guard}`);
  if (isInside(guard, workspace)) {
    throw new GuardError('usage', `agent-guard itself (${guard}) is inside the workspace ${workspace}, which the agent can rewrite; install agent-guard outside it`);
  }
  const node = realOrSelf(io.node);
  if (isInside(node, workspace)) throw new GuardError('usage', `node (${node}) is inside the workspace ${workspace}, which the agent can rewrite`);
  let real: string | undefined;
  if (input.agentPath) {
    real = realOrSelf(path.resolve(io.cwd, input.agentPath));
    if (!isExecutableFile(real)) throw new GuardError('usage', `--${name} ${real} is not an executable file`);
    if (isWrapper(real)) throw new GuardError('usage', `--${name} ${real} is an agent-guard wrapper, not ${agent.title}`);
  } else {
    real = findRealAgent(name, io.env.PATH, installDir ? [installDir] : []);
    if (!real) throw new GuardError('usage', `cannot find ${name} on PATH: install ${agent.title} first, or name it with --${name} PATH`);
  }
  const guardArgs = [...input.guardArgs];
  if (!guardArgs.some((a) => a === '--provider' || a.startsWith('--provider='))) guardArgs.unshift('--provider', agent.providers[0]);
  const options = parseRunArgs([...guardArgs, '--', real]);
  if (!options.providers.some((p) => agent.providers.includes(p.name))) {
    throw new GuardError('usage', `${agent.title} talks to ${agent.providers.join(', ')} only: the guard options must include --provider ${agent.providers.join(', or ')}`);
  }
  // In a workflow run, opening egress or passing variables is decided against who wrote the input.
  if (io.env.GITHUB_ACTIONS === 'true') {
    const refusal = untrustedRefusal(readTrustDecision(io.env), options, input.allowOnUntrusted, '--allow-on-untrusted');
    if (refusal) throw new GuardError('usage', refusal);
  }
  const spec: WrapSpec = { name, node, guard, agent: real, guardArgs };
  return { spec, options, text: renderWrapper(spec) };
}

/** prepareWrapper for Claude Code, as claude-code-action's path_to_claude_code_executable runs it. */
export function prepareClaudeWrapper(
  input: { claude?: string; install?: string; guardArgs: string[]; allowOnUntrusted: boolean },
  io: Pick<WrapIO, 'env' | 'cwd' | 'node' | 'guard'>,
): PreparedWrapper {
  return prepareWrapper('claude', { ...input, agentPath: input.claude }, io);
}

/** Write the wrapper as DIR/NAME (mode 0755), replacing any earlier one in one rename. */
export function installWrapper(dir: string, text: string, name: WrappableName = 'claude'): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text, { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);
  return target;
}

export function wrapMain(args: string[], io: WrapIO): number {
  try {
    const parsed = parseWrapArgs(args);
    const prepared = prepareWrapper(parsed.name, parsed, io);
    if (!parsed.install) {
      io.stdout.write(prepared.text);
      return 0;
    }
    const target = installWrapper(path.resolve(io.cwd, parsed.install), prepared.text, parsed.name);
    io.stdout.write(`${target}\n`);
    io.stderr.write(`agent-guard: wrapper installed: ${target} runs ${prepared.spec.agent} under the guard; set ${WRAPPABLE[parsed.name].actionInput} to it\n`);
    return 0;
  } catch (err) {
    if (err instanceof GuardError) io.stderr.write(`agent-guard: ${err.message}\n`);
    else io.stderr.write(`agent-guard: cannot write the wrapper: ${(err as Error).message}\n`);
    return GUARD_FAILURE_EXIT;
  }
}
