/**
 * BEP 3 piece -> file mapping for storage: the torrent's data is its files concatenated in order, cut into
 * pieces. `PieceLayout` precomputes the non-empty files once, so each lookup is one binary search plus a walk
 * over the files a range actually touches. Zero-length files never get spans. Pure: no I/O.
 */
import { BtError } from '../core/index.js';
import type { BtOp } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';

/** A contiguous run of bytes inside one file. */
export interface FileSpan {
  fileIndex: number;
  /** Offset within the file. */
  fileOffset: number;
  length: number;
}

export type LayoutInfo = Pick<TorrentInfo, 'files' | 'pieceLength' | 'pieceCount' | 'totalLength'>;

export class PieceLayout {
  readonly info: LayoutInfo;
  /** Indexes (into info.files) of the non-empty files, in torrent order; their offsets strictly increase. */
  private readonly nonEmpty: Int32Array;
  private readonly starts: Float64Array;

  constructor(info: LayoutInfo) {
    this.info = info;
    const idx: number[] = [];
    for (let i = 0; i < info.files.length; i++) if (info.files[i]!.length > 0) idx.push(i);
    this.nonEmpty = Int32Array.from(idx);
    this.starts = Float64Array.from(idx, (i) => info.files[i]!.offset);
  }

  /** Length in bytes of piece `piece` (the last one may be short). */
  pieceSize(piece: number): number {
    const { pieceLength, pieceCount, totalLength } = this.info;
    return piece === pieceCount - 1 ? totalLength - pieceLength * (pieceCount - 1) : pieceLength;
  }

  /**
   * The file spans covering `length` bytes at `begin` within piece `piece`, in order.
   * Throws BtError ERR_STORAGE (with `op`) when the range is not inside the piece.
   */
  spans(piece: number, begin: number, length: number, op: BtOp = 'read'): FileSpan[] {
    this.checkRange(piece, begin, length, op);
    return this.rangeSpans(piece * this.info.pieceLength + begin, length);
  }

  /** The file spans covering torrent bytes [offset, offset + length). */
  rangeSpans(offset: number, length: number): FileSpan[] {
    const out: FileSpan[] = [];
    if (length <= 0) return out;
    const files = this.info.files;
    const end = offset + length;
    let k = this.indexAt(offset);
    let pos = offset;
    while (pos < end && k < this.nonEmpty.length) {
      const fi = this.nonEmpty[k]!;
      const f = files[fi]!;
      const n = Math.min(end, f.offset + f.length) - pos;
      out.push({ fileIndex: fi, fileOffset: pos - f.offset, length: n });
      pos += n;
      k++;
    }
    return out;
  }

  /** Indexes of the (non-empty) files that hold bytes of piece `piece`, in order. */
  filesForPiece(piece: number): number[] {
    return this.spans(piece, 0, this.pieceSize(piece)).map((s) => s.fileIndex);
  }

  /** Position in `nonEmpty` of the file containing torrent byte `offset` (binary search). */
  private indexAt(offset: number): number {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private checkRange(piece: number, begin: number, length: number, op: BtOp): void {
    const ok =
      Number.isInteger(piece) &&
      Number.isInteger(begin) &&
      Number.isInteger(length) &&
      piece >= 0 &&
      piece < this.info.pieceCount &&
      begin >= 0 &&
      length >= 0 &&
      begin + length <= this.pieceSize(piece);
    if (!ok) {
      throw new BtError('ERR_STORAGE', `range piece ${piece} begin ${begin} length ${length} is outside the torrent`, { op });
    }
  }
}

/** The file spans of `length` bytes at `begin` within piece `piece` (builds a PieceLayout; keep one for hot paths). */
export function pieceSpans(info: LayoutInfo, piece: number, begin: number, length: number): FileSpan[] {
  return new PieceLayout(info).spans(piece, begin, length);
}

/** Indexes of the non-empty files that hold bytes of piece `piece`. */
export function filesForPiece(info: LayoutInfo, piece: number): number[] {
  return new PieceLayout(info).filesForPiece(piece);
}
