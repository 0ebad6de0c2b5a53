// The boundary between the jail and the rest of the job. Before the agent starts: the overlay's
// layers, the sanitised git configs seeded into the upper layer, and the policy (read from the real
// repository's config, which the agent never writes). After it exits: the change set, commits
// brought back as objects and a ref, the accepted changes applied, and the report.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditLog } from '../audit';
import { GuardError } from '../errors';
import { findExecutable } from '../jail';
import { applyChangeSet } from './apply';
import { buildChangeSet } from './changeSet';
import { importCommits } from './commits';
import { type Owner, type OverlayLayout, overlayCommand, prepareOverlay, readOpaqueList, seedGitConfigs } from './overlay';
import { buildPolicy, type BoundaryPolicy } from './policy';
import { type BoundaryOutcome, recordBoundary } from './report';
import type { ChangeSet } from './types';

export type { BoundaryOutcome } from './report';
export { boundaryLines, boundaryMarkdown } from './report';

export interface BoundarySetup {
  privateDir: string;
  workspace: string;
  /** The workspace owner: files the guard writes as root are given to them. Undefined when not root. */
  owner: Owner | undefined;
  gitConfigFiles: string[];
  secrets: string[];
  allowPaths: string[];
  env: NodeJS.ProcessEnv;
}

export class Boundary {
  readonly layout: OverlayLayout;
  private readonly policy: BoundaryPolicy;
  private readonly contentDir: string;
  private readonly unshare: string;

  private constructor(private readonly setup: BoundarySetup) {
    const asRoot = setup.owner !== undefined;
    const unshare = findExecutable('unshare', '/usr/bin:/bin:/usr/sbin:/sbin');
    if (!unshare) throw new GuardError('boundary', "unshare (util-linux) is not installed: the agent's copy of the workspace needs a private mount namespace");
    this.unshare = unshare;
    this.policy = buildPolicy(setup.workspace, setup.allowPaths);
    this.layout = prepareOverlay(setup.privateDir, setup.workspace, asRoot);
    seedGitConfigs(this.layout, setup.workspace, setup.gitConfigFiles, setup.secrets, asRoot);
    this.contentDir = fs.mkdtempSync(path.join(path.dirname(setup.privateDir), 'agent-guard-changes-'));
    fs.chmodSync(this.contentDir, 0o700);
  }

  static prepare(setup: BoundarySetup): Boundary {
    try {
      return new Boundary(setup);
    } catch (err) {
      if (err instanceof GuardError) throw err;
      throw new GuardError('boundary', `cannot prepare the agent's copy of the workspace: ${(err as Error).message}`);
    }
  }

  /** The argv that mounts the overlay in a private mount namespace and runs bwrap over it. */
  command(bwrap: string, bwrapArgs: string[]): string[] {
    return overlayCommand(this.layout, this.setup.workspace, process.execPath, bwrap, bwrapArgs, this.unshare, this.setup.owner !== undefined);
  }

  /**
   * After the jail is gone: build the change set, bring commits back, apply what is accepted and
   * record it all. `complete` is false when the jail was stopped (timeout): nothing comes back then.
   */
  finish(audit: AuditLog, complete: boolean): BoundaryOutcome {
    try {
      return this.bringBack(audit, complete);
    } catch (err) {
      if (err instanceof GuardError) throw err;
      throw new GuardError('boundary', `cannot bring the agent's changes back: ${(err as Error).message}`);
    }
  }

  private bringBack(audit: AuditLog, complete: boolean): BoundaryOutcome {
    const opaque = complete ? readOpaqueList(this.layout) : undefined;
    if (!opaque) {
      const outcome: BoundaryOutcome = {
        changes: { files: [], commits: [], refused: [{ path: '.', reason: 'nothing brought back: the agent was stopped before the guard could read its changes' }] },
        applied: [],
      };
      recordBoundary(audit, outcome);
      return outcome;
    }
    const scan = buildChangeSet({
      upper: this.layout.upper, workspace: this.setup.workspace, opaque, seeded: this.layout.seeded, contentDir: this.contentDir, policy: this.policy,
    });
    const changes = scan.changes;
    if (scan.gitChanged) {
      const imported = importCommits({ workspace: this.setup.workspace, agentGitDir: path.join(this.layout.upper, '.git'), runId: runId(this.setup.env), owner: this.setup.owner });
      changes.commits.push(...imported.commits);
      changes.refused.push(...imported.refused);
    }
    const result = applyChangeSet(this.setup.workspace, changes.files, scan.removedDirs, this.setup.owner);
    changes.refused.push(...result.failed);
    const outcome = { changes, applied: result.applied };
    recordBoundary(audit, outcome);
    return outcome;
  }

  /** Remove the content files the change set points at (after any grant has used them). */
  release(): void {
    fs.rmSync(this.contentDir, { recursive: true, force: true });
  }
}

function runId(env: NodeJS.ProcessEnv): string {
  const run = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT].filter((v) => v && /^[0-9]{1,20}$/.test(v)).join('-');
  return `${run ? `${run}-` : ''}${crypto.randomBytes(4).toString('hex')}`;
}

/** The change set of a finished run, for grants (pull requests); its content files live until release(). */
export function changeSetOf(result: { boundary?: BoundaryOutcome }): ChangeSet | undefined {
  return result.boundary?.changes;
}
