// The runner reads workflow commands from a step's stdout and stderr: `::name ...::data` at the
// start of a line (after .NET TrimStart) and the legacy `##[name]data` anywhere in a line, with
// lines split at \n, \r or \r\n. An agent printing them could set outputs, add masks, stop command
// processing or raise annotations. This neutraliser breaks both forms with a zero-width space, so
// the text still reads the same in the log but the runner no longer recognises a command.
// It works on bytes and never buffers: a line is forwarded as soon as it arrives.
const ZWSP = Buffer.from('\u200b', 'utf8');
const COLON = 0x3a;
const HASH = 0x23;
const BRACKET = 0x5b;
const LF = 0x0a;
const CR = 0x0d;

function isMaybeWhitespace(byte: number): boolean {
  // ASCII blanks, plus every non-ASCII byte: Unicode whitespace such as U+00A0 or U+3000 is
  // trimmed by the runner, and treating all of them as blank only ever escapes a little more.
  return byte === 0x20 || byte === 0x09 || byte === 0x0b || byte === 0x0c || byte >= 0x80;
}

export class WorkflowCommandNeutralizer {
  /** 0: only blanks so far on this line, 1: blanks then one ':', 2: anything else. */
  private lineState = 0;
  private last1 = LF;
  private last2 = LF;

  get atLineStart(): boolean {
    return this.last1 === LF || this.last1 === CR;
  }

  transform(chunk: Buffer): Buffer {
    let inserts = 0;
    const positions: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      let escape = false;
      if (byte === LF || byte === CR) {
        this.lineState = 0;
      } else if (this.lineState === 0) {
        this.lineState = byte === COLON ? 1 : isMaybeWhitespace(byte) ? 0 : 2;
      } else if (this.lineState === 1) {
        escape = byte === COLON;
        this.lineState = 2;
      }
      if (byte === BRACKET && this.last1 === HASH && this.last2 === HASH) escape = true;
      if (escape) {
        positions.push(i);
        inserts++;
        this.last2 = ZWSP[ZWSP.length - 2];
        this.last1 = ZWSP[ZWSP.length - 1];
      }
      this.last2 = this.last1;
      this.last1 = byte;
    }
    if (inserts === 0) return chunk;
    const parts: Buffer[] = [];
    let from = 0;
    for (const at of positions) {
      parts.push(chunk.subarray(from, at), ZWSP);
      from = at;
    }
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }
}
