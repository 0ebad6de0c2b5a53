// Guard benchmark (`npm run bench` calls this through bench/run.mjs). Every figure is measured in
// the same run against its baseline:
//   jail start      `agent-guard run -- true` against `true`
//   added latency   a request through bridge + proxy (from inside the jail) against the same request
//                   sent straight to the same upstream
//   first byte      time to the first server-sent event, same comparison
//   throughput      a large response through bridge + proxy against straight from the upstream
// Needs Linux, root (or passwordless sudo) and bubblewrap; otherwise it says so and exits 0.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START_RUNS = Number(process.env.GUARD_BENCH_START_RUNS ?? 30);
const REQUESTS = Number(process.env.GUARD_BENCH_REQUESTS ?? 400);
const STREAMS = 40;
const BIG_BYTES = 64 * 1024 * 1024;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n, digits = 2) => n.toFixed(digits);

function unavailable() {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid() !== 0 && spawnSync('sudo', ['-n', 'true']).status !== 0) return 'not root and no passwordless sudo';
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'bubblewrap is not installed';
  return undefined;
}

// The client, run both inside the jail (through the bridge) and on the host (straight).
const CLIENT = String.raw`
const http = require('node:http');
const [mode, base, count] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const url = new URL(base);
const body = JSON.stringify({ model: mode === 'big' ? 'big' : 'small', max_tokens: 1, stream: mode === 'stream', messages: [{ role: 'user', content: 'hi' }] });
function once() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first = 0n;
    let bytes = 0;
    const req = http.request({ host: url.hostname, port: url.port, path: '/v1/messages', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'x-api-key': 'placeholder', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', (d) => { if (!first) first = process.hrtime.bigint(); bytes += d.length; });
      res.on('end', () => resolve({ total: Number(process.hrtime.bigint() - t0) / 1e6, first: Number(first - t0) / 1e6, bytes }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
(async () => {
  const out = [];
  for (let i = 0; i < Number(count); i++) out.push(await once());
  process.stdout.write(JSON.stringify(out) + '\n');
})();
`;

function startUpstream() {
  const big = Buffer.alloc(1024 * 1024, 'x');
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const parsed = JSON.parse(raw || '{}');
      if (parsed.model === 'big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_BYTES });
        let sent = 0;
        const pump = () => {
          while (sent < BIG_BYTES) {
            sent += big.length;
            if (!res.write(big)) return res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      if (parsed.stream) {
        // First event at once, the rest later: the first-byte figure must not wait for the rest.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}\n\n');
        setTimeout(() => res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n'), 5);
        return;
      }
      const json = JSON.stringify({ type: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 3, output_tokens: 1 } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function runGuard(guard, args, cwd, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [guard, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`guard exited ${code}: ${stderr}`))));
  });
}

function runClient(file, mode, base, count, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, mode, base, String(count)], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exited ${code}`))));
  });
}

async function main() {
  const why = unavailable();
  if (why) {
    console.log(`guard bench skipped: ${why}`);
    return;
  }
  const workspace = fs.mkdtempSync('/var/tmp/agent-guard-bench-ws-');
  try {
    // What users run: the committed bundle (a test keeps it fresh), lint code and all.
    const guard = path.join(root, 'dist', 'cli.js');
    if (process.getuid() === 0) fs.chownSync(workspace, 4242, 4242);
    const client = path.join(workspace, 'client.cjs');
    fs.writeFileSync(client, CLIENT, { mode: 0o644 });
    const env = { PATH: process.env.PATH, HOME: os.homedir(), ANTHROPIC_API_KEY: 'bench-real-key' };

    // 1. Jail start.
    const plain = [];
    const jailed = [];
    const truePath = execFileSync('sh', ['-c', 'command -v true'], { encoding: 'utf8' }).trim();
    for (let i = 0; i < START_RUNS; i++) {
      let t = process.hrtime.bigint();
      spawnSync(truePath);
      plain.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      await runGuard(guard, ['run', '--', 'true'], workspace, env);
      jailed.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const nodeStart = [];
    for (let i = 0; i < 10; i++) {
      const t = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0']);
      nodeStart.push(Number(process.hrtime.bigint() - t) / 1e6);
    }

    // 2-4. Proxy figures: the same client, straight to the upstream and from inside the jail.
    const upstream = await startUpstream();
    const base = `http://127.0.0.1:${upstream.address().port}`;
    const viaJail = async (mode, count) =>
      JSON.parse(
        await runGuard(guard, ['run', '--provider', `anthropic=${base}`, '--', process.execPath, client, mode, 'http://127.0.0.1:41100', String(count)], workspace, env),
      );
    const directSmall = await runClient(client, 'small', base, REQUESTS, workspace);
    const jailSmall = await viaJail('small', REQUESTS);
    const directStream = await runClient(client, 'stream', base, STREAMS, workspace);
    const jailStream = await viaJail('stream', STREAMS);
    const directBig = await runClient(client, 'big', base, 3, workspace);
    const jailBig = await viaJail('big', 3);
    upstream.close();

    // Skip the first requests of each series (connection set-up, JIT warm-up).
    const warm = (xs) => xs.slice(Math.min(20, Math.floor(xs.length / 10)));
    const lat = (xs) => median(warm(xs).map((x) => x.total));
    const ttfb = (xs) => median(warm(xs).map((x) => x.first));
    const mbps = (xs) => median(xs.map((x) => x.bytes / 1024 / 1024 / (x.total / 1000)));
    const r = {
      startTrue: median(plain), startJail: median(jailed), nodeStart: median(nodeStart),
      latDirect: lat(directSmall), latJail: lat(jailSmall),
      ttfbDirect: ttfb(directStream), ttfbJail: ttfb(jailStream),
      tputDirect: mbps(directBig), tputJail: mbps(jailBig),
    };
    console.log('## Guard');
    console.log('');
    console.log(`Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} CPU(s), ${os.cpus()[0]?.model ?? 'unknown CPU'}, Linux ${os.release()}, node ${process.version}; medians.`);
    console.log('');
    console.log('| figure | baseline | under the guard | added | aim |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(`| start: \`run -- true\` vs \`true\` (${START_RUNS} runs) | ${fmt(r.startTrue)} ms | ${fmt(r.startJail)} ms | ${fmt(r.startJail - r.startTrue)} ms | < 100 ms |`);
    console.log(`| request latency, small JSON (${REQUESTS} requests) | ${fmt(r.latDirect, 3)} ms | ${fmt(r.latJail, 3)} ms | ${fmt(r.latJail - r.latDirect, 3)} ms | < 1 ms |`);
    console.log(`| time to first streamed byte (${STREAMS} streams) | ${fmt(r.ttfbDirect, 3)} ms | ${fmt(r.ttfbJail, 3)} ms | ${fmt(r.ttfbJail - r.ttfbDirect, 3)} ms | < 5 ms |`);
    console.log(`| throughput, ${BIG_BYTES / 1024 / 1024} MiB response | ${fmt(r.tputDirect, 0)} MiB/s | ${fmt(r.tputJail, 0)} MiB/s | ${fmt((r.tputJail / r.tputDirect) * 100, 0)}% of direct | — |`);
    console.log('');
    console.log(`For scale: starting node itself (\`node -e 0\`) takes ${fmt(r.nodeStart)} ms here; the guard starts node twice (itself and the jail's init).`);
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`guard bench failed: ${err.message}`);
  process.exitCode = 1;
});
