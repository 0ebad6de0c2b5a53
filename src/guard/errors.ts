// The guard's own failures: which layer could not be set up, and why. command.ts prints one line and
// exits 125, so the agent never runs with a layer missing (fail closed).
export type GuardLayer =
  | 'usage'
  | 'providers'
  | 'privilege'
  | 'jail'
  | 'filesystem'
  | 'environment'
  | 'network'
  | 'canary'
  | 'proxy'
  | 'egress'
  | 'audit'
  | 'limits'
  | 'grants'
  | 'boundary';

export class GuardError extends Error {
  constructor(
    readonly layer: GuardLayer,
    message: string,
  ) {
    super(message);
    this.name = 'GuardError';
  }
}

export const GUARD_FAILURE_EXIT = 125;
