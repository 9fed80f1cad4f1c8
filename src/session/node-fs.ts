/** SessionFs on node:fs. */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { SessionFs } from './fs.js';

export class NodeSessionFs implements SessionFs {
  async exists(p: string): Promise<boolean> {
    try {
      await fsp.lstat(p);
      return true;
    } catch {
      return false;
    }
  }

  async removeFile(p: string): Promise<void> {
    try {
      await fsp.unlink(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  async removeEmptyDir(p: string): Promise<boolean> {
    try {
      await fsp.rmdir(p);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') return false;
      throw e;
    }
  }

  async move(from: string, to: string): Promise<void> {
    await fsp.mkdir(path.dirname(to), { recursive: true });
    try {
      await fsp.rename(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      await fsp.cp(from, to, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false });
      await fsp.rm(from, { recursive: true, force: true });
    }
  }
}
