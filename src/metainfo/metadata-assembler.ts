/**
 * BEP 9 metadata download, as a pure state machine: which 16 KiB pieces of the info dictionary are still
 * needed, which peer was asked for which piece and when (time from an injected Clock), the pieces that
 * arrived, and the SHA-1 check of the whole against the info-hash once the last piece is in.
 *
 * The engine drives it: `request(peer)` picks the next piece to ask a peer for (spreading pieces over the
 * peers that support ut_metadata), `onData` / `onReject` record replies, `expire()` (on the engine's
 * timer) frees requests that went unanswered so another peer is asked, `removePeer` on disconnect. When
 * the hash does not match, the peers that contributed pieces are named (to be dropped) and banned from
 * this assembler, and everything restarts. The wire codec is src/wire/ut-metadata.ts.
 */
import type { Clock } from '../core/index.js';
import { BtError } from '../core/index.js';
import { toHex } from '../util/index.js';
import { sha1 } from './info-hash.js';

/** Size of every metadata piece but the last (BEP 9). */
export const METADATA_PIECE_SIZE = 16 * 1024;

/** Default bound on metadata_size we accept (8 MiB, a ~400k-piece torrent; libtorrent's default is 30 MiB). */
export const DEFAULT_MAX_METADATA_SIZE = 8 * 1024 * 1024;

function bad(message: string, field?: string): never {
  throw new BtError('ERR_METADATA', message, { op: 'validate', field });
}

/** Throws BtError ERR_METADATA unless size is an integer in 1..max. */
export function checkMetadataSize(size: number, max: number = DEFAULT_MAX_METADATA_SIZE): void {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) bad(`metadata size ${String(size)} is not a positive integer`, 'metadata_size');
  if (size > max) bad(`metadata size ${size} exceeds the limit of ${max} bytes`, 'metadata_size');
}

/** Number of 16 KiB pieces of a metadata size (a positive integer). */
export function metadataPieceCount(metadataSize: number): number {
  checkMetadataSize(metadataSize, Number.MAX_SAFE_INTEGER);
  return Math.ceil(metadataSize / METADATA_PIECE_SIZE);
}

/** Length of metadata piece `piece` (16 KiB except the last). Throws ERR_METADATA when out of range. */
export function metadataPieceLength(metadataSize: number, piece: number): number {
  const count = metadataPieceCount(metadataSize);
  if (typeof piece !== 'number' || !Number.isInteger(piece) || piece < 0 || piece >= count) bad(`piece ${String(piece)} is out of range 0..${count - 1}`, 'piece');
  return piece === count - 1 ? metadataSize - METADATA_PIECE_SIZE * (count - 1) : METADATA_PIECE_SIZE;
}

export interface MetadataAssemblerOptions {
  /** The 20-byte v1 info-hash the assembled dictionary must hash to. */
  infoHash: Uint8Array;
  /** metadata_size from a peer's extended handshake (BEP 9). */
  metadataSize: number;
  clock: Clock;
  /** Bound on metadataSize (default DEFAULT_MAX_METADATA_SIZE): larger is refused with ERR_METADATA. */
  maxMetadataSize?: number;
  /** A request unanswered this long is freed by expire() (default 15 s). */
  requestTimeoutMs?: number;
  /** Requests in flight per peer (default 2). */
  maxRequestsPerPeer?: number;
  /** Peers asked for the same piece at once when nothing unasked is left (default 2). */
  maxRequestersPerPiece?: number;
}

export type MetadataDataResult<P> =
  /** Not requested from this peer, or already received: nothing to do. */
  | { status: 'ignored'; reason: 'not-requested' | 'have' | 'complete' }
  | { status: 'progress'; have: number; total: number }
  /** All pieces in and the SHA-1 matches: the info dictionary's bytes. */
  | { status: 'complete'; infoBytes: Uint8Array }
  /** All pieces in but the SHA-1 differs: these peers sent pieces (drop them); everything restarts. */
  | { status: 'hash-failed'; peers: P[] };

export interface ExpiredRequest<P> {
  peer: P;
  piece: number;
}

/**
 * Assembles one torrent's info dictionary. `P` identifies a peer (a connection object or a string key):
 * compared with ===.
 */
export class MetadataAssembler<P = string> {
  readonly infoHash: Uint8Array;
  readonly metadataSize: number;
  readonly pieceCount: number;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly perPeer: number;
  private readonly perPiece: number;
  private buf: Uint8Array | undefined;
  private readonly have: boolean[];
  private haveCount = 0;
  /** Who sent each piece we have. */
  private readonly from: (P | undefined)[];
  /** piece → (peer → time asked). */
  private readonly asked = new Map<number, Map<P, number>>();
  /** peer → pieces it rejected (not asked again). */
  private readonly rejected = new Map<P, Set<number>>();
  private readonly banned = new Set<P>();
  private result: Uint8Array | undefined;

  constructor(opts: MetadataAssemblerOptions) {
    if (!(opts.infoHash instanceof Uint8Array) || opts.infoHash.length !== 20) bad('info-hash must be 20 bytes', 'infoHash');
    checkMetadataSize(opts.metadataSize, opts.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE);
    this.infoHash = opts.infoHash.slice();
    this.metadataSize = opts.metadataSize;
    this.pieceCount = metadataPieceCount(opts.metadataSize);
    this.clock = opts.clock;
    this.timeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.perPeer = Math.max(1, opts.maxRequestsPerPeer ?? 2);
    this.perPiece = Math.max(1, opts.maxRequestersPerPiece ?? 2);
    this.have = new Array<boolean>(this.pieceCount).fill(false);
    this.from = new Array<P | undefined>(this.pieceCount).fill(undefined);
  }

  get complete(): boolean {
    return this.result !== undefined;
  }

  /** The verified info dictionary once complete. */
  get infoBytes(): Uint8Array | undefined {
    return this.result;
  }

  get piecesHave(): number {
    return this.haveCount;
  }

  /** True when a peer's advertised metadata_size agrees with ours (only such peers should be asked). */
  agrees(metadataSize: number | undefined): boolean {
    return metadataSize === this.metadataSize;
  }

  isBanned(peer: P): boolean {
    return this.banned.has(peer);
  }

  /** Requests in flight, to one peer or in all. */
  outstanding(peer?: P): number {
    let n = 0;
    for (const m of this.asked.values()) n += peer === undefined ? m.size : m.has(peer) ? 1 : 0;
    return n;
  }

  /**
   * The next piece to ask `peer` for, recorded as asked now; undefined when there is nothing for this peer
   * (complete, banned, its request limit reached, or every missing piece asked of it / rejected by it).
   * Unasked pieces go first; then a piece already asked of another peer (at most maxRequestersPerPiece).
   */
  request(peer: P): number | undefined {
    if (this.result !== undefined || this.banned.has(peer)) return undefined;
    if (this.outstanding(peer) >= this.perPeer) return undefined;
    const rejected = this.rejected.get(peer);
    let best = -1;
    let bestLoad = Infinity;
    for (let i = 0; i < this.pieceCount; i++) {
      if (this.have[i] || rejected?.has(i)) continue;
      const m = this.asked.get(i);
      const load = m === undefined ? 0 : m.size;
      if (m?.has(peer) || load >= this.perPiece) continue;
      if (load < bestLoad) {
        best = i;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    if (best < 0) return undefined;
    let m = this.asked.get(best);
    if (m === undefined) this.asked.set(best, (m = new Map()));
    m.set(peer, this.clock.now());
    return best;
  }

  /**
   * A data piece from `peer` (already decoded; its length is checked again here: a wrong length is
   * BtError ERR_METADATA, a protocol violation). Pieces we did not ask this peer for are ignored.
   */
  onData(peer: P, piece: number, data: Uint8Array): MetadataDataResult<P> {
    const want = metadataPieceLength(this.metadataSize, piece);
    if (data.length !== want) bad(`metadata piece ${piece} is ${data.length} bytes, expected ${want}`, 'data');
    if (this.result !== undefined) return { status: 'ignored', reason: 'complete' };
    const m = this.asked.get(piece);
    if (m === undefined || !m.has(peer)) return { status: 'ignored', reason: this.have[piece] ? 'have' : 'not-requested' };
    m.delete(peer);
    if (this.have[piece]) return { status: 'ignored', reason: 'have' };
    // The piece is in: other peers asked for it are no longer waited for.
    this.asked.delete(piece);
    this.buf ??= new Uint8Array(this.metadataSize);
    this.buf.set(data, piece * METADATA_PIECE_SIZE);
    this.have[piece] = true;
    this.from[piece] = peer;
    this.haveCount++;
    if (this.haveCount < this.pieceCount) return { status: 'progress', have: this.haveCount, total: this.pieceCount };

    const whole = this.buf;
    if (toHex(sha1(whole)) === toHex(this.infoHash)) {
      this.result = whole;
      this.asked.clear();
      return { status: 'complete', infoBytes: whole };
    }
    const peers: P[] = [];
    for (const p of this.from) if (p !== undefined && !peers.includes(p)) peers.push(p);
    for (const p of peers) this.banned.add(p);
    this.reset();
    return { status: 'hash-failed', peers };
  }

  /** `peer` rejected `piece`: free the request and do not ask that peer for that piece again. */
  onReject(peer: P, piece: number): void {
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount) return;
    this.asked.get(piece)?.delete(peer);
    let r = this.rejected.get(peer);
    if (r === undefined) this.rejected.set(peer, (r = new Set()));
    r.add(piece);
  }

  /** True when `peer` rejected every piece we still need (it likely has no metadata: stop asking it). */
  exhausted(peer: P): boolean {
    if (this.banned.has(peer)) return true;
    const r = this.rejected.get(peer);
    if (r === undefined) return false;
    for (let i = 0; i < this.pieceCount; i++) if (!this.have[i] && !r.has(i)) return false;
    return true;
  }

  /** The peer went away: its requests are freed. */
  removePeer(peer: P): void {
    for (const m of this.asked.values()) m.delete(peer);
    this.rejected.delete(peer);
  }

  /** Free and return the requests older than the timeout (call on the engine's timer; re-request after). */
  expire(): ExpiredRequest<P>[] {
    const now = this.clock.now();
    const out: ExpiredRequest<P>[] = [];
    for (const [piece, m] of this.asked) {
      for (const [peer, at] of m) {
        if (now - at >= this.timeoutMs) {
          m.delete(peer);
          out.push({ peer, piece });
        }
      }
    }
    return out;
  }

  /** Milliseconds until the oldest request times out (0: now), or undefined when none is in flight. */
  msUntilTimeout(): number | undefined {
    let oldest = Infinity;
    for (const m of this.asked.values()) for (const at of m.values()) oldest = Math.min(oldest, at);
    return oldest === Infinity ? undefined : Math.max(0, oldest + this.timeoutMs - this.clock.now());
  }

  private reset(): void {
    this.have.fill(false);
    this.from.fill(undefined);
    this.haveCount = 0;
    this.asked.clear();
    this.rejected.clear();
    this.buf = undefined;
  }
}
