// A short-lived credential (an exchanged OIDC token, a Google access token) kept fresh: minted once
// before the agent starts, minted again when less than a tenth of its life (at least a minute) is
// left, and never by two requests at once.
export interface MintedToken {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const MIN_MARGIN_MS = 60_000;

export class RefreshingToken {
  private current?: MintedToken & { refreshAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly mint: () => Promise<MintedToken>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token valid now; mints a new one when the current one is due. */
  async get(): Promise<string> {
    const current = this.current;
    if (current && this.now() < current.refreshAt) return current.token;
    this.pending ??= this.refresh().finally(() => (this.pending = undefined));
    try {
      return await this.pending;
    } catch (err) {
      // A failed refresh keeps a token that has not expired yet.
      if (current && this.now() < current.expiresAt) return current.token;
      throw err;
    }
  }

  private async refresh(): Promise<string> {
    const issued = this.now();
    const minted = await this.mint();
    const life = minted.expiresAt - issued;
    const margin = Math.min(Math.max(MIN_MARGIN_MS, life / 10), life / 2);
    this.current = { ...minted, refreshAt: minted.expiresAt - margin };
    return minted.token;
  }
}
