/** verifyTorrent: per-piece and per-file completeness of data on disk (what `torrentkit verify` reports). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InlineHasher, createTorrentFromPath, verifyTorrent } from '../../../src/storage/index.js';
import { verifyTorrent as publicVerifyTorrent } from '../../../src/index.js';
import { BtError } from '../../../src/core/errors.js';
import { pattern, tempDir } from './helpers.js';

const PIECE = 16 * 1024;

/** dir/data/pl/{a.bin 50000, b/c.txt 1000, d.dat 20000}, and its torrent (16 KiB pieces). */
async function fixture(dir: string) {
  const root = path.join(dir, 'data', 'pl');
  await mkdir(path.join(root, 'b'), { recursive: true });
  await writeFile(path.join(root, 'a.bin'), pattern(50_000, 1));
  await writeFile(path.join(root, 'b', 'c.txt'), pattern(1000, 2));
  await writeFile(path.join(root, 'd.dat'), pattern(20_000, 3));
  const { meta } = await createTorrentFromPath(root, { pieceLength: PIECE });
  return { meta, data: path.join(dir, 'data'), root };
}

test('complete data: every piece and file verifies', async (t) => {
  const { meta, data } = await fixture(await tempDir(t));
  const r = await verifyTorrent(meta, data);
  assert.equal(publicVerifyTorrent, verifyTorrent, 'exported through the public API');
  assert.equal(r.pieceCount, meta.info.pieceCount);
  assert.equal(r.have, r.pieceCount);
  assert.equal(r.complete, true);
  assert.deepEqual(r.pieces, Array.from({ length: r.pieceCount }, () => true));
  assert.deepEqual(
    r.files.map((f) => [f.path.join('/'), f.length, f.complete, f.missingPieces]),
    meta.info.files.map((f) => [f.path.join('/'), f.length, true, 0]),
  );
});

test('a corrupted byte fails its piece and marks each file that piece overlaps; a missing file misses its pieces', async (t) => {
  const { meta, data, root } = await fixture(await tempDir(t));
  const names = meta.info.files.map((f) => f.path.slice(1).join('/'));
  // One byte inside the 2nd piece (a.bin holds 0..49999, so piece 1 is a.bin only).
  const fh = await open(path.join(root, 'a.bin'), 'r+');
  await fh.write(new Uint8Array([0xff ^ pattern(PIECE + 10, 1)[PIECE + 9]!]), 0, 1, PIECE + 9);
  await fh.close();
  const hasher = new InlineHasher();
  let progress = 0;
  const r = await verifyTorrent(meta, data, { hasher, onProgress: () => progress++ });
  assert.equal(progress, meta.info.pieceCount);
  assert.equal(r.complete, false);
  assert.equal(r.have, r.pieceCount - 1);
  assert.deepEqual(r.pieces.map((ok, i) => (ok ? -1 : i)).filter((i) => i >= 0), [1]);
  const a = r.files[names.indexOf('a.bin')]!;
  assert.deepEqual([a.complete, a.missingPieces], [false, 1]);
  for (const f of r.files) if (f !== a) assert.equal(f.complete, true, f.path.join('/'));
  // The given hasher is left running.
  assert.equal((await hasher.sha1(new Uint8Array(1))).length, 20);

  await rm(path.join(root, 'd.dat'));
  const r2 = await verifyTorrent(meta, data, { workers: 1 });
  const d = r2.files[names.indexOf('d.dat')]!;
  const last = meta.info.files[names.indexOf('d.dat')]!;
  const pieces = Math.floor((last.offset + last.length - 1) / PIECE) - Math.floor(last.offset / PIECE) + 1;
  assert.deepEqual([d.complete, d.missingPieces], [false, pieces]);
  assert.equal(r2.have, r.pieceCount - 1 - pieces);
});

test('an empty directory: nothing verifies; an aborted signal rejects', async (t) => {
  const dir = await tempDir(t);
  const { meta } = await fixture(dir);
  const r = await verifyTorrent(meta, path.join(dir, 'elsewhere'));
  assert.equal(r.have, 0);
  assert.equal(r.complete, false);
  assert.ok(r.files.every((f) => !f.complete && f.missingPieces > 0));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(verifyTorrent(meta, path.join(dir, 'data'), { signal: ac.signal }), (e: unknown) => e instanceof BtError && e.code === 'ERR_ABORTED');
});
