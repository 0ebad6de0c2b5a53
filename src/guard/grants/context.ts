// What grants may target, read by the guard from its own environment before the agent starts: the
// triggering repository (GITHUB_REPOSITORY) and the issue or pull request the event is about
// (GITHUB_EVENT_PATH). Nothing the agent says can change these.
import fs from 'node:fs';
import { GuardError } from '../errors';

export interface GrantContext {
  owner: string;
  repo: string;
  /** The triggering issue or pull request, when the event has one. */
  number?: number;
  isPullRequest: boolean;
  eventName: string;
  /** Base branch for a pull request grant: the PR's base, else the repository's default branch. */
  baseBranch?: string;
  /** Commit the workspace was checked out at, when it lies on the base branch (not a PR merge commit). */
  baseSha?: string;
  /** The tracking comment update-comment may edit (update-comment=ID or CLAUDE_COMMENT_ID). */
  trackingCommentId?: number;
  runId: string;
  /** The GitHub web host (links to it stay live). */
  serverHost: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const num = (v: unknown): number | undefined => (Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

const PR_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']);

export function contextFromPayload(env: NodeJS.ProcessEnv, payload: unknown, trackingCommentId?: number): GrantContext {
  const full = env.GITHUB_REPOSITORY ?? '';
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(full);
  if (!m) throw new GuardError('grants', `GITHUB_REPOSITORY is ${full ? `"${full.slice(0, 80)}", not OWNER/REPO` : 'not set'}: grants need the triggering repository`);
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const p = obj(payload) ?? {};
  const pr = obj(p.pull_request);
  const issue = obj(p.issue);
  const number = num(pr?.number) ?? num(issue?.number);
  const isPullRequest = !!pr || !!obj(issue?.pull_request);
  const defaultBranch = str(obj(p.repository)?.default_branch);
  const baseBranch = str(obj(pr?.base)?.ref) ?? defaultBranch;
  const server = str(env.GITHUB_SERVER_URL) ?? 'https://github.com';
  let serverHost = 'github.com';
  try {
    serverHost = new URL(server).hostname.toLowerCase();
  } catch {
    // keep github.com
  }
  const envComment = /^[1-9][0-9]{0,15}$/.test(env.CLAUDE_COMMENT_ID ?? '') ? Number(env.CLAUDE_COMMENT_ID) : undefined;
  return {
    owner: m[1],
    repo: m[2],
    number,
    isPullRequest,
    eventName,
    baseBranch,
    baseSha: !PR_EVENTS.has(eventName) && /^[0-9a-f]{40}$/.test(env.GITHUB_SHA ?? '') ? env.GITHUB_SHA : undefined,
    trackingCommentId: trackingCommentId ?? envComment,
    runId: /^[0-9]+$/.test(env.GITHUB_RUN_ID ?? '') ? (env.GITHUB_RUN_ID as string) : String(Date.now()),
    serverHost,
  };
}

/** The context from GITHUB_REPOSITORY and the payload at GITHUB_EVENT_PATH (missing payload: no issue). */
export function readGrantContext(env: NodeJS.ProcessEnv, trackingCommentId?: number): GrantContext {
  let payload: unknown;
  const file = env.GITHUB_EVENT_PATH;
  if (file) {
    try {
      payload = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new GuardError('grants', `cannot read the event payload ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return contextFromPayload(env, payload, trackingCommentId);
}
