// Grants for one guarded run: the bridge the agent reaches as GITHUB_API_URL, the environment that
// points the agent (and the `gh` shim) at it, and what happens when the agent exits: the pull request
// is opened from the checked change set, or everything checked is written to the --defer file.
import type http from 'node:http';
import type { AuditLog } from '../audit';
import type { ChangeSet } from '../boundary/types';
import { GuardError } from '../errors';
import { createGitHubBridge } from './bridge';
import type { GrantContext } from './context';
import { deferredChanges, DEFER_FORMAT, writeDeferredFile } from './defer';
import type { GitHubApi } from './github';
import { newGrantState, type GrantRequest, type GrantState, type PolicyInput } from './policy';
import { openPullRequest, PullRequestRefused, readChangeSet, type PullRequestFile } from './pullRequest';
import type { Grant } from './spec';

/** What the agent sees instead of the token: never a credential, and not shaped like one. */
export const GITHUB_TOKEN_PLACEHOLDER = 'agent-guard-placeholder-github-token';

export interface GrantSessionOptions {
  grants: Grant[];
  context: GrantContext;
  secrets: string[];
  allowLinks: boolean;
  github: GitHubApi;
  audit: AuditLog;
  deferFile?: string;
}

export interface GrantOutcome {
  /** SHA-256 of the --defer file, for `apply --sha256`. */
  deferSha256?: string;
  pullRequest?: { url: string; branch: string } | { refused: string };
}

export class GrantSession {
  readonly state: GrantState = newGrantState();
  readonly server: http.Server;
  private readonly recorded: GrantRequest[] = [];
  private pullRequest?: GrantRequest & { kind: 'pull-request.create' };

  constructor(
    private readonly opts: GrantSessionOptions,
    bridgeBase: string,
  ) {
    const policy: PolicyInput = { grants: opts.grants, context: opts.context, secrets: opts.secrets, allowLinks: opts.allowLinks };
    this.server = createGitHubBridge({
      policy,
      state: this.state,
      github: opts.github,
      audit: opts.audit,
      bridgeBase,
      defer: opts.deferFile ? (r) => this.recorded.push(r) : undefined,
      onPullRequest: (r) => (this.pullRequest = r),
    });
  }

  /** Variables that point the agent's GitHub tools at the bridge. */
  static agentEnv(bridgeBase: string, ctx: GrantContext, shimDir: string, path: string): Record<string, string> {
    return {
      GITHUB_API_URL: bridgeBase,
      GITHUB_GRAPHQL_URL: `${bridgeBase}/graphql`,
      GH_HOST: bridgeBase.replace(/^http:\/\//, ''),
      GITHUB_TOKEN: GITHUB_TOKEN_PLACEHOLDER,
      GH_TOKEN: GITHUB_TOKEN_PLACEHOLDER,
      GH_REPO: `${ctx.owner}/${ctx.repo}`,
      GH_PROMPT_DISABLED: '1',
      GH_NO_UPDATE_NOTIFIER: '1',
      ...(ctx.number ? { AGENT_GUARD_ISSUE: String(ctx.number) } : {}),
      PATH: `${shimDir}:${path}`,
    };
  }

  private auditPullRequest(status: number, route: string, refused?: string): void {
    this.opts.audit.add({ time: new Date().toISOString(), kind: 'grant', provider: 'pull-request', method: 'POST', route, status, requestBytes: 0, responseBytes: 0, ms: 0, ...(refused ? { refused } : {}) });
  }

  /** The agent asked for a pull request and the grant allows one: its change set is needed. */
  wantsChangeSet(): boolean {
    return !!this.pullRequest;
  }

  /**
   * After the agent exits. THE place where the boundary's change set meets the pull-request grant:
   * runGuarded passes what its changeSet hook returned (undefined until the overlay is connected).
   */
  async finish(changeSet: ChangeSet | undefined): Promise<GrantOutcome> {
    const outcome: GrantOutcome = {};
    const grant = this.opts.grants.find((g) => g.kind === 'pull-request');
    let files: PullRequestFile[] | undefined;
    if (this.pullRequest && grant) {
      try {
        if (!changeSet) throw new PullRequestRefused('no change set: the workspace overlay is not connected to this run');
        files = readChangeSet(changeSet);
        if (!this.opts.deferFile) {
          const opened = await openPullRequest(files, this.pullRequest, grant, this.opts.github, this.opts.context, this.opts.secrets);
          outcome.pullRequest = { url: opened.url, branch: opened.branch };
          this.auditPullRequest(201, `pull request ${opened.url} from ${opened.branch}`);
        }
      } catch (err) {
        const reason = (err as Error).message;
        outcome.pullRequest = { refused: reason };
        files = undefined;
        const at = this.recorded.indexOf(this.pullRequest);
        if (at >= 0) this.recorded.splice(at, 1);
        this.auditPullRequest(403, 'pull request from the change set', reason);
      }
    }
    if (this.opts.deferFile) {
      try {
        outcome.deferSha256 = writeDeferredFile(this.opts.deferFile, {
          format: DEFER_FORMAT,
          repository: `${this.opts.context.owner}/${this.opts.context.repo}`,
          runId: this.opts.context.runId,
          requests: this.recorded,
          ...(files ? { changes: deferredChanges(files) } : {}),
        });
      } catch (err) {
        throw new GuardError('grants', `cannot write the deferred requests to ${this.opts.deferFile}: ${(err as Error).message}`);
      }
    }
    return outcome;
  }
}

/** One or two lines for stderr about what the grants did after the agent exited. */
export function describeGrantOutcome(outcome: GrantOutcome, deferFile: string | undefined): string {
  const lines: string[] = [];
  const pr = outcome.pullRequest;
  if (pr && 'url' in pr) lines.push(`agent-guard: pull request opened: ${pr.url} (branch ${pr.branch})`);
  if (pr && 'refused' in pr) lines.push(`agent-guard: pull request refused: ${pr.refused.replace(/[^\x20-\x7e]/g, '?')}`);
  if (outcome.deferSha256) lines.push(`agent-guard: grant requests recorded in ${deferFile}, sha256 ${outcome.deferSha256} (perform them with agent-guard apply)`);
  return lines.map((l) => `${l}\n`).join('');
}
