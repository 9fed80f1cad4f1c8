/**
 * PeerConnection (BEP 3 message loop, BEP 6 fast, BEP 10 extended): one handshaken peer over any
 * Connection. It frames and unframes messages, keeps the choke/interest flags, rates and activity
 * times; the torrent decides what to do with each message (handler callbacks, not events, on the hot path).
 */
import type { Clock } from '../core/index.js';
import { BtError } from '../core/index.js';
import type { Connection } from '../transport/index.js';
import { Bitfield, RateMeter, concatBytes, formatHostPort } from '../util/index.js';
import type { Message } from '../wire/index.js';
import { FrameDecoder, encodeMessage, encodePieceHeader, supportsExtended, supportsFast } from '../wire/index.js';

export interface PeerHandler {
  onMessage(peer: PeerConnection, msg: Message): void;
  onClose(peer: PeerConnection, reason: string): void;
  onDrain(peer: PeerConnection): void;
}

export interface PeerConnectionInit {
  conn: Connection;
  peerId: Uint8Array;
  reserved: Uint8Array;
  /** The decoder used for the handshake, holding any bytes that followed it. */
  decoder: FrameDecoder;
  pieceCount: number;
  clock: Clock;
  handler: PeerHandler;
}

export class PeerConnection {
  readonly conn: Connection;
  /** "ip:port" of the remote end; the key peers are known by. */
  readonly address: string;
  readonly peerId: Uint8Array;
  readonly fast: boolean;
  readonly extended: boolean;
  readonly connectedAt: number;
  readonly have: Bitfield;
  readonly allowedFast = new Set<number>();

  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  /** Set once the peer sent bitfield / have-all / have-none (or any message: then it has none). */
  gotBitfield = false;
  isSeed = false;
  /** Extended handshake values. */
  clientName: string | undefined;
  maxRequests = 250;
  extensions: Record<string, number> = {};
  /** Slow-start floor for the pipeline while the rate estimate is young (0 once it ends). */
  slowStart = 32;

  readonly down = new RateMeter(5);
  readonly up = new RateMeter(5);
  lastReceived: number;
  lastSent: number;
  lastPieceAt: number;
  hashFailures = 0;
  private closed = false;
  private readonly decoder: FrameDecoder;
  private readonly clock: Clock;
  private readonly handler: PeerHandler;

  constructor(init: PeerConnectionInit) {
    this.conn = init.conn;
    this.address = formatHostPort(init.conn.remoteAddress, init.conn.remotePort);
    this.peerId = init.peerId;
    this.fast = supportsFast(init.reserved);
    this.extended = supportsExtended(init.reserved);
    this.decoder = init.decoder;
    this.clock = init.clock;
    this.handler = init.handler;
    this.have = new Bitfield(init.pieceCount);
    this.connectedAt = this.lastReceived = this.lastSent = this.lastPieceAt = init.clock.now();
  }

  /** Begin delivering messages (including any already buffered behind the handshake). */
  start(): void {
    this.conn.setHandlers({
      onData: (chunk) => this.onData(chunk),
      onDrain: () => this.handler.onDrain(this),
      onClose: (err) => this.close(err ? `connection error: ${err.message}` : 'closed by peer'),
    });
    this.onData(new Uint8Array(0));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    if (chunk.length > 0) this.lastReceived = this.clock.now();
    try {
      if (chunk.length > 0) this.decoder.push(chunk);
      for (;;) {
        const m = this.decoder.next();
        if (m === null) break;
        if (m.kind !== 'message') throw new BtError('ERR_PROTOCOL', 'unexpected second handshake', { op: 'message' });
        const msg = m.message;
        if (msg.type === 'piece') {
          const now = this.clock.now();
          this.down.add(msg.block.length, now);
          this.lastPieceAt = now;
        }
        this.handler.onMessage(this, msg);
        if (this.closed) return;
      }
    } catch (e) {
      this.close(e instanceof Error ? `protocol error: ${e.message}` : 'protocol error');
    }
  }

  send(msg: Message): void {
    if (this.closed) return;
    this.conn.write(encodeMessage(msg));
    this.lastSent = this.clock.now();
  }

  /** Several small messages in one write (requests, haves). */
  sendMany(msgs: Message[]): void {
    if (this.closed || msgs.length === 0) return;
    if (msgs.length === 1) return this.send(msgs[0]!);
    const out = concatBytes(msgs.map(encodeMessage));
    this.conn.write(out);
    this.lastSent = this.clock.now();
  }

  sendPiece(index: number, begin: number, block: Uint8Array): boolean {
    if (this.closed) return false;
    const out = new Uint8Array(13 + block.length);
    out.set(encodePieceHeader(index, begin, block.length), 0);
    out.set(block, 13);
    const now = this.clock.now();
    this.up.add(block.length, now);
    this.lastSent = now;
    return this.conn.write(out);
  }

  get writeBacklog(): number {
    return this.conn.writableLength;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.close(false);
    this.handler.onClose(this, reason);
  }
}
