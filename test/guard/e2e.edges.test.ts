// End to end, each of the guard's edges attacked from inside the jail (helpers/edgesAgent.js) or by
// the repository, then a later step replayed on the host as an unprivileged user:
//   * the audit file: a symlink planted in the workspace or outside it is refused before anything
//     runs; the agent can neither unlink, overwrite nor forge the audit it cannot see;
//   * agent-chosen routes (Markdown images, HTML, `|`, `::warning::`, `##[`) reach the audit, the step
//     summary and the log only as inert text;
//   * workflow commands in UTF-16/UTF-32 with byte-order marks, NUL-interleaved or after a BOM in the
//     middle never reach the runner;
//   * credential files other actions leave (gha-creds, gha-kubeconfig, nuget.config, and whatever
//     KUBECONFIG, DOCKER_CONFIG, GOOGLE_APPLICATION_CREDENTIALS, AWS_*, AZURE_CONFIG_DIR and
//     NPM_CONFIG_USERCONFIG name) read as empty and cannot be overwritten; the guard's config is root's;
//   * memory, pids and tmpfs limits hold inside the jail;
//   * agents installed in ~/.local/bin (a uv-style venv with uv's own Python) and under /tmp run in
//     both the direct `run -- CMD` and the `bash -c` forms; a missing one gets a hint.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { type FakeProvider, startFakeProvider } from './helpers/fakeProvider';
import { describeJail } from './helpers/jailAvailable';
import { runnerCommands } from './helpers/runnerModel';

const AGENT_UID = 4242;

interface RawRun {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

function runRaw(guard: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<RawRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [guard, 'run', ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

/** A later step: `cat FILE` as the unprivileged workspace owner; what the runner would read from it. */
function laterStepCat(file: string): Buffer {
  const r = spawnSync('setpriv', [`--reuid=${AGENT_UID}`, `--regid=${AGENT_UID}`, '--clear-groups', 'cat', file]);
  if (r.status !== 0) throw new Error(`later step could not read ${file}: ${r.stderr.toString()}`);
  return r.stdout;
}

function chownTree(p: string, uid: number): void {
  fs.lchownSync(p, uid, uid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid);
}

describeJail('guard end to end: its edges under attack', () => {
  let guard: string;
  let fake: FakeProvider;
  let root: string;
  let home: string;
  let workspace: string;
  let tmpInstall: string;
  let env: NodeJS.ProcessEnv;
  const secret = (label: string) => `${label}-${crypto.randomBytes(10).toString('hex')}`;
  const credentialSecrets: Record<string, string> = {};
  const credentialFiles: string[] = [];

  beforeAll(async () => {
    guard = buildGuard();
    fake = await startFakeProvider();
    root = fs.mkdtempSync('/var/lib/agent-guard-edges-');
    fs.chmodSync(root, 0o755);
    home = path.join(root, 'home');
    workspace = path.join(root, 'work', 'repo', 'repo');
    fs.mkdirSync(workspace, { recursive: true });
    fs.mkdirSync(path.join(home, '.local', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(home, '.npmrc'), `//registry.npmjs.org/:_authToken=${secret('NPM')}\n`);

    // Credential files other actions leave: by name next to the workspace, and by variable.
    const creds = path.join(root, 'creds');
    fs.mkdirSync(path.join(creds, 'docker'), { recursive: true });
    fs.mkdirSync(path.join(creds, 'azure'), { recursive: true });
    const plant = (file: string, label: string) => {
      credentialSecrets[file] = secret(label);
      fs.writeFileSync(file, `token: ${credentialSecrets[file]}\n`);
      credentialFiles.push(file);
    };
    plant(path.join(workspace, 'gha-creds-5f1e2d3c4b5a6978.json'), 'GHACREDS');
    plant(path.join(workspace, 'gha-kubeconfig-0ab51d4e7909dbae'), 'GKE');
    plant(path.join(root, 'work', 'repo', 'nuget.config'), 'NUGET');
    plant(path.join(creds, 'kubeconfig'), 'KUBECONFIG');
    plant(path.join(creds, 'docker', 'config.json'), 'DOCKER');
    plant(path.join(creds, 'gcp.json'), 'GCP');
    plant(path.join(creds, 'aws-credentials'), 'AWS');
    plant(path.join(creds, 'azure', 'msal_token_cache.json'), 'AZURE');
    plant(path.join(creds, 'npmrc'), 'NPMRC');
    chownTree(workspace, AGENT_UID);

    // uv tool install: ~/.local/bin/uvagent -> a venv whose python is uv's own (a copy under HOME).
    const uvPython = path.join(home, '.local/share/uv/python/cpython-3-linux');
    fs.mkdirSync(path.join(uvPython, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(uvPython, 'lib'));
    const realPython = fs.realpathSync('/usr/bin/python3');
    fs.copyFileSync(realPython, path.join(uvPython, 'bin', 'python3'));
    fs.chmodSync(path.join(uvPython, 'bin', 'python3'), 0o755);
    const venv = path.join(home, '.local/share/uv/tools/uvagent');
    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(venv, 'pyvenv.cfg'), `home = ${path.join(uvPython, 'bin')}\ninclude-system-site-packages = false\n`);
    fs.symlinkSync(path.join(uvPython, 'bin', 'python3'), path.join(venv, 'bin', 'python'));
    fs.writeFileSync(path.join(venv, 'bin', 'uvagent'), `#!${venv}/bin/python\nimport sys\nprint("uvagent ran in", sys.prefix)\n`, { mode: 0o755 });
    fs.symlinkSync('../share/uv/tools/uvagent/bin/uvagent', path.join(home, '.local/bin/uvagent'));
    // A download under /tmp.
    tmpInstall = fs.mkdtempSync('/tmp/agent-guard-edges-');
    fs.mkdirSync(path.join(tmpInstall, 'bin'));
    fs.writeFileSync(path.join(tmpInstall, 'bin', 'tmpagent'), '#!/bin/sh\necho "tmpagent ran"\n', { mode: 0o755 });
    fs.chmodSync(tmpInstall, 0o755);

    env = {
      PATH: `${path.join(home, '.local/bin')}:${path.join(tmpInstall, 'bin')}:${process.env.PATH}`,
      HOME: home,
      LANG: 'C.UTF-8',
      GITHUB_WORKSPACE: workspace,
      ANTHROPIC_API_KEY: secret('sk-ant'),
      KUBECONFIG: path.join(creds, 'kubeconfig'),
      DOCKER_CONFIG: path.join(creds, 'docker'),
      GOOGLE_APPLICATION_CREDENTIALS: path.join(creds, 'gcp.json'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(creds, 'aws-credentials'),
      AZURE_CONFIG_DIR: path.join(creds, 'azure'),
      NPM_CONFIG_USERCONFIG: path.join(creds, 'npmrc'),
    };
  }, 60_000);

  afterAll(async () => {
    await fake?.close();
    for (const d of [root, tmpInstall]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('a hostile agent', () => {
    let run: RawRun;
    let report: { reads: Record<string, string>; writes: Record<string, string>; requests: unknown[]; mountinfo: string };
    let audit: string;
    let summary: string;
    const routes = [
      '/v1/![x](https://evil.example/p.png)',
      '/v1/<img/src=https://evil.example/i.png>',
      '/v1/a|b|c',
      '/::warning::from-the-route',
      '/v1/##[error]route',
      '/v1/messages?![q](https://evil.example/)=1',
      '/v1/messages',
    ];

    beforeAll(async () => {
      audit = path.join(root, 'audit', 'audit.jsonl');
      fs.mkdirSync(path.dirname(audit));
      summary = path.join(root, 'step_summary');
      fs.writeFileSync(summary, '', { mode: 0o644 });
      const script = path.join(workspace, 'edges-agent.js');
      fs.copyFileSync(path.join(__dirname, 'helpers', 'edgesAgent.js'), script);
      const targetsFile = path.join(workspace, 'targets.json');
      fs.writeFileSync(targetsFile, JSON.stringify({ proxyPort: 41100, model: '![m](https://evil.example/model)', routes, audit, summary, credentials: credentialFiles }));
      run = await runRaw(guard, ['--provider', `anthropic=${fake.url}`, '--audit', audit, '--', process.execPath, script, targetsFile], { ...env, GITHUB_STEP_SUMMARY: summary }, workspace);
      const line = run.stdout.toString('utf8').split('\n').find((l) => l.startsWith('EDGES '));
      if (!line) throw new Error(`no report; exit ${run.code}\n${run.stderr.toString('utf8').slice(-2000)}`);
      report = JSON.parse(line.slice('EDGES '.length));
    }, 120_000);

    it('ran, and its requests reached the proxy', () => {
      expect(run.code).toBe(0);
      expect(report.requests).toHaveLength(routes.length);
      expect(fake.seen.length).toBeGreaterThan(0);
    });

    it('sends no workflow command to the runner, in any encoding, on either stream', () => {
      for (const stream of [run.stdout, run.stderr]) {
        expect(runnerCommands(stream)).toEqual([]);
        expect(stream.includes(0)).toBe(false);
        // No byte-order mark of any encoding at the start: FF FE, FE FF, 00 00 FE FF or EF BB BF.
        expect([0xff, 0xfe, 0x00].includes(stream[0]) || stream.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
      }
      // The agent's text is still there to read, only defused: UTF-16 shows as text with ␀ between letters.
      expect(run.stdout.toString('utf8')).toContain('a\u2400d\u2400d\u2400-\u2400m\u2400a\u2400s\u2400k');
    });

    it('cannot unlink, overwrite or forge the audit; a later step reads only the guard\'s lines', () => {
      for (const w of ['unlink audit', 'forge audit', 'append audit']) expect(report.writes[w]).toMatch(/^error:E(NOENT|ACCES|ROFS|PERM)$/);
      fs.chmodSync(audit, 0o644);
      const text = laterStepCat(audit);
      expect(runnerCommands(text)).toEqual([]);
      const lines = text.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(routes.length);
      expect(lines.map((l) => l.route)).not.toContain('forged');
      expect(lines.some((l) => /!\[x\]\(https:/.test(l.route))).toBe(true);
    });

    it('puts agent-chosen routes in the step summary and the log only as inert text', () => {
      const md = laterStepCat(summary).toString('utf8');
      expect(report.writes.summary).toMatch(/^error:/);
      expect(md).toMatch(/^### agent-guard\n/);
      // Escaped (`\!\[x\](`) is text; an unescaped `](`, a tag or a bare URL would be live.
      expect(md).not.toMatch(/(?<!\\)\]\(|(?<!\\)!(?<!\\)\[|<img|<\w|https?:\/\/|www\./i);
      const rows = md.split('\n').filter((l) => l.startsWith('| model'));
      expect(rows.length).toBe(routes.length);
      for (const row of rows) expect(row.split(/(?<!\\)\|/)).toHaveLength(9);
      expect(runnerCommands(Buffer.from(md))).toEqual([]);
      expect(runnerCommands(run.stderr)).toEqual([]);
    });

    it('reads every credential file other steps left as empty, cannot overwrite them, and a later step gets the originals', () => {
      for (const file of credentialFiles) {
        const seen = report.reads[file];
        expect({ file, seen: seen.includes(credentialSecrets[file]) }).toEqual({ file, seen: false });
        expect(report.writes[`overwrite ${file}`]).toMatch(/^error:/);
        expect(laterStepCat(file).toString('utf8')).toBe(`token: ${credentialSecrets[file]}\n`);
      }
      const all = run.stdout.toString('utf8') + run.stderr.toString('utf8');
      for (const value of Object.values(credentialSecrets)) expect(all).not.toContain(value);
    });

    it("cannot read the guard's config (it names HOME and the credential files)", () => {
      expect(report.reads.config).toBe('error:EACCES');
    });
  });

  describe('the audit path', () => {
    it.each([
      ['a symlink planted in the workspace', () => {
        const target = path.join(root, 'later-action.sh');
        fs.writeFileSync(target, 'echo original\n');
        fs.symlinkSync(target, path.join(workspace, 'planted-audit.jsonl'));
        return { audit: path.join(workspace, 'planted-audit.jsonl'), target, why: /inside .*which the agent can write/ };
      }],
      ['a symlink outside the workspace', () => {
        const target = path.join(root, 'other-action.sh');
        fs.writeFileSync(target, 'echo original\n');
        fs.symlinkSync(target, path.join(root, 'outside-audit.jsonl'));
        return { audit: path.join(root, 'outside-audit.jsonl'), target, why: /is a symlink/ };
      }],
    ])('refuses %s before anything runs', async (_name, setup) => {
      const { audit, target, why } = setup();
      const marker = path.join(root, `ran-${crypto.randomBytes(4).toString('hex')}`);
      const r = await runRaw(guard, ['--audit', audit, '--', 'sh', '-c', `touch ${marker}`], env, workspace);
      expect(r.code).toBe(125);
      expect(r.stderr.toString('utf8')).toMatch(new RegExp(`^agent-guard: audit layer: .*${why.source}`));
      expect(fs.existsSync(marker)).toBe(false);
      expect(fs.readFileSync(target, 'utf8')).toBe('echo original\n');
    });
  });

  describe('limits', () => {
    let report: Record<string, unknown>;
    let run: RawRun;
    const marker = `0.${crypto.randomInt(100000, 999999)}`;

    beforeAll(async () => {
      // Fill /tmp and /dev/shm, allocate 256 MiB in a child, start 200 processes.
      const script = `
        const fs = require('node:fs');
        const { spawn, spawnSync } = require('node:child_process');
        const fill = (file) => { const fd = fs.openSync(file, 'w'); const mib = Buffer.alloc(1 << 20, 1); let n = 0;
          try { for (; n < 256; n++) fs.writeSync(fd, mib); } catch (e) { return { mib: n, error: e.code }; } return { mib: n }; };
        const out = { tmp: fill('/tmp/fill'), shm: fill('/dev/shm/fill') };
        fs.rmSync('/tmp/fill'); fs.rmSync('/dev/shm/fill');
        const big = spawnSync(process.execPath, ['-e', 'const a = []; for (let i = 0; i < 32; i++) a.push(Buffer.alloc(8 << 20, 1)); console.log("allocated")'], { encoding: 'utf8' });
        out.memory = { signal: big.signal, stdout: big.stdout.trim() };
        let started = 0, refused = 0;
        for (let i = 0; i < 200; i++) { const c = spawn('sleep', ['${marker}']); c.on('error', () => refused++); if (c.pid) started++; }
        setTimeout(() => { out.pids = { started, refused }; console.log('LIMITS ' + JSON.stringify(out)); process.exit(0); }, 1500);
      `;
      fs.writeFileSync(path.join(workspace, 'limits.js'), script);
      run = await runRaw(guard, ['--memory', '160m', '--pids', '64', '--tmpfs-size', '32m', '--', process.execPath, path.join(workspace, 'limits.js')], env, workspace);
      const line = run.stdout.toString('utf8').split('\n').find((l) => l.startsWith('LIMITS '));
      if (!line) throw new Error(`no report; exit ${run.code}\n${run.stderr.toString('utf8').slice(-2000)}`);
      report = JSON.parse(line.slice('LIMITS '.length));
    }, 120_000);

    it('stops the agent pinning 256 MiB in /tmp or /dev/shm at the tmpfs size', () => {
      expect(report.tmp).toEqual({ mib: 32, error: 'ENOSPC' });
      expect(report.shm).toEqual({ mib: 32, error: 'ENOSPC' });
    });

    it('kills a process that allocates past the memory cap', () => {
      expect(report.memory).toEqual({ signal: 'SIGKILL', stdout: '' });
    });

    it('stops a fork bomb at the pids cap, and nothing it started outlives the jail', () => {
      const pids = report.pids as { started: number; refused: number };
      expect(pids.started).toBeLessThan(64);
      expect(pids.refused).toBeGreaterThan(100);
      const survivors = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
        } catch {
          return false;
        }
      });
      expect(survivors).toEqual([]);
      expect(run.code).toBe(0);
    });

    it('fails closed, in the limits layer, when the cgroup cannot be made; runs without only when told to', async () => {
      // A private mount namespace in which every cgroup file system is read-only.
      const mark = path.join(workspace, `limits-ran-${crypto.randomBytes(4).toString('hex')}`);
      const readOnlyCgroups = "for m in $(awk '$9 ~ /^cgroup/ {print $5}' /proc/self/mountinfo); do mount -o remount,bind,ro \"$m\"; done; exec \"$@\"";
      const guarded = (extra: string[]) =>
        spawnSync('unshare', ['-m', 'sh', '-c', readOnlyCgroups, 'sh', process.execPath, guard, 'run', ...extra, '--', 'sh', '-c', `touch ${mark}`], { cwd: workspace, env, encoding: 'utf8', timeout: 60_000 });
      const refused = guarded([]);
      expect(refused.status).toBe(125);
      expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^agent-guard: limits layer: cannot limit the jail's resources, the agent did not run: cannot create the cgroup \S+agent-guard-\d+-[0-9a-f]+ \(.*read-only file system.*\)$/i)]);
      expect(fs.existsSync(mark)).toBe(false);
      const without = guarded(['--memory', 'none', '--pids', 'none']);
      expect({ status: without.status, stderr: without.status === 0 ? '' : without.stderr }).toEqual({ status: 0, stderr: '' });
      expect(fs.existsSync(mark)).toBe(true);
    });

    it('refuses, in the limits layer, a bubblewrap too old to size a tmpfs (before 0.7.0)', async () => {
      const fakeBin = fs.mkdtempSync(path.join(root, 'oldbwrap-'));
      fs.writeFileSync(path.join(fakeBin, 'bwrap'), '#!/bin/sh\nfor a; do [ "$a" = --size ] && { echo "bwrap: Unknown option --size" >&2; exit 1; }; done\nexec /usr/bin/bwrap "$@"\n', { mode: 0o755 });
      const r = await runRaw(guard, ['--', 'true'], { ...env, PATH: `${fakeBin}:${env.PATH}` }, workspace);
      expect(r.code).toBe(125);
      expect(r.stderr.toString('utf8')).toMatch(/^agent-guard: limits layer: this bubblewrap is older than 0\.7\.0 and cannot give a tmpfs a size/);
    });

    it('removes its cgroups afterwards', () => {
      const leftovers = ['memory', 'pids'].flatMap((c) => {
        const base = `/sys/fs/cgroup/${c}`;
        return fs.existsSync(base) ? fs.readdirSync(base, { recursive: true }).map(String).filter((e) => /agent-guard-/.test(e)) : [];
      });
      expect(leftovers).toEqual([]);
    });
  });

  describe('agents installed where the jail masks', () => {
    it.each([
      ['uvagent (uv tool in ~/.local/bin), direct', ['uvagent'], /uvagent ran in .*uvagent/],
      ['tmpagent (under /tmp), direct', ['tmpagent'], /tmpagent ran/],
      ['both through bash -c, as the Action runs them', ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c', 'uvagent && tmpagent && ls -a "$REAL_HOME"'], /uvagent ran in[^]*tmpagent ran\n\.\n\.\.\n\.local\n$/],
    ])('%s', async (_name, command, expected) => {
      const r = await runRaw(guard, ['--pass-env', 'REAL_HOME', '--', ...command], { ...env, REAL_HOME: home }, workspace);
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.toString('utf8') }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout.toString('utf8')).toMatch(expected);
      // HOME shows only the way to the installs: no .npmrc.
      expect(r.stdout.toString('utf8')).not.toContain('.npmrc');
    });

    it('has the canary name what a broken jail shows in a masked HOME, and what to do', async () => {
      // A bwrap that "forgets" to mask HOME: it mounts that tmpfs somewhere harmless instead.
      const plainHome = path.join(root, 'plain-home');
      fs.mkdirSync(plainHome);
      fs.writeFileSync(path.join(plainHome, 'notes.txt'), 'not for the agent\n');
      const fakeBin = fs.mkdtempSync(path.join(root, 'bin-'));
      const bwrap = path.join(fakeBin, 'bwrap');
      fs.writeFileSync(bwrap, `#!/bin/sh\nprev=\nfor a; do shift; if [ "$prev" = --tmpfs ] && [ "$a" = "${plainHome}" ]; then a=/mnt; fi; set -- "$@" "$a"; prev=$a; done\nexec /usr/bin/bwrap "$@"\n`, { mode: 0o755 });
      const r = await runRaw(guard, ['--', 'true'], { ...env, HOME: plainHome, PATH: `${fakeBin}:${process.env.PATH}` }, workspace);
      expect(r.code).toBe(125);
      expect(r.stderr.toString('utf8').trim()).toBe(
        `agent-guard: canary layer: jail self-check failed, the agent did not run: canary: ${plainHome} is not masked: it shows ${plainHome}/notes.txt, which the guard did not put there. ` +
          'The jail is not the one planned (a bwrap or kernel that skipped a mount?); run `agent-guard doctor` on this machine and do not run agents here until it passes',
      );
    });

    it('says where the jail looks when the command is not found', async () => {
      // A PATH entry under HOME with nothing in it only names the caller's folders: the jail drops it.
      const nowhere = path.join(home, '.nowhere', 'bin');
      const r = await runRaw(guard, ['--', 'bash', '-c', 'no-such-agent'], { ...env, PATH: `${nowhere}:${env.PATH}` }, workspace);
      expect(r.code).toBe(127);
      const hint = r.stderr.toString('utf8');
      expect(hint).toMatch(/agent-guard: the agent exited 127 \(command not found\?\)\. The jail hides HOME.*only when their folder is on PATH \(.*\.local\/bin.*\)/);
      expect(hint).not.toContain(nowhere);
    });
  });
});
