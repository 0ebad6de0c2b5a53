// Boundary benchmark (`npm run bench` calls this through bench/run.mjs): what the overlay and the
// change set cost, on a git workspace of 10,000 files. Every figure has a baseline measured in the
// same run:
//   start           `run -- true` (overlay, probe skipped, empty change set) against `true`, and against
//                   `run --workspace ro -- true` (the same jail without the overlay)
//   50 changes      `run -- sh -c <30 edits, 10 new files in a new folder, 10 deletions>` against
//                   `run --workspace ro -- true`
//   in process      building the change set from an upper folder with those 50 changes and applying
//                   it, against plainly copying the same 40 files and deleting the 10
// Needs Linux, root and bubblewrap; otherwise it says so and exits 0.
import { build } from 'esbuild';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BOUNDARY_BENCH_RUNS ?? 15);
const DIRS = 100;
const PER_DIR = 100;
const OWNER = 4242;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n) => n.toFixed(1);

function unavailable() {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid() !== 0) return 'not root (the benchmark makes whiteouts and chowns a workspace)';
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'bubblewrap is not installed';
  return undefined;
}

// Wall time, and CPU time (user + system of the process and every descendant it waited for, from
// GNU time): on a shared, loaded machine the CPU figure is the steadier of the two.
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
function timed(file, args, cwd) {
  const out = path.join(os.tmpdir(), `agent-guard-bench-time-${process.pid}`);
  const [cmd, argv] = TIME ? [TIME, ['-f', '%U %S', '-o', out, file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd, env: { PATH: process.env.PATH, HOME: '/root' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(-500)}`));
      const cpu = TIME ? fs.readFileSync(out, 'utf8').trim().split(/\s+/).slice(-2).reduce((a, b) => a + Number(b) * 1000, 0) : NaN;
      resolve({ wall, cpu });
    });
  });
}

const git = (cwd, ...args) => execFileSync('git', ['-c', 'safe.directory=*', '-c', 'user.email=b@example.com', '-c', 'user.name=bench', ...args], { cwd, stdio: 'ignore' });

function makeWorkspace(dir) {
  const line = 'x'.repeat(1000) + '\n';
  for (let d = 0; d < DIRS; d++) {
    fs.mkdirSync(path.join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < PER_DIR; f++) fs.writeFileSync(path.join(dir, `d${d}`, `f${f}.txt`), `${d}/${f}\n${line}`);
  }
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'base');
  execFileSync('chown', ['-R', `${OWNER}:${OWNER}`, dir]);
}

const CHANGES = [
  ...Array.from({ length: 30 }, (_, i) => `echo edited >> d${i}/f0.txt`),
  'mkdir -p added/deep',
  ...Array.from({ length: 10 }, (_, i) => `echo new > added/deep/n${i}.txt`),
  ...Array.from({ length: 10 }, (_, i) => `rm d${50 + i}/f1.txt`),
].join(' && ');

const reset = (dir) => {
  git(dir, 'reset', '-q', '--hard');
  git(dir, 'clean', '-qfd');
  execFileSync('chown', ['-R', `${OWNER}:${OWNER}`, dir]);
};

async function main() {
  const why = unavailable();
  if (why) {
    console.log(`boundary benchmark skipped: ${why}`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-bench-boundary-'));
  const base = fs.mkdtempSync('/var/tmp/agent-guard-bench-boundary-');
  fs.chmodSync(base, 0o755);
  const ws = path.join(base, 'repo');
  try {
    // What users run: the committed bundle (a test keeps it fresh).
    const guard = path.join(root, 'dist', 'cli.js');
    const lib = path.join(tmp, 'boundary.cjs');
    await build({
      stdin: {
        contents: "export { buildChangeSet } from './src/guard/boundary/changeSet'; export { applyChangeSet } from './src/guard/boundary/apply'; export { buildPolicy } from './src/guard/boundary/policy';",
        resolveDir: root, loader: 'ts',
      },
      outfile: lib, bundle: true, platform: 'node', target: 'node20', format: 'cjs', loader: { '.yml': 'text' }, logLevel: 'warning',
    });
    fs.mkdirSync(ws);
    const t0 = Date.now();
    makeWorkspace(ws);
    console.log(`workspace: ${DIRS * PER_DIR} files in ${DIRS} folders, git repository (made in ${Date.now() - t0} ms)`);

    const truePath = execFileSync('sh', ['-c', 'command -v true'], { encoding: 'utf8' }).trim();
    const t = { true: [], ro: [], rw: [], ro50: [], rw50: [] };
    // Interleaved, so both sides of each ratio see the same load.
    for (let i = 0; i < RUNS; i++) {
      t.true.push(await timed(truePath, [], ws));
      t.ro.push(await timed(process.execPath, [guard, 'run', '--workspace', 'ro', '--', 'true'], ws));
      t.rw.push(await timed(process.execPath, [guard, 'run', '--', 'true'], ws));
      t.ro50.push(await timed(process.execPath, [guard, 'run', '--workspace', 'ro', '--', 'true'], ws));
      t.rw50.push(await timed(process.execPath, [guard, 'run', '--', 'sh', '-c', CHANGES], ws));
      reset(ws);
    }

    // In process: an upper folder with the same 50 changes, read and applied (then the workspace is reset).
    const { buildChangeSet, applyChangeSet, buildPolicy } = await import(lib);
    const inProcess = [];
    const plain = [];
    // The policy is read before the agent starts (part of the start figures above), not here.
    const policy = buildPolicy(ws, []);
    for (let i = 0; i < RUNS; i++) {
      const upper = fs.mkdtempSync(path.join(tmp, 'upper-'));
      const content = fs.mkdtempSync(path.join(tmp, 'content-'));
      for (let d = 0; d < 30; d++) {
        fs.mkdirSync(path.join(upper, `d${d}`), { recursive: true });
        fs.writeFileSync(path.join(upper, `d${d}`, 'f0.txt'), fs.readFileSync(path.join(ws, `d${d}`, 'f0.txt'), 'utf8') + 'edited\n');
      }
      fs.mkdirSync(path.join(upper, 'added', 'deep'), { recursive: true });
      for (let n = 0; n < 10; n++) fs.writeFileSync(path.join(upper, 'added', 'deep', `n${n}.txt`), 'new\n');
      for (let d = 50; d < 60; d++) {
        fs.mkdirSync(path.join(upper, `d${d}`), { recursive: true });
        execFileSync('mknod', [path.join(upper, `d${d}`, 'f1.txt'), 'c', '0', '0']);
      }
      const s0 = process.hrtime.bigint();
      const scan = buildChangeSet({ upper, workspace: ws, opaque: new Set(), seeded: new Set(), contentDir: content, policy, limits: { maxFiles: 100_000, maxBytes: 4 * 1024 ** 3 } });
      const applied = applyChangeSet(ws, scan.changes.files, scan.removedDirs, { uid: OWNER, gid: OWNER });
      inProcess.push(Number(process.hrtime.bigint() - s0) / 1e6);
      if (applied.applied.length !== 50) throw new Error(`expected 50 changes applied, got ${applied.applied.length}`);
      reset(ws);
      // Baseline: the same 40 files copied in and 10 deleted, with no checks at all.
      const p0 = process.hrtime.bigint();
      for (let d = 0; d < 30; d++) fs.copyFileSync(path.join(upper, `d${d}`, 'f0.txt'), path.join(ws, `d${d}`, 'f0.txt'));
      fs.mkdirSync(path.join(ws, 'added', 'deep'), { recursive: true });
      for (let n = 0; n < 10; n++) fs.copyFileSync(path.join(upper, 'added', 'deep', `n${n}.txt`), path.join(ws, 'added', 'deep', `n${n}.txt`));
      for (let d = 50; d < 60; d++) fs.rmSync(path.join(ws, `d${d}`, 'f1.txt'));
      plain.push(Number(process.hrtime.bigint() - p0) / 1e6);
      reset(ws);
      fs.rmSync(upper, { recursive: true, force: true });
      fs.rmSync(content, { recursive: true, force: true });
    }

    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v.map((x) => x.wall))]));
    const c = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v.map((x) => x.cpu))]));
    console.log(`\nmedians of ${RUNS} runs each (ms), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log('| figure | baseline wall (CPU) | with the boundary wall (CPU) | added wall (CPU) | ratio wall (CPU) |');
    console.log('| --- | --- | --- | --- | --- |');
    const row = (name, base, mine) =>
      console.log(`| ${name} | ${fmt(m[base])} (${fmt(c[base])}) | ${fmt(m[mine])} (${fmt(c[mine])}) | ${fmt(m[mine] - m[base])} (${fmt(c[mine] - c[base])}) | ${(m[mine] / m[base]).toFixed(2)}x (${(c[mine] / c[base]).toFixed(2)}x) |`);
    row('start: `run -- true` vs `true`', 'true', 'rw');
    row('start: `run -- true` vs `run --workspace ro -- true`', 'ro', 'rw');
    row('50 changes: `run -- sh -c ...` vs `run --workspace ro -- true`', 'ro50', 'rw50');
    console.log(`| 50 changes in process: change set + apply vs plain copy and delete | ${fmt(median(plain))} | ${fmt(median(inProcess))} | ${fmt(median(inProcess) - median(plain))} | ${(median(inProcess) / median(plain)).toFixed(1)}x |`);
    fs.rmSync(path.join(os.tmpdir(), `agent-guard-bench-time-${process.pid}`), { force: true });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
