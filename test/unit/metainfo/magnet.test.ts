/** BEP 9 magnet links: vectors, base32, round trips, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMagnet, parseMagnet, parseTorrent, base32Encode, base32Decode } from '../../../src/metainfo/index.js';
import { bencode } from '../../../src/bencode/index.js';
import { BtError } from '../../../src/core/errors.js';
import { fromHex } from '../../../src/util/bytes.js';
import fc from 'fast-check';

const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';

test('hex and base32 xt give the same hash', () => {
  const b32 = base32Encode(fromHex(HEX));
  assert.equal(b32, 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK');
  const a = parseMagnet(`magnet:?xt=urn:btih:${HEX}`);
  const b = parseMagnet(`magnet:?xt=urn:btih:${b32}`);
  const c = parseMagnet(`magnet:?xt=urn:btih:${b32.toLowerCase()}`);
  const d = parseMagnet(`MAGNET:?XT=URN:BTIH:${HEX.toUpperCase()}`);
  for (const m of [a, b, c, d]) {
    assert.equal(m.infoHashHex, HEX);
    assert.deepEqual(m.infoHash, fromHex(HEX));
  }
  assert.deepEqual(base32Decode(b32), fromHex(HEX));
});

test('dn, tr (repeatable, indexed), x.pe, ws with percent-decoding', () => {
  const m = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&dn=Hello+World%20%C3%A9&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce&tr=http://t2/a?x=1` +
      `&tr.1=http%3A%2F%2Ft3%2F&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce&x.pe=10.0.0.1:6881&x.pe=%5B%3A%3A1%5D%3A51413&x.pe=garbage` +
      `&ws=http%3A%2F%2Fws%2Ffile&unknown=1&&kt=a+b`,
  );
  assert.equal(m.displayName, 'Hello World é');
  assert.deepEqual(m.trackers, ['udp://tracker.example:1337/announce', 'http://t2/a?x=1', 'http://t3/']);
  assert.deepEqual(m.peers, ['10.0.0.1:6881', '[::1]:51413']);
  assert.deepEqual(m.webSeeds, ['http://ws/file']);
});

test('v1 hash is found among several xt (hybrid magnet)', () => {
  const m = parseMagnet(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}&xt=urn:btih:${HEX}`);
  assert.equal(m.infoHashHex, HEX);
});

test('errors are ERR_MAGNET', () => {
  const bad: [string, string | undefined, RegExp][] = [
    ['http://example.com', undefined, /magnet:\?/],
    ['magnet:?dn=x', 'xt', /missing xt/],
    [`magnet:?xt=urn:btih:${HEX.slice(1)}`, 'xt', /40 hex or 32 base32/],
    ['magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1', 'xt', /base32/],
    [`magnet:?xt=urn:btmh:1320${'ab'.repeat(32)}`, 'xt', /1220 followed by 64 hex/],
    [`magnet:?xt=urn:btmh:1220${'ab'.repeat(31)}`, 'xt', /1220 followed by 64 hex/],
    [`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`, 'dn', /percent-encoding/],
    [`magnet:?xt=urn:btih:${HEX}&tr=%ZZ`, 'tr', /percent-encoding/],
  ];
  for (const [uri, field, re] of bad) {
    assert.throws(
      () => parseMagnet(uri),
      (e: unknown) => e instanceof BtError && e.code === 'ERR_MAGNET' && e.field === field && re.test(e.message),
      uri,
    );
  }
});

test('formatMagnet round-trips a MagnetLink', () => {
  const m = parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=a%26b%3Dc+d%2Be&tr=udp://a:1/x&tr=http://b/?q=1%262&x.pe=1.2.3.4:5&x.pe=[::1]:6&ws=http://w/`);
  const s = formatMagnet(m);
  assert.match(s, new RegExp(`^magnet:\\?xt=urn:btih:${HEX}&dn=`));
  assert.deepEqual(parseMagnet(s), m);
  assert.equal(m.displayName, 'a&b=c d+e');
  const bare = parseMagnet(`magnet:?xt=urn:btih:${HEX}`);
  assert.equal(formatMagnet(bare), `magnet:?xt=urn:btih:${HEX}`);
  assert.deepEqual(parseMagnet(formatMagnet(bare)), bare);
});

test('formatMagnet round-trips arbitrary links (property)', () => {
  const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.option(fc.string({ unit: 'grapheme', maxLength: 20 }), { nil: undefined }),
      fc.uniqueArray(text, { maxLength: 3 }),
      fc.uniqueArray(text, { maxLength: 3 }),
      (hash, dn, trackers, webSeeds) => {
        const link = parseMagnet(formatMagnet({ infoHash: hash, infoHashHex: '', displayName: dn, trackers, peers: ['1.2.3.4:1'], webSeeds }));
        assert.deepEqual(link.infoHash, hash);
        assert.equal(link.displayName, dn);
        assert.deepEqual(link.trackers, trackers);
        assert.deepEqual(link.webSeeds, webSeeds);
        assert.deepEqual(link.peers, ['1.2.3.4:1']);
      },
    ),
    { numRuns: 300 },
  );
});

test('formatMagnet of a Metainfo', () => {
  const meta = parseTorrent(
    bencode({
      announce: 'http://a/',
      'announce-list': [['http://a/', 'http://b/'], ['udp://c:1']],
      'url-list': ['http://ws/'],
      info: { length: 5, name: 'my file', 'piece length': 16, pieces: new Uint8Array(20) },
    }),
  );
  const s = formatMagnet(meta);
  assert.equal(
    s,
    `magnet:?xt=urn:btih:${meta.infoHashHex}&dn=my%20file&tr=http%3A%2F%2Fa%2F&tr=http%3A%2F%2Fb%2F&tr=udp%3A%2F%2Fc%3A1&ws=http%3A%2F%2Fws%2F`,
  );
  const m = parseMagnet(s);
  assert.equal(m.infoHashHex, meta.infoHashHex);
  assert.equal(m.displayName, 'my file');
  assert.deepEqual(m.trackers, ['http://a/', 'http://b/', 'udp://c:1']);
});

test('BEP 53 so= (select only): indices and ranges, round-trip, malformed ignored', () => {
  const m = parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=0,2,4,6-8`);
  assert.deepEqual(m.selectOnly, [0, 2, 4, 6, 7, 8]);
  assert.match(formatMagnet(m), /&so=0,2,4,6-8$/);
  assert.deepEqual(parseMagnet(formatMagnet(m)), m);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=1,x`).selectOnly, undefined);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=5-2`).selectOnly, undefined);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=0-999999999`).selectOnly, undefined, 'bounded');
  assert.equal('selectOnly' in parseMagnet(`magnet:?xt=urn:btih:${HEX}`), false);
});

test('many tr= / ws= / x.pe= entries parse in linear time, duplicates still dropped (found by npm run fuzz)', () => {
  const n = 40_000;
  const ih = `magnet:?xt=urn:btih:${HEX}`;
  const params = (f: (i: number) => string): string => Array.from({ length: n }, (_, i) => `&${f(i)}`).join('');
  const uri = `${ih}${params((i) => `tr=http://t${i}.example/a`)}${params((i) => `ws=http://w${i}.example/`)}${params((i) => `x.pe=10.0.${(i >> 8) & 255}.${i & 255}:${1 + (i >> 16)}`)}&tr=http://t0.example/a&ws=http://w0.example/&x.pe=10.0.0.0:1`;
  // CPU time, not wall time: the bound is about the parser's work, not about what else the machine runs.
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const t0 = cpu();
  const m = parseMagnet(uri);
  const ms = cpu() - t0;
  assert.equal(m.trackers.length, n);
  assert.equal(m.webSeeds.length, n);
  assert.equal(m.peers.length, n);
  // Quadratic de-duplication took ~10 s here; linear is well under a second even on a loaded machine.
  assert.ok(ms < 2000, `parseMagnet of ${3 * n} entries took ${ms.toFixed(0)} ms`);
});

test('a link repeating so= with large ranges is parsed once, not expanded per parameter (found by npm run fuzz: 60 × so=1-70707 hung 5 s)', () => {
  const uri = `magnet:?xt=urn:btih:${HEX}${'&so=1-70707'.repeat(500)}&so=1-3,5&so=9-2`;
  const t0 = performance.now();
  const m = parseMagnet(uri);
  const ms = performance.now() - t0;
  assert.deepEqual(m.selectOnly, [1, 2, 3, 5]); // the last valid so= wins; the malformed one after it is ignored
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  const big = parseMagnet(`magnet:?xt=urn:btih:${HEX}${'&so=0-99999'.repeat(200)}`);
  assert.equal(big.selectOnly?.length, 100_000);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=0-100001`).selectOnly, undefined); // over the cap
});

test('BEP 52 btmh: alone (v2 only, swarm id = truncated v2 hash) or beside a btih; formatMagnet round-trips', () => {
  const V2 = '95e04d0c4bad94ab206efa884666fd89777dbe4f7bd9945af1829037a85c6192';
  const only = parseMagnet(`magnet:?xt=urn:btmh:1220${V2.toUpperCase()}&dn=test1MB`);
  assert.equal(only.infoHashV2Hex, V2);
  assert.equal(only.infoHashHex, V2.slice(0, 40));
  assert.equal(only.v2Only, true);
  assert.equal(formatMagnet(only), `magnet:?xt=urn:btmh:1220${V2}&dn=test1MB`);
  const both = parseMagnet(`magnet:?xt=urn:btmh:1220${V2}&xt=urn:btih:${HEX}`);
  assert.equal(both.infoHashHex, HEX);
  assert.equal(both.infoHashV2Hex, V2);
  assert.equal(both.v2Only, undefined);
  const again = parseMagnet(formatMagnet(both));
  assert.equal(again.infoHashHex, HEX);
  assert.equal(again.infoHashV2Hex, V2);
});
