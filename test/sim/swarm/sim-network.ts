/**
 * A simulated stream network for whole-engine swarm simulations: every host has an uplink and a downlink rate,
 * every pair of hosts a latency and a loss rate, all derived from the seed. Each host gets a `Transport`
 * (dial / listen) whose connections behave like TCP sockets to the engine: ordered bytes, a send buffer
 * (`writableLength`, `write()` returning false past a high-water mark, then `onDrain`), pause/resume, a close that
 * reaches the other side after the data sent before it.
 *
 * Model (per segment of at most SEGMENT bytes, everything scheduled on the shared virtual clock):
 *   sender's send buffers --round robin--> uplink (size / up rate) --latency--> receiver's downlink FIFO
 *   (size / down rate) --> delivered in order to the connection.
 * Loss is modelled as a stream transport sees it: a lost segment arrives one retransmission timeout (RTO)
 * late, and every later segment of that connection waits behind it (head-of-line blocking). Congestion windows
 * and slow start are not modelled. Writes made in one turn of the event loop are coalesced (the uplink starts on
 * a 0 ms timer), like a corked socket.
 *
 * Nothing here uses real time or real randomness: the clock is the simulation's FakeClock, random choices come
 * from the network's SeededRandom in event order.
 */
import { BtError } from '../../../src/core/errors.js';
import type { FakeClock } from '../../../src/core/fake-clock.js';
import type { Timer } from '../../../src/core/clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import type { Connection, ConnectionHandlers, DialOptions, Listener, Transport } from '../../../src/transport/index.js';
import { concatBytes } from '../../../src/util/index.js';

/** Largest segment put on a link at once (bytes): a burst of packets, the unit of scheduling and of loss. */
const SEGMENT = 64 * 1024;
/** Chunks smaller than this share segments. */
const SMALL = 4 * 1024;
/** TCP/IP header bytes charged per 1448 bytes of payload (and at least once per segment). */
const HEADER_BYTES = 52;
const MSS = 1448;
/** Past this many buffered bytes write() returns false (node's default highWaterMark is 16 KiB). */
const HIGH_WATER = 64 * 1024;
/** Minimum retransmission timeout (ms), as Linux's TCP_RTO_MIN. */
const RTO_MIN_MS = 200;
/** Initial RTO for a lost SYN (ms), RFC 6298. */
const SYN_RTO_MS = 1000;

export interface HostProfile {
  /** Uplink rate, bytes per second. */
  upBps: number;
  /** Downlink rate, bytes per second. */
  downBps: number;
}

export interface LinkProfile {
  /** One-way latency, ms. */
  latencyMs: number;
  /** Probability that a segment is lost (and retransmitted after an RTO). */
  loss: number;
}

export interface NetworkOptions {
  /** Latency range of a link, ms (uniform from the seed). Default 10..80. */
  latencyMs?: [number, number];
  /** Loss range of a link (uniform). Default 0..0.01. */
  loss?: [number, number];
  /** Uplink / downlink ranges, bytes per second (uniform from the seed). Default 1-10 Mbit/s up, 10-100 Mbit/s down. */
  upBps?: [number, number];
  downBps?: [number, number];
}

export interface NetworkStats {
  segments: number;
  bytes: number;
  lost: number;
  connections: number;
  refused: number;
}

/** Trace hook: connection life and the like, with the virtual time they happened. */
export type NetEvent =
  | { type: 'connect'; from: string; to: string; at: number }
  | { type: 'refused'; from: string; to: string; at: number }
  | { type: 'close'; host: string; remote: string; at: number; graceful: boolean };

interface Segment {
  flow: Flow;
  /** The bytes, as the chunks the sender wrote (a chunk larger than a segment is cut in parts). */
  data: Uint8Array[];
  size: number;
  /** Carries the end of the stream (FIN or RST). */
  fin: boolean;
  /** RST: the sender aborted; data sent after it never comes. */
  rst: boolean;
}

/** One direction of a connection: the sender's buffer and the in-order arrival bookkeeping. */
class Flow {
  readonly buffer: Uint8Array[] = [];
  buffered = 0;
  /** The sender closed gracefully: a FIN follows the buffered data. */
  finPending = false;
  /** A FIN/RST was handed to the uplink or the link: nothing more goes out. */
  finSent = false;
  needDrain = false;
  /** Arrival time of the latest segment of this flow (in-order delivery). */
  lastArrival = 0;
  queued = false;
  constructor(
    readonly from: SimHost,
    readonly to: SimHost,
    readonly sender: SimConnection,
    readonly receiver: SimConnection,
    readonly link: LinkProfile,
  ) {}
}

export class SimHost {
  /** Flows with bytes waiting for the uplink, round robin. */
  readonly active: Flow[] = [];
  upBusy = false;
  kickTimer: Timer | undefined;
  downBusyUntil = 0;
  readonly listeners = new Map<number, (c: Connection) => void>();
  readonly connections = new Set<SimConnection>();
  private nextPort = 40_000;
  constructor(
    readonly net: SimNetwork,
    readonly address: string,
    readonly profile: HostProfile,
  ) {}
  ephemeralPort(): number {
    while (this.listeners.has(this.nextPort)) this.nextPort++;
    return this.nextPort++;
  }
  /** Bytes the uplink has sent (payload + overhead), for statistics. */
  sentBytes = 0;
  receivedBytes = 0;
}

export class SimConnection implements Connection {
  readonly kind = 'tcp' as const;
  out!: Flow;
  peer!: SimConnection;
  private handlers: ConnectionHandlers | undefined;
  private inbox: Uint8Array[] = [];
  private paused = false;
  private localClosed = false;
  private remoteClosed = false;
  private closeReported = false;
  private closeErr: Error | undefined;
  constructor(
    readonly host: SimHost,
    readonly outgoing: boolean,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localPort: number,
  ) {}

  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
    this.flushInbox();
  }
  write(data: Uint8Array): boolean {
    if (this.localClosed || this.remoteClosed || this.out.finPending) return false;
    if (data.length === 0) return this.out.buffered < HIGH_WATER;
    // Not copied, like a node socket: the writer hands the bytes over.
    this.out.buffer.push(data);
    this.out.buffered += data.length;
    this.host.net.enqueue(this.out);
    const ok = this.out.buffered < HIGH_WATER;
    if (!ok) this.out.needDrain = true;
    return ok;
  }
  get writableLength(): number {
    return this.out.buffered;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // As a socket would: deliver what waited on the next turn, not inside the caller.
    this.host.net.clock.setTimeout(() => this.flushInbox(), 0);
  }
  get closed(): boolean {
    return this.localClosed || this.remoteClosed;
  }
  close(graceful = false): void {
    if (this.localClosed) return;
    this.localClosed = true;
    const net = this.host.net;
    net.emit({ type: 'close', host: this.host.address, remote: `${this.remoteAddress}:${this.remotePort}`, at: net.clock.now(), graceful });
    if (!this.remoteClosed) {
      if (graceful) {
        this.out.finPending = true;
        net.enqueue(this.out);
      } else {
        // RST: unsent bytes are dropped; the reset follows what is already on the wire.
        this.out.buffer.length = 0;
        this.out.buffered = 0;
        net.sendControl(this.out, true);
      }
    }
    this.inbox.length = 0;
    this.host.connections.delete(this);
    net.clock.setTimeout(() => this.reportClose(), 0);
  }

  /** A segment arrived (in order). */
  receive(seg: Segment): void {
    if (this.localClosed || this.remoteClosed) return;
    this.host.receivedBytes += seg.size;
    // One chunk per segment: a large chunk as written (the writer handed it over, as to a socket), small ones joined.
    if (seg.size > 0) this.inbox.push(seg.data.length === 1 ? seg.data[0]! : concat(seg.data));
    if (seg.fin) {
      this.remoteClosed = true;
      if (seg.rst) this.closeErr = new BtError('ERR_CONNECT', 'connection reset by peer', { op: 'connect' });
      this.host.connections.delete(this);
      // Stop sending: the other side is gone.
      this.out.buffer.length = 0;
      this.out.buffered = 0;
      this.out.finSent = true;
    }
    this.flushInbox();
  }

  /** Called by the network when this connection's send buffer emptied after write() said wait. */
  drained(): void {
    if (this.closed || !this.handlers) return;
    this.host.net.quiet = false;
    this.handlers.onDrain();
  }

  private flushing = false;
  private flushInbox(): void {
    if (this.flushing || !this.handlers) return;
    this.flushing = true;
    try {
      // Everything waiting goes as one chunk, as one read of a socket would return it. (Several onData calls
      // back to back, with no turn of the event loop between them, lose bytes in the engine: the handshake
      // reader ignores data once it has resolved, before the message loop takes the connection over.)
      if (!this.paused && this.inbox.length > 0 && !this.localClosed) {
        const chunk = this.inbox.length === 1 ? this.inbox[0]! : concat(this.inbox);
        this.inbox = [];
        this.host.net.quiet = false;
        this.handlers.onData(chunk);
      }
    } finally {
      this.flushing = false;
    }
    if (this.remoteClosed && this.inbox.length === 0) this.reportClose();
  }

  private reportClose(): void {
    if (this.closeReported || !this.handlers) return;
    if (!this.localClosed && this.inbox.length > 0) return;
    this.closeReported = true;
    this.host.net.quiet = false;
    this.handlers.onClose(this.closeErr);
  }
}

class SimTransport implements Transport {
  readonly kind = 'tcp' as const;
  constructor(private readonly host: SimHost) {}
  dial(host: string, port: number, opts: DialOptions = {}): Promise<Connection> {
    return this.host.net.dial(this.host, host, port, opts);
  }
  async listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener> {
    const me = this.host;
    if (host !== me.address && host !== '0.0.0.0') {
      throw new BtError('ERR_LISTEN', `cannot listen on ${host}: this host is ${me.address}`, { op: 'listen' });
    }
    const p = port === 0 ? me.ephemeralPort() : port;
    if (me.listeners.has(p)) throw new BtError('ERR_LISTEN', `${me.address}:${p} is in use`, { op: 'listen' });
    me.listeners.set(p, onConnection);
    return {
      host: me.address,
      port: p,
      close: async () => {
        if (me.listeners.get(p) === onConnection) me.listeners.delete(p);
      },
    };
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/**
 * One 'abort' listener per signal, fanning out to the dials waiting on it: the engine passes one signal to all
 * its dials, and more than 10 listeners on an AbortSignal make node print a leak warning.
 */
const abortWaiters = new WeakMap<AbortSignal, Set<() => void>>();
function onAbortOf(signal: AbortSignal): Set<() => void> {
  let set = abortWaiters.get(signal);
  if (!set) {
    const waiters = new Set<() => void>();
    set = waiters;
    abortWaiters.set(signal, waiters);
    signal.addEventListener('abort', () => {
      for (const f of [...waiters]) f();
    }, { once: true });
  }
  return set;
}

/** Bytes a segment of `payload` bytes occupies on a link, headers included. */
function wireSize(payload: number): number {
  return payload + HEADER_BYTES * Math.max(1, Math.ceil(payload / MSS));
}

/** FNV-1a of a string, mixed with the seed: per-link properties independent of creation order. */
function hashSeed(seed: number, s: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class SimNetwork {
  readonly stats: NetworkStats = { segments: 0, bytes: 0, lost: 0, connections: 0, refused: 0 };
  private readonly hosts = new Map<string, SimHost>();
  private readonly links = new Map<string, LinkProfile>();
  private readonly rng: SeededRandom;
  private readonly opts: Required<NetworkOptions>;
  onEvent: ((e: NetEvent) => void) | undefined;

  constructor(
    readonly clock: FakeClock,
    readonly seed: number,
    opts: NetworkOptions = {},
  ) {
    this.rng = new SeededRandom(hashSeed(seed, 'network'));
    this.opts = {
      latencyMs: opts.latencyMs ?? [10, 80],
      loss: opts.loss ?? [0, 0.01],
      // Home connections: 1-10 Mbit/s up, 10-100 Mbit/s down.
      upBps: opts.upBps ?? [125_000, 1_250_000],
      downBps: opts.downBps ?? [1_250_000, 12_500_000],
    };
  }

  /** Add a host; its rates come from the seed and its address unless `profile` says otherwise. */
  addHost(address: string, profile?: Partial<HostProfile>): SimHost {
    if (this.hosts.has(address)) throw new Error(`host ${address} exists`);
    const r = new SeededRandom(hashSeed(this.seed, `host ${address}`));
    const pick = ([lo, hi]: [number, number]): number => Math.round(lo + (hi - lo) * (r.int(1_000_000) / 1_000_000));
    const h = new SimHost(this, address, {
      upBps: profile?.upBps ?? pick(this.opts.upBps),
      downBps: profile?.downBps ?? pick(this.opts.downBps),
    });
    this.hosts.set(address, h);
    return h;
  }

  host(address: string): SimHost | undefined {
    return this.hosts.get(address);
  }

  transport(address: string): Transport {
    const h = this.hosts.get(address);
    if (!h) throw new Error(`no host ${address}`);
    return new SimTransport(h);
  }

  /** The (symmetric) link between two hosts, derived from the seed and the two addresses. */
  link(a: string, b: string): LinkProfile {
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let l = this.links.get(key);
    if (!l) {
      const r = new SeededRandom(hashSeed(this.seed, key));
      const u = (): number => r.int(1_000_000) / 1_000_000;
      const [l0, l1] = this.opts.latencyMs;
      const [p0, p1] = this.opts.loss;
      l = { latencyMs: Math.round(l0 + (l1 - l0) * u()), loss: p0 + (p1 - p0) * u() };
      this.links.set(key, l);
    }
    return l;
  }

  /**
   * True while the timer that fired last was one of the network's own and called no engine code (no onData,
   * onDrain): the driver then needs no turn of the event loop before the next timer (nothing can be pending).
   */
  quiet = false;

  /** A timer of the network's own (see `quiet`). */
  private later(fn: () => void, ms: number): Timer {
    return this.clock.setTimeout(() => {
      this.quiet = true;
      fn();
    }, ms);
  }

  emit(e: NetEvent): void {
    this.onEvent?.(e);
  }

  /** A one-way delay across the link (latency, or latency + RTOs when the packet is lost). */
  private transit(link: LinkProfile, rtoMs: number): number {
    let d = link.latencyMs;
    while (link.loss > 0 && this.rng.int(1_000_000) < link.loss * 1_000_000) {
      this.stats.lost++;
      d += rtoMs;
      rtoMs *= 2;
    }
    return d;
  }

  dial(from: SimHost, address: string, port: number, opts: DialOptions): Promise<Connection> {
    const clock = this.clock;
    return new Promise<Connection>((resolve, reject) => {
      let done = false;
      const timers: Timer[] = [];
      const finish = (err: Error | undefined, c?: Connection): void => {
        if (done) return;
        done = true;
        for (const t of timers) t.cancel();
        if (opts.signal) onAbortOf(opts.signal).delete(onAbort);
        if (err) reject(err);
        else resolve(c!);
      };
      const onAbort = (): void => finish(new BtError('ERR_ABORTED', 'connect aborted', { op: 'connect' }));
      if (opts.signal?.aborted) return onAbort();
      if (opts.signal) onAbortOf(opts.signal).add(onAbort);
      if (opts.timeoutMs) timers.push(clock.setTimeout(() => finish(new BtError('ERR_TIMEOUT', `connect to ${address}:${port} timed out`, { op: 'connect' })), opts.timeoutMs));
      const to = this.hosts.get(address);
      if (!to) return; // nobody there: the SYN is never answered (the timeout fires)
      const link = this.link(from.address, address);
      // SYN there.
      timers.push(
        clock.setTimeout(() => {
          if (done) return;
          const accept = to.listeners.get(port);
          if (!accept) {
            this.stats.refused++;
            this.emit({ type: 'refused', from: from.address, to: `${address}:${port}`, at: clock.now() });
            timers.push(clock.setTimeout(() => finish(new BtError('ERR_CONNECT', `connect ECONNREFUSED ${address}:${port}`, { op: 'connect' })), this.transit(link, SYN_RTO_MS)));
            return;
          }
          const localPort = from.ephemeralPort();
          const a = new SimConnection(from, true, address, port, localPort);
          const b = new SimConnection(to, false, from.address, localPort, port);
          a.peer = b;
          b.peer = a;
          const now = clock.now();
          a.out = new Flow(from, to, a, b, link);
          b.out = new Flow(to, from, b, a, link);
          // b's first bytes can leave now; a's cannot before the SYN-ACK is back.
          const back = this.transit(link, SYN_RTO_MS);
          a.out.lastArrival = now + back + link.latencyMs;
          from.connections.add(a);
          to.connections.add(b);
          this.stats.connections++;
          this.emit({ type: 'connect', from: `${from.address}:${localPort}`, to: `${address}:${port}`, at: now });
          accept(b);
          // SYN-ACK back.
          timers.push(
            clock.setTimeout(() => {
              if (done) {
                // The dialer gave up meanwhile: its side resets the connection.
                a.close(false);
                return;
              }
              finish(undefined, a);
            }, back),
          );
        }, this.transit(link, SYN_RTO_MS)),
      );
    });
  }

  /** A flow has bytes (or a FIN) for the uplink: start the uplink on the next turn if it is idle. */
  enqueue(f: Flow): void {
    if (f.finSent) return;
    const h = f.from;
    if (!f.queued) {
      f.queued = true;
      h.active.push(f);
    }
    if (!h.upBusy && !h.kickTimer) h.kickTimer = this.later(() => this.kick(h), 0);
  }

  /** The uplink is free: send the next segment, round robin over the flows with bytes. */
  private kick(h: SimHost): void {
    h.kickTimer = undefined;
    if (h.upBusy) return;
    let f: Flow | undefined;
    while ((f = h.active.shift())) {
      f.queued = false;
      if (!f.finSent && (f.buffered > 0 || f.finPending)) break;
    }
    if (!f) return;
    // A large chunk (a piece message) goes alone, cut at SEGMENT, and is delivered as it is (no copy); small
    // chunks (requests, haves, ...) travel together up to a segment's worth and are joined on delivery.
    const data: Uint8Array[] = [];
    let take = 0;
    const first = f.buffer[0];
    if (first && first.length >= SMALL) {
      const n = Math.min(first.length, SEGMENT);
      if (n === first.length) f.buffer.shift();
      else f.buffer[0] = first.subarray(n);
      data.push(n === first.length ? first : first.subarray(0, n));
      take = n;
    } else {
      while (f.buffer.length > 0 && f.buffer[0]!.length < SMALL && take + f.buffer[0]!.length <= SEGMENT) {
        const c = f.buffer.shift()!;
        data.push(c);
        take += c.length;
      }
    }
    f.buffered -= take;
    const fin = f.buffered === 0 && f.finPending;
    if (fin) f.finSent = true;
    if (f.buffered > 0 || (f.finPending && !fin)) {
      f.queued = true;
      h.active.push(f);
    }
    const seg: Segment = { flow: f, data, size: take, fin, rst: false };
    const size = wireSize(take);
    h.upBusy = true;
    h.sentBytes += size;
    this.later(() => {
      h.upBusy = false;
      this.onWire(seg);
      if (h.active.length > 0) this.kick(h);
    }, (size * 1000) / h.profile.upBps);
    if (f.needDrain && f.buffered === 0) {
      f.needDrain = false;
      f.sender.drained();
    }
  }

  /** A control segment (RST) that skips the send buffer. */
  sendControl(f: Flow, rst: boolean): void {
    if (f.finSent) return;
    f.finSent = true;
    this.onWire({ flow: f, data: [], size: 0, fin: true, rst });
  }

  /** The segment left the sender's uplink: across the link, then through the receiver's downlink. */
  private onWire(seg: Segment): void {
    const f = seg.flow;
    const now = this.clock.now();
    this.stats.segments++;
    this.stats.bytes += seg.size;
    const rto = Math.max(RTO_MIN_MS, 2 * f.link.latencyMs + 50);
    const arrival = Math.max(now + this.transit(f.link, rto), f.lastArrival);
    f.lastArrival = arrival;
    this.later(() => {
      const to = f.to;
      const size = wireSize(seg.size);
      const t = this.clock.now();
      const start = Math.max(t, to.downBusyUntil);
      const doneAt = start + (size * 1000) / to.profile.downBps;
      to.downBusyUntil = doneAt;
      this.later(() => f.receiver.receive(seg), doneAt - t);
    }, arrival - now);
  }
}
