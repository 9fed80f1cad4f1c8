/**
 * Incremental peer wire framing (BEP 3): an optional 68-byte handshake, then length-prefixed messages
 * (BEP 3/5/6/10 payloads decoded by messages.ts). Bytes may arrive in any fragmentation.
 *
 * Buffering: chunks are queued as given (never concatenated); a frame that lies inside one chunk is
 * decoded from a view of it (a piece block is a zero-copy subarray of the pushed chunk), and only a frame
 * spanning chunks is copied once. Pushed chunks must therefore not be mutated afterwards.
 * A length prefix over `maxMessageLength` is refused as soon as its 4 bytes are in, before any of the
 * frame is awaited. Drain with next() after each push(): then at most maxMessageLength + one chunk is
 * ever buffered.
 */
import { BtError } from '../core/index.js';
import { checkProtocolHeader, decodeHandshake, decodeHandshakeHead, HANDSHAKE_HEAD_LENGTH, HANDSHAKE_LENGTH } from './handshake.js';
import type { HandshakeHead } from './handshake.js';
import { decodeMessage, KEEP_ALIVE } from './messages.js';
import type { Handshake, Message } from './types.js';
import { BLOCK_SIZE } from './types.js';

export interface FrameDecoderOptions {
  /** Largest accepted frame length (the length prefix value: id + payload), e.g. 16 KiB + 9. */
  maxMessageLength: number;
  /** Expect the 68-byte BEP 3 handshake before any message. */
  expectHandshake?: boolean;
}

export type FrameResult =
  | { kind: 'handshake'; handshake: Handshake }
  | { kind: 'message'; message: Message };

/**
 * A maxMessageLength that fits a 16 KiB block (+ 9), the bitfield for `pieceCount` pieces (+ 1) and
 * BEP 10 messages such as a ut_metadata data message (16 KiB + its dictionary): at least 32 KiB.
 */
export function suggestedMaxMessageLength(pieceCount: number, blockSize = BLOCK_SIZE): number {
  return Math.max(9 + blockSize, 1 + Math.ceil(pieceCount / 8), 32 * 1024);
}

const EMPTY = new Uint8Array(0);

export class FrameDecoder {
  readonly maxMessageLength: number;
  private chunks: Uint8Array[] = [];
  /** Index of the first live chunk in `chunks` and the read offset inside it. */
  private head = 0;
  private off = 0;
  private buffered = 0;
  /** Length of the frame whose prefix has been consumed, or -1 while awaiting a prefix. */
  private frameLen = -1;
  private handshakePending: boolean;
  /** How many bytes of the 20-byte protocol header have been validated. */
  private headerChecked = 0;
  private head48: HandshakeHead | null = null;
  /** A framing error is fatal: the stream is out of sync, so every later call rethrows it. */
  private failure: BtError | null = null;

  constructor(opts: FrameDecoderOptions) {
    const max = opts.maxMessageLength;
    if (!Number.isInteger(max) || max < 1 || max > 0xffffffff) {
      throw new BtError('ERR_WIRE', `maxMessageLength must be a positive integer, got ${max}`, { op: 'create' });
    }
    this.maxMessageLength = max;
    this.handshakePending = opts.expectHandshake === true;
  }

  /** Bytes held and not yet returned (excludes a length prefix already read). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True until the handshake (when expected) has been returned by next(). */
  get awaitingHandshake(): boolean {
    return this.handshakePending;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete item, or null when more bytes are needed. Throws BtError ERR_HANDSHAKE for a bad
   * handshake, ERR_WIRE for a bad frame (fatal: later calls rethrow) or a bad payload length (the frame is
   * consumed, the stream stays in sync).
   */
  next(): FrameResult | null {
    if (this.handshakePending) {
      const hs = this.nextHandshake();
      return hs === null ? null : { kind: 'handshake', handshake: hs };
    }
    const m = this.nextMessage();
    return m === null ? null : { kind: 'message', message: m };
  }

  /**
   * Once the first 48 bytes are in: the reserved bytes and info-hash, to route an incoming connection
   * before the peer id arrives. Does not consume; next() still returns the full handshake. Null if fewer
   * than 48 bytes are buffered or no handshake is pending. Throws ERR_HANDSHAKE on a bad protocol header.
   */
  peekHandshakeHead(): HandshakeHead | null {
    if (!this.handshakePending) return null;
    this.checkHeader();
    if (this.head48 === null && this.buffered >= HANDSHAKE_HEAD_LENGTH) {
      this.head48 = decodeHandshakeHead(this.peek(HANDSHAKE_HEAD_LENGTH));
    }
    return this.head48;
  }

  /** The handshake, or null while fewer than 68 bytes are buffered. Only while awaitingHandshake. */
  nextHandshake(): Handshake | null {
    if (!this.handshakePending) throw new BtError('ERR_HANDSHAKE', 'no handshake expected', { op: 'handshake' });
    this.checkHeader();
    if (this.buffered < HANDSHAKE_LENGTH) return null;
    const hs = decodeHandshake(this.take(HANDSHAKE_LENGTH));
    this.handshakePending = false;
    this.head48 = null;
    return hs;
  }

  /** The next message without the result wrapper (the hot path), or null when more bytes are needed. */
  nextMessage(): Message | null {
    if (this.failure) throw this.failure;
    if (this.handshakePending) throw this.fail('ERR_WIRE', 'message read before the handshake');
    let len = this.frameLen;
    if (len < 0) {
      if (this.buffered < 4) return null;
      len = this.readPrefix();
      if (len > this.maxMessageLength) {
        throw this.fail('ERR_WIRE', `message length ${len} exceeds the limit of ${this.maxMessageLength} bytes`);
      }
      if (len === 0) return KEEP_ALIVE;
      this.frameLen = len;
    }
    if (this.buffered < len) return null;
    this.frameLen = -1;
    const frame = this.take(len);
    return decodeMessage(frame[0]!, frame.subarray(1));
  }

  /** Remove and return every buffered byte (e.g. to hand the stream to another layer). */
  takeBuffered(): Uint8Array {
    if (this.frameLen >= 0) throw new BtError('ERR_WIRE', 'a frame is partly consumed', { op: 'decode' });
    return this.buffered === 0 ? EMPTY : this.take(this.buffered);
  }

  // ---- internals -----------------------------------------------------------------------------

  private fail(code: 'ERR_WIRE' | 'ERR_HANDSHAKE', message: string): BtError {
    this.failure = new BtError(code, message, { op: code === 'ERR_WIRE' ? 'decode' : 'handshake' });
    return this.failure;
  }

  /** Validate as much of the protocol header as has arrived, so garbage is refused at once. */
  private checkHeader(): void {
    if (this.failure) throw this.failure;
    if (this.headerChecked >= 20 || this.buffered <= this.headerChecked) return;
    const n = Math.min(20, this.buffered);
    try {
      checkProtocolHeader(this.peek(n), n);
    } catch (e) {
      this.failure = e as BtError;
      throw e;
    }
    this.headerChecked = n;
  }

  /** Consume the 4-byte big-endian length prefix (buffered >= 4). */
  private readPrefix(): number {
    const c = this.chunks[this.head]!;
    const o = this.off;
    let v: number;
    if (c.length - o >= 4) {
      v = ((c[o]! << 24) | (c[o + 1]! << 16) | (c[o + 2]! << 8) | c[o + 3]!) >>> 0;
      this.off = o + 4;
      this.buffered -= 4;
      if (this.off === c.length) this.dropHead();
    } else {
      const b = this.take(4);
      v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    }
    return v;
  }

  /** Consume n buffered bytes (n <= buffered): a view when they lie in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    let c = this.chunks[this.head]!;
    const avail = c.length - this.off;
    if (avail >= n) {
      const r = c.subarray(this.off, this.off + n);
      this.off += n;
      if (this.off === c.length) this.dropHead();
      return r;
    }
    const out = new Uint8Array(n);
    let w = 0;
    while (w < n) {
      c = this.chunks[this.head]!;
      const k = Math.min(c.length - this.off, n - w);
      out.set(k === c.length ? c : c.subarray(this.off, this.off + k), w);
      w += k;
      this.off += k;
      if (this.off === c.length) this.dropHead();
    }
    return out;
  }

  /** Copy the first n buffered bytes (n <= buffered) without consuming them. */
  private peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let w = 0;
    let i = this.head;
    let o = this.off;
    while (w < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.length - o, n - w);
      out.set(c.subarray(o, o + k), w);
      w += k;
      i++;
      o = 0;
    }
    return out;
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.off = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
