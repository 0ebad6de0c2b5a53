// The first process inside the jail. It runs as root inside fresh pid, mount, network, ipc and uts
// namespaces, with only the capabilities it needs to hand the agent a lower uid. It:
//   1. runs the canary: the namespaces differ from the host's, only loopback exists, the internet,
//      the host resolver and a listener the guard opened on the host's loopback are unreachable,
//      every masked folder shows only what the guard put there, and hidden credential files are empty;
//   2. starts the bridges: a loopback TCP port per provider (and one for --allow-host) piped to
//      the proxy's unix socket, which the guard bind-mounted in;
//   3. starts the agent through setpriv (new uid, no groups, no capabilities, empty bounding set,
//      no_new_privs), then drops its own root;
//   4. exits with the agent's status, which tears the pid namespace down with everything in it.
// The guard serialises jailInitMain with Function.prototype.toString and runs it with the host's
// node, so it must be self-contained: no imports, only require() of node built-ins inside it.

export interface JailConfig {
  nonce: string;
  agentUid: number;
  agentGid: number;
  /** Uid the init process keeps after starting the agent (it then only pipes bytes). */
  bridgeUid: number;
  bridgeGid: number;
  home: string;
  /** Written into the agent's fresh HOME while init is still root (paths relative to HOME). */
  homeFiles: { path: string; content: string }[];
  cwd: string;
  command: string[];
  env: Record<string, string>;
  bridges: { port: number; socket: string }[];
  lifeline?: string;
  setpriv?: string;
  canary: {
    hostNamespaces: Record<string, string>;
    hostLoopbackPort: number;
    /** Folders the jail masks: each must show nothing but `exposed` paths and the folders leading to them. */
    masked: string[];
    /** What the guard itself put inside masked folders (agent installs, the workspace, its own files). */
    exposed: string[];
    /** Credential files hidden behind an empty file: each must read as empty. */
    emptyFiles: string[];
    mustNotExist: string[];
    /** The workspace path, which must be an overlay mount (the agent writes a copy, never the real one). */
    overlayAt?: string;
  };
}

export function jailInitMain(): void {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const fs = require('node:fs') as typeof import('node:fs');
  const net = require('node:net') as typeof import('node:net');
  const os = require('node:os') as typeof import('node:os');
  const dgram = require('node:dgram') as typeof import('node:dgram');
  const childProcess = require('node:child_process') as typeof import('node:child_process');
  const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as JailConfig;
  const say = (status: string) => fs.writeSync(2, `AGENT_GUARD_INIT ${config.nonce} ${status}\n`);
  const fail = (reason: string): never => {
    say(`fail ${reason.replace(/[\r\n]/g, ' ')}`);
    process.exit(125);
  };

  const tryConnect = (host: string, port: number) =>
    new Promise<string | undefined>((resolve) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(undefined);
      }, 1500);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(`${host}:${port} is reachable`);
      });
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });

  const tryUdp = (host: string, port: number, family: 'udp4' | 'udp6') =>
    new Promise<string | undefined>((resolve) => {
      const socket = dgram.createSocket(family);
      socket.once('error', () => {
        socket.close();
        resolve(undefined);
      });
      socket.send(Buffer.from('agent-guard canary'), port, host, (err) => {
        socket.close();
        resolve(err ? undefined : `UDP to ${host}:${port} could be sent`);
      });
    });

  const canary = async (): Promise<void> => {
    const c = config.canary;
    for (const [ns, hostId] of Object.entries(c.hostNamespaces)) {
      if (fs.readlinkSync(`/proc/self/ns/${ns}`) === hostId) fail(`canary: the ${ns} namespace is the host's`);
    }
    const interfaces = Object.keys(os.networkInterfaces());
    if (interfaces.some((name) => name !== 'lo')) fail(`canary: network interfaces other than loopback: ${interfaces.join(', ')}`);
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    if (!/^NoNewPrivs:\s*1$/m.test(status)) fail('canary: no_new_privs is not set');
    if (!/^Seccomp:\s*2$/m.test(status)) fail('canary: the seccomp filter is not installed (bwrap --seccomp)');
    for (const path of c.mustNotExist) {
      let exists = true;
      try {
        fs.lstatSync(path);
      } catch {
        exists = false;
      }
      if (exists) fail(`canary: ${path} is visible in the jail`);
    }
    // Every masked folder shows only what the guard exposed, and the folders leading to it.
    const walk = (root: string, dir: string): void => {
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(dir);
      } catch {
        return;
      }
      for (const entry of entries) {
        const p = `${dir === '/' ? '' : dir}/${entry}`;
        if (c.exposed.includes(p)) continue;
        let isDir = false;
        try {
          isDir = fs.lstatSync(p).isDirectory();
        } catch {
          // vanished: nothing shown
        }
        if (isDir && c.exposed.some((e) => e.startsWith(p + '/'))) {
          walk(root, p);
          continue;
        }
        fail(
          `canary: ${root} is not masked: it shows ${p}, which the guard did not put there. The jail is not the one planned ` +
            '(a bwrap or kernel that skipped a mount?); run `agent-guard doctor` on this machine and do not run agents here until it passes',
        );
      }
    };
    for (const dir of c.masked) walk(dir, dir);
    for (const file of c.emptyFiles) {
      let size = -1;
      try {
        size = fs.readFileSync(file).length;
      } catch {
        size = 0;
      }
      if (size !== 0) fail(`canary: the credential file ${file} is readable in the jail`);
    }
    if (c.overlayAt) {
      // mountinfo: "id parent dev root mountpoint options ... - fstype source superoptions"; the last
      // mount at a path is the one in force. Mount points escape blanks as octal.
      const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
      const types = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
        .map((line) => line.split(' '))
        .filter((f) => f.length > 5 && unescape(f[4]) === c.overlayAt)
        .map((f) => f[f.indexOf('-') + 1]);
      if (types[types.length - 1] !== 'overlay') fail(`canary: the workspace is not the guard's overlay (${types[types.length - 1] ?? 'no mount'})`);
    }
    const reached = await Promise.all([
      tryConnect('1.1.1.1', 443),
      tryConnect('8.8.8.8', 53),
      tryConnect('2606:4700:4700::1111', 443),
      tryConnect('127.0.0.53', 53),
      tryConnect('127.0.0.1', c.hostLoopbackPort),
      tryConnect('::1', c.hostLoopbackPort),
      tryUdp('8.8.8.8', 53, 'udp4'),
      tryUdp('2001:4860:4860::8888', 53, 'udp6'),
    ]);
    const leak = reached.find((r) => r !== undefined);
    if (leak) fail(`canary: ${leak}`);
  };

  const startBridges = async (): Promise<void> => {
    for (const bridge of config.bridges) {
      const server = net.createServer((inside) => {
        inside.setNoDelay(true);
        const outside = net.connect(bridge.socket);
        const closeBoth = () => {
          inside.destroy();
          outside.destroy();
        };
        inside.on('error', closeBoth);
        outside.on('error', closeBoth);
        inside.pipe(outside);
        outside.pipe(inside);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(bridge.port, '127.0.0.1', () => resolve());
      }).catch((err: Error) => fail(`bridge: cannot listen on 127.0.0.1:${bridge.port}: ${err.message}`));
      // Some clients resolve "localhost" to ::1 first; serve it too when IPv6 is up.
      const v6 = net.createServer((inside) => server.emit('connection', inside));
      v6.on('error', () => v6.close());
      v6.listen(bridge.port, '::1');
    }
  };

  const main = async (): Promise<void> => {
    // HOME is filled while it still belongs to root (init keeps no DAC override), then handed over.
    try {
      fs.mkdirSync(config.home, { recursive: true, mode: 0o700 });
      const handOver: string[] = [];
      for (const file of config.homeFiles) {
        const parts = file.path.split('/').slice(0, -1);
        for (let i = 1; i <= parts.length; i++) {
          const dir = `${config.home}/${parts.slice(0, i).join('/')}`;
          if (!fs.existsSync(dir)) {
            fs.mkdirSync(dir, { mode: 0o700 });
            handOver.push(dir);
          }
        }
        const target = `${config.home}/${file.path}`;
        fs.writeFileSync(target, file.content, { mode: 0o600 });
        handOver.push(target);
      }
      for (const p of [...handOver, config.home]) fs.chownSync(p, config.agentUid, config.agentGid);
    } catch (err) {
      fail(`home: cannot prepare ${config.home}: ${(err as Error).message}`);
    }
    await canary();
    await startBridges();
    if (config.lifeline) {
      // The guard outside holds the other end: if it dies, the jail goes with it, even through sudo.
      const lifeline = net.connect(config.lifeline);
      lifeline.on('error', () => process.exit(125));
      lifeline.on('close', () => process.exit(125));
      lifeline.unref();
    }
    say('ok');
    const [file, ...args] = config.command;
    const child = config.setpriv
      ? childProcess.spawn(
          config.setpriv,
          [
            `--reuid=${config.agentUid}`, `--regid=${config.agentGid}`, '--clear-groups', '--bounding-set=-all',
            '--inh-caps=-all', '--no-new-privs', '--', file, ...args,
          ],
          { env: config.env, cwd: config.cwd, stdio: 'inherit' },
        )
      : childProcess.spawn(file, args, { env: config.env, cwd: config.cwd, stdio: 'inherit', uid: config.agentUid, gid: config.agentGid });
    child.on('error', (err: NodeJS.ErrnoException) => {
      fs.writeSync(2, `agent-guard: cannot start ${file}: ${err.message}\n`);
      process.exit(err.code === 'ENOENT' ? 127 : 126);
    });
    // From here on this process only pipes bytes: it gives up root.
    process.setgroups!([]);
    process.setgid!(config.bridgeGid);
    process.setuid!(config.bridgeUid);
    child.on('exit', (code, signal) => {
      const signals = os.constants.signals as Record<string, number>;
      process.exit(code ?? 128 + (signal ? signals[signal] ?? 1 : 1));
    });
  };
  main().catch((err: Error) => fail(`init: ${err.message}`));
}

export function jailInitSource(): string {
  return `(${jailInitMain.toString()})();\n`;
}
