/** Shared fixtures for the storage tests: synthetic TorrentInfo with real piece hashes, temp dirs. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { TorrentInfo } from '../../../src/metainfo/types.js';

/** Deterministic pseudo-random bytes (xorshift32). */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface FileSpec {
  path: string[];
  length: number;
}

/** A TorrentInfo over `files` (paths as given), with the SHA-1 piece hashes of `content`. */
export function makeInfo(files: FileSpec[], pieceLength: number, content?: Uint8Array): { info: TorrentInfo; content: Uint8Array } {
  let offset = 0;
  const tf = files.map((f) => {
    const r = { path: f.path, length: f.length, offset };
    offset += f.length;
    return r;
  });
  const totalLength = offset;
  const data = content ?? pattern(totalLength, 7);
  const pieceCount = Math.ceil(totalLength / pieceLength);
  const pieces = new Uint8Array(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) {
    pieces.set(createHash('sha1').update(data.subarray(i * pieceLength, Math.min(totalLength, (i + 1) * pieceLength))).digest(), i * 20);
  }
  const info: TorrentInfo = {
    name: files.length === 1 ? files[0]!.path[0]! : (files[0]?.path[0] ?? 'x'),
    pieceLength,
    pieces,
    pieceCount,
    files: tf,
    totalLength,
    private: false,
    singleFile: files.length === 1 && files[0]!.path.length === 1,
  };
  return { info, content: data };
}

/** Multi-file torrent `name` with files f0..fn of the given lengths. */
export function multiFile(name: string, lengths: number[], pieceLength: number): { info: TorrentInfo; content: Uint8Array } {
  return makeInfo(lengths.map((length, i) => ({ path: [name, `f${i}`], length })), pieceLength);
}

/** A fresh temp dir under os.tmpdir(), removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'tk-storage-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function pieceOf(content: Uint8Array, info: TorrentInfo, i: number): Uint8Array {
  return content.slice(i * info.pieceLength, Math.min(info.totalLength, (i + 1) * info.pieceLength));
}
