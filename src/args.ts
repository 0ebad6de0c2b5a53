// Command-line flags as every command reads them: `--flag value` or `--flag=value`. Each command
// keeps its own switch and its own error type; this is only the walk.

export class ArgReader {
  private i = -1;

  /** `missing` makes the error for a flag given last with no value. */
  constructor(
    private readonly args: readonly string[],
    private readonly missing: (message: string) => Error,
  ) {}

  /** Moves to the next argument; false past the last. */
  next(): boolean {
    this.i++;
    return this.i < this.args.length;
  }

  /** The current argument, whole. */
  get arg(): string {
    return this.args[this.i];
  }

  /** The current argument up to the `=` of a `--flag=value`, else the argument itself. */
  get flag(): string {
    const eq = this.eq();
    return eq > 0 ? this.arg.slice(0, eq) : this.arg;
  }

  /** The current flag's value: what follows its `=`, else the next argument, which is taken. */
  value(): string {
    const eq = this.eq();
    if (eq > 0) return this.arg.slice(eq + 1);
    if (this.i + 1 >= this.args.length) throw this.missing(`${this.flag} needs a value`);
    return this.args[++this.i];
  }

  /** The arguments after the current one (what follows `--`). */
  rest(): string[] {
    return this.args.slice(this.i + 1);
  }

  private eq(): number {
    return this.arg.startsWith('--') ? this.arg.indexOf('=') : -1;
  }
}
