/**
 * PieceAssembler: the buffers of pieces being downloaded, filled block by block; a complete piece is hashed
 * (off the event loop) and written only when it matches. Bytes being hashed or written count against a budget:
 * new requests wait while it is spent, so a slow disk or hasher slows the download instead of growing memory.
 * Buffers are recycled through a small pool.
 */
import type { TorrentInfo } from '../metainfo/index.js';
import { pieceHash, pieceSize } from '../metainfo/index.js';
import type { Hasher, PieceStorage } from '../storage/index.js';
import { equalBytes } from '../util/index.js';

export interface AssemblerEvents {
  /** The piece matched its hash and is on disk. */
  verified(index: number): void;
  /** The piece did not match its hash (nothing was written). */
  failed(index: number): void;
  /** Hashing or writing threw (a storage failure). */
  error(err: unknown): void;
  /** The verification budget, spent until now, has room again: requests may go out. */
  unblocked(): void;
}

export class PieceAssembler {
  private readonly partial = new Map<number, Uint8Array>();
  private readonly pool: Uint8Array[] = [];
  /** Bytes of complete pieces being hashed or written. */
  private verifyingBytes = 0;
  private readonly budget: number;
  private disposed = false;
  /**
   * Pieces hashed good whose write finished after dispose() (a stop): on disk and correct but never reported;
   * the stop's resume data counts them (else a clean save would call them missing without hashing them).
   */
  readonly writtenAfterDispose: number[] = [];

  constructor(
    private readonly info: TorrentInfo,
    private readonly storage: PieceStorage,
    private readonly hasher: Hasher,
    private readonly on: AssemblerEvents,
  ) {
    this.budget = Math.max(16 * 1024 * 1024, info.pieceLength * 4);
  }

  /** New requests wait while this is true. */
  get overBudget(): boolean {
    return this.verifyingBytes > this.budget;
  }

  /** Make sure the piece has a buffer (its first block was requested). */
  prepare(index: number): void {
    if (!this.partial.has(index)) this.partial.set(index, this.alloc(index));
  }

  /** Copy an accepted block into its piece buffer; a complete piece goes to verification. False if it does not fit. */
  store(index: number, begin: number, block: Uint8Array, pieceComplete: boolean): boolean {
    let part = this.partial.get(index);
    if (!part) {
      part = this.alloc(index);
      this.partial.set(index, part);
    }
    if (begin + block.length > part.length) return false;
    part.set(block, begin);
    if (pieceComplete) {
      this.partial.delete(index);
      void this.verify(index, part);
    }
    return true;
  }

  /** Forget every buffer; verifications under way end without reporting. */
  dispose(): void {
    this.disposed = true;
    this.partial.clear();
    this.pool.length = 0;
  }

  private async verify(index: number, piece: Uint8Array): Promise<void> {
    const size = piece.length; // `piece` is detached once its bytes travel to the hash worker
    this.verifyingBytes += size;
    try {
      // Hash first (the bytes travel to a worker and back without a copy), then write only good data.
      const { digest, data } = await this.hasher.hashPiece(piece);
      if (this.disposed) return;
      if (equalBytes(digest, pieceHash(this.info, index))) {
        await this.storage.write(index, 0, data);
        this.free(data);
        if (!this.disposed) this.on.verified(index);
        else this.writtenAfterDispose.push(index);
      } else {
        this.free(data);
        this.on.failed(index);
      }
    } catch (e) {
      if (!this.disposed) this.on.error(e);
    } finally {
      const wasBlocked = this.overBudget;
      this.verifyingBytes -= size;
      if (wasBlocked && !this.overBudget && !this.disposed) this.on.unblocked();
    }
  }

  /**
   * Piece buffers are recycled: a download allocates a few dozen instead of one per piece, which keeps
   * RSS flat (external ArrayBuffer memory is otherwise reclaimed only when V8 gets round to it).
   */
  private alloc(index: number): Uint8Array {
    const size = pieceSize(this.info, index);
    if (size === this.info.pieceLength) {
      const b = this.pool.pop();
      if (b && b.length === size) return b;
    }
    return new Uint8Array(size);
  }

  private free(b: Uint8Array): void {
    if (b.length !== this.info.pieceLength || b.byteOffset !== 0 || b.buffer.byteLength !== b.length) return;
    if (this.pool.length * b.length < this.budget + 8 * 1024 * 1024) this.pool.push(b);
  }
}
