// A strict JSON reader for request bodies. The proxy judges the object this returns and forwards
// JSON.stringify of that same object, never the agent's bytes: whatever a provider's parser would do
// with duplicate keys, odd escapes or a byte-order mark, the bytes upstream say exactly what was
// checked. Anything two parsers could read differently is refused instead of guessed:
//   * duplicate keys at any depth (one parser keeps the first, another the last);
//   * a byte-order mark, invalid UTF-8, lone surrogates (escaped or not);
//   * integers beyond 2^53 and numbers that overflow a double (they would not survive re-serialising);
//   * nesting deeper than MAX_NESTING, and anything after the value but white space.

export const MAX_NESTING = 256;

export class JsonRefusal extends Error {}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parse a request body; throws JsonRefusal with a one-line reason. Objects have no prototype. */
export function parseStrictJson(bytes: Buffer): JsonValue {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new JsonRefusal('body starts with a byte-order mark');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new JsonRefusal('body is not valid UTF-8');
  }
  const reader = new Reader(text);
  reader.space();
  const value = reader.value(0);
  reader.space();
  if (reader.at < text.length) reader.fail('text after the JSON value');
  return value;
}

/** The bytes the proxy forwards: the judged object, re-serialised. */
export function serializeJson(value: JsonValue): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const PLAIN_RUN = /[^"\\\u0000-\u001f\ud800-\udfff]+/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Reader {
  at = 0;
  constructor(private readonly text: string) {}

  fail(why: string): never {
    throw new JsonRefusal(`request body is not strict JSON: ${why} at offset ${this.at}`);
  }

  space(): void {
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.at++;
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_NESTING) this.fail(`nested deeper than ${MAX_NESTING}`);
    const c = this.text[this.at];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, literal] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return literal;
      }
    }
    return this.fail('unexpected character');
  }

  private object(depth: number): JsonValue {
    const out: { [key: string]: JsonValue } = Object.create(null);
    this.at++;
    this.space();
    if (this.text[this.at] === '}') {
      this.at++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.fail('expected a key');
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(`duplicate key "${key.slice(0, 40)}"`);
      this.space();
      if (this.text[this.at] !== ':') this.fail('expected ":"');
      this.at++;
      this.space();
      out[key] = this.value(depth + 1);
      this.space();
      const next = this.text[this.at++];
      if (next === '}') return out;
      if (next !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(depth: number): JsonValue {
    const out: JsonValue[] = [];
    this.at++;
    this.space();
    if (this.text[this.at] === ']') {
      this.at++;
      return out;
    }
    for (;;) {
      this.space();
      out.push(this.value(depth + 1));
      this.space();
      const next = this.text[this.at++];
      if (next === ']') return out;
      if (next !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    this.at++;
    let out = '';
    for (;;) {
      PLAIN_RUN.lastIndex = this.at;
      if (PLAIN_RUN.test(this.text)) {
        out += this.text.slice(this.at, PLAIN_RUN.lastIndex);
        this.at = PLAIN_RUN.lastIndex;
      }
      const c = this.text.charCodeAt(this.at);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) {
        this.at++;
        return out;
      }
      if (c < 0x20) this.fail('control character in a string');
      if (c >= 0xd800 && c <= 0xdfff) {
        // Surrogates in the decoded text come from valid UTF-8 only as pairs.
        out += this.text.slice(this.at, this.at + 2);
        this.at += 2;
        continue;
      }
      out += this.escape();
    }
  }

  private escape(): string {
    const kind = this.text[this.at + 1];
    if (kind !== 'u') {
      const plain = ESCAPES[kind];
      if (plain === undefined) this.fail('bad escape');
      this.at += 2;
      return plain;
    }
    const unit = this.hex4(this.at + 2);
    this.at += 6;
    if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('lone low surrogate');
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    if (this.text[this.at] !== '\\' || this.text[this.at + 1] !== 'u') this.fail('lone high surrogate');
    const low = this.hex4(this.at + 2);
    if (low < 0xdc00 || low > 0xdfff) this.fail('lone high surrogate');
    this.at += 6;
    return String.fromCharCode(unit, low);
  }

  private hex4(from: number): number {
    const digits = this.text.slice(from, from + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail('bad \\u escape');
    return parseInt(digits, 16);
  }

  private number(): number {
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.text);
    if (!m) return this.fail('bad number');
    this.at = NUMBER.lastIndex;
    const value = Number(m[0]);
    if (!Number.isFinite(value)) this.fail('number too large for a double');
    if (!m[2] && !m[3] && !Number.isSafeInteger(value)) this.fail('integer beyond 2^53 would not be forwarded exactly');
    return value;
  }
}
