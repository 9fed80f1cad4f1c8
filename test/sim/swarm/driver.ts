/**
 * The simulation's event loop: one FakeClock for the whole swarm. Virtual time moves only when the process has
 * nothing else to do: after each timer the driver lets every promise chain it started run to its end (a
 * setImmediate turn drains the microtask queue completely), then fires the next timer. The engine under test
 * must therefore do nothing on real timers or real I/O (see NOTES.md): anything that did would either be missed
 * (time jumps past it) or make the run depend on the machine.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { FakeClock } from '../../../src/core/fake-clock.js';

const nodeCrypto = createRequire(import.meta.url)('node:crypto') as Record<string, unknown>;

const realSetImmediate = globalThis.setImmediate;

/** Let every pending microtask (and promise chain) run: one macrotask turn. Test side only: uses a real setImmediate. */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => realSetImmediate(resolve));
}

/** Calls of real time and randomness sources made while a guard was installed, by name. */
export type LeakCounts = Record<string, number>;

/**
 * Count every call of the process's real timers, clocks and random numbers while the simulation runs
 * (setTimeout, setInterval, setImmediate, Date.now, new Date(), performance.now, Math.random,
 * crypto.getRandomValues / randomUUID): in a deterministic run the engines make none. The calls still go through;
 * `restore()` puts the originals back. The driver's own setImmediate (settle) is taken before and not counted.
 * node:crypto's randomBytes / randomInt / randomFillSync / randomUUID are wrapped too (syncBuiltinESMExports makes
 * `import { randomBytes } from 'node:crypto'` see the wrapper): NodeRandom would show up there.
 */
export function guardGlobals(): { counts: LeakCounts; restore: () => void } {
  const counts: LeakCounts = {};
  const undo: (() => void)[] = [];
  const wrap = <T extends object, K extends keyof T>(obj: T, key: K, name: string): void => {
    const orig = obj[key] as unknown as (...a: unknown[]) => unknown;
    const f = function (this: unknown, ...a: unknown[]): unknown {
      counts[name] = (counts[name] ?? 0) + 1;
      return orig.apply(this, a);
    };
    (obj as Record<K, unknown>)[key] = f;
    undo.push(() => ((obj as Record<K, unknown>)[key] = orig));
  };
  const g = globalThis as unknown as Record<string, unknown>;
  wrap(g, 'setTimeout', 'setTimeout');
  wrap(g, 'setInterval', 'setInterval');
  wrap(g, 'setImmediate', 'setImmediate');
  wrap(Date, 'now', 'Date.now');
  wrap(performance, 'now', 'performance.now');
  wrap(Math, 'random', 'Math.random');
  wrap(globalThis.crypto, 'getRandomValues', 'crypto.getRandomValues');
  wrap(globalThis.crypto, 'randomUUID', 'crypto.randomUUID');
  for (const k of ['randomBytes', 'randomInt', 'randomFillSync', 'randomFill', 'randomUUID']) wrap(nodeCrypto, k, `crypto.${k}`);
  syncBuiltinESMExports();
  const RealDate = Date;
  const GuardDate = new Proxy(RealDate, {
    construct(target, args: unknown[]) {
      if (args.length === 0) counts['new Date()'] = (counts['new Date()'] ?? 0) + 1;
      return Reflect.construct(target, args) as object;
    },
  });
  g['Date'] = GuardDate;
  undo.push(() => (g['Date'] = RealDate));
  return {
    counts,
    restore: () => {
      for (const f of undo.reverse()) f();
      syncBuiltinESMExports();
    },
  };
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
