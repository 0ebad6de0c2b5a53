// End to end: a hostile script runs under `agent-guard run --provider anthropic=<fake>` and tries
// every channel of the bypass checklist. The test plants secrets where a runner keeps them, listens
// on every host channel, and then checks from outside that nothing leaked and nothing arrived, and
// that the one honest model call reached the fake provider with the real key.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildGuard } from './helpers/build';
import { type FakeProvider, startFakeProvider } from './helpers/fakeProvider';
import { describeJail } from './helpers/jailAvailable';
import { runGuard } from './helpers/runGuard';

const AGENT_UID = 4242;

function secret(label: string): string {
  return `${label}-${crypto.randomBytes(12).toString('hex')}`;
}

/** Would the Actions runner treat this line as a workflow command? (ActionCommand.TryParseV2 / TryParse) */
function runnerWouldParse(line: string): boolean {
  return line.trimStart().startsWith('::') || line.includes('##[');
}

describeJail('guard end to end: a hostile agent', () => {
  let guard: string;
  let fake: FakeProvider;
  let root: string;
  const cleanups: (() => void)[] = [];
  const secrets = {
    anthropic: secret('sk-ant-REAL'),
    githubToken: secret('ghs_TOKEN'),
    oidc: secret('OIDC'),
    runtime: secret('RUNTIME'),
    npmrc: secret('NPMRC'),
    gitCreds: secret('GITCRED'),
    otherHome: secret('OTHERHOME'),
    rootHome: secret('ROOTHOME'),
    extraheader: secret('EXTRAHEADER'),
    checkoutV6: secret('CHECKOUTV6'),
    runnerCreds: secret('RUNNERCREDS'),
    stepScript: secret('STEPSCRIPT'),
    input: secret('INPUT'),
    cloudCreds: secret('GHACREDS'),
  };
  let result: { code: number; stdout: string; stderr: string };
  const received: string[] = [];
  let report: { channel: string; reached: boolean; detail: string }[] = [];
  let writeTargets: string[] = [];
  let workspaceDir = '';
  // Writes into the workspace land in the agent's copy (an overlay) and must stop at the boundary.
  const inWorkspace = (channel: string) => channel.startsWith(`write ${workspaceDir}/`);
  const survivorMarker = `0.${crypto.randomInt(100000000, 999999999)}`;
  let auditFile: string;

  beforeAll(async () => {
    guard = buildGuard();
    fake = await startFakeProvider();
    // Outside /tmp, /home and /root on purpose: the jail must mask these because they are named
    // (HOME, RUNNER_TEMP, the runner root), not because they happen to sit in a masked folder.
    root = fs.mkdtempSync('/var/lib/agent-guard-e2e-');
    fs.chmodSync(root, 0o755);
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const home = path.join(root, 'home');
    const runnerTemp = path.join(root, 'work', '_temp');
    const fileCommands = path.join(runnerTemp, '_runner_file_commands');
    const workspace = path.join(root, 'work', 'repo', 'repo');
    workspaceDir = workspace;
    for (const d of [home, path.join(home, '.config', 'gh'), fileCommands, path.join(root, 'work', '_actions', 'x'), path.join(workspace, '.git', 'hooks'), path.join(workspace, '.github', 'workflows')]) {
      fs.mkdirSync(d, { recursive: true });
    }
    fs.writeFileSync(path.join(home, '.npmrc'), `//registry.npmjs.org/:_authToken=${secrets.npmrc}\n`);
    fs.writeFileSync(path.join(home, '.git-credentials'), `https://x:${secrets.gitCreds}@github.com\n`);
    fs.writeFileSync(path.join(home, '.config', 'gh', 'hosts.yml'), `github.com:\n  oauth_token: ${secrets.gitCreds}\n`);
    fs.writeFileSync(path.join(runnerTemp, `git-credentials-${crypto.randomUUID()}.config`), `[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${secrets.checkoutV6}\n`);
    fs.writeFileSync(path.join(runnerTemp, `${crypto.randomUUID()}.sh`), `echo ${secrets.stepScript}\n`);
    // google-github-actions/auth leaves minted cloud credentials at the workspace root.
    fs.writeFileSync(path.join(workspace, 'gha-creds-0f1e2d3c.json'), JSON.stringify({ type: 'external_account', token: secrets.cloudCreds }));
    fs.writeFileSync(path.join(root, 'work', '_actions', 'x', 'action.yml'), `# ${secrets.runtime}\n`);
    const envFiles = ['set_env_1', 'add_path_1', 'set_output_1', 'save_state_1', 'step_summary_1'].map((f) => path.join(fileCommands, f));
    for (const f of envFiles) fs.writeFileSync(f, '');
    fs.writeFileSync(
      path.join(workspace, '.git', 'config'),
      [
        '[core]', '\trepositoryformatversion = 0', '[remote "origin"]', `\turl = https://x-access-token:${secrets.githubToken}@github.com/o/r`,
        '[http "https://github.com/"]', `\textraheader = AUTHORIZATION: basic ${secrets.extraheader}`,
        `[includeIf "gitdir:${workspace}/.git"]`, `\tpath = ${runnerTemp}/git-credentials-x.config`,
        '[credential]', `\thelper = store --file=${home}/.git-credentials`, '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(workspace, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\n');
    fs.writeFileSync(path.join(workspace, '.github', 'workflows', 'ci.yml'), 'on: push\n');
    fs.writeFileSync(path.join(workspace, 'README.md'), 'hello\n');
    execChown(workspace, AGENT_UID);
    // Another user's home under /home, and root's home: both hold secrets.
    const otherHome = fs.mkdtempSync('/home/agent-guard-e2e-');
    cleanups.push(() => fs.rmSync(otherHome, { recursive: true, force: true }));
    fs.writeFileSync(path.join(otherHome, '.npmrc'), `_authToken=${secrets.otherHome}\n`);
    const rootSecretFile = path.join('/root', `.agent-guard-e2e-${process.pid}`);
    fs.writeFileSync(rootSecretFile, secrets.rootHome);
    cleanups.push(() => fs.rmSync(rootSecretFile, { force: true }));
    // The runner root with its credentials, found through the (fake) parent process tree is not
    // possible here, so it lives under HOME like on a hosted runner.
    fs.mkdirSync(path.join(home, 'actions-runner'), { recursive: true });
    fs.writeFileSync(path.join(home, 'actions-runner', '.credentials_rsaparams'), secrets.runnerCreds);

    // A setuid-root binary: under no_new_privs it must not give root.
    const setuidId = path.join(root, 'suid-id');
    fs.copyFileSync('/usr/bin/id', setuidId);
    fs.chmodSync(setuidId, 0o4755);

    // Listeners on every host channel the agent might try.
    const unixPaths = [path.join(root, 'host.sock'), `/run/agent-guard-e2e-${process.pid}.sock`, `/tmp/agent-guard-e2e-${process.pid}.sock`];
    const servers: net.Server[] = [];
    for (const p of unixPaths) {
      const s = net.createServer((c) => {
        received.push(`unix ${p}`);
        c.destroy();
      });
      await new Promise<void>((r) => s.listen(p, () => r()));
      fs.chmodSync(p, 0o777);
      servers.push(s);
      cleanups.push(() => fs.rmSync(p, { force: true }));
    }
    const tcp = net.createServer((c) => {
      received.push(`tcp ${c.remoteAddress}`);
      c.destroy();
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    const tcpPort = (tcp.address() as net.AddressInfo).port;
    const tcp6 = net.createServer((c) => {
      received.push(`tcp6 ${c.remoteAddress}`);
      c.destroy();
    });
    await new Promise<void>((r) => tcp6.once('error', () => r()).listen(tcpPort, '::1', () => r()));
    const udp = dgram.createSocket('udp4');
    udp.on('message', (m) => received.push(`udp ${m.toString()}`));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const udpPort = udp.address().port;
    const udp6 = dgram.createSocket('udp6');
    udp6.on('message', (m) => received.push(`udp6 ${m.toString()}`));
    udp6.on('error', () => undefined);
    await new Promise<void>((r) => udp6.bind(udpPort, '::1', () => r()));
    cleanups.push(() => {
      for (const s of [...servers, tcp, tcp6]) s.close();
      udp.close();
      try {
        udp6.close();
      } catch {
        // never bound
      }
    });

    writeTargets = [...envFiles, path.join(home, '.bashrc'), path.join(workspace, '.git', 'config'), path.join(workspace, '.git', 'hooks', 'pre-commit'), path.join(workspace, '.github', 'workflows', 'ci.yml')];
    const targets = {
      proxyPort: 41100,
      tcpPort,
      udpPort,
      unixSockets: [...unixPaths, '/run/docker.sock', '/var/run/docker.sock', '/run/dbus/system_bus_socket'],
      dirs: [home, runnerTemp, path.join(root, 'work'), path.join(workspace, '.git')],
      files: [path.join(workspace, 'gha-creds-0f1e2d3c.json'), path.join(home, '.npmrc'), path.join(home, 'actions-runner', '.credentials_rsaparams'), rootSecretFile, path.join(otherHome, '.npmrc'), ...envFiles],
      writeTargets,
      setuidId,
      survivorMarker,
    };
    const targetsFile = path.join(workspace, 'targets.json');
    fs.writeFileSync(targetsFile, JSON.stringify(targets));
    // The hostile script runs from the workspace: the repository itself may sit under a folder the
    // jail masks (/tmp, /home, /root), as a CI checkout can.
    const hostileScript = path.join(workspace, 'hostile.js');
    fs.copyFileSync(path.join(__dirname, 'helpers', 'hostile.js'), hostileScript);
    auditFile = path.join(root, 'audit.jsonl');

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      LANG: 'C.UTF-8',
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace,
      GITHUB_REPOSITORY: 'o/r',
      RUNNER_TEMP: runnerTemp,
      GITHUB_ENV: envFiles[0],
      GITHUB_PATH: envFiles[1],
      GITHUB_OUTPUT: envFiles[2],
      GITHUB_STATE: envFiles[3],
      GITHUB_STEP_SUMMARY: envFiles[4],
      GITHUB_TOKEN: secrets.githubToken,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: secrets.oidc,
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.actions.example/x',
      ACTIONS_RUNTIME_TOKEN: secrets.runtime,
      INPUT_ANTHROPIC_API_KEY: secrets.input,
      ANTHROPIC_API_KEY: secrets.anthropic,
      // Same value as a secret under an innocent name, passed on purpose: it must still be dropped.
      HARMLESS_LOOKING: secrets.githubToken,
      // Loaders the guard's own node ignores but a shell in the jail would honour.
      BASH_ENV: '/nonexistent/evil.sh',
      PYTHONSTARTUP: '/nonexistent/evil.py',
    };
    result = await runGuard(
      guard,
      ['--provider', `anthropic=${fake.url}`, '--pass-env', 'HARMLESS_LOOKING', '--audit', auditFile, '--', process.execPath, hostileScript, targetsFile],
      env,
      workspace,
    );
    const line = result.stdout.split('\n').find((l) => l.startsWith('REPORT '));
    if (!line) throw new Error(`no report from the hostile script; exit ${result.code}\nstdout: ${result.stdout.slice(0, 3000)}\nstderr: ${result.stderr.slice(0, 3000)}`);
    report = JSON.parse(line.slice('REPORT '.length));
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) c();
    await fake?.close();
  });

  it('runs the agent and returns its exit code', () => {
    expect(result.code).toBe(0);
  });

  it('leaks no secret anywhere the agent could look', () => {
    const everything = result.stdout + result.stderr;
    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, leaked: everything.includes(value) }).toEqual({ name, leaked: false });
    }
  });

  it('gets through no channel', () => {
    const reached = report.filter((r) => r.reached && r.channel !== 'honest model call' && !inWorkspace(r.channel));
    expect(reached).toEqual([]);
    expect(report.find((r) => r.channel === 'honest model call')?.reached).toBe(true);
    // Each channel was actually tried.
    for (const channel of ['tcp 127.0.0.1', 'tcp ::1', 'tcp 1.1.1.1:443', 'udp 8.8.8.8:53', 'dns via system resolver', 'proxy CONNECT', 'proxy CL and TE', 'privilege sudo']) {
      expect(report.some((r) => r.channel.startsWith(channel))).toBe(true);
    }
  });

  it('receives nothing on any host listener', () => {
    expect(received).toEqual([]);
  });

  it('changes none of the runner files nor the real HOME', () => {
    for (const f of writeTargets.slice(0, 4)) expect(fs.readFileSync(f, 'utf8')).toBe('');
    // The step summary gets the guard's own table, written after the agent is gone.
    expect(fs.readFileSync(writeTargets[4], 'utf8')).toMatch(/^### agent-guard\n/);
    for (const f of writeTargets) if (fs.existsSync(f)) expect(fs.readFileSync(f, 'utf8')).not.toContain('PWNED');
    expect(fs.existsSync(writeTargets[5])).toBe(false);
    expect(report.filter((r) => r.channel.startsWith('write '))).toHaveLength(writeTargets.length);
  });

  it("stops the agent's writes to .git and .github at the boundary", () => {
    // They reached the agent's copy (the overlay): the real files are unchanged (above) and the guard says why.
    expect(report.filter((r) => inWorkspace(r.channel)).map((r) => r.detail)).toEqual(['appended', 'appended', 'appended']);
    expect(result.stderr).toMatch(/^agent-guard: boundary: \.git\/: \d+ change\(s\) refused, inside \.git/m);
    expect(result.stderr).toMatch(/^agent-guard: boundary: \.github\/: the folder refused/m);
    const audit = fs.readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((l) => l.kind === 'boundary' && l.outcome === 'refused').map((l) => l.path).sort()).toEqual(['.git/', '.github/']);
    const summary = fs.readFileSync(writeTargets[4], 'utf8');
    expect(summary).toContain('#### What came back from the agent');
    expect(summary).toMatch(/^\| \.github\/ \| the folder refused: /m);
  });

  it('sees the proxy refuse every trick and forwards one honest call with the real key only', () => {
    const byName = Object.fromEntries(report.filter((r) => r.channel.startsWith('proxy ')).map((r) => [r.channel.slice(6), r.detail]));
    expect(report.find((r) => r.channel === 'honest model call')?.detail).toMatch(/200/);
    for (const [name, detail] of Object.entries(byName)) {
      if (name === 'attacker key') expect(detail).toMatch(/^200/);
      else expect({ name, detail }).toEqual({ name, detail: expect.stringMatching(/^(4\d\d|0) /) });
    }
    // Exactly the two valid calls arrived, both with the real key and nothing the agent sent.
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /v1/messages', 'POST /v1/messages']);
    for (const s of fake.seen) {
      expect(s.headers['x-api-key']).toBe(secrets.anthropic);
      expect(s.headers.authorization).toBeUndefined();
      expect(JSON.stringify(s.headers)).not.toContain('ATTACKER');
    }
  });

  it('writes an audit line per request with refusal reasons', () => {
    const lines = fs.readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.kind !== 'boundary');
    expect(lines.filter((l) => !l.refused)).toHaveLength(2);
    expect(lines.find((l) => !l.refused).inputTokens).toBe(21);
    const reasons = lines.filter((l) => l.refused).map((l) => l.refused).join('\n');
    for (const r of ['CONNECT', 'absolute-form', 'Host', 'traversal', 'percent-encoded', 'route not allowed', 'malformed', 'body over', 'web_fetch', 'web_search', 'mcp_servers', 'URL', 'upgrade']) {
      expect(reasons).toContain(r);
    }
  });

  it('neutralises workflow commands on stdout and stderr', () => {
    expect(result.stdout).toContain('set-output name=pwned');
    const lines = (result.stdout + '\n' + result.stderr).split(/\r\n|\r|\n/);
    expect(lines.filter(runnerWouldParse)).toEqual([]);
  });

  it('leaves nothing running after the agent exits', () => {
    const survivors = fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(survivorMarker);
        } catch {
          return false;
        }
      });
    expect(survivors).toEqual([]);
  });

  it('really tried: it read the workspace, its own environment and the processes it could see', () => {
    expect(result.stdout).toMatch(/FILE \S+\/\.git\/config: \[core\]/);
    expect(result.stdout).toContain('ENV {');
    expect(result.stdout).toMatch(/FILE \/proc\/1\/cmdline/);
    expect(report.filter((r) => r.channel.startsWith('write ') && !inWorkspace(r.channel)).every((r) => /^E(ROFS|ACCES|NOENT|PERM)$/.test(r.detail))).toBe(true);
  });

  it('shows the agent a jail: own pids, no_new_privs', () => {
    expect(report.find((r) => r.channel === 'visible pids')?.reached).toBe(false);
    expect(result.stdout).not.toMatch(/MEM \d+/);
  });
});

function execChown(dir: string, uid: number): void {
  const walk = (p: string) => {
    fs.chownSync(p, uid, uid);
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  void os;
}
