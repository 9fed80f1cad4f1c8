/**
 * One interop test's world: a temp directory, the processes it started and the servers it opened.
 * withHarness() runs the test body; on failure it prints the log tails of every process; in all cases it
 * stops every process group it started and deletes the temp directory (KEEP_TMP=1 keeps it).
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ProcGroup } from './procs.js';

export class Harness {
  readonly procs: ProcGroup;
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly t0 = Date.now();

  constructor(
    readonly t: TestContext | undefined,
    /** Temp directory of this test; logs are in `${dir}/logs`. */
    readonly dir: string,
  ) {
    this.procs = new ProcGroup(join(dir, 'logs'));
  }

  /** A path inside the temp directory. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Register something to close at the end (run in reverse order, before processes are stopped). */
  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Seconds since the harness was created. */
  elapsed(): number {
    return (Date.now() - this.t0) / 1000;
  }

  /** A diagnostic line in the test report (and on stderr with TK_TEST_VERBOSE=1). */
  note(msg: string): void {
    const line = `[${this.elapsed().toFixed(1)}s] ${msg}`;
    this.t?.diagnostic(line);
    if (process.env.TK_TEST_VERBOSE) process.stderr.write(`${line}\n`);
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // keep cleaning
      }
    }
    await this.procs.stopAll();
  }
}

export async function createHarness(t: TestContext | undefined, name: string): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), `tk-${name.replace(/[^\w.-]+/g, '_')}-`));
  await mkdir(join(dir, 'logs'));
  return new Harness(t, dir);
}

/** Run `body` with a fresh harness; on failure print every process's log tail; always clean up. */
export async function withHarness(t: TestContext, name: string, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness(t, name);
  try {
    await body(h);
  } catch (e) {
    const tails = h.procs.tails(40);
    if (tails) {
      const head = `${name}: failed after ${h.elapsed().toFixed(1)} s; process logs:`;
      if (process.env.TK_TEST_VERBOSE) process.stderr.write(`\n${head}\n${tails}\n`);
      t.diagnostic(head);
      for (const line of tails.split('\n').slice(-200)) if (line) t.diagnostic(line);
    }
    throw e;
  } finally {
    await h.close();
    if (process.env.KEEP_TMP) process.stderr.write(`${name}: kept ${h.dir}\n`);
    else await rm(h.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Poll `cond` every intervalMs until it returns a truthy value; throw `what` after timeoutMs. */
export async function pollUntil<T>(cond: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
