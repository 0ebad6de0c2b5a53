// `--help` as a user types it, on the built CLI: every command answers on standard output with exit
// 0 in one layout, and every flag a help names is documented in README.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RUN_USAGE } from '../src/guard/options';
import { asksForHelp, flagsIn, HELP, helpFor } from '../src/help';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist/cli.js');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COMMANDS = Object.keys(HELP);

describe('--help', () => {
  it('covers every command the CLI has', () => {
    expect(COMMANDS.sort()).toEqual(['action', 'apply', 'doctor', 'lint', 'run', 'scan', 'version', 'wrap']);
  });

  it.each(COMMANDS.flatMap((c) => [[c, '--help'], [c, '-h']]))('%s %s: usage on stdout, exit 0', (command, flag) => {
    const r = run([command, flag]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(helpFor(command));
    expect(r.stdout.startsWith(`usage: agent-guard ${command}`)).toBe(true);
    // One layout: usage, a blank line, what it does.
    expect(r.stdout.split('\n')[1]).toBe('');
  });

  it('answers after other words too, and through `help COMMAND`', () => {
    expect(run(['lint', '.github', '--format', 'json', '--help'])).toMatchObject({ code: 0, stdout: helpFor('lint') });
    expect(run(['wrap', 'claude', '--help'])).toMatchObject({ code: 0, stdout: helpFor('wrap') });
    expect(run(['action', 'lint', '--help'])).toMatchObject({ code: 0, stdout: helpFor('action') });
    expect(run(['help', 'run'])).toMatchObject({ code: 0, stdout: helpFor('run') });
    expect(run(['--help'])).toMatchObject({ code: 0, stdout: helpFor(undefined), stderr: '' });
  });

  it('is not taken from the agent command after --', () => {
    expect(asksForHelp(['--provider', 'anthropic', '--', 'claude', '--help'])).toBe(false);
    expect(asksForHelp(['--provider', 'anthropic', '--help', '--', 'claude'])).toBe(true);
  });

  it('without a command: the list on stderr, exit 2', () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(helpFor(undefined));
  });

  it("explains every flag run's error messages show", () => {
    expect(flagsIn(RUN_USAGE).filter((f) => !flagsIn(helpFor('run')).includes(f))).toEqual([]);
  });

  it.each(COMMANDS)('%s: every flag in the help is documented in README.md', (command) => {
    const missing = flagsIn(helpFor(command)).filter((flag) => !new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(readme));
    expect(missing).toEqual([]);
  });
});
