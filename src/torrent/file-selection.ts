/**
 * FileSelection: per-file download priorities (0 = skip, 1..7, 4 = normal) and what they mean for pieces. Pure:
 * it knows the torrent's file list (once there is one) and nothing of peers or the picker. A piece takes the
 * highest priority of the files it touches, so the bytes of a skipped file that share a piece with a wanted one
 * are downloaded too.
 */
import { BtError } from '../core/index.js';
import { filePieceRange } from '../metainfo/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import { pieceSize } from '../metainfo/index.js';
import type { Bitfield } from '../util/index.js';
import type { FileStatus } from './types.js';

export const PRIORITY_SKIP = 0;
export const PRIORITY_NORMAL = 4;
export const PRIORITY_MAX = 7;

export class FileSelection {
  /** Per-file priorities as set (index = file); undefined entries are normal. */
  private readonly prio: number[] = [];
  /** Some file is not at normal priority: piece priorities follow the files. */
  private anySet = false;
  /** BEP 53 selection waiting for the file list (magnet links). */
  private pendingSelectOnly: readonly number[] | undefined;
  private info: TorrentInfo | undefined;

  /** True once some file was given a priority other than normal (until then every piece is wanted as usual). */
  get active(): boolean {
    return this.anySet;
  }

  priority(file: number): number {
    return this.prio[file] ?? PRIORITY_NORMAL;
  }

  /** A file the download wants (its priority is not 0). */
  readonly wanted = (file: number): boolean => this.priority(file) > PRIORITY_SKIP;

  /** Set one file's priority; throws ERR_SETTINGS for a file not in the torrent or a priority out of range. */
  set(file: number, priority: number): void {
    const n = this.info?.files.length;
    if (!Number.isInteger(file) || file < 0 || (n !== undefined && file >= n)) {
      throw new BtError('ERR_SETTINGS', `file ${file} is not in the torrent${n !== undefined ? ` (${n} files)` : ''}`, { field: 'filePriorities' });
    }
    if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_MAX) {
      throw new BtError('ERR_SETTINGS', `file priority must be 0 (skip) to ${PRIORITY_MAX}, not ${priority}`, { field: 'filePriorities' });
    }
    this.prio[file] = priority;
    if (priority !== PRIORITY_NORMAL) this.anySet = true;
  }

  /** BEP 53 (a magnet's so=): only these files, applied once the file list is known. */
  selectOnly(files: readonly number[]): void {
    this.pendingSelectOnly = files;
    if (this.info) this.applySelectOnly(this.info);
  }

  /** The file list is known (metadata arrived): a pending BEP 53 selection applies now. True if it changed anything. */
  setInfo(info: TorrentInfo): boolean {
    this.info = info;
    if (!this.pendingSelectOnly) return false;
    this.applySelectOnly(info);
    return true;
  }

  /** BEP 53: every file not listed is skipped (indices past the last file are ignored). */
  private applySelectOnly(info: TorrentInfo): void {
    const want = new Set(this.pendingSelectOnly);
    this.pendingSelectOnly = undefined;
    info.files.forEach((_, i) => this.set(i, want.has(i) ? PRIORITY_NORMAL : PRIORITY_SKIP));
  }

  /** Each piece's priority: the highest of the files it touches (pad and empty files count for nothing). */
  piecePriorities(info: TorrentInfo): Uint8Array {
    const prio = new Uint8Array(info.pieceCount);
    info.files.forEach((f, i) => {
      if (f.length === 0 || f.pad) return;
      const { first, last } = filePieceRange(info, i);
      const fp = this.priority(i);
      for (let p = first; p <= last; p++) if (fp > prio[p]!) prio[p] = fp;
    });
    return prio;
  }

  /** The files with their priorities and the bytes of them in verified pieces (`have`; none when unknown). */
  files(info: TorrentInfo, have: Bitfield | undefined): FileStatus[] {
    return info.files.map((f, index) => {
      let got = 0;
      if (have && f.length > 0) {
        const { first, last } = filePieceRange(info, index);
        for (let p = first; p <= last; p++) {
          if (!have.get(p)) continue;
          const start = Math.max(f.offset, p * info.pieceLength);
          const end = Math.min(f.offset + f.length, p * info.pieceLength + pieceSize(info, p));
          got += end - start;
        }
      }
      return { index, path: f.path, length: f.length, priority: this.priority(index), have: got };
    });
  }
}
