/** Resume data: trusted pieces survive a restart; changed, deleted or racy files are re-checked; junk is ignored. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, readdir, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FsStorage, InlineHasher, MemoryStateFiles, PieceLayout, checkPieces, loadResume, saveResume } from '../../../src/storage/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { multiFile, pieceOf, tempDir } from './helpers.js';

const bits = (bf: Bitfield): number[] => Array.from({ length: bf.length }, (_, i) => i).filter((i) => bf.get(i));

async function setup(t: import('node:test').TestContext, backdate: boolean) {
  const dir = await tempDir(t);
  const { info, content } = multiFile('r', [40, 0, 40, 40], 16); // 120 bytes, 8 pieces
  const st = new FsStorage(info, dir);
  for (const p of [0, 1, 3, 4, 5, 7]) await st.write(p, 0, pieceOf(content, info, p));
  await st.close();
  if (backdate) {
    const old = new Date(Date.UTC(2020, 0, 1));
    for (const f of [0, 2, 3]) await utimes(path.join(dir, ...info.files[f]!.path), old, old);
  }
  const have = await checkPieces(info, new FsStorage(info, dir), new InlineHasher());
  const resume = path.join(dir, 'r.resume');
  await saveResume(resume, info, dir, have);
  return { dir, info, content, have, resume };
}

test('unchanged files: every verified piece is trusted, nothing to re-check', async (t) => {
  const { dir, info, have, resume } = await setup(t, true);
  assert.deepEqual(bits(have), [0, 1, 3, 4, 5, 7]);
  const r = await loadResume(resume, info, dir);
  assert.ok(r);
  assert.deepEqual(bits(r.have), bits(have));
  assert.deepEqual(r.recheck, []);
});

test('a modified file and a deleted file: their pieces are re-checked, the rest trusted', async (t) => {
  const { dir, info, resume } = await setup(t, true);
  await writeFile(path.join(dir, 'r', 'f3'), new Uint8Array(40)); // same size, new mtime
  const layout = new PieceLayout(info);
  let r = await loadResume(resume, info, dir);
  assert.ok(r);
  const touches = (f: number): number[] => Array.from({ length: info.pieceCount }, (_, p) => p).filter((p) => layout.filesForPiece(p).includes(f));
  assert.deepEqual(r.recheck, touches(3));
  assert.deepEqual(bits(r.have), [0, 1, 3, 4].filter((p) => !touches(3).includes(p)));
  await rm(path.join(dir, 'r', 'f0'));
  r = await loadResume(resume, info, dir);
  assert.ok(r);
  assert.deepEqual(r.recheck, [...new Set([...touches(0), ...touches(3)])].sort((a, b) => a - b));
});

test('files modified just before the save are racy: always re-checked', async (t) => {
  const { dir, info, resume } = await setup(t, false);
  const r = await loadResume(resume, info, dir);
  assert.ok(r);
  assert.deepEqual(r.recheck, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(r.have.count, 0);
});

test('missing, garbage or foreign resume data loads as undefined', async (t) => {
  const { dir, info, resume } = await setup(t, true);
  assert.equal(await loadResume(path.join(dir, 'nope'), info, dir), undefined);
  const other = multiFile('r', [40, 0, 40, 41], 16).info;
  assert.equal(await loadResume(resume, other, dir), undefined);
  await writeFile(resume, '{"version":1');
  assert.equal(await loadResume(resume, info, dir), undefined);
  await writeFile(resume, JSON.stringify({ version: 1 }));
  assert.equal(await loadResume(resume, info, dir), undefined);
});

test('a clean save (after the storage was flushed and closed) trusts files written just before it', async (t) => {
  const { dir, info, have, resume } = await setup(t, false);
  await saveResume(resume, info, dir, have, { clean: true });
  const doc = JSON.parse(await readFile(resume, 'utf8')) as { clean: boolean; files: Array<{ racy: boolean }> };
  assert.equal(doc.clean, true);
  assert.equal(doc.files.some((f) => f.racy), false);
  const r = await loadResume(resume, info, dir);
  assert.ok(r);
  assert.deepEqual(r.recheck, [], 'nothing re-checked after a clean stop');
  assert.deepEqual(bits(r.have), bits(have));
});

test('after a clean save, a file truncated or modified behind our back is still detected', async (t) => {
  const { dir, info, content, have, resume } = await setup(t, false);
  await saveResume(resume, info, dir, have, { clean: true });
  // f3 (pieces 5..7) truncated; f0 (pieces 0..2) modified in place, same size.
  await truncate(path.join(dir, 'r', 'f3'), 10);
  const fh = await open(path.join(dir, 'r', 'f0'), 'r+');
  await fh.write(new Uint8Array([content[3]! ^ 0xff]), 0, 1, 3);
  await fh.close();
  const r = await loadResume(resume, info, dir);
  assert.ok(r);
  assert.deepEqual(r.recheck, [0, 1, 2, 5, 6, 7]);
  assert.deepEqual(bits(r.have), [3, 4]);
  const found = await checkPieces(info, new FsStorage(info, dir), new InlineHasher(), { pieces: r.recheck });
  assert.deepEqual(bits(found), [1], 'the modified piece and the truncated ones are gone; the rest is found');
});

test('a periodic save while writing: a piece written after it into a trusted file makes that file re-checked', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = multiFile('r', [40, 0, 40, 40], 16);
  const st = new FsStorage(info, dir);
  for (const p of [0, 1, 5]) await st.write(p, 0, pieceOf(content, info, p));
  await st.flush();
  const old = new Date(Date.UTC(2020, 0, 1));
  for (const f of [0, 3]) await utimes(path.join(dir, ...info.files[f]!.path), old, old);
  const have = new Bitfield(info.pieceCount);
  for (const p of [0, 1, 5]) have.set(p);
  const resume = path.join(dir, 'r.resume');
  await saveResume(resume, info, dir, have); // periodic: not clean
  let r = await loadResume(resume, info, dir);
  assert.ok(r);
  assert.deepEqual(bits(r.have), [0, 1, 5], 'files untouched since the save: trusted');
  assert.deepEqual(r.recheck, [], 'f2 was missing then and is missing now: unchanged');
  // Then the download goes on: piece 6 into f3 (whose piece 5 was trusted), then a crash (no further save).
  await st.write(6, 0, pieceOf(content, info, 6));
  await st.close();
  r = await loadResume(resume, info, dir);
  assert.ok(r);
  assert.ok([5, 6, 7].every((p) => r!.recheck.includes(p)), 'f3 changed after the save: all its pieces are re-checked');
  assert.equal(r.have.get(5), false, 'piece 5 is no longer trusted blindly');
  const found = await checkPieces(info, new FsStorage(info, dir), new InlineHasher(), { pieces: r.recheck });
  const all = new Set([...bits(r.have), ...bits(found)]);
  assert.deepEqual([...all].sort((a, b) => a - b), [0, 1, 5, 6], 'no verified piece lost, the one written after the save found');
});

test('saves are crash-safe: concurrent saves never share a temporary file, none is left behind, a failed one keeps the old data', async (t) => {
  const { dir, info, have, resume } = await setup(t, true);
  const before = await readFile(resume, 'utf8');
  await Promise.all(Array.from({ length: 8 }, (_, i) => saveResume(resume, info, dir, have, { clean: i % 2 === 0 })));
  const left = (await readdir(dir)).filter((f) => f.startsWith('r.resume.'));
  assert.deepEqual(left, [], 'no temporary or probe file left');
  assert.ok(await loadResume(resume, info, dir));
  const failing = new MemoryStateFiles();
  failing.writeAtomic = () => Promise.reject(new Error('EIO: disk on fire'));
  await assert.rejects(saveResume(resume, info, dir, new Bitfield(info.pieceCount), { files: failing }), /cannot save resume data.*EIO/);
  assert.equal((await readFile(resume, 'utf8')).length, before.length, 'the previous data is intact');
  assert.deepEqual(bits((await loadResume(resume, info, dir))!.have), bits(have));
});

test('loadResume reads through a given StateFiles: the same result as from disk; absent or garbage is undefined', async (t) => {
  const { dir, info, resume } = await setup(t, true);
  const fromDisk = await loadResume(resume, info, dir);
  const files = new MemoryStateFiles();
  files.files.set(resume, new Uint8Array(await readFile(resume)));
  const fromMemory = await loadResume(resume, info, dir, { files });
  assert.ok(fromDisk && fromMemory);
  assert.deepEqual(bits(fromMemory.have), bits(fromDisk.have));
  assert.deepEqual(fromMemory.recheck, fromDisk.recheck);
  assert.equal(await loadResume(path.join(dir, 'none.resume'), info, dir, { files }), undefined);
  files.files.set(resume, Uint8Array.of(0xff, 0x7b));
  assert.equal(await loadResume(resume, info, dir, { files }), undefined);
});
