// The typed data that leaves the jail. The agent never writes the real workspace in place: it works
// on a copy (an overlay), and when it exits the guard turns what it did into a ChangeSet, checks every
// entry, and only then applies it to the workspace or hands it to a grant (a pull request).
// This file is the contract between the boundary (which builds and applies change sets) and the grants
// (which publish them): keep it free of logic.

/** A workspace-relative POSIX path: no leading '/', no '.' or '..' segments, no NUL. */
export type WorkspacePath = string;

export type FileChange =
  | {
      kind: 'write';
      path: WorkspacePath;
      /** Only plain files leave the jail: 0o644, or 0o755 when the agent made it executable. */
      mode: 0o644 | 0o755;
      /** The checked bytes, copied out of the agent's reach into the guard's private folder. */
      contentFile: string;
      size: number;
      /** Hex SHA-256 of the content, recorded in the audit and in deferred requests. */
      sha256: string;
    }
  | {
      kind: 'symlink';
      path: WorkspacePath;
      /** As the agent wrote it; checked to stay inside the workspace and out of .git. */
      target: string;
    }
  | { kind: 'delete'; path: WorkspacePath };

export interface RefusedChange {
  path: WorkspacePath;
  /** One line a maintainer can act on: what was refused and which rule (or --allow-path) decides it. */
  reason: string;
}

/** A commit the agent made in its copy, brought back as objects and a ref, never as config or hooks. */
export interface AgentCommit {
  sha: string;
  /** The ref the guard wrote in the real repository, e.g. refs/agent-guard/<run>/HEAD. */
  ref: string;
  subject: string;
}

export interface ChangeSet {
  /** Accepted changes, in path order. */
  files: FileChange[];
  refused: RefusedChange[];
  commits: AgentCommit[];
}
