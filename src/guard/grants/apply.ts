// `agent-guard apply FILE --grant ...`: performs what a --defer run recorded, in a later job that holds
// the write token. Every request is checked again against the grants given *here* and the context of
// *this* run (GITHUB_REPOSITORY, GITHUB_EVENT_PATH); the grants the run had are never read from the
// file. All requests are checked before any is performed: one refusal refuses the whole file.
import fs from 'node:fs';
import { AuditLog, openGuardFile } from '../audit';
import { knownSecrets } from '../env';
import { GUARD_FAILURE_EXIT, GuardError } from '../errors';
import { logSafe } from '../workflowCommands';
import { readGrantContext } from './context';
import { readDeferredFile } from './defer';
import { createGitHubClient, githubApiBase } from './github';
import { performRequest } from './perform';
import { checkRequest, newGrantState, type GrantRequest, type PolicyInput } from './policy';
import { checkPullRequestFiles, openPullRequest } from './pullRequest';
import { addGrant, type Grant } from './spec';
import { ArgReader } from '../../args';

export const APPLY_USAGE =
  'usage: agent-guard apply FILE --grant GRANT... [--sha256 HEX] [--github-token-env NAME] [--allow-links] [--audit FILE]';

export interface ApplyOptions {
  file: string;
  grants: Grant[];
  sha256?: string;
  githubTokenEnv: string;
  allowLinks: boolean;
  auditFile?: string;
}

export function parseApplyArgs(args: string[]): ApplyOptions {
  const out: ApplyOptions = { file: '', grants: [], githubTokenEnv: 'GITHUB_TOKEN', allowLinks: false };
  const reader = new ArgReader(args, (message) => new GuardError('usage', message));
  while (reader.next()) {
    const { arg, flag } = reader;
    const value = () => reader.value();
    switch (flag) {
      case '--grant':
        addGrant(out.grants, value());
        break;
      case '--sha256':
        out.sha256 = value();
        if (!/^[0-9a-fA-F]{64}$/.test(out.sha256)) throw new GuardError('usage', '--sha256 wants 64 hex digits');
        break;
      case '--github-token-env':
        out.githubTokenEnv = value();
        break;
      case '--audit':
        out.auditFile = value();
        break;
      case '--allow-links':
        out.allowLinks = true;
        break;
      default:
        if (arg.startsWith('-') || out.file) throw new GuardError('usage', `unexpected "${arg}". ${APPLY_USAGE}`);
        out.file = arg;
    }
  }
  if (!out.file) throw new GuardError('usage', `no file to apply. ${APPLY_USAGE}`);
  if (out.grants.length === 0) throw new GuardError('usage', `apply needs the grants to check the requests against. ${APPLY_USAGE}`);
  return out;
}

export interface ApplyIO {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface ApplyResult {
  performed: number;
  audit: AuditLog;
}

/** Check everything, then perform everything. Throws GuardError('grants') on any refusal. */
export async function applyDeferred(opts: ApplyOptions, io: ApplyIO): Promise<ApplyResult> {
  const token = io.env[opts.githubTokenEnv];
  if (!token) throw new GuardError('grants', `apply needs a GitHub token: ${opts.githubTokenEnv} is not set`);
  const deferred = readDeferredFile(opts.file, opts.sha256);
  const updateGrant = opts.grants.find((g) => g.kind === 'update-comment');
  const context = readGrantContext(io.env, updateGrant?.commentId);
  const secrets = knownSecrets(io.env, [token]);
  const policy: PolicyInput = { grants: opts.grants, context, secrets, allowLinks: opts.allowLinks };

  // Pass 1: every request against the grants, with the agent's own comments standing in by position.
  const dry = newGrantState();
  const checked: GrantRequest[] = [];
  for (const [i, request] of deferred.requests.entries()) {
    const candidate = resolveOwnComment(request, dry.ownComments);
    const verdict = checkRequest(candidate, policy, dry);
    if (!verdict.ok) throw new GuardError('grants', `${opts.file}: request ${i + 1} (${request.kind}) is refused by the grants given to apply: ${verdict.reason}`);
    if (verdict.request.kind === 'comment.create') dry.ownComments.push(-(dry.ownComments.length + 1));
    if (verdict.request.kind === 'pull-request.create') {
      if (!deferred.files) throw new GuardError('grants', `${opts.file}: a pull request without its changes`);
      try {
        checkPullRequestFiles(deferred.files, opts.grants.find((g) => g.kind === 'pull-request')!, secrets);
      } catch (err) {
        throw new GuardError('grants', `${opts.file}: the pull request is refused by the grants given to apply: ${(err as Error).message}`);
      }
    }
    checked.push(verdict.request);
  }

  // Pass 2: perform, mapping the agent's own comments to the ids GitHub gives them now.
  // No agent runs here, but the file is still opened as the guard's own: no links followed.
  const audit = new AuditLog(opts.auditFile ? openGuardFile(opts.auditFile, [], process.getuid?.() ?? -1, '--audit') : undefined);
  const github = createGitHubClient(githubApiBase(io.env), token);
  const live = newGrantState();
  let performed = 0;
  try {
    for (const request of checked) {
      const started = Date.now();
      const req = resolveOwnComment(request, live.ownComments);
      let status: number;
      if (req.kind === 'pull-request.create') {
        const grant = opts.grants.find((g) => g.kind === 'pull-request')!;
        const opened = await openPullRequest(deferred.files!, req, grant, github, context, secrets);
        io.stderr.write(`agent-guard: ${logSafe(`pull request opened: ${opened.url} (branch ${opened.branch})`)}\n`);
        status = 201;
      } else {
        status = (await performRequest(req, github, context, live)).status;
      }
      audit.add({ time: new Date(started).toISOString(), kind: 'grant', provider: req.kind, method: 'APPLY', route: req.kind, status, requestBytes: 0, responseBytes: 0, ms: Date.now() - started });
      if (status >= 300) throw new GuardError('grants', `GitHub answered ${status} to ${req.kind}; ${performed} of ${checked.length} request(s) were performed`);
      performed++;
    }
  } finally {
    audit.close();
  }
  return { performed, audit };
}

/** comment.update of the agent's own comment: the id is the one at its position in this run. */
function resolveOwnComment(request: GrantRequest, own: number[]): GrantRequest {
  if (request.kind !== 'comment.update' || request.ownIndex === undefined) return request;
  const id = own[request.ownIndex];
  return id === undefined ? request : { ...request, commentId: id };
}

export async function applyMain(args: string[], io: ApplyIO): Promise<number> {
  try {
    const opts = parseApplyArgs(args);
    const { performed, audit } = await applyDeferred(opts, io);
    io.stderr.write(`agent-guard: applied ${performed} deferred request(s) from ${opts.file}\n`);
    return appendSummary(io.env, audit, performed);
  } catch (err) {
    // Refusals quote the recorded requests (the agent's file names, GitHub's answers): logSafe.
    if (err instanceof GuardError) io.stderr.write(`agent-guard: ${err.layer === 'usage' ? '' : `${err.layer} layer: `}${logSafe(err.message)}\n`);
    else io.stderr.write(`agent-guard: apply failed: ${logSafe((err as Error)?.message ?? String(err))}\n`);
    return GUARD_FAILURE_EXIT;
  }
}

/** The step summary of an apply: the audit table of what was performed. */
export function applySummaryMarkdown(audit: AuditLog, performed: number): string {
  return audit.stepSummaryMarkdown(0).replace('Agent exit code 0.', `Applied ${performed} deferred request(s).`);
}

function appendSummary(env: NodeJS.ProcessEnv, audit: AuditLog, performed: number): number {
  if (env.GITHUB_STEP_SUMMARY) {
    try {
      fs.appendFileSync(env.GITHUB_STEP_SUMMARY, applySummaryMarkdown(audit, performed));
    } catch {
      // a summary we cannot write does not fail the step
    }
  }
  return 0;
}
