// The boundary between the jail and the rest of the job. Before the agent starts: the overlay's
// layers, the sanitised git configs seeded into the upper layer, and the policy (read from the real
// repository's config, which the agent never writes). After it exits: the change set, commits
// brought back as objects and a ref, the accepted changes applied, and the report.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditLog } from '../audit';
import { findCredentialFiles } from '../credentialFiles';
import { GuardError } from '../errors';
import { findExecutable } from '../jail';
import { formatBytes } from '../limits';
import { applyChangeSet } from './apply';
import { buildChangeSet, type ChangeLimits } from './changeSet';
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
  /** --max-disk and --max-files; unset: the defaults. */
  maxDisk?: number;
  maxFiles?: number;
}

const DEFAULT_MAX_DISK = 4 * 1024 ** 3;
const DEFAULT_MAX_FILES = 100_000;
/** While the agent runs its copy may make this many times --max-files (an install the boundary then refuses in one line). */
const INODES_PER_FILE = 10;
const WATCH_MS = 200;

/** What the guard's disk watch found the agent's copy of the workspace had used, or undefined. */
export function diskOverrun(
  start: { bytes: number; inodes: number; totalInodes: number },
  now: { bytes: number; inodes: number },
  limits: ChangeLimits,
): string | undefined {
  // Never more than half of what was free: the rest of the job needs the disk too.
  const bytes = Math.min(limits.maxBytes, Math.floor(start.bytes / 2));
  if (start.bytes - now.bytes > bytes) {
    const cap = bytes < limits.maxBytes ? ', or half the free disk' : '';
    return `disk budget of ${formatBytes(bytes)} used up by the agent's copy of the workspace (--max-disk${cap})`;
  }
  // Some filesystems (btrfs) report no inode counts.
  if (start.totalInodes > 0) {
    const inodes = Math.min(limits.maxFiles * INODES_PER_FILE, Math.floor(start.inodes / 2));
    if (start.inodes - now.inodes > inodes) return `file budget of ${inodes} files used up by the agent's copy of the workspace (${INODES_PER_FILE} times --max-files, or half the free inodes)`;
  }
  return undefined;
}

export class Boundary {
  readonly layout: OverlayLayout;
  private readonly policy: BoundaryPolicy;
  private readonly contentDir: string;
  private readonly unshare: string;
  private readonly limits: ChangeLimits;

  private constructor(private readonly setup: BoundarySetup) {
    const asRoot = setup.owner !== undefined;
    const unshare = findExecutable('unshare', '/usr/bin:/bin:/usr/sbin:/sbin');
    if (!unshare) throw new GuardError('boundary', "unshare (util-linux) is not installed: the agent's copy of the workspace needs a private mount namespace");
    this.unshare = unshare;
    this.limits = { maxBytes: setup.maxDisk ?? DEFAULT_MAX_DISK, maxFiles: setup.maxFiles ?? DEFAULT_MAX_FILES };
    this.policy = buildPolicy(setup.workspace, setup.allowPaths, hiddenInWorkspace(setup.workspace, setup.env));
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
   * Watch the disk that holds the agent's copy while it runs: past --max-disk (or half of what was
   * free), or past ten times --max-files new inodes, `stop` is called with the reason. The kernel
   * cannot cap one folder of a filesystem, so this samples statfs; it counts every writer on that
   * filesystem, and the agent may overshoot by what it writes between two samples. Returns the
   * function that stops the watch.
   */
  watch(stop: (reason: string) => void): () => void {
    const sample = () => {
      const st = fs.statfsSync(this.layout.upper);
      return { bytes: st.bavail * st.bsize, inodes: st.ffree, totalInodes: st.files };
    };
    const start = sample();
    const timer = setInterval(() => {
      let reason: string | undefined;
      try {
        reason = diskOverrun(start, sample(), this.limits);
      } catch {
        return; // the folder is being taken down as the jail ends
      }
      if (reason) {
        clearInterval(timer);
        stop(reason);
      }
    }, WATCH_MS);
    timer.unref();
    return () => clearInterval(timer);
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
      upper: this.layout.upper, workspace: this.setup.workspace, opaque, seeded: this.layout.seeded, contentDir: this.contentDir, policy: this.policy, limits: this.limits,
    });
    const changes = scan.changes;
    if (scan.gitChanged) {
      const imported = importCommits({
        workspace: this.setup.workspace, agentGitDir: path.join(this.layout.upper, '.git'), runId: runId(this.setup.env), owner: this.setup.owner,
        policy: this.policy, maxBytes: this.limits.maxBytes, maxFiles: this.limits.maxFiles,
      });
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

/** Credential files and folders the jail hides inside the workspace, workspace-relative: no link may come back to them. */
function hiddenInWorkspace(workspace: string, env: NodeJS.ProcessEnv): string[] {
  const found = findCredentialFiles(workspace, env);
  return [...found.files, ...found.dirs].map((p) => path.relative(workspace, p)).filter((rel) => rel && !rel.startsWith('..') && !path.isAbsolute(rel)).map((rel) => rel.split(path.sep).join('/'));
}

function runId(env: NodeJS.ProcessEnv): string {
  const run = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT].filter((v) => v && /^[0-9]{1,20}$/.test(v)).join('-');
  return `${run ? `${run}-` : ''}${crypto.randomBytes(4).toString('hex')}`;
}

/** The change set of a finished run, for grants (pull requests); its content files live until release(). */
export function changeSetOf(result: { boundary?: BoundaryOutcome }): ChangeSet | undefined {
  return result.boundary?.changes;
}
