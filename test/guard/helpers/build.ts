// Bundles the guard into a temporary folder the way scripts/build.mjs bundles the CLI.
import { buildSync } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function buildGuard(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-build-'));
  fs.chmodSync(outdir, 0o755);
  const outfile = path.join(outdir, 'guard.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'guardEntry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    loader: { '.yml': 'text' },
    logLevel: 'error',
  });
  return outfile;
}
