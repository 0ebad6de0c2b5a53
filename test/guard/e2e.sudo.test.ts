// The guard as a GitHub-hosted runner runs it: a non-root user with passwordless sudo. The jail is
// built through `sudo -n`; the agent keeps the runner's uid inside it, cannot see the runner's HOME,
// can write the workspace, and gets nothing from sudo (no_new_privs). The test makes such a user for
// itself (root is needed for that, as for every jail test) and removes it afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { describeJail } from './helpers/jailAvailable';
import { makeRunnerUser, type RunnerUser, SUDO } from './helpers/runnerUser';

describeJail('guard through sudo, as on a GitHub runner', () => {
  let guard: string;
  let home: string;
  let workspace: string;
  let uid: number;
  let user: RunnerUser | undefined;
  let USER = '';

  beforeAll(() => {
    guard = buildGuard();
    user = makeRunnerUser('agrunner');
    USER = user.name;
    uid = user.uid;
    home = user.home;
    fs.writeFileSync(path.join(home, '.npmrc'), '//registry.npmjs.org/:_authToken=npm_RUNNER_HOME_SECRET\n');
    workspace = path.join(home, 'work', 'repo', 'repo');
    fs.mkdirSync(workspace, { recursive: true });
    execFileSync('chown', ['-R', `${USER}:${USER}`, home]);
  });

  afterAll(() => user?.remove());

  it("builds the jail with sudo and runs the agent as the runner's uid, without its HOME or sudo", () => {
    const script = [
      'id -u',
      'cat "$REAL_HOME/.npmrc" 2>/dev/null || echo "no-npmrc"',
      'touch written-by-agent && echo wrote',
      'sudo -n true 2>/dev/null && echo SUDO-WORKED || echo no-sudo',
    ].join('; ');
    const r = spawnSync(
      SUDO!,
      ['-u', USER, '-H', 'env', `PATH=${process.env.PATH}`, `REAL_HOME=${home}`, 'GITHUB_TOKEN=ghs_RUNNER_TOKEN', process.execPath, guard, 'run', '--', 'sh', '-c', script],
      { cwd: workspace, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ status: r.status, stderrTail: r.status === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ status: 0, stderrTail: '' });
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([String(uid), 'no-npmrc', 'wrote', 'no-sudo']);
    expect(r.stdout + r.stderr).not.toContain('npm_RUNNER_HOME_SECRET');
    expect(r.stdout + r.stderr).not.toContain('ghs_RUNNER_TOKEN');
    expect(fs.statSync(path.join(workspace, 'written-by-agent')).uid).toBe(uid);
  });

  it("limits the jail through sudo, and the guard's config (written by the runner's uid) is root's alone", () => {
    // The agent shares the runner's uid here, so only the start script's chown keeps the config from it.
    const script = [
      'cat /run/agent-guard/config.json >/dev/null 2>&1 && echo CONFIG-READ || echo config-hidden',
      'df -k /tmp | tail -1 | tr -s " " | cut -d " " -f2',
      'n=0; for i in $(seq 1 100); do (sleep 30 &) 2>/dev/null && n=$((n+1)); done; echo "started $n"',
    ].join('; ');
    const r = spawnSync(
      SUDO!,
      ['-u', USER, '-H', 'env', `PATH=${process.env.PATH}`, process.execPath, guard, 'run', '--pids', '40', '--tmpfs-size', '48m', '--', 'sh', '-c', script],
      { cwd: workspace, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ status: r.status, stderrTail: r.status === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ status: 0, stderrTail: '' });
    const [config, tmpKib, started] = r.stdout.trim().split('\n');
    expect(config).toBe('config-hidden');
    expect(tmpKib).toBe(String(48 * 1024));
    expect(Number(started.replace('started ', ''))).toBeLessThan(40);
  });
});
