// rules/file-kinds.yml: the tool configuration the boundary refuses to bring back, as data. Validated
// when loaded; a mistake in the file is one line naming the file, the line and what is wrong.
import { isMapping, positionIn, readDataText } from '../../dataText';
import fileKindsText from '../../../rules/file-kinds.yml';
import { GuardError } from '../errors';
import { compileGlob, type PathGlob } from './glob';

export interface FileKindRule {
  globs: PathGlob[];
  reason: string;
  /** Refused only when the new content matches (deletions are always refused). */
  when?: RegExp;
}

const FILE = 'rules/file-kinds.yml';
const FIELDS = new Set(['paths', 'reason', 'when']);

export function parseFileKinds(text: string, fileName = FILE): FileKindRule[] {
  const fail = (at: (string | number)[], message: string, key?: string): never => {
    const pos = positionIn(text, at, key);
    throw new GuardError('boundary', `${fileName}:${pos.line}:${pos.col}: ${message}`);
  };
  const read = readDataText(text);
  if ('error' in read) throw new GuardError('boundary', `${fileName}:${read.line}:${read.col}: ${read.error}`);
  const root = read.data;
  if (!isMapping(root) || Object.keys(root).length !== 1 || !('refuse' in root)) return fail([], 'expected one key, `refuse`, holding a list of entries');
  const list = root.refuse;
  if (!Array.isArray(list) || list.length === 0) return fail(['refuse'], '`refuse` must be a non-empty list');
  return list.map((entry: unknown, i) => {
    const at = ['refuse', i];
    if (!isMapping(entry)) return fail(at, `refuse[${i}]: expected an entry with paths and reason`);
    for (const key of Object.keys(entry)) if (!FIELDS.has(key)) fail(at, `refuse[${i}]: unknown field "${key}" (known: paths, reason, when)`, key);
    const paths = entry.paths;
    if (!Array.isArray(paths) || paths.length === 0) return fail('paths' in entry ? [...at, 'paths'] : at, `refuse[${i}].paths: a non-empty list of globs`);
    const globs = paths.map((glob: unknown, j) => {
      if (typeof glob !== 'string') return fail([...at, 'paths', j], `refuse[${i}].paths: each glob is a string`);
      try {
        return compileGlob(glob);
      } catch (err) {
        return fail([...at, 'paths', j], `refuse[${i}].paths: ${(err as Error).message}`);
      }
    });
    const reason = entry.reason;
    if (typeof reason !== 'string' || !reason.trim() || /[\r\n]/.test(reason)) {
      return fail('reason' in entry ? [...at, 'reason'] : at, `refuse[${i}].reason: one line saying what a later tool would do with the file`);
    }
    let when: RegExp | undefined;
    if ('when' in entry) {
      if (typeof entry.when !== 'string') return fail([...at, 'when'], `refuse[${i}].when: a regular expression`);
      try {
        when = new RegExp(entry.when, 'im');
      } catch (err) {
        return fail([...at, 'when'], `refuse[${i}].when: ${(err as Error).message}`);
      }
    }
    return { globs, reason, when };
  });
}

let cached: FileKindRule[] | undefined;
export function builtinFileKinds(): FileKindRule[] {
  cached ??= parseFileKinds(fileKindsText);
  return cached;
}
