// Credential files other steps leave behind, as data (rules/credential-files.yml): this module
// validates that data and finds the files on this machine. jail.ts hides what it finds.
import fs from 'node:fs';
import path from 'node:path';
import { isMapping, positionIn, readDataText } from '../dataText';
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

type Where = (string | number)[];

/**
 * Validates the file field by field; a bad entry is one line with file, line and column. The file is
 * read with the plain (faster) parser, JSON in the bundle; only a bad entry pays for a read that keeps positions.
 */
export function parseCredentialRules(text: string, file = FILE): CredentialRules {
  const fail = (at: Where, message: string, key?: string): never => {
    const pos = positionIn(text, at, key);
    throw new GuardError('filesystem', `${file}:${pos.line}:${pos.col}: ${message}`);
  };
  const read = readDataText(text);
  if ('error' in read) throw new GuardError('filesystem', `${file}:${read.line}:${read.col}: ${read.error}`);
  const data = read.data;
  if (!isMapping(data)) return fail([], 'expected a mapping with places, env and home');
  for (const key of Object.keys(data)) if (!['places', 'env', 'home'].includes(key)) fail([], `unknown key "${key}" (expected places, env, home)`, key);
  const list = (key: string): unknown[] => {
    const value = data[key];
    return Array.isArray(value) ? value : fail([key], `${key} must be a list`);
  };
  const entry = (value: unknown, at: Where, fields: Record<string, 'string' | 'boolean'>, required: string[]): Record<string, unknown> => {
    const label = `${at[0]}[${at[1]}]`;
    if (!isMapping(value)) return fail(at, `${label} must be a mapping`);
    for (const [key, v] of Object.entries(value)) {
      if (!(key in fields)) fail(at, `${label}: unknown key "${key}" (expected ${Object.keys(fields).join(', ')})`, key);
      if (typeof v !== fields[key] || (typeof v === 'string' && v.trim() === '')) fail([...at, key], `${label}.${key} must be a non-empty ${fields[key]}`);
    }
    for (const key of required) if (!(key in value)) fail(at, `${label} needs ${key}`);
    return value;
  };
  const places = list('places').map((value, i) => {
    const e = entry(value, ['places', i], { glob: 'string', where: 'string', by: 'string' }, ['glob', 'where', 'by']);
    const glob = e.glob as string;
    if (glob.includes('/') || glob === '*') fail(['places', i], `places[${i}].glob must be a file name pattern, not "${glob}"`);
    if (!PLACES.includes(e.where as Place)) fail(['places', i], `places[${i}].where must be one of ${PLACES.join(', ')}`);
    return { glob, where: e.where as Place, by: e.by as string, matches: globMatcher(glob) };
  });
  const env = list('env').map((value, i) => {
    const e = entry(value, ['env', i], { name: 'string', list: 'boolean', by: 'string' }, ['name', 'by']);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name as string)) fail(['env', i], `env[${i}].name "${e.name}" is not a variable name`);
    return { name: e.name as string, list: e.list === true, by: e.by as string };
  });
  const home = list('home').map((value, i) => {
    if (typeof value !== 'string' || !value || value.startsWith('/') || value.split('/').some((seg) => seg === '..' || seg === '')) {
      return fail(['home', i], `home[${i}] must be a path relative to HOME`);
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
