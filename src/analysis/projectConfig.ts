// The agent configuration a repository ships: `.claude/settings.json`, custom slash commands
// (`.claude/commands/dedupe.md` with its `allowed-tools`), `.gemini/settings.json`, `opencode.json`,
// `.codex/config.toml`. An agent run in the repository's checkout reads them, so they widen (or narrow)
// what it may do as much as its flags do. Which files each agent reads and which flag or input each
// value stands for is data (`projectFiles` and `commandDirs` in rules/agents.yml); this module only
// finds and reads them, once per repository and run. A file that does not parse is one error line
// for that file; the agent is then analysed as if it were absent.

import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { LintError } from '../checks/types';
import { MAX_FILE_BYTES, type Repository } from '../workflow/load';
import type { AgentCli, CommandDir, ProjectFile } from './ruleTypes';

/** A value read from a project file, to be matched as the value of `as`. */
export interface ProjectValue {
  as: string;
  value: string;
  /** Path from the repository root, for messages. */
  file: string;
  replacedByInput?: string;
}

/** A custom slash command the repository defines. */
export interface ProjectCommand {
  /** As invoked, e.g. `/dedupe`. */
  name: string;
  /** Path from the repository root. */
  file: string;
  /** The path as reports show it, and the line that grants tools (1 when none does). */
  shown: string;
  line: number;
  /** The file without its front-matter: it becomes the prompt when the command runs. */
  text: string;
  /** Tools it grants while it runs, as values of a flag. */
  grants: { as: string; value: string }[];
}

export interface ProjectConfig {
  /** Settings values an agent CLI reads from the repository. */
  values(cli: AgentCli): ProjectValue[];
  /** The command a prompt starting with `/name` runs, if the repository defines it. */
  command(cli: AgentCli, name: string): ProjectCommand | undefined;
  /** A text file of the repository by path from its root (prompts that say "read X and follow it"). */
  text(relative: string): string | undefined;
}

const NONE: ProjectConfig = { values: () => [], command: () => undefined, text: () => undefined };

const byRepo = new WeakMap<Repository, ProjectConfig>();

/** The repository's agent configuration, read lazily and at most once per file. */
export function projectConfig(repo: Repository | undefined): ProjectConfig {
  if (!repo) return NONE;
  let known = byRepo.get(repo);
  if (!known) byRepo.set(repo, (known = load(repo)));
  return known;
}

function load(repo: Repository): ProjectConfig {
  const texts = new Map<string, string | null>();
  const values = new Map<string, ProjectValue[]>();
  const commands = new Map<string, ProjectCommand | null>();
  const report = (file: string, line: number, message: string) => repo.errors.push({ file, line, column: 1, message } satisfies LintError);

  const read = (relative: string): string | null => {
    const clean = safeRelative(relative);
    if (!clean) return null;
    if (texts.has(clean)) return texts.get(clean)!;
    const abs = path.join(repo.root, clean);
    let text: string | null = null;
    try {
      const reader = repo.reader;
      const exists = reader ? reader.exists(abs) : fs.existsSync(abs);
      if (exists) {
        const size = reader ? reader.size(abs) : fs.statSync(abs).size;
        if (size > MAX_FILE_BYTES) report(shown(repo, abs), 1, `agent configuration file too large to read (${size} bytes); ignored`);
        else text = reader ? reader.read(abs) : fs.readFileSync(abs, 'utf8');
      }
    } catch {
      text = null; // a folder, or unreadable: treated as absent
    }
    texts.set(clean, text);
    return text;
  };

  const valuesOf = (file: ProjectFile): ProjectValue[] => {
    const text = read(file.path);
    if (text === null) return [];
    const where = shown(repo, path.join(repo.root, file.path));
    if (!file.field) return [{ as: file.as, value: text, file: file.path, replacedByInput: file.replacedByInput }];
    const data = structured(file.path, text, where, report);
    if (data === undefined) return [];
    const value = fieldText(data, file.field);
    return value === undefined ? [] : [{ as: file.as, value, file: file.path, replacedByInput: file.replacedByInput }];
  };

  return {
    values(cli) {
      let known = values.get(cli.id);
      if (!known) values.set(cli.id, (known = (cli.projectFiles ?? []).flatMap(valuesOf)));
      return known;
    },
    command(cli, name) {
      const key = `${cli.id}\u0000${name}`;
      if (commands.has(key)) return commands.get(key) ?? undefined;
      let found: ProjectCommand | null = null;
      for (const dir of cli.commandDirs ?? []) {
        const relative = commandPath(dir, name);
        const text = relative ? read(relative) : null;
        if (text === null || !relative) continue;
        const where = shown(repo, path.join(repo.root, relative));
        const grants: ProjectCommand['grants'] = [];
        if (dir.toolsField && dir.toolsAs) {
          const front = frontMatter(text, where, report);
          const value = front === undefined ? undefined : fieldText(front, dir.toolsField);
          if (value) grants.push({ as: dir.toolsAs, value });
        }
        const line = dir.toolsField ? text.split('\n').findIndex((l) => l.startsWith(`${dir.toolsField}:`)) + 1 : 0;
        found = { name: `/${name}`, file: relative, shown: where, line: Math.max(1, line), text: withoutFrontMatter(text), grants };
        break;
      }
      commands.set(key, found);
      return found ?? undefined;
    },
    text(relative) {
      return read(relative) ?? undefined;
    },
  };
}

/** `dedupe` → `.claude/commands/dedupe.md`; `ns:name` → `.claude/commands/ns/name.md`. */
function commandPath(dir: CommandDir, name: string): string | null {
  if (!/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$/.test(name)) return null;
  // `.md` gives `dir/ns/name.md`; `/SKILL.md` gives `dir/ns/name/SKILL.md`.
  return `${dir.dir}/${name.split(':').join('/')}${dir.ext}`;
}

/** A repository-relative path that stays inside the repository, normalised; null otherwise. */
function safeRelative(relative: string): string | null {
  const clean = path.posix.normalize(relative.replace(/^\.\/+/, ''));
  if (!clean || clean === '.' || clean.startsWith('../') || clean === '..' || path.posix.isAbsolute(clean)) return null;
  return clean;
}

function shown(repo: Repository, abs: string): string {
  return repo.display(abs);
}

type Report = (file: string, line: number, message: string) => void;

/** JSON (`.json`) or Markdown front-matter (`.md`) as data; undefined (and one error) when it does not parse. */
function structured(file: string, text: string, where: string, report: Report): unknown {
  if (file.endsWith('.md')) return frontMatter(text, where, report);
  try {
    return JSON.parse(stripJsonComments(text));
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : 1;
    report(where, line, `invalid JSON in agent configuration: ${(err as Error).message.replace(/^JSON\.parse: /, '')}; ignored`);
    return undefined;
  }
}

const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

function withoutFrontMatter(text: string): string {
  return text.replace(FRONT_MATTER, '');
}

/** The YAML between the leading `---` lines of a Markdown file; `{}` when there is none. */
function frontMatter(text: string, where: string, report: Report): Record<string, unknown> | undefined {
  const m = FRONT_MATTER.exec(text);
  if (!m) return {};
  try {
    const data: unknown = parseYaml(m[1]);
    return data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  } catch (err) {
    const line = /at line (\d+)/.exec((err as Error).message);
    report(where, line ? Number(line[1]) + 1 : 2, `invalid front-matter in agent configuration: ${(err as Error).message.split('\n')[0].replace(/:\s*$/, '')}; ignored`);
    return undefined;
  }
}

/** A dotted field as text: a list is joined with commas, an object or a scalar is written out. */
function fieldText(data: unknown, field: string): string | undefined {
  let node: unknown = data;
  for (const key of field.split('.')) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (node === undefined || node === null) return undefined;
  if (Array.isArray(node)) return node.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
  return typeof node === 'string' ? node : JSON.stringify(node);
}

/** `.jsonc` style comments (opencode.jsonc, settings with comments): removed outside strings. */
function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const skipped = text.slice(i, end < 0 ? text.length : end + 2);
      out += skipped.replace(/[^\n]/g, ' ');
      i = end < 0 ? text.length : end + 1;
    } else out += c;
  }
  return out;
}
