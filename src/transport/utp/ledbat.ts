/**
 * LEDBAT congestion control for uTP (BEP 29; RFC 6817), the way libtorrent and libutp apply it: the one-way
 * delay reported back by the peer (timestamp_difference_microseconds) minus the lowest delay seen recently
 * (the base delay) is our queueing delay; the window grows while it is below the 100 ms target and shrinks
 * above it, so uTP yields to TCP and to anything latency-sensitive on the same bottleneck. See NOTES.md.
 * Pure: time comes in as microseconds, nothing is scheduled here.
 */

export interface LedbatOptions {
  /** Queueing delay we aim for (µs). BEP 29 / libtorrent: 100 ms. */
  targetUs?: number;
  /** Most the window may grow per RTT in congestion avoidance (bytes). libtorrent: 3000. */
  gainBytes?: number;
  /** Packet size, for the minimum and initial windows (bytes on the wire). */
  mss?: number;
  /** Initial window (bytes); slow start doubles it per RTT from here. */
  initialCwnd?: number;
  /** Upper bound on the window (bytes). */
  maxCwnd?: number;
  /** Length of one base-delay history slot (µs): one minute. */
  historySlotUs?: number;
  /** Slots kept: the base delay is the minimum over about this many minutes. */
  historySlots?: number;
}

const DEFAULTS = {
  targetUs: 100_000,
  gainBytes: 3000,
  mss: 1400,
  maxCwnd: 16 * 1024 * 1024,
  historySlotUs: 60_000_000,
  historySlots: 2,
};

/** Signed difference of two u32 timestamps (a - b), for wrap-around-safe minimum tracking. */
function diff32(a: number, b: number): number {
  return (a - b) | 0;
}

export class Ledbat {
  readonly targetUs: number;
  readonly gainBytes: number;
  mss: number;
  readonly maxCwnd: number;
  /** Congestion window in bytes (fractional while growing). */
  cwnd: number;
  ssthresh = Infinity;
  slowStart = true;
  /** Latest filtered queueing delay (µs), for stats and tests. */
  ourDelayUs = 0;
  private readonly slotUs: number;
  private readonly history: number[];
  private histIdx = 0;
  private histStart = -1;
  private base = 0;
  private haveBase = false;
  /** The last three raw samples; the minimum of them filters out single delayed packets. */
  private readonly recent = [0, 0, 0];
  private recentN = 0;

  constructor(o: LedbatOptions = {}) {
    this.targetUs = o.targetUs ?? DEFAULTS.targetUs;
    this.gainBytes = o.gainBytes ?? DEFAULTS.gainBytes;
    this.mss = o.mss ?? DEFAULTS.mss;
    this.maxCwnd = o.maxCwnd ?? DEFAULTS.maxCwnd;
    this.cwnd = o.initialCwnd ?? 2 * this.mss;
    this.slotUs = o.historySlotUs ?? DEFAULTS.historySlotUs;
    this.history = new Array<number>(Math.max(1, o.historySlots ?? DEFAULTS.historySlots)).fill(Number.NaN);
  }

  get minCwnd(): number {
    return this.mss;
  }

  get baseDelay(): number | undefined {
    return this.haveBase ? this.base : undefined;
  }

  /**
   * Feed one delay sample: the peer's timestamp_difference (u32, clock offset included; only differences
   * between samples matter). Returns the filtered queueing delay in µs.
   */
  onDelaySample(sample: number, nowUs: number): number {
    sample >>>= 0;
    if (this.histStart < 0) this.histStart = nowUs;
    while (nowUs - this.histStart >= this.slotUs) {
      // A new minute: drop the oldest slot so an old, lower base (a route change, clock drift) ages out.
      this.histStart += this.slotUs;
      this.histIdx = (this.histIdx + 1) % this.history.length;
      this.history[this.histIdx] = Number.NaN;
      this.recomputeBase();
    }
    const cur = this.history[this.histIdx]!;
    if (Number.isNaN(cur) || diff32(sample, cur) < 0) this.history[this.histIdx] = sample;
    if (!this.haveBase || diff32(sample, this.base) < 0) {
      this.base = sample;
      this.haveBase = true;
    }
    const d = Math.max(0, diff32(sample, this.base));
    this.recent[this.recentN++ % 3] = d;
    const n = Math.min(this.recentN, 3);
    let m = this.recent[0]!;
    for (let i = 1; i < n; i++) m = Math.min(m, this.recent[i]!);
    this.ourDelayUs = m;
    return m;
  }

  private recomputeBase(): void {
    this.haveBase = false;
    for (const h of this.history) {
      if (Number.isNaN(h)) continue;
      if (!this.haveBase || diff32(h, this.base) < 0) {
        this.base = h;
        this.haveBase = true;
      }
    }
  }

  /**
   * Bytes newly acknowledged. `cwndLimited`: the sender had more to send than the window allowed (the window
   * only grows when it is what limits us, as libtorrent's m_cwnd_full).
   */
  onAck(ackedBytes: number, cwndLimited: boolean): void {
    if (ackedBytes <= 0) return;
    const delay = this.ourDelayUs;
    if (this.slowStart) {
      if (delay > (this.targetUs * 3) / 4) {
        // Queueing is building: leave slow start before we overshoot the target.
        this.slowStart = false;
        this.ssthresh = this.cwnd;
      } else {
        if (cwndLimited) this.cwnd = Math.min(this.maxCwnd, this.cwnd + ackedBytes);
        if (this.cwnd >= this.ssthresh) this.slowStart = false;
        return;
      }
    }
    // RFC 6817: off_target is not clamped below, so the further above target the faster we yield, but the
    // decrease is bounded to TCP's (at most half the window per RTT: half of each ACK's bytes).
    const offTarget = (this.targetUs - delay) / this.targetUs;
    if (offTarget > 0 && !cwndLimited) return;
    const windowFactor = Math.min(ackedBytes, this.cwnd) / this.cwnd;
    let delta = this.gainBytes * offTarget * windowFactor;
    if (delta < -ackedBytes / 2) delta = -ackedBytes / 2;
    this.cwnd += delta;
    if (this.cwnd < this.minCwnd) this.cwnd = this.minCwnd;
    if (this.cwnd > this.maxCwnd) this.cwnd = this.maxCwnd;
  }

  /** A packet was lost (duplicate ACKs or a SACK hole): multiplicative decrease, at most once per window. */
  onLoss(): void {
    this.cwnd = Math.max(this.minCwnd, this.cwnd / 2);
    this.ssthresh = this.cwnd;
    this.slowStart = false;
  }

  /** Retransmission timeout: back to one packet, and slow start up to half the old window. */
  onTimeout(): void {
    this.ssthresh = Math.max(2 * this.minCwnd, this.cwnd / 2);
    this.cwnd = this.minCwnd;
    this.slowStart = true;
  }
}
