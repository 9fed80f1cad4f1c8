/** Bytes-per-second over a sliding window of one-second buckets; time is passed in (no clock access). */
export class RateMeter {
  private readonly buckets: Float64Array;
  private head = 0;
  private headSecond = -1;
  total = 0;
  constructor(private readonly windowSeconds = 5) {
    this.buckets = new Float64Array(windowSeconds);
  }
  add(bytes: number, nowMs: number): void {
    this.roll(nowMs);
    this.buckets[this.head] = this.buckets[this.head]! + bytes;
    this.total += bytes;
  }
  /** Bytes per second averaged over the window. */
  rate(nowMs: number): number {
    this.roll(nowMs);
    let s = 0;
    for (let i = 0; i < this.buckets.length; i++) s += this.buckets[i]!;
    return s / this.windowSeconds;
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
