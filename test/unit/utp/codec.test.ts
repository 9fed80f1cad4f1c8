/** BEP 29 packet codec: header vectors, the SACK extension, strict validation, fast-check round trips. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BtError, isBtError } from '../../../src/core/errors.js';
import {
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  decodePacket,
  decodePacketInto,
  newPacket,
  encodePacket,
  looksLikeUtp,
  sackHas,
  seqAdd,
  seqDiff,
  type UtpType,
} from '../../../src/transport/utp/index.js';
import { fromHex, toHex } from '../../../src/util/bytes.js';

test('header vector: ST_SYN as libtorrent sends it', () => {
  const b = encodePacket({ type: ST_SYN, connectionId: 0x1234, timestamp: 0x01020304, timestampDiff: 0, wndSize: 0x100000, seqNr: 1, ackNr: 0 });
  assert.equal(toHex(b), '41001234' + '01020304' + '00000000' + '00100000' + '0001' + '0000');
  const p = decodePacket(b);
  assert.deepEqual({ ...p, payload: [...p.payload] }, {
    type: ST_SYN, connectionId: 0x1234, timestamp: 0x01020304, timestampDiff: 0, wndSize: 0x100000, seqNr: 1, ackNr: 0, sack: undefined, payload: [],
  });
});

test('header vector: ST_STATE with a 4-byte selective ACK; bit i stands for ack_nr + 2 + i', () => {
  const hex = '21' + '01' + 'beef' + 'ffffffff' + '00000064' + '0000ffff' + 'fffe' + 'fffd' + '00' + '04' + '05800000';
  const p = decodePacket(fromHex(hex));
  assert.equal(p.type, ST_STATE);
  assert.equal(p.connectionId, 0xbeef);
  assert.equal(p.timestamp, 0xffffffff);
  assert.equal(p.timestampDiff, 100);
  assert.equal(p.seqNr, 0xfffe);
  assert.equal(p.ackNr, 0xfffd);
  assert.deepEqual([...p.sack!], [0x05, 0x80, 0, 0]);
  const got = [];
  for (let i = 0; i < 32; i++) if (sackHas(p.sack!, i)) got.push(seqAdd(p.ackNr, 2 + i));
  assert.deepEqual(got, [0xffff, 1, 0x000e]); // bits 0, 2, 15
  assert.equal(toHex(encodePacket({ ...p })), hex);
});

test('header vector: ST_DATA payload follows the extension chain; unknown extensions are skipped', () => {
  const hex = '01' + '07' + '0001' + '00000001' + '00000002' + '00000003' + '0004' + '0005' + '01' + '02' + 'aaaa' + '00' + '04' + '01000000' + '68656c6c6f';
  const p = decodePacket(fromHex(hex));
  assert.equal(p.type, ST_DATA);
  assert.deepEqual([...p.sack!], [1, 0, 0, 0]);
  assert.equal(Buffer.from(p.payload).toString(), 'hello');
});

test('strict validation: each malformed packet is a BtError ERR_UTP naming the field', () => {
  const good = encodePacket({ type: ST_STATE, connectionId: 1, timestamp: 2, timestampDiff: 3, wndSize: 4, seqNr: 5, ackNr: 6 });
  const cases: [string, Uint8Array, string][] = [
    ['short', good.subarray(0, 19), 'length'],
    ['version 0', Uint8Array.from([0x20, ...good.subarray(1)]), 'version'],
    ['version 2', Uint8Array.from([0x22, ...good.subarray(1)]), 'version'],
    ['type 5', Uint8Array.from([0x51, ...good.subarray(1)]), 'type'],
    ['truncated ext header', Uint8Array.from([0x21, 1, ...good.subarray(2), 0]), 'extension'],
    ['truncated ext', Uint8Array.from([0x21, 1, ...good.subarray(2), 0, 8, 0, 0]), 'extension'],
    ['huge sack', Uint8Array.from([0x21, 1, ...good.subarray(2), 0, 132, ...new Uint8Array(132)]), 'sack'],
    ['two sacks', Uint8Array.from([0x21, 1, ...good.subarray(2), 1, 4, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]), 'sack'],
    ['extension loop', Uint8Array.from([0x21, 2, ...good.subarray(2), ...Array.from({ length: 9 }, () => [2, 0]).flat()]), 'extension'],
  ];
  for (const [name, bytes, field] of cases) {
    assert.throws(() => decodePacket(bytes), (e: unknown) => isBtError(e, 'ERR_UTP') && e.field === field, name);
  }
});

test('libtorrent leniency: SACK masks of any byte length (ceil(span / 8)), empty masks, bytes after a control packet', () => {
  const good = encodePacket({ type: ST_STATE, connectionId: 1, timestamp: 2, timestampDiff: 3, wndSize: 4, seqNr: 5, ackNr: 6 });
  // libtorrent 2.0 sends a 14-byte mask when 110 packets wait out of order.
  const p14 = decodePacket(Uint8Array.from([0x21, 1, ...good.subarray(2), 0, 14, 0x05, ...new Uint8Array(12), 0x80]));
  assert.equal(p14.sack?.length, 14);
  assert.ok(sackHas(p14.sack!, 0) && !sackHas(p14.sack!, 1) && sackHas(p14.sack!, 2) && sackHas(p14.sack!, 111));
  const p1 = decodePacket(Uint8Array.from([0x21, 1, ...good.subarray(2), 0, 1, 0x01]));
  assert.deepEqual([...p1.sack!], [1]);
  assert.equal(decodePacket(Uint8Array.from([0x21, 1, ...good.subarray(2), 0, 0])).sack, undefined);
  assert.equal(decodePacket(Uint8Array.from([...good, 1, 2, 3])).payload.length, 0);
  assert.deepEqual([...decodePacket(encodePacket({ type: ST_STATE, connectionId: 1, timestamp: 2, timestampDiff: 3, wndSize: 4, seqNr: 5, ackNr: 6, sack: Uint8Array.of(3, 1) })).sack!], [3, 1]);
});

test('encode refuses what decode would refuse', () => {
  const h = { type: ST_STATE as UtpType, connectionId: 1, timestamp: 2, timestampDiff: 3, wndSize: 4, seqNr: 5, ackNr: 6 };
  assert.throws(() => encodePacket({ ...h, sack: new Uint8Array(0) }), BtError);
  assert.throws(() => encodePacket({ ...h, sack: new Uint8Array(132) }), BtError);
  assert.throws(() => encodePacket({ ...h, payload: new Uint8Array(1) }), BtError);
});

test('looksLikeUtp separates uTP from DHT (bencode) and UDP tracker (BEP 15) datagrams', () => {
  assert.equal(looksLikeUtp(Buffer.from('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe')), false);
  const trackerConnect = fromHex('0000041727101980' + '00000000' + '12345678');
  assert.equal(looksLikeUtp(trackerConnect), false);
  assert.equal(looksLikeUtp(fromHex('00000001' + '12345678' + '00000000' + '00000000' + '00000000')), false);
  for (const t of [ST_DATA, ST_FIN, ST_STATE, ST_RESET, ST_SYN]) {
    assert.equal(looksLikeUtp(encodePacket({ type: t as UtpType, connectionId: 1, timestamp: 0, timestampDiff: 0, wndSize: 0, seqNr: 0, ackNr: 0 })), true);
  }
  assert.equal(looksLikeUtp(new Uint8Array(19).fill(0x41)), false);
});

const arbPacket = fc.record({
  type: fc.constantFrom(ST_DATA, ST_FIN, ST_STATE, ST_RESET, ST_SYN) as fc.Arbitrary<UtpType>,
  connectionId: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  timestampDiff: fc.integer({ min: 0, max: 0xffffffff }),
  wndSize: fc.integer({ min: 0, max: 0xffffffff }),
  seqNr: fc.integer({ min: 0, max: 0xffff }),
  ackNr: fc.integer({ min: 0, max: 0xffff }),
  sack: fc.option(fc.integer({ min: 1, max: 32 }).chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 })), { nil: undefined }),
  payload: fc.uint8Array({ maxLength: 64 }),
});

test('property: encode then decode is the identity', () => {
  fc.assert(
    fc.property(arbPacket, (p) => {
      const payload = p.type === ST_DATA ? p.payload : new Uint8Array(0);
      const q = decodePacket(encodePacket({ ...p, payload }));
      assert.deepEqual({ ...q, sack: q.sack && [...q.sack], payload: [...q.payload] }, { ...p, sack: p.sack && [...p.sack], payload: [...payload] });
    }),
    { numRuns: 500 },
  );
});

test('property: arbitrary bytes decode or throw BtError ERR_UTP, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, fix) => {
      if (fix && b.length > 1) b[0] = (b[0]! & 0xf0) | 1; // make most of them pass the version check
      try {
        const p = decodePacket(b);
        assert.ok(p.payload.length <= b.length - 20);
        assert.ok(!p.sack || (p.sack.length % 4 === 0 && p.sack.length <= 128));
      } catch (e) {
        assert.ok(isBtError(e, 'ERR_UTP'), String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: 16-bit sequence arithmetic wraps', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -0x7fff, max: 0x7fff }), (a, n) => {
      const b = seqAdd(a, n);
      assert.ok(b >= 0 && b <= 0xffff);
      assert.equal(seqDiff(b, a), n);
    }),
  );
  assert.equal(seqDiff(0, 0xffff), 1);
  assert.equal(seqDiff(0xffff, 0), -1);
});

test('decodePacketInto reuses one object: every field (SACK, payload) is overwritten by the next packet', () => {
  const out = newPacket();
  const withSack = encodePacket({ type: ST_STATE, connectionId: 7, timestamp: 0xfffffffe, timestampDiff: 3, wndSize: 0x80000000, seqNr: 0xffff, ackNr: 9, sack: Uint8Array.from([1]) });
  decodePacketInto(withSack, out);
  assert.deepEqual({ ...out, sack: [...out.sack!], payload: [...out.payload] }, { ...decodePacket(withSack), sack: [1], payload: [] });
  const data = encodePacket({ type: ST_DATA, connectionId: 8, timestamp: 1, timestampDiff: 2, wndSize: 3, seqNr: 4, ackNr: 5, payload: Uint8Array.from([9, 8, 7]) });
  const ret = decodePacketInto(data, out);
  assert.equal(ret, out);
  assert.equal(out.sack, undefined);
  assert.deepEqual([...out.payload], [9, 8, 7]);
  assert.equal(out.payload.buffer, data.buffer, 'the payload is a view of the datagram');
  assert.deepEqual({ ...out, payload: [...out.payload] }, { ...decodePacket(data), payload: [9, 8, 7] });
});
