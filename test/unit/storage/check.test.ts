/** checkPieces: finds exactly the good pieces, skips missing data without reading, abort, progress, subsets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { FsStorage, InlineHasher, MemoryStorage, WorkerHasher, checkPieces } from '../../../src/storage/index.js';
import type { PieceStorage } from '../../../src/storage/index.js';
import { BtError } from '../../../src/core/errors.js';
import { multiFile, pieceOf, tempDir } from './helpers.js';

const bits = (bf: { length: number; get(i: number): boolean }): number[] => Array.from({ length: bf.length }, (_, i) => i).filter((i) => bf.get(i));

test('FsStorage + WorkerHasher: exactly the written pieces verify; a corrupted one does not', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = multiFile('chk', [50_000, 0, 123_457, 1, 70_000], 16 * 1024);
  const st = new FsStorage(info, dir);
  const h = new WorkerHasher();
  t.after(async () => {
    await st.close();
    await h.destroy();
  });
  const written = [0, 1, 2, 5, 6, 7, 8, 9, info.pieceCount - 1];
  for (const p of written) await st.write(p, 0, pieceOf(content, info, p));
  // Corrupt one byte of piece 6 on disk (inside file f2).
  const fh = await open(path.join(dir, 'chk', 'f2'), 'r+');
  await fh.write(new Uint8Array([content[6 * 16 * 1024 + 100]! ^ 0xff]), 0, 1, 6 * 16 * 1024 + 100 - 50_000);
  await fh.close();
  const progress: number[] = [];
  const have = await checkPieces(info, st, h, { onProgress: (d, n) => progress.push(d * 1000 + n) });
  assert.deepEqual(bits(have), written.filter((p) => p !== 6));
  assert.equal(progress.length, info.pieceCount);
  assert.equal(progress[progress.length - 1], info.pieceCount * 1000 + info.pieceCount);
});

/** Wraps a storage, counting reads. */
class CountingStorage implements PieceStorage {
  reads: number[] = [];
  constructor(private readonly inner: PieceStorage) {}
  read(piece: number, begin: number, length: number): Promise<Uint8Array> {
    this.reads.push(piece);
    return this.inner.read(piece, begin, length);
  }
  write(piece: number, begin: number, data: Uint8Array): Promise<void> {
    return this.inner.write(piece, begin, data);
  }
  hasData(piece: number): Promise<boolean> {
    return this.inner.hasData(piece);
  }
  ensureFiles(): Promise<void> {
    return this.inner.ensureFiles();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

test('pieces whose files are missing are skipped without reading', async () => {
  const { info, content } = multiFile('m', [40, 40, 40], 16);
  const mem = new MemoryStorage(info);
  // Only f1 (bytes 40..80) exists, fully: pieces 3 (48..64) and 4 (64..80) are inside it.
  await mem.write(2, 8, content.subarray(40, 48));
  await mem.write(3, 0, pieceOf(content, info, 3));
  await mem.write(4, 0, pieceOf(content, info, 4));
  const st = new CountingStorage(mem);
  const have = await checkPieces(info, st, new InlineHasher(), { concurrency: 2 });
  assert.deepEqual(bits(have), [3, 4]);
  assert.deepEqual(st.reads.sort(), [3, 4]);
});

test('a complete MemoryStorage verifies fully; a subset of pieces can be checked', async () => {
  const { info, content } = multiFile('full', [1000, 0, 333, 4000], 256);
  const st = new MemoryStorage(info, { content });
  const have = await checkPieces(info, st, new InlineHasher(), { concurrency: 8 });
  assert.equal(have.complete, true);
  const some = await checkPieces(info, st, new InlineHasher(), { pieces: [1, 3, info.pieceCount - 1] });
  assert.deepEqual(bits(some), [1, 3, info.pieceCount - 1]);
});

test('abort: an aborted signal rejects with ERR_ABORTED (before and during the check)', async () => {
  const { info, content } = multiFile('ab', [200_000], 1024);
  const st = new MemoryStorage(info, { content });
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(checkPieces(info, st, new InlineHasher(), { signal: pre.signal }), (e: unknown) => e instanceof BtError && e.code === 'ERR_ABORTED' && e.op === 'check');

  const ac = new AbortController();
  let seen = 0;
  const p = checkPieces(info, st, new InlineHasher(), {
    signal: ac.signal,
    onProgress: (d) => {
      seen = d;
      if (d === 10) ac.abort();
    },
  });
  await assert.rejects(p, (e: unknown) => e instanceof BtError && e.code === 'ERR_ABORTED');
  assert.ok(seen < info.pieceCount, `stopped early (${seen} of ${info.pieceCount})`);
});

test('storage errors propagate', async () => {
  const { info, content } = multiFile('err', [100], 16);
  const st = new MemoryStorage(info, { content });
  await st.close();
  await assert.rejects(checkPieces(info, st, new InlineHasher()), (e: unknown) => e instanceof BtError && e.code === 'ERR_CLOSED');
});
