// YAML with positions. The `yaml` library parses; we convert its document into a small tree of our
// own that keeps byte offsets for every node, resolves aliases to the anchored node (shared, not
// copied) and applies merge keys, so the rest of the analysis never sees YAML-level indirection.

import { parseDocument, isAlias, isMap, isPair, isScalar, isSeq, Scalar } from 'yaml';
import type { Node as YamlNode, Document } from 'yaml';

export interface YBase {
  /** Offset of the node's first character in the file. */
  start: number;
  /** Offset just past the node's value. */
  end: number;
}

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export interface YScalar extends YBase {
  kind: 'scalar';
  value: string | number | boolean | null;
  /** The value as a string (`''` for null), which is how the runner sees inputs and env. */
  text: string;
  style: ScalarStyle;
}

export interface YPair {
  key: YScalar;
  value: YNode;
}

export interface YMap extends YBase {
  kind: 'map';
  pairs: YPair[];
}

export interface YSeq extends YBase {
  kind: 'seq';
  items: YNode[];
}

export type YNode = YScalar | YMap | YSeq;

export interface SourceFile {
  path: string;
  text: string;
  /** Offsets where each line starts; built once, used for offset → line/column. */
  lineStarts: number[];
}

export interface Position {
  line: number;
  column: number;
}

export class YamlLoadError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Aliases may be expanded at most this many nodes in total; beyond it the file is an alias bomb. */
const MAX_ALIAS_EXPANSION = 200_000;
const MAX_DEPTH = 256;

export function makeSourceFile(path: string, text: string): SourceFile {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return { path, text, lineStarts };
}

export function positionOf(file: SourceFile, offset: number): Position {
  const starts = file.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

/** Parses YAML text into our tree. Throws YamlLoadError (with offset) for syntax errors and bombs. */
export function loadYaml(file: SourceFile): YNode | null {
  const doc = parseDocument(file.text, {
    merge: true,
    uniqueKeys: false,
    strict: false,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  const firstError = doc.errors[0];
  if (firstError) {
    const offset = firstError.pos?.[0] ?? 0;
    throw new YamlLoadError(cleanYamlMessage(firstError.message), offset);
  }
  if (!doc.contents) return null;
  return new Converter(doc).convert(doc.contents as YamlNode, 0);
}

function cleanYamlMessage(message: string): string {
  // The library appends a code excerpt after a colon and newline; keep the first line only.
  return message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '');
}

class Converter {
  private readonly cache = new Map<YamlNode, YNode>();
  private expanded = 0;

  constructor(private readonly doc: Document) {}

  convert(node: YamlNode, depth: number): YNode {
    if (depth > MAX_DEPTH) throw new YamlLoadError('document nests too deeply', node.range?.[0] ?? 0);
    if (isAlias(node)) {
      const target = node.resolve(this.doc) as YamlNode | undefined;
      if (!target) throw new YamlLoadError(`unknown alias *${node.source}`, node.range?.[0] ?? 0);
      const converted = this.convert(target, depth + 1);
      this.expanded += countNodes(converted, MAX_ALIAS_EXPANSION - this.expanded + 1);
      if (this.expanded > MAX_ALIAS_EXPANSION) {
        throw new YamlLoadError('aliases expand to too many nodes (alias bomb?)', node.range?.[0] ?? 0);
      }
      return converted;
    }
    // Only anchored nodes can be reached twice (through aliases); caching every node costs a Map insert each.
    const anchored = !!(node as { anchor?: string }).anchor;
    const cached = anchored ? this.cache.get(node) : undefined;
    if (cached) return cached;
    const [start, end] = node.range ?? [0, 0];
    let result: YNode;
    if (isMap(node)) {
      const map: YMap = { kind: 'map', pairs: [], start, end };
      if (anchored) this.cache.set(node, map);
      const merges: YNode[] = [];
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const keyNode = item.key as YamlNode | null;
        const key = keyNode ? this.convert(keyNode, depth + 1) : null;
        const keyScalar: YScalar =
          key?.kind === 'scalar' ? key : { kind: 'scalar', value: '', text: '', style: 'plain', start, end: start };
        const valueNode = item.value as YamlNode | null;
        const value: YNode = valueNode
          ? this.convert(valueNode, depth + 1)
          : { kind: 'scalar', value: null, text: '', style: 'plain', start: keyScalar.end, end: keyScalar.end };
        if (keyScalar.text === '<<' && keyScalar.style === 'plain') merges.push(value);
        else map.pairs.push({ key: keyScalar, value });
      }
      for (const merged of merges) applyMerge(map, merged);
      result = map;
    } else if (isSeq(node)) {
      const seq: YSeq = { kind: 'seq', items: [], start, end };
      if (anchored) this.cache.set(node, seq);
      for (const item of node.items) {
        if (item == null) continue;
        seq.items.push(this.convert(item as YamlNode, depth + 1));
      }
      result = seq;
    } else if (isScalar(node)) {
      result = scalarOf(node, start, end);
    } else {
      result = { kind: 'scalar', value: null, text: '', style: 'plain', start, end };
    }
    if (anchored) this.cache.set(node, result);
    return result;
  }
}

/** `<<: *base` or `<<: [*a, *b]`: keys already present win, earlier merge sources win over later. */
function applyMerge(map: YMap, merged: YNode): void {
  const sources = merged.kind === 'seq' ? merged.items : [merged];
  for (const source of sources) {
    if (source.kind !== 'map') continue;
    for (const pair of source.pairs) {
      if (!map.pairs.some((p) => p.key.text === pair.key.text)) map.pairs.push(pair);
    }
  }
}

function countNodes(node: YNode, limit: number): number {
  let count = 0;
  const stack: YNode[] = [node];
  while (stack.length && count < limit) {
    const n = stack.pop()!;
    count++;
    if (n.kind === 'map') for (const p of n.pairs) stack.push(p.value);
    else if (n.kind === 'seq') for (const i of n.items) stack.push(i);
  }
  return count;
}

const STYLES: Record<string, ScalarStyle> = {
  PLAIN: 'plain',
  QUOTE_SINGLE: 'single',
  QUOTE_DOUBLE: 'double',
  BLOCK_LITERAL: 'literal',
  BLOCK_FOLDED: 'folded',
};

function scalarOf(node: Scalar, start: number, end: number): YScalar {
  const raw = node.value;
  let value: YScalar['value'];
  if (raw === null || raw === undefined) value = null;
  else if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') value = raw;
  else if (typeof raw === 'bigint') value = Number(raw);
  else if (typeof raw === 'symbol') value = (node as { source?: string }).source ?? '<<'; // the merge key
  else value = String(raw);
  const text = value === null ? '' : typeof value === 'string' ? value : sourceTextOf(node, value);
  return { kind: 'scalar', value, text, style: STYLES[node.type ?? 'PLAIN'] ?? 'plain', start, end };
}

/** Numbers keep the spelling the author wrote where the library recorded it (e.g. `1.10`). */
function sourceTextOf(node: Scalar, value: number | boolean): string {
  const source = (node as { source?: string }).source;
  return typeof source === 'string' ? source : String(value);
}

// ---- small accessors used everywhere -------------------------------------------------------

export function mapGet(node: YNode | undefined | null, key: string): YNode | undefined {
  if (!node || node.kind !== 'map') return undefined;
  for (const pair of node.pairs) if (pair.key.text === key) return pair.value;
  return undefined;
}

export function mapPair(node: YNode | undefined | null, key: string): YPair | undefined {
  if (!node || node.kind !== 'map') return undefined;
  for (const pair of node.pairs) if (pair.key.text === key) return pair;
  return undefined;
}

export function scalarText(node: YNode | undefined | null): string | undefined {
  return node && node.kind === 'scalar' ? node.text : undefined;
}

/** A scalar or a sequence of scalars, as strings (e.g. `runs-on`, `needs`, `types`). */
export function stringList(node: YNode | undefined | null): string[] {
  if (!node) return [];
  if (node.kind === 'scalar') return node.value === null ? [] : [node.text];
  if (node.kind === 'seq') return node.items.filter((i): i is YScalar => i.kind === 'scalar').map((i) => i.text);
  return [];
}

/**
 * Where, in the file, a substring of a scalar's value stands. Plain and block scalars keep their
 * text verbatim, so the n-th occurrence of the substring in the value is the n-th occurrence in the
 * source; escapes in quoted scalars can shift that, so we fall back to the scalar's start.
 */
export function locateInScalar(file: SourceFile, scalar: YScalar, valueOffset: number, length: number): number {
  const needle = scalar.text.slice(valueOffset, valueOffset + length);
  if (!needle) return scalar.start;
  let occurrence = 0;
  for (let i = scalar.text.indexOf(needle); i !== -1 && i < valueOffset; i = scalar.text.indexOf(needle, i + 1)) {
    occurrence++;
  }
  let at = scalar.start - 1;
  for (let n = 0; n <= occurrence; n++) {
    at = file.text.indexOf(needle, at + 1);
    if (at === -1 || at + needle.length > scalar.end) return scalar.start;
  }
  return at;
}
