/**
 * TorrentRate: a torrent's own rate limits and the budgets requests and uploads spend from (its own bucket plus
 * the engine's global one), with the single timer that wakes the torrent when a spent budget can be spent again.
 */
import type { Clock, Timer } from '../core/index.js';
import { BtError } from '../core/index.js';
import { Budget, TokenBucket } from '../util/index.js';
import type { RateLimits } from './types.js';

export class TorrentRate {
  private readonly downLimit = new TokenBucket();
  private readonly upLimit = new TokenBucket();
  /** Requests spend from this when they are sent. */
  readonly download: Budget;
  /** Uploads spend from this when a block is committed. */
  readonly upload: Budget;
  private timer: Timer | undefined;

  /** `global`: the engine's buckets (shared by every torrent); `wake`: call when a budget can be spent again. */
  constructor(
    private readonly clock: Clock,
    global: { download: TokenBucket; upload: TokenBucket } | undefined,
    private readonly wake: () => void,
  ) {
    this.download = new Budget(global ? [this.downLimit, global.download] : [this.downLimit]);
    this.upload = new Budget(global ? [this.upLimit, global.upload] : [this.upLimit]);
  }

  get limits(): RateLimits {
    return { download: this.downLimit.rate, upload: this.upLimit.rate };
  }

  /** Change the limits (bytes per second of piece data; 0 = none); throws ERR_SETTINGS for a bad value. */
  setLimits(limits: Partial<RateLimits>): void {
    for (const [k, v] of Object.entries(limits)) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new BtError('ERR_SETTINGS', `rate limit ${k} must be >= 0 bytes per second, not ${v}`, { field: k });
    }
    if (limits.download !== undefined) this.downLimit.setRate(limits.download);
    if (limits.upload !== undefined) this.upLimit.setRate(limits.upload);
  }

  /** Come back (call `wake`) when the budget that stopped us can be spent again; one timer at a time. */
  waitFor(b: Budget): void {
    if (this.timer) return;
    const ms = Math.max(5, b.msUntilSpendable(this.clock.now()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, ms);
  }

  /** Forget a pending wake-up (the torrent is woken now, or stops). */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
