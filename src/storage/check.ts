/**
 * BEP 3 piece verification of data already on disk ("checking"): every piece whose files exist and are long
 * enough is read and its SHA-1 compared with the torrent's; pieces whose data is missing are skipped without
 * reading. `concurrency` lanes each take the next piece in order, so reads stay sequential while hashing
 * (off-thread) overlaps with the next reads; memory in flight is about concurrency x pieceLength.
 */
import { BtError } from '../core/index.js';
import { pieceHash, pieceSize } from '../metainfo/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import { Bitfield, equalBytes } from '../util/index.js';
import type { Hasher, PieceStorage } from './types.js';

const DEFAULT_BYTES_IN_FLIGHT = 4 * 1024 * 1024;

export interface CheckOptions {
  signal?: AbortSignal;
  /** Called after each piece is decided (skipped, verified or failed). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Pieces in flight (read or being hashed) at once. Default: 4, raised for small pieces so that about
   * 4 MiB is in flight (at most 64 pieces), which keeps the pipeline full without using more memory.
   */
  concurrency?: number;
  /** Only check these pieces (e.g. the ones resume data could not vouch for); default all. */
  pieces?: Iterable<number>;
}

/** Verify existing data; resolves with the bitfield of pieces whose data matches their hash. */
export async function checkPieces(
  info: TorrentInfo,
  storage: PieceStorage,
  hasher: Hasher,
  opts: CheckOptions = {},
): Promise<Bitfield> {
  const { signal, onProgress } = opts;
  const have = new Bitfield(info.pieceCount);
  const aborted = (): BtError => new BtError('ERR_ABORTED', 'piece check aborted', { op: 'check', cause: signal?.reason });
  if (signal?.aborted) throw aborted();

  const order = opts.pieces ? [...opts.pieces] : undefined;
  const total = order ? order.length : info.pieceCount;
  const wanted = opts.concurrency ?? Math.min(64, Math.max(4, Math.ceil(DEFAULT_BYTES_IN_FLIGHT / Math.max(1, info.pieceLength))));
  const lanes = Math.max(1, Math.min(Math.floor(wanted), Math.max(1, total)));
  let next = 0;
  let done = 0;
  let stop = false;

  const lane = async (): Promise<void> => {
    while (!stop) {
      if (signal?.aborted) throw aborted();
      const k = next++;
      if (k >= total) return;
      const i = order ? order[k]! : k;
      if (!Number.isInteger(i) || i < 0 || i >= info.pieceCount) {
        throw new BtError('ERR_STORAGE', `piece ${i} is outside the torrent`, { op: 'check' });
      }
      if (await storage.hasData(i)) {
        if (stop || signal?.aborted) return;
        const data = await storage.read(i, 0, pieceSize(info, i));
        if (stop || signal?.aborted) return;
        const digest = await hasher.sha1(data);
        if (equalBytes(digest, pieceHash(info, i))) have.set(i);
      }
      if (stop) return;
      done++;
      onProgress?.(done, total);
    }
  };

  let onAbort: (() => void) | undefined;
  const abortPromise = new Promise<never>((_, reject) => {
    if (!signal) return;
    onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: lanes }, lane)), abortPromise]);
  } finally {
    stop = true;
    if (onAbort) signal!.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw aborted();
  return have;
}
