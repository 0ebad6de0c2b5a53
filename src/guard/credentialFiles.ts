// Credential files other steps leave behind, as data (rules/credential-files.yml): this module
// validates that data and finds the files on this machine. jail.ts hides what it finds.
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node as YNode } from 'yaml';
import rulesText from '../../rules/credential-files.yml';
import { GuardError } from './errors';

export type Place = 'workspace' | 'workspace-parent' | 'runner-work';
const PLACES: readonly Place[] = ['workspace', 'workspace-parent', 'runner-work'];

export interface CredentialRules {
  places: { glob: string; where: Place; by: string; matches(name: string): boolean }[];
  env: { name: string; list: boolean; by: string }[];
  /** Paths relative to a HOME. */
  home: string[];
}

const FILE = 'rules/credential-files.yml';

function globMatcher(glob: string): (name: string) => boolean {
  const source = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
  const regex = new RegExp(`^${source}$`);
  return (name) => regex.test(name);
}

/** Validates the file field by field; a bad entry is one line with file, line and column. */
export function parseCredentialRules(text: string, file = FILE): CredentialRules {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const where = (node: YNode | null | undefined): string => {
    const at = node?.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
    return `${file}:${at.line}:${at.col}`;
  };
  const fail = (node: YNode | null | undefined, message: string): never => {
    throw new GuardError('filesystem', `${where(node)}: ${message}`);
  };
  if (doc.errors.length > 0) fail(undefined, doc.errors[0].message.split('\n')[0]);
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'expected a mapping with places, env and home');
  const known = new Set(['places', 'env', 'home']);
  for (const pair of root.items) {
    const key = String((pair.key as { value?: unknown })?.value);
    if (!known.has(key)) fail(pair.key as YNode, `unknown key "${key}" (expected places, env, home)`);
  }
  const list = (key: string): YNode[] => {
    const node = root.get(key, true) as YNode | undefined;
    if (!isSeq(node)) return fail(node ?? root, `${key} must be a list`);
    return node.items as YNode[];
  };
  const entry = (node: YNode, fields: Record<string, 'string' | 'boolean'>, required: string[], label: string): Record<string, unknown> => {
    if (!isMap(node)) return fail(node, `${label} must be a mapping`);
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = String((pair.key as { value?: unknown })?.value);
      const value = (pair.value as { value?: unknown } | null)?.value;
      if (!(key in fields)) fail(pair.key as YNode, `${label}: unknown key "${key}" (expected ${Object.keys(fields).join(', ')})`);
      if (typeof value !== fields[key] || (typeof value === 'string' && value.trim() === '')) {
        fail((pair.value as YNode) ?? node, `${label}.${key} must be a non-empty ${fields[key]}`);
      }
      out[key] = value;
    }
    for (const key of required) if (!(key in out)) fail(node, `${label} needs ${key}`);
    return out;
  };
  const places = list('places').map((node, i) => {
    const e = entry(node, { glob: 'string', where: 'string', by: 'string' }, ['glob', 'where', 'by'], `places[${i}]`);
    const glob = e.glob as string;
    if (glob.includes('/') || glob === '*') fail(node, `places[${i}].glob must be a file name pattern, not "${glob}"`);
    if (!PLACES.includes(e.where as Place)) fail(node, `places[${i}].where must be one of ${PLACES.join(', ')}`);
    return { glob, where: e.where as Place, by: e.by as string, matches: globMatcher(glob) };
  });
  const env = list('env').map((node, i) => {
    const e = entry(node, { name: 'string', list: 'boolean', by: 'string' }, ['name', 'by'], `env[${i}]`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name as string)) fail(node, `env[${i}].name "${e.name}" is not a variable name`);
    return { name: e.name as string, list: e.list === true, by: e.by as string };
  });
  const home = list('home').map((node, i) => {
    const value = (node as { value?: unknown }).value;
    if (typeof value !== 'string' || !value || value.startsWith('/') || value.split('/').some((s) => s === '..' || s === '')) {
      return fail(node, `home[${i}] must be a path relative to HOME`);
    }
    return value;
  });
  return { places, env, home };
}

let cached: CredentialRules | undefined;
export function credentialRules(): CredentialRules {
  cached ??= parseCredentialRules(rulesText);
  return cached;
}

export interface FoundCredentials {
  files: string[];
  dirs: string[];
}

function addReal(found: FoundCredentials, p: string): void {
  let real: string;
  let st: fs.Stats;
  try {
    real = fs.realpathSync(p);
    st = fs.statSync(real);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    if (!found.dirs.includes(real)) found.dirs.push(real);
  } else if (!found.files.includes(real)) {
    found.files.push(real);
  }
}

/**
 * Credential files on this machine, as real paths: the `places` entries next to the workspace
 * (regular files and folders only: a symlink the repository planted is not followed) and whatever
 * the `env` variables name.
 */
export function findCredentialFiles(workspace: string, env: NodeJS.ProcessEnv, rules = credentialRules()): FoundCredentials {
  const found: FoundCredentials = { files: [], dirs: [] };
  const dirs: Record<Place, string | undefined> = {
    workspace,
    'workspace-parent': path.dirname(workspace),
    'runner-work': env.RUNNER_TEMP ? path.dirname(path.resolve(env.RUNNER_TEMP)) : undefined,
  };
  for (const [place, dir] of Object.entries(dirs) as [Place, string | undefined][]) {
    const wanted = rules.places.filter((p) => p.where === place);
    if (!dir || wanted.length === 0) continue;
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if ((e.isFile() || e.isDirectory()) && wanted.some((p) => p.matches(e.name))) addReal(found, path.join(dir, e.name));
    }
  }
  for (const rule of rules.env) {
    const value = env[rule.name];
    if (!value) continue;
    for (const p of rule.list ? value.split(':') : [value]) if (path.isAbsolute(p)) addReal(found, p);
  }
  return found;
}

/** The credential paths `rules.home` names under `home`. */
export function homeCredentialPaths(home: string, rules = credentialRules()): string[] {
  return rules.home.map((p) => path.join(home, p));
}
