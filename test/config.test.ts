import { ConfigError, globMatch, parseConfig } from '../src/config';

describe('config', () => {
  it('reads every key', () => {
    const c = parseConfig(
      'c.yml',
      `ignore:\n  - rule: template-injection\n    file: "**/legacy-*.yml"\nseverity:\n  agent-gate-disabled: low\ntrusted-users: [alice]\ntrusted-bots: ["x[bot]"]\nagents:\n  actions:\n    - uses: org/agent\n      prompt-inputs: [task]\n      shell: full\n  commands:\n    - command: my-agent\n      bypass-flags: [--auto]\n`,
    );
    expect(c.ignore).toEqual([{ rule: 'template-injection', file: '**/legacy-*.yml' }]);
    expect(c.severity).toEqual({ 'agent-gate-disabled': 'low' });
    expect(c.trustedUsers).toEqual(['alice']);
    expect(c.actions[0]).toMatchObject({ uses: ['org/agent'], promptInputs: ['task'], defaults: { shell: 'full' } });
    expect(c.clis[0]).toMatchObject({ commands: ['my-agent'], bypassFlags: ['--auto'] });
  });

  it.each([
    ['ignroe: []\n', /c\.yml:1:1: unknown key 'ignroe'/],
    ['ignore:\n  - rule: x\n    jobb: y\n', /c\.yml:3:5: unknown key 'jobb'/],
    ['severity:\n  x: severe\n', /c\.yml:2:6: severity of 'x' must be one of/],
    ['ignore: {}\n', /c\.yml:1:9: ignore must be a list/],
    ['agents:\n  actions:\n    - name: no-uses\n', /needs 'uses'/],
    ['a: [\n', /c\.yml:\d+:\d+: invalid YAML/],
  ])('rejects %j with a line', (text, message) => {
    expect(() => parseConfig('c.yml', text)).toThrow(ConfigError);
    expect(() => parseConfig('c.yml', text)).toThrow(message);
  });

  it('matches globs on path segments', () => {
    expect(globMatch('legacy-*.yml', '.github/workflows/legacy-a.yml')).toBe(true);
    expect(globMatch('.github/workflows/*.yml', '.github/workflows/a.yml')).toBe(true);
    expect(globMatch('*.yml', 'a/b/c.yaml')).toBe(false);
    expect(globMatch('**/c.yml', 'a/b/c.yml')).toBe(true);
  });
});
