import { loadYaml, makeSourceFile, mapGet, positionOf, locateInScalar, YamlLoadError, type YNode, type YScalar } from '../../src/workflow/yaml';

function load(text: string): YNode | null {
  return loadYaml(makeSourceFile('t.yml', text));
}

describe('loadYaml', () => {
  it('keeps offsets that map to 1-based lines and columns', () => {
    const text = 'on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n';
    const file = makeSourceFile('t.yml', text);
    const root = loadYaml(file)!;
    const runsOn = mapGet(mapGet(mapGet(root, 'jobs'), 'build'), 'runs-on') as YScalar;
    expect(runsOn.text).toBe('ubuntu-latest');
    expect(positionOf(file, runsOn.start)).toEqual({ line: 4, column: 14 });
  });

  it('resolves aliases to the anchored node and applies merge keys', () => {
    const root = load('base: &b\n  a: 1\n  b: 2\nuse:\n  <<: *b\n  b: 3\nref: *b\n')!;
    const use = mapGet(root, 'use')!;
    expect((mapGet(use, 'a') as YScalar).text).toBe('1');
    expect((mapGet(use, 'b') as YScalar).text).toBe('3');
    expect(mapGet(root, 'ref')).toBe(mapGet(root, 'base'));
  });

  it('merges a list of maps, earlier sources first', () => {
    const root = load('x: &x {k: 1}\ny: &y {k: 2, j: 3}\nz:\n  <<: [*x, *y]\n')!;
    const z = mapGet(root, 'z')!;
    expect((mapGet(z, 'k') as YScalar).text).toBe('1');
    expect((mapGet(z, 'j') as YScalar).text).toBe('3');
  });

  it('refuses an alias bomb quickly', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    const started = Date.now();
    expect(() => load(text)).toThrow(YamlLoadError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports syntax errors with an offset', () => {
    try {
      load('on: push\njobs: [\n');
      throw new Error('expected a YamlLoadError');
    } catch (err) {
      expect(err).toBeInstanceOf(YamlLoadError);
      expect((err as YamlLoadError).offset).toBeGreaterThan(0);
    }
  });

  it('refuses documents nested too deeply', () => {
    expect(() => load('a: '.repeat(1) + '['.repeat(400) + ']'.repeat(400))).toThrow(/nests too deeply/);
  });

  it('keeps numbers as written', () => {
    const root = load('v: 1.10\n')!;
    expect((mapGet(root, 'v') as YScalar).text).toBe('1.10');
  });
});

describe('locateInScalar', () => {
  it('finds a substring of a literal block scalar at its place in the file', () => {
    const text = 'run: |\n  echo one\n  echo "${{ github.event.issue.title }}"\n';
    const file = makeSourceFile('t.yml', text);
    const run = mapGet(loadYaml(file), 'run') as YScalar;
    const at = run.text.indexOf('github.event');
    const offset = locateInScalar(file, run, at, 'github.event.issue.title'.length);
    expect(positionOf(file, offset)).toEqual({ line: 3, column: 13 });
  });

  it('counts repeated occurrences', () => {
    const text = 'run: "a $X b $X"\n';
    const file = makeSourceFile('t.yml', text);
    const run = mapGet(loadYaml(file), 'run') as YScalar;
    const second = run.text.lastIndexOf('$X');
    expect(positionOf(file, locateInScalar(file, run, second, 2)).column).toBe(14);
  });
});
