// Bad input never crashes or hangs the linter, and the JSON report stays valid: truncations, random
// bytes, wrong types, an alias bomb, deep nesting, a huge file, seeded so failures reproduce.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lint } from '../src/lint';
import { formatReport } from '../src/report';
import { rng } from './random';

const fixtures = path.resolve(__dirname, 'fixtures/rules');
const seeds = fs
  .readdirSync(fixtures)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => fs.readFileSync(path.join(fixtures, f), 'utf8'));

const WRONG_TYPES = ['[]', '{}', '42', 'null', 'true', '"${{ }}"', '${{ github.event.issue.title }}', '- a\n  - b', '{a: [1, {b: c}]}'];

function mutate(text: string, r: () => number): string {
  const kind = Math.floor(r() * 6);
  const at = Math.floor(r() * text.length);
  switch (kind) {
    case 0: // truncate
      return text.slice(0, at);
    case 1: {
      // random bytes
      const chars = text.split('');
      for (let i = 0; i < 1 + r() * 20; i++) chars[Math.floor(r() * chars.length)] = String.fromCharCode(Math.floor(r() * 256));
      return chars.join('');
    }
    case 2: {
      // replace a value with a wrong type
      const lines = text.split('\n');
      const i = Math.floor(r() * lines.length);
      lines[i] = lines[i].replace(/:\s.*$/, `: ${WRONG_TYPES[Math.floor(r() * WRONG_TYPES.length)]}`);
      return lines.join('\n');
    }
    case 3: // duplicate a slice somewhere else (odd indentation)
      return text.slice(0, at) + text.slice(Math.floor(r() * text.length)) + text.slice(at);
    case 4: // unbalanced template expressions
      return text.slice(0, at) + '${{ github.event.' + '('.repeat(Math.floor(r() * 300)) + text.slice(at);
    default: {
      // delete a line
      const lines = text.split('\n');
      lines.splice(Math.floor(r() * lines.length), 1);
      return lines.join('\n');
    }
  }
}

function lintText(dir: string, name: string, text: string | Buffer) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  const started = Date.now();
  const result = lint({ paths: [file] });
  const elapsed = Date.now() - started;
  const json = JSON.parse(formatReport(result, 'json', { toolVersion: 'test' }));
  fs.rmSync(file);
  return { result, json, elapsed };
}

describe('fuzz', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-fuzz-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('survives 400 seeded mutations of real workflows', () => {
    const r = rng(20261125);
    for (let i = 0; i < 400; i++) {
      const seed = seeds[i % seeds.length];
      let text = seed;
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) text = mutate(text, r);
      const { json, elapsed } = lintText(dir, `m${i}.yml`, text);
      expect(Array.isArray(json.findings)).toBe(true);
      expect(Array.isArray(json.errors)).toBe(true);
      expect(elapsed).toBeLessThan(3000);
      for (const e of json.errors) {
        expect(typeof e.line).toBe('number');
        expect(e.message).not.toMatch(/\n/);
      }
    }
  });

  it('refuses an alias bomb with a one-line error', () => {
    let text = 'on: push\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++) text += `x${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    text += 'jobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo *a9\n';
    const { json, elapsed } = lintText(dir, 'bomb.yml', text);
    expect(elapsed).toBeLessThan(3000);
    expect(json.errors.some((e: { message: string }) => /alias/.test(e.message))).toBe(true);
  });

  it('handles deep nesting without a stack overflow', () => {
    const deep = 'on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n        with: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n';
    const { json, elapsed } = lintText(dir, 'deep.yml', deep);
    expect(elapsed).toBeLessThan(3000);
    expect(json.errors.length).toBeGreaterThan(0);
  });

  it('handles a deeply nested expression in if:', () => {
    const cond = Array(3000).fill("github.actor == 'a'").join(' || ');
    const text = `on: issues\njobs:\n  j:\n    if: \${{ ${cond} }}\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "\${{ github.event.issue.title }}"\n`;
    const { json } = lintText(dir, 'expr.yml', text);
    expect(json.findings.length).toBeGreaterThan(0);
  });

  it('refuses a huge file and lints a large valid one quickly', () => {
    const huge = 'on: push\n# ' + 'x'.repeat(5 * 1024 * 1024) + '\n';
    const { json } = lintText(dir, 'huge.yml', huge);
    expect(json.errors[0].message).toMatch(/too large/);
    const steps = Array.from({ length: 3000 }, (_, i) => `      - name: step ${i}\n        run: echo "\${{ github.event.issue.title }} ${i}"\n`).join('');
    const big = `on: issues\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`;
    const { elapsed, json: bigJson } = lintText(dir, 'big.yml', big);
    expect(bigJson.findings.length).toBe(3000);
    expect(elapsed).toBeLessThan(10000);
  });

  it('survives binary garbage and an empty file', () => {
    const r = rng(7);
    const bytes = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256)));
    expect(() => lintText(dir, 'bin.yml', bytes)).not.toThrow();
    const { json } = lintText(dir, 'empty.yml', '');
    expect(json.errors.length).toBe(1);
  });
});
