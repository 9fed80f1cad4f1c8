/** MemoryStorage mirrors FsStorage's contract: lazy files, missing data, ensureFiles, close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../../src/storage/index.js';
import { BtError } from '../../../src/core/errors.js';
import { multiFile, pieceOf } from './helpers.js';

test('round trip across files; lazy creation; missing data rejects', async () => {
  const { info, content } = multiFile('mem', [7, 0, 33, 1, 50], 16);
  const st = new MemoryStorage(info);
  assert.equal(await st.hasData(0), false);
  await assert.rejects(st.read(0, 0, 16), (e: unknown) => e instanceof BtError && e.code === 'ERR_STORAGE' && e.op === 'read');
  await st.write(1, 0, pieceOf(content, info, 1));
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => st.exists(i)), [false, false, true, false, false]);
  assert.equal(await st.hasData(1), true);
  assert.equal(await st.hasData(0), false);
  for (let p = 0; p < info.pieceCount; p++) await st.write(p, 0, pieceOf(content, info, p));
  for (let p = 0; p < info.pieceCount; p++) assert.deepEqual(await st.read(p, 0, pieceOf(content, info, p).length), pieceOf(content, info, p));
  assert.deepEqual(st.fileContent(4), content.subarray(41));
  assert.equal(st.exists(1), false);
  await st.ensureFiles();
  assert.equal(st.exists(1), true);
  await assert.rejects(st.write(0, 10, new Uint8Array(7)), (e: unknown) => e instanceof BtError && e.code === 'ERR_STORAGE' && e.op === 'write');
  await st.close();
  await st.close();
  await assert.rejects(st.read(0, 0, 1), (e: unknown) => e instanceof BtError && e.code === 'ERR_CLOSED');
});
