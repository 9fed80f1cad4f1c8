/**
 * The simulation's event loop: one FakeClock for the whole swarm. Virtual time moves only when the process has
 * nothing else to do: after each timer the driver lets every promise chain it started run to its end (a
 * setImmediate turn drains the microtask queue completely), then fires the next timer. The engine under test
 * must therefore do nothing on real timers or real I/O (see NOTES.md): anything that did would either be missed
 * (time jumps past it) or make the run depend on the machine.
 */
import type { FakeClock } from '../../../src/core/fake-clock.js';

/** Let every pending microtask (and promise chain) run: one macrotask turn. Test side only: uses a real setImmediate. */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

export interface RunResult {
  /** Why the loop ended. */
  reason: 'done' | 'idle' | 'time';
  /** Timers fired. */
  steps: number;
}

/**
 * Fire timers in order until `done()` holds, nothing is pending, or the clock passes `deadline` (absolute
 * virtual ms). Settles before each timer (unless `quiet` says the last one ran no engine code) and before
 * checking `done()`.
 */
export async function runUntil(clock: FakeClock, done: () => boolean, deadline: number, quiet?: Quiet): Promise<RunResult> {
  let steps = 0;
  let settled = false;
  for (;;) {
    if (!settled) await settle();
    if (done()) return { reason: 'done', steps };
    const at = clock.nextDue();
    if (at === undefined) return { reason: 'idle', steps };
    if (at > deadline) return { reason: 'time', steps };
    if (quiet) quiet.quiet = false;
    clock.step();
    steps++;
    // A timer that ran no engine code left nothing to drain (the queue was empty before it).
    settled = quiet?.quiet === true;
  }
}

/** Set by the simulation when the last timer ran only its own bookkeeping (SimNetwork.quiet). */
export interface Quiet {
  quiet: boolean;
}
