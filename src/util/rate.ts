/** Bytes-per-second over a sliding window of one-second buckets; time is passed in (no clock access). */
export class RateMeter {
  private readonly buckets: Float64Array;
  private head = 0;
  private headSecond = -1;
  private firstMs = -1;
  total = 0;
  constructor(private readonly windowSeconds = 5) {
    this.buckets = new Float64Array(windowSeconds);
  }
  add(bytes: number, nowMs: number): void {
    if (this.firstMs < 0) this.firstMs = nowMs;
    this.roll(nowMs);
    this.buckets[this.head] = this.buckets[this.head]! + bytes;
    this.total += bytes;
  }
  /** Bytes per second averaged over the window (or over the time since the first byte, when shorter). */
  rate(nowMs: number): number {
    this.roll(nowMs);
    let s = 0;
    for (let i = 0; i < this.buckets.length; i++) s += this.buckets[i]!;
    if (s === 0) return 0;
    const span = Math.min(this.windowSeconds, Math.max(1, (nowMs - this.firstMs) / 1000));
    return s / span;
  }
  private roll(nowMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    if (this.headSecond < 0) {
      this.headSecond = sec;
      return;
    }
    const steps = Math.min(sec - this.headSecond, this.buckets.length);
    for (let i = 0; i < steps; i++) {
      this.head = (this.head + 1) % this.buckets.length;
      this.buckets[this.head] = 0;
    }
    if (sec > this.headSecond) this.headSecond = sec;
  }
}
