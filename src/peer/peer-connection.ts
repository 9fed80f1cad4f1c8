/**
 * PeerConnection (BEP 3 message framing, BEP 6 fast, BEP 10 extended): one handshaken peer over any Connection,
 * as a pipe of whole messages. It frames and unframes them, refuses messages whose shape is wrong for the torrent
 * (piece indices out of range, a bitfield of the wrong length, fast-extension messages from a peer without it),
 * and keeps rates and activity times. Every other per-peer fact (choke and interest flags, what the peer has,
 * its extensions) belongs to the torrent's PeerSession; the torrent decides what each message means (handler
 * callbacks, not events, on the hot path).
 *
 * Errors: a message that cannot be decoded or has the wrong shape closes the peer as a protocol error. An
 * exception thrown by the handler is the engine's own bug, not the peer's: it goes to `handler.onError`.
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
  /** The handler threw while handling `msg`: a bug of ours. Absent: the peer is closed with the error. */
  onError?(peer: PeerConnection, err: unknown, msg: Message): void;
}

export interface PeerConnectionInit {
  conn: Connection;
  peerId: Uint8Array;
  reserved: Uint8Array;
  /** The decoder used for the handshake, holding any bytes that followed it. */
  decoder: FrameDecoder;
  /** Pieces in the torrent; 0 while the metadata is being fetched (then piece messages are not checked). */
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
  readonly pieceCount: number;

  readonly down = new RateMeter(5);
  readonly up = new RateMeter(5);
  lastReceived: number;
  lastSent: number;
  lastPieceAt: number;
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
    this.pieceCount = init.pieceCount;
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
    } catch (e) {
      return this.close(e instanceof Error ? `protocol error: ${e.message}` : 'protocol error');
    }
    for (;;) {
      let msg: Message;
      try {
        const m = this.decoder.next();
        if (m === null) break;
        if (m.kind !== 'message') throw new BtError('ERR_PROTOCOL', 'unexpected second handshake', { op: 'message' });
        msg = m.message;
      } catch (e) {
        return this.close(e instanceof Error ? `protocol error: ${e.message}` : 'protocol error');
      }
      const bad = this.pieceCount > 0 ? shapeError(msg, this.pieceCount, this.fast) : undefined;
      if (bad !== undefined) return this.close(bad);
      if (msg.type === 'piece') {
        const now = this.clock.now();
        this.down.add(msg.block.length, now);
        this.lastPieceAt = now;
      }
      try {
        this.handler.onMessage(this, msg);
      } catch (e) {
        if (this.handler.onError) this.handler.onError(this, e, msg);
        else this.close(`internal error: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.closed) return;
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

/**
 * Why a message cannot be right for a torrent of `pieceCount` pieces (the reason the peer is closed with), or
 * undefined. Requests are checked against piece sizes by the torrent, which knows them.
 */
export function shapeError(msg: Message, pieceCount: number, fast: boolean): string | undefined {
  switch (msg.type) {
    case 'bitfield':
      return Bitfield.spareBitsClear(pieceCount, msg.bits) ? undefined : 'bitfield has the wrong length or spare bits set';
    case 'have':
      return msg.index < pieceCount ? undefined : `have for piece ${msg.index} out of range`;
    case 'piece':
      return msg.index < pieceCount ? undefined : 'piece index out of range';
    case 'have-all':
    case 'have-none':
    case 'reject':
      return fast ? undefined : `${msg.type} without the fast extension`;
    default:
      return undefined;
  }
}
