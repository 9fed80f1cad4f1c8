/**
 * Verify a torrent's data on disk without any network (what `torrentkit verify` prints): every piece is read and
 * its SHA-1 compared with the torrent's (BEP 3), and each file is complete when every piece it overlaps verified.
 * Missing data is skipped without reading (see checkPieces).
 */
import { filePieceRange } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/index.js';
import { checkPieces } from './check.js';
import { FsStorage } from './fs-storage.js';
import { WorkerHasher } from './hasher.js';
import type { Hasher } from './types.js';

export interface VerifyOptions {
  signal?: AbortSignal;
  /** Hash with this hasher (left running afterwards); default: a WorkerHasher made (and destroyed) for the call. */
  hasher?: Hasher;
  /** Worker threads of the default hasher (ignored with `hasher`). */
  workers?: number;
  /** Called after each piece is decided. */
  onProgress?: (done: number, total: number) => void;
}

/** One file of the torrent after verification. */
export interface FileVerification {
  index: number;
  /** Path components as in the torrent (for a multi-file torrent, starting with its name). */
  path: readonly string[];
  length: number;
  /** Every piece the file overlaps verified (empty and pad files are always complete). */
  complete: boolean;
  /** Pieces overlapping the file whose data is missing or fails its hash. */
  missingPieces: number;
}

export interface VerifyResult {
  /** Per piece: its data is on disk and matches its hash. */
  pieces: boolean[];
  /** How many pieces verified. */
  have: number;
  pieceCount: number;
  /** Every piece verified. */
  complete: boolean;
  files: FileVerification[];
}

/** Hash the data of `meta` under `dir` (as `dir/<name>/...`) and say which pieces and files are complete. */
export async function verifyTorrent(meta: Metainfo, dir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const info = meta.info;
  const storage = new FsStorage(info, dir);
  const hasher = opts.hasher ?? new WorkerHasher(opts.workers !== undefined ? { workers: opts.workers } : {});
  let have;
  try {
    have = await checkPieces(info, storage, hasher, { signal: opts.signal, onProgress: opts.onProgress });
  } finally {
    await storage.close().catch(() => undefined);
    if (!opts.hasher) await hasher.destroy();
  }
  const files = info.files.map((f, index): FileVerification => {
    const { first, last } = filePieceRange(info, index);
    let missing = 0;
    for (let p = first; p <= last; p++) if (!have.get(p)) missing++;
    return { index, path: f.path, length: f.length, complete: f.length === 0 || f.pad === true || missing === 0, missingPieces: missing };
  });
  const pieces = Array.from({ length: info.pieceCount }, (_, i) => have.get(i));
  return { pieces, have: have.count, pieceCount: info.pieceCount, complete: have.complete, files };
}
