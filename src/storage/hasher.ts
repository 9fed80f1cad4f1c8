/**
 * SHA-1 piece hashing (BEP 3 piece verification) off the event loop.
 *
 * WorkerHasher keeps a small pool of worker_threads (spawned on first use) running node:crypto. A job goes to
 * the least busy worker; its buffer is transferred when the Uint8Array views its whole ArrayBuffer (callers
 * must not reuse it afterwards) and copied otherwise. Workers are ref'd only while they have jobs, so an idle
 * pool never keeps the process alive; destroy() terminates them. The worker is created from an inline source
 * string (eval), so the same code runs from dist/ and under tsx.
 *
 * InlineHasher hashes on the main thread: for tests and tiny inputs.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BtError } from '../core/index.js';
import type { Hasher } from './types.js';

// Dynamic import() works whether the eval'd source runs as CommonJS (the default) or as an ES module
// (when the parent runs with --input-type=module, which workers inherit). The port buffers messages until
// the listener is attached.
const WORKER_SOURCE = `
Promise.all([import('node:worker_threads'), import('node:crypto')]).then(([{ parentPort }, { createHash }]) => {
  parentPort.on('message', (m) => {
    try {
      const digest = createHash('sha1').update(new Uint8Array(m.buf, m.off, m.len)).digest();
      if (m.back) parentPort.postMessage({ id: m.id, digest, buf: m.buf }, [m.buf]);
      else parentPort.postMessage({ id: m.id, digest });
    } catch (e) {
      parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
    }
  });
});
`;

interface Job {
  resolve(d: Uint8Array, buf?: ArrayBuffer): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Job>;
  dead: boolean;
}

interface Reply {
  id: number;
  digest?: Uint8Array;
  buf?: ArrayBuffer;
  error?: string;
}

export interface WorkerHasherOptions {
  /** Worker threads in the pool (default min(2, os.availableParallelism())). */
  workers?: number;
}

export class WorkerHasher implements Hasher {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private destroyed = false;

  constructor(opts: WorkerHasherOptions = {}) {
    const n = opts.workers ?? Math.min(2, availableParallelism());
    this.size = Math.max(1, Math.floor(n));
  }

  sha1(data: Uint8Array): Promise<Uint8Array> {
    return this.run(data, false).then((r) => r.digest);
  }

  /** SHA-1 of data, handing the (transferred) bytes back: no copy on either side. */
  hashPiece(data: Uint8Array): Promise<{ digest: Uint8Array; data: Uint8Array }> {
    const len = data.byteLength;
    return this.run(data, true).then((r) => ({ digest: r.digest, data: r.buf ? new Uint8Array(r.buf, 0, len) : data }));
  }

  private run(data: Uint8Array, back: boolean): Promise<{ digest: Uint8Array; buf: ArrayBuffer | undefined }> {
    if (this.destroyed) return Promise.reject(new BtError('ERR_CLOSED', 'hasher destroyed', { op: 'hash' }));
    let slot: Slot;
    try {
      slot = this.pick();
    } catch (e) {
      return Promise.reject(new BtError('ERR_HASH', 'cannot start a hash worker', { op: 'hash', cause: e }));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve: (digest, buf) => resolve({ digest, buf }), reject });
      try {
        post(slot.worker, id, data, back);
      } catch (e) {
        this.settle(slot, id);
        reject(new BtError('ERR_HASH', 'cannot send data to a hash worker', { op: 'hash', cause: e }));
      }
    });
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) this.fail(s, new BtError('ERR_CLOSED', 'hasher destroyed', { op: 'hash' }));
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }

  /** Jobs queued or running, over all workers (for tests and diagnostics). */
  get pending(): number {
    let n = 0;
    for (const s of this.slots) n += s.pending.size;
    return n;
  }

  /** The least busy worker, spawning a new one while the pool is not full and every worker has work. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.pending.size < best.pending.size) best = s;
    if (best && (best.pending.size === 0 || this.slots.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'torrentkit-sha1' });
    worker.unref();
    const slot: Slot = { worker, pending: new Map(), dead: false };
    worker.on('message', (m: Reply) => {
      const job = this.settle(slot, m.id);
      if (!job) return;
      if (m.digest) job.resolve(new Uint8Array(m.digest.buffer, m.digest.byteOffset, m.digest.byteLength), m.buf);
      else job.reject(new BtError('ERR_HASH', `hash worker failed: ${m.error ?? 'unknown error'}`, { op: 'hash' }));
    });
    worker.on('error', (e) => this.fail(slot, new BtError('ERR_HASH', `hash worker crashed: ${e.message}`, { op: 'hash', cause: e })));
    worker.on('exit', (code) => this.fail(slot, new BtError('ERR_HASH', `hash worker exited (code ${code})`, { op: 'hash' })));
    this.slots.push(slot);
    return slot;
  }

  private settle(slot: Slot, id: number): Job | undefined {
    const job = slot.pending.get(id);
    if (!job) return undefined;
    slot.pending.delete(id);
    if (slot.pending.size === 0 && !slot.dead) slot.worker.unref();
    return job;
  }

  /** Take a broken worker out of the pool and reject its jobs. */
  private fail(slot: Slot, err: BtError): void {
    if (slot.dead) return;
    slot.dead = true;
    const k = this.slots.indexOf(slot);
    if (k >= 0) this.slots.splice(k, 1);
    const jobs = [...slot.pending.values()];
    slot.pending.clear();
    slot.worker.unref();
    if (!this.destroyed) void slot.worker.terminate().catch(() => undefined);
    for (const j of jobs) j.reject(err);
  }
}

/** Send `data` to the worker: transfer its ArrayBuffer when the view covers all of it, else copy. */
function post(worker: Worker, id: number, data: Uint8Array, back = false): void {
  const ab = data.buffer;
  if (ab instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === ab.byteLength && ab.byteLength > 0) {
    try {
      worker.postMessage({ id, buf: ab, off: 0, len: data.byteLength, back }, [ab]);
      return;
    } catch {
      // Not transferable (e.g. Node's Buffer pool): fall through and copy.
    }
  }
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  worker.postMessage({ id, buf: copy.buffer, off: 0, len: copy.byteLength, back }, [copy.buffer]);
}

/** SHA-1 on the main thread (tests, simulations). */
export class InlineHasher implements Hasher {
  private destroyed = false;
  async hashPiece(data: Uint8Array): Promise<{ digest: Uint8Array; data: Uint8Array }> {
    return { digest: await this.sha1(data), data };
  }

  async sha1(data: Uint8Array): Promise<Uint8Array> {
    if (this.destroyed) throw new BtError('ERR_CLOSED', 'hasher destroyed', { op: 'hash' });
    return new Uint8Array(createHash('sha1').update(data).digest());
  }
  async destroy(): Promise<void> {
    this.destroyed = true;
  }
}
