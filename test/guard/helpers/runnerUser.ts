// A runner-like user for the end-to-end tests: a non-root account with its own HOME and passwordless
// sudo, as on a GitHub-hosted runner. Made by the test (root is needed for that, as for every jail
// test) and removed afterwards.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export const SUDO = ['/usr/bin/sudo', '/bin/sudo'].find((p) => fs.existsSync(p));

export interface RunnerUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  remove(): void;
}

export function makeRunnerUser(prefix: string): RunnerUser {
  if (process.getuid?.() !== 0) throw new Error('this test makes a runner-like user and needs root');
  if (!SUDO) throw new Error('sudo is not installed (.ci/run installs it)');
  const name = `${prefix}${process.pid % 100000}`;
  const sudoers = `/etc/sudoers.d/agent-guard-test-${name}`;
  execFileSync('useradd', ['-m', name]);
  fs.writeFileSync(sudoers, `${name} ALL=(ALL) NOPASSWD:ALL\n`, { mode: 0o440 });
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return {
    name, uid: id('-u'), gid: id('-g'), home: `/home/${name}`,
    remove: () => {
      fs.rmSync(sudoers, { force: true });
      try {
        execFileSync('userdel', ['-r', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    },
  };
}
