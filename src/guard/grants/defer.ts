// --defer FILE: the checked requests of a run (and the bytes of the pull request's files), written by
// the guard after the agent exits, for `agent-guard apply FILE --grant ...` in a later job. The file is
// evidence, not authority: apply checks every request again against the grants *it* is given and the
// context of *its* run, and a file that does not parse exactly, or whose SHA-256 differs from the one
// the run printed, is refused whole.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { GuardError } from '../errors';
import type { GrantRequest } from './policy';
import type { PullRequestFile } from './pullRequest';

export const DEFER_FORMAT = 'agent-guard-deferred/1';

export interface DeferredFile {
  format: typeof DEFER_FORMAT;
  repository: string;
  runId: string;
  requests: GrantRequest[];
  /** The pull request's files, when a pull-request.create was recorded. */
  changes?: DeferredChange[];
}

export type DeferredChange = { path: string; mode: 0o644 | 0o755; sha256: string; content: string } | { path: string; delete: true };

export function deferredChanges(files: PullRequestFile[]): DeferredChange[] {
  return files.map((f) =>
    'delete' in f ? { path: f.path, delete: true as const } : { path: f.path, mode: f.mode, sha256: sha256(f.content), content: f.content.toString('base64') },
  );
}

export function sha256(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Writes the file (0600, replaced in one rename) and returns its SHA-256. The file may sit in the
 * workspace the agent could write: the temporary name is random and created exclusively, so a link
 * the agent left there is never followed, and the rename replaces a link rather than its target.
 */
export function writeDeferredFile(file: string, content: DeferredFile): string {
  const text = JSON.stringify(content, null, 1) + '\n';
  const tmp = `${file}.${crypto.randomBytes(8).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return sha256(text);
}

const REQUEST_FIELDS: Record<string, string[]> = {
  'comment.create': ['number', 'body'],
  'comment.update': ['commentId', 'ownIndex', 'body'],
  'review-comment.update': ['commentId', 'body'],
  'labels.add': ['number', 'labels'],
  'labels.remove': ['number', 'label'],
  'review.create': ['number', 'body', 'event', 'comments', 'commitId'],
  'review.comment': ['number', 'commitId', 'path', 'body', 'line', 'side', 'startLine', 'startSide'],
  'review.reply': ['number', 'commentId', 'body'],
  'pull-request.create': ['title', 'body', 'draft'],
};

function tampered(file: string, why: string): never {
  throw new GuardError('grants', `${file} is refused: ${why}`);
}

/** Reads and validates a deferred file; every field is checked for shape, unknown fields refuse it. */
export function readDeferredFile(file: string, expectedSha256?: string): DeferredFile & { files?: PullRequestFile[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new GuardError('grants', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (expectedSha256 !== undefined && sha256(text) !== expectedSha256.toLowerCase()) {
    tampered(file, `its SHA-256 is ${sha256(text)}, not the ${expectedSha256} the run recorded`);
  }
  let doc: DeferredFile;
  try {
    doc = JSON.parse(text);
  } catch {
    return tampered(file, 'it is not JSON');
  }
  if (doc?.format !== DEFER_FORMAT) tampered(file, `it is not an ${DEFER_FORMAT} file`);
  for (const k of Object.keys(doc)) if (!['format', 'repository', 'runId', 'requests', 'changes'].includes(k)) tampered(file, `unknown field "${k.slice(0, 40)}"`);
  if (typeof doc.repository !== 'string' || typeof doc.runId !== 'string' || !Array.isArray(doc.requests)) tampered(file, 'repository, runId or requests missing');
  for (const [i, r] of doc.requests.entries()) {
    const fields = REQUEST_FIELDS[(r as { kind?: string })?.kind ?? ''];
    if (!fields) tampered(file, `request ${i + 1} has an unknown kind`);
    for (const k of Object.keys(r)) if (!['kind', 'owner', 'repo', ...fields].includes(k)) tampered(file, `request ${i + 1} has an unknown field "${k.slice(0, 40)}"`);
    if (typeof r.owner !== 'string' || typeof r.repo !== 'string') tampered(file, `request ${i + 1} names no repository`);
  }
  let files: PullRequestFile[] | undefined;
  if (doc.changes !== undefined) {
    if (!Array.isArray(doc.changes)) tampered(file, 'changes is not a list');
    files = doc.changes.map((c, i) => {
      if (typeof c?.path !== 'string') tampered(file, `change ${i + 1} has no path`);
      if ('delete' in c) {
        if (c.delete !== true || Object.keys(c).length !== 2) tampered(file, `change ${i + 1} is malformed`);
        return { path: c.path, delete: true as const };
      }
      if ((c.mode !== 0o644 && c.mode !== 0o755) || typeof c.content !== 'string' || typeof c.sha256 !== 'string') tampered(file, `change ${i + 1} is malformed`);
      const content = Buffer.from(c.content, 'base64');
      if (sha256(content) !== c.sha256) tampered(file, `the content of ${c.path.slice(0, 100)} does not match its SHA-256`);
      return { path: c.path, mode: c.mode, content };
    });
  }
  return { ...doc, files };
}
