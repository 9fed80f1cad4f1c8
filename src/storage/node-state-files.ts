/**
 * StateFiles on disk, crash-safe: the bytes go to a temporary file beside the target, which is fsynced, renamed
 * over the target, and then the directory is fsynced so the rename itself survives a power cut. A failure at any
 * step removes the temporary file and leaves the old content in place.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StateFiles } from './state-files.js';

/** The file system calls NodeStateFiles makes (tests replace one to make a step fail). */
export interface StateFileOps {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  mkdir: typeof fsp.mkdir;
  unlink: typeof fsp.unlink;
  readFile: typeof fsp.readFile;
}

export class NodeStateFiles implements StateFiles {
  private readonly ops: StateFileOps;

  constructor(ops: Partial<StateFileOps> = {}) {
    this.ops = { open: fsp.open, rename: fsp.rename, mkdir: fsp.mkdir, unlink: fsp.unlink, readFile: fsp.readFile, ...ops };
  }

  async read(file: string): Promise<Uint8Array | undefined> {
    try {
      const b = await this.ops.readFile(file);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
    const dir = path.dirname(file);
    await this.ops.mkdir(dir, { recursive: true });
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fh = await this.ops.open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.ops.rename(tmp, file);
    } catch (e) {
      await this.ops.unlink(tmp).catch(() => undefined);
      throw e;
    }
    await this.syncDir(dir);
  }

  async remove(file: string): Promise<void> {
    try {
      await this.ops.unlink(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /** fsync the directory so the rename is durable; some platforms cannot open a directory for that (ignored). */
  private async syncDir(dir: string): Promise<void> {
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await this.ops.open(dir, 'r');
      await fh.sync();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
    } finally {
      await fh?.close();
    }
  }
}
