/**
 * TickScheduler: one engine-wide periodic timer for every torrent's once-a-second work (choker rounds, keep-alives,
 * request time-outs, PEX, seed limits, metadata requests). Only torrents that have such work are in it: a torrent
 * joins (add) when it gains peers or enters a mode that ticks, and leaves when its tick says there is nothing more
 * to do (a seed without peers). The timer itself runs only while some torrent is in it, so an idle engine's cost
 * per second does not grow with the number of torrents.
 */
import type { Clock, Timer } from '../core/index.js';

export interface Tickable {
  /** The periodic work; returns whether it wants the next tick too. */
  tick(now: number): boolean;
}

export class TickScheduler {
  private readonly due = new Set<Tickable>();
  private timer: Timer | undefined;
  /** tick() calls made (tests, diagnostics). */
  calls = 0;
  /** Timer callbacks run (tests, diagnostics). */
  rounds = 0;

  constructor(
    private readonly clock: Clock,
    readonly periodMs = 1000,
  ) {}

  /** Tickables in the schedule. */
  get size(): number {
    return this.due.size;
  }

  has(t: Tickable): boolean {
    return this.due.has(t);
  }

  /** Tick `t` from the next round on (idempotent). */
  add(t: Tickable): void {
    this.due.add(t);
    this.timer ??= this.clock.setInterval(() => this.round(), this.periodMs);
  }

  delete(t: Tickable): void {
    this.due.delete(t);
    if (this.due.size === 0) this.cancel();
  }

  dispose(): void {
    this.due.clear();
    this.cancel();
  }

  private round(): void {
    this.rounds++;
    const now = this.clock.now();
    for (const t of [...this.due]) {
      // Removed by an earlier tick of this round (a torrent stopped another): skip it.
      if (!this.due.has(t)) continue;
      this.calls++;
      if (!t.tick(now)) this.due.delete(t);
    }
    if (this.due.size === 0) this.cancel();
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
