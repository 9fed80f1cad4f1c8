/**
 * Micro-benchmark (BEP 3 piece hashing): SHA-1 of 1 GiB in 1 MiB pieces through the WorkerHasher pool
 * (a window of pieces in flight, each in a freshly allocated buffer that is transferred, as storage reads
 * are), next to one-thread node:crypto on the main thread. Prints GB/s (10^9 bytes per second).
 * With --check it also writes a 1 GiB multi-file torrent with FsStorage under os.tmpdir() and times
 * checkPieces over it (page cache warm), then deletes it.
 * Run: npx tsx bench/hash.ts [--check]   (HASH_WORKERS=n, HASH_MIB=n, HASH_PIECE_KIB=n to vary)
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FsStorage, WorkerHasher, checkPieces } from '../src/storage/index.js';
import type { TorrentInfo } from '../src/metainfo/types.js';

const MIB = 1024 * 1024;
const TOTAL = Number(process.env['HASH_MIB'] ?? 1024) * MIB;
const PIECE = Number(process.env['HASH_PIECE_KIB'] ?? 1024) * 1024;
const WORKERS = process.env['HASH_WORKERS'] ? Number(process.env['HASH_WORKERS']) : undefined;
const WINDOW = 8;

function piece(n: number, seed: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  b.fill(seed & 0xff);
  return new Uint8Array(b.buffer, 0, n);
}

async function pool(): Promise<number> {
  const h = new WorkerHasher(WORKERS === undefined ? {} : { workers: WORKERS });
  await h.sha1(new Uint8Array(1)); // spawn + warm
  const count = TOTAL / PIECE;
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await h.sha1(piece(PIECE, next++));
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  const s = (performance.now() - t0) / 1000;
  await h.destroy();
  console.log(`hash: WorkerHasher(${h.size} workers), ${TOTAL / MIB} MiB in ${PIECE / 1024} KiB pieces: ${(TOTAL / 1e9 / s).toFixed(2)} GB/s (${s.toFixed(2)} s)`);
  return s;
}

function inline(): void {
  const count = TOTAL / PIECE;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) createHash('sha1').update(piece(PIECE, i)).digest();
  const s = (performance.now() - t0) / 1000;
  console.log(`hash: main-thread node:crypto, same input: ${(TOTAL / 1e9 / s).toFixed(2)} GB/s (${s.toFixed(2)} s)`);
}

async function check(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-bench-check-'));
  try {
    const lengths = [TOTAL / 4 - 12345, TOTAL / 4 + 999, TOTAL / 4 + 11346, TOTAL / 4];
    let offset = 0;
    const files = lengths.map((length, i) => {
      const f = { path: ['bench', `f${i}`], length, offset };
      offset += length;
      return f;
    });
    const pieceCount = Math.ceil(TOTAL / PIECE);
    const pieces = new Uint8Array(pieceCount * 20);
    const info: TorrentInfo = { name: 'bench', pieceLength: PIECE, pieces, pieceCount, files, totalLength: TOTAL, private: false, singleFile: false };
    const st = new FsStorage(info, dir);
    const tw = performance.now();
    for (let i = 0; i < pieceCount; i++) {
      const data = piece(Math.min(PIECE, TOTAL - i * PIECE), i * 7);
      pieces.set(createHash('sha1').update(data).digest(), i * 20);
      await st.write(i, 0, data);
    }
    const ws = (performance.now() - tw) / 1000;
    await st.close();
    const h = new WorkerHasher(WORKERS === undefined ? {} : { workers: WORKERS });
    const st2 = new FsStorage(info, dir);
    const t0 = performance.now();
    const have = await checkPieces(info, st2, h);
    const s = (performance.now() - t0) / 1000;
    await st2.close();
    await h.destroy();
    if (!have.complete) throw new Error(`check found ${have.count} of ${pieceCount} pieces`);
    console.log(`write: FsStorage, ${TOTAL / MIB} MiB in ${PIECE / 1024} KiB pieces (hashing inline too): ${(TOTAL / 1e9 / ws).toFixed(2)} GB/s`);
    console.log(`check: checkPieces (FsStorage + WorkerHasher, page cache warm): ${(TOTAL / 1e9 / s).toFixed(2)} GB/s (${s.toFixed(2)} s)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await pool();
inline();
if (process.argv.includes('--check')) await check();
