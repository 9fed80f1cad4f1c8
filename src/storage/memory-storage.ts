/**
 * In-memory PieceStorage for tests and simulations. Behaves like FsStorage: each file appears on its first
 * write (or ensureFiles) and has a size (the highest byte written + 1); reads past a file's size reject with
 * ERR_STORAGE; operations after close() reject with ERR_CLOSED.
 */
import { BtError } from '../core/index.js';
import type { BtOp } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import { PieceLayout } from './layout.js';
import type { PieceStorage } from './types.js';

interface MemFile {
  data: Uint8Array;
  size: number;
}

export interface MemoryStorageOptions {
  /** The whole torrent's content (info.totalLength bytes): every file starts out complete (a seeder). */
  content?: Uint8Array;
}

export class MemoryStorage implements PieceStorage {
  private readonly layout: PieceLayout;
  private readonly files: (MemFile | undefined)[];
  private closed = false;

  constructor(
    private readonly info: TorrentInfo,
    opts: MemoryStorageOptions = {},
  ) {
    this.layout = new PieceLayout(info);
    this.files = info.files.map(() => undefined);
    if (opts.content) {
      if (opts.content.length !== info.totalLength) {
        throw new BtError('ERR_STORAGE', `content is ${opts.content.length} bytes, torrent is ${info.totalLength}`, { op: 'write' });
      }
      info.files.forEach((f, i) => {
        this.files[i] = { data: opts.content!.slice(f.offset, f.offset + f.length), size: f.length };
      });
    }
  }

  async read(piece: number, begin: number, length: number): Promise<Uint8Array> {
    this.assertOpen('read');
    const out = new Uint8Array(length);
    let o = 0;
    for (const s of this.layout.spans(piece, begin, length, 'read')) {
      const f = this.files[s.fileIndex];
      if (!f || f.size < s.fileOffset + s.length) {
        throw new BtError('ERR_STORAGE', `missing data in ${this.name(s.fileIndex)} at ${s.fileOffset}+${s.length}`, { op: 'read' });
      }
      out.set(f.data.subarray(s.fileOffset, s.fileOffset + s.length), o);
      o += s.length;
    }
    return out;
  }

  async write(piece: number, begin: number, data: Uint8Array): Promise<void> {
    this.assertOpen('write');
    let o = 0;
    for (const s of this.layout.spans(piece, begin, data.length, 'write')) {
      const f = this.file(s.fileIndex);
      f.data.set(data.subarray(o, o + s.length), s.fileOffset);
      f.size = Math.max(f.size, s.fileOffset + s.length);
      o += s.length;
    }
  }

  async hasData(piece: number): Promise<boolean> {
    this.assertOpen('check');
    for (const s of this.layout.spans(piece, 0, this.layout.pieceSize(piece), 'check')) {
      const f = this.files[s.fileIndex];
      if (!f || f.size < s.fileOffset + s.length) return false;
    }
    return true;
  }

  async ensureFiles(wanted?: (fileIndex: number) => boolean): Promise<void> {
    this.assertOpen('write');
    for (let i = 0; i < this.files.length; i++) {
      if (!this.files[i] && (!wanted || wanted(i))) this.files[i] = { data: new Uint8Array(this.info.files[i]!.length), size: this.info.files[i]!.length };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Test helper: whether file `i` exists yet. */
  exists(fileIndex: number): boolean {
    return this.files[fileIndex] !== undefined;
  }

  /** Test helper: a copy of file `i`'s current content (its size so far), or undefined when it does not exist. */
  fileContent(fileIndex: number): Uint8Array | undefined {
    const f = this.files[fileIndex];
    return f ? f.data.slice(0, f.size) : undefined;
  }

  private file(i: number): MemFile {
    let f = this.files[i];
    if (!f) {
      f = { data: new Uint8Array(this.info.files[i]!.length), size: 0 };
      this.files[i] = f;
    }
    return f;
  }

  private name(i: number): string {
    return this.info.files[i]!.path.join('/');
  }

  private assertOpen(op: BtOp): void {
    if (this.closed) throw new BtError('ERR_CLOSED', 'storage is closed', { op });
  }
}
