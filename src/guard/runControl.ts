// Two small things runGuarded hands to the jail runner: a way for the proxy to end the agent when a
// budget runs out (the reason becomes the guard's one line and exit code), and the tail of what the
// agent printed, to recognise "not logged in" and name the provider to add.

/** Ends the jail early (a budget ran out); the reason becomes the guard's one line. */
export class JailStop {
  reason?: string;
  private handler?: () => void;
  request(reason: string): void {
    if (this.reason) return;
    this.reason = reason;
    this.handler?.();
  }
  onRequest(handler: () => void): void {
    this.handler = handler;
    if (this.reason) handler();
  }
}

/** The last bytes the agent printed, to recognise "not logged in" and name the provider to add. */
export class OutputTail {
  private text = '';
  add(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-16 * 1024);
  }
  toString(): string {
    return this.text;
  }
}
