/**
 * Rate limiting: a token bucket that may go into debt, and a Budget that draws on several buckets at once
 * (the engine's global limit and a torrent's own). Pure: time comes in as milliseconds.
 *
 * A bucket holds up to `burst` bytes and refills at `rate` bytes per second. Spending is allowed while the balance
 * is positive and may take it below zero (a 16 KiB block is never split, and nothing starves behind a large
 * request); the debt is paid back by the refill before the next spend, so over any long window the bytes spent
 * are rate × time + burst at most. Rate 0 means unlimited.
 */
export class TokenBucket {
  private balance: number;
  private last: number | undefined;

  constructor(
    private rateValue = 0,
    private burstValue = 0,
  ) {
    this.balance = this.burst;
  }

  /** Bytes per second; 0 = unlimited. */
  get rate(): number {
    return this.rateValue;
  }

  /** Most bytes that can be spent at once after a quiet period: the given burst, or a quarter second at the rate (≥ 16 KiB). */
  get burst(): number {
    return this.burstValue > 0 ? this.burstValue : Math.max(16 * 1024, Math.floor(this.rateValue / 4));
  }

  get unlimited(): boolean {
    return this.rateValue <= 0;
  }

  /** Change the rate (0 = unlimited); the balance is kept, capped at the new burst. */
  setRate(rate: number, burst = 0): void {
    if (!(Number.isFinite(rate) && rate >= 0)) throw new RangeError(`rate must be a non-negative number of bytes per second, not ${rate}`);
    this.rateValue = rate;
    this.burstValue = burst;
    this.balance = Math.min(this.balance, this.burst);
  }

  private refill(now: number): void {
    if (this.last !== undefined && now > this.last) this.balance = Math.min(this.burst, this.balance + ((now - this.last) * this.rateValue) / 1000);
    this.last = now;
  }

  /** May bytes be spent now? */
  canSpend(now: number): boolean {
    if (this.unlimited) return true;
    this.refill(now);
    return this.balance > 0;
  }

  /** Spend n bytes (the balance may go negative). */
  spend(n: number, now: number): void {
    if (this.unlimited) return;
    this.refill(now);
    this.balance -= n;
  }

  /** The balance now (Infinity when unlimited). */
  available(now: number): number {
    if (this.unlimited) return Infinity;
    this.refill(now);
    return this.balance;
  }

  /** Milliseconds until canSpend() is true again (0 if it is). */
  msUntilSpendable(now: number): number {
    if (this.unlimited) return 0;
    this.refill(now);
    return this.balance > 0 ? 0 : Math.ceil(((1 - this.balance) * 1000) / this.rateValue);
  }
}

/** Several buckets spent together: spendable when every bucket is. */
export class Budget {
  constructor(private readonly buckets: readonly TokenBucket[]) {}

  get unlimited(): boolean {
    return this.buckets.every((b) => b.unlimited);
  }

  canSpend(now: number): boolean {
    return this.buckets.every((b) => b.canSpend(now));
  }

  spend(n: number, now: number): void {
    for (const b of this.buckets) b.spend(n, now);
  }

  /** The smallest balance of the buckets (Infinity when all are unlimited). */
  available(now: number): number {
    let a = Infinity;
    for (const b of this.buckets) a = Math.min(a, b.available(now));
    return a;
  }

  msUntilSpendable(now: number): number {
    let ms = 0;
    for (const b of this.buckets) ms = Math.max(ms, b.msUntilSpendable(now));
    return ms;
  }
}
