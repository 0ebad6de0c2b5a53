// The real agent CLIs the credential tests run, and the probe that follows an agent's turn in the same
// jail: it dumps what the agent could see (its environment, every process's environ and command line,
// the readable files under HOME, /tmp, /var/tmp, /run, /dev/shm and named credential files) so a test
// can assert that no credential is in it.
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');
export const CLAUDE = path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
export const GEMINI = path.join(ROOT, 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
export const COPILOT = path.join(ROOT, 'node_modules', '@github', 'copilot', 'npm-loader.js');
export const OPENCODE = path.join(ROOT, 'node_modules', 'opencode-linux-x64', 'bin', 'opencode');
const MARK = '===AGENT-GUARD-PROBE===';

/** Run `agentCommand` in the jail, then dump everything the agent could read. */
export function withProbe(agentCommand: string, extraPaths: string[] = []): string[] {
  const files = extraPaths.map((p) => `'${p}'`).join(' ');
  const probe = [
    'env',
    'for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr "\\0" "\\n" < "$f" 2>/dev/null; echo; done',
    'find "$HOME" /tmp /var/tmp /run /dev/shm -type f -size -4M -readable -exec cat {} + 2>/dev/null',
    files ? `cat ${files} 2>/dev/null` : 'true',
  ].join('; ');
  return ['/bin/bash', '-c', `${agentCommand}; code=$?; echo ${MARK}; ${probe}; exit $code`];
}

/** One Claude Code turn whose reply must contain `reply`. */
export const claudeTurn = (reply: string) => `'${CLAUDE}' -p 'Say pong.' --max-turns 1 | grep -F '${reply}'`;

export function expectNoneSeen(stdout: string, secrets: string[]): void {
  const probe = stdout.slice(stdout.indexOf(MARK));
  expect(probe.length).toBeGreaterThan(MARK.length + 100);
  expect(probe).toContain('HOME=/home/agent');
  for (const secret of secrets) expect({ secret, seen: probe.includes(secret) }).toEqual({ secret, seen: false });
}
