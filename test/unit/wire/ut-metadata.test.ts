/** BEP 9 ut_metadata codec: vectors, round trips, strict validation, hostile input. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import { concatBytes } from '../../../src/util/bytes.js';
import type { UtMetadataMessage } from '../../../src/wire/index.js';
import {
  DEFAULT_MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  decodeUtMetadata,
  encodeUtMetadata,
  metadataPieceCount,
  metadataPieceLength,
  serveMetadata,
} from '../../../src/wire/index.js';

const text = (b: Uint8Array): string => String.fromCharCode(...b);
const ascii = (s: string): Uint8Array => new Uint8Array([...s].map((c) => c.charCodeAt(0)));

function throwsMeta(fn: () => unknown, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBtError(e, 'ERR_METADATA'), `expected ERR_METADATA, got ${String(e)}`);
    if (re) assert.match((e as Error).message, re);
    return true;
  });
}

describe('ut_metadata codec (BEP 9)', () => {
  it('encodes the BEP 9 examples byte for byte', () => {
    assert.equal(text(encodeUtMetadata({ type: 'request', piece: 0 })), 'd8:msg_typei0e5:piecei0ee');
    assert.equal(text(encodeUtMetadata({ type: 'reject', piece: 0 })), 'd8:msg_typei2e5:piecei0ee');
    const data = new Uint8Array(34256 - 2 * METADATA_PIECE_SIZE).fill(7);
    const b = encodeUtMetadata({ type: 'data', piece: 2, totalSize: 34256, data });
    const head = 'd8:msg_typei1e5:piecei2e10:total_sizei34256ee';
    assert.equal(text(b.subarray(0, head.length)), head);
    assert.deepEqual(b.subarray(head.length), data);
  });

  it('piece arithmetic: 16 KiB pieces, the last one short', () => {
    assert.equal(metadataPieceCount(1), 1);
    assert.equal(metadataPieceCount(16384), 1);
    assert.equal(metadataPieceCount(16385), 2);
    assert.equal(metadataPieceLength(34256, 0), 16384);
    assert.equal(metadataPieceLength(34256, 2), 34256 - 32768);
    assert.equal(metadataPieceLength(32768, 1), 16384);
    throwsMeta(() => metadataPieceLength(34256, 3), /out of range/);
    throwsMeta(() => metadataPieceLength(34256, -1));
    throwsMeta(() => metadataPieceCount(0));
  });

  it('decodes requests, rejects and data, with and without an expected size', () => {
    assert.deepEqual(decodeUtMetadata(ascii('d8:msg_typei0e5:piecei5ee')), { type: 'request', piece: 5 });
    assert.deepEqual(decodeUtMetadata(ascii('d8:msg_typei2e5:piecei1ee'), { metadataSize: 20000 }), { type: 'reject', piece: 1 });
    // Extra keys are fine (libtorrent adds total_size to rejects in some versions).
    assert.deepEqual(decodeUtMetadata(ascii('d8:msg_typei2e5:piecei1e10:total_sizei20000ee')), { type: 'reject', piece: 1 });
    const data = new Uint8Array(20000 - 16384).fill(1);
    const m = decodeUtMetadata(concatBytes([ascii('d8:msg_typei1e5:piecei1e10:total_sizei20000ee'), data]), { metadataSize: 20000 });
    assert.equal(m.type, 'data');
    if (m.type === 'data') {
      assert.equal(m.piece, 1);
      assert.equal(m.totalSize, 20000);
      assert.deepEqual(m.data, data);
    }
  });

  it('an unknown integer msg_type is reported as unknown (to be ignored), not an error', () => {
    assert.deepEqual(decodeUtMetadata(ascii('d8:msg_typei3e5:piecei0ee')), { type: 'unknown', msgType: 3, piece: 0 });
    assert.deepEqual(decodeUtMetadata(ascii('d8:msg_typei9ee')), { type: 'unknown', msgType: 9, piece: undefined });
  });

  it('round-trips arbitrary valid messages', () => {
    const sized = fc.integer({ min: 1, max: 5 * METADATA_PIECE_SIZE }).chain((size) =>
      fc.integer({ min: 0, max: metadataPieceCount(size) - 1 }).chain((piece) =>
        fc
          .uint8Array({ minLength: metadataPieceLength(size, piece), maxLength: metadataPieceLength(size, piece) })
          .map((data): UtMetadataMessage => ({ type: 'data', piece, totalSize: size, data })),
      ),
    );
    const arb = fc.oneof(
      fc.record({ type: fc.constant('request' as const), piece: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ type: fc.constant('reject' as const), piece: fc.integer({ min: 0, max: 1000 }) }),
      sized,
    );
    fc.assert(
      fc.property(arb, (msg) => {
        assert.deepEqual(decodeUtMetadata(encodeUtMetadata(msg)), { ...msg }); // fc.record objects have no prototype
      }),
      { numRuns: 150 },
    );
  });

  it('refuses malformed headers', () => {
    throwsMeta(() => decodeUtMetadata(new Uint8Array(0)), /empty/);
    throwsMeta(() => decodeUtMetadata(ascii('garbage')), /bencoding/);
    throwsMeta(() => decodeUtMetadata(ascii('li0ee')), /not a dictionary/);
    throwsMeta(() => decodeUtMetadata(ascii('d5:piecei0ee')), /msg_type/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_type1:05:piecei0ee')), /msg_type/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei-1e5:piecei0ee')), /msg_type/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei0ee')), /piece/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei0e5:piecei-1ee')), /piece/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei0e5:piece1:0e')), /piece/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei0e5:piecei0eexx')), /trailing/);
    // A header longer than any honest one.
    throwsMeta(() => decodeUtMetadata(ascii(`d8:msg_typei0e5:piecei0e3:pad${1000}:${'x'.repeat(1000)}e`)));
  });

  it('refuses piece indexes out of range for the expected size', () => {
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei0e5:piecei2ee'), { metadataSize: 32768 }), /out of range/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei2e5:piecei99ee'), { metadataSize: 100 }), /out of range/);
  });

  it('refuses data with a missing, oversized or mismatched total_size, or a wrong length', () => {
    const d = (head: string, n: number): Uint8Array => concatBytes([ascii(head), new Uint8Array(n)]);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei0ee', 100)), /total_size/);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei0e10:total_sizei0ee', 0)), /positive/);
    throwsMeta(() => decodeUtMetadata(d(`d8:msg_typei1e5:piecei0e10:total_sizei${DEFAULT_MAX_METADATA_SIZE + 1}ee`, 16384)), /exceeds the limit/);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei0e10:total_sizei5000ee', 5000), { maxMetadataSize: 4096 }), /exceeds the limit/);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei0e10:total_sizei5000ee', 5000), { metadataSize: 5001 }), /differs/);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei0e10:total_sizei5000ee', 4999)), /expected 5000/);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei0e10:total_sizei5000ee', 5001)), /expected 5000/);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei0e10:total_sizei40000ee', 16383)), /expected 16384/);
    throwsMeta(() => decodeUtMetadata(d('d8:msg_typei1e5:piecei1e10:total_sizei16384ee', 16384)), /out of range/);
    throwsMeta(() => decodeUtMetadata(ascii('d8:msg_typei0e5:piecei0ee'), { metadataSize: DEFAULT_MAX_METADATA_SIZE * 2 }), /exceeds/);
  });

  it('refuses to encode inconsistent messages', () => {
    throwsMeta(() => encodeUtMetadata({ type: 'request', piece: -1 }));
    throwsMeta(() => encodeUtMetadata({ type: 'data', piece: 0, totalSize: 100, data: new Uint8Array(99) }));
    throwsMeta(() => encodeUtMetadata({ type: 'data', piece: 1, totalSize: 100, data: new Uint8Array(100) }));
  });

  it('never throws anything but BtError on arbitrary bytes', () => {
    const prefixed = fc
      .tuple(fc.constantFrom('d8:msg_typei1e5:piecei0e10:total_sizei', 'd8:msg_typei', 'd5:piecei', 'd'), fc.uint8Array({ maxLength: 64 }))
      .map(([h, rest]) => concatBytes([ascii(h), rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), prefixed), fc.option(fc.integer({ min: -5, max: 100_000 })), (b, size) => {
        try {
          decodeUtMetadata(b, size === null ? {} : { metadataSize: size });
        } catch (e) {
          assert.ok(isBtError(e, 'ERR_METADATA'), String(e));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('serveMetadata answers with the piece or a reject', () => {
    const info = bencode({ name: 'x', 'piece length': 16384, length: 1, pieces: new Uint8Array(20 * 1000) });
    assert.ok(info.length > 16384 && info.length < 32768);
    const p0 = decodeUtMetadata(serveMetadata(info, 0), { metadataSize: info.length });
    assert.equal(p0.type, 'data');
    const p1 = decodeUtMetadata(serveMetadata(info, 1), { metadataSize: info.length });
    assert.ok(p0.type === 'data' && p1.type === 'data');
    assert.deepEqual(concatBytes([p0.data, p1.data]), info);
    assert.deepEqual(decodeUtMetadata(serveMetadata(info, 2)), { type: 'reject', piece: 2 });
    assert.deepEqual(decodeUtMetadata(serveMetadata(undefined, 0)), { type: 'reject', piece: 0 });
    assert.deepEqual(decodeUtMetadata(serveMetadata(info, -3)), { type: 'reject', piece: 0 });
  });
});

describe('ut_metadata: a piece that is a dictionary or a list holding one (found by npm run fuzz)', () => {
  it('is refused with ERR_METADATA, not a TypeError from String() of a null-prototype dict', () => {
    for (const piece of [{ a: 1 }, [{ a: 1 }], [[], { x: [] }], 'x', [1]]) {
      for (const msg_type of [0, 1, 2]) {
        const payload = bencode({ msg_type, piece, total_size: 100 });
        assert.throws(
          () => decodeUtMetadata(payload),
          (e: unknown) => isBtError(e, 'ERR_METADATA') && /piece (a dictionary|a list|a byte string) is not a non-negative integer/.test((e as Error).message),
        );
      }
    }
    // The fuzzer's input: d8:msg_typei0e5:pieceli-1ede2:%÷ee…
    assert.throws(() => decodeUtMetadata(Buffer.from('64383a6d73675f74797065693065353a70696563656c692d31656465323a25f7656565', 'hex')), (e: unknown) => isBtError(e));
  });
});
