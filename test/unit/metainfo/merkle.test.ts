/** BEP 52 merkle trees: roots, piece layers, piece verification, against hand-built trees and invariants. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  HASH_SIZE,
  MERKLE_BLOCK_SIZE,
  fileMerkle,
  leafHashes,
  merkleRoot,
  padHash,
  pieceHashV2,
  pieceLayerProblem,
  rootFromPieceLayer,
  verifyPieceV2,
} from '../../../src/metainfo/index.js';
import { toHex } from '../../../src/util/bytes.js';

const h = (...parts: Uint8Array[]): Uint8Array => {
  const x = createHash('sha256');
  for (const p of parts) x.update(p);
  return new Uint8Array(x.digest());
};
const Z = new Uint8Array(32);
const data = (n: number, seed = 1): Uint8Array => {
  const b = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
};

test('one block: the root is the block hash', () => {
  const d = data(1000);
  assert.equal(toHex(fileMerkle(d, 16384).root), toHex(h(d)));
  assert.equal(fileMerkle(d, 16384).pieceLayer.length, 0);
});

test('three blocks: leaves padded with a zero hash to four', () => {
  const d = data(2 * MERKLE_BLOCK_SIZE + 5);
  const [a, b, c] = [0, 1, 2].map((i) => h(d.subarray(i * MERKLE_BLOCK_SIZE, (i + 1) * MERKLE_BLOCK_SIZE)));
  const want = h(h(a!, b!), h(c!, Z));
  assert.equal(toHex(fileMerkle(d, 4 * MERKLE_BLOCK_SIZE).root), toHex(want));
  // the only piece of a one-piece file hashes to the root
  assert.equal(toHex(pieceHashV2(d, 4 * MERKLE_BLOCK_SIZE, d.length)), toHex(want));
});

test('a file of three 32 KiB pieces: piece layer, padding with a zero subtree one piece high', () => {
  const pl = 2 * MERKLE_BLOCK_SIZE;
  const d = data(2 * pl + 100);
  const leaves = [0, 1, 2, 3, 4].map((i) => h(d.subarray(i * MERKLE_BLOCK_SIZE, (i + 1) * MERKLE_BLOCK_SIZE)));
  const p0 = h(leaves[0]!, leaves[1]!);
  const p1 = h(leaves[2]!, leaves[3]!);
  const p2 = h(leaves[4]!, Z); // the last piece is padded to a whole piece of leaves
  const root = h(h(p0, p1), h(p2, h(Z, Z)));
  const m = fileMerkle(d, pl);
  assert.equal(toHex(m.root), toHex(root));
  assert.equal(toHex(m.pieceLayer), toHex(new Uint8Array([...p0, ...p1, ...p2])));
  assert.equal(toHex(rootFromPieceLayer(m.pieceLayer, pl)), toHex(root));
  assert.equal(pieceLayerProblem(m.pieceLayer, d.length, pl, root), undefined);
  assert.ok(verifyPieceV2(d.subarray(2 * pl), pl, d.length, p2));
  assert.ok(!verifyPieceV2(d.subarray(pl, 2 * pl), pl, d.length, p2));
  assert.equal(toHex(padHash(1)), toHex(h(Z, Z)));
});

test('pieceLayerProblem names each problem', () => {
  const pl = 16384;
  const d = data(5 * pl);
  const m = fileMerkle(d, pl);
  assert.match(pieceLayerProblem(m.pieceLayer.subarray(1), d.length, pl, m.root)!, /not a multiple of 32/);
  assert.match(pieceLayerProblem(m.pieceLayer.subarray(32), d.length, pl, m.root)!, /has 4 hashes, expected 5/);
  const bad = m.pieceLayer.slice();
  bad[3]! ^= 1;
  assert.match(pieceLayerProblem(bad, d.length, pl, m.root)!, /does not hash to the pieces root/);
});

test('property: the root from the piece layer equals the root over all leaves; each piece verifies', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 * MERKLE_BLOCK_SIZE }), fc.constantFrom(16384, 32768, 65536), fc.integer(), (len, pl, seed) => {
      const d = data(len, seed);
      const m = fileMerkle(d, pl);
      assert.equal(toHex(m.root), toHex(merkleRoot(leafHashes(d))));
      if (len > pl) {
        assert.equal(m.pieceLayer.length, Math.ceil(len / pl) * HASH_SIZE);
        for (let p = 0; p * pl < len; p++) {
          assert.ok(verifyPieceV2(d.subarray(p * pl, (p + 1) * pl), pl, len, m.pieceLayer.subarray(p * 32, p * 32 + 32)));
        }
      } else assert.ok(verifyPieceV2(d, pl, len, m.root));
    }),
    { numRuns: 60 },
  );
});

test('bad arguments are RangeErrors, not hangs', () => {
  assert.throws(() => fileMerkle(new Uint8Array(0), 16384), RangeError);
  assert.throws(() => fileMerkle(data(10), 1000), RangeError);
  assert.throws(() => merkleRoot(new Uint8Array(31)), RangeError);
  assert.throws(() => merkleRoot(new Uint8Array(96), 0, 2), RangeError);
});
