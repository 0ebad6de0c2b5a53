// Linting a large input on every core. Each worker thread opens the same repositories (so callers,
// reusable workflows and workflow_run upstreams resolve as in a single run) but lints only its share
// of the entry workflows; the results are merged. Used by the bundled CLI for large offline runs;
// below the threshold, or where workers cannot start, it is the ordinary single-threaded lint.

import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { LintResult } from './checks/types';
import type { Config } from './config';
import { lint, mergeResults, type LintOptions } from './lint';
import { discover } from './workflow/load';

/** Below this many workflow files, starting workers costs more than it saves. */
export const PARALLEL_THRESHOLD = 256;
const MESSAGE_KIND = 'agent-guard-lint-share';

interface Share {
  kind: typeof MESSAGE_KIND;
  paths: string[];
  cwd?: string;
  config?: Config;
  repository?: string;
  only: string[];
}

type Wire = Omit<LintResult, 'sources'> & { sources: [string, string][] };

export async function lintInParallel(options: LintOptions, entryScript: string, workers = defaultWorkers()): Promise<LintResult> {
  if (options.remote || options.files || options.only || workers < 2) return lint(options);
  const files = discover(options.paths, []).flatMap((set) => set.files);
  if (files.length < PARALLEL_THRESHOLD) return lint(options);
  // Interleave so each share gets a similar mix of large and small files.
  const shares: string[][] = Array.from({ length: workers }, () => []);
  files.forEach((f, i) => shares[i % workers].push(f));
  try {
    const running = Promise.all(
      shares.slice(1).map((only) => runShare(entryScript, { kind: MESSAGE_KIND, paths: options.paths, cwd: options.cwd, config: options.config, repository: options.repository, only })),
    );
    running.catch(() => undefined); // awaited below; do not let an early failure go unhandled meanwhile
    // The main thread takes the first share while the workers run the others.
    const own = lint({ ...options, only: new Set(shares[0]) });
    return mergeResults([own, ...(await running)]);
  } catch {
    return lint(options); // a worker could not start or died: the single-threaded result is the same
  }
}

/** One thread per core, at most 8; `AGENT_GUARD_THREADS` overrides (1 turns splitting off). */
function defaultWorkers(): number {
  const forced = Number(process.env.AGENT_GUARD_THREADS);
  if (Number.isInteger(forced) && forced >= 1) return Math.min(forced, 16);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, 8));
}

function runShare(entryScript: string, share: Share): Promise<LintResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(entryScript, { workerData: share });
    worker.once('message', (wire: Wire) => resolve({ ...wire, sources: new Map(wire.sources) }));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`lint worker exited ${code}`));
    });
  });
}

/** In a worker started by lintInParallel: lint the share and send the result back. */
export function serveShareIfWorker(): boolean {
  if (isMainThread || !parentPort || (workerData as Share | undefined)?.kind !== MESSAGE_KIND) return false;
  const share = workerData as Share;
  const result = lint({ paths: share.paths, cwd: share.cwd, config: share.config, repository: share.repository, only: new Set(share.only) });
  const wire: Wire = { ...result, sources: [...result.sources] };
  parentPort.postMessage(wire);
  return true;
}
