/** BEP 3 piece <-> file layout: the torrent's data is the files concatenated in order, cut into pieces. */
import type { TorrentInfo } from './types.js';

export interface FileSlice {
  fileIndex: number;
  /** Offset within the file. */
  fileOffset: number;
  length: number;
}

/** Index of the file containing torrent byte `offset` (skipping zero-length files), by binary search. */
export function fileIndexAt(info: Pick<TorrentInfo, 'files'>, offset: number): number {
  const files = info.files;
  let lo = 0;
  let hi = files.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (files[mid]!.offset <= offset) lo = mid;
    else hi = mid - 1;
  }
  // Several files may share an offset when some are empty: step back to the first, then skip empties.
  while (lo > 0 && files[lo - 1]!.offset === files[lo]!.offset) lo--;
  while (lo < files.length - 1 && files[lo]!.length === 0) lo++;
  return lo;
}

/** The file slices covering torrent bytes [offset, offset + length). Zero-length files are never included. */
export function fileSlices(info: Pick<TorrentInfo, 'files'>, offset: number, length: number): FileSlice[] {
  const out: FileSlice[] = [];
  if (length <= 0) return out;
  let i = fileIndexAt(info, offset);
  let pos = offset;
  const end = offset + length;
  while (pos < end && i < info.files.length) {
    const f = info.files[i]!;
    const fEnd = f.offset + f.length;
    if (f.length > 0 && pos < fEnd) {
      const n = Math.min(end, fEnd) - pos;
      out.push({ fileIndex: i, fileOffset: pos - f.offset, length: n });
      pos += n;
    }
    i++;
  }
  return out;
}

/** The file slices of piece `index`. */
export function pieceFileSlices(info: Pick<TorrentInfo, 'files' | 'pieceLength' | 'totalLength'>, index: number): FileSlice[] {
  const start = index * info.pieceLength;
  return fileSlices(info, start, Math.min(info.pieceLength, info.totalLength - start));
}

/** The range of pieces [first, last] that overlap file `fileIndex` (empty files give first > last). */
export function filePieceRange(info: Pick<TorrentInfo, 'files' | 'pieceLength'>, fileIndex: number): { first: number; last: number } {
  const f = info.files[fileIndex]!;
  const first = Math.floor(f.offset / info.pieceLength);
  if (f.length === 0) return { first, last: first - 1 };
  return { first, last: Math.floor((f.offset + f.length - 1) / info.pieceLength) };
}
