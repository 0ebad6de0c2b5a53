// Spending caps (--max-requests, --max-tokens) that hold under concurrency. A request reserves its
// share before a byte goes upstream: one request, and an estimate of its input tokens (a quarter of
// its body's bytes). Reservations are taken synchronously, so parallel requests cannot all see the
// same room and race past the cap. While a response streams, the tokens it has used so far (the
// provider's usage counters, or its streamed text when the counters come only at the end) count
// against the cap; a stream that takes the run over is cut. When a cap is reached the budget says so
// once, and the guard ends the agent: no 429 for the agent to retry for minutes.

export const BYTES_PER_TOKEN = 4;

export interface BudgetLimits {
  maxRequests?: number;
  maxTokens?: number;
}

export class BudgetExhausted extends Error {}

export class Reservation {
  private live?: number;
  private settled = false;

  constructor(
    private readonly budget: Budget,
    readonly estimate: number,
  ) {}

  /** Tokens this request has used so far (measured, replacing the estimate); false when that takes the run over the cap. */
  update(tokens: number): boolean {
    if (this.settled) return true;
    this.live = Math.max(this.live ?? 0, tokens);
    return this.budget.check();
  }

  /** The final count replaces the estimate. */
  settle(tokens: number): void {
    if (this.settled) return;
    this.settled = true;
    this.budget.settle(this, tokens);
  }

  /** Tokens this reservation holds against the cap while in flight. */
  get holding(): number {
    return this.settled ? 0 : (this.live ?? this.estimate);
  }
}

export class Budget {
  requests = 0;
  tokens = 0;
  private readonly open = new Set<Reservation>();
  private exhaustedReason?: string;

  constructor(
    readonly limits: BudgetLimits = {},
    private readonly onExhausted: (reason: string) => void = () => undefined,
  ) {}

  get exhausted(): string | undefined {
    return this.exhaustedReason;
  }

  /** Take one request and `estimate` tokens, or throw BudgetExhausted (the agent is then ended). */
  reserve(estimate: number): Reservation {
    if (this.exhaustedReason) throw new BudgetExhausted(this.exhaustedReason);
    const { maxRequests, maxTokens } = this.limits;
    if (maxRequests !== undefined && this.requests >= maxRequests) this.exhaust(`request budget of ${maxRequests} used up`);
    if (maxTokens !== undefined && this.inUse() + estimate > maxTokens) {
      this.exhaust(`token budget of ${maxTokens} used up (${this.inUse()} spent or in flight, this request needs about ${estimate} more)`);
    }
    this.requests++;
    const reservation = new Reservation(this, estimate);
    this.open.add(reservation);
    return reservation;
  }

  /** Whether spending so far is within the cap; reaching past it exhausts the budget. */
  check(): boolean {
    const { maxTokens } = this.limits;
    if (maxTokens === undefined || this.inUse() <= maxTokens) return true;
    try {
      this.exhaust(`token budget of ${maxTokens} used up (${this.inUse()} tokens)`);
    } catch {
      // reported through onExhausted
    }
    return false;
  }

  settle(reservation: Reservation, tokens: number): void {
    this.open.delete(reservation);
    this.tokens += tokens;
    this.check();
  }

  private inUse(): number {
    let total = this.tokens;
    for (const r of this.open) total += r.holding;
    return total;
  }

  private exhaust(reason: string): never {
    if (!this.exhaustedReason) {
      this.exhaustedReason = reason;
      this.onExhausted(reason);
    }
    throw new BudgetExhausted(this.exhaustedReason);
  }
}
