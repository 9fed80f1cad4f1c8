/** Injected time source. Only core/ may use Date.now / setTimeout / setInterval directly. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic enough for rate and timeout bookkeeping. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
}
