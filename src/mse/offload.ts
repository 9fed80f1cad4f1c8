/**
 * RC4 off the main thread: with RC4 selected every payload byte is XORed on each side, which at full speed
 * costs as much CPU as the rest of a download put together. `Rc4Offload` runs one worker thread holding the
 * RC4 state of each stream (a `Rc4Channel`, one per direction of an EncryptedConnection) and processes
 * chunks there with the WebAssembly kernel of rc4-wasm.ts.
 *
 * Ordering: one worker handles a channel's chunks in submission order and answers in that order, so a
 * channel calls back in order. Batching: a channel has at most one message in flight; chunks pushed
 * meanwhile wait in its outbox and go as one message (one round trip, one state load in the worker) as
 * soon as the answer arrives, before that answer's callbacks run. Whoever holds the state: while nothing
 * is in flight the main thread's Rc4 is current (each answer carries the state back; it is imported when
 * nothing follows), and a chunk shorter than `inlineMax` is then processed right away, synchronously
 * (cheaper than a round trip); otherwise the chunk goes to the worker, with the state when the worker's
 * copy may be stale. Bytes: the chunk's ArrayBuffer is transferred when the view
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
import { BtError } from '../core/index.js';
import { DATA_CAPACITY, DATA_OFFSET, RC4_WASM_BYTES, STATE_OFFSET } from './rc4-wasm.js';
import { RC4_STATE_BYTES } from './rc4.js';
import type { Rc4 } from './rc4.js';

const WORKER_SOURCE = `
import('node:worker_threads').then(({ parentPort, workerData }) => {
  const { wasm, dataOffset, capacity, stateOffset } = workerData;
  let heap, run, load, save;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), {});
    heap = new Uint8Array(inst.exports.m.buffer);
    run = inst.exports.x;
    load = inst.exports.ld;
    save = inst.exports.sv;
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
  function xorWasm(st, ds) {
    heap.set(st.subarray(0, 258), stateOffset);
    load();
    for (const d of ds) {
      for (let o = 0; o < d.length; o += capacity) {
        const part = d.subarray(o, Math.min(d.length, o + capacity));
        heap.set(part, dataOffset);
        run(part.length);
        part.set(heap.subarray(dataOffset, dataOffset + part.length));
      }
    }
    save();
    st.set(heap.subarray(stateOffset, stateOffset + 258));
  }
  parentPort.on('message', (m) => {
    if (m.drop !== undefined) { states.delete(m.drop); return; }
    let st = states.get(m.id);
    if (m.state) { st = m.state; states.set(m.id, st); }
    if (!st) { parentPort.postMessage({ id: m.id, n: m.bufs.length, error: 'unknown stream' }); return; }
    const ds = m.bufs.map((b, k) => new Uint8Array(b, 0, m.lens[k]));
    if (heap) xorWasm(st, ds); else for (const d of ds) xorJs(st, d);
    parentPort.postMessage({ id: m.id, n: m.bufs.length, bufs: m.bufs, lens: m.lens, state: st.slice(0, 258) }, m.bufs);
  });
});
`;

interface Reply {
  id: number;
  /** Chunks answered. */
  n: number;
  bufs?: ArrayBuffer[];
  lens?: number[];
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
  /** Chunks waiting for the message in flight to come back; then sent together, as one message. */
  private readonly outbox: Uint8Array[] = [];
  private sent = false;
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
    if (this.sent) {
      // One message in flight per channel: later chunks ride together in the next one.
      this.outbox.push(data);
      this.owner.count(1);
      this.waiting.push({ cb, len });
      this.bytes += len;
      return;
    }
    // With nothing in flight the main thread's state is current (the worker's may be stale): send it along.
    const state = this.waiting.length === 0 ? this.rc4.exportState() : undefined;
    if (!this.owner.post(this, [data], state)) {
      // No worker (failed to start): nothing is in flight for this channel here, so inline is in order.
      if (this.waiting.length === 0) {
        this.rc4.process(data);
        cb(data);
      } else {
        cb(undefined, new BtError('ERR_MSE', 'RC4 worker unavailable', { op: 'read' }));
      }
      return;
    }
    this.sent = true;
    this.waiting.push({ cb, len });
    this.bytes += len;
  }

  /** Stop: pending callbacks are dropped and the worker forgets the state. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting.length = 0;
    this.outbox.length = 0;
    this.bytes = 0;
    this.owner.drop(this);
  }

  /** @internal An answer from the worker. */
  settle(r: Reply): void {
    this.sent = false;
    if (this.closed) return;
    if (r.error !== undefined || !r.bufs || !r.lens || !r.state || r.bufs.length !== r.n || r.n > this.waiting.length - this.outbox.length) {
      this.fail(new BtError('ERR_MSE', `RC4 worker failed: ${r.error ?? 'no data'}`, { op: 'read' }));
      return;
    }
    if (this.outbox.length > 0) {
      // Off to the worker before the callbacks run, so that it works while they do.
      const next = this.outbox.splice(0);
      if (!this.owner.post(this, next, undefined, true)) {
        this.owner.count(-next.length);
        this.fail(new BtError('ERR_MSE', 'RC4 worker unavailable', { op: 'read' }));
        return;
      }
      this.sent = true;
    } else {
      this.rc4.importState(r.state);
    }
    const { bufs, lens } = r;
    for (let k = 0; k < r.n && !this.closed; k++) {
      const w = this.waiting.shift()!;
      this.bytes -= w.len;
      w.cb(new Uint8Array(bufs[k]!, 0, lens[k]!));
    }
  }

  /** @internal The worker died: every chunk in flight is lost, and the state with it. */
  fail(err: Error): void {
    const cbs = this.waiting.map((w) => w.cb);
    this.waiting.length = 0;
    this.outbox.length = 0;
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
  /** `counted`: the chunks are already counted in `pending` (they waited in a channel's outbox). */
  post(ch: Rc4Channel, chunks: Uint8Array[], state: Uint8Array | undefined, counted = false): boolean {
    const w = this.ensureWorker();
    if (!w) return false;
    const bufs: ArrayBuffer[] = [];
    const lens: number[] = [];
    for (const data of chunks) {
      const ab = data.buffer;
      // A chunk that covers its whole ArrayBuffer owns it: transferred. Anything else: copied once.
      if (ab instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === ab.byteLength && !bufs.includes(ab)) {
        bufs.push(ab);
      } else {
        const copy = new Uint8Array(data.byteLength);
        copy.set(data);
        bufs.push(copy.buffer);
      }
      lens.push(data.byteLength);
    }
    const msg = { id: ch.id, bufs, lens, state };
    try {
      w.postMessage(msg, bufs);
    } catch {
      // e.g. a buffer that cannot be transferred: copies, then
      for (let k = 0; k < bufs.length; k++) {
        if (chunks[k]!.byteLength !== lens[k]) continue; // already detached: transferred into the copy
        const copy = new Uint8Array(lens[k]!);
        copy.set(chunks[k]!);
        bufs[k] = copy.buffer;
      }
      try {
        w.postMessage(msg, bufs);
      } catch {
        return false;
      }
    }
    if (!counted) this.count(chunks.length);
    return true;
  }

  /** @internal Chunks handed to the worker (or queued for it). */
  count(n: number): void {
    const before = this.inFlight;
    this.inFlight = Math.max(0, before + n);
    if (before === 0 && this.inFlight > 0) this.worker?.ref();
    else if (before > 0 && this.inFlight === 0) this.worker?.unref();
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
        workerData: { wasm: RC4_WASM_BYTES, dataOffset: DATA_OFFSET, capacity: DATA_CAPACITY, stateOffset: STATE_OFFSET },
      });
    } catch {
      this.broken = true;
      return undefined;
    }
    w.unref();
    w.on('message', (r: Reply) => {
      if (this.worker !== w) return;
      this.inFlight = Math.max(0, this.inFlight - r.n);
      if (this.inFlight === 0) w.unref();
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
