// The agent's command line enters the jail (its argv is in the jail's config and in /proc), so it must
// carry no secret. claude-code-action starts Claude Code with `--mcp-config '{"mcpServers":{...}}'`
// whose servers (github_comment, github_inline_comment, github_file_ops, github_ci) get the GitHub
// token inline in their `env`. Here every such value is replaced by the placeholder, the servers'
// GITHUB_API_URL points at the guard's GitHub bridge, and their programs (bun, the action's scripts)
// are made visible read-only in the jail. Any other argument that still carries a secret stops the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GuardError } from '../errors';
import { findExecutable } from '../jail';
import { GITHUB_TOKEN_PLACEHOLDER } from './session';

export interface AgentCommand {
  command: string[];
  /** Host paths the MCP servers need (programs, the folders of their scripts), made visible read-only. */
  visible: string[];
  /** The tracking comment id claude-code-action gave its github_comment server, if any. */
  trackingCommentId?: number;
}

/**
 * The folder a server script belongs to: the nearest one above it with a package.json (its project,
 * e.g. the action's folder). A script in no project, or a "project" that is a home or temp folder
 * itself, is not made visible: the jail never exposes a folder that may hold credentials.
 */
function projectRoot(file: string, neverVisible: string[]): string | undefined {
  let dir = path.dirname(fs.realpathSync(file));
  for (let i = 0; i < 6 && dir !== '/'; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return neverVisible.includes(dir) ? undefined : dir;
    dir = path.dirname(dir);
  }
  return undefined;
}

function neverVisibleDirs(env: NodeJS.ProcessEnv): string[] {
  const out = ['/', '/home', '/root', '/tmp', '/var/tmp', os.homedir(), env.HOME, env.RUNNER_TEMP].filter((d): d is string => !!d);
  return out.map((d) => {
    try {
      return fs.realpathSync(d);
    } catch {
      return d;
    }
  });
}

function rewriteMcpConfig(json: string, secrets: string[], bridge: string | undefined, hostEnv: NodeJS.ProcessEnv, out: AgentCommand): string {
  let config: { mcpServers?: Record<string, { command?: unknown; args?: unknown; env?: Record<string, unknown> }> };
  try {
    config = JSON.parse(json);
  } catch {
    return json;
  }
  for (const [name, server] of Object.entries(config.mcpServers ?? {})) {
    if (!server || typeof server !== 'object') continue;
    const env = server.env && typeof server.env === 'object' ? server.env : {};
    for (const [key, value] of Object.entries(env)) {
      if (typeof value !== 'string') continue;
      if (secrets.some((s) => value.includes(s))) env[key] = GITHUB_TOKEN_PLACEHOLDER;
      else if (bridge && (key === 'GITHUB_API_URL' || key === 'GITHUB_GRAPHQL_URL')) env[key] = key === 'GITHUB_API_URL' ? bridge : `${bridge}/graphql`;
    }
    if (name === 'github_comment' && typeof env.CLAUDE_COMMENT_ID === 'string' && /^[1-9][0-9]{0,15}$/.test(env.CLAUDE_COMMENT_ID)) {
      out.trackingCommentId = Number(env.CLAUDE_COMMENT_ID);
    }
    if (typeof server.command === 'string') {
      const program = findExecutable(server.command, hostEnv.PATH);
      if (program) {
        server.command = program;
        out.visible.push(program);
      }
    }
    if (Array.isArray(server.args)) {
      for (const arg of server.args) {
        const root = typeof arg === 'string' && path.isAbsolute(arg) && fs.existsSync(arg) ? projectRoot(arg, neverVisibleDirs(hostEnv)) : undefined;
        if (root) out.visible.push(root);
      }
    }
  }
  return JSON.stringify(config);
}

/**
 * A value of a secret-named variable that is the path of an existing file (GOOGLE_APPLICATION_CREDENTIALS,
 * KUBECONFIG) is a pointer, not the secret: the file itself is masked in the jail, and naming it in the
 * command gives nothing away.
 */
function isPointer(value: string): boolean {
  return path.isAbsolute(value) && !/[\s\0]/.test(value) && fs.existsSync(value);
}

export function prepareAgentCommand(command: string[], allSecrets: string[], bridge: string | undefined, env: NodeJS.ProcessEnv): AgentCommand {
  const secrets = allSecrets.filter((s) => !isPointer(s));
  const out: AgentCommand = { command: [], visible: [] };
  for (let i = 0; i < command.length; i++) {
    let arg = command[i];
    if (command[i - 1] === '--mcp-config' && i > 0) arg = rewriteMcpConfig(arg, secrets, bridge, env, out);
    else if (arg.startsWith('--mcp-config=')) arg = `--mcp-config=${rewriteMcpConfig(arg.slice('--mcp-config='.length), secrets, bridge, env, out)}`;
    if (secrets.some((s) => arg.includes(s))) {
      throw new GuardError('environment', `argument ${i} of the agent's command carries a secret the guard holds; pass secrets through the guard's environment, never the command line`);
    }
    out.command.push(arg);
  }
  return out;
}
