/**
 * RC4 off the main thread: with RC4 selected every payload byte is XORed on each side, which at full speed
 * costs as much CPU as the rest of a download put together. `Rc4Offload` runs one worker thread holding the
 * RC4 state of each stream (a `Rc4Channel`, one per direction of an EncryptedConnection) and processes
 * chunks there with the WebAssembly kernel of rc4-wasm.ts.
 *
 * Ordering: one worker handles a channel's chunks in submission order and answers in that order, so a
 * channel calls back in order. Whoever holds the state: while nothing is in flight the main thread's Rc4 is
 * current (the last answer carries the state back), and a chunk shorter than `inlineMax` is then processed
 * right away, synchronously (cheaper than a round trip); otherwise the chunk goes to the worker, with the
 * state when the worker's copy may be stale. Bytes: the chunk's ArrayBuffer is transferred when the view
 * covers all of it (the chunk then belongs to the channel: callers hand over ownership), else copied once.
 *
 * The worker is created on first use from an inline source (so it runs from dist/ and under tsx), is ref'd
 * only while it has work (an idle offload never keeps the process alive), and is terminated by destroy().
 * If it dies, every channel with work in flight gets an error (its stream state is gone) and later chunks
 * are processed inline.
 *
 * `acquireRc4Offload()` hands out a process-wide shared offload, reference-counted (an engine takes one
 * for its lifetime and releases it on dispose); EncryptedConnection uses it while any lease is held.
 */
import { Worker } from 'node:worker_threads';
import { BtError } from '../core/errors.js';
import { DATA_CAPACITY, DATA_OFFSET, I_ADDR, J_ADDR, RC4_WASM_BYTES } from './rc4-wasm.js';
import { RC4_STATE_BYTES } from './rc4.js';
import type { Rc4 } from './rc4.js';

const WORKER_SOURCE = `
import('node:worker_threads').then(({ parentPort, workerData }) => {
  const { wasm, dataOffset, capacity, iAddr, jAddr } = workerData;
  let heap, i32, run;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), {});
    heap = new Uint8Array(inst.exports.m.buffer);
    i32 = new Int32Array(inst.exports.m.buffer);
    run = inst.exports.x;
  } catch {
    heap = undefined;
  }
  const states = new Map();
  function xorJs(st, d) {
    let i = st[256], j = st[257];
    for (let k = 0; k < d.length; k++) {
      i = (i + 1) & 255; const a = st[i]; j = (j + a) & 255; const b = st[j];
      st[i] = b; st[j] = a; d[k] ^= st[(a + b) & 255];
    }
    st[256] = i; st[257] = j;
  }
  function xorWasm(st, d) {
    heap.set(st.subarray(0, 256), 0);
    i32[iAddr >> 2] = st[256];
    i32[jAddr >> 2] = st[257];
    for (let o = 0; o < d.length; o += capacity) {
      const part = d.subarray(o, Math.min(d.length, o + capacity));
      heap.set(part, dataOffset);
      run(part.length);
      part.set(heap.subarray(dataOffset, dataOffset + part.length));
    }
    st.set(heap.subarray(0, 256));
    st[256] = i32[iAddr >> 2];
    st[257] = i32[jAddr >> 2];
  }
  parentPort.on('message', (m) => {
    if (m.drop !== undefined) { states.delete(m.drop); return; }
    let st = states.get(m.id);
    if (m.state) { st = m.state; states.set(m.id, st); }
    if (!st) { parentPort.postMessage({ id: m.id, error: 'unknown stream' }); return; }
    const d = new Uint8Array(m.buf, 0, m.len);
    if (heap) xorWasm(st, d); else xorJs(st, d);
    parentPort.postMessage({ id: m.id, buf: m.buf, len: m.len, state: st.slice(0, 258) }, [m.buf]);
  });
});
`;

interface Reply {
  id: number;
  buf?: ArrayBuffer;
  len?: number;
  state?: Uint8Array;
  error?: string;
}

export type Rc4Callback = (out: Uint8Array | undefined, err?: Error) => void;

export interface Rc4OffloadOptions {
  /** Chunks shorter than this are processed on the calling thread when nothing is in flight (default 8 KiB). */
  inlineMax?: number;
}

/** One RC4 stream (one direction of one connection) whose chunks may be processed in the worker. */
export class Rc4Channel {
  private readonly waiting: { cb: Rc4Callback; len: number }[] = [];
  private bytes = 0;
  private closed = false;

  constructor(
    private readonly owner: Rc4Offload,
    readonly id: number,
    private readonly rc4: Rc4,
  ) {}

  /** Bytes handed to the worker and not yet returned. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Chunks in flight. */
  get pending(): number {
    return this.waiting.length;
  }

  /**
   * XOR the keystream over `data`, which the channel takes over (its buffer may be transferred: do not use
   * it afterwards). `cb` gets the result (possibly `data` itself) in submission order; synchronously when the
   * chunk was processed inline. After close(), callbacks are not called.
   */
  push(data: Uint8Array, cb: Rc4Callback): void {
    if (this.closed) return;
    const len = data.length; // before the buffer is transferred away
    if (this.waiting.length === 0 && (data.length < this.owner.inlineMax || !this.owner.usable)) {
      this.rc4.process(data);
      cb(data);
      return;
    }
    // With nothing in flight the main thread's state is current (the worker's may be stale): send it along.
    const state = this.waiting.length === 0 ? this.rc4.exportState() : undefined;
    if (!this.owner.post(this, data, state)) {
      // No worker (failed to start): nothing is in flight for this channel here, so inline is in order.
      if (this.waiting.length === 0) {
        this.rc4.process(data);
        cb(data);
      } else {
        cb(undefined, new BtError('ERR_MSE', 'RC4 worker unavailable', { op: 'read' }));
      }
      return;
    }
    this.waiting.push({ cb, len });
    this.bytes += len;
  }

  /** Stop: pending callbacks are dropped and the worker forgets the state. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting.length = 0;
    this.bytes = 0;
    this.owner.drop(this);
  }

  /** @internal An answer from the worker. */
  settle(r: Reply): void {
    const w = this.waiting.shift();
    if (!w) return;
    this.bytes -= w.len;
    if (r.error !== undefined || !r.buf || !r.state) {
      this.fail(new BtError('ERR_MSE', `RC4 worker failed: ${r.error ?? 'no data'}`, { op: 'read' }), w.cb);
      return;
    }
    if (this.waiting.length === 0) this.rc4.importState(r.state);
    w.cb(new Uint8Array(r.buf, 0, r.len ?? w.len));
  }

  /** @internal The worker died: every chunk in flight is lost, and the state with it. */
  fail(err: Error, first?: Rc4Callback): void {
    const cbs = [...(first ? [first] : []), ...this.waiting.map((w) => w.cb)];
    this.waiting.length = 0;
    this.bytes = 0;
    this.closed = true;
    this.owner.drop(this);
    for (const cb of cbs) cb(undefined, err);
  }
}

export class Rc4Offload {
  readonly inlineMax: number;
  private worker: Worker | undefined;
  private readonly channels = new Map<number, Rc4Channel>();
  private inFlight = 0;
  private nextId = 1;
  private destroyed = false;
  private broken = false;

  constructor(opts: Rc4OffloadOptions = {}) {
    this.inlineMax = opts.inlineMax ?? 8192;
  }

  /** False once destroyed or after the worker could not start. */
  get usable(): boolean {
    return !this.destroyed && !this.broken;
  }

  /** Chunks in flight over all channels (tests, diagnostics). */
  get pending(): number {
    return this.inFlight;
  }

  /** A channel for one RC4 stream; `rc4` must not be used elsewhere afterwards. */
  open(rc4: Rc4): Rc4Channel {
    const ch = new Rc4Channel(this, this.nextId++, rc4);
    this.channels.set(ch.id, ch);
    return ch;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new BtError('ERR_CLOSED', 'RC4 offload destroyed', { op: 'read' }));
    if (w) await w.terminate().catch(() => undefined);
  }

  /** @internal */
  post(ch: Rc4Channel, data: Uint8Array, state: Uint8Array | undefined): boolean {
    const w = this.ensureWorker();
    if (!w) return false;
    let buf: ArrayBuffer | undefined;
    const ab = data.buffer;
    if (ab instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === ab.byteLength) buf = ab;
    const msg = { id: ch.id, buf, len: data.byteLength, state };
    try {
      if (!buf) throw new Error('copy');
      w.postMessage(msg, [buf]);
    } catch {
      const copy = new Uint8Array(data.byteLength);
      copy.set(data);
      msg.buf = copy.buffer;
      try {
        w.postMessage(msg, [copy.buffer]);
      } catch {
        return false;
      }
    }
    if (this.inFlight++ === 0) w.ref();
    return true;
  }

  /** @internal */
  drop(ch: Rc4Channel): void {
    if (!this.channels.delete(ch.id)) return;
    try {
      this.worker?.postMessage({ drop: ch.id });
    } catch {
      // the worker is gone; so is the state
    }
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker;
    if (!this.usable) return undefined;
    let w: Worker;
    try {
      w = new Worker(WORKER_SOURCE, {
        eval: true,
        name: 'torrentkit-rc4',
        workerData: { wasm: RC4_WASM_BYTES, dataOffset: DATA_OFFSET, capacity: DATA_CAPACITY, iAddr: I_ADDR, jAddr: J_ADDR },
      });
    } catch {
      this.broken = true;
      return undefined;
    }
    w.unref();
    w.on('message', (r: Reply) => {
      if (this.worker !== w) return;
      if (--this.inFlight === 0) w.unref();
      this.channels.get(r.id)?.settle(r);
    });
    const die = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.broken = true;
      w.unref();
      void w.terminate().catch(() => undefined);
      this.failAll(new BtError('ERR_MSE', `RC4 worker ${why}`, { op: 'read' }));
    };
    w.on('error', (e) => die(`crashed: ${e.message}`));
    w.on('exit', (code) => die(`exited (code ${code})`));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    this.inFlight = 0;
    const chans = [...this.channels.values()];
    for (const ch of chans) if (ch.pending > 0) ch.fail(err);
  }
}

// ---- the process-wide shared offload -------------------------------------------------------------------

let shared: Rc4Offload | undefined;
let leases = 0;

export interface Rc4OffloadLease {
  readonly offload: Rc4Offload;
  /** Give the lease back; the last one destroys the shared offload (its worker terminates). */
  release(): Promise<void>;
}

/** Take a lease on the shared offload (created on the first lease; its worker spawns on first use). */
export function acquireRc4Offload(): Rc4OffloadLease {
  shared ??= new Rc4Offload();
  leases++;
  const offload = shared;
  let released = false;
  return {
    offload,
    release: async () => {
      if (released) return;
      released = true;
      if (--leases > 0 || shared !== offload) return;
      shared = undefined;
      await offload.destroy();
    },
  };
}

/** The shared offload while any lease is held (EncryptedConnection uses it for 'rc4' streams). */
export function currentRc4Offload(): Rc4Offload | undefined {
  return shared;
}

// The state size the worker source assumes.
if (RC4_STATE_BYTES !== 258) throw new Error('RC4 state layout changed');
