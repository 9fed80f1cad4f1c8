import type { Clock, Timer } from './clock.js';

/** The production clock: performance.now-based time and Node timers (unref'd so they never hold the process). */
export class NodeClock implements Clock {
  private readonly origin = Date.now() - performance.now();
  now(): number {
    return this.origin + performance.now();
  }
  setTimeout(fn: () => void, ms: number): Timer {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  }
  setInterval(fn: () => void, ms: number): Timer {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  }
}
