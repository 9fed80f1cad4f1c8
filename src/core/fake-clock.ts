import type { Clock, Timer } from './clock.js';

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  every: number;
  live: boolean;
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A deterministic clock for tests and simulations: time moves only through advance() (or step()).
 *
 * Timers sit in a binary heap ordered by (due time, creation order): O(log n) per timer, so a simulation with
 * hundreds of thousands of timers stays cheap. Timers due at the same instant fire in the order they were
 * created; an interval keeps its place (its creation order) each time it is due again. Cancelled timers are
 * dropped lazily (when they reach the top, or in a compaction once they outnumber the live ones).
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private heap: Entry[] = [];
  private live = 0;
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
      const next = this.peekLive();
      if (!next || next.at > end) break;
      this.fire(next);
    }
    this.t = end;
  }
  /** When the next live timer is due (undefined when none is pending). */
  nextDue(): number | undefined {
    return this.peekLive()?.at;
  }
  /**
   * Fire the earliest pending timer (moving time to it); false when none is pending. Timers due at the same
   * instant fire one per call: a simulation can run other work (microtasks) in between, as an event loop would.
   */
  step(): boolean {
    const next = this.peekLive();
    if (!next) return false;
    this.fire(next);
    return true;
  }
  pending(): number {
    return this.live;
  }

  private fire(e: Entry): void {
    this.t = Math.max(this.t, e.at);
    this.pop();
    if (e.every > 0) {
      e.at += e.every;
      this.push(e);
    } else {
      e.live = false;
      this.live--;
    }
    e.fn();
  }

  /** The top of the heap after discarding cancelled entries. */
  private peekLive(): Entry | undefined {
    const h = this.heap;
    while (h.length > 0 && !h[0]!.live) this.pop();
    return h[0];
  }

  private add(fn: () => void, ms: number, every: number): Timer {
    const e: Entry = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, every, live: true };
    this.live++;
    this.push(e);
    if (this.heap.length > 64 && this.heap.length > 4 * this.live) this.compact();
    return {
      cancel: () => {
        if (!e.live) return;
        e.live = false;
        this.live--;
      },
    };
  }

  /** Drop every cancelled entry and rebuild the heap (amortised: only when they are the large majority). */
  private compact(): void {
    this.heap = this.heap.filter((e) => e.live);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (h.length === 0 || !last) return;
    h[0] = last;
    this.down(0);
  }

  private down(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(h[r]!, h[l]!) ? r : l;
      if (!less(h[c]!, e)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = e;
  }
}
