/**
 * StateFiles: the small files the engine keeps between runs (DHT routing table, cached magnet metadata), read
 * whole and replaced whole. The engine sees only this interface; NodeStateFiles (node-state-files.ts) writes
 * them crash-safe on disk, MemoryStateFiles keeps them in a Map (tests, simulations).
 */
export interface StateFiles {
  /** The file's bytes, or undefined when it does not exist. Other failures throw. */
  read(path: string): Promise<Uint8Array | undefined>;
  /**
   * Replace the file with `bytes` (its directory is made as needed). Atomic: a reader (or a crash) sees the old
   * content or the new one, never a mix; a failed write leaves the old content.
   */
  writeAtomic(path: string, bytes: Uint8Array): Promise<void>;
  /** Delete the file; nothing happens when it does not exist. Optional: without it, files are left behind. */
  remove?(path: string): Promise<void>;
}

/** In-process StateFiles: a Map from path to bytes (copies in, copies out). */
export class MemoryStateFiles implements StateFiles {
  readonly files = new Map<string, Uint8Array>();

  read(path: string): Promise<Uint8Array | undefined> {
    const b = this.files.get(path);
    return Promise.resolve(b?.slice());
  }

  writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
    this.files.set(path, bytes.slice());
    return Promise.resolve();
  }

  remove(path: string): Promise<void> {
    this.files.delete(path);
    return Promise.resolve();
  }
}
