/**
 * A JSON state file kept in two generations through StateFiles: `<file>` and `<file>.prev` (the one before). A
 * save writes the last good bytes to `.prev`, then the new bytes to `<file>` (each atomic: temp, fsync, rename,
 * fsync dir). A load that finds `<file>` cut short or garbled falls back to `.prev` with a warning (keeping a copy
 * of the bad file as `<file>.corrupt`); when both are bad it refuses with BtError ERR_STATE_FILE and writes nothing.
 */
import { BtError } from '../core/index.js';
import type { StateFiles } from '../storage/index.js';

export class GenerationalFile {
  /** The bytes of the last good generation (loaded or written): what `.prev` gets on the next save. */
  private lastGood: Uint8Array | undefined;
  /** What `.prev` holds now, when known (so an unchanged previous generation is not written again). */
  private prevOnDisk: Uint8Array | undefined;

  constructor(
    private readonly files: StateFiles,
    readonly path: string,
    private readonly warn: (message: string) => void,
  ) {}

  get prevPath(): string {
    return `${this.path}.prev`;
  }

  /**
   * The parsed content, or undefined when neither generation exists. `parse` gets the decoded JSON and throws
   * (any error) when its shape is wrong.
   */
  async load<T>(parse: (json: unknown) => T): Promise<T | undefined> {
    const main = await this.files.read(this.path);
    const prev = await this.files.read(this.prevPath);
    if (main === undefined && prev === undefined) return undefined;
    let mainErr: BtError | undefined;
    if (main !== undefined) {
      try {
        const v = decode(main, this.path, parse);
        this.lastGood = main;
        this.prevOnDisk = prev;
        return v;
      } catch (e) {
        mainErr = e as BtError;
      }
    }
    if (prev === undefined) throw mainErr!;
    let v: T;
    try {
      v = decode(prev, this.prevPath, parse);
    } catch (e) {
      const prevMsg = (e as Error).message;
      throw new BtError(
        'ERR_STATE_FILE',
        main === undefined
          ? `${prevMsg}; ${this.path} is missing: refusing to start (nothing was changed on disk)`
          : `${mainErr!.message}; the previous generation is bad too: ${prevMsg}; refusing to start (neither file was changed)`,
        { op: 'read', field: this.path },
      );
    }
    this.warn(
      main === undefined
        ? `${this.path} is missing: using the previous generation ${this.prevPath}`
        : `${mainErr!.message}; using the previous generation ${this.prevPath} (the bad file is kept as ${this.path}.corrupt)`,
    );
    if (main !== undefined) await this.files.writeAtomic(`${this.path}.corrupt`, main);
    this.lastGood = prev;
    this.prevOnDisk = prev;
    return v;
  }

  /** Write `bytes` as the new generation (the last good one becomes `.prev`). */
  async save(bytes: Uint8Array): Promise<void> {
    const last = this.lastGood;
    if (last !== undefined && last !== this.prevOnDisk && !sameBytes(last, this.prevOnDisk)) {
      await this.files.writeAtomic(this.prevPath, last);
      this.prevOnDisk = last;
    }
    await this.files.writeAtomic(this.path, bytes);
    this.lastGood = bytes;
  }
}

function decode<T>(bytes: Uint8Array, file: string, parse: (json: unknown) => T): T {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new BtError('ERR_STATE_FILE', `state file ${file} is cut short or garbled (${bytes.length} bytes): ${(e as Error).message}`, {
      op: 'read',
      field: file,
      cause: e,
    });
  }
  try {
    return parse(json);
  } catch (e) {
    throw new BtError('ERR_STATE_FILE', `state file ${file} is garbled: ${(e as Error).message}`, { op: 'read', field: file, cause: e });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
