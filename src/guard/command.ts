// `agent-guard run` and `agent-guard doctor`. runGuarded() is the piece the Action reuses: it
// starts the proxies, builds the jail, runs the agent in it and relays its output with workflow
// commands neutralised. Any layer that cannot be set up stops the run before the agent starts.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { AuditLog, openGuardFile } from './audit';
import { Boundary, type BoundaryOutcome, boundaryLines, boundaryMarkdown } from './boundary';
import { BOUNDARY_MARKER, removeTree } from './boundary/overlay';
import { doctorReport } from './doctor';
import { createEgressProxy } from './egress';
import { buildAgentEnv, knownSecrets } from './env';
import { GUARD_FAILURE_EXIT, GuardError } from './errors';
import type { ChangeSet } from './boundary/types';
import { prepareAgentCommand } from './grants/agentCommand';
import { GITHUB_BRIDGE_BASE, prepareRunGrants, readGithubToken, type RunGrants } from './grants/runGrants';
import { describeGrantOutcome, type GrantOutcome } from './grants/session';
import { findElevation, findExecutable, gitConfigFiles, type HostFacts, JAIL_DIR, makePrivateDir, planJail, resolveWorkspace, SECCOMP_FD } from './jail';
import { type CgroupDir, cgroupCleanupScript, jailStartScript, makeCgroupsDirectly, planCgroups, removeCgroupsDirectly, resolveLimits } from './limits';
import { parseRunArgs, type RunOptions } from './options';
import { Budget } from './budget';
import {
  authFailureHint, builtinCatalogue, mergedHomeFiles, missingProviderHint, prepareCredentials, type Provider, type ResolvedProvider,
  resolveProvider,
} from './providers';
import { createProviderProxy } from './proxy';
import { JailStop, OutputTail } from './runControl';
import { logSafe, WorkflowCommandNeutralizer } from './workflowCommands';

export { parseRunArgs } from './options';
export type { RunOptions } from './options';

/** Loopback ports inside the jail: the netns is empty, so fixed numbers cannot clash. */
const FIRST_PROVIDER_PORT = 41100;
const EGRESS_PORT = 41099;
export const TIMEOUT_EXIT = 124;
/** The agent was ended because --max-requests or --max-tokens ran out (not 124-127, not a shell's). */
export const BUDGET_EXIT = 122;

export interface GuardIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface GuardResult {
  exitCode: number;
  audit: AuditLog;
  /** Host folders the agent could write (the workspace): the guard's own files never go there. */
  agentWritable: string[];
  /** What the grants did after the agent exited (pull request, --defer file). */
  grants?: GrantOutcome;
  /** With --workspace rw: what came back from the agent's copy (see boundary/index.ts changeSetOf). */
  boundary?: BoundaryOutcome;
  /** Removes the change set's content files; call once every grant is done with them. */
  release(): void;
}

export interface GuardHooks {
  /**
   * A change set to use instead of the boundary's (tests that stand in for an agent's writes). Without
   * it, the pull-request grant gets the boundary's checked change set.
   */
  changeSet?: () => Promise<ChangeSet | undefined> | ChangeSet | undefined;
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

function chooseProviders(opts: RunOptions, env: NodeJS.ProcessEnv): ResolvedProvider[] {
  const all = builtinCatalogue().providers;
  return opts.providers.map((choice) => {
    const provider = all.get(choice.name);
    if (!provider) throw new GuardError('providers', `unknown provider "${choice.name}" (known: ${[...all.keys()].join(', ')})`);
    return resolveProvider(provider, env, choice.upstream);
  });
}

/** Run `options.command` under the guard. Throws GuardError before the agent starts if a layer fails. */
export async function runGuarded(opts: RunOptions, io: GuardIO, hooks: GuardHooks = {}): Promise<GuardResult> {
  const facts: HostFacts = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, home: os.homedir(), env: io.env };
  if (process.platform !== 'linux') throw new GuardError('jail', 'the jail needs Linux namespaces; this is ' + process.platform);
  const chosen = chooseProviders(opts, io.env);
  const elevation = findElevation(facts);
  const bwrap = findExecutable('bwrap', `${io.env.PATH ?? ''}:/usr/bin:/usr/local/bin`);
  if (!bwrap) throw new GuardError('jail', 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap');
  const workspace = resolveWorkspace(facts, opts.workspaceMode, io.cwd);
  const cwdReal = fs.realpathSync(io.cwd);
  const agentCwd = cwdReal.startsWith(workspace.dir + '/') || cwdReal === workspace.dir ? cwdReal : workspace.dir;
  const githubToken = readGithubToken(opts, io.env);
  const secrets = knownSecrets(io.env, [...chosen.flatMap((c) => c.authorizer.secrets), ...(githubToken ? [githubToken] : [])]);
  // Short-lived credentials are minted now: a run that cannot get one never starts the agent.
  await prepareCredentials(chosen);
  // The command line enters the jail: no secret may ride in it (claude-code-action's --mcp-config).
  const agentCommand = prepareAgentCommand(opts.command, secrets, githubToken ? GITHUB_BRIDGE_BASE : undefined, io.env);

  const agentWritable = [workspace.dir];
  // Opened now, before anything of the agent's exists, and kept open: see openGuardFile.
  const audit = new AuditLog(opts.auditFile ? openGuardFile(opts.auditFile, agentWritable, facts.uid, '--audit') : undefined);
  const stop = new JailStop();
  const budget = new Budget({ maxRequests: opts.maxRequests, maxTokens: opts.maxTokens }, (reason) => stop.request(reason));
  const tail = new OutputTail();
  const limits = resolveLimits(opts);
  let cgroups: CgroupDir[];
  try {
    cgroups = planCgroups(limits, `agent-guard-${process.pid}-${crypto.randomBytes(6).toString('hex')}`, fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'));
  } catch (err) {
    audit.close();
    throw err instanceof GuardError ? err : new GuardError('limits', `cannot read this process's cgroups: ${(err as Error).message}`);
  }
  const sudo = elevation.kind === 'sudo' ? elevation.sudo : undefined;
  let cgroupsMade = false;
  const privateDir = makePrivateDir();
  let boundary: Boundary | undefined;
  const servers: net.Server[] = [];
  const lifelines = new Set<net.Socket>();
  let hostConnections = 0;
  try {
    const bridges: { name: string; port: number; hostSocket: string }[] = [];
    const bases: { provider: Provider; base: string; settings: Record<string, string> }[] = [];
    for (const [i, c] of chosen.entries()) {
      const server = createProviderProxy({
        resolved: c, budget, audit, fetchers: builtinCatalogue().fetchers, allowProviderFetch: opts.allowProviderFetch,
      });
      const hostSocket = path.join(privateDir, `${c.provider.name}.sock`);
      await listenUnix(server, hostSocket).catch((err: Error) => {
        throw new GuardError('proxy', `cannot listen on ${hostSocket}: ${err.message}`);
      });
      servers.push(server);
      const port = FIRST_PROVIDER_PORT + i;
      bridges.push({ name: c.provider.name, port, hostSocket });
      bases.push({ provider: c.provider, base: `http://127.0.0.1:${port}`, settings: c.settings });
    }
    let grants: RunGrants | undefined;
    if (githubToken) {
      grants = prepareRunGrants({ opts, env: io.env, token: githubToken, secrets, audit, privateDir, jailDir: JAIL_DIR, trackingCommentId: agentCommand.trackingCommentId, agentWritable });
      await listenUnix(grants.session.server, grants.bridge.hostSocket).catch((err: Error) => {
        throw new GuardError('grants', `cannot listen on ${grants!.bridge.hostSocket}: ${err.message}`);
      });
      servers.push(grants.session.server);
      bridges.push(grants.bridge);
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
        maxDisk: opts.maxDisk, maxFiles: opts.maxFiles,
      });
    }

    const { env } = buildAgentEnv({ hostEnv: io.env, passEnv: opts.passEnv, providers: bases, egressUrl, secrets });
    if (grants) Object.assign(env, grants.agentEnv(env.PATH));
    const plan = planJail(
      {
        facts, workspace: workspace.dir, workspaceMode: opts.workspaceMode, cwd: agentCwd, command: agentCommand.command, env, bridges,
        toolsDir: grants?.toolsDir, alsoVisible: agentCommand.visible,
        hostLoopbackPort, privateDir, lifelineSocket, secrets, limits,
        homeFiles: mergedHomeFiles(bases),
        overlay: boundary ? { merged: boundary.layout.merged } : undefined,
      },
      workspace,
    );

    // As root the guard makes the cgroups itself (no process to start); through sudo the script does.
    cgroupsMade = cgroups.length > 0;
    if (!sudo) makeCgroupsDirectly(cgroups);
    const start = jailStartScript(cgroups, plan.config.nonce, sudo ? plan.rootOnlyFiles : [], !sudo, { file: plan.seccompFile, fd: SECCOMP_FD });
    const command = boundary ? boundary.command(bwrap, plan.bwrapArgs) : [bwrap, ...plan.bwrapArgs];
    // The agent's copy of the workspace lives on the host's disk: past --max-disk the agent is stopped like a spent budget.
    const unwatch = boundary?.watch((reason) => stop.request(reason));
    const exitCode = await runJail(sudo, start, command, plan.config.nonce, opts, io, stop, tail).finally(() => unwatch?.());
    if (hostConnections > 0) throw new GuardError('canary', 'the host loopback canary received a connection from the jail');
    if (exitCode === 127) io.stderr.write(notFoundHint(plan.config.env.PATH, plan.exposure.skipped));
    // Said after the run, so a refused run still prints exactly one line.
    if (chosen.length === 0) {
      const missing = missingProviderHint(io.env);
      if (missing) io.stderr.write(`agent-guard: ${missing}\n`);
    }
    const hint = exitCode !== 0 && !stop.reason ? authFailureHint(tail.toString(), chosen.map((c) => c.provider.name), io.env) : undefined;
    if (hint) io.stderr.write(`agent-guard: ${logSafe(hint)}\n`);
    // The jail and everything in it are gone: what the agent left in its copy comes back as data. A
    // run the guard stopped (timeout, budget) brings nothing back: its copy may be half-written.
    const outcome = boundary?.finish(audit, exitCode !== TIMEOUT_EXIT && !stop.reason);
    if (outcome) for (const line of boundaryLines(outcome)) io.stderr.write(line + '\n');
    // The one place the boundary's change set reaches the grants (pull-request).
    const changeSet = hooks.changeSet ? await hooks.changeSet() : outcome?.changes;
    const grantOutcome = grants ? await grants.session.finish(grants.session.wantsChangeSet() ? changeSet : undefined) : undefined;
    const kept = boundary;
    boundary = undefined;
    return { exitCode, audit, agentWritable, grants: grantOutcome, boundary: outcome, release: () => kept?.release() };
  } finally {
    for (const s of lifelines) s.destroy();
    await Promise.all(servers.map(closeServer));
    audit.close();
    if (cgroupsMade) await removeCgroups(sudo, cgroups, io);
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

/** An agent that exits 127 usually named a program the jail does not show: say where the jail looks. */
function notFoundHint(jailPath: string, skipped: string[]): string {
  const left = skipped.length > 0 ? ` Left out: ${skipped.slice(0, 3).join('; ')}${skipped.length > 3 ? `; and ${skipped.length - 3} more` : ''}.` : '';
  return (
    `agent-guard: the agent exited 127 (command not found?). The jail hides HOME, /tmp, RUNNER_TEMP and the runner's folders; ` +
    `programs installed there are shown only when their folder is on PATH (${jailPath}) or they are the command itself.${logSafe(left)}\n`
  );
}

/** Remove the jail's cgroups (as root, or through sudo) once it is gone; a failure is reported, not fatal. */
async function removeCgroups(sudo: string | undefined, cgroups: CgroupDir[], io: GuardIO): Promise<void> {
  let problem: string | undefined;
  if (sudo) {
    const r = spawnSync(sudo, ['-n', '--', '/bin/sh', '-c', cgroupCleanupScript(cgroups)], { encoding: 'utf8', timeout: 15_000 });
    if (r.status !== 0) problem = (r.stderr || r.error?.message || `cleanup exited ${r.status}`).trim().split('\n')[0];
  } else {
    problem = await removeCgroupsDirectly(cgroups);
  }
  if (problem) io.stderr.write(`agent-guard: limits layer: ${problem}\n`);
}

function runJail(
  sudo: string | undefined, startScript: string, command: string[], nonce: string, opts: RunOptions, io: GuardIO,
  stop: JailStop, tail: OutputTail,
): Promise<number> {
  return new Promise((resolve, reject) => {
    // The start script runs as root (directly or through sudo), joins the cgroups, then execs the
    // command: bwrap, or with the overlay the private mount namespace that runs bwrap.
    const shell = ['/bin/sh', '-c', startScript, 'agent-guard-jail', ...command];
    const file = sudo ?? shell[0];
    const args = sudo ? ['-n', '--', ...shell] : shell.slice(1);
    const child = spawn(file, args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, stdio: ['inherit', 'pipe', 'pipe'] });
    const outFilter = new WorkflowCommandNeutralizer();
    const errFilter = new WorkflowCommandNeutralizer();
    let handshake: 'waiting' | 'ok' | 'failed' = 'waiting';
    let failure = '';
    let early = '';
    const marker = `AGENT_GUARD_INIT ${nonce} `;
    let timedOut = false;

    child.stdout.on('data', (chunk: Buffer) => {
      tail.add(chunk);
      io.stdout.write(outFilter.transform(chunk));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (handshake !== 'waiting') {
        if (handshake === 'ok') {
          tail.add(chunk);
          io.stderr.write(errFilter.transform(chunk));
        }
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

    // bwrap's death kills the jail (--die-with-parent on its child); sudo relays SIGTERM.
    const end = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    };
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutSeconds) {
      timer = setTimeout(() => {
        timedOut = true;
        end();
      }, opts.timeoutSeconds * 1000);
    }
    stop.onRequest(end);
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
      io.stdout.write(outFilter.end());
      io.stderr.write(errFilter.end());
      if (!outFilter.atLineStart) io.stdout.write('\n');
      if (!errFilter.atLineStart) io.stderr.write('\n');
      if (timedOut) {
        io.stderr.write(`agent-guard: the agent ran past --timeout ${opts.timeoutSeconds}s and was stopped with everything it started\n`);
        resolve(TIMEOUT_EXIT);
        return;
      }
      if (stop.reason && handshake === 'ok') {
        io.stderr.write(`agent-guard: ${stop.reason}; the agent was stopped with everything it started (exit ${BUDGET_EXIT})\n`);
        resolve(BUDGET_EXIT);
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
        const limitsMarker = `AGENT_GUARD_LIMITS ${nonce} `;
        const limitsLine = early.split('\n').find((l) => l.startsWith(limitsMarker));
        if (limitsLine) {
          // The shell's own error (errno text) is the line before ours.
          const lines = early.split('\n').map((l) => l.trim()).filter(Boolean);
          const reason = lines[lines.indexOf(limitsLine.trim()) - 1];
          const what = limitsLine.slice(limitsMarker.length).trim();
          reject(new GuardError('limits', `cannot limit the jail's resources, the agent did not run: ${what}${reason ? ` (${reason})` : ''}`));
          return;
        }
        if (/unknown option[^\n]*--size/i.test(early)) {
          reject(new GuardError('limits', 'this bubblewrap is older than 0.7.0 and cannot give a tmpfs a size (--size); install bubblewrap 0.7 or later (Ubuntu 24.04 ships 0.9), the agent did not run'));
          return;
        }
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
    // The runner names and creates this file (for its own user, also when the guard runs as root):
    // no owner check, the rest of openGuardFile's checks hold.
    const fd = openGuardFile(file, result.agentWritable, -1, 'GITHUB_STEP_SUMMARY');
    try {
      fs.writeSync(fd, result.audit.stepSummaryMarkdown(result.exitCode) + boundaryMarkdown(result.boundary));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // A summary we cannot write (or must not write through) is not worth failing the agent's step.
  }
}

export async function runMain(args: string[]): Promise<number> {
  const io: GuardIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
  try {
    const opts = parseRunArgs(args);
    const result = await runGuarded(opts, io);
    result.release();
    io.stderr.write(result.audit.summaryLine(result.exitCode) + '\n');
    if (result.grants) io.stderr.write(describeGrantOutcome(result.grants, opts.deferFile));
    writeStepSummary(io.env, result);
    return result.exitCode;
  } catch (err) {
    if (err instanceof GuardError) {
      io.stderr.write(`agent-guard: ${err.layer === 'usage' ? '' : `${err.layer} layer: `}${logSafe(err.message)}\n`);
    } else {
      io.stderr.write(`agent-guard: internal error: ${logSafe((err as Error)?.message ?? String(err))}\n`);
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
