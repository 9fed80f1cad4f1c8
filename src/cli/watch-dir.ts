/**
 * The daemon's watch directory: `.torrent` files dropped there are added to the session, then renamed
 * `<file>.added`; a file that is not a valid torrent is renamed `<file>.invalid` with a warning. The directory is
 * scanned every few seconds (fs.watch triggers an earlier scan where it works); each scan handles a bounded number
 * of files, and a file still being written (modified within `settleMs`) waits for the next scan.
 */
import { promises as fsp, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { MAX_TORRENT_BYTES, isBtError } from '../index.js';

export interface WatchDirOptions {
  dir: string;
  /** Adds the torrent (the session's add); a rejection with a metainfo/bencode BtError marks the file invalid. */
  add: (bytes: Uint8Array, file: string) => Promise<unknown>;
  onWarning?: (message: string) => void;
  onAdded?: (file: string) => void;
  /** Poll period (default 3000 ms). */
  intervalMs?: number;
  /** Most files handled per scan (default 20); the rest wait for the next one. */
  maxPerScan?: number;
  /** Entries looked at per scan, at most (default 10000): a huge directory cannot stall a scan. */
  maxEntries?: number;
  /** A file modified less than this long ago is left for the next scan (default 1000 ms). */
  settleMs?: number;
  /** Use fs.watch besides polling (default true). */
  useFsWatch?: boolean;
}

const BAD_TORRENT_CODES = new Set(['ERR_METAINFO', 'ERR_BENCODE', 'ERR_MAGNET', 'ERR_UNSAFE_PATH', 'ERR_LIMIT']);

export class WatchDir {
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private scanning: Promise<number> | undefined;
  private again = false;
  private closed = false;
  /** Files whose add failed for a reason other than being invalid, by path -> mtime: not retried until changed. */
  private readonly failed = new Map<string, number>();
  private readonly warn: (m: string) => void;

  constructor(private readonly opts: WatchDirOptions) {
    this.warn = opts.onWarning ?? (() => {});
  }

  /** Start polling (and watching); the first scan runs at once. */
  start(): void {
    const every = this.opts.intervalMs ?? 3000;
    this.timer = setInterval(() => void this.scan(), every);
    this.timer.unref();
    if (this.opts.useFsWatch !== false) {
      try {
        this.watcher = watch(this.opts.dir, { persistent: false }, () => void this.scan());
        this.watcher.on('error', () => {
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch {
        // Not supported here (or the directory is missing for now): polling alone.
      }
    }
    void this.scan();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
  }

  /** One scan (concurrent calls share it, and ask for one more afterwards); resolves with the files added. */
  scan(): Promise<number> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce()
      .catch((e: unknown) => {
        this.warn(`watch dir ${this.opts.dir}: ${(e as Error).message}`);
        return 0;
      })
      .finally(() => {
        this.scanning = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          void this.scan();
        }
      });
    return this.scanning;
  }

  private async scanOnce(): Promise<number> {
    const maxPerScan = this.opts.maxPerScan ?? 20;
    const maxEntries = this.opts.maxEntries ?? 10_000;
    const settle = this.opts.settleMs ?? 1000;
    const names: string[] = [];
    let dir;
    try {
      dir = await fsp.opendir(this.opts.dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw e;
      return 0; // not there (yet)
    }
    let seen = 0;
    try {
      for await (const ent of dir) {
        if (++seen > maxEntries || names.length >= maxPerScan) break;
        if ((ent.isFile() || ent.isSymbolicLink()) && ent.name.toLowerCase().endsWith('.torrent')) names.push(ent.name);
      }
    } finally {
      await dir.close().catch(() => {});
    }
    let added = 0;
    for (const name of names) {
      if (this.closed) break;
      if (await this.handle(join(this.opts.dir, name), settle)) added++;
    }
    return added;
  }

  private async handle(file: string, settle: number): Promise<boolean> {
    let st;
    try {
      st = await fsp.stat(file);
    } catch {
      return false; // gone already
    }
    if (!st.isFile()) return false;
    // (settle 0: no wait; mtimeMs has sub-ms precision and may be a fraction ahead of Date.now())
    if (settle > 0 && Date.now() - st.mtimeMs < settle) return false; // still being written, perhaps
    if (this.failed.get(file) === st.mtimeMs) return false;
    if (st.size > MAX_TORRENT_BYTES) {
      await this.markInvalid(file, st.mtimeMs, `${st.size} bytes, more than a torrent may have (${MAX_TORRENT_BYTES})`);
      return false;
    }
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(file);
    } catch (e) {
      this.warn(`watch dir: cannot read ${file}: ${(e as Error).message}`);
      this.failed.set(file, st.mtimeMs);
      return false;
    }
    try {
      await this.opts.add(bytes, file);
    } catch (e) {
      if (isBtError(e) && BAD_TORRENT_CODES.has(e.code)) {
        await this.markInvalid(file, st.mtimeMs, `${e.message} [${e.code}]`);
      } else {
        this.warn(`watch dir: could not add ${file}: ${(e as Error).message}; will retry when the file changes`);
        this.failed.set(file, st.mtimeMs);
        if (this.failed.size > 1000) this.failed.clear();
      }
      return false;
    }
    this.failed.delete(file);
    await this.rename(file, `${file}.added`, st.mtimeMs);
    this.opts.onAdded?.(file);
    return true;
  }

  private async markInvalid(file: string, mtimeMs: number, why: string): Promise<void> {
    this.warn(`watch dir: ${file} is not a valid torrent (${why}); renamed to ${file}.invalid`);
    await this.rename(file, `${file}.invalid`, mtimeMs);
  }

  /** A file that cannot be renamed (read-only directory) is not handled again until it changes. */
  private async rename(from: string, to: string, mtimeMs: number): Promise<void> {
    try {
      await fsp.rename(from, to);
    } catch (e) {
      this.warn(`watch dir: cannot rename ${from}: ${(e as Error).message}`);
      this.failed.set(from, mtimeMs);
    }
  }
}
