/**
 * Read streams over a torrent's files while it downloads (issue 16), and the streaming window they drive.
 *
 * Every open reader has a window: the pieces from its position up to `windowBytes` ahead, ranked by distance
 * (0 = the piece under the reader). While a file has a reader (or was prefetched), its first piece and the pieces
 * holding its last `tailBytes` rank 0 too (container indexes such as an MP4's moov live there). The union over a
 * torrent's readers, sorted by rank, is the torrent's stream list (TorrentManager.setStreamPieces): the picker
 * requests it before anything else, nearest first, and the pieces ranked below `urgentPieces` are urgent. A new
 * reader (an open, a seek) cancels the outstanding requests outside every window; a reader moving on or closing
 * only re-ranks. No reader, no list: rarest-first again. See NOTES.md.
 *
 * Bytes come only from verified pieces, read through the torrent's read cache; a reader waits for its next piece
 * ('piece-verified') and pushes at most what the consumer takes (Readable backpressure), so memory stays bounded.
 */
import { Readable } from 'node:stream';
import { BtError } from '../core/index.js';
import type { TorrentFile } from '../metainfo/index.js';
import type { TorrentManager } from '../torrent/index.js';

export interface StreamSettings {
  /** Bytes ahead of each reader's position that are high priority, nearest first. Default 32 MiB. */
  windowBytes: number;
  /** Pieces from each reader's position (and the head/tail pieces) that are urgent. Default 3. */
  urgentPieces: number;
  /** A file's last bytes fetched first when a stream of it opens (indexes at the end). Default 128 KiB. */
  tailBytes: number;
}

export const DEFAULT_STREAM_SETTINGS: StreamSettings = { windowBytes: 32 * 1024 * 1024, urgentPieces: 3, tailBytes: 128 * 1024 };

export interface ReadStreamOptions {
  /** First byte (file offset), default 0. */
  start?: number;
  /** Last byte, inclusive (file offset), default the file's last byte. */
  end?: number;
  /** Aborting destroys the stream with an ERR_ABORTED BtError. */
  signal?: AbortSignal;
  /** Readable highWaterMark in bytes (default 64 KiB; a push is at most one piece). */
  highWaterMark?: number;
}

/** Counters of one torrent's streaming. */
export interface StreamStats {
  /** Readers open now. */
  readers: number;
  /** Readers opened so far. */
  opened: number;
  /** Cancels sent for requests outside every window when a reader opened (a seek). */
  cancels: number;
  /** Pieces in the stream list now. */
  windowPieces: number;
  /** Of which urgent. */
  urgentPieces: number;
}

/** The file of a torrent, validated: throws ERR_RANGE for an index past the last file. */
function fileAt(t: TorrentManager, fileIndex: number): TorrentFile {
  const files = t.meta.info.files;
  if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= files.length) {
    throw new BtError('ERR_RANGE', `file index ${fileIndex} out of range (the torrent has ${files.length} file(s))`, { op: 'validate', field: 'fileIndex' });
  }
  return files[fileIndex]!;
}

/** Validate a byte range of a file of `length` bytes; returns [start, end] inclusive (end = start - 1: empty). */
export function checkRange(length: number, start: number | undefined, end: number | undefined): [number, number] {
  const s = start ?? 0;
  const e = end ?? length - 1;
  if (!Number.isSafeInteger(s) || !Number.isSafeInteger(e) || s < 0 || e < s - 1 || e > length - 1 || s > length) {
    throw new BtError('ERR_RANGE', `byte range ${s}-${e} is outside the file (${length} bytes)`, { op: 'validate', field: 'range' });
  }
  return [s, e];
}

/** One torrent's readers and prefetched files, and the stream list they make. */
class TorrentStreams {
  readonly readers = new Set<FileReadStream>();
  /** Files whose head and tail pieces are wanted first: prefetched (count -1 = for good) or with readers. */
  private readonly prefetched = new Set<number>();
  opened = 0;
  cancels = 0;
  windowPieces = 0;
  urgent = 0;
  private readonly wake = (): void => {
    for (const r of [...this.readers]) r.wake();
  };

  constructor(
    readonly t: TorrentManager,
    readonly settings: StreamSettings,
  ) {}

  private listen(on: boolean): void {
    const f = on ? this.t.on.bind(this.t) : this.t.off.bind(this.t);
    f('piece-verified', this.wake);
    f('state', this.wake);
    f('checked', this.wake);
    f('metadata', this.wake);
  }

  add(r: FileReadStream): void {
    if (this.readers.size === 0) this.listen(true);
    this.readers.add(r);
    this.opened++;
  }

  remove(r: FileReadStream): void {
    if (!this.readers.delete(r)) return;
    if (this.readers.size === 0) this.listen(false);
    this.update(false);
  }

  prefetch(fileIndex: number): void {
    this.prefetched.add(fileIndex);
    this.update(false);
  }

  /** Rank the pieces readers need and hand them to the torrent; `seek`: cancel requests outside them. */
  update(seek: boolean): void {
    const t = this.t;
    if (!t.hasMetadata) return;
    if (t.complete) {
      // Nothing to fetch: clear the list once, skip the ranking (a reader of a complete torrent re-ranks per piece).
      if (this.windowPieces > 0 || seek) this.cancels += t.setStreamPieces([], 0);
      this.windowPieces = 0;
      this.urgent = 0;
      return;
    }
    const info = t.meta.info;
    const pl = info.pieceLength;
    const rank = new Map<number, number>();
    const put = (piece: number, r: number): void => {
      if (t.hasPiece(piece)) return;
      const old = rank.get(piece);
      if (old === undefined || r < old) rank.set(piece, r);
    };
    const files = new Set(this.prefetched);
    for (const r of this.readers) {
      if (!r.file) continue;
      files.add(r.fileIndex);
      if (r.pos > r.end) continue;
      const from = Math.floor((r.file.offset + r.pos) / pl);
      const last = Math.floor((r.file.offset + Math.min(r.end, r.pos + this.settings.windowBytes - 1)) / pl);
      for (let p = from; p <= last; p++) put(p, p - from);
    }
    for (const i of files) {
      const f = info.files[i];
      if (!f || f.length === 0) continue;
      put(Math.floor(f.offset / pl), 0);
      const lastByte = f.offset + f.length - 1;
      const tailFrom = Math.floor(Math.max(f.offset, lastByte - this.settings.tailBytes + 1) / pl);
      for (let p = Math.floor(lastByte / pl); p >= tailFrom; p--) put(p, 0);
    }
    const list = [...rank.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    let urgent = 0;
    while (urgent < list.length && list[urgent]![1] < this.settings.urgentPieces) urgent++;
    this.windowPieces = list.length;
    this.urgent = urgent;
    this.cancels += t.setStreamPieces(
      list.map((e) => e[0]),
      urgent,
      { cancelOutside: seek },
    );
  }

  stats(): StreamStats {
    return { readers: this.readers.size, opened: this.opened, cancels: this.cancels, windowPieces: this.windowPieces, urgentPieces: this.urgent };
  }
}

/** A Readable of one byte range of a torrent's file; see StreamManager.createReadStream. */
export class FileReadStream extends Readable {
  /** The file (undefined until a magnet's metadata is known). */
  file: TorrentFile | undefined;
  /** Next byte to push (file offset) and the last one (inclusive); valid once `file` is set. */
  pos = 0;
  end = -1;
  private wanted = false;
  private busy = false;
  private readonly onAbort = (): void => void this.destroy(new BtError('ERR_ABORTED', 'stream aborted', { op: 'read' }));

  constructor(
    private readonly streams: TorrentStreams,
    readonly fileIndex: number,
    private readonly opts: ReadStreamOptions,
  ) {
    super({ highWaterMark: opts.highWaterMark ?? 64 * 1024 });
    streams.add(this);
    if (opts.signal?.aborted) {
      this.onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (streams.t.hasMetadata) this.resolve();
    streams.update(true);
  }

  /** With the metadata known: the file and the range (throws ERR_RANGE). */
  private resolve(): void {
    const f = fileAt(this.streams.t, this.fileIndex);
    const [s, e] = checkRange(f.length, this.opts.start, this.opts.end);
    this.file = f;
    this.pos = s;
    this.end = e;
  }

  /** A piece was verified, the state or the metadata changed: go on if waiting. */
  wake(): void {
    if (this.destroyed) return;
    if (!this.file && this.streams.t.hasMetadata) {
      try {
        this.resolve();
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      this.streams.update(true);
    }
    if (this.wanted) void this.pump();
  }

  override _read(): void {
    this.wanted = true;
    void this.pump();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.streams.remove(this);
    cb(err);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.wanted && !this.destroyed && this.file) {
        if (this.pos > this.end) {
          this.push(null);
          this.wanted = false;
          return;
        }
        const t = this.streams.t;
        const pl = t.meta.info.pieceLength;
        const abs = this.file.offset + this.pos;
        const piece = Math.floor(abs / pl);
        if (!t.hasPiece(piece)) return; // wake() goes on once it is verified
        let buf: Uint8Array;
        try {
          buf = await t.readPiece(piece);
        } catch (e) {
          if (!t.hasPiece(piece)) return; // stopped meanwhile: wait for it to come back
          this.destroy(e as Error);
          return;
        }
        if (this.destroyed) return;
        const base = piece * pl;
        const from = abs - base;
        const to = Math.min(buf.length, this.file.offset + this.end + 1 - base);
        const chunk = Buffer.from(buf.buffer, buf.byteOffset + from, to - from);
        this.pos += chunk.length;
        if (this.pos <= this.end) this.streams.update(false); // the window moves on by a piece
        if (!this.push(chunk)) this.wanted = false;
      }
    } finally {
      this.busy = false;
    }
  }
}

/**
 * Read streams over torrents' files with streaming priority. One StreamManager serves any number of torrents and
 * readers; settings apply to all of them.
 */
export class StreamManager {
  readonly settings: StreamSettings;
  private readonly byTorrent = new WeakMap<TorrentManager, TorrentStreams>();

  constructor(settings: Partial<StreamSettings> = {}) {
    const s = { ...DEFAULT_STREAM_SETTINGS, ...settings };
    for (const k of ['windowBytes', 'urgentPieces', 'tailBytes'] as const) {
      if (!Number.isSafeInteger(s[k]) || s[k] < 0) throw new BtError('ERR_SETTINGS', `stream setting ${k} must be an integer >= 0, not ${s[k]}`, { field: k });
    }
    this.settings = s;
  }

  private of(t: TorrentManager): TorrentStreams {
    let ts = this.byTorrent.get(t);
    if (!ts) {
      ts = new TorrentStreams(t, this.settings);
      this.byTorrent.set(t, ts);
    }
    return ts;
  }

  /**
   * A Readable of bytes `start`..`end` (inclusive) of file `fileIndex` (0-based) of `t`, pushed as pieces are
   * verified. Throws ERR_RANGE at once for a bad file index or range when the metadata is known; on a magnet
   * before its metadata, the stream waits and is destroyed with that error if it turns out bad.
   */
  createReadStream(t: TorrentManager, fileIndex: number, opts: ReadStreamOptions = {}): FileReadStream {
    if (t.hasMetadata) {
      const f = fileAt(t, fileIndex);
      checkRange(f.length, opts.start, opts.end);
      // A skipped file is wanted once someone reads it (low priority: only the windows make it urgent).
      if (t.files[fileIndex]!.priority === 0) t.setFilePriority(fileIndex, 1);
    }
    return new FileReadStream(this.of(t), fileIndex, opts);
  }

  /** Fetch a file's first piece and last pieces first from now on (before anyone reads it: `torrentkit stream`). */
  prefetch(t: TorrentManager, fileIndex: number): void {
    if (t.hasMetadata) fileAt(t, fileIndex);
    this.of(t).prefetch(fileIndex);
  }

  stats(t: TorrentManager): StreamStats {
    return this.byTorrent.get(t)?.stats() ?? { readers: 0, opened: 0, cancels: 0, windowPieces: 0, urgentPieces: 0 };
  }
}
