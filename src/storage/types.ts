/** Storage seam: the torrent talks only to these interfaces (fs and memory implementations). */

export interface PieceStorage {
  /**
   * Read `length` bytes starting at `begin` within piece `piece`. Rejects with BtError ERR_STORAGE if data is
   * missing or the range is outside the piece. The result owns its ArrayBuffer (it may be handed to a Hasher).
   */
  read(piece: number, begin: number, length: number): Promise<Uint8Array>;
  /** Write `data` at `begin` within piece `piece` (may span files). Files are created lazily. */
  write(piece: number, begin: number, data: Uint8Array): Promise<void>;
  /** True if every file backing this piece exists and is long enough to hold it. */
  hasData(piece: number): Promise<boolean>;
  /**
   * Create every file that does not exist yet (zero-length files included), at its full length, with its
   * directories. Existing files are left as they are (never truncated). With `wanted`, only the files it
   * accepts (a selective download leaves skipped files alone).
   */
  ensureFiles(wanted?: (fileIndex: number) => boolean): Promise<void>;
  /**
   * Make every write completed so far durable (fsync of the files written since the last flush), so resume data
   * saved next never vouches for bytes a power cut could take back. Optional: storage without a disk has nothing
   * to flush. After close() it resolves at once (close flushes).
   */
  flush?(): Promise<void>;
  /**
   * Wait for operations in progress, flush (as flush()), then close all open file handles. Idempotent. Every operation started
   * after close() rejects with BtError ERR_CLOSED.
   */
  close(): Promise<void>;
}

export interface Hasher {
  /** SHA-1 of data, computed off the event loop. `data` may be transferred (do not reuse it after). */
  sha1(data: Uint8Array): Promise<Uint8Array>;
  /** SHA-1 of a whole piece; the bytes come back (possibly a new view after a transfer) for writing. */
  hashPiece(data: Uint8Array): Promise<{ digest: Uint8Array; data: Uint8Array }>;
  /** Stop the hasher: pending and later sha1() calls reject with BtError ERR_CLOSED. */
  destroy(): Promise<void>;
}
