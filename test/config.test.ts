import { ConfigError, parseConfig } from '../src/config';
import { MAX_WILDCARDS, globMatch } from '../src/glob';

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
    ['ignore:\n  - rule: prompt-injection\n    jobb: y\n', /c\.yml:3:5: unknown key 'jobb'/],
    ['severity:\n  x: severe\n', /c\.yml:2:6: severity of 'x' must be one of/],
    ['severity:\n  prompt-injeciton: low\n', /c\.yml:2:3: unknown rule 'prompt-injeciton' \(rules: prompt-injection, /],
    ['ignore:\n  - rule: template-injections\n', /c\.yml:2:11: unknown rule 'template-injections'/],
    [`ignore:\n  - file: "${'**a'.repeat(8)}"\n`, /c\.yml:2:11: file: '(\*\*a){8}' has 8 wildcards; at most 3/],
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

  it('matches what users write: dotfiles, ** over no folder, braces, a suffix from any folder', () => {
    expect(globMatch('.github/**', '.github/workflows/a.yml')).toBe(true);
    expect(globMatch('*.yml', '.github/workflows/.hidden.yml')).toBe(true);
    expect(globMatch('.github/**/a.yml', '.github/a.yml')).toBe(true);
    expect(globMatch('workflows/{ci,release}.yml', '.github/workflows/release.yml')).toBe(true);
    expect(globMatch('workflows/{ci,release}.yml', '.github/workflows/nightly.yml')).toBe(false);
    expect(globMatch('.github/workflows/*.yml', 'sub/repo/.github/workflows/a.yml')).toBe(true);
    expect(globMatch('.github/workflows/*.yml', '.github/workflows/deep/a.yml')).toBe(false);
    expect(globMatch('a.yml', 'xa.yml')).toBe(false);
    expect(globMatch('legacy-?.yml', 'C:\\r\\.github\\workflows\\legacy-1.yml')).toBe(true);
    // `!` is a literal: a negated pattern would ignore everything else.
    expect(globMatch('!a.yml', 'b.yml')).toBe(false);
  });

  it('refuses patterns whose matching time explodes, and matches the allowed worst case quickly', () => {
    expect(() => globMatch('**a'.repeat(8), `${'a'.repeat(59)}b`)).toThrow(/8 wildcards/);
    // The worst shapes at the limit, on paths far longer than workflow paths are.
    const started = performance.now();
    expect(globMatch('*a'.repeat(MAX_WILDCARDS), `${'a'.repeat(250)}b`)).toBe(false);
    expect(globMatch('**/a/'.repeat(MAX_WILDCARDS) + 'b', `${'a/'.repeat(125)}c`)).toBe(false);
    // Generous for a loaded machine: the unbounded version of these takes minutes.
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
