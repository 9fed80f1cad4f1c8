/**
 * One uTP connection (BEP 29) as a pure state machine: packets in through handlePacket(pkt, nowMicros),
 * datagrams out through the injected send(bytes), timers from the injected Clock. It implements the
 * transport Connection interface itself, so peer/ sees it exactly like a TCP socket.
 *
 * Sequence numbers (interoperable with libtorrent and libutp):
 * - the initiator sends ST_SYN with connection_id = recv_id and seq_nr = s; its first ST_DATA has s + 1;
 * - the acceptor answers ST_STATE with seq_nr = S (random) and ack_nr = s. An ST_STATE never consumes a
 *   sequence number, so the acceptor's first ST_DATA is also S, and the initiator starts with ack_nr = S - 1;
 * - ST_DATA, ST_FIN consume one number each; ST_STATE carries the next number to be used.
 * Packets we send carry connection_id = send_id; packets we accept carry recv_id (send_id = recv_id ± 1).
 *
 * Buffers: a received payload is delivered as a view into the datagram (batched mode: the payloads of one batch
 * concatenated into one chunk, see endBatch); written bytes are kept
 * by reference until packetised, then copied once into the packet, which is kept for retransmission until
 * acknowledged. Both the reorder buffer and the retransmission ring are bounded.
 */
import type { Clock, Timer } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import type { Connection, ConnectionHandlers } from '../types.js';
import {
  EXT_SACK,
  HEADER_SIZE,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  type UtpPacket,
  type UtpType,
  seqAdd,
  seqDiff,
  writeHeader,
  writeU32,
} from './codec.js';
import { Ledbat, type LedbatOptions } from './ledbat.js';

export type UtpState = 'syn-sent' | 'connected' | 'fin-sent' | 'closed';

/** Conservative datagram size (uTP header + payload): fits 1500-byte Ethernet with IPv4/IPv6 + tunnels. */
export const DEFAULT_PACKET_SIZE = 1400;
/** Fallback when large packets keep getting lost: fits the IPv6 minimum MTU (1280 - 40 - 8). */
export const SAFE_PACKET_SIZE = 1200;
/** Retransmission ring (packets in flight). Must stay well under half the 16-bit sequence space. */
const OUT_RING = 4096;
/** Out-of-order packets we hold beyond ack_nr + 1. */
const REORDER_SLOTS = 2048;
/** In-order data packets acknowledged by one deferred ACK at most (unbatched receive). */
const DEFAULT_ACK_EVERY = 32;
/** Batched receive: an ACK at once after this many in-order packets, even mid-batch. */
const DEFAULT_BATCH_ACK_EVERY = 128;
/** Batched receive: a batch that leaves fewer unacknowledged packets than this defers its ACK (batchAckDelayMs). */
const DEFAULT_BATCH_ACK_MIN = 48;
/** Default receive window (what we advertise as wnd_size when nothing is buffered). */
export const DEFAULT_RECV_WINDOW = 1024 * 1024;
/** The SACK bitmask we send covers this many packets after ack_nr + 1 (bytes * 8). */
const SACK_SEND_BYTES = 32;

export interface UtpConnectionStats {
  packetsSent: number;
  packetsReceived: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  duplicatesReceived: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface UtpConnectionOptions {
  clock: Clock;
  /** Send one datagram to the peer. */
  send(bytes: Uint8Array): void;
  /** Microsecond time source for timestamps; default clock.now() * 1000. */
  micros?: () => number;
  outgoing: boolean;
  remoteAddress: string;
  remotePort: number;
  localPort?: number;
  /** The connection_id we receive on. */
  recvId: number;
  /** The connection_id we send with. */
  sendId: number;
  /** Our first sequence number (the SYN's for an initiator, the first DATA's for an acceptor). */
  initialSeq: number;
  /** Acceptor only: the SYN's seq_nr (our initial ack_nr). */
  peerSeq?: number;
  /** Datagram size: header + payload (default 1400). */
  packetSize?: number;
  /** Fallback datagram size after large packets are lost (default 1200). */
  safePacketSize?: number;
  /** Receive buffer (bytes): what we advertise as wnd_size, less what is buffered. Default 1 MiB. */
  recvBufferBytes?: number;
  /** write() returns false once this many bytes wait to be packetised. Default 1 MiB. */
  sendHighWater?: number;
  /** Give up connecting after this long (ms). Default 10 s (SYN resent at 1, 2, 4 s...). */
  connectTimeoutMs?: number;
  /** Nothing heard from the peer for this long (ms): it is dead. Default 120 s. */
  idleTimeoutMs?: number;
  /** Send an ST_STATE when nothing was sent for this long (ms). Default 29 s (libutp). */
  keepAliveMs?: number;
  /** Consecutive retransmission timeouts before the connection is dropped. Default 7. */
  maxTimeouts?: number;
  /** Lower bound of the retransmission timeout (ms). BEP 29: 500. */
  minRtoMs?: number;
  /** Housekeeping tick (ms). Default 50. */
  tickMs?: number;
  /**
   * An ACK for in-order data waits at most this long (ms). Default 0: a zero-delay timer, which on Node runs after
   * the event loop has handled every datagram already read, so one ACK covers the whole batch (libtorrent's
   * deferred ACK). Out-of-order and duplicate data is acknowledged at once.
   */
  delayedAckMs?: number;
  /** Hold back a partial packet while data is in flight (Nagle). Default true. */
  nagle?: boolean;
  /** ACK at once after this many unacknowledged in-order data packets. Default 32 (batched receive: 128). */
  ackEvery?: number;
  /**
   * Batched receive: a batch that ends with fewer than this many in-order packets unacknowledged does not send its
   * ACK at once but within `batchAckDelayMs`, so that a sender trickling a few packets per event-loop turn is not
   * answered with one ACK (one wake-up of its network thread) per turn. Default 48; 1 acknowledges every batch.
   */
  batchAckMin?: number;
  /** Batched receive: how long a deferred ACK (see batchAckMin) waits at most (ms). Default 1. */
  batchAckDelayMs?: number;
  ledbat?: LedbatOptions;
  /**
   * Batched receive (UtpSocket option `batched`): called once per batch when this connection has data to deliver
   * or an ACK to send; the owner then calls endBatch(). Without it, data is delivered packet by packet and in-order
   * data is acknowledged by the `delayedAckMs` timer.
   */
  onBatchWork?: (() => void) | undefined;
  /** Connected (initiator: the SYN was answered; acceptor: the initiator's first packet after the SYN). */
  onConnect?(): void;
  /** State released: the owner (UtpSocket) forgets this connection. `err` when it failed. */
  onFreed?(err: Error | undefined): void;
}

interface OutPacket {
  buf: Uint8Array;
  /** Bytes on the wire (counted in flight). */
  size: number;
  sentAt: number;
  transmissions: number;
  /** Lost (timeout or SACK hole): counted out of flight, waiting to be sent again. */
  needResend: boolean;
  /** Selectively acknowledged: out of flight, kept only until the cumulative ACK passes. */
  sacked: boolean;
}

export class UtpConnection implements Connection {
  readonly kind = 'utp' as const;
  readonly outgoing: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly recvId: number;
  readonly sendId: number;
  readonly stats: UtpConnectionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    duplicatesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
  };
  readonly ledbat: Ledbat;
  state: UtpState;
  /** The initiator's first packet after its SYN arrived (acceptor), or the SYN was answered (initiator). */
  established = false;

  private readonly o: UtpConnectionOptions;
  private readonly clock: Clock;
  private readonly micros: () => number;
  private handlers: ConnectionHandlers | undefined;
  private closeReported = false;
  private userClosed = false;
  private freed = false;
  private tickTimer: Timer | undefined;
  private ackTimer: Timer | undefined;

  // Send side.
  private seqNr: number;
  /** Highest sequence number the peer acknowledged cumulatively. */
  private ackedSeq: number;
  private readonly out: (OutPacket | undefined)[] = new Array<OutPacket | undefined>(OUT_RING);
  private inFlight = 0;
  private resendPending = 0;
  private sendQ: Uint8Array[] = [];
  private sendQHead = 0;
  private sendQOff = 0;
  private sendQBytes = 0;
  private needDrain = false;
  private packetSize: number;
  private peerWnd: number;
  private dupAcks = 0;
  /** No second window reduction until the cumulative ACK passes this. */
  private lossSeq: number;
  private cwndLimited = false;
  private finPending = false;
  private finSeq = -1;
  private finAckedAt = -1;
  private rttUs = 0;
  private rttVarUs = 0;
  private rtoUs = 1_000_000;
  private rtoDeadline = 0;
  private consecutiveTimeouts = 0;
  private largeLosses = 0;
  private zeroWindowSince = -1;
  private synSentAt = 0;
  private synTries = 0;
  private createdAt: number;

  // Receive side.
  private ackNr = 0;
  private readonly reorder: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(REORDER_SLOTS);
  private reorderCount = 0;
  private reorderBytes = 0;
  private reorderMax = 0;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Batched mode: in-order payloads received in this batch, delivered as one chunk by endBatch(). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private batchQueued = false;
  private paused = false;
  private eofSeq = -1;
  private gotFin = false;
  private ackPending = 0;
  private readonly ackEvery: number;
  private replyMicro = 0;
  private lastReceived: number;
  private lastSent: number;
  private readonly recvBuf: number;

  constructor(o: UtpConnectionOptions) {
    this.o = o;
    this.clock = o.clock;
    this.micros = o.micros ?? (() => Math.floor(o.clock.now() * 1000));
    this.outgoing = o.outgoing;
    this.remoteAddress = o.remoteAddress;
    this.remotePort = o.remotePort;
    this.localPort = o.localPort ?? 0;
    this.recvId = o.recvId & 0xffff;
    this.sendId = o.sendId & 0xffff;
    this.packetSize = o.packetSize ?? DEFAULT_PACKET_SIZE;
    this.recvBuf = o.recvBufferBytes ?? DEFAULT_RECV_WINDOW;
    this.ackEvery = o.ackEvery ?? (o.onBatchWork ? DEFAULT_BATCH_ACK_EVERY : DEFAULT_ACK_EVERY);
    this.ledbat = new Ledbat({ mss: this.packetSize, ...o.ledbat });
    this.peerWnd = this.packetSize * 2;
    const now = this.micros();
    this.createdAt = now;
    this.lastReceived = now;
    this.lastSent = now;
    this.rtoUs = 1_000_000;
    if (o.outgoing) {
      this.state = 'syn-sent';
      this.seqNr = o.initialSeq & 0xffff;
      this.ackedSeq = seqAdd(this.seqNr, -1);
      this.lossSeq = this.ackedSeq;
    } else {
      this.state = 'connected';
      this.seqNr = o.initialSeq & 0xffff;
      this.ackedSeq = seqAdd(this.seqNr, -1);
      this.lossSeq = this.ackedSeq;
      this.ackNr = (o.peerSeq ?? 0) & 0xffff;
    }
    this.tickTimer = this.clock.setInterval(() => this.tick(this.micros()), o.tickMs ?? 50);
  }

  /** Initiator: send the SYN. */
  connect(): void {
    if (!this.outgoing || this.synTries > 0) return;
    this.sendSyn(this.micros());
  }

  /** Acceptor: answer the SYN (also used when the SYN is repeated). */
  acceptSyn(): void {
    this.sendControl(ST_STATE, this.micros());
  }

  // ---------------------------------------------------------------- Connection interface

  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
    this.flushHeld();
  }

  write(data: Uint8Array): boolean {
    if (this.userClosed || this.state === 'closed' || this.finPending) return false;
    if (data.length > 0) {
      this.sendQ.push(data);
      this.sendQBytes += data.length;
      if (this.state !== 'syn-sent') this.flush(this.micros());
    }
    const ok = this.sendQBytes < (this.o.sendHighWater ?? 1024 * 1024);
    if (!ok) this.needDrain = true;
    return ok;
  }

  get writableLength(): number {
    return this.sendQBytes;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const before = this.advertisedWindow();
    this.flushHeld();
    // Tell the sender the window opened (it may be stalled on a zero window).
    if (!this.freed && this.state !== 'syn-sent' && before < this.packetSize && this.advertisedWindow() >= this.packetSize) {
      this.sendControl(ST_STATE, this.micros());
    }
  }

  get closed(): boolean {
    return this.userClosed || this.closeReported || this.state === 'closed';
  }

  /** Graceful: flush what is queued, then ST_FIN; otherwise ST_RESET and forget everything now. */
  close(graceful = false): void {
    if (this.freed) return;
    this.userClosed = true;
    if (!graceful || this.state === 'syn-sent') {
      if (this.state !== 'closed') this.sendControl(ST_RESET, this.micros());
      this.destroy(undefined);
      return;
    }
    if (!this.finPending) {
      this.finPending = true;
      this.flush(this.micros());
    }
  }

  // ---------------------------------------------------------------- inputs

  /** One decoded packet addressed to this connection (connection_id already matched by the socket). */
  handlePacket(p: UtpPacket, now: number): void {
    if (this.freed) return;
    this.stats.packetsReceived++;
    this.lastReceived = now;
    this.replyMicro = (now - p.timestamp) >>> 0;
    const type = p.type;

    if (type === ST_RESET) {
      this.destroy(new BtError('ERR_CLOSED', 'uTP connection reset by peer', { op: 'read' }));
      return;
    }
    if (type === ST_SYN) {
      // A repeated SYN (our ST_STATE was lost): answer again. Only meaningful for the acceptor.
      if (!this.outgoing && seqDiff(p.seqNr, this.ackNr) === 0 && !this.established) this.acceptSyn();
      return;
    }

    if (this.state === 'syn-sent') {
      if (p.ackNr !== seqAdd(this.seqNr, -1)) return; // not the answer to our SYN
      this.state = 'connected';
      this.established = true;
      // ST_STATE does not consume a sequence number: the acceptor's first DATA carries this seq_nr.
      this.ackNr = seqAdd(p.seqNr, -1);
      const syn = this.out[seqAdd(this.seqNr, -1) % OUT_RING];
      if (syn && syn.transmissions === 1) this.rttSample(now - syn.sentAt);
      this.ackedSeq = p.ackNr;
      this.lossSeq = this.ackedSeq;
      this.clearOut(p.ackNr);
      this.inFlight = 0;
      this.peerWnd = p.wndSize;
      this.consecutiveTimeouts = 0;
      this.rtoDeadline = 0;
      this.o.onConnect?.();
      if (this.freed) return;
    } else {
      if (!this.established) {
        // Acceptor: the first packet after the SYN; its ack must be for our ST_STATE (our seq_nr - 1).
        if (seqDiff(p.ackNr, seqAdd(this.seqNr, -1)) > 0) return;
        this.established = true;
        this.o.onConnect?.();
        if (this.freed) return;
      }
      if (!this.processAck(p, now)) return;
    }

    if (type === ST_DATA || type === ST_FIN) this.receiveData(p, now);
    if (this.freed) return;
    this.flush(now);
    this.maybeFinish();
  }

  /** Periodic housekeeping: retransmission timeout, connect timeout, keep-alive, dead peer. */
  tick(now: number): void {
    if (this.freed) return;
    if (this.state === 'syn-sent') {
      if (now - this.createdAt >= (this.o.connectTimeoutMs ?? 10_000) * 1000) {
        this.destroy(new BtError('ERR_TIMEOUT', 'uTP connect timed out', { op: 'connect' }));
        return;
      }
      if (now - this.synSentAt >= this.rtoUs) {
        this.rtoUs = Math.min(this.rtoUs * 2, 8_000_000);
        this.sendSyn(now);
      }
      return;
    }
    if (!this.established && now - this.createdAt >= (this.o.connectTimeoutMs ?? 10_000) * 1000) {
      // A half-open acceptor (a SYN nobody followed up): forget it quietly.
      this.destroy(new BtError('ERR_TIMEOUT', 'uTP peer never completed the handshake', { op: 'connect' }));
      return;
    }
    if (now - this.lastReceived >= (this.o.idleTimeoutMs ?? 120_000) * 1000) {
      this.destroy(new BtError('ERR_TIMEOUT', 'uTP peer went silent', { op: 'read' }));
      return;
    }
    if (this.rtoDeadline !== 0 && now >= this.rtoDeadline) {
      this.onRto(now);
      if (this.freed) return;
    }
    if (this.finAckedAt >= 0 && now - this.finAckedAt >= Math.max(this.rtoUs, 2_000_000)) {
      this.destroy(undefined);
      return;
    }
    // Zero window: the peer advertised no room and nothing is in flight to bring a window update; probe.
    if (this.zeroWindowSince >= 0 && now - this.zeroWindowSince >= Math.max(this.rtoUs, 1_000_000)) {
      this.zeroWindowSince = -1;
      this.peerWnd = this.packetSize;
      this.flush(now);
    }
    if (now - this.lastSent >= (this.o.keepAliveMs ?? 29_000) * 1000) this.sendControl(ST_STATE, now);
  }

  // ---------------------------------------------------------------- introspection (tests, stats)

  get cwnd(): number {
    return this.ledbat.cwnd;
  }
  get bytesInFlight(): number {
    return this.inFlight;
  }
  get peerWindow(): number {
    return this.peerWnd;
  }
  get currentPacketSize(): number {
    return this.packetSize;
  }
  get rto(): number {
    return this.rtoUs;
  }
  get nextSeq(): number {
    return this.seqNr;
  }
  get lastAckNr(): number {
    return this.ackNr;
  }
  get isFreed(): boolean {
    return this.freed;
  }
  /** A snapshot of the internals, for diagnostics and tests. */
  debugState(): Record<string, number | string | boolean> {
    return {
      state: this.state,
      seqNr: this.seqNr,
      ackedSeq: this.ackedSeq,
      ackNr: this.ackNr,
      inFlight: this.inFlight,
      resendPending: this.resendPending,
      sendQBytes: this.sendQBytes,
      peerWnd: this.peerWnd,
      cwnd: Math.round(this.ledbat.cwnd),
      reorderCount: this.reorderCount,
      heldBytes: this.heldBytes,
      rttUs: Math.round(this.rttUs),
      rtoUs: Math.round(this.rtoUs),
      rtoDeadline: this.rtoDeadline,
      zeroWindowSince: this.zeroWindowSince,
      eofSeq: this.eofSeq,
      finSeq: this.finSeq,
    };
  }

  // ---------------------------------------------------------------- ACK processing

  /** Returns false when the packet must be dropped (it acknowledges data we never sent). */
  private processAck(p: UtpPacket, now: number): boolean {
    const lastSent = seqAdd(this.seqNr, -1);
    const d = seqDiff(p.ackNr, this.ackedSeq);
    if (seqDiff(p.ackNr, lastSent) > 0) return false; // acks the future: hostile or confused
    if (d < 0) return true; // an older ACK overtaken by a newer one: ignore it, still take the data
    this.peerWnd = p.wndSize;
    let acked = 0;
    let rttTaken = false;
    if (d > 0) {
      for (let i = 0; i < d; i++) {
        const s = seqAdd(this.ackedSeq, 1 + i);
        const pkt = this.out[s % OUT_RING];
        if (!pkt) continue;
        if (!pkt.sacked) {
          if (!pkt.needResend) this.inFlight -= pkt.size;
          else this.resendPending--;
          acked += pkt.size;
        }
        if (!rttTaken && s === p.ackNr && pkt.transmissions === 1) {
          this.rttSample(now - pkt.sentAt);
          rttTaken = true;
        }
        this.out[s % OUT_RING] = undefined;
      }
      this.ackedSeq = p.ackNr;
      this.dupAcks = 0;
      this.consecutiveTimeouts = 0;
      this.rtoDeadline = this.inFlight > 0 || this.resendPending > 0 ? now + this.rtoUs : 0;
      if (this.finSeq >= 0 && seqDiff(this.ackedSeq, this.finSeq) >= 0 && this.finAckedAt < 0) this.finAckedAt = now;
    } else if (d === 0 && p.type === ST_STATE && !p.sack && this.inFlight + this.resendPending > 0 && p.ackNr !== lastSent) {
      if (++this.dupAcks === 3) this.fastResend(seqAdd(this.ackedSeq, 1), now);
    }
    if (p.sack) acked += this.processSack(p.ackNr, p.sack, now);
    if (p.timestampDiff !== 0 && acked > 0) this.ledbat.onDelaySample(p.timestampDiff, now);
    if (acked > 0) {
      this.ledbat.onAck(acked, this.cwndLimited);
      if (this.inFlight < 0) this.inFlight = 0;
    }
    return true;
  }

  /** Mark selectively acknowledged packets; a packet with 3 or more SACKed packets after it is lost. */
  private processSack(ackNr: number, mask: Uint8Array, now: number): number {
    const lastSent = seqAdd(this.seqNr, -1);
    let acked = 0;
    let highest = -1;
    const bits = mask.length * 8;
    for (let i = 0; i < bits; i++) {
      if ((mask[i >> 3]! & (1 << (i & 7))) === 0) continue;
      const s = seqAdd(ackNr, 2 + i);
      if (seqDiff(s, lastSent) > 0) break; // bits for unsent packets: ignore the rest
      const pkt = this.out[s % OUT_RING];
      highest = i;
      if (!pkt || pkt.sacked) continue;
      pkt.sacked = true;
      if (pkt.needResend) {
        pkt.needResend = false;
        this.resendPending--;
      } else this.inFlight -= pkt.size;
      acked += pkt.size;
    }
    if (highest < 0) return acked;
    // Walk from the hole at ack_nr + 1 upwards: anything not SACKed with >= 3 SACKed packets above it is lost.
    let above = 0;
    let lost = false;
    for (let i = highest; i >= -1; i--) {
      const s = seqAdd(ackNr, 2 + i);
      const pkt = this.out[s % OUT_RING];
      if (!pkt) continue;
      if (pkt.sacked) {
        above++;
        continue;
      }
      // A packet already resent is only declared lost again once its resend had time to be acknowledged.
      if (above >= 3 && !pkt.needResend && (pkt.transmissions === 1 || now - pkt.sentAt > this.rttUs + this.rttVarUs)) {
        this.markLost(pkt);
        this.stats.fastRetransmits++;
        lost = true;
      }
    }
    if (lost) {
      this.lossEvent();
      this.flush(now);
    }
    return acked;
  }

  private fastResend(seq: number, now: number): void {
    const pkt = this.out[seq % OUT_RING];
    if (!pkt || pkt.sacked || pkt.needResend) return;
    this.stats.fastRetransmits++;
    this.markLost(pkt);
    this.lossEvent();
    this.flush(now);
  }

  private markLost(pkt: OutPacket): void {
    pkt.needResend = true;
    this.inFlight -= pkt.size;
    this.resendPending++;
  }

  private lossEvent(): void {
    if (seqDiff(this.ackedSeq, this.lossSeq) < 0) return; // already reacted in this window
    this.ledbat.onLoss();
    this.lossSeq = seqAdd(this.seqNr, -1);
  }

  private rttSample(us: number): void {
    if (us < 0) return;
    if (this.rttUs === 0) {
      this.rttUs = us;
      this.rttVarUs = us / 2;
    } else {
      this.rttVarUs += (Math.abs(this.rttUs - us) - this.rttVarUs) / 4;
      this.rttUs += (us - this.rttUs) / 8;
    }
    this.rtoUs = Math.max(this.rttUs + 4 * this.rttVarUs, (this.o.minRtoMs ?? 500) * 1000);
  }

  private onRto(now: number): void {
    if (this.inFlight + this.resendPending <= 0) {
      this.rtoDeadline = 0;
      return;
    }
    this.stats.timeouts++;
    if (++this.consecutiveTimeouts > (this.o.maxTimeouts ?? 7)) {
      this.destroy(new BtError('ERR_TIMEOUT', `uTP peer stopped acknowledging (${this.consecutiveTimeouts - 1} timeouts)`, { op: 'write' }));
      return;
    }
    const first = this.out[seqAdd(this.ackedSeq, 1) % OUT_RING];
    if (first && first.size > (this.o.safePacketSize ?? SAFE_PACKET_SIZE) && first.transmissions >= 2) {
      // Large packets keep vanishing while we still hear from the peer: the path MTU may be smaller.
      if (++this.largeLosses >= 2 && this.packetSize > (this.o.safePacketSize ?? SAFE_PACKET_SIZE)) {
        this.packetSize = this.o.safePacketSize ?? SAFE_PACKET_SIZE;
        this.ledbat.mss = this.packetSize;
      }
    }
    this.ledbat.onTimeout();
    this.lossSeq = seqAdd(this.seqNr, -1);
    this.rtoUs = Math.min(this.rtoUs * 2, 60_000_000);
    // Everything outstanding is presumed lost; resend from the oldest as the (now one-packet) window allows.
    for (let s = seqAdd(this.ackedSeq, 1); s !== this.seqNr; s = seqAdd(s, 1)) {
      const pkt = this.out[s % OUT_RING];
      if (pkt && !pkt.sacked && !pkt.needResend) this.markLost(pkt);
    }
    this.inFlight = 0;
    this.rtoDeadline = now + this.rtoUs;
    this.flush(now, true);
  }

  // ---------------------------------------------------------------- receive path

  private receiveData(p: UtpPacket, now: number): void {
    const d = seqDiff(p.seqNr, this.ackNr);
    if (p.type === ST_FIN) {
      if (this.eofSeq < 0) {
        if (d <= 0 || d > REORDER_SLOTS) return;
        this.eofSeq = p.seqNr;
      } else if (p.seqNr !== this.eofSeq) return;
    } else if (this.eofSeq >= 0 && seqDiff(p.seqNr, this.eofSeq) >= 0) {
      return; // data after the FIN: ignore
    }
    if (d <= 0) {
      // Duplicate: acknowledge again so a sender that lost our ACK moves on.
      this.stats.duplicatesReceived++;
      this.sendAck(now);
      return;
    }
    if (d === 1) {
      this.ackNr = p.seqNr;
      if (p.type === ST_DATA) this.deliver(p.payload);
      if (this.reorderCount > 0) this.drainReorder();
      if (this.reorderCount > 0 || ++this.ackPending >= this.ackEvery) this.sendAck(now);
      else if (this.o.onBatchWork) this.queueBatch();
      else this.armDelayedAck();
    } else {
      if (d > REORDER_SLOTS) return; // beyond what we hold: the sender will resend
      const slot = p.seqNr % REORDER_SLOTS;
      if (this.reorder[slot] === undefined) {
        if (this.reorderBytes + this.heldBytes + this.pendingBytes + p.payload.length > this.recvBuf + this.packetSize * 4) return;
        this.reorder[slot] = p.payload;
        this.reorderCount++;
        this.reorderBytes += p.payload.length;
        if (d > this.reorderMax) this.reorderMax = d;
      } else {
        this.stats.duplicatesReceived++;
      }
      // Out of order: acknowledge at once with a SACK so the sender sees the hole.
      this.sendAck(now);
    }
    if (this.eofSeq >= 0 && this.ackNr === this.eofSeq && !this.gotFin) {
      this.gotFin = true;
      this.sendAck(now);
      // The peer finished: report an orderly close once its data is delivered, and answer with our FIN.
      if (!this.finPending) {
        this.finPending = true;
        this.flush(now);
      }
      this.reportClose(undefined);
    }
  }

  private drainReorder(): void {
    for (;;) {
      const next = seqAdd(this.ackNr, 1);
      if (this.eofSeq >= 0 && next === this.eofSeq) {
        const slot = next % REORDER_SLOTS;
        if (this.reorder[slot] !== undefined) {
          this.reorder[slot] = undefined;
          this.reorderCount--;
          this.ackNr = next;
        }
        break;
      }
      const slot = next % REORDER_SLOTS;
      const chunk = this.reorder[slot];
      if (chunk === undefined) break;
      this.reorder[slot] = undefined;
      this.reorderCount--;
      this.reorderBytes -= chunk.length;
      this.ackNr = next;
      this.deliver(chunk);
      if (this.freed) return;
    }
    if (this.reorderCount === 0) this.reorderMax = 0;
  }

  private deliver(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.stats.bytesReceived += chunk.length;
    if (this.o.onBatchWork) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      this.queueBatch();
      return;
    }
    if (this.handlers && !this.paused && this.held.length === 0) this.handlers.onData(chunk);
    else {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
    }
  }

  private queueBatch(): void {
    if (this.batchQueued) return;
    this.batchQueued = true;
    this.o.onBatchWork!();
  }

  /**
   * Batched mode, end of a batch of datagrams: hand the in-order data received in it to the reader as one chunk
   * (the peer layer's frame decoder reassembles messages across chunks anyway), then acknowledge it with one
   * ACK unless data we sent meanwhile (a reply to what was delivered) already carried the ack_nr.
   */
  endBatch(now: number): void {
    this.batchQueued = false;
    if (this.pendingBytes > 0) {
      const list = this.pending;
      const total = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
      let chunk: Uint8Array;
      if (list.length === 1) chunk = list[0]!;
      else {
        chunk = Buffer.allocUnsafeSlow(total);
        let off = 0;
        for (const c of list) {
          chunk.set(c, off);
          off += c.length;
        }
      }
      if (this.handlers && !this.paused && this.held.length === 0) this.handlers.onData(chunk);
      else {
        this.held.push(chunk);
        this.heldBytes += chunk.length;
      }
      this.tryReportClose();
    }
    if (this.freed || this.ackPending === 0) return;
    if (this.ackPending >= (this.o.batchAckMin ?? DEFAULT_BATCH_ACK_MIN)) this.sendAck(now);
    else this.armDelayedAck(this.o.batchAckDelayMs ?? 1);
  }

  private flushHeld(): void {
    while (this.held.length > 0 && this.handlers && !this.paused) {
      const c = this.held.shift()!;
      this.heldBytes -= c.length;
      this.handlers.onData(c);
    }
    this.tryReportClose();
  }

  private advertisedWindow(): number {
    return Math.max(0, this.recvBuf - this.heldBytes - this.pendingBytes - this.reorderBytes);
  }

  private armDelayedAck(ms = this.o.delayedAckMs ?? 0): void {
    if (this.ackTimer) return;
    this.ackTimer = this.clock.setTimeout(() => {
      this.ackTimer = undefined;
      if (!this.freed && this.ackPending > 0) this.sendAck(this.micros());
    }, ms);
  }

  // ---------------------------------------------------------------- send path

  private sendSyn(now: number): void {
    const seq = this.synTries === 0 ? this.seqNr : seqAdd(this.seqNr, -1);
    const buf = new Uint8Array(HEADER_SIZE);
    writeHeader(buf, {
      type: ST_SYN,
      connectionId: this.recvId,
      timestamp: now >>> 0,
      timestampDiff: 0,
      wndSize: this.advertisedWindow(),
      seqNr: seq,
      ackNr: 0,
    });
    if (this.synTries === 0) {
      this.out[seq % OUT_RING] = { buf, size: HEADER_SIZE, sentAt: now, transmissions: 1, needResend: false, sacked: false };
      this.seqNr = seqAdd(this.seqNr, 1);
    } else {
      const pkt = this.out[seq % OUT_RING];
      if (pkt) pkt.transmissions++;
    }
    this.synTries++;
    this.synSentAt = now;
    this.emit(buf, now);
  }

  /** ST_STATE / ST_RESET: header (plus a SACK on ST_STATE when packets wait out of order). */
  private sendControl(type: UtpType, now: number): void {
    let sackLen = 0;
    if (type === ST_STATE && this.reorderCount > 0) {
      sackLen = Math.min(SACK_SEND_BYTES, Math.ceil((this.reorderMax - 1) / 32) * 4);
      if (sackLen <= 0) sackLen = 4;
    }
    const buf = new Uint8Array(HEADER_SIZE + (sackLen > 0 ? 2 + sackLen : 0));
    writeHeader(
      buf,
      {
        type,
        connectionId: this.sendId,
        timestamp: now >>> 0,
        timestampDiff: this.replyMicro,
        wndSize: this.advertisedWindow(),
        seqNr: this.seqNr,
        ackNr: this.ackNr,
      },
      sackLen > 0 ? EXT_SACK : 0,
    );
    if (sackLen > 0) {
      buf[HEADER_SIZE] = 0;
      buf[HEADER_SIZE + 1] = sackLen;
      const base = HEADER_SIZE + 2;
      for (let i = 0; i < sackLen * 8; i++) {
        const s = seqAdd(this.ackNr, 2 + i);
        if (this.reorder[s % REORDER_SLOTS] !== undefined && seqDiff(s, this.ackNr) <= REORDER_SLOTS) {
          buf[base + (i >> 3)]! |= 1 << (i & 7);
        }
      }
    }
    if (type === ST_STATE) this.ackPending = 0;
    this.emit(buf, now);
  }

  private sendAck(now: number): void {
    this.sendControl(ST_STATE, now);
  }

  private emit(buf: Uint8Array, now: number): void {
    this.stats.packetsSent++;
    this.lastSent = now;
    this.o.send(buf);
  }

  /** Refresh the header of a packet about to go (again) on the wire. */
  private stamp(pkt: OutPacket, now: number): void {
    const b = pkt.buf;
    writeU32(b, 4, now >>> 0);
    writeU32(b, 8, this.replyMicro);
    writeU32(b, 12, this.advertisedWindow());
    b[18] = (this.ackNr >>> 8) & 0xff;
    b[19] = this.ackNr & 0xff;
    pkt.sentAt = now;
  }

  private window(): number {
    return Math.min(this.ledbat.cwnd, this.peerWnd);
  }

  /** Send what the window allows: lost packets first, then new data, then a pending FIN. */
  private flush(now: number, force = false): void {
    if (this.freed || this.state === 'syn-sent' || this.state === 'closed') return;
    let sentData = false;
    // 1. Retransmissions, oldest first.
    if (this.resendPending > 0) {
      for (let s = seqAdd(this.ackedSeq, 1); s !== this.seqNr && this.resendPending > 0; s = seqAdd(s, 1)) {
        const pkt = this.out[s % OUT_RING];
        if (!pkt || !pkt.needResend) continue;
        if (this.inFlight > 0 && this.inFlight + pkt.size > this.window() && !force) {
          this.cwndLimited = true;
          return;
        }
        force = false;
        pkt.needResend = false;
        this.resendPending--;
        pkt.transmissions++;
        this.inFlight += pkt.size;
        this.stats.retransmits++;
        this.stamp(pkt, now);
        this.emit(pkt.buf, now);
        sentData = true;
        if (this.rtoDeadline === 0) this.rtoDeadline = now + this.rtoUs;
      }
      if (this.resendPending > 0) return;
    }
    // 2. New data.
    const sendQ = this.sendQ;
    while (this.sendQBytes > 0) {
      if (seqDiff(this.seqNr, this.ackedSeq) >= OUT_RING - 1) {
        this.cwndLimited = true;
        break;
      }
      const win = this.window();
      const maxPayload = this.packetSize - HEADER_SIZE;
      const n = Math.min(maxPayload, this.sendQBytes);
      const size = HEADER_SIZE + n;
      if (n < maxPayload && this.inFlight > 0 && !this.finPending && this.o.nagle !== false) {
        // Nagle (libtorrent's m_nagle): less than a full packet queued while data is in flight waits for the next
        // ACK, so a burst of small writes (BitTorrent requests, HAVEs) leaves as a few full packets.
        break;
      }
      if (this.inFlight > 0 && this.inFlight + size > win) {
        this.cwndLimited = true;
        if (this.peerWnd < size && this.zeroWindowSince < 0) this.zeroWindowSince = now;
        break;
      }
      if (this.inFlight === 0 && this.peerWnd < Math.min(size, this.packetSize)) {
        // Zero (or tiny) window with nothing in flight: wait for a window update or the probe timer.
        if (this.zeroWindowSince < 0) this.zeroWindowSince = now;
        break;
      }
      this.zeroWindowSince = -1;
      const buf = Buffer.allocUnsafe(size);
      let off = HEADER_SIZE;
      let left = n;
      while (left > 0) {
        const c = sendQ[this.sendQHead]!;
        const take = Math.min(left, c.length - this.sendQOff);
        buf.set(take === c.length ? c : c.subarray(this.sendQOff, this.sendQOff + take), off);
        off += take;
        left -= take;
        this.sendQOff += take;
        if (this.sendQOff === c.length) {
          sendQ[this.sendQHead++] = EMPTY;
          this.sendQOff = 0;
        }
      }
      this.sendQBytes -= n;
      writeHeader(buf, {
        type: ST_DATA,
        connectionId: this.sendId,
        timestamp: now >>> 0,
        timestampDiff: this.replyMicro,
        wndSize: this.advertisedWindow(),
        seqNr: this.seqNr,
        ackNr: this.ackNr,
      });
      const pkt: OutPacket = { buf, size, sentAt: now, transmissions: 1, needResend: false, sacked: false };
      this.out[this.seqNr % OUT_RING] = pkt;
      this.seqNr = seqAdd(this.seqNr, 1);
      this.inFlight += size;
      this.stats.bytesSent += n;
      this.ackPending = 0; // the DATA carries our ack_nr
      this.emit(buf, now);
      sentData = true;
      if (this.rtoDeadline === 0) this.rtoDeadline = now + this.rtoUs;
    }
    if (this.sendQBytes === 0) {
      this.cwndLimited = false;
      if (this.sendQHead > 0) {
        this.sendQ = [];
        this.sendQHead = 0;
      }
    } else if (this.sendQHead > 1024 && this.sendQHead * 2 > this.sendQ.length) {
      this.sendQ = this.sendQ.slice(this.sendQHead);
      this.sendQHead = 0;
    }
    // 3. FIN once everything queued is packetised.
    if (this.finPending && this.sendQBytes === 0 && this.finSeq < 0) {
      const buf = new Uint8Array(HEADER_SIZE);
      writeHeader(buf, {
        type: ST_FIN,
        connectionId: this.sendId,
        timestamp: now >>> 0,
        timestampDiff: this.replyMicro,
        wndSize: this.advertisedWindow(),
        seqNr: this.seqNr,
        ackNr: this.ackNr,
      });
      this.finSeq = this.seqNr;
      this.out[this.seqNr % OUT_RING] = { buf, size: HEADER_SIZE, sentAt: now, transmissions: 1, needResend: false, sacked: false };
      this.seqNr = seqAdd(this.seqNr, 1);
      this.inFlight += HEADER_SIZE;
      this.state = 'fin-sent';
      this.emit(buf, now);
      if (this.rtoDeadline === 0) this.rtoDeadline = now + this.rtoUs;
    }
    if (sentData && this.needDrain && this.sendQBytes < (this.o.sendHighWater ?? 1024 * 1024) / 2) {
      this.needDrain = false;
      this.handlers?.onDrain();
    }
  }

  private clearOut(through: number): void {
    const s = this.out[through % OUT_RING];
    if (s) this.out[through % OUT_RING] = undefined;
  }

  /** Both directions finished (the peer's FIN received, ours acknowledged): forget the connection. */
  private maybeFinish(): void {
    if (this.finAckedAt >= 0 && this.gotFin) this.destroy(undefined);
  }

  // ---------------------------------------------------------------- teardown

  private pendingClose: { err: Error | undefined } | undefined;

  private reportClose(err: Error | undefined): void {
    if (this.closeReported) return;
    this.pendingClose ??= { err };
    this.tryReportClose();
  }

  private tryReportClose(): void {
    const pc = this.pendingClose;
    if (this.closeReported || !pc || !this.handlers) return;
    // An orderly close reaches the reader after the data held for it (delivered on resume / setHandlers).
    if (pc.err === undefined && (this.held.length > 0 || this.pendingBytes > 0)) return;
    this.closeReported = true;
    this.handlers.onClose(pc.err);
  }

  private destroy(err: Error | undefined): void {
    if (this.freed) return;
    this.freed = true;
    this.state = 'closed';
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
    this.ackTimer?.cancel();
    this.ackTimer = undefined;
    this.out.fill(undefined);
    this.reorder.fill(undefined);
    this.sendQ = [];
    this.sendQBytes = 0;
    this.inFlight = 0;
    this.o.onFreed?.(err);
    if (err !== undefined || this.userClosed) {
      // Failed, or closed by the reader: nothing more reaches it. An orderly end still delivers what is held
      // and pending (endBatch() runs after the batch that freed the connection).
      this.pending = [];
      this.pendingBytes = 0;
    }
    if (err !== undefined) {
      this.held = [];
      this.heldBytes = 0;
    }
    this.reportClose(err);
  }
}

const EMPTY = new Uint8Array(0);
