// The pull-request grant: the agent's checked changes (a ChangeSet from the boundary) pushed by the
// guard through the Git Data API to a brand-new branch and opened as a pull request against the base.
// blobs → tree (on the base commit's tree) → commit → new ref `agent-guard/…` → pulls. The ref is only
// ever created, never updated: an existing branch is never pushed to.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { ChangeSet } from '../boundary/types';
import type { GrantContext } from './context';
import { expectOk, GitHubError, type GitHubApi } from './github';
import { grantRules } from './rules';
import type { Grant } from './spec';
import { findSecret } from './text';

export type PullRequestFile = { path: string; mode: 0o644 | 0o755; content: Buffer } | { path: string; delete: true };

export interface PullRequestText {
  title: string;
  body: string;
  draft: boolean;
}

export interface OpenedPullRequest {
  number: number;
  url: string;
  branch: string;
}

export class PullRequestRefused extends Error {}

/** A glob as a matcher: `**` any depth, `*` and `?` within one segment; a plain path covers what is under it. */
export function globMatcher(glob: string): (path: string) => boolean {
  if (!/[*?]/.test(glob)) {
    const dir = glob.replace(/\/+$/, '');
    return (p) => p === dir || p.startsWith(`${dir}/`);
  }
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`);
  return (p) => re.test(p);
}

/** Why `path` is outside what the grant allows, or undefined. */
export function pathRefusal(path: string, grant: Grant): string | undefined {
  if (grant.values.length > 0) {
    return grant.values.some((g) => globMatcher(g)(path)) ? undefined : `${path} is outside the granted paths (${grant.values.join(', ')})`;
  }
  const excluded = grantRules().pullRequestExclude.find((g) => globMatcher(g)(path));
  return excluded ? `${path} is workflow or tool configuration (${excluded}); name it in pull-request=GLOB to allow it` : undefined;
}

/** The change set's files with their bytes, each checked against the hash the boundary recorded. */
export function readChangeSet(changeSet: ChangeSet): PullRequestFile[] {
  return changeSet.files.map((f) => {
    if (f.kind === 'delete') return { path: f.path, delete: true as const };
    // The boundary brings in-workspace symlinks back; a pull request made through the API carries files only.
    if (f.kind === 'symlink') throw new PullRequestRefused(`${f.path} is a symlink: the pull-request grant carries files and deletions only`);
    const content = fs.readFileSync(f.contentFile);
    if (crypto.createHash('sha256').update(content).digest('hex') !== f.sha256) throw new PullRequestRefused(`${f.path} changed after it was checked`);
    return { path: f.path, mode: f.mode, content };
  });
}

/** Refuses (throws PullRequestRefused) files outside the grant, over the caps, or carrying secrets. */
export function checkPullRequestFiles(files: PullRequestFile[], grant: Grant, secrets: string[]): void {
  if (files.length === 0) throw new PullRequestRefused('the agent changed no files');
  if (files.length > grant.caps['max-files']) throw new PullRequestRefused(`${files.length} files changed, over the cap of ${grant.caps['max-files']}`);
  let total = 0;
  for (const f of files) {
    const outside = pathRefusal(f.path, grant);
    if (outside) throw new PullRequestRefused(outside);
    if ('delete' in f) continue;
    if (f.content.length > grant.caps['max-file-bytes']) throw new PullRequestRefused(`${f.path} is ${f.content.length} bytes, over the cap of ${grant.caps['max-file-bytes']}`);
    total += f.content.length;
    const secret = findSecret(f.content.toString('latin1'), secrets, grantRules().credentialShapes);
    if (secret) throw new PullRequestRefused(`${f.path} refused: ${secret}`);
  }
  if (total > grant.caps['max-total-bytes']) throw new PullRequestRefused(`the changes are ${total} bytes, over the cap of ${grant.caps['max-total-bytes']}`);
}

const seg = encodeURIComponent;

export async function openPullRequest(
  files: PullRequestFile[],
  text: PullRequestText,
  grant: Grant,
  github: GitHubApi,
  ctx: GrantContext,
  secrets: string[],
): Promise<OpenedPullRequest> {
  checkPullRequestFiles(files, grant, secrets);
  if (!ctx.baseBranch) throw new PullRequestRefused('the event payload names no base branch (repository.default_branch)');
  const repo = `/repos/${seg(ctx.owner)}/${seg(ctx.repo)}`;
  const parent =
    ctx.baseSha ?? ((await expectOk(github, 'GET', `${repo}/git/ref/heads/${ctx.baseBranch.split('/').map(seg).join('/')}`)).data as { object: { sha: string } }).object.sha;
  const baseTree = ((await expectOk(github, 'GET', `${repo}/git/commits/${seg(parent)}`)).data as { tree: { sha: string } }).tree.sha;
  const tree: unknown[] = [];
  for (const f of files) {
    if ('delete' in f) {
      tree.push({ path: f.path, mode: '100644', type: 'blob', sha: null });
      continue;
    }
    const blob = await expectOk(github, 'POST', `${repo}/git/blobs`, { content: f.content.toString('base64'), encoding: 'base64' });
    tree.push({ path: f.path, mode: f.mode === 0o755 ? '100755' : '100644', type: 'blob', sha: (blob.data as { sha: string }).sha });
  }
  const newTree = (await expectOk(github, 'POST', `${repo}/git/trees`, { base_tree: baseTree, tree })).data as { sha: string };
  const message = `${text.title}\n\nProposed by an agent run under agent-guard (run ${ctx.runId}).`;
  const commit = (await expectOk(github, 'POST', `${repo}/git/commits`, { message, tree: newTree.sha, parents: [parent] })).data as { sha: string };
  const branch = `agent-guard/run-${ctx.runId}-${crypto.randomBytes(3).toString('hex')}`;
  // Creating a ref that exists fails (422): the guard never moves a branch someone else has.
  const ref = await github.request('POST', `${repo}/git/refs`, { ref: `refs/heads/${branch}`, sha: commit.sha });
  if (ref.status !== 201) throw new GitHubError(ref.status, `cannot create the new branch ${branch}: GitHub answered ${ref.status}`);
  const pull = (await expectOk(github, 'POST', `${repo}/pulls`, { title: text.title, body: text.body, head: branch, base: ctx.baseBranch, draft: text.draft })).data as {
    number: number;
    html_url: string;
  };
  return { number: pull.number, url: pull.html_url, branch };
}
