import type { Clock, Timer } from './clock.js';

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  every: number;
  live: boolean;
}

/** A deterministic clock for tests and simulations: time moves only through advance(). */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private queue: Entry[] = [];
  constructor(start = 1_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, 0);
  }
  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }
  /** Move time forward by ms, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.queue = this.queue.filter((e) => e.live);
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > end) break;
      this.t = next.at;
      if (next.every > 0) next.at += next.every;
      else next.live = false;
      next.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.queue.filter((e) => e.live).length;
  }
  private add(fn: () => void, ms: number, every: number): Timer {
    const e: Entry = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, every, live: true };
    this.queue.push(e);
    return { cancel: () => { e.live = false; } };
  }
}
