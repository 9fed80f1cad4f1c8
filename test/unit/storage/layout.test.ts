/** Piece -> file span mapping: boundaries, empty files, the short last piece, and a brute-force property. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PieceLayout, filesForPiece, pieceSpans } from '../../../src/storage/index.js';
import { BtError } from '../../../src/core/errors.js';
import { multiFile } from './helpers.js';

test('a piece straddling three files', () => {
  // files: 10, 3, 10 bytes; piece length 16 -> piece 0 = f0[0..10) f1[0..3) f2[0..3)
  const { info } = multiFile('t', [10, 3, 10], 16);
  assert.deepEqual(pieceSpans(info, 0, 0, 16), [
    { fileIndex: 0, fileOffset: 0, length: 10 },
    { fileIndex: 1, fileOffset: 0, length: 3 },
    { fileIndex: 2, fileOffset: 0, length: 3 },
  ]);
  assert.deepEqual(pieceSpans(info, 0, 9, 5), [
    { fileIndex: 0, fileOffset: 9, length: 1 },
    { fileIndex: 1, fileOffset: 0, length: 3 },
    { fileIndex: 2, fileOffset: 0, length: 1 },
  ]);
  assert.deepEqual(filesForPiece(info, 0), [0, 1, 2]);
  // last piece is short: 23 - 16 = 7 bytes, all in f2
  const l = new PieceLayout(info);
  assert.equal(l.pieceSize(1), 7);
  assert.deepEqual(l.spans(1, 0, 7), [{ fileIndex: 2, fileOffset: 3, length: 7 }]);
  assert.deepEqual(l.filesForPiece(1), [2]);
});

test('zero-length files never get spans, wherever they are', () => {
  const { info } = multiFile('t', [0, 5, 0, 0, 5, 0], 4);
  const l = new PieceLayout(info);
  assert.equal(info.pieceCount, 3);
  assert.deepEqual(l.spans(1, 0, 4), [
    { fileIndex: 1, fileOffset: 4, length: 1 },
    { fileIndex: 4, fileOffset: 0, length: 3 },
  ]);
  assert.deepEqual(l.filesForPiece(0), [1]);
  assert.deepEqual(l.filesForPiece(2), [4]);
  assert.deepEqual(l.spans(2, 0, 2), [{ fileIndex: 4, fileOffset: 3, length: 2 }]);
  assert.deepEqual(l.spans(1, 2, 0), []);
});

test('ranges outside the piece throw ERR_STORAGE', () => {
  const { info } = multiFile('t', [10, 3, 10], 16);
  const l = new PieceLayout(info);
  for (const [p, b, n] of [[2, 0, 1], [-1, 0, 1], [1, 0, 8], [0, 10, 7], [0, -1, 2], [0.5, 0, 1]] as const) {
    assert.throws(() => l.spans(p, b, n, 'write'), (e: unknown) => e instanceof BtError && e.code === 'ERR_STORAGE' && e.op === 'write');
  }
});

test('property: spans match a byte-by-byte mapping', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -15, max: 40 }).map((n) => Math.max(0, n)), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 32 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      (lengths, pieceLength, ps, bs, ns) => {
        if (!lengths.some((n) => n > 0)) lengths.push(1);
        const { info } = multiFile('t', lengths, pieceLength);
        const l = new PieceLayout(info);
        const piece = ps % info.pieceCount;
        const size = l.pieceSize(piece);
        const begin = bs % size;
        const length = ns % (size - begin + 1);
        // Brute force: which (file, offset) holds each byte.
        const expect: { fileIndex: number; fileOffset: number; length: number }[] = [];
        for (let x = piece * pieceLength + begin; x < piece * pieceLength + begin + length; x++) {
          const fi = info.files.findIndex((f) => f.length > 0 && x >= f.offset && x < f.offset + f.length);
          const last = expect[expect.length - 1];
          if (last && last.fileIndex === fi) last.length++;
          else expect.push({ fileIndex: fi, fileOffset: x - info.files[fi]!.offset, length: 1 });
        }
        assert.deepEqual(l.spans(piece, begin, length), expect);
      },
    ),
    { numRuns: 500 },
  );
});
