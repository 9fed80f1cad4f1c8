/**
 * Deterministic test payloads: files of pseudo-random bytes (AES-128-CTR keystream keyed by the seed and
 * the file's path), so every run and every machine gets the same bytes, and sizes chosen so that file
 * boundaries do not fall on piece boundaries.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface PayloadFile {
  /** Path relative to the payload root, with '/' separators. */
  path: string;
  size: number;
}

export interface Payload {
  /** DIR/<name>: the directory (multi-file) or the file (single-file) a torrent is made of. */
  root: string;
  /** The directory the payload was written into (its parent). */
  dir: string;
  name: string;
  files: PayloadFile[];
  totalSize: number;
}

export interface PayloadOptions {
  /** Name of the top directory (or of the single file). Default 'payload'. */
  name?: string;
  /** Total size in bytes. */
  totalSize: number;
  /** 'multi' (default): 4 files of unaligned sizes, two of them in subdirectories; 'single': one file. */
  layout?: 'multi' | 'single';
  /** Changes the bytes, not the sizes. Default 'torrentkit'. */
  seed?: string;
}

/** File sizes for a multi-file payload: none of them a multiple of 16 KiB, one smaller than a piece. */
export function multiFileLayout(totalSize: number): PayloadFile[] {
  if (totalSize < 4 << 20) throw new Error(`multi-file payload needs at least 4 MiB, got ${totalSize}`);
  const a = Math.floor(totalSize / 3) + 12345;
  const c = Math.floor(totalSize / 3) - 777;
  const small = 1000;
  const d = totalSize - a - c - small;
  return [
    { path: 'a.bin', size: a },
    { path: 'b/c.dat', size: c },
    { path: 'd.txt', size: d },
    { path: 'e/f/small.txt', size: small },
  ];
}

/** Write `size` deterministic bytes for (seed, path) to `file`. */
export async function writeDeterministicFile(file: string, size: number, seed: string, path: string): Promise<void> {
  const key = createHash('sha256').update(`${seed}\0${path}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const zeros = Buffer.alloc(1 << 20);
  await mkdir(dirname(file), { recursive: true });
  const fh = await open(file, 'w');
  try {
    let left = size;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      const chunk = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      await fh.write(chunk, 0, chunk.length);
      left -= n;
    }
  } finally {
    await fh.close();
  }
}

/** Create DIR/<name>/... (or DIR/<name> for 'single'). */
export async function makePayload(dir: string, opts: PayloadOptions): Promise<Payload> {
  const name = opts.name ?? 'payload';
  const seed = opts.seed ?? 'torrentkit';
  const layout = opts.layout ?? 'multi';
  const root = join(dir, name);
  if (layout === 'single') {
    await writeDeterministicFile(root, opts.totalSize, seed, name);
    return { root, dir, name, files: [{ path: name, size: opts.totalSize }], totalSize: opts.totalSize };
  }
  const files = multiFileLayout(opts.totalSize);
  for (const f of files) await writeDeterministicFile(join(root, ...f.path.split('/')), f.size, seed, f.path);
  return { root, dir, name, files, totalSize: opts.totalSize };
}

export const MiB = 1 << 20;
export const KiB = 1 << 10;
