import { spawn } from 'node:child_process';

export interface GuardRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `agent-guard run ARGS` with the built guard script, as a workflow step would run it. */
export function runGuard(guard: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<GuardRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [guard, 'run', ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
