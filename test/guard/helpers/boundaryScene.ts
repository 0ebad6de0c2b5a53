// The stage for the boundary's end-to-end tests: a runner-like user with secrets of its own, a checkout
// it owns, the guard run on it (as root, or as that user through sudo -n), and later steps replayed on
// the host as that user. Call boundaryScene() inside a describe: it registers its own beforeAll and
// afterAll and fills the returned object in.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildGuard } from './build';
import { runProcess, type GuardRun } from './runGuard';
import { makeRunnerUser, type RunnerUser, SUDO } from './runnerUser';

export type Elevation = 'root' | 'sudo';

export interface FakeRegistry {
  url: string;
  seen: { method: string; url: string; authorization?: string }[];
  close(): void;
}

/** An HTTP server on loopback that records every request and answers 404 (a registry, an index). */
export function startRegistry(): Promise<FakeRegistry> {
  const seen: FakeRegistry['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ url: `http://127.0.0.1:${port}/`, seen, close: () => server.close() });
    });
  });
}

/** Every file under dir with its content hash (links as their target): to compare before and after. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, child));
      if (st.isDirectory()) walk(child);
      else out[child] = st.isSymbolicLink() ? `link ${fs.readlinkSync(path.join(dir, child))}` : crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, child))).digest('hex');
    }
  };
  walk('');
  return out;
}

export interface LaterStep {
  status: number | null;
  signal: string | null;
  stdout: string;
  /** What the step printed, as the bytes the runner would read. */
  stdoutBytes: Buffer;
  stderr: string;
  ms: number;
}

export interface Scene {
  guard: string;
  user: RunnerUser;
  /** The registry the runner's own npm config names, and one the agent would like it to use. */
  legit: FakeRegistry;
  evil: FakeRegistry;
  /** A folder outside the workspace that the runner can write: what a planted link would redirect to. */
  outside: string;
  /** In the later step's environment (NODE_AUTH_TOKEN, GITHUB_TOKEN). */
  publishToken: string;
  /** In the runner's HOME (.git-credentials). */
  homeSecret: string;
  /** In the real repository's config, as actions/checkout persists it (http.extraheader). */
  checkoutToken: string;
  /** A checkout as actions/checkout leaves it, owned by the runner, with husky hooks and links the PR planted. */
  checkout(): string;
  /** The agent's script under the guard: as root (self-hosted) or as the runner through sudo -n (hosted). */
  runAgent(elevation: Elevation, ws: string, script: string, options?: { flags?: string[]; env?: Record<string, string> }): Promise<GuardRun>;
  /**
   * A later step: the runner's uid, its HOME, a publish token in the environment. Asynchronous, so the
   * fake registries in this process can answer while it runs.
   */
  later(ws: string, command: string, args: string[], timeoutMs?: number): Promise<LaterStep>;
  /** A file a hostile agent or hook would create to prove it ran; unique per checkout. */
  marker(name: string): string;
}

export function boundaryScene(prefix: string): Scene {
  let counter = 0;
  const scene = {
    publishToken: `npm_PUBLISH_${crypto.randomBytes(8).toString('hex')}`,
    homeSecret: `HOME_SECRET_${crypto.randomBytes(8).toString('hex')}`,
    checkoutToken: `ghs_CHECKOUT${crypto.randomBytes(12).toString('hex')}`,
  } as Scene;

  beforeAll(async () => {
    scene.guard = buildGuard();
    scene.user = makeRunnerUser(prefix);
    scene.legit = await startRegistry();
    scene.evil = await startRegistry();
    const { user } = scene;
    // The runner's own npm config, as setup-node writes it: the token comes from the step's env.
    const host = scene.legit.url.replace(/^http:/, '');
    fs.writeFileSync(path.join(user.home, '.npmrc'), `registry=${scene.legit.url}\n${host}:_authToken=\${NODE_AUTH_TOKEN}\n`);
    fs.writeFileSync(path.join(user.home, '.git-credentials'), `https://x:${scene.homeSecret}@github.com\n`);
    fs.mkdirSync(path.join(user.home, 'markers'));
    scene.outside = path.join(user.home, 'outside');
    fs.mkdirSync(scene.outside);
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, user.home]);
  });

  afterAll(() => {
    scene.legit?.close();
    scene.evil?.close();
    scene.user?.remove();
  });

  scene.checkout = () => {
    const { user, outside } = scene;
    const ws = path.join(user.home, 'work', `case${counter++}`, 'repo');
    fs.mkdirSync(ws, { recursive: true });
    const files: Record<string, string> = {
      'README.md': 'hello\n', 'old.txt': 'old\n', 'tool.sh': '#!/bin/sh\necho tool\n', 'src/app.js': 'console.log(1)\n',
      '.husky/pre-commit': '#!/bin/sh\nexit 0\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      fs.writeFileSync(path.join(ws, rel), text);
    }
    fs.chmodSync(path.join(ws, '.husky/pre-commit'), 0o755);
    fs.writeFileSync(path.join(outside, 'victim'), 'untouched\n');
    fs.symlinkSync(outside, path.join(ws, 'docs'));
    fs.symlinkSync(path.join(outside, 'victim'), path.join(ws, 'report.md'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd: ws, env: { PATH: process.env.PATH, HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' } });
    git('init', '-q');
    git('config', 'core.hooksPath', '.husky');
    git('add', '-A');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=CI', '-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'base');
    // Added after the commit, as actions/checkout does: the agent sees a sanitised copy without it.
    git('config', 'http.https://github.com/.extraheader', `AUTHORIZATION: basic ${scene.checkoutToken}`);
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path.dirname(ws), outside]);
    return ws;
  };

  scene.runAgent = (elevation, ws, script, options = {}) => {
    const { user, guard } = scene;
    const env = [`PATH=${process.env.PATH}`, `GITHUB_WORKSPACE=${ws}`, 'LANG=C.UTF-8', ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const guardArgs = [guard, 'run', ...(options.flags ?? []), '--', 'sh', '-c', script];
    const [file, args] = elevation === 'root'
      ? ['env', [...env, 'HOME=/root', process.execPath, ...guardArgs]]
      : [SUDO!, ['-u', user.name, '-H', 'env', ...env, process.execPath, ...guardArgs]];
    return runProcess(file, args, { cwd: ws });
  };

  scene.later = (ws, command, args, timeoutMs = 20_000) => {
    const { user } = scene;
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        cwd: ws, uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH, HOME: user.home, NODE_AUTH_TOKEN: scene.publishToken, GITHUB_TOKEN: scene.publishToken,
          GIT_AUTHOR_NAME: 'CI', GIT_AUTHOR_EMAIL: 'ci@example.com', GIT_COMMITTER_NAME: 'CI', GIT_COMMITTER_EMAIL: 'ci@example.com',
          npm_config_cache: path.join(user.home, '.npm'), npm_config_update_notifier: 'false', npm_config_fetch_retries: '0',
        },
      });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        const stdoutBytes = Buffer.concat(out);
        resolve({ status, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr, ms: Date.now() - started });
      });
    });
  };

  scene.marker = (name) => path.join(scene.user.home, 'markers', `${name}-${counter}`);
  return scene;
}

/** The guard ran the agent and exited 0; on failure, show its last words. */
export function expectRan(r: GuardRun): void {
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
}
