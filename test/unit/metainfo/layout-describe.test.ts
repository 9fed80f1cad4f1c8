/** BEP 3 piece <-> file layout helpers and describeTorrent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTorrent, describeTorrent, fileSlices, filePieceRange, formatBytes, parseTorrent, pieceFileSlices } from '../../../src/metainfo/index.js';

const meta = parseTorrent(
  buildTorrent({
    name: 'r',
    files: [{ path: ['a'], length: 10 }, { path: ['e1'], length: 0 }, { path: ['e2'], length: 0 }, { path: ['b'], length: 20 }, { path: ['c'], length: 3 }],
    pieceLength: 16,
    pieceHashes: new Uint8Array(60),
    trackers: [['http://t/']],
    comment: 'note',
    creationDate: 0,
  }),
);

test('pieceFileSlices spans files and skips empty ones', () => {
  assert.deepEqual(pieceFileSlices(meta.info, 0), [
    { fileIndex: 0, fileOffset: 0, length: 10 },
    { fileIndex: 3, fileOffset: 0, length: 6 },
  ]);
  assert.deepEqual(pieceFileSlices(meta.info, 1), [{ fileIndex: 3, fileOffset: 6, length: 14 }, { fileIndex: 4, fileOffset: 0, length: 2 }]);
  assert.deepEqual(pieceFileSlices(meta.info, 2), [{ fileIndex: 4, fileOffset: 2, length: 1 }]);
  assert.deepEqual(fileSlices(meta.info, 10, 1), [{ fileIndex: 3, fileOffset: 0, length: 1 }]);
  assert.deepEqual(fileSlices(meta.info, 5, 0), []);
  assert.deepEqual(filePieceRange(meta.info, 3), { first: 0, last: 1 });
  assert.deepEqual(filePieceRange(meta.info, 1), { first: 0, last: -1 });
  assert.deepEqual(filePieceRange(meta.info, 4), { first: 1, last: 2 });
});

test('describeTorrent lines', () => {
  const lines = describeTorrent(meta);
  assert.equal(lines[0], 'name: r');
  assert.ok(lines.includes(`info-hash: ${meta.infoHashHex}`));
  assert.ok(lines.includes('size: 33 B (33 bytes) in 5 file(s)'));
  assert.ok(lines.includes('pieces: 3 x 16 B'));
  assert.ok(lines.includes('comment: note'));
  assert.ok(lines.includes('created: 1970-01-01T00:00:00.000Z'));
  assert.ok(lines.includes('tracker tier 0: http://t/'));
  assert.ok(lines.includes('  4. r/b (20)'), 'files numbered from 1');
  assert.match(lines[lines.length - 1]!, /^magnet: magnet:\?xt=urn:btih:/);
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
});
