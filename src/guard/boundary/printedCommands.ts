// A file the agent wrote becomes a later step's output the moment that step prints it (`cat
// report.md`), and the runner reads workflow commands from every step's output. The guard breaks the
// agent's own commands as they stream (workflowCommands.ts), but a file comes back as the agent wrote
// it. This finds the commands that would steer the job from a printed file: setting the printing
// step's outputs or state, the environment or PATH, a problem matcher, or stopping command processing
// (which would let that step's own `::add-mask::` fail and its secret print in clear). Annotations and
// add-mask only show text.
//
// Read as the runner reads a stream (actions/runner ProcessInvoker.cs, ActionCommandManager.cs): a
// byte-order mark at the start selects UTF-8, UTF-16 or UTF-32 (when the file is the first thing the
// step prints), else UTF-8; lines split at \r and \n; `::name` at the start of a line after white
// space, or `##[name` anywhere; command names in any case.

const STEERING = 'set-output|save-state|set-env|add-path|add-matcher|stop-commands';
// The line before the command must have ended: the carry of a long line is prefixed so `^` misses.
const V2 = new RegExp(`(?:^|[\\r\\n])[^\\S\\r\\n]*::(${STEERING})(?=[\\s:])`, 'i');
const LEGACY = new RegExp(`##\\[(${STEERING})(?=[\\s\\];])`, 'i');
// A line longer than this is kept as its tail only: no longer at a line start, still searched for `##[`.
const CARRY = 4096;
const NOT_LINE_START = '\u0001';

type Reading = { decode(chunk: Buffer, last: boolean): string };

function textReading(encoding: 'utf-8' | 'utf-16le' | 'utf-16be'): Reading {
  const decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: true });
  return { decode: (chunk, last) => decoder.decode(chunk, { stream: !last }) };
}

function utf32Reading(littleEndian: boolean): Reading {
  let held = Buffer.alloc(0);
  return {
    decode(chunk, last) {
      const bytes = Buffer.concat([held, chunk]);
      const whole = bytes.length - (bytes.length % 4);
      held = last ? Buffer.alloc(0) : bytes.subarray(whole);
      let out = '';
      for (let i = 0; i < whole; i += 4) {
        const cp = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
        out += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
      }
      return out;
    },
  };
}

/** The reading a byte-order mark selects, and how many bytes it takes; undefined for none. */
function markedReading(head: Buffer): { reading: Reading; skip: number } | undefined {
  const starts = (...b: number[]) => head.length >= b.length && b.every((x, i) => head[i] === x);
  if (starts(0xff, 0xfe, 0x00, 0x00)) return { reading: utf32Reading(true), skip: 4 };
  if (starts(0x00, 0x00, 0xfe, 0xff)) return { reading: utf32Reading(false), skip: 4 };
  if (starts(0xff, 0xfe)) return { reading: textReading('utf-16le'), skip: 2 };
  if (starts(0xfe, 0xff)) return { reading: textReading('utf-16be'), skip: 2 };
  if (starts(0xef, 0xbb, 0xbf)) return { reading: textReading('utf-8'), skip: 3 };
  return undefined;
}

/** Fed a file's bytes in order; says which steering command, if any, the runner would read from it. */
export class PrintedCommandScan {
  private reading: Reading | undefined;
  private head = Buffer.alloc(0);
  private carry = '';
  private found: string | undefined;

  push(chunk: Buffer): void {
    if (this.found) return;
    if (!this.reading) {
      // Four bytes decide the mark; a file shorter than that is handled by end().
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 4) return;
      const marked = markedReading(this.head);
      this.reading = marked?.reading ?? textReading('utf-8');
      chunk = this.head.subarray(marked?.skip ?? 0);
      this.head = Buffer.alloc(0);
    }
    this.search(this.reading.decode(chunk, false));
  }

  /** The steering command found (`set-output`, …), or undefined. */
  end(): string | undefined {
    if (!this.reading) {
      const marked = markedReading(this.head);
      this.reading = marked?.reading ?? textReading('utf-8');
      this.head = this.head.subarray(marked?.skip ?? 0);
    }
    if (!this.found) this.search(this.reading.decode(this.head, true));
    return this.found;
  }

  private search(text: string): void {
    if (this.found) return;
    const all = this.carry + text;
    const match = V2.exec(all) ?? LEGACY.exec(all);
    if (match) {
      this.found = match[1].toLowerCase();
      return;
    }
    const lineStart = Math.max(all.lastIndexOf('\n'), all.lastIndexOf('\r')) + 1;
    const open = all.slice(lineStart);
    this.carry = open.length <= CARRY ? open : NOT_LINE_START + open.slice(-64);
  }
}

/** The steering command a later step printing `bytes` would hand the runner, or undefined. */
export function printedCommand(bytes: Buffer): string | undefined {
  const scan = new PrintedCommandScan();
  scan.push(bytes);
  return scan.end();
}

export function printedCommandReason(command: string): string {
  return `a later step that prints it (cat) would hand the runner its ${command} workflow command`;
}
