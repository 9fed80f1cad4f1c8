/** BEP 15 UDP tracker codec: exact bytes, parsing, and hostile packets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BtError } from '../../../src/core/errors.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from '../../../src/tracker/index.js';
import { fromHex, toHex } from '../../../src/util/bytes.js';

test('connect request is the protocol id, action 0 and the transaction id', () => {
  assert.equal(toHex(encodeConnectRequest(0xdeadbeef)), '0000041727101980' + '00000000' + 'deadbeef');
});

test('announce request layout (98 bytes) and BEP 41 URLData options', () => {
  const ih = new Uint8Array(20).fill(0xaa);
  const id = new Uint8Array(20).fill(0xbb);
  const b = encodeAnnounceRequest({
    connectionId: 0x0102030405060708n, transactionId: 7, infoHash: ih, peerId: id,
    downloaded: 2 ** 40, left: 5, uploaded: 0, event: 'started', key: 0x11223344, numWant: -1, port: 6881,
  });
  assert.equal(b.length, 98);
  const v = new DataView(b.buffer);
  assert.equal(v.getBigUint64(0), 0x0102030405060708n);
  assert.equal(v.getUint32(8), 1);
  assert.equal(v.getUint32(12), 7);
  assert.deepEqual(b.subarray(16, 36), ih);
  assert.deepEqual(b.subarray(36, 56), id);
  assert.equal(v.getBigUint64(56), 2n ** 40n);
  assert.equal(v.getBigUint64(64), 5n);
  assert.equal(v.getUint32(80), 2);
  assert.equal(v.getUint32(88), 0x11223344);
  assert.equal(v.getInt32(92), -1);
  assert.equal(v.getUint16(96), 6881);
  const withUrl = encodeAnnounceRequest({
    connectionId: 1n, transactionId: 1, infoHash: ih, peerId: id, downloaded: 0, left: 0, uploaded: 0,
    event: 'none', key: 0, numWant: 50, port: 1, urlData: '/announce?x=' + 'y'.repeat(300),
  });
  const url = new TextDecoder().decode(withUrl.subarray(98));
  assert.equal(withUrl[98], 2);
  assert.equal(withUrl[99], 255);
  assert.equal(withUrl[withUrl.length - 1], 0);
  assert.ok(url.includes('/announce?x='));
});

test('scrape request carries 1 to 74 hashes', () => {
  const b = encodeScrapeRequest(9n, 3, [new Uint8Array(20).fill(1), new Uint8Array(20).fill(2)]);
  assert.equal(b.length, 56);
  assert.throws(() => encodeScrapeRequest(9n, 3, []), RangeError);
  assert.throws(() => encodeScrapeRequest(9n, 3, Array.from({ length: 75 }, () => new Uint8Array(20))), RangeError);
});

test('responses: connect, announce (IPv4 and IPv6 peers), scrape, error', () => {
  const c = decodeResponse(fromHex('00000000' + '00000005' + '1122334455667788'));
  assert.deepEqual(c, { action: 'connect', transactionId: 5, connectionId: 0x1122334455667788n });
  const a = decodeResponse(fromHex('00000001' + '00000006' + '00000708' + '00000002' + '00000003' + '7f0000011ae1' + '0a0000020050'));
  assert.deepEqual(a, {
    action: 'announce', transactionId: 6, interval: 1800, leechers: 2, seeders: 3,
    peers: [{ host: '127.0.0.1', port: 6881 }, { host: '10.0.0.2', port: 80 }],
  });
  const a6 = decodeResponse(fromHex('00000001' + '00000006' + '00000708' + '00000000' + '00000001' + '00000000000000000000000000000001' + '1ae1'), { ipv6: true });
  assert.deepEqual(a6.action === 'announce' && a6.peers, [{ host: '::1', port: 6881 }]);
  const s = decodeResponse(fromHex('00000002' + '00000009' + '000000010000000200000003'));
  assert.deepEqual(s, { action: 'scrape', transactionId: 9, files: [{ seeders: 1, completed: 2, leechers: 3 }] });
  const e = decodeResponse(new Uint8Array([0, 0, 0, 3, 0, 0, 0, 4, ...new TextEncoder().encode('not authorized')]));
  assert.deepEqual(e, { action: 'error', transactionId: 4, message: 'not authorized' });
});

test('malformed packets give ERR_TRACKER', () => {
  for (const hex of ['0000', '00000000000000010000', '00000001000000010000', '00000001' + '00000001' + '000000000000000000000000' + '7f00', '00000002000000010000000100', '00000009' + '00000000']) {
    assert.throws(() => decodeResponse(fromHex(hex)), (e: unknown) => e instanceof BtError && e.code === 'ERR_TRACKER', hex);
  }
});

test('random bytes never throw anything but BtError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, ipv6) => {
      try {
        decodeResponse(b, { ipv6 });
      } catch (e) {
        if (!(e instanceof BtError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
