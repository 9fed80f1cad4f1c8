/** BEP 5 routing table and BEP 42 secure ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { fromHex } from '../../../src/util/bytes.js';
import {
  GOOD_INTERVAL_MS,
  RoutingTable,
  commonPrefixBits,
  compareDistance,
  crc32c,
  isSecureNodeId,
  secureNodeId,
} from '../../../src/dht/index.js';

test('crc32c check value', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

test('BEP 42 test vectors', () => {
  const vectors: [string, number, string][] = [
    ['124.31.75.21', 1, '5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'],
    ['21.75.31.124', 86, '5a3ce9c14e7a08645677bbd1cfe7d8f956d53256'],
    ['65.23.51.170', 22, 'a5d43220bc8f112a3d426c84764f8c2a1150e616'],
    ['84.124.73.14', 65, '1b0321dd1bb1fe518101ceef99462b947a01ff41'],
    ['43.213.53.83', 90, 'e56f6cbf5b7c4be0237986d5243b87aa6d51305a'],
  ];
  for (const [ip, rand, hex] of vectors) {
    const want = fromHex(hex);
    const got = secureNodeId(ip, { rand, middle: want.subarray(2, 19) });
    assert.deepEqual(got, want, ip);
    assert.equal(isSecureNodeId(want, ip), true);
    const other = want.slice();
    other[0]! ^= 0x01;
    assert.equal(isSecureNodeId(other, ip), false);
  }
  // Random ids for an address verify; local addresses are exempt.
  const r = new SeededRandom(3);
  for (let i = 0; i < 50; i++) assert.ok(isSecureNodeId(secureNodeId('8.8.4.4', r), '8.8.4.4'));
  assert.ok(isSecureNodeId(new Uint8Array(20), '127.0.0.1'));
  assert.ok(isSecureNodeId(new Uint8Array(20), '192.168.1.7'));
  assert.ok(!isSecureNodeId(new Uint8Array(20), '8.8.4.4'));
  assert.ok(isSecureNodeId(secureNodeId('2001:db8::7', r), '2001:db8::7'));
});

function idWithPrefix(self: Uint8Array, cpl: number, r: SeededRandom): Uint8Array {
  const id = r.bytes(20);
  for (let bit = 0; bit <= cpl; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    let v = self[byte]! & mask;
    if (bit === cpl) v ^= mask;
    id[byte] = (id[byte]! & ~mask) | v;
  }
  return id;
}

test('buckets: K per bucket, only the bucket holding our id splits, closest() is exact', () => {
  const clock = new FakeClock();
  const r = new SeededRandom(1);
  const self = r.bytes(20);
  const t = new RoutingTable(self, { clock });
  const all: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const id = r.bytes(20);
    all.push(id);
    t.heard({ id, host: `10.0.${i >> 8}.${i & 255}`, port: 1000 + i }, 'response');
  }
  // Far buckets hold at most K; the table splits until the last buckets are sparse.
  assert.ok(t.bucketCount >= 7 && t.bucketCount < 20, `buckets ${t.bucketCount}`);
  assert.ok(t.size <= 8 * t.bucketCount);
  for (const n of t.all()) assert.ok(commonPrefixBits(n.id, self) >= 0);
  // closest(): sorted and equal to a brute-force sort of the table's nodes.
  for (let j = 0; j < 20; j++) {
    const target = r.bytes(20);
    const got = t.closest(target, 8);
    const brute = t.all().sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, 8);
    assert.deepEqual(got.map((n) => n.id), brute.map((n) => n.id));
  }
  // Our own id never enters.
  assert.equal(t.heard({ id: self, host: '10.9.9.9', port: 1 }, 'response').inTable, false);
});

test('good / questionable / bad, replacement cache and pings', () => {
  const clock = new FakeClock();
  const r = new SeededRandom(2);
  const self = r.bytes(20);
  const t = new RoutingTable(self, { clock });
  // Fill bucket 0 (ids differing from ours in the first bit) and split off our half.
  const far = Array.from({ length: 8 }, () => idWithPrefix(self, 0, r));
  far.forEach((id, i) => t.heard({ id, host: `10.1.0.${i + 1}`, port: 6881 }, 'response'));
  t.heard({ id: idWithPrefix(self, 5, r), host: '10.2.0.1', port: 6881 }, 'response'); // forces a split
  assert.ok(t.bucketCount >= 2);
  const n0 = t.get(far[0]!)!;
  assert.equal(t.state(n0), 'good');

  // A newcomer to a full bucket of good nodes is cached; no ping yet (all good).
  const newcomer = idWithPrefix(self, 0, r);
  let res = t.heard({ id: newcomer, host: '10.3.0.1', port: 6881 }, 'response');
  assert.equal(res.inTable, false);
  assert.equal(res.ping, undefined);

  // 15 minutes later everybody is questionable: the newcomer asks for a ping of the oldest.
  clock.advance(GOOD_INTERVAL_MS + 1);
  assert.equal(t.state(n0), 'questionable');
  res = t.heard({ id: newcomer, host: '10.3.0.1', port: 6881 }, 'response');
  assert.ok(res.ping, 'asks for a ping');
  // The pinged node fails twice: it is bad and the replacement takes its place.
  t.failed(res.ping!.id);
  assert.ok(t.get(res.ping!.id));
  t.failed(res.ping!.id);
  assert.equal(t.get(res.ping!.id), undefined);
  assert.ok(t.get(newcomer), 'replacement promoted');

  // A node that answered once and queries us later is good again.
  const n1 = t.get(far[1]!)!;
  t.heard({ id: far[1]!, host: '10.1.0.2', port: 6881 }, 'query');
  assert.equal(t.state(n1), 'good');
  // A known good id claimed from another address is ignored (no hijack).
  t.heard({ id: far[1]!, host: '10.66.0.1', port: 1 }, 'response');
  assert.equal(t.get(far[1]!)!.host, '10.1.0.2');
});

test('BEP 42: a compliant newcomer displaces a non-compliant node in a full bucket', () => {
  const clock = new FakeClock();
  const r = new SeededRandom(5);
  const self = r.bytes(20);
  const t = new RoutingTable(self, { clock });
  // Public addresses with non-compliant (random) ids, all in bucket 0.
  const ids = Array.from({ length: 8 }, () => idWithPrefix(self, 0, r));
  ids.forEach((id, i) => t.heard({ id, host: `8.8.${i}.1`, port: 1 }, 'response'));
  t.heard({ id: idWithPrefix(self, 4, r), host: '8.9.0.1', port: 1 }, 'response');
  // A compliant id for 9.9.9.9 that falls in bucket 0.
  let good: Uint8Array;
  do good = secureNodeId('9.9.9.9', r);
  while (commonPrefixBits(good, self) !== 0);
  const res = t.heard({ id: good, host: '9.9.9.9', port: 1 }, 'response');
  assert.equal(res.inTable, true);
  assert.equal(t.all().filter((n) => commonPrefixBits(n.id, self) === 0).length, 8);
  // With enforcement, non-compliant public nodes are refused; local ones are exempt.
  const strict = new RoutingTable(self, { clock, enforceSecureIds: true });
  assert.equal(strict.heard({ id: r.bytes(20), host: '8.8.8.8', port: 1 }, 'response').inTable, false);
  assert.equal(strict.heard({ id: r.bytes(20), host: '127.0.0.1', port: 1 }, 'response').inTable, true);
});

test('refresh: buckets idle for 15 minutes give a random target inside them', () => {
  const clock = new FakeClock();
  const r = new SeededRandom(9);
  const self = r.bytes(20);
  const t = new RoutingTable(self, { clock });
  for (let i = 0; i < 100; i++) t.heard({ id: r.bytes(20), host: `10.0.0.${i + 1}`, port: 1 }, 'response');
  assert.deepEqual(t.refreshTargets(r), []);
  clock.advance(15 * 60_000);
  const targets = t.refreshTargets(r);
  assert.equal(targets.length, t.bucketCount);
  targets.forEach((id, i) => {
    const cpl = commonPrefixBits(id, self);
    if (i < t.bucketCount - 1) assert.equal(cpl, i);
    else assert.ok(cpl >= i);
  });
  assert.deepEqual(t.refreshTargets(r), [], 'marked refreshed');
});
