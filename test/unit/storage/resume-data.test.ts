/** Resume data: trusted pieces survive a restart; changed, deleted or racy files are re-checked; junk is ignored. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FsStorage, InlineHasher, PieceLayout, checkPieces, loadResume, saveResume } from '../../../src/storage/index.js';
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
