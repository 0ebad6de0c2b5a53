// End-to-end tests need root (or passwordless sudo) and bubblewrap. With AGENT_GUARD_E2E=1 (CI)
// a missing prerequisite is a failure, never a silent skip.
import { execFileSync } from 'node:child_process';

export function jailUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) {
    try {
      execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
    } catch {
      return 'not root and no passwordless sudo';
    }
  }
  try {
    execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'bubblewrap (bwrap) is not installed';
  }
  return undefined;
}

/** describe, or describe.skip with the reason printed; throws under AGENT_GUARD_E2E=1. */
export function describeJail(name: string, body: () => void): void {
  const reason = jailUnavailableReason();
  if (reason && process.env.AGENT_GUARD_E2E === '1') {
    describe(name, () => {
      it('has what the end-to-end tests need', () => {
        throw new Error(`AGENT_GUARD_E2E=1 but the jail cannot run here: ${reason}`);
      });
    });
    return;
  }
  if (reason) {
    // eslint-disable-next-line no-console
    console.warn(`skipping "${name}": ${reason} (set AGENT_GUARD_E2E=1 to make this a failure)`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}
