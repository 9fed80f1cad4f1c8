/**
 * CheckSlots: how many torrents check their data at once, engine-wide. A torrent waits (in 'checking') for a slot
 * before it hashes or loads resume data, so starting 1,000 torrents at once keeps a bounded number of checks (and
 * their file handles, reads and buffers) in flight instead of thousands of file operations queued together, which
 * stalled the event loop for seconds. First come, first served.
 */
export class CheckSlots {
  private active = 0;
  /** Waiters in arrival order (a Set: an aborted waiter leaves in O(1)). */
  private readonly waiting = new Set<(held: boolean) => void>();

  constructor(readonly max: number) {}

  /** Checks running now. */
  get running(): number {
    return this.active;
  }

  /** Checks waiting for a slot. */
  get queued(): number {
    return this.waiting.size;
  }

  /**
   * Wait for a slot: resolves true once it is held (call release() when done), or false when `signal` aborted
   * first (then nothing is held).
   */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiting.delete(grant);
        resolve(false);
      };
      const grant = (held: boolean): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(held);
      };
      this.waiting.add(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiting.values().next();
    if (next.done) {
      this.active = Math.max(0, this.active - 1);
      return;
    }
    // The slot passes straight to the next waiter.
    this.waiting.delete(next.value);
    next.value(true);
  }
}
