/**
 * The fuzzing harness: runs a Target's inputs (mutations of valid samples, fast-check structure-aware values,
 * raw random bytes), counts crashes (any exception that is not a BtError, or an input slower than the hang
 * limit), times every input, samples memory, and measures the cost growth of each input family.
 * See NOTES.md beside this file.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { isBtError } from '../../src/core/index.js';
import { mutate, Prng } from './mutate.js';

/** Inputs of growing size n: the same shape, n units of it (deep nesting, many items, long strings …). */
export interface Family {
  name: string;
  /** First size measured; then 2·n0, 4·n0, 8·n0. */
  n0: number;
  make(n: number): Uint8Array;
}

export interface Target {
  name: string;
  /** What is driven (entry points), for the report. */
  entry: string;
  /** Inputs are capped at this many bytes. */
  maxLen: number;
  /** Valid samples: the mutation corpus. */
  samples(): Uint8Array[];
  /** Structure-aware generator (valid-ish structures built from the format's pieces). */
  arbitrary?: fc.Arbitrary<Uint8Array>;
  /** Feed one input; a thrown BtError is a clean refusal, anything else is a crash. */
  run(input: Uint8Array): void | Promise<void>;
  families: Family[];
  /** Relative cost: this target runs inputs/divisor inputs in a short run (slow inputs, e.g. DH). */
  costly?: number;
  setup?(): Promise<void> | void;
  teardown?(): Promise<void> | void;
}

export interface CrashRecord {
  kind: 'exception' | 'hang';
  index: number;
  message: string;
  size: number;
  file: string | undefined;
}

export interface FamilyResult {
  name: string;
  sizes: number[];
  /** Mean ms per call at each size. */
  ms: number[];
  /** Least-squares slope of log2(time) over log2(n): ≈1 linear, ≈2 quadratic. */
  exponent: number;
  crash: string | undefined;
}

export interface TargetResult {
  name: string;
  entry: string;
  inputs: number;
  crashes: number;
  crashSamples: CrashRecord[];
  /** Inputs over the slow limit on their first run (a GC pause or another process can cause this). */
  slow: number;
  /** Inputs still over the slow limit re-timed: the minimum of `retimes` runs after a full GC. Real findings. */
  slowRetimed: number;
  /** The slowest first run (ms) and its input's size. */
  slowestMs: number;
  slowestSize: number;
  /**
   * The slowest input re-timed: the largest of (each re-timed input's minimum, every other input's first run);
   * an upper bound on every input's own cost.
   */
  slowestRetimedMs: number;
  slowestRetimedSize: number;
  /**
   * Of slowRetimed, the inputs whose CPU time (process user + system, all threads; least of the re-runs) is
   * over the limit too. An I/O target's input (loopback HTTP) waits for the scheduler between its steps: on
   * a loaded machine its wall time can stay high re-timed while it costs little CPU.
   */
  slowRetimedCpu: number;
  /** Runs per re-timing (0: no re-timing, then slowRetimed = slow). */
  retimes: number;
  peakHeapMB: number;
  peakRssMB: number;
  families: FamilyResult[];
  worst: FamilyResult | undefined;
  elapsedMs: number;
  /** Time spent on the inputs (without setup and growth), for inputs/s. */
  inputsMs: number;
}

export interface RunOptions {
  inputs: number;
  seed: number;
  /** Where crash and slow-input reports go (created under the OS temp dir when absent). */
  outDir?: string;
  /** An input slower than this is reported as slow (default 100 ms). */
  slowMs?: number;
  /** An input slower than this counts as a crash (a hang; default 2,000 ms), when its re-timed minimum is too. */
  hangMs?: number;
  /**
   * An input over slowMs on its first run is run again this many times, after a full GC, and the minimum kept
   * (default 3; 0 = off). Only an input over the limit re-timed counts as slow for the acceptance figure.
   */
  retimes?: number;
  /** Time budget per growth point per round (default 15 ms). */
  growthBudgetMs?: number;
  /** Skip growth families. */
  noGrowth?: boolean;
  log?: (line: string) => void;
}

const MAX_REPORTS = 20;
/** A progress line every this many inputs. */
const PROGRESS_EVERY = 100_000;

export function hexPrefix(b: Uint8Array, n = 256): string {
  return Buffer.from(b.subarray(0, n)).toString('hex') + (b.length > n ? '…' : '');
}

function nameHash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

let outDirCache: string | undefined;
export function reportDir(opts: { outDir?: string }): string {
  if (opts.outDir) {
    mkdirSync(opts.outDir, { recursive: true });
    return opts.outDir;
  }
  outDirCache ??= mkdtempSync(path.join(tmpdir(), 'torrentkit-fuzz-'));
  return outDirCache;
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `non-Error thrown: ${String(e)}`;
}

function saveReport(opts: RunOptions, target: string, kind: string, index: number, input: Uint8Array, lines: string[]): string {
  const dir = reportDir(opts);
  const base = path.join(dir, `${target}-${kind}-${index}`);
  writeFileSync(`${base}.bin`, input);
  writeFileSync(
    `${base}.txt`,
    [
      `target: ${target}`,
      `kind: ${kind}`,
      `seed: ${opts.seed}`,
      `input index: ${index}`,
      `size: ${input.length} bytes`,
      ...lines,
      `hex prefix (256 bytes): ${hexPrefix(input)}`,
      `input: ${base}.bin`,
      `replay: npm run fuzz -- --target ${target} --replay ${base}.bin`,
      '',
    ].join('\n'),
  );
  return `${base}.txt`;
}

/** Run `t.run(input)`, sync or async; returns the error thrown, if any. */
async function runOne(t: Target, input: Uint8Array): Promise<unknown> {
  try {
    const r = t.run(input);
    if (r !== undefined) await r;
    return undefined;
  } catch (e) {
    return e ?? new Error('undefined thrown');
  }
}

/** A full GC before each growth point, so one point does not pay for the garbage of the one before. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

/**
 * Run `input` `times` times after a full GC each, and return the least time: noise (GC of earlier inputs,
 * another process on the core) only adds time, so the minimum is what the input itself costs.
 */
async function retime(t: Target, input: Uint8Array, times: number): Promise<{ ms: number; cpuMs: number }> {
  let best = Infinity;
  let cpuBest = Infinity;
  for (let k = 0; k < times; k++) {
    gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await runOne(t, input);
    best = Math.min(best, performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuBest = Math.min(cpuBest, (c.user + c.system) / 1000);
  }
  return { ms: best, cpuMs: cpuBest };
}

/** Mean ms per call of `t.run(input)`: the lowest of 3 rounds, each repeating for ≥ budgetMs. */
async function timeCall(t: Target, input: Uint8Array, budgetMs: number): Promise<{ ms: number; crash: string | undefined }> {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let reps = 0;
    const t0 = performance.now();
    let el = 0;
    do {
      const e = await runOne(t, input);
      if (e !== undefined && !isBtError(e)) return { ms: NaN, crash: describe(e) };
      reps++;
      el = performance.now() - t0;
    } while (el < budgetMs && reps < 100_000);
    best = Math.min(best, el / reps);
    if (el > 20 * budgetMs) break; // one call is already slow: no need for more rounds
  }
  return { ms: best, crash: undefined };
}

export function fitExponent(sizes: number[], ms: number[]): number {
  const xs = sizes.map((s) => Math.log2(s));
  const ys = ms.map((m) => Math.log2(Math.max(m, 1e-6)));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export async function measureFamily(t: Target, f: Family, budgetMs: number): Promise<FamilyResult> {
  const sizes = [f.n0, 2 * f.n0, 4 * f.n0, 8 * f.n0];
  const ms: number[] = [];
  for (const n of sizes) {
    const input = f.make(n);
    await runOne(t, input); // warm up
    gc?.();
    const r = await timeCall(t, input, budgetMs);
    if (r.crash) return { name: f.name, sizes, ms, exponent: NaN, crash: r.crash };
    ms.push(r.ms);
  }
  return { name: f.name, sizes, ms, exponent: fitExponent(sizes, ms), crash: undefined };
}

export async function runTarget(t: Target, opts: RunOptions): Promise<TargetResult> {
  const log = opts.log ?? (() => undefined);
  const slowMs = opts.slowMs ?? 100;
  const hangMs = opts.hangMs ?? 2000;
  const seed = (opts.seed ^ nameHash(t.name)) >>> 0;
  const rng = new Prng(seed);
  const started = performance.now();
  await t.setup?.();
  const res: TargetResult = {
    name: t.name,
    entry: t.entry,
    inputs: 0,
    crashes: 0,
    crashSamples: [],
    slow: 0,
    slowRetimed: 0,
    slowRetimedCpu: 0,
    slowestMs: 0,
    slowestSize: 0,
    slowestRetimedMs: 0,
    slowestRetimedSize: 0,
    retimes: opts.retimes ?? 3,
    peakHeapMB: 0,
    peakRssMB: 0,
    families: [],
    worst: undefined,
    elapsedMs: 0,
    inputsMs: 0,
  };
  const sampleMem = (): void => {
    const m = process.memoryUsage();
    res.peakHeapMB = Math.max(res.peakHeapMB, m.heapUsed / 1048576);
    res.peakRssMB = Math.max(res.peakRssMB, m.rss / 1048576);
  };
  try {
    const corpus = t.samples().map((s) => (s.length > t.maxLen ? s.subarray(0, t.maxLen) : s));
    let batch: Uint8Array[] = [];
    let batchNo = 0;
    const generated = (): Uint8Array => {
      if (batch.length === 0) {
        batch = fc.sample(t.arbitrary!, { seed: (seed + batchNo++ * 7919) | 0, numRuns: 200 });
        // Keep a few generated values as mutation sources.
        for (let i = 0; i < 4 && corpus.length < 256; i++) corpus.push(batch[i]!.subarray(0, t.maxLen));
      }
      return batch.pop()!;
    };
    sampleMem();
    const inputsStarted = performance.now();
    for (let i = 0; i < opts.inputs; i++) {
      const r = rng.u32() / 0x100000000;
      let input: Uint8Array;
      if (t.arbitrary && r < 0.2) input = generated();
      else if (t.arbitrary && r < 0.3) input = mutate(rng, generated(), corpus, t.maxLen);
      else if (r < 0.36) input = rng.bytes(rng.int(Math.min(t.maxLen, 512) + 1));
      else input = mutate(rng, rng.pick(corpus), corpus, t.maxLen);
      if (input.length > t.maxLen) input = input.subarray(0, t.maxLen);

      const t0 = performance.now();
      const e = await runOne(t, input);
      const dt = performance.now() - t0;
      res.inputs++;
      if (dt > res.slowestMs) {
        res.slowestMs = dt;
        res.slowestSize = input.length;
      }
      const crashed = e !== undefined && !isBtError(e);
      // Over the slow limit: re-time (min of N after a GC); the re-timed figure is the input's own cost.
      const re = !crashed && dt > slowMs && res.retimes > 0 ? await retime(t, input, res.retimes) : undefined;
      const again = re?.ms ?? dt;
      if (again > res.slowestRetimedMs) {
        res.slowestRetimedMs = again;
        res.slowestRetimedSize = input.length;
      }
      if (crashed || again > hangMs) {
        res.crashes++;
        const kind = crashed ? 'exception' : 'hang';
        const message = crashed ? describe(e) : `took ${dt.toFixed(1)} ms, re-timed ${again.toFixed(1)} ms (hang limit ${hangMs} ms)`;
        let file: string | undefined;
        if (res.crashSamples.length < MAX_REPORTS) {
          const stack = crashed && e instanceof Error && e.stack ? e.stack.split('\n').slice(0, 12) : [];
          file = saveReport(opts, t.name, `crash-${kind}`, i, input, [`error: ${message}`, `time: ${dt.toFixed(3)} ms`, 'stack:', ...stack]);
          res.crashSamples.push({ kind, index: i, message, size: input.length, file });
        }
        log(`  CRASH ${t.name} #${i} (${input.length} bytes): ${message}${file ? ` -> ${file}` : ''}`);
      } else if (dt > slowMs) {
        res.slow++;
        const real = again > slowMs;
        if (real) res.slowRetimed++;
        if (real && re && re.cpuMs > slowMs) res.slowRetimedCpu++;
        // Every input still slow re-timed is saved (up to the cap); first-run-only ones are logged, and saved while few.
        if (real ? res.slowRetimed <= MAX_REPORTS : res.slow <= MAX_REPORTS) {
          const retimed = re ? `, re-timed ${again.toFixed(1)} ms (min of ${res.retimes} after a GC; CPU ${re.cpuMs.toFixed(1)} ms)` : '';
          const file = saveReport(opts, t.name, real ? 'slow-retimed' : 'slow', i, input, [
            `time: ${dt.toFixed(1)} ms first run${retimed} (slow limit ${slowMs} ms)`,
            `still slow re-timed: ${real ? 'YES' : 'no'}`,
            `result: ${e === undefined ? 'accepted' : describe(e)}`,
          ]);
          log(`  slow ${t.name} #${i}: ${dt.toFixed(1)} ms first run${retimed}, ${input.length} bytes${real ? ' STILL SLOW' : ''} -> ${file}`);
        }
      }
      if ((i & 127) === 0) sampleMem();
      if ((i + 1) % PROGRESS_EVERY === 0 && i + 1 < opts.inputs) {
        const el = performance.now() - inputsStarted;
        log(`  … ${t.name}: ${i + 1} inputs, ${res.crashes} crashes, ${res.slow} slow first run / ${res.slowRetimed} re-timed, ${((i + 1) / (el / 1000)).toFixed(0)} inputs/s`);
      }
    }
    res.inputsMs = performance.now() - inputsStarted;
    sampleMem();
    if (!opts.noGrowth) {
      for (const f of t.families) {
        let fr = await measureFamily(t, f, opts.growthBudgetMs ?? 15);
        // Timing noise (GC, a loaded machine) only adds time: a steep fit is measured again, and the
        // flattest of up to 3 fits kept (when a call is cheap). A real quadratic family stays ≈2 every time.
        for (let retry = 0; retry < 2 && !fr.crash && fr.exponent >= 1.5 && fr.ms[fr.ms.length - 1]! < 100; retry++) {
          const again = await measureFamily(t, f, opts.growthBudgetMs ?? 15);
          if (again.crash || again.exponent < fr.exponent) fr = again;
        }
        sampleMem();
        if (fr.crash) {
          res.crashes++;
          res.crashSamples.push({ kind: 'exception', index: -1, message: `growth family ${f.name}: ${fr.crash}`, size: 0, file: undefined });
        }
        res.families.push(fr);
        if (!Number.isNaN(fr.exponent) && (res.worst === undefined || fr.exponent > res.worst.exponent)) res.worst = fr;
      }
    }
  } finally {
    await t.teardown?.();
  }
  res.elapsedMs = performance.now() - started;
  return res;
}

/** Feed one saved input to a target (for `--replay`). */
export async function replay(t: Target, input: Uint8Array): Promise<{ ms: number; error: unknown }> {
  await t.setup?.();
  try {
    const t0 = performance.now();
    const error = await runOne(t, input);
    return { ms: performance.now() - t0, error };
  } finally {
    await t.teardown?.();
  }
}

export function formatTable(results: TargetResult[]): string {
  const rows = [['target', 'inputs', 'crashes', 'slow 1st run', 'slow re-timed', 'of which CPU>100ms', 'slowest 1st run ms (bytes)', 'slowest re-timed ms (bytes)', 'peak heap MB', 'peak RSS MB', 'worst family', 'exponent']];
  for (const r of results) {
    rows.push([
      r.name,
      String(r.inputs),
      String(r.crashes),
      String(r.slow),
      String(r.slowRetimed),
      String(r.slowRetimedCpu),
      `${r.slowestMs.toFixed(2)} (${r.slowestSize})`,
      `${r.slowestRetimedMs.toFixed(2)} (${r.slowestRetimedSize})`,
      r.peakHeapMB.toFixed(0),
      r.peakRssMB.toFixed(0),
      r.worst?.name ?? '-',
      r.worst ? r.worst.exponent.toFixed(2) : '-',
    ]);
  }
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 || c === 10 ? cell.padEnd(w[c]!) : cell.padStart(w[c]!))).join('  ')).join('\n');
}
