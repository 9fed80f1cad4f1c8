/** BEP 3 bencoding: property tests (fast-check). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bdecode, bdecodePrefix, bencode } from '../../../src/bencode/index.js';
import type { BValue } from '../../../src/bencode/index.js';
import { BtError } from '../../../src/core/errors.js';

const { bvalue } = fc.letrec<{ bvalue: BValue }>((tie) => ({
  bvalue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('bvalue'), { maxLength: 5 }),
    fc
      .dictionary(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 8 }), tie('bvalue'), { maxKeys: 5 })
      .map((o) => Object.assign(Object.create(null) as Record<string, BValue>, o)),
  ),
}));

test('encode then decode is the identity; decode then encode reproduces canonical bytes', () => {
  fc.assert(
    fc.property(bvalue, (v) => {
      const enc = bencode(v);
      const dec = bdecode(enc);
      assert.deepEqual(dec, v);
      assert.deepEqual(bencode(dec), enc);
    }),
    { numRuns: 500 },
  );
});

test('bdecodePrefix consumes exactly one encoded value', () => {
  fc.assert(
    fc.property(bvalue, fc.uint8Array({ maxLength: 10 }), (v, tail) => {
      const enc = bencode(v);
      const buf = new Uint8Array(enc.length + tail.length);
      buf.set(enc);
      buf.set(tail, enc.length);
      assert.equal(bdecodePrefix(buf).used, enc.length);
    }),
    { numRuns: 300 },
  );
});

function onlyBtError(buf: Uint8Array): void {
  try {
    bdecode(buf);
  } catch (e) {
    if (!(e instanceof BtError) || e.code !== 'ERR_BENCODE') throw e;
  }
}

test('decoder never throws anything but BtError on random bytes', () => {
  const alphabet = fc.constantFrom(...'ilde0123456789:-'.split('').map((c) => c.charCodeAt(0)), 0x00, 0xff, 0x20);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (buf) => onlyBtError(buf)), { numRuns: 2000 });
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 64 }), (arr) => onlyBtError(Uint8Array.from(arr))),
    { numRuns: 3000 },
  );
});

test('decoder never throws anything but BtError on mutated valid encodings', () => {
  fc.assert(
    fc.property(bvalue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (v, muts) => {
      const enc = bencode(v).slice();
      for (const [i, byte] of muts) enc[i % enc.length] = byte;
      onlyBtError(enc);
      onlyBtError(enc.subarray(0, muts[0]![0] % (enc.length + 1)));
    }),
    { numRuns: 1000 },
  );
});
