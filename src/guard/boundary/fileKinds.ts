// rules/file-kinds.yml: the tool configuration the boundary refuses to bring back, as data. Validated
// when loaded; a mistake in the file is one line naming the file, the line and what is wrong.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const fail = (node: Node | null | undefined, message: string): never => {
    const at = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
    throw new GuardError('boundary', `${fileName}:${at.line}:${at.col}: ${message}`);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new GuardError('boundary', `${fileName}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1}: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root) || root.items.length !== 1 || !isScalar(root.items[0].key) || root.items[0].key.value !== 'refuse') {
    return fail(root, 'expected one key, `refuse`, holding a list of entries');
  }
  const list = root.items[0].value;
  if (!isSeq(list) || list.items.length === 0) return fail(list as Node, '`refuse` must be a non-empty list');
  return list.items.map((item, i) => {
    const entry = item as Node;
    if (!isMap(entry)) return fail(entry, `refuse[${i}]: expected an entry with paths and reason`);
    const value = (key: string) => entry.items.find((p) => isScalar(p.key) && p.key.value === key)?.value as Node | undefined;
    for (const pair of entry.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (!FIELDS.has(key)) fail(pair.key as Node, `refuse[${i}]: unknown field "${key}" (known: paths, reason, when)`);
    }
    const paths = value('paths');
    if (!isSeq(paths) || paths.items.length === 0) return fail(paths ?? entry, `refuse[${i}].paths: a non-empty list of globs`);
    const globs = paths.items.map((p) => {
      const node = p as Node;
      if (!isScalar(node) || typeof node.value !== 'string') return fail(node, `refuse[${i}].paths: each glob is a string`);
      try {
        return compileGlob(node.value);
      } catch (err) {
        return fail(node, `refuse[${i}].paths: ${(err as Error).message}`);
      }
    });
    const reason = value('reason');
    if (!isScalar(reason) || typeof reason.value !== 'string' || !reason.value.trim() || /[\r\n]/.test(reason.value)) {
      return fail(reason ?? entry, `refuse[${i}].reason: one line saying what a later tool would do with the file`);
    }
    const whenNode = value('when');
    let when: RegExp | undefined;
    if (whenNode !== undefined) {
      if (!isScalar(whenNode) || typeof whenNode.value !== 'string') return fail(whenNode, `refuse[${i}].when: a regular expression`);
      try {
        when = new RegExp(whenNode.value, 'im');
      } catch (err) {
        return fail(whenNode, `refuse[${i}].when: ${(err as Error).message}`);
      }
    }
    return { globs, reason: reason.value, when };
  });
}

let cached: FileKindRule[] | undefined;
export function builtinFileKinds(): FileKindRule[] {
  cached ??= parseFileKinds(fileKindsText);
  return cached;
}
