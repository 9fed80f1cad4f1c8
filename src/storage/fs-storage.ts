/**
 * PieceStorage on the local file system (BEP 3 layout: the files concatenated in order, cut into pieces).
 *
 * - Files live at path.join(downloadDir, ...file.path). Every component is re-validated here (the torrent's
 *   parser already did, but storage is the last line of defence) and the joined path must stay inside the
 *   download directory; otherwise BtError ERR_UNSAFE_PATH, before anything is opened or created.
 * - Before a file is first opened, each existing parent directory is checked with lstat/realpath: a symlink
 *   that leads outside the download directory is refused (ERR_UNSAFE_PATH), and so is a symlinked file whose
 *   target is outside (or dangling). New files are created with O_CREAT|O_EXCL, so creation never follows a
 *   symlink planted at the file's own path.
 * - Files and their directories are created lazily by the first write (ensureFiles() creates the rest);
 *   existing files are opened 'r+' and never truncated. Reads of data that is not there reject ERR_STORAGE.
 * - An LRU cache keeps at most `maxOpenFiles` FileHandles; a handle evicted while in use is closed when its
 *   last operation finishes. All I/O is positional, one write()/read() call per file span, with no copies.
 * - flush() fsyncs the files written since the last flush (through a cached handle, or a short-lived read-only
 *   one: fsync is per file, not per descriptor); close() flushes before it closes the handles.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BtError, isBtError } from '../core/index.js';
import type { BtOp } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import { unsafeComponentReason } from '../metainfo/index.js';
import { PieceLayout } from './layout.js';
import type { FileSpan } from './layout.js';
import type { PieceStorage } from './types.js';

export interface FsStorageOptions {
  /** Most file handles kept open at once (default 64). */
  maxOpenFiles?: number;
}

type Mode = 'read' | 'write';

interface OpenFile {
  fh: FileHandle;
  writable: boolean;
  /** Operations currently using the handle. */
  busy: number;
  /** Removed from the cache; close when `busy` drops to 0. */
  evicted: boolean;
}

const CREATE_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL;

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function isMissing(e: unknown): boolean {
  const c = errCode(e);
  return c === 'ENOENT' || c === 'ENOTDIR';
}

/** True when `child` is strictly inside `parent` (both absolute and normalised). */
function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel);
}

function storageError(op: BtOp, msg: string, cause?: unknown): BtError {
  if (isBtError(cause)) return cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new BtError('ERR_STORAGE', msg + detail, { op, cause });
}

export class FsStorage implements PieceStorage {
  readonly downloadDir: string;
  private readonly info: TorrentInfo;
  private readonly layout: PieceLayout;
  private readonly maxOpenFiles: number;
  /** Validated absolute paths, by file index. */
  private readonly paths: string[];
  /** Real path of the download directory, once it exists. */
  private rootReal: string | undefined;
  /** Directories (absolute, unresolved) already checked to resolve inside the download directory. */
  private readonly verifiedDirs = new Set<string>();
  /** LRU of open handles: Map iteration order is least recently used first. */
  private readonly handles = new Map<number, OpenFile>();
  private readonly opening = new Map<number, Promise<OpenFile>>();
  private readonly closing = new Set<Promise<void>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private closePromise: Promise<void> | undefined;
  /** Files written since the last flush. */
  private readonly dirty = new Set<number>();

  constructor(info: TorrentInfo, downloadDir: string, opts: FsStorageOptions = {}) {
    this.info = info;
    this.downloadDir = path.resolve(downloadDir);
    this.layout = new PieceLayout(info);
    this.maxOpenFiles = Math.max(1, Math.floor(opts.maxOpenFiles ?? 64));
    // Validate every file before any I/O can happen.
    this.paths = info.files.map((_, i) => this.validatePath(i));
  }

  read(piece: number, begin: number, length: number): Promise<Uint8Array> {
    return this.track('read', async () => {
      const spans = this.layout.spans(piece, begin, length, 'read');
      // Own ArrayBuffer (not pooled, not zero-filled): a Hasher can transfer it instead of copying.
      const buf = Buffer.allocUnsafeSlow(length);
      const out = new Uint8Array(buf.buffer, buf.byteOffset, length);
      let o = 0;
      const jobs: Promise<void>[] = [];
      for (const s of spans) {
        jobs.push(this.readSpan(s, out.subarray(o, o + s.length)));
        o += s.length;
      }
      await Promise.all(jobs);
      return out;
    });
  }

  write(piece: number, begin: number, data: Uint8Array): Promise<void> {
    return this.track('write', async () => {
      const spans = this.layout.spans(piece, begin, data.length, 'write');
      let o = 0;
      const jobs: Promise<void>[] = [];
      for (const s of spans) {
        jobs.push(this.writeSpan(s, data.subarray(o, o + s.length)));
        o += s.length;
      }
      await Promise.all(jobs);
    });
  }

  hasData(piece: number): Promise<boolean> {
    return this.track('check', async () => {
      const spans = this.layout.spans(piece, 0, this.layout.pieceSize(piece), 'check');
      const sizes = await Promise.all(spans.map((s) => (this.info.files[s.fileIndex]!.pad ? 0 : this.fileSize(s.fileIndex))));
      return spans.every((s, k) => this.info.files[s.fileIndex]!.pad || sizes[k]! >= s.fileOffset + s.length);
    });
  }

  ensureFiles(wanted?: (fileIndex: number) => boolean): Promise<void> {
    return this.track('write', async () => {
      for (let i = 0; i < this.info.files.length; i++) {
        if (this.handles.has(i) || this.info.files[i]!.pad || (wanted && !wanted(i))) continue;
        const p = this.paths[i]!;
        try {
          await this.prepareDirs(i, 'write');
          if (await this.checkExistingFile(i, 'write')) continue;
          const fh = await open(p, CREATE_FLAGS, 0o666);
          try {
            const len = this.info.files[i]!.length;
            if (len > 0) await fh.truncate(len);
          } finally {
            await fh.close();
          }
        } catch (e) {
          if (errCode(e) === 'EEXIST') continue; // created concurrently (e.g. by a write)
          throw storageError('write', `cannot create ${p}`, e);
        }
      }
    });
  }

  /** fsync every file written since the last flush (writes in flight are waited for first). */
  async flush(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    await Promise.allSettled([...this.inflight]);
    await this.syncDirty();
  }

  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  /** Number of file handles currently cached (for tests and diagnostics). */
  get openFileCount(): number {
    return this.handles.size;
  }

  // ------------------------------------------------------------------ operations

  private track<T>(op: BtOp, fn: () => Promise<T>): Promise<T> {
    if (this.closePromise) return Promise.reject(new BtError('ERR_CLOSED', 'storage is closed', { op }));
    const p = fn();
    this.inflight.add(p);
    const done = (): void => {
      this.inflight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  private async readSpan(s: FileSpan, into: Uint8Array): Promise<void> {
    if (this.info.files[s.fileIndex]!.pad) {
      into.fill(0); // BEP 47: padding is zeros and never stored
      return;
    }
    const f = await this.acquire(s.fileIndex, 'read');
    try {
      let o = 0;
      while (o < into.length) {
        const { bytesRead } = await f.fh.read(into, o, into.length - o, s.fileOffset + o);
        if (bytesRead === 0) {
          throw new BtError('ERR_STORAGE', `missing data: ${this.paths[s.fileIndex]} ends before ${s.fileOffset + into.length}`, { op: 'read' });
        }
        o += bytesRead;
      }
    } catch (e) {
      throw storageError('read', `cannot read ${this.paths[s.fileIndex]}`, e);
    } finally {
      this.release(f);
    }
  }

  private async writeSpan(s: FileSpan, data: Uint8Array): Promise<void> {
    if (this.info.files[s.fileIndex]!.pad) return; // BEP 47: padding files are not created
    const f = await this.acquire(s.fileIndex, 'write');
    try {
      let o = 0;
      while (o < data.length) {
        const { bytesWritten } = await f.fh.write(data, o, data.length - o, s.fileOffset + o);
        o += bytesWritten;
      }
    } catch (e) {
      throw storageError('write', `cannot write ${this.paths[s.fileIndex]}`, e);
    } finally {
      // Marked once the bytes are written: a flush that began meanwhile may have missed them, the next one will not.
      this.dirty.add(s.fileIndex);
      this.release(f);
    }
  }

  /** Size of file `i`, or -1 when it does not exist. */
  private async fileSize(i: number): Promise<number> {
    const h = this.handles.get(i);
    try {
      if (h && !h.evicted) {
        h.busy++;
        try {
          return (await h.fh.stat()).size;
        } finally {
          this.release(h);
        }
      }
      return (await stat(this.paths[i]!)).size;
    } catch (e) {
      if (isMissing(e)) return -1;
      throw storageError('check', `cannot stat ${this.paths[i]}`, e);
    }
  }

  // ------------------------------------------------------------------ handle cache

  private async acquire(i: number, mode: Mode): Promise<OpenFile> {
    for (;;) {
      const h = this.handles.get(i);
      if (h && (h.writable || mode === 'read')) {
        this.handles.delete(i); // move to most recently used
        this.handles.set(i, h);
        h.busy++;
        return h;
      }
      const pending = this.opening.get(i);
      if (pending) {
        await pending.catch(() => undefined);
        continue;
      }
      if (h) this.evict(i, h); // read-only handle, but we must write: reopen
      const p = this.openFile(i, mode);
      this.opening.set(i, p);
      let f: OpenFile;
      try {
        f = await p;
      } finally {
        this.opening.delete(i);
      }
      f.busy++;
      this.handles.set(i, f);
      this.trim();
      return f;
    }
  }

  private release(f: OpenFile): void {
    f.busy--;
    if (f.evicted && f.busy === 0) this.closeHandle(f);
  }

  private trim(): void {
    for (const [i, h] of this.handles) {
      if (this.handles.size <= this.maxOpenFiles) break;
      this.evict(i, h);
    }
  }

  private evict(i: number, h: OpenFile): void {
    this.handles.delete(i);
    h.evicted = true;
    if (h.busy === 0) this.closeHandle(h);
  }

  private closeHandle(h: OpenFile): void {
    const p = h.fh.close().catch(() => undefined);
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }

  private async syncDirty(): Promise<void> {
    const files = [...this.dirty];
    this.dirty.clear();
    try {
      for (const i of files) {
        const h = this.handles.get(i);
        if (h && !h.evicted) {
          h.busy++;
          try {
            await h.fh.sync();
          } finally {
            this.release(h);
          }
          continue;
        }
        let fh: FileHandle;
        try {
          fh = await open(this.paths[i]!, 'r');
        } catch (e) {
          if (isMissing(e)) continue; // deleted behind our back: nothing of ours left to make durable
          throw e;
        }
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    } catch (e) {
      for (const i of files) this.dirty.add(i);
      throw storageError('write', 'cannot flush written data to disk', e);
    }
  }

  private async doClose(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled([...this.opening.values()]);
    // Durable before the clean-stop resume data vouches for it; a failure here is reported, the handles still close.
    let flushError: unknown;
    await this.syncDirty().catch((e: unknown) => {
      flushError = e;
    });
    for (const [i, h] of [...this.handles]) this.evict(i, h);
    await Promise.allSettled([...this.closing]);
    if (flushError) throw flushError;
  }

  // ------------------------------------------------------------------ opening safely

  private async openFile(i: number, mode: Mode): Promise<OpenFile> {
    const p = this.paths[i]!;
    const op: BtOp = mode;
    try {
      await this.prepareDirs(i, mode);
      for (;;) {
        const exists = await this.checkExistingFile(i, mode);
        if (exists) {
          try {
            return { fh: await open(p, 'r+'), writable: true, busy: 0, evicted: false };
          } catch (e) {
            const c = errCode(e);
            if (mode === 'read' && (c === 'EACCES' || c === 'EPERM' || c === 'EROFS')) {
              return { fh: await open(p, 'r'), writable: false, busy: 0, evicted: false };
            }
            if (isMissing(e)) continue; // deleted meanwhile
            throw e;
          }
        }
        if (mode === 'read') throw new BtError('ERR_STORAGE', `missing data: ${p} does not exist`, { op });
        try {
          return { fh: await open(p, CREATE_FLAGS, 0o666), writable: true, busy: 0, evicted: false };
        } catch (e) {
          if (errCode(e) === 'EEXIST') continue; // created meanwhile, or a symlink planted there: check it
          throw e;
        }
      }
    } catch (e) {
      if (mode === 'read' && isMissing(e)) throw new BtError('ERR_STORAGE', `missing data: ${p} does not exist`, { op, cause: e });
      throw storageError(op, `cannot open ${p}`, e);
    }
  }

  /**
   * Whether file i exists. A symlink at the file's path must resolve inside the download directory;
   * anything but a regular file is an error.
   */
  private async checkExistingFile(i: number, op: BtOp): Promise<boolean> {
    const p = this.paths[i]!;
    let st;
    try {
      st = await lstat(p);
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
    if (st.isSymbolicLink()) {
      let real: string;
      try {
        real = await realpath(p);
      } catch (e) {
        throw this.unsafe(i, op, `${p} is a symlink that does not resolve`, e);
      }
      if (!isInside(this.rootReal!, real)) throw this.unsafe(i, op, `${p} is a symlink to ${real}, outside ${this.downloadDir}`);
      st = await stat(p);
    }
    if (!st.isFile()) throw new BtError('ERR_STORAGE', `${p} exists and is not a regular file`, { op });
    return true;
  }

  /**
   * Make sure the download directory and file i's parent directories exist (creating them when mode is
   * 'write') and that each resolves inside the download directory (a symlinked directory leading outside is
   * refused). In 'read' mode a missing directory throws ENOENT (mapped to ERR_STORAGE by the caller).
   */
  private async prepareDirs(i: number, mode: Mode): Promise<void> {
    if (this.rootReal === undefined) {
      if (mode === 'write') await mkdir(this.downloadDir, { recursive: true });
      this.rootReal = await realpath(this.downloadDir);
    }
    const comps = this.info.files[i]!.path;
    let dir = this.downloadDir;
    for (let k = 0; k < comps.length - 1; k++) {
      dir = path.join(dir, comps[k]!);
      if (this.verifiedDirs.has(dir)) continue;
      let st;
      try {
        st = await lstat(dir);
      } catch (e) {
        if (!isMissing(e) || mode === 'read') throw e;
        try {
          await mkdir(dir);
        } catch (e2) {
          if (errCode(e2) !== 'EEXIST') throw e2;
        }
        st = await lstat(dir);
      }
      if (st.isSymbolicLink()) {
        let real: string;
        try {
          real = await realpath(dir);
        } catch (e) {
          throw this.unsafe(i, mode, `${dir} is a symlink that does not resolve`, e);
        }
        if (!isInside(this.rootReal, real)) throw this.unsafe(i, mode, `${dir} is a symlink to ${real}, outside ${this.downloadDir}`);
        st = await stat(dir);
      }
      if (!st.isDirectory()) throw new BtError('ERR_STORAGE', `${dir} exists and is not a directory`, { op: mode });
      this.verifiedDirs.add(dir);
    }
  }

  private validatePath(i: number): string {
    const comps = this.info.files[i]!.path;
    const field = `files[${i}].path`;
    if (comps.length === 0) throw new BtError('ERR_UNSAFE_PATH', `${field}: empty path`, { op: 'validate', field });
    for (const c of comps) {
      const why = typeof c !== 'string' ? 'path component is not a string' : (unsafeComponentReason(c) ?? (path.isAbsolute(c) ? `path component ${JSON.stringify(c)} is absolute` : undefined));
      if (why !== undefined) throw new BtError('ERR_UNSAFE_PATH', `${field}: ${why}`, { op: 'validate', field });
    }
    const full = path.join(this.downloadDir, ...comps);
    if (!isInside(this.downloadDir, full)) {
      throw new BtError('ERR_UNSAFE_PATH', `${field}: ${JSON.stringify(comps.join('/'))} leaves the download directory`, { op: 'validate', field });
    }
    return full;
  }

  private unsafe(i: number, op: BtOp, msg: string, cause?: unknown): BtError {
    const field = `files[${i}].path`;
    return new BtError('ERR_UNSAFE_PATH', `${field}: ${msg}`, { op, field, cause });
  }
}
