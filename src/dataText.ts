// Rules files are YAML in the repository; the bundle carries the ones read at every start as JSON
// (scripts/build.mjs converts them), because parsing their YAML took most of the start-up. JSON is
// YAML, so either text means the same thing.

import { isMap, LineCounter, parse, parseDocument, type Node as YNode } from 'yaml';

/** The data of a text that is JSON, by the fast JSON parser; undefined for any other YAML. */
export function jsonData(text: string): { data: unknown } | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    return { data: JSON.parse(text) };
  } catch {
    // A YAML flow mapping that is not JSON: the YAML parser reads it.
    return undefined;
  }
}

/** The data in a YAML or JSON text, by the fast JSON parser when the text is JSON. */
export function parseDataText(text: string): unknown {
  return (jsonData(text) ?? { data: parse(text) }).data;
}

/** The data in a rules text, or where and why its YAML is broken. */
export function readDataText(text: string): { data: unknown } | { error: string; line: number; col: number } {
  const json = jsonData(text);
  if (json) return json;
  try {
    return { data: parse(text, { uniqueKeys: true }) };
  } catch (err) {
    const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0] ?? { line: 1, col: 1 };
    return { error: (err as Error).message.split('\n')[0], ...pos };
  }
}

/**
 * Line and column of the value at `at` in a YAML or JSON text (of `key` itself when given and the value
 * is a mapping), for an error message. Parses again, keeping positions: only a bad file pays for it.
 */
export function positionIn(text: string, at: (string | number)[], key?: string): { line: number; col: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  let node = (at.length ? doc.getIn(at, true) : doc.contents) as YNode | undefined;
  if (key !== undefined && isMap(node)) node = (node.items.find((p) => String((p.key as { value?: unknown })?.value) === key)?.key as YNode) ?? node;
  return node?.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
}

/** A mapping, as rules data holds one (not a list, not null). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
