// Performing a checked request with the token (live runs and `apply`), or answering it as GitHub would
// without performing it (--defer). The outgoing body is always rebuilt from the checked request, never
// copied from what the agent sent.
import type { GrantContext } from './context';
import type { GitHubApi, GitHubResponse } from './github';
import { expectOk } from './github';
import type { GrantRequest, GrantState } from './policy';

const seg = encodeURIComponent;

function inline(c: { path: string; body: string; line?: number; side?: string; startLine?: number; startSide?: string }) {
  return { path: c.path, body: c.body, line: c.line, side: c.side, start_line: c.startLine, start_side: c.startSide };
}

/** The REST call for a checked request (not pull-request.create, which waits for the change set). */
export async function performRequest(req: GrantRequest, github: GitHubApi, ctx: GrantContext, state: GrantState): Promise<GitHubResponse> {
  const repo = `/repos/${seg(ctx.owner)}/${seg(ctx.repo)}`;
  switch (req.kind) {
    case 'comment.create': {
      const res = await github.request('POST', `${repo}/issues/${req.number}/comments`, { body: req.body });
      const id = (res.data as { id?: unknown })?.id;
      if (res.status === 201 && typeof id === 'number') state.ownComments.push(id);
      return res;
    }
    case 'comment.update':
      return github.request('PATCH', `${repo}/issues/comments/${req.commentId}`, { body: req.body });
    case 'review-comment.update':
      return github.request('PATCH', `${repo}/pulls/comments/${req.commentId}`, { body: req.body });
    case 'labels.add':
      return github.request('POST', `${repo}/issues/${req.number}/labels`, { labels: req.labels });
    case 'labels.remove':
      return github.request('DELETE', `${repo}/issues/${req.number}/labels/${seg(req.label)}`);
    case 'review.create':
      return github.request('POST', `${repo}/pulls/${req.number}/reviews`, {
        body: req.body || undefined,
        event: req.event,
        commit_id: req.commitId,
        comments: req.comments.length ? req.comments.map(inline) : undefined,
      });
    case 'review.comment': {
      // GitHub wants the commit; Octokit-based tools usually send it, the shim may not.
      const commitId = req.commitId ?? ((await expectOk(github, 'GET', `${repo}/pulls/${req.number}`)).data as { head: { sha: string } }).head.sha;
      return github.request('POST', `${repo}/pulls/${req.number}/comments`, { ...inline(req), commit_id: commitId });
    }
    case 'review.reply':
      return github.request('POST', `${repo}/pulls/${req.number}/comments/${req.commentId}/replies`, { body: req.body });
    case 'pull-request.create':
      throw new Error('pull requests are opened from the change set when the agent exits');
  }
}

const DEFERRED_ID_BASE = 900_000_000_000;

/** What GitHub would have answered, for a request recorded with --defer. */
export function deferredResponse(req: GrantRequest, ctx: GrantContext, state: GrantState, serial: number): { status: number; data: unknown } {
  const now = new Date().toISOString();
  const url = `https://${ctx.serverHost}/${ctx.owner}/${ctx.repo}/issues/${ctx.number ?? ''}`;
  switch (req.kind) {
    case 'comment.create': {
      const id = DEFERRED_ID_BASE + serial;
      state.ownComments.push(id);
      return { status: 201, data: { id, body: req.body, html_url: `${url}#deferred-${id}`, created_at: now, updated_at: now, user: { login: 'agent-guard-deferred' } } };
    }
    case 'comment.update':
    case 'review-comment.update':
      return { status: 200, data: { id: req.commentId, body: req.body, html_url: `${url}#deferred-${req.commentId}`, updated_at: now } };
    case 'labels.add':
      return { status: 200, data: req.labels.map((name) => ({ name })) };
    case 'labels.remove':
      return { status: 200, data: [] };
    case 'review.create':
      return { status: 200, data: { id: DEFERRED_ID_BASE + serial, state: req.event === 'COMMENT' ? 'COMMENTED' : req.event, body: req.body } };
    case 'review.comment':
    case 'review.reply':
      return { status: 201, data: { id: DEFERRED_ID_BASE + serial, body: req.body, html_url: `${url}#deferred` } };
    case 'pull-request.create':
      return { status: 202, data: { message: 'agent-guard opens this pull request from the checked changes when the agent exits' } };
  }
}
