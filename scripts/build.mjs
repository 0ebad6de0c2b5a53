// Bundles src/cli.ts (with rules/*.yml inlined) into dist/cli.js. Deterministic, so a test can
// rebuild into a temporary folder and compare byte for byte to catch a stale dist/.
import { build } from 'esbuild';
import { parse } from 'yaml';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist');
const outfile = path.join(outdir, 'cli.js');

/**
 * Rules files the guard reads at every start go into the bundle as JSON (JSON is YAML; their loaders
 * read it with JSON.parse where they can):
 * the same data, parsed in a fraction of a millisecond instead of tens of milliseconds of YAML at
 * every guard start.
 */
function dataAsJson(names) {
  return {
    name: 'rules-data-as-json',
    setup(b) {
      b.onLoad({ filter: /[\\/]rules[\\/][^\\/]+\.yml$/ }, (args) => {
        if (!names.includes(path.basename(args.path))) return undefined;
        return { contents: JSON.stringify(parse(fs.readFileSync(args.path, 'utf8'))), loader: 'text' };
      });
    },
  };
}

await build({
  entryPoints: [path.join(root, 'src/cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  loader: { '.yml': 'text' },
  plugins: [dataAsJson(['providers.yml', 'grants.yml', 'credential-files.yml', 'file-kinds.yml', 'seccomp.yml', 'agents.yml', 'sources.yml', 'triggers.yml'])],
  banner: { js: '#!/usr/bin/env node' },
  legalComments: 'none',
  logLevel: 'warning',
});

// The file is the package's `bin`: executable in git (mode 100755) as npm leaves it after `npm ci`,
// so installing does not show it modified.
fs.chmodSync(outfile, 0o755);
