// The one policy check. Every request, whether it came in through the `gh` shim, the REST bridge, the
// GraphQL bridge or a deferred file at apply time, is a GrantRequest checked here against the grants
// and the context the guard read before the agent started. Only what passes is performed or recorded.
import type { GrantContext } from './context';
import { grantRules, type GrantKind, type RequestKind } from './rules';
import type { Grant } from './spec';
import { checkText, type TextPolicy } from './text';

interface Target {
  owner: string;
  repo: string;
}

export interface InlineComment {
  path: string;
  body: string;
  line?: number;
  side?: 'LEFT' | 'RIGHT';
  startLine?: number;
  startSide?: 'LEFT' | 'RIGHT';
}

export type ReviewEvent = 'COMMENT' | 'REQUEST_CHANGES' | 'APPROVE';

export type GrantRequest = Target &
  (
    | { kind: 'comment.create'; number: number; body: string }
    /** ownIndex: the agent's own comment, by the order it was created in this run (kept across --defer). */
    | { kind: 'comment.update'; commentId: number; ownIndex?: number; body: string }
    | { kind: 'review-comment.update'; commentId: number; body: string }
    | { kind: 'labels.add'; number: number; labels: string[] }
    | { kind: 'labels.remove'; number: number; label: string }
    | { kind: 'review.create'; number: number; body: string; event: ReviewEvent; comments: InlineComment[]; commitId?: string }
    | ({ kind: 'review.comment'; number: number; commitId?: string } & InlineComment)
    | { kind: 'review.reply'; number: number; commentId: number; body: string }
    | { kind: 'pull-request.create'; title: string; body: string; draft: boolean }
  );

export interface GrantState {
  counts: Map<string, number>;
  /** Ids of the comments the agent created in this run, in order. */
  ownComments: number[];
}

export function newGrantState(): GrantState {
  return { counts: new Map(), ownComments: [] };
}

export interface PolicyInput {
  grants: Grant[];
  context: GrantContext;
  secrets: string[];
  allowLinks: boolean;
}

export type Verdict = { ok: true; grant: GrantKind; request: GrantRequest } | { ok: false; grant?: GrantKind; reason: string };

const REVIEW_EVENT_VALUE: Record<ReviewEvent, string> = { COMMENT: 'comment', REQUEST_CHANGES: 'request-changes', APPROVE: 'approve' };

class Refused extends Error {}
const refuse = (reason: string): never => {
  throw new Refused(reason);
};

function textPolicy(input: PolicyInput, grant: Grant): Omit<TextPolicy, 'maxBytes'> & { maxBytes: number } {
  const rules = grantRules();
  return {
    secrets: input.secrets,
    credentialShapes: rules.credentialShapes,
    githubHosts: [...rules.githubHosts, input.context.serverHost],
    allowLinks: input.allowLinks,
    maxBytes: grant.caps['max-bytes'] ?? 65536,
    maxMentions: grant.caps['max-mentions'],
  };
}

function checkedText(input: PolicyInput, grant: Grant, text: unknown, what: string, maxBytes?: number): string {
  const policy = textPolicy(input, grant);
  const verdict = checkText(typeof text === 'string' ? text : (undefined as unknown as string), maxBytes ? { ...policy, maxBytes } : policy, what);
  if (!verdict.ok) refuse(verdict.reason);
  return (verdict as { text: string }).text;
}

function sameRepository(req: Target, ctx: GrantContext): void {
  if (req.owner.toLowerCase() !== ctx.owner.toLowerCase() || req.repo.toLowerCase() !== ctx.repo.toLowerCase()) {
    refuse(`${req.owner}/${req.repo} is not the triggering repository ${ctx.owner}/${ctx.repo}`);
  }
}

function triggeringNumber(number: number, ctx: GrantContext, needPullRequest: boolean): void {
  if (ctx.number === undefined) refuse('the triggering event has no issue or pull request to act on');
  if (number !== ctx.number) refuse(`#${number} is not the triggering ${ctx.isPullRequest ? 'pull request' : 'issue'} #${ctx.number}`);
  if (needPullRequest && !ctx.isPullRequest) refuse(`#${number} is an issue, not a pull request`);
}

function safeRepoPath(path: unknown): string {
  if (typeof path !== 'string' || !path || path.startsWith('/') || path.split('/').includes('..') || /[\u0000-\u001f]/.test(path)) {
    refuse('an inline comment names no valid repository path');
  }
  return path as string;
}

function take(state: GrantState, key: string, cap: number | undefined, what: string, n = 1): void {
  const used = state.counts.get(key) ?? 0;
  if (cap !== undefined && used + n > cap) refuse(`${what}: cap of ${cap} reached`);
}

function commit(state: GrantState, key: string, n = 1): void {
  state.counts.set(key, (state.counts.get(key) ?? 0) + n);
}

/** Which grant covers a request kind, given what the request targets. */
function grantFor(kind: RequestKind, grants: Grant[]): Grant | undefined {
  const rules = grantRules();
  return grants.find((g) => rules.grants[g.kind].requests.includes(kind));
}

/**
 * Check one request. On success the returned request carries the neutralised text and the state has
 * counted it; on refusal nothing is counted.
 */
export function checkRequest(req: GrantRequest, input: PolicyInput, state: GrantState): Verdict {
  const { context: ctx, grants } = input;
  const pending: [string, number][] = [];
  let grantKind: GrantKind | undefined;
  try {
    sameRepository(req, ctx);
    const byKind = (kind: GrantKind) => grants.find((g) => g.kind === kind);
    let grant: Grant | undefined;
    if (req.kind === 'comment.update' || req.kind === 'review-comment.update') {
      // The tracking comment (update-comment), or one the agent created itself (comment).
      const tracking = byKind('update-comment');
      const trackingId = tracking?.commentId ?? ctx.trackingCommentId;
      const ownIndex = req.kind === 'comment.update' ? state.ownComments.indexOf(req.commentId) : -1;
      if (tracking && trackingId !== undefined && req.commentId === trackingId) grant = tracking;
      else if (ownIndex >= 0 && byKind('comment')) {
        grant = byKind('comment');
        (req as { ownIndex?: number }).ownIndex = ownIndex;
      } else if (!tracking && !byKind('comment')) refuse('no grant allows editing comments');
      else refuse(`comment ${req.commentId} is neither the tracking comment nor one the agent created in this run`);
    } else {
      grant = grantFor(req.kind, grants);
      if (!grant) refuse(`no grant allows ${req.kind}`);
    }
    const g = grant as Grant;
    grantKind = g.kind;
    const count = (key: string, cap: number | undefined, what: string, n = 1) => {
      take(state, `${g.kind}:${key}`, cap, what, n);
      pending.push([`${g.kind}:${key}`, n]);
    };
    let out: GrantRequest;
    switch (req.kind) {
      case 'comment.create':
        triggeringNumber(req.number, ctx, false);
        count('max', g.caps.max, 'comments');
        out = { ...req, body: checkedText(input, g, req.body, 'comment body') };
        break;
      case 'comment.update':
      case 'review-comment.update':
        if (g.kind === 'comment') count('max-edits', g.caps['max-edits'], 'comment edits');
        else count('max', g.caps.max, 'tracking comment updates');
        out = { ...req, body: checkedText(input, g, req.body, 'comment body') };
        break;
      case 'labels.add':
      case 'labels.remove': {
        triggeringNumber(req.number, ctx, false);
        const names = req.kind === 'labels.add' ? req.labels : [req.label];
        if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string')) refuse('no label names given');
        const granted = names.map((name) => g.values.find((v) => v.toLowerCase() === name.toLowerCase()) ?? refuse(`label "${name.slice(0, 100)}" is not in the grant (${g.values.join(', ')})`));
        count('max', g.caps.max, 'label changes', names.length);
        out = req.kind === 'labels.add' ? { ...req, labels: granted } : { ...req, label: granted[0] };
        break;
      }
      case 'review.create': {
        triggeringNumber(req.number, ctx, true);
        const wanted = REVIEW_EVENT_VALUE[req.event];
        if (!wanted) refuse('a review needs an event (COMMENT, REQUEST_CHANGES or APPROVE); pending reviews are not granted');
        if (!g.values.includes(wanted)) refuse(`a review with event ${req.event} is not in the grant (${g.values.join(', ')})`);
        count('max', g.caps.max, 'reviews');
        const comments = Array.isArray(req.comments) ? req.comments : [];
        count('max-comments', g.caps['max-comments'], 'inline review comments', comments.length);
        out = {
          ...req,
          body: req.body ? checkedText(input, g, req.body, 'review body') : '',
          comments: comments.map((c) => ({ ...c, path: safeRepoPath(c.path), body: checkedText(input, g, c.body, 'inline comment') })),
        };
        break;
      }
      case 'review.comment':
        triggeringNumber(req.number, ctx, true);
        count('max-comments', g.caps['max-comments'], 'inline review comments');
        out = { ...req, path: safeRepoPath(req.path), body: checkedText(input, g, req.body, 'inline comment') };
        break;
      case 'review.reply':
        triggeringNumber(req.number, ctx, true);
        count('max-comments', g.caps['max-comments'], 'inline review comments');
        out = { ...req, body: checkedText(input, g, req.body, 'reply') };
        break;
      case 'pull-request.create':
        count('max', g.caps.max, 'pull requests');
        out = {
          ...req,
          title: checkedText(input, g, req.title, 'pull request title', 256).replace(/[\r\n]+/g, ' '),
          body: req.body ? checkedText(input, g, req.body, 'pull request body') : '',
        };
        break;
      default:
        refuse(`unknown request kind ${(req as { kind: string }).kind}`);
        return { ok: false, reason: 'unreachable' };
    }
    for (const [key, n] of pending) commit(state, key, n);
    return { ok: true, grant: g.kind, request: out };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, grant: grantKind, reason: err.message };
    throw err;
  }
}
