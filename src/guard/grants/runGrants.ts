// What runGuarded needs from the grants, in one place: the token and context read before the agent
// starts, the bridge server and its socket, the `gh` shim folder, and the agent's environment.
import fs from 'node:fs';
import path from 'node:path';
import type { AuditLog } from '../audit';
import { GuardError } from '../errors';
import type { RunOptions } from '../options';
import { readGrantContext } from './context';
import { ghShimSource } from './ghShim';
import { createGitHubClient, githubApiBase } from './github';
import { GrantSession } from './session';

/** The bridge's loopback port inside the jail (the netns is empty, so a fixed number cannot clash). */
export const GITHUB_BRIDGE_PORT = 41098;
export const GITHUB_BRIDGE_BASE = `http://127.0.0.1:${GITHUB_BRIDGE_PORT}`;

/** The token for grants, from the guard's environment; undefined when the run has no grants. */
export function readGithubToken(opts: RunOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (!opts.grants?.length) return undefined;
  const name = opts.githubTokenEnv ?? 'GITHUB_TOKEN';
  const token = env[name];
  if (!token) throw new GuardError('grants', `--grant needs a GitHub token in the guard's environment: ${name} is not set`);
  return token;
}

export interface RunGrants {
  session: GrantSession;
  bridge: { name: string; port: number; hostSocket: string };
  /** Host folder with the `gh` shim, bound read-only at /run/agent-guard/bin. */
  toolsDir: string;
  jailToolsDir: string;
  agentEnv(pathInside: string): Record<string, string>;
}

export function prepareRunGrants(input: {
  opts: RunOptions;
  env: NodeJS.ProcessEnv;
  token: string;
  secrets: string[];
  audit: AuditLog;
  privateDir: string;
  jailDir: string;
  trackingCommentId?: number;
}): RunGrants {
  const { opts, env, privateDir } = input;
  const grants = opts.grants ?? [];
  const updateGrant = grants.find((g) => g.kind === 'update-comment');
  const context = readGrantContext(env, updateGrant?.commentId ?? input.trackingCommentId);
  if (updateGrant && context.trackingCommentId === undefined) {
    throw new GuardError('grants', '--grant update-comment: no tracking comment id (update-comment=ID, CLAUDE_COMMENT_ID, or the github_comment server in --mcp-config)');
  }
  const session = new GrantSession(
    {
      grants,
      context,
      secrets: input.secrets,
      allowLinks: opts.allowLinks ?? false,
      github: createGitHubClient(githubApiBase(env), input.token),
      audit: input.audit,
      deferFile: opts.deferFile ? path.resolve(opts.deferFile) : undefined,
    },
    GITHUB_BRIDGE_BASE,
  );
  const toolsDir = path.join(privateDir, 'bin');
  fs.mkdirSync(toolsDir, { mode: 0o755 });
  fs.writeFileSync(path.join(toolsDir, 'gh'), ghShimSource(process.execPath), { mode: 0o755 });
  const jailToolsDir = `${input.jailDir}/bin`;
  return {
    session,
    bridge: { name: 'github', port: GITHUB_BRIDGE_PORT, hostSocket: path.join(privateDir, 'github.sock') },
    toolsDir,
    jailToolsDir,
    agentEnv: (pathInside) => GrantSession.agentEnv(GITHUB_BRIDGE_BASE, context, jailToolsDir, pathInside),
  };
}
