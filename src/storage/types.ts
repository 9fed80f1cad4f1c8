/** Storage seam: the torrent talks only to these interfaces (fs and memory implementations). */

export interface PieceStorage {
  /** Read `length` bytes starting at `begin` within piece `piece`. Rejects with BtError ERR_STORAGE if data is missing. */
  read(piece: number, begin: number, length: number): Promise<Uint8Array>;
  /** Write `data` at `begin` within piece `piece` (may span files). Files are created lazily. */
  write(piece: number, begin: number, data: Uint8Array): Promise<void>;
  /** True if every file backing this piece exists and is long enough to hold it. */
  hasData(piece: number): Promise<boolean>;
  /** Create every file that does not exist yet (zero-length files included), at its full length. */
  ensureFiles(): Promise<void>;
  /** Flush and close all open file handles. Idempotent. */
  close(): Promise<void>;
}

export interface Hasher {
  /** SHA-1 of data, computed off the event loop. `data` may be transferred (do not reuse it after). */
  sha1(data: Uint8Array): Promise<Uint8Array>;
  destroy(): Promise<void>;
}
