// `agent-guard run` and `agent-guard doctor`. runGuarded() is the piece the Action reuses: it
// starts the proxies, builds the jail, runs the agent in it and relays its output with workflow
// commands neutralised. Any layer that cannot be set up stops the run before the agent starts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { AuditLog } from './audit';
import { Boundary, type BoundaryOutcome, boundaryLines, boundaryMarkdown } from './boundary';
import { BOUNDARY_MARKER, removeTree } from './boundary/overlay';
import { doctorReport } from './doctor';
import { createEgressProxy } from './egress';
import { buildAgentEnv, knownSecrets } from './env';
import { GUARD_FAILURE_EXIT, GuardError } from './errors';
import { findElevation, findExecutable, gitConfigFiles, type HostFacts, makePrivateDir, planJail, resolveWorkspace } from './jail';
import { parseRunArgs, type RunOptions } from './options';
import { builtinProviders, homeFilesFor, parseUpstream, type Provider } from './providers';
import { type Budget, createProviderProxy } from './proxy';
import { WorkflowCommandNeutralizer } from './workflowCommands';

export { parseRunArgs } from './options';
export type { RunOptions } from './options';

/** Loopback ports inside the jail: the netns is empty, so fixed numbers cannot clash. */
const FIRST_PROVIDER_PORT = 41100;
const EGRESS_PORT = 41099;
export const TIMEOUT_EXIT = 124;

export interface GuardIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface GuardResult {
  exitCode: number;
  audit: AuditLog;
  /** With --workspace rw: what came back from the agent's copy (see boundary/index.ts changeSetOf). */
  boundary?: BoundaryOutcome;
  /** Removes the change set's content files; call once every grant is done with them. */
  release(): void;
}

function listenUnix(server: net.Server | http.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      // Reachable only through the bind mount: the enclosing folder is 0700 on the host.
      fs.chmodSync(socketPath, 0o666);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}

interface ChosenProvider {
  provider: Provider;
  upstream: URL;
  keyHeader: string;
  keyValue: string;
  key: string;
}

function chooseProviders(opts: RunOptions, env: NodeJS.ProcessEnv): ChosenProvider[] {
  const all = builtinProviders();
  return opts.providers.map((choice) => {
    const provider = all.get(choice.name);
    if (!provider) throw new GuardError('providers', `unknown provider "${choice.name}" (known: ${[...all.keys()].join(', ')})`);
    const upstream = choice.upstream ? parseUpstream(choice.upstream, `--provider ${choice.name}`) : provider.upstream;
    const source = provider.keys.find((k) => env[k.env]);
    if (!source) {
      throw new GuardError('providers', `--provider ${choice.name}: none of ${provider.keys.map((k) => k.env).join(', ')} is set in the guard's environment`);
    }
    const key = env[source.env] as string;
    if (/[\r\n\0]/.test(key)) throw new GuardError('providers', `${source.env} contains a line break or NUL`);
    return { provider, upstream, keyHeader: source.header, keyValue: source.prefix + key, key };
  });
}

/** Run `options.command` under the guard. Throws GuardError before the agent starts if a layer fails. */
export async function runGuarded(opts: RunOptions, io: GuardIO): Promise<GuardResult> {
  const facts: HostFacts = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, home: os.homedir(), env: io.env };
  if (process.platform !== 'linux') throw new GuardError('jail', 'the jail needs Linux namespaces; this is ' + process.platform);
  const chosen = chooseProviders(opts, io.env);
  const elevation = findElevation(facts);
  const bwrap = findExecutable('bwrap', `${io.env.PATH ?? ''}:/usr/bin:/usr/local/bin`);
  if (!bwrap) throw new GuardError('jail', 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap');
  const workspace = resolveWorkspace(facts, opts.workspaceMode, io.cwd);
  const cwdReal = fs.realpathSync(io.cwd);
  const agentCwd = cwdReal.startsWith(workspace.dir + '/') || cwdReal === workspace.dir ? cwdReal : workspace.dir;
  const secrets = knownSecrets(io.env, chosen.map((c) => c.key));

  const audit = new AuditLog(opts.auditFile);
  const budget: Budget = { maxRequests: opts.maxRequests, maxTokens: opts.maxTokens, requests: 0, tokens: 0 };
  const privateDir = makePrivateDir();
  let boundary: Boundary | undefined;
  const servers: net.Server[] = [];
  const lifelines = new Set<net.Socket>();
  let hostConnections = 0;
  try {
    const bridges: { name: string; port: number; hostSocket: string }[] = [];
    const bases: { provider: Provider; base: string }[] = [];
    for (const [i, c] of chosen.entries()) {
      const server = createProviderProxy({
        provider: c.provider, upstream: c.upstream, authHeader: c.keyHeader, authValue: c.keyValue, budget, audit,
        allowProviderFetch: opts.allowProviderFetch,
      });
      const hostSocket = path.join(privateDir, `${c.provider.name}.sock`);
      await listenUnix(server, hostSocket).catch((err: Error) => {
        throw new GuardError('proxy', `cannot listen on ${hostSocket}: ${err.message}`);
      });
      servers.push(server);
      const port = FIRST_PROVIDER_PORT + i;
      bridges.push({ name: c.provider.name, port, hostSocket });
      bases.push({ provider: c.provider, base: `http://127.0.0.1:${port}` });
    }
    let egressUrl: string | undefined;
    if (opts.allowHosts.length > 0) {
      const server = createEgressProxy({ allowHosts: opts.allowHosts, audit });
      const hostSocket = path.join(privateDir, 'egress.sock');
      await listenUnix(server, hostSocket).catch((err: Error) => {
        throw new GuardError('egress', `cannot listen on ${hostSocket}: ${err.message}`);
      });
      servers.push(server);
      bridges.push({ name: 'egress', port: EGRESS_PORT, hostSocket });
      egressUrl = `http://127.0.0.1:${EGRESS_PORT}`;
    }

    // A listener on the host's loopback: the canary inside must fail to reach it.
    const hostListener = net.createServer((s) => {
      hostConnections++;
      s.destroy();
    });
    await new Promise<void>((resolve, reject) => hostListener.once('error', reject).listen(0, '127.0.0.1', () => resolve())).catch((err: Error) => {
      throw new GuardError('canary', `cannot open the host loopback canary: ${err.message}`);
    });
    servers.push(hostListener);
    const hostLoopbackPort = (hostListener.address() as net.AddressInfo).port;

    const lifelineSocket = path.join(privateDir, 'lifeline.sock');
    const lifeline = net.createServer((s) => {
      lifelines.add(s);
      s.on('error', () => undefined);
      s.on('close', () => lifelines.delete(s));
    });
    await listenUnix(lifeline, lifelineSocket);
    servers.push(lifeline);

    if (opts.workspaceMode === 'rw') {
      const gitDir = path.join(workspace.dir, '.git');
      boundary = Boundary.prepare({
        privateDir, workspace: workspace.dir, owner: facts.uid === 0 ? ownerOf(workspace.dir) : undefined,
        gitConfigFiles: isRealDir(gitDir) ? gitConfigFiles(gitDir) : [], secrets, allowPaths: opts.allowPaths, env: io.env,
      });
    }

    const { env } = buildAgentEnv({ hostEnv: io.env, passEnv: opts.passEnv, providers: bases, egressUrl, secrets });
    const plan = planJail(
      {
        facts, workspace: workspace.dir, workspaceMode: opts.workspaceMode, cwd: agentCwd, command: opts.command, env, bridges,
        hostLoopbackPort, privateDir, lifelineSocket, secrets,
        homeFiles: Object.assign({}, ...bases.map((b) => homeFilesFor(b.provider, b.base))),
        overlay: boundary ? { merged: boundary.layout.merged } : undefined,
      },
      workspace,
    );

    const command = boundary ? boundary.command(bwrap, plan.bwrapArgs) : [bwrap, ...plan.bwrapArgs];
    const exitCode = await runJail(elevation.kind === 'sudo' ? elevation.sudo : undefined, command, plan.config.nonce, opts, io);
    if (hostConnections > 0) throw new GuardError('canary', 'the host loopback canary received a connection from the jail');
    // The jail and everything in it are gone: what the agent left in its copy comes back as data.
    const outcome = boundary?.finish(audit, exitCode !== TIMEOUT_EXIT);
    if (outcome) for (const line of boundaryLines(outcome)) io.stderr.write(line + '\n');
    const kept = boundary;
    boundary = undefined;
    return { exitCode, audit, boundary: outcome, release: () => kept?.release() };
  } finally {
    for (const s of lifelines) s.destroy();
    await Promise.all(servers.map(closeServer));
    audit.close();
    boundary?.release();
    if (!removeTree(privateDir)) io.stderr.write(`agent-guard: could not remove all of ${privateDir} (the agent's copy of the workspace)\n`);
  }
}

function isRealDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function ownerOf(dir: string): { uid: number; gid: number } {
  const st = fs.statSync(dir);
  return { uid: st.uid, gid: st.gid };
}

function runJail(sudo: string | undefined, command: string[], nonce: string, opts: RunOptions, io: GuardIO): Promise<number> {
  return new Promise((resolve, reject) => {
    const file = sudo ?? command[0];
    const args = sudo ? ['-n', '--', ...command] : command.slice(1);
    const child = spawn(file, args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, stdio: ['inherit', 'pipe', 'pipe'] });
    const outFilter = new WorkflowCommandNeutralizer();
    const errFilter = new WorkflowCommandNeutralizer();
    let handshake: 'waiting' | 'ok' | 'failed' = 'waiting';
    let failure = '';
    let early = '';
    const marker = `AGENT_GUARD_INIT ${nonce} `;
    let timedOut = false;

    child.stdout.on('data', (chunk: Buffer) => io.stdout.write(outFilter.transform(chunk)));
    child.stderr.on('data', (chunk: Buffer) => {
      if (handshake !== 'waiting') {
        if (handshake === 'ok') io.stderr.write(errFilter.transform(chunk));
        else failure += chunk.toString('utf8');
        return;
      }
      early += chunk.toString('utf8');
      const at = early.indexOf(marker);
      if (at < 0) return;
      const lineEnd = early.indexOf('\n', at);
      if (lineEnd < 0) return;
      const status = early.slice(at + marker.length, lineEnd);
      const before = early.slice(0, at);
      const after = early.slice(lineEnd + 1);
      if (status === 'ok') {
        handshake = 'ok';
        if (before.trim()) io.stderr.write(errFilter.transform(Buffer.from(before)));
        if (after) io.stderr.write(errFilter.transform(Buffer.from(after)));
      } else {
        handshake = 'failed';
        failure = status.replace(/^fail /, '');
      }
    });

    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutSeconds) {
      timer = setTimeout(() => {
        timedOut = true;
        // bwrap's death kills the jail (--die-with-parent on its child); sudo relays SIGTERM.
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }, opts.timeoutSeconds * 1000);
    }
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onTerm = forward('SIGTERM');
    const onInt = forward('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);

    child.on('error', (err) => reject(new GuardError('jail', `cannot start ${file}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      if (!outFilter.atLineStart) io.stdout.write('\n');
      if (!errFilter.atLineStart) io.stderr.write('\n');
      if (timedOut) {
        io.stderr.write(`agent-guard: the agent ran past --timeout ${opts.timeoutSeconds}s and was stopped with everything it started\n`);
        resolve(TIMEOUT_EXIT);
        return;
      }
      if (handshake === 'failed') {
        const layer = failure.startsWith('canary') ? 'canary' : failure.startsWith('bridge') ? 'network' : 'jail';
        reject(new GuardError(layer, `jail self-check failed, the agent did not run: ${failure.trim()}`));
        return;
      }
      const boundaryFailure = early.split('\n').find((l) => l.startsWith(`${BOUNDARY_MARKER} fail `));
      if (handshake === 'waiting' && boundaryFailure) {
        reject(new GuardError('boundary', `${boundaryFailure.slice(BOUNDARY_MARKER.length + 6).trim()}; the agent did not run`));
        return;
      }
      if (handshake === 'waiting') {
        const firstLine = early.split('\n').find((l) => l.trim()) ?? `exit ${code ?? signal}`;
        reject(new GuardError('jail', `the jail could not be built, the agent did not run: ${firstLine.trim()}`));
        return;
      }
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 1));
    });
  });
}

function writeStepSummary(env: NodeJS.ProcessEnv, result: GuardResult): void {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    fs.appendFileSync(file, result.audit.stepSummaryMarkdown(result.exitCode) + boundaryMarkdown(result.boundary));
  } catch {
    // A summary we cannot write is not worth failing the agent's step.
  }
}

export async function runMain(args: string[]): Promise<number> {
  const io: GuardIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
  try {
    const opts = parseRunArgs(args);
    const result = await runGuarded(opts, io);
    result.release();
    io.stderr.write(result.audit.summaryLine(result.exitCode) + '\n');
    writeStepSummary(io.env, result);
    return result.exitCode;
  } catch (err) {
    if (err instanceof GuardError) {
      io.stderr.write(`agent-guard: ${err.layer === 'usage' ? '' : `${err.layer} layer: `}${err.message}\n`);
    } else {
      io.stderr.write(`agent-guard: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    }
    return GUARD_FAILURE_EXIT;
  }
}

export async function doctorMain(args: string[]): Promise<number> {
  if (args.length > 0 && !(args.length === 1 && args[0] === '--json')) {
    process.stderr.write('usage: agent-guard doctor [--json]\n');
    return GUARD_FAILURE_EXIT;
  }
  const report = await doctorReport(process.env);
  process.stdout.write(args[0] === '--json' ? JSON.stringify(report, null, 2) + '\n' : report.text + '\n');
  return report.canRun ? 0 : 1;
}
