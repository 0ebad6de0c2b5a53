// Bundles src/cli.ts (with rules/*.yml inlined) into dist/cli.js. Deterministic, so a test can
// rebuild into a temporary folder and compare byte for byte to catch a stale dist/.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist');

await build({
  entryPoints: [path.join(root, 'src/cli.ts')],
  outfile: path.join(outdir, 'cli.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  loader: { '.yml': 'text' },
  banner: { js: '#!/usr/bin/env node' },
  legalComments: 'none',
  logLevel: 'warning',
});
