/**
 * MSE/PE (Vuze "Message_Stream_Encryption" spec) over a real Connection: `EncryptedConnection` wraps any
 * Connection (TCP, uTP, memory) behind the same interface, RC4-encrypting what is written and decrypting
 * what arrives ('rc4'), or passing bytes through ('plaintext' after the encrypted header). `mseOutgoing` /
 * `mseIncoming` run the handshake of handshake.ts on a connection, bounded by an injected Clock, and hand
 * back the wrapped connection with any payload bytes that arrived with the handshake delivered first.
 *
 * Per-byte cost: received chunks are decrypted in place (no copy: a Connection hands its chunks over to
 * its handler); written chunks are encrypted into one fresh buffer (the caller's bytes are never
 * modified, and the transport may keep the buffer until it is flushed), allocated with the source's
 * 4-byte alignment so Rc4.processTo takes its word path.
 *
 * Offloaded RC4 (while an Rc4Offload is in use, see offload.ts): chunks of both directions go to the RC4
 * worker (short ones stay inline when nothing is in flight). Received chunks keep their order in the
 * delivery queue (a slot per chunk, filled when its bytes come back); an orderly or failed close is reported
 * after the data before it. The inner connection is paused while more than RECV_IN_FLIGHT_MAX bytes await
 * decryption. Written chunks are copied once (into a buffer that is then transferred both ways), handed to
 * the inner connection in order as they come back; writableLength counts them meanwhile, write() returns
 * false above WRITE_HIGH_WATER (and onDrain follows), and close(true) waits for them.
 */
import type { Clock, Random } from '../core/index.js';
import { BtError } from '../core/index.js';
import type { Connection, ConnectionHandlers, TransportKind } from '../transport/index.js';
import { concatBytes } from '../util/index.js';
import { classifyFirstBytes } from './detect.js';
import { MseInitiator, MseReceiver } from './handshake.js';
import type { MseMethod, MsePolicy, MseReceiverOptions, MseResult } from './handshake.js';
import type { Rc4 } from './rc4.js';
import { currentRc4Offload } from './offload.js';
import type { Rc4Channel, Rc4Offload } from './offload.js';

/** Receive backpressure: pause the inner connection while this many bytes await decryption. */
const RECV_IN_FLIGHT_MAX = 1024 * 1024;
/** write() returns false once writableLength (including bytes being encrypted) reaches this. */
const WRITE_HIGH_WATER = 64 * 1024;

interface Slot {
  data: Uint8Array | undefined;
}

export interface EncryptedConnectionInit {
  method: MseMethod;
  /** Required for 'rc4': our outgoing stream. */
  encryptor?: Rc4 | undefined;
  /** Required for 'rc4': the incoming stream, positioned after `leftover`. */
  decryptor?: Rc4 | undefined;
  /** Bytes already received and (for 'rc4') already decrypted; delivered before anything else. */
  leftover?: Uint8Array;
  /** Where RC4 runs for 'rc4': default the shared offload while one is leased (offload.ts), else inline; null: inline. */
  offload?: Rc4Offload | null;
}

export class EncryptedConnection implements Connection {
  readonly kind: TransportKind;
  readonly outgoing: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly method: MseMethod;
  /**
   * The handlers this wrapper installs on the inner connection. Exposed so a handler object that the
   * inner transport captured before the switch (e.g. mid-delivery loop) can forward to it.
   */
  readonly sink: ConnectionHandlers;
  private readonly enc: Rc4 | undefined;
  private readonly dec: Rc4 | undefined;
  private handlers: ConnectionHandlers | undefined;
  private readonly queue: Slot[] = [];
  private readonly decCh: Rc4Channel | undefined;
  private readonly encCh: Rc4Channel | undefined;
  private paused = false;
  /** The inner connection is paused because too many received bytes await decryption. */
  private recvHeld = false;
  /** write() returned false: an onDrain is owed. */
  private needDrain = false;
  /** close(true) while written bytes were still being encrypted. */
  private closeAfterWrites = false;
  private closing = false;
  private flushing = false;
  private closeReceived = false;
  private closeErr: Error | undefined;
  private closeReported = false;

  constructor(
    readonly inner: Connection,
    init: EncryptedConnectionInit,
  ) {
    this.kind = inner.kind;
    this.outgoing = inner.outgoing;
    this.remoteAddress = inner.remoteAddress;
    this.remotePort = inner.remotePort;
    this.localPort = inner.localPort;
    this.method = init.method;
    if (init.method === 'rc4') {
      if (!init.encryptor || !init.decryptor) throw new TypeError("EncryptedConnection: 'rc4' needs an encryptor and a decryptor");
      this.enc = init.encryptor;
      this.dec = init.decryptor;
      const offload = init.offload === undefined ? currentRc4Offload() : init.offload;
      if (offload?.usable) {
        this.decCh = offload.open(init.decryptor);
        this.encCh = offload.open(init.encryptor);
      }
    }
    if (init.leftover && init.leftover.length > 0) this.queue.push({ data: init.leftover });
    this.sink = {
      onData: (chunk) => {
        if (this.closeReceived) return;
        const ch = this.decCh;
        if (!ch) {
          if (this.dec) this.dec.process(chunk);
          this.queue.push({ data: chunk });
          this.flush();
          return;
        }
        const slot: Slot = { data: undefined };
        this.queue.push(slot);
        ch.push(chunk, (out, err) => {
          if (!out) return this.fail(err);
          slot.data = out;
          this.holdReceive();
          this.flush();
        });
        this.holdReceive();
      },
      onDrain: () => {
        // Bytes still being encrypted will be written later: the drain is owed until then.
        if (this.encCh && this.encCh.pendingBytes > 0) {
          this.needDrain = true;
          return;
        }
        this.needDrain = false;
        this.handlers?.onDrain();
      },
      onClose: (err) => {
        if (this.closeReceived) return;
        this.closeReceived = true;
        this.closeErr = err;
        this.encCh?.close();
        this.flush();
      },
    };
    inner.setHandlers(this.sink);
  }

  /** Wrap a connection with a completed handshake's result. */
  static fromResult(inner: Connection, r: MseResult): EncryptedConnection {
    return new EncryptedConnection(inner, { method: r.method, encryptor: r.encryptor, decryptor: r.decryptor, leftover: r.leftover });
  }

  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
    this.flush();
  }

  write(data: Uint8Array): boolean {
    const enc = this.enc;
    if (!enc || data.length === 0) return this.inner.write(data);
    if (this.inner.closed || this.closing) return false;
    const ch = this.encCh;
    if (ch) {
      const copy = new Uint8Array(data.length);
      copy.set(data);
      let direct: boolean | undefined;
      ch.push(copy, (out, err) => {
        if (!out) return this.fail(err);
        const ok = this.inner.write(out);
        if (ch.pending > 0) return;
        direct = ok;
        if (this.closeAfterWrites) {
          this.inner.close(true);
        } else if (ok && this.needDrain) {
          this.needDrain = false;
          this.handlers?.onDrain();
        }
      });
      if (direct !== undefined) return direct; // done inline: the inner connection's own answer
      if (this.writableLength < WRITE_HIGH_WATER) return true;
      this.needDrain = true;
      return false;
    }
    const shift = data.byteOffset & 3;
    const out = shift === 0 ? new Uint8Array(data.length) : new Uint8Array(data.length + shift).subarray(shift);
    enc.processTo(data, out);
    return this.inner.write(out);
  }

  get writableLength(): number {
    return this.inner.writableLength + (this.encCh?.pendingBytes ?? 0);
  }

  pause(): void {
    this.paused = true;
    this.inner.pause();
  }

  resume(): void {
    this.paused = false;
    if (!this.recvHeld) this.inner.resume();
    this.flush();
  }

  close(graceful?: boolean): void {
    if (this.closing) {
      if (!graceful && this.closeAfterWrites) {
        this.closeAfterWrites = false;
        this.encCh?.close();
        this.inner.close(false);
      }
      return;
    }
    this.closing = true;
    if (graceful && this.encCh && this.encCh.pending > 0 && !this.inner.closed) {
      this.closeAfterWrites = true; // the write callback closes once the last chunk is written
      return;
    }
    this.encCh?.close();
    this.inner.close(graceful);
  }

  get closed(): boolean {
    return this.closing || this.inner.closed;
  }

  /** RC4 offload failed (the worker died, with this stream's state): the stream cannot continue. */
  private fail(err: Error | undefined): void {
    if (this.closeReceived && this.closeReported) return;
    this.encCh?.close();
    this.decCh?.close();
    // Chunks still awaiting decryption will never come: the close is reported after those that did.
    for (let k = this.queue.length - 1; k >= 0; k--) if (!this.queue[k]!.data) this.queue.splice(k, 1);
    if (!this.closeReceived) {
      this.closeReceived = true;
      this.closeErr = err ?? new BtError('ERR_MSE', 'RC4 failed', { op: 'read' });
    }
    this.closing = true;
    this.closeAfterWrites = false;
    this.inner.close(false);
    this.flush();
  }

  /** Pause the inner connection while too many received bytes await decryption; resume once below. */
  private holdReceive(): void {
    const ch = this.decCh;
    if (!ch) return;
    const over = ch.pendingBytes > RECV_IN_FLIGHT_MAX;
    if (over && !this.recvHeld) {
      this.recvHeld = true;
      this.inner.pause();
    } else if (!over && this.recvHeld) {
      this.recvHeld = false;
      if (!this.paused) this.inner.resume();
    }
  }

  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      // `this.handlers` is re-read each time: a handler may replace itself or pause mid-loop.
      while (this.handlers && !this.paused && this.queue.length > 0 && this.queue[0]!.data) this.handlers.onData(this.queue.shift()!.data!);
      if (this.closeReceived && !this.closeReported && this.handlers && this.queue.length === 0) {
        this.closeReported = true;
        this.decCh?.close();
        this.encCh?.close();
        this.handlers.onClose(this.closeErr);
      }
    } finally {
      this.flushing = false;
    }
  }
}

// ---- negotiation on a live connection -------------------------------------------------------------------

interface TimingOptions {
  clock: Clock;
  /** The whole handshake must finish within this many ms, or the connection is closed (ERR_TIMEOUT). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface MseOutgoingOptions extends TimingOptions {
  infoHash: Uint8Array;
  policy: MsePolicy;
  random: Random;
  /** IA: sent encrypted inside the handshake (normally our BitTorrent handshake, so it saves a round trip). */
  initialPayload?: Uint8Array;
  maxPadding?: number;
}

export interface MseIncomingOptions extends TimingOptions {
  resolveSkey: MseReceiverOptions['resolveSkey'];
  policy: MsePolicy;
  random: Random;
  maxInitialPayload?: number;
  maxPadding?: number;
}

export interface MseOutgoingResult {
  conn: EncryptedConnection;
  method: MseMethod;
}

export interface MseIncomingResult {
  conn: EncryptedConnection;
  method: MseMethod;
  infoHash: Uint8Array;
  /** The initiator's IA, decrypted (typically its BitTorrent handshake; may be empty). */
  initialPayload: Uint8Array;
}

function toBtError(e: unknown): BtError {
  return e instanceof BtError
    ? e
    : new BtError('ERR_MSE', `MSE handshake failed: ${(e as Error)?.message ?? String(e)}`, { op: 'handshake', cause: e });
}

function checkTiming(o: TimingOptions): void {
  if (!(o.timeoutMs > 0) || !Number.isFinite(o.timeoutMs)) {
    throw new BtError('ERR_SETTINGS', `timeoutMs must be a positive number, got ${o.timeoutMs}`, { op: 'settings', field: 'timeoutMs' });
  }
}

/**
 * Own `conn`'s handlers until `feed` reports completion (returns a value) or fails. On failure, timeout,
 * abort or close the connection is closed and the promise rejects with a BtError.
 */
function drive<T>(
  conn: Connection,
  o: TimingOptions,
  what: string,
  start: () => void,
  feed: (chunk: Uint8Array) => T | undefined,
  wrap: (value: T) => EncryptedConnection,
): Promise<{ value: T; conn: EncryptedConnection }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let wrapped: EncryptedConnection | undefined;
    const onAbort = (): void => fail(new BtError('ERR_ABORTED', `${what} aborted`, { op: 'handshake' }));
    const timer = o.clock.setTimeout(
      () => fail(new BtError('ERR_TIMEOUT', `${what} timed out after ${o.timeoutMs} ms`, { op: 'handshake' })),
      o.timeoutMs,
    );
    function cleanup(): void {
      timer.cancel();
      o.signal?.removeEventListener('abort', onAbort);
    }
    function fail(err: BtError): void {
      if (settled) return;
      settled = true;
      cleanup();
      conn.close(false);
      reject(err);
    }
    const handlers: ConnectionHandlers = {
      onData(chunk) {
        if (wrapped) return wrapped.sink.onData(chunk); // a transport still delivering to the old handler
        if (settled) return;
        let value: T | undefined;
        try {
          value = feed(chunk);
        } catch (e) {
          fail(toBtError(e));
          return;
        }
        if (value === undefined) return;
        settled = true;
        cleanup();
        try {
          wrapped = wrap(value);
        } catch (e) {
          conn.close(false);
          reject(toBtError(e));
          return;
        }
        resolve({ value, conn: wrapped });
      },
      onDrain() {
        wrapped?.sink.onDrain();
      },
      onClose(err) {
        if (wrapped) return wrapped.sink.onClose(err);
        fail(new BtError('ERR_CLOSED', `connection closed during ${what}${err ? `: ${err.message}` : ''}`, { op: 'handshake', cause: err }));
      },
    };
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      start();
    } catch (e) {
      fail(toBtError(e));
      return;
    }
    if (!settled) conn.setHandlers(handlers);
  });
}

/**
 * Run the MSE handshake as initiator on a freshly dialled connection. Resolves with the wrapped connection
 * (bytes the peer sent after its handshake are delivered first on setHandlers) and the selected method.
 * Rejects with BtError: ERR_MSE (protocol), ERR_TIMEOUT, ERR_CLOSED (e.g. a peer that does not speak MSE
 * hangs up; the caller may retry in plaintext), ERR_ABORTED; the connection is closed in every failure.
 */
export async function mseOutgoing(conn: Connection, o: MseOutgoingOptions): Promise<MseOutgoingResult> {
  checkTiming(o);
  const machine = new MseInitiator({
    infoHash: o.infoHash,
    policy: o.policy,
    random: o.random,
    send: (b) => void conn.write(b),
    ...(o.initialPayload ? { initialPayload: o.initialPayload } : {}),
    ...(o.maxPadding !== undefined ? { maxPadding: o.maxPadding } : {}),
  });
  const r = await drive(
    conn,
    o,
    'MSE handshake (outgoing)',
    () => machine.start(),
    (chunk) => {
      machine.receive(chunk);
      return machine.result;
    },
    (res) => EncryptedConnection.fromResult(conn, res),
  );
  return { conn: r.conn, method: r.value.method };
}

/**
 * Run the MSE handshake as receiver on an accepted connection whose first bytes are not a plaintext
 * BitTorrent handshake (see detectIncoming / classifyFirstBytes). Resolves with the wrapped connection,
 * the method, the info-hash the initiator asked for and its IA. Failures as for mseOutgoing.
 */
export async function mseIncoming(conn: Connection, o: MseIncomingOptions): Promise<MseIncomingResult> {
  checkTiming(o);
  const machine = new MseReceiver({
    resolveSkey: o.resolveSkey,
    policy: o.policy,
    random: o.random,
    send: (b) => void conn.write(b),
    ...(o.maxInitialPayload !== undefined ? { maxInitialPayload: o.maxInitialPayload } : {}),
    ...(o.maxPadding !== undefined ? { maxPadding: o.maxPadding } : {}),
  });
  const r = await drive(
    conn,
    o,
    'MSE handshake (incoming)',
    () => {},
    (chunk) => {
      machine.receive(chunk);
      return machine.result;
    },
    (res) => EncryptedConnection.fromResult(conn, res),
  );
  const res = r.value;
  return { conn: r.conn, method: res.method, infoHash: res.infoHash, initialPayload: res.initialPayload };
}

export interface DetectedConnection {
  /** The same bytes again from the start: a pass-through wrapper that replays what was read to decide. */
  conn: EncryptedConnection;
  /** False: the peer sent a plaintext BitTorrent handshake. True: anything else (run mseIncoming on `conn`). */
  encrypted: boolean;
}

/**
 * Read an accepted connection's first bytes (up to 20; usually one chunk) to tell a plaintext BitTorrent
 * handshake from MSE, then hand back a connection that replays them. Bounded by timeoutMs like the rest.
 */
export async function detectIncoming(conn: Connection, o: TimingOptions): Promise<DetectedConnection> {
  checkTiming(o);
  const parts: Uint8Array[] = [];
  const r = await drive(
    conn,
    o,
    'incoming protocol detection',
    () => {},
    (chunk) => {
      parts.push(chunk);
      const joined = parts.length === 1 ? chunk : concatBytes(parts);
      const kind = classifyFirstBytes(joined);
      if (kind === undefined) return undefined;
      return { kind, joined };
    },
    (v) => new EncryptedConnection(conn, { method: 'plaintext', leftover: v.joined }),
  );
  return { conn: r.conn, encrypted: r.value.kind === 'encrypted' };
}
