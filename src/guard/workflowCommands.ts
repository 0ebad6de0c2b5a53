// The runner reads workflow commands from a step's stdout and stderr. How it reads them decides what
// this filter must do (actions/runner ProcessInvoker.cs, dotnet Process.Unix.cs):
//   * each stream is a .NET StreamReader over the pipe, UTF-8 by default on Linux, created with
//     detectEncodingFromByteOrderMarks: a UTF-8, UTF-16 LE/BE or UTF-32 LE/BE byte-order mark at the
//     start of the stream switches the whole stream to that encoding; invalid UTF-8 becomes U+FFFD;
//   * lines are split at \n, \r or \r\n (ReadLine);
//   * `::name ...::data` is a command at the start of a line after TrimStart (Unicode white space),
//     and the legacy `##[name]data` is one anywhere in a line.
// An agent that printed `\xFF\xFE` and then UTF-16 text would have its commands decoded by the
// runner while a byte filter saw `:\0:\0`. So the guard first makes the stream plain UTF-8 that the
// runner can only read one way: invalid bytes and unfinished sequences become U+FFFD, byte-order
// marks (U+FEFF, in any position) become U+FFFD and NUL becomes U+2400 (␀). No output of this filter
// can start with a byte-order mark of any encoding, so the runner decodes exactly these bytes as
// UTF-8. Then every line the runner would parse as a command is broken with a zero-width space, so
// the text still reads the same in the log but is no longer a command.
// Streaming: nothing is held back except the bytes of a UTF-8 sequence cut by a chunk boundary.
const ZWSP = Buffer.from('\u200b', 'utf8');
const COLON = 0x3a;
const HASH = 0x23;
const BRACKET = 0x5b;
const LF = 0x0a;
const CR = 0x0d;

/** Code points the runner could misread: NUL and byte-order marks. */
// eslint-disable-next-line no-control-regex
const MISREADABLE = /[\u0000\ufeff]/g;

function isMaybeWhitespace(byte: number): boolean {
  // ASCII blanks (the information separators too, which some .NET versions trim), plus every
  // non-ASCII byte: Unicode white space such as U+00A0 or U+3000 is trimmed by the runner, and
  // treating all of them as blank only ever escapes a little more.
  return byte === 0x20 || byte === 0x09 || byte === 0x0b || byte === 0x0c || (byte >= 0x1c && byte <= 0x1f) || byte >= 0x80;
}

/** Turns any byte stream into UTF-8 without byte-order marks or NULs, holding back only a cut sequence. */
export class Utf8Sanitizer {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  transform(chunk: Buffer): Buffer {
    return this.clean(this.decoder.decode(chunk, { stream: true }), chunk);
  }

  /** What is left at the end of the stream: an unfinished sequence becomes U+FFFD. */
  end(): Buffer {
    return this.clean(this.decoder.decode(), Buffer.alloc(0));
  }

  private clean(text: string, original: Buffer): Buffer {
    const safe = text.replace(MISREADABLE, (c) => (c === '\0' ? '\u2400' : '\ufffd'));
    const out = Buffer.from(safe, 'utf8');
    // Valid UTF-8 in, the same bytes out: hand back the caller's buffer when nothing changed.
    return out.equals(original) ? original : out;
  }
}

export class WorkflowCommandNeutralizer {
  private readonly sanitizer = new Utf8Sanitizer();
  /** 0: only blanks so far on this line, 1: blanks then one ':', 2: anything else. */
  private lineState = 0;
  private last1 = LF;
  private last2 = LF;

  get atLineStart(): boolean {
    return this.last1 === LF || this.last1 === CR;
  }

  transform(chunk: Buffer): Buffer {
    return this.neutralize(this.sanitizer.transform(chunk));
  }

  /** Call once when the stream ends: flushes a cut UTF-8 sequence as U+FFFD. */
  end(): Buffer {
    return this.neutralize(this.sanitizer.end());
  }

  private neutralize(chunk: Buffer): Buffer {
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
        this.last1 = ZWSP[ZWSP.length - 1];
      }
      this.last2 = this.last1;
      this.last1 = byte;
    }
    if (positions.length === 0) return chunk;
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

/**
 * One line of the guard's own log that quotes agent-chosen text (a route, a model name): control
 * characters are made visible, so the text cannot start a new line, and the line cannot be read as
 * a workflow command.
 */
export function logSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  const visible = text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029\ufeff]/g, (c) => {
    const cp = c.charCodeAt(0);
    return cp < 0x20 ? String.fromCharCode(0x2400 + cp) : cp === 0x7f ? '\u2421' : '\ufffd';
  });
  return visible.replace(/##\[/g, '##\u200b[').replace(/^(\s*):(?=:)/, '$1:\u200b');
}
