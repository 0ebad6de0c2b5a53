// `agent-guard wrap claude`: a small executable that stands in for Claude Code and runs the real one
// under the guard. Agent actions that start Claude Code themselves (claude-code-action takes
// `path_to_claude_code_executable`) can then be pointed at it, so the agent runs in the jail while
// the action keeps doing everything else.
//
// Every path in the wrapper (node, the guard, the real claude) is resolved when it is written, so
// nothing at run time (PATH, the workspace) decides what runs on the host.

import fs from 'node:fs';
import path from 'node:path';
import { GUARD_FAILURE_EXIT, GuardError } from './errors';
import { parseRunArgs, type RunOptions } from './options';
import { readTrustDecision, untrustedRefusal } from './untrusted';

export const WRAPPER_MARKER = 'written by `agent-guard wrap claude`';
/** Providers Claude Code can reach (claude-code-action's default, use_bedrock, use_vertex). */
const CLAUDE_PROVIDERS = ['anthropic', 'bedrock', 'vertex'];

const WRAP_SYNOPSIS = 'usage: agent-guard wrap claude [--install DIR] [--claude PATH] [--allow-on-untrusted] [-- GUARD_OPTION...]';

export interface WrapSpec {
  /** Absolute path of the node binary that runs the guard. */
  node: string;
  /** Absolute path of the guard's script (dist/cli.js). */
  guard: string;
  /** Absolute path of the real Claude Code executable. */
  claude: string;
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

export function renderClaudeWrapper(spec: WrapSpec): string {
  const words = [spec.node, spec.guard, 'run', ...spec.guardArgs, '--', spec.claude].map(shellQuote);
  return [
    '#!/bin/sh',
    `# Claude Code under agent-guard, ${WRAPPER_MARKER}. The real claude runs in the jail: no`,
    "# secrets, no network but the Anthropic API through the guard's proxy, which holds the key.",
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

/** The real `claude` on PATH: absolute entries only, skipping `exclude` folders and our own wrappers. */
export function findRealClaude(pathEnv: string | undefined, exclude: string[]): string | undefined {
  const skip = exclude.map(realOrSelf);
  for (const dir of (pathEnv ?? '').split(':')) {
    if (!path.isAbsolute(dir) || skip.includes(realOrSelf(dir))) continue;
    const candidate = path.join(dir, 'claude');
    if (isExecutableFile(candidate) && !isWrapper(candidate)) return realOrSelf(candidate);
  }
  return undefined;
}

interface WrapArgs {
  install?: string;
  claude?: string;
  allowOnUntrusted: boolean;
  guardArgs: string[];
}

function parseWrapArgs(args: string[]): WrapArgs {
  const [agent, ...rest] = args;
  if (agent !== 'claude') throw new GuardError('usage', `wrap supports claude only${agent ? `, not '${agent}'` : ''}. ${WRAP_SYNOPSIS}`);
  const out: WrapArgs = { allowOnUntrusted: false, guardArgs: [] };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--') {
      out.guardArgs = rest.slice(i + 1);
      break;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (flag !== arg) return arg.slice(eq + 1);
      if (i + 1 >= rest.length) throw new GuardError('usage', `${flag} needs a value`);
      return rest[++i];
    };
    switch (flag) {
      case '--install':
        out.install = value();
        break;
      case '--claude':
        out.claude = value();
        break;
      case '--allow-on-untrusted':
        out.allowOnUntrusted = true;
        break;
      default:
        throw new GuardError('usage', `unknown option '${arg}' (guard options go after --). ${WRAP_SYNOPSIS}`);
    }
  }
  if (out.guardArgs.includes('--')) throw new GuardError('usage', 'the guard options after -- cannot hold another --: the command is the real claude');
  return out;
}

export interface PreparedWrapper {
  spec: WrapSpec;
  options: RunOptions;
  text: string;
}

/**
 * Resolve and check everything the wrapper needs. Throws GuardError with one line when a path is
 * missing, a guard option is bad, or the wrapper or the guard would sit where the agent can write.
 */
export function prepareClaudeWrapper(
  input: { claude?: string; install?: string; guardArgs: string[]; allowOnUntrusted: boolean },
  io: Pick<WrapIO, 'env' | 'cwd' | 'node' | 'guard'>,
): PreparedWrapper {
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
  let claude: string | undefined;
  if (input.claude) {
    claude = realOrSelf(path.resolve(io.cwd, input.claude));
    if (!isExecutableFile(claude)) throw new GuardError('usage', `--claude ${claude} is not an executable file`);
    if (isWrapper(claude)) throw new GuardError('usage', `--claude ${claude} is an agent-guard wrapper, not Claude Code`);
  } else {
    claude = findRealClaude(io.env.PATH, installDir ? [installDir] : []);
    if (!claude) throw new GuardError('usage', 'cannot find claude on PATH: install Claude Code first, or name it with --claude PATH');
  }
  const guardArgs = [...input.guardArgs];
  if (!guardArgs.some((a) => a === '--provider' || a.startsWith('--provider='))) guardArgs.unshift('--provider', 'anthropic');
  const options = parseRunArgs([...guardArgs, '--', claude]);
  if (!options.providers.some((p) => CLAUDE_PROVIDERS.includes(p.name))) {
    throw new GuardError('usage', `Claude Code talks to the Anthropic API, Bedrock or Vertex AI: the guard options must include --provider ${CLAUDE_PROVIDERS.join(', or ')}`);
  }
  // In a workflow run, opening egress or passing variables is decided against who wrote the input.
  if (io.env.GITHUB_ACTIONS === 'true') {
    const refusal = untrustedRefusal(readTrustDecision(io.env), options, input.allowOnUntrusted, '--allow-on-untrusted');
    if (refusal) throw new GuardError('usage', refusal);
  }
  const spec: WrapSpec = { node, guard, claude, guardArgs };
  return { spec, options, text: renderClaudeWrapper(spec) };
}

/** Write the wrapper as DIR/claude (mode 0755), replacing any earlier one in one rename. */
export function installWrapper(dir: string, text: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = path.join(dir, 'claude');
  const tmp = path.join(dir, `.claude.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text, { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);
  return target;
}

export function wrapMain(args: string[], io: WrapIO): number {
  try {
    const parsed = parseWrapArgs(args);
    const prepared = prepareClaudeWrapper(parsed, io);
    if (!parsed.install) {
      io.stdout.write(prepared.text);
      return 0;
    }
    const target = installWrapper(path.resolve(io.cwd, parsed.install), prepared.text);
    io.stdout.write(`${target}\n`);
    io.stderr.write(`agent-guard: wrapper installed: ${target} runs ${prepared.spec.claude} under the guard; set path_to_claude_code_executable to it\n`);
    return 0;
  } catch (err) {
    if (err instanceof GuardError) io.stderr.write(`agent-guard: ${err.message}\n`);
    else io.stderr.write(`agent-guard: cannot write the wrapper: ${(err as Error).message}\n`);
    return GUARD_FAILURE_EXIT;
  }
}
