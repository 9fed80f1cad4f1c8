/** BEP 52 hash request (21), hashes (22), hash reject (23) and the v2 reserved bit: byte vectors, properties, bounds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BtError } from '../../../src/core/errors.js';
import { FrameDecoder, decodeHashMessage, decodeMessage, encodeHashMessage, makeReserved, supportsV2, supportsFast, MAX_HASH_REQUEST_LENGTH } from '../../../src/wire/index.js';
import type { HashMessage } from '../../../src/wire/index.js';
import { toHex, fromHex } from '../../../src/util/bytes.js';

const ROOT = fromHex('515ea9181744b817744ded9d2e8e9dc6a8450c0b0c52e24b5077f302ffbd9008');
const header = '515ea9181744b817744ded9d2e8e9dc6a8450c0b0c52e24b5077f302ffbd9008' + '00000002' + '00000008' + '00000004' + '00000003';

const wireErr = (e: unknown): boolean => e instanceof BtError && e.code === 'ERR_WIRE';

test('byte vectors: hash request, hash reject, hashes', () => {
  const req: HashMessage = { type: 'hash-request', piecesRoot: ROOT, baseLayer: 2, index: 8, length: 4, proofLayers: 3 };
  assert.equal(toHex(encodeHashMessage(req)), '00000031' + '15' + header);
  assert.equal(toHex(encodeHashMessage({ ...req, type: 'hash-reject' })), '00000031' + '17' + header);
  const hashes = new Uint8Array(6 * 32).map((_, i) => i);
  const enc = encodeHashMessage({ ...req, type: 'hashes', hashes });
  assert.equal(toHex(enc.subarray(0, 53)), '000000f1' + '16' + header);
  assert.equal(toHex(enc.subarray(53)), toHex(hashes));
  const dec = decodeHashMessage(22, enc.subarray(5));
  assert.equal(dec.type, 'hashes');
  assert.equal(toHex(dec.piecesRoot), toHex(ROOT));
  assert.deepEqual([dec.baseLayer, dec.index, dec.length, dec.proofLayers], [2, 8, 4, 3]);
  assert.equal(dec.type === 'hashes' ? toHex(dec.hashes) : '', toHex(hashes));
  assert.deepEqual({ ...decodeHashMessage(21, fromHex(header)), piecesRoot: undefined }, { ...req, piecesRoot: undefined });
});

test('framing: the frame decoder passes them through, decodeMessage reports them as unknown (ignored today)', () => {
  const enc = encodeHashMessage({ type: 'hash-request', piecesRoot: ROOT, baseLayer: 0, index: 0, length: 1, proofLayers: 0 });
  assert.equal(decodeMessage(21, enc.subarray(5)).type, 'unknown');
  assert.ok(FrameDecoder !== undefined);
});

test('the v2 upgrade bit is reserved[7] & 0x10', () => {
  const r = makeReserved({ v2: true, fast: true });
  assert.equal(r[7], 0x14);
  assert.ok(supportsV2(r) && supportsFast(r));
  assert.ok(!supportsV2(makeReserved({ fast: true, dht: true, extended: true })));
  assert.ok(!supportsV2(new Uint8Array(4)));
});

test('decoding refuses wrong lengths and out-of-bounds fields with ERR_WIRE', () => {
  const h = fromHex(header);
  const bad = (id: number, p: Uint8Array, re: RegExp): void =>
    assert.throws(() => decodeHashMessage(id, p), (e: unknown) => wireErr(e) && re.test((e as Error).message));
  bad(20, h, /not a BEP 52 hash message/);
  bad(21, h.subarray(1), /must be 48 bytes, got 47/);
  bad(23, new Uint8Array([...h, 0]), /must be 48 bytes, got 49/);
  bad(22, h.subarray(0, 40), /at least 48 bytes/);
  const withField = (off: number, v: number): Uint8Array => {
    const c = h.slice();
    new DataView(c.buffer).setUint32(off, v);
    return c;
  };
  bad(21, withField(40, 3), /power of two/);
  bad(21, withField(40, 0), /power of two/);
  bad(21, withField(40, MAX_HASH_REQUEST_LENGTH * 2), /power of two/);
  bad(21, withField(36, 6), /not a multiple of length 4/);
  bad(21, withField(32, 64), /base layer 64/);
  bad(21, withField(44, 0xffffffff), /proof layers/);
  bad(22, new Uint8Array([...h, ...new Uint8Array(3 * 32)]), /3 hashes for length 4/);
  bad(22, new Uint8Array([...h, ...new Uint8Array(8 * 32)]), /8 hashes for length 4 and 3 proof layers/);
  bad(22, new Uint8Array([...h, ...new Uint8Array(4 * 32 + 1)]), /not a multiple of 32/);
  assert.throws(() => encodeHashMessage({ type: 'hash-request', piecesRoot: ROOT.subarray(1), baseLayer: 0, index: 0, length: 1, proofLayers: 0 }), wireErr);
  assert.throws(() => encodeHashMessage({ type: 'hashes', piecesRoot: ROOT, baseLayer: 0, index: 0, length: 2, proofLayers: 0, hashes: new Uint8Array(32) }), wireErr);
});

const fieldsArb = fc
  .record({
    piecesRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    baseLayer: fc.integer({ min: 0, max: 63 }),
    log: fc.integer({ min: 0, max: 13 }),
    k: fc.integer({ min: 0, max: 1000 }),
    proofLayers: fc.integer({ min: 0, max: 63 }),
  })
  .map(({ log, k, ...f }) => ({ ...f, length: 2 ** log, index: k * 2 ** log }));

test('property: decode(encode(m)) = m for every valid message', () => {
  fc.assert(
    fc.property(fieldsArb, fc.constantFrom('hash-request', 'hashes', 'hash-reject'), fc.integer({ min: 0, max: 63 }), (f, type, extra) => {
      const msg: HashMessage =
        type === 'hashes' ? { type, ...f, hashes: new Uint8Array((f.length + Math.min(extra, f.proofLayers)) * 32).fill(7) } : { type, ...f };
      const enc = encodeHashMessage(msg);
      const dec = decodeHashMessage(enc[4]!, enc.subarray(5));
      assert.equal(toHex(encodeHashMessage(dec)), toHex(enc));
      assert.equal(new DataView(enc.buffer).getUint32(0), enc.length - 4);
    }),
    { numRuns: 200 },
  );
});

test('property: arbitrary payloads decode or throw ERR_WIRE, never anything else', () => {
  fc.assert(
    fc.property(fc.integer({ min: 21, max: 23 }), fc.uint8Array({ maxLength: 300 }), (id, p) => {
      try {
        decodeHashMessage(id, p);
      } catch (e) {
        assert.ok(wireErr(e), String(e));
      }
    }),
    { numRuns: 500 },
  );
});
