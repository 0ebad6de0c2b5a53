// A model of how the Actions runner reads a step's output (actions/runner ProcessInvoker.cs over
// .NET's StreamReader): UTF-8 unless a byte-order mark at the very start of the stream selects
// UTF-8, UTF-16 LE/BE or UTF-32 LE/BE; lines split at \r\n, \r or \n; `::` at the start of a line
// after white space, or `##[` anywhere, is a workflow command. JavaScript's trimStart trims at least
// what .NET's TrimStart does (and U+FEFF too), so the model finds every command the runner would.

function decodeUtf32(bytes: Buffer, littleEndian: boolean): string {
  let out = '';
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const cp = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    out += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
  }
  return out;
}

/** The text the runner would decode from a stream's bytes. */
export function runnerDecode(bytes: Buffer): string {
  const starts = (...b: number[]) => b.every((x, i) => bytes[i] === x);
  if (starts(0xef, 0xbb, 0xbf)) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (starts(0xff, 0xfe, 0x00, 0x00)) return decodeUtf32(bytes.subarray(4), true);
  if (starts(0x00, 0x00, 0xfe, 0xff)) return decodeUtf32(bytes.subarray(4), false);
  if (starts(0xff, 0xfe)) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (starts(0xfe, 0xff)) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
}

/** The lines of a stream the runner would run as workflow commands. */
export function runnerCommands(bytes: Buffer): string[] {
  return runnerDecode(bytes)
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trimStart().startsWith('::') || line.includes('##['));
}

export function utf16(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = order === 'le' ? le : Buffer.from(le).swap16();
  return bom ? Buffer.concat([Buffer.from(order === 'le' ? [0xff, 0xfe] : [0xfe, 0xff]), body]) : body;
}

export function utf32(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const cps = [...(bom ? '\ufeff' : '') + text].map((c) => c.codePointAt(0) as number);
  const out = Buffer.alloc(cps.length * 4);
  cps.forEach((cp, i) => (order === 'le' ? out.writeUInt32LE(cp, i * 4) : out.writeUInt32BE(cp, i * 4)));
  return out;
}
