// Token usage from a provider response, streamed or not. Providers report cumulative counters
// (Anthropic in message_start and message_delta, OpenAI in the last chunk or response.completed,
// Gemini in every chunk), so the meter keeps the largest value seen for each counter.
const INPUT_KEYS = ['input_tokens', 'prompt_tokens', 'promptTokenCount', 'cache_creation_input_tokens', 'cache_read_input_tokens'];
const OUTPUT_KEYS = ['output_tokens', 'completion_tokens', 'candidatesTokenCount', 'thoughtsTokenCount'];
const MAX_JSON_BYTES = 8 * 1024 * 1024;
const MAX_SSE_LINE = 1024 * 1024;

export interface TokenCount {
  input: number;
  output: number;
}

export class UsageMeter {
  private readonly seen = new Map<string, number>();
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private partialLine = '';

  constructor(private readonly streaming: boolean) {}

  static forContentType(contentType: string | undefined): UsageMeter {
    return new UsageMeter(/text\/event-stream/i.test(contentType ?? ''));
  }

  feed(chunk: Buffer): void {
    if (this.streaming) {
      const text = this.partialLine + chunk.toString('utf8');
      const lines = text.split(/\r?\n/);
      this.partialLine = lines.pop() ?? '';
      if (this.partialLine.length > MAX_SSE_LINE) this.partialLine = '';
      for (const line of lines) this.sseLine(line);
    } else if (this.bufferedBytes < MAX_JSON_BYTES) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
  }

  finish(): TokenCount {
    if (this.streaming) this.sseLine(this.partialLine);
    else if (this.bufferedBytes > 0 && this.bufferedBytes < MAX_JSON_BYTES) this.json(Buffer.concat(this.buffered).toString('utf8'));
    this.buffered = [];
    const sum = (keys: string[]) => keys.reduce((n, k) => n + (this.seen.get(k) ?? 0), 0);
    return { input: sum(INPUT_KEYS), output: sum(OUTPUT_KEYS) };
  }

  private sseLine(line: string): void {
    if (line.startsWith('data:')) this.json(line.slice(5).trim());
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
      } else if (value && typeof value === 'object') {
        this.collect(value, depth + 1);
      }
    }
  }
}
