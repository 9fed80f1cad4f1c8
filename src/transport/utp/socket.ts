/**
 * BEP 29 (uTP) multiplexer: many UtpConnections over one UDP port, fed by the shared UDP demultiplexer.
 * handlePacket(data, host, port) returns false when the datagram is not uTP (wrong version or type, too short),
 * so the DHT and UDP tracker handlers can have it; everything that looks like uTP is claimed, and hostile or
 * stray packets are dropped without creating state:
 * - unknown connection ids get an ST_RESET, rate-limited (a token bucket), never for an ST_RESET;
 * - an ST_SYN creates a half-open connection only below maxHalfOpen / maxConnections, and the accept callback
 *   runs only when the initiator's next packet proves it receives our answer (a spoofed SYN flood costs a few
 *   bounded, quickly expiring entries and never reaches the engine);
 * - malformed packets (bad extension chain, SACK too long) are counted and dropped.
 */
import type { Clock, Random } from '../../core/index.js';
import {
  ST_RESET,
  ST_SYN,
  decodePacketInto,
  looksLikeUtp,
  newPacket,
  type UtpPacket,
  writeHeader,
  HEADER_SIZE,
} from './codec.js';
import { UtpConnection, type UtpConnectionOptions } from './connection.js';

/** Per-connection settings a socket passes on (everything but identity and wiring). */
export type UtpConnectionSettings = Partial<
  Omit<UtpConnectionOptions, 'clock' | 'send' | 'outgoing' | 'remoteAddress' | 'remotePort' | 'recvId' | 'sendId' | 'initialSeq' | 'peerSeq' | 'onConnect' | 'onFreed'>
>;

export interface UtpSocketOptions {
  clock: Clock;
  random: Random;
  /** Send one datagram (the shared UDP socket's send). */
  send(data: Uint8Array, host: string, port: number): void;
  /** Our UDP port, for Connection.localPort. */
  localPort?: () => number;
  /** Most connections that received a SYN but not yet the initiator's next packet. Default 64. */
  maxHalfOpen?: number;
  /** Most connections in total. Default 2048. */
  maxConnections?: number;
  /** ST_RESETs per second for packets to unknown connections (burst the same). Default 20. */
  resetsPerSecond?: number;
  connection?: UtpConnectionSettings;
  /**
   * Datagram size for loopback peers (127.0.0.0/8, ::1). Default: the normal packet size. 32 KiB makes
   * torrentkit-to-torrentkit uTP on one machine ~10x faster; libtorrent sizes packets for Ethernet even on
   * loopback, so leave it unset when the peer may be another client (see NOTES.md).
   */
  loopbackPacketSize?: number;
  /** Initial sequence numbers (default: random); simulations use it to force wrap-around. */
  initialSeq?: () => number;
  /**
   * Batched receive: the owner calls endBatch() after each batch of datagrams (NodeUdpMux: once the event loop
   * has read every datagram waiting). The clock is read once per batch, and each connection delivers the
   * in-order data of a batch as one chunk and acknowledges it with one ACK at endBatch() instead of per packet
   * and by timer. Default false (every packet delivered at once, deferred ACKs by a zero-delay timer).
   */
  batched?: boolean;
}

export interface UtpSocketStats {
  received: number;
  notUtp: number;
  malformed: number;
  unknownConnection: number;
  resetsSent: number;
  resetsSuppressed: number;
  synAccepted: number;
  synDropped: number;
}

export interface UtpConnectEvents {
  onConnect?(c: UtpConnection): void;
  /** The connection was released; `err` when it failed (timeout, reset) rather than closed. */
  onFreed?(c: UtpConnection, err: Error | undefined): void;
}

export class UtpSocket {
  readonly stats: UtpSocketStats = {
    received: 0,
    notUtp: 0,
    malformed: 0,
    unknownConnection: 0,
    resetsSent: 0,
    resetsSuppressed: 0,
    synAccepted: 0,
    synDropped: 0,
  };
  /** Called with each accepted connection once its initiator completed the handshake. */
  onAccept: ((c: UtpConnection) => void) | undefined;

  private readonly o: UtpSocketOptions;
  private readonly clock: Clock;
  /** recv_id -> connections (usually one; ids are only unique per remote endpoint). */
  private readonly byId = new Map<number, UtpConnection[]>();
  private readonly halfOpen = new Set<UtpConnection>();
  private count = 0;
  private resetTokens: number;
  private resetRefilledAt: number;
  private closed = false;
  /** The receive path decodes into this one object (never kept beyond handlePacket). */
  private readonly pkt: UtpPacket = newPacket();
  /** The connection the last packet went to (a download is one long run of packets for one connection). */
  private last: UtpConnection | undefined;
  /** Connections with data or an ACK waiting for endBatch(). */
  private dirty: UtpConnection[] = [];
  /** The clock read for the current batch (-1: none yet). */
  private batchNow = -1;

  constructor(o: UtpSocketOptions) {
    this.o = o;
    this.clock = o.clock;
    this.resetTokens = o.resetsPerSecond ?? 20;
    this.resetRefilledAt = o.clock.now();
  }

  get connectionCount(): number {
    return this.count;
  }
  /** Whether the owner calls endBatch() after each batch of datagrams (option `batched`). */
  get batched(): boolean {
    return this.o.batched === true;
  }
  get halfOpenCount(): number {
    return this.halfOpen.size;
  }

  private sizeFor(host: string): { packetSize?: number } {
    const lo = this.o.loopbackPacketSize;
    return lo !== undefined && (host.startsWith('127.') || host === '::1') ? { packetSize: lo } : {};
  }

  private seq(): number {
    return (this.o.initialSeq?.() ?? this.o.random.int(0x10000)) & 0xffff;
  }

  private micros(): number {
    return Math.floor(this.clock.now() * 1000);
  }

  /** Open a connection to host:port (the SYN goes out now). */
  connect(host: string, port: number, ev: UtpConnectEvents = {}, settings: UtpConnectionSettings & { initialSeq?: number } = {}): UtpConnection {
    if (this.closed) throw new Error('UtpSocket is closed');
    let recvId = 0;
    for (let i = 0; i < 64; i++) {
      recvId = this.o.random.int(0x10000);
      if (!this.find(recvId, host, port)) break;
    }
    const conn: UtpConnection = new UtpConnection({
      ...this.o.connection,
      ...this.sizeFor(host),
      ...settings,
      clock: this.clock,
      micros: () => this.micros(),
      send: (b) => this.o.send(b, host, port),
      onBatchWork: this.o.batched ? (): void => void this.dirty.push(conn) : undefined,
      outgoing: true,
      remoteAddress: host,
      remotePort: port,
      localPort: this.o.localPort?.() ?? 0,
      recvId,
      sendId: (recvId + 1) & 0xffff,
      initialSeq: settings.initialSeq ?? this.seq(),
      onConnect: () => ev.onConnect?.(conn),
      onFreed: (err) => {
        this.remove(conn);
        ev.onFreed?.(conn, err);
      },
    } as UtpConnectionOptions);
    this.add(conn);
    conn.connect();
    return conn;
  }

  /** Offer one datagram. False: not uTP (let the next UDP handler try). */
  handlePacket(data: Uint8Array, host: string, port: number): boolean {
    if (!looksLikeUtp(data)) {
      this.stats.notUtp++;
      return false;
    }
    this.stats.received++;
    if (this.closed) return true;
    const p = this.pkt;
    try {
      decodePacketInto(data, p);
    } catch {
      this.stats.malformed++;
      return true;
    }
    let now: number;
    if (this.o.batched) {
      if (this.batchNow < 0) this.batchNow = this.micros();
      now = this.batchNow;
    } else now = this.micros();
    if (p.type !== ST_SYN) {
      const c = this.last;
      if (c !== undefined && c.recvId === p.connectionId && c.remotePort === port && c.remoteAddress === host) {
        c.handlePacket(p, now);
        return true;
      }
    }
    if (p.type === ST_SYN) {
      const existing = this.find((p.connectionId + 1) & 0xffff, host, port);
      if (existing) existing.handlePacket(p, now);
      else this.onSyn(p, host, port);
      return true;
    }
    const conn = this.find(p.connectionId, host, port) ?? (p.type === ST_RESET ? this.findBySendId(p.connectionId, host, port) : undefined);
    if (!conn) {
      this.stats.unknownConnection++;
      if (p.type !== ST_RESET) this.sendReset(p, host, port);
      return true;
    }
    if (conn.recvId === p.connectionId) this.last = conn;
    conn.handlePacket(p, now);
    return true;
  }

  /** Batched mode: the batch of datagrams is over; deliver what each connection received and acknowledge it. */
  endBatch(): void {
    this.batchNow = -1;
    const list = this.dirty;
    if (list.length === 0) return;
    this.dirty = [];
    const now = this.micros();
    for (const c of list) c.endBatch(now);
  }

  /** Reset every connection and refuse further packets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.last = undefined;
    for (const list of [...this.byId.values()]) for (const c of [...list]) c.close(false);
    this.byId.clear();
    this.halfOpen.clear();
    this.count = 0;
  }

  private onSyn(p: UtpPacket, host: string, port: number): void {
    if (!this.onAccept || this.halfOpen.size >= (this.o.maxHalfOpen ?? 64) || this.count >= (this.o.maxConnections ?? 2048)) {
      this.stats.synDropped++;
      if (!this.onAccept) this.sendReset(p, host, port);
      return;
    }
    this.stats.synAccepted++;
    const conn: UtpConnection = new UtpConnection({
      ...this.o.connection,
      ...this.sizeFor(host),
      clock: this.clock,
      micros: () => this.micros(),
      send: (b) => this.o.send(b, host, port),
      onBatchWork: this.o.batched ? (): void => void this.dirty.push(conn) : undefined,
      outgoing: false,
      remoteAddress: host,
      remotePort: port,
      localPort: this.o.localPort?.() ?? 0,
      recvId: (p.connectionId + 1) & 0xffff,
      sendId: p.connectionId,
      initialSeq: this.seq(),
      peerSeq: p.seqNr,
      onConnect: () => {
        this.halfOpen.delete(conn);
        this.onAccept?.(conn);
      },
      onFreed: () => this.remove(conn),
    });
    this.add(conn);
    this.halfOpen.add(conn);
    conn.handlePacket(p, this.micros()); // records the SYN's timestamp and answers it with ST_STATE
  }

  private sendReset(p: UtpPacket, host: string, port: number): void {
    const now = this.clock.now();
    const rate = this.o.resetsPerSecond ?? 20;
    this.resetTokens = Math.min(rate, this.resetTokens + ((now - this.resetRefilledAt) * rate) / 1000);
    this.resetRefilledAt = now;
    if (this.resetTokens < 1) {
      this.stats.resetsSuppressed++;
      return;
    }
    this.resetTokens -= 1;
    this.stats.resetsSent++;
    const b = new Uint8Array(HEADER_SIZE);
    // The packet's own connection_id: that is the sender's send_id (its recv_id for a SYN); libutp and
    // libtorrent (and findBySendId here) match a RESET on either id.
    writeHeader(b, {
      type: ST_RESET,
      connectionId: p.connectionId,
      timestamp: this.micros() >>> 0,
      timestampDiff: 0,
      wndSize: 0,
      seqNr: 0,
      ackNr: p.seqNr,
    });
    this.o.send(b, host, port);
  }

  private find(recvId: number, host: string, port: number): UtpConnection | undefined {
    const list = this.byId.get(recvId);
    if (!list) return undefined;
    for (const c of list) if (c.remotePort === port && c.remoteAddress === host) return c;
    return undefined;
  }

  /** An ST_RESET may carry the receiver's send_id rather than its recv_id (libutp accepts both). */
  private findBySendId(id: number, host: string, port: number): UtpConnection | undefined {
    for (const cand of [(id + 1) & 0xffff, (id - 1) & 0xffff]) {
      const c = this.find(cand, host, port);
      if (c && c.sendId === id) return c;
    }
    return undefined;
  }

  private add(c: UtpConnection): void {
    const list = this.byId.get(c.recvId);
    if (list) list.push(c);
    else this.byId.set(c.recvId, [c]);
    this.count++;
  }

  private remove(c: UtpConnection): void {
    if (this.last === c) this.last = undefined;
    this.halfOpen.delete(c);
    const list = this.byId.get(c.recvId);
    if (!list) return;
    const i = list.indexOf(c);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.byId.delete(c.recvId);
    this.count--;
  }
}
