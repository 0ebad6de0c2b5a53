import { spawn, type SpawnOptions } from 'node:child_process';

export interface GuardRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end, collecting what it prints; `input` goes to its stdin. */
export function runProcess(file: string, args: string[], options: SpawnOptions & { input?: string } = {}): Promise<GuardRun> {
  const { input, ...spawnOptions } = options;
  return new Promise((resolve) => {
    const child = spawn(file, args, { ...spawnOptions, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** `agent-guard run ARGS` with the built guard script, as a workflow step would run it. */
export function runGuard(guard: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<GuardRun> {
  return runProcess(process.execPath, [guard, 'run', ...args], { env, cwd });
}
