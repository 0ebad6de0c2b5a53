// `npm run bench`: every benchmark, each printing its figures and ratios against a baseline measured
// in the same run. Pass names to run a subset: `npm run bench -- lint`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const benches = ['lint', 'guard', 'boundary', 'online'].filter((b) => !wanted.length || wanted.includes(b));
let failed = 0;
for (const name of benches) {
  const file = path.join(here, `${name}.mjs`);
  if (!fs.existsSync(file)) continue;
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', file, ...process.argv.slice(2).filter((a) => a.startsWith('-'))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
