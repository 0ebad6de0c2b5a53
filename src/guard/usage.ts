// Token usage from a provider response, streamed or not. Providers report cumulative counters
// (Anthropic in message_start and message_delta, OpenAI in the last chunk or response.completed,
// Gemini in every chunk), so the meter keeps the largest value seen for each counter. Output counters
// often come only at the end of a stream, so while it streams the meter also estimates output from
// the generated text it has seen (a token per four characters), so that a budget can cut a stream
// that goes over. Bedrock streams in AWS's binary event-stream framing: each frame's payload carries
// the provider's own event, base64-encoded.
import { BYTES_PER_TOKEN } from './budget';

const INPUT_KEYS = ['input_tokens', 'prompt_tokens', 'promptTokenCount', 'cache_creation_input_tokens', 'cache_read_input_tokens'];
const OUTPUT_KEYS = ['output_tokens', 'completion_tokens', 'candidatesTokenCount', 'thoughtsTokenCount'];
// Fields of a streamed delta that hold generated text (Anthropic, OpenAI chat and Responses).
const GENERATED_TEXT_KEYS = ['text', 'partial_json', 'thinking', 'content', 'arguments', 'refusal'];
const MAX_JSON_BYTES = 8 * 1024 * 1024;
const MAX_SSE_LINE = 1024 * 1024;
const MAX_FRAME = 16 * 1024 * 1024;

export interface TokenCount {
  input: number;
  output: number;
}

type Framing = 'json' | 'sse' | 'eventstream';

export class UsageMeter {
  private readonly seen = new Map<string, number>();
  private generatedChars = 0;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private partialLine = '';
  private pendingFrame = Buffer.alloc(0);

  constructor(private readonly framing: Framing) {}

  static forContentType(contentType: string | undefined): UsageMeter {
    const type = contentType ?? '';
    if (/text\/event-stream/i.test(type)) return new UsageMeter('sse');
    if (/application\/vnd\.amazon\.eventstream/i.test(type)) return new UsageMeter('eventstream');
    return new UsageMeter('json');
  }

  feed(chunk: Buffer): void {
    if (this.framing === 'sse') {
      const text = this.partialLine + chunk.toString('utf8');
      const lines = text.split(/\r?\n/);
      this.partialLine = lines.pop() ?? '';
      if (this.partialLine.length > MAX_SSE_LINE) this.partialLine = '';
      for (const line of lines) this.sseLine(line);
    } else if (this.framing === 'eventstream') {
      this.frames(chunk);
    } else if (this.bufferedBytes < MAX_JSON_BYTES) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
  }

  /** Usage so far: reported counters, with output at least what the streamed text suggests. */
  current(): TokenCount {
    const sum = (keys: string[]) => keys.reduce((n, k) => n + (this.seen.get(k) ?? 0), 0);
    return { input: sum(INPUT_KEYS), output: Math.max(sum(OUTPUT_KEYS), Math.ceil(this.generatedChars / BYTES_PER_TOKEN)) };
  }

  finish(): TokenCount {
    if (this.framing === 'sse') this.sseLine(this.partialLine);
    else if (this.framing === 'json' && this.bufferedBytes > 0 && this.bufferedBytes < MAX_JSON_BYTES) this.json(Buffer.concat(this.buffered).toString('utf8'));
    this.buffered = [];
    const sum = (keys: string[]) => keys.reduce((n, k) => n + (this.seen.get(k) ?? 0), 0);
    const reported = sum(OUTPUT_KEYS);
    // The provider's final output counter is the truth when it has one; the estimate otherwise.
    return { input: sum(INPUT_KEYS), output: reported > 0 ? reported : Math.ceil(this.generatedChars / BYTES_PER_TOKEN) };
  }

  private sseLine(line: string): void {
    if (line.startsWith('data:')) this.json(line.slice(5).trim());
  }

  /** AWS event-stream frames: 4-byte total length, 4-byte headers length, CRC, headers, payload, CRC. */
  private frames(chunk: Buffer): void {
    let data = this.pendingFrame.length ? Buffer.concat([this.pendingFrame, chunk]) : chunk;
    while (data.length >= 12) {
      const total = data.readUInt32BE(0);
      const headers = data.readUInt32BE(4);
      if (total < 16 || total > MAX_FRAME || headers > total - 16) {
        data = Buffer.alloc(0);
        break;
      }
      if (data.length < total) break;
      const payload = data.subarray(12 + headers, total - 4).toString('utf8');
      data = data.subarray(total);
      try {
        const event = JSON.parse(payload) as { bytes?: unknown };
        if (typeof event.bytes === 'string') this.json(Buffer.from(event.bytes, 'base64').toString('utf8'));
        else this.collect(event, 0);
      } catch {
        // A frame that is not JSON (an exception frame's text): nothing to count.
      }
    }
    this.pendingFrame = Buffer.from(data);
  }

  private json(text: string): void {
    if (!text || text[0] !== '{' && text[0] !== '[') return;
    try {
      this.collect(JSON.parse(text), 0);
    } catch {
      // Not JSON (e.g. "[DONE]"): nothing to count.
    }
  }

  private collect(node: unknown, depth: number): void {
    if (!node || typeof node !== 'object' || depth > 6) return;
    if (Array.isArray(node)) {
      for (const item of node) this.collect(item, depth + 1);
      return;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if ((key === 'usage' || key === 'usageMetadata') && value && typeof value === 'object') {
        for (const [name, n] of Object.entries(value as Record<string, unknown>)) {
          if (typeof n === 'number' && Number.isFinite(n) && n >= 0 && n > (this.seen.get(name) ?? -1)) this.seen.set(name, n);
        }
      } else if (key === 'delta') {
        this.countGenerated(value);
      } else if (value && typeof value === 'object') {
        this.collect(value, depth + 1);
      }
    }
  }

  private countGenerated(delta: unknown): void {
    if (typeof delta === 'string') {
      this.generatedChars += delta.length;
      return;
    }
    if (!delta || typeof delta !== 'object') return;
    for (const key of GENERATED_TEXT_KEYS) {
      const text = (delta as Record<string, unknown>)[key];
      if (typeof text === 'string') this.generatedChars += text.length;
    }
  }
}
