// Fenced code blocks of the project's Markdown (README.md and docs/), with the marker that says what
// each one is (see snippets.test.ts). Shared by the snippet checks and the user trials, which run
// the README's workflows as written.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface Snippet {
  file: string;
  line: number;
  lang: string;
  text: string;
  kind?: string;
  options: Record<string, string>;
  where: string;
}

export function markdownFiles(): string[] {
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
