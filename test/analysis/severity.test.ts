import type { Capabilities } from '../../src/analysis/capabilities';
import { holdingOf, severityFor } from '../../src/analysis/severity';

function caps(over: Partial<Capabilities>): Capabilities {
  return {
    secrets: [],
    tokens: [],
    writeScopes: [],
    permissionsDefault: false,
    idToken: false,
    cloudCredentials: [],
    selfHosted: false,
    persistedCredentials: false,
    tools: { shell: 'none', network: false, writesFiles: false },
    keyInProcess: true,
    jailed: false,
    ...over,
  };
}

describe('severity', () => {
  it('a text-only model with nothing is medium for outsiders', () => {
    expect(holdingOf(caps({}))).toBe('nothing');
    expect(severityFor('outsider', caps({}))).toBe('medium');
  });

  it('a full shell on a runner is a worm', () => {
    expect(severityFor('outsider', caps({ tools: { shell: 'full', network: true, writesFiles: true } }))).toBe('critical');
  });

  it('network plus a publish secret is a worm; network alone acts', () => {
    const net = { shell: 'none' as const, network: true, writesFiles: false };
    expect(severityFor('outsider', caps({ tools: net, secrets: [{ name: 'NPM_TOKEN', via: 'env', modelKey: false }] }))).toBe('critical');
    expect(severityFor('outsider', caps({ tools: net }))).toBe('high');
  });

  it('cloud credentials an earlier step minted are publish power', () => {
    const net = { shell: 'none' as const, network: true, writesFiles: false };
    expect(severityFor('outsider', caps({ tools: net, cloudCredentials: ['GCP credentials'] }))).toBe('critical');
  });

  it('an allowlisted command with publish power in reach is a worm (PromptPwnd: gh issue edit --body "$TOKEN")', () => {
    const restricted = { shell: 'restricted' as const, network: false, writesFiles: false };
    expect(severityFor('outsider', caps({ tools: restricted, tokens: [{ via: 'env GITHUB_TOKEN', foreign: true }] }))).toBe('critical');
    expect(severityFor('outsider', caps({ tools: restricted, writeScopes: ['issues'] }))).toBe('high');
  });

  it('a usable write token acts', () => {
    expect(severityFor('outsider', caps({ tools: { shell: 'restricted', network: false, writesFiles: true }, tokens: [{ via: 'input github_token', foreign: false }], writeScopes: ['issues'] }))).toBe('high');
  });

  it('a token without tools to use it holds nothing', () => {
    expect(holdingOf(caps({ tokens: [{ via: 'the default github.token', foreign: false }], writeScopes: ['issues'] }))).toBe('nothing');
  });

  it('fork PRs, maintainer gates, action gates and the jail lower severity', () => {
    const worm = caps({ tools: { shell: 'full', network: true, writesFiles: true } });
    expect(severityFor('outsider-unprivileged', worm)).toBe('medium');
    expect(severityFor('maintainer', worm)).toBe('medium');
    expect(severityFor('action-gated', worm)).toBe('low');
    expect(severityFor('outsider', { ...worm, jailed: true })).toBe('medium');
    expect(severityFor('none', worm)).toBeNull();
  });
});
