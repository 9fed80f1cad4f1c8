/** HTTP tracker codec (BEP 3, 23, 7, 48): percent-encoding, announce URLs, reply parsing, the scrape convention. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import type { BEncodable } from '../../../src/bencode/index.js';
import {
  MAX_INTERVAL_S,
  MAX_PEERS_PER_REPLY,
  buildAnnounceUrl,
  buildScrapeUrl,
  parseAnnounceResponse,
  parseScrapeResponse,
  percentEncodeBytes,
  scrapeUrlFor,
} from '../../../src/tracker/http/index.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';
import { fromHex } from '../../../src/util/bytes.js';

/** Percent-decoding to bytes (decodeURIComponent insists on UTF-8, so this is the byte-level equivalent). */
function percentDecode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      assert.match(s.slice(i + 1, i + 3), /^[0-9A-F]{2}$/, 'escapes are two uppercase hex digits');
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(s.charCodeAt(i));
    }
  }
  return new Uint8Array(out);
}

const isTrackerError = (re: RegExp) => (e: unknown) => e instanceof BtError && e.code === 'ERR_TRACKER' && re.test(e.message);
const enc = (v: BEncodable): Uint8Array => bencode(v);
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

const req: AnnounceRequest = {
  infoHash: fromHex('123456789abcdef123456789abcdef123456789a'),
  peerId: new TextEncoder().encode('-TK0010-abcdefghijkl'),
  port: 6881,
  uploaded: 0,
  downloaded: 2 ** 40,
  left: 1234.7,
  event: 'started',
  numWant: 50,
  key: 0xabcd,
};

test('percent-encoding: the classic BEP 3 info-hash vector', () => {
  assert.equal(percentEncodeBytes(req.infoHash), '%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A');
});

test('percent-encoding: all 256 byte values, unreserved as themselves, the rest %XX, and back', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const s = percentEncodeBytes(all);
  let expected = '';
  for (let i = 0; i < 256; i++) {
    const ch = String.fromCharCode(i);
    expected += /[A-Za-z0-9\-._~]/.test(ch) ? ch : '%' + i.toString(16).toUpperCase().padStart(2, '0');
  }
  assert.equal(s, expected);
  assert.equal(s.length, 66 + 3 * 190, '66 unreserved bytes, 190 escaped');
  assert.deepEqual(percentDecode(s), all);
  // Every character is URL-safe: WHATWG URL leaves the query untouched.
  assert.equal(new URL(`http://t/a?x=${s}`).search, `?x=${s}`);
});

test('percent-encoding round-trips any bytes (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const s = percentEncodeBytes(b);
      assert.match(s, /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
      assert.deepEqual(percentDecode(s), b);
    }),
  );
});

test('announce URL: every parameter, in order', () => {
  assert.equal(
    buildAnnounceUrl('http://tracker.example/announce', req),
    'http://tracker.example/announce?info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A' +
      '&peer_id=-TK0010-abcdefghijkl&port=6881&uploaded=0&downloaded=1099511627776&left=1234&key=0000ABCD' +
      '&event=started&numwant=50&compact=1&no_peer_id=1',
  );
});

test('announce URL: existing query kept, fragment dropped, event none omitted, crypto flags, trackerid', () => {
  const none = { ...req, event: 'none' as const };
  const a = buildAnnounceUrl('https://t.example:8443/x/announce.php?passkey=a%2Fb#frag', none);
  assert.ok(a.startsWith('https://t.example:8443/x/announce.php?passkey=a%2Fb&info_hash=%124Vx'), a);
  assert.ok(!a.includes('event='));
  assert.ok(!a.includes('#'));
  assert.ok(!a.includes('crypto'));
  assert.ok(buildAnnounceUrl('http://t/announce?', req).startsWith('http://t/announce?info_hash='));
  assert.ok(buildAnnounceUrl('http://t/announce?a=1&', req).startsWith('http://t/announce?a=1&info_hash='));

  const sup = buildAnnounceUrl('http://t/announce', { ...req, crypto: 'supported' });
  assert.ok(sup.endsWith('&no_peer_id=1&supportcrypto=1'), sup);
  const reqd = buildAnnounceUrl('http://t/announce', { ...req, crypto: 'required' });
  assert.ok(reqd.endsWith('&supportcrypto=1&requirecrypto=1'), reqd);
  assert.ok(!buildAnnounceUrl('http://t/announce', { ...req, crypto: 'none' }).includes('crypto'));

  const stopped = buildAnnounceUrl('http://t/announce', { ...req, event: 'stopped', numWant: 0, key: 0xdeadbeef }, 'id 1/\u00ff');
  assert.ok(stopped.includes('&key=DEADBEEF&event=stopped&numwant=0&'), stopped);
  assert.ok(stopped.endsWith('&trackerid=id%201%2F%FF'), 'a tracker id is sent back as its latin1 bytes');
  assert.ok(!buildAnnounceUrl('http://t/announce', req, '').includes('trackerid'));
  assert.ok(buildAnnounceUrl('http://t/announce', { ...req, key: -1 }).includes('&key=FFFFFFFF&'));

  assert.throws(() => buildAnnounceUrl('http://t/announce', { ...req, infoHash: new Uint8Array(19) }), TypeError);
  assert.throws(() => buildAnnounceUrl('http://t/announce', { ...req, port: 70000 }), TypeError);
  assert.throws(() => buildAnnounceUrl('http://t/announce', { ...req, left: NaN }), TypeError);
});

test('announce reply: compact peers, counts, intervals, warning, tracker id, external ip', () => {
  const r = parseAnnounceResponse(
    enc({
      interval: 1800,
      'min interval': 900,
      complete: 5,
      incomplete: 7,
      'warning message': 'slow down',
      'tracker id': new Uint8Array([0x61, 0x00, 0xff]),
      'external ip': new Uint8Array([203, 0, 113, 9]),
      peers: new Uint8Array([10, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 2, 0xc8, 0xd5]),
    }),
  );
  assert.deepEqual(r, {
    interval: 1800,
    minInterval: 900,
    seeders: 5,
    leechers: 7,
    warning: 'slow down',
    trackerId: 'a\u0000\u00ff',
    externalIp: '203.0.113.9',
    peers: [
      { host: '10.0.0.1', port: 6881 },
      { host: '192.168.1.2', port: 51413 },
    ],
  });
  const v6 = parseAnnounceResponse(enc({ peers: '', 'external ip': fromHex('20010db8000000000000000000000001') }));
  assert.equal(v6.externalIp, '2001:db8::1');
  assert.deepEqual(v6.peers, []);
  assert.equal(parseAnnounceResponse(enc({ 'external ip': '1.2.3.4.5' })).externalIp, undefined, 'other lengths are ignored');
  assert.deepEqual(parseAnnounceResponse(enc({ interval: 60 })), { interval: 60, peers: [] }, 'no peers key: no peers');
});

test('announce reply: compact peers of a length not a multiple of 6 (or 18) is an error', () => {
  assert.throws(() => parseAnnounceResponse(enc({ peers: new Uint8Array(7) })), isTrackerError(/not a multiple of 6/));
  assert.throws(() => parseAnnounceResponse(enc({ peers6: new Uint8Array(20) })), isTrackerError(/not a multiple of 18/));
  assert.throws(() => parseAnnounceResponse(enc({ peers: 5 })), isTrackerError(/neither a string nor a list/));
});

test('announce reply: dictionary-model peers, with and without peer ids, bad entries dropped', () => {
  const id = new Uint8Array(20).fill(0x41);
  const r = parseAnnounceResponse(
    enc({
      peers: [
        { ip: '1.2.3.4', port: 6881, 'peer id': id },
        { ip: '2001:DB8:0:0::7', port: 80 },
        { ip: '::ffff:5.6.7.8', port: 81 },
        { ip: '9.9.9.9', port: 0 }, // port 0
        { ip: '9.9.9.9', port: 65536 }, // port out of range
        { ip: 'tracker.example', port: 6881 }, // not an IP literal
        { ip: '1.2.3', port: 6881 },
        { ip: '01.2.3.4', port: 6881 },
        { ip: '0.0.0.0', port: 6881 },
        { ip: '224.0.0.1', port: 6881 },
        { ip: 'fe80::1%eth0', port: 6881 },
        { ip: '1.2.3.4', port: 6881 }, // duplicate
        { port: 6881 },
        { ip: 5, port: 6881 },
        'junk',
        { ip: '4.3.2.1', port: 6882, 'peer id': 'short' },
      ],
    }),
  );
  assert.deepEqual(r.peers, [
    { host: '1.2.3.4', port: 6881, peerId: id },
    { host: '2001:db8::7', port: 80 },
    { host: '5.6.7.8', port: 81 },
    { host: '4.3.2.1', port: 6882 },
  ]);
});

test('announce reply: BEP 7 peers6 alongside IPv4 peers', () => {
  const p6 = fromHex('20010db8000000000000000000000001' + '1ae1' + 'fe800000000000000001000200030004' + '0050' + '00000000000000000000ffff7f000001' + '0051');
  const r = parseAnnounceResponse(enc({ peers: new Uint8Array([127, 0, 0, 1, 0, 80]), peers6: p6 }));
  assert.deepEqual(r.peers, [
    { host: '127.0.0.1', port: 80 },
    { host: '2001:db8::1', port: 6881 },
    { host: 'fe80::1:2:3:4', port: 80 },
    { host: '127.0.0.1', port: 81 },
  ]);
});

test('announce reply: bogus intervals and counts are ignored or clamped, never trusted', () => {
  const r = parseAnnounceResponse(enc({ interval: -5, 'min interval': 10 ** 12, complete: -1, incomplete: 'many' }));
  assert.equal(r.interval, undefined);
  assert.equal(r.minInterval, MAX_INTERVAL_S);
  assert.equal(r.seeders, undefined);
  assert.equal(r.leechers, undefined);
  assert.equal(parseAnnounceResponse(enc({ interval: '1800' })).interval, undefined);
  assert.equal(parseAnnounceResponse(enc({ interval: 0 })).interval, 0);
  // Past 2^53 the decoder refuses the integer: the reply is rejected as a whole rather than misread.
  assert.throws(() => parseAnnounceResponse(new TextEncoder().encode('d8:intervali99999999999999999999ee')), isTrackerError(/not valid bencode/));
});

test('announce reply: peer lists are capped', () => {
  const n = MAX_PEERS_PER_REPLY + 500;
  const compact = new Uint8Array(n * 6);
  for (let i = 0; i < n; i++) compact.set([10, (i >> 16) & 255, (i >> 8) & 255, i & 255, 0x1a, 0xe1], i * 6);
  const r = parseAnnounceResponse(enc({ peers: compact, peers6: fromHex('20010db8000000000000000000000001' + '1ae1') }));
  assert.equal(r.peers.length, MAX_PEERS_PER_REPLY);
  assert.deepEqual(r.peers[0], { host: '10.0.0.0', port: 6881 });
});

test('announce reply: failure reason, HTML, truncated, not a dictionary, empty', () => {
  assert.throws(() => parseAnnounceResponse(enc({ 'failure reason': 'torrent not registered' })), isTrackerError(/^tracker failure: torrent not registered$/));
  assert.throws(() => parseAnnounceResponse(enc({ 'failure reason': 3 })), isTrackerError(/^tracker failure/));
  const html = new TextEncoder().encode('\r\n  <!DOCTYPE html><html><body>502 Bad Gateway</body></html>');
  assert.throws(() => parseAnnounceResponse(html), isTrackerError(/not bencoded \(looks like an HTML page\)/));
  const full = enc({ interval: 1800, peers: new Uint8Array(12) });
  assert.throws(() => parseAnnounceResponse(full.subarray(0, full.length - 5)), isTrackerError(/not valid bencode \(truncated\)/));
  assert.throws(() => parseAnnounceResponse(new TextEncoder().encode('Service Unavailable')), isTrackerError(/not valid bencode/));
  assert.throws(() => parseAnnounceResponse(enc([1, 2])), isTrackerError(/not a bencoded dictionary/));
  assert.throws(() => parseAnnounceResponse(new Uint8Array(0)), isTrackerError(/empty/));
  assert.throws(() => parseAnnounceResponse(new TextEncoder().encode(' \n')), isTrackerError(/empty/));
  // Trailing bytes after the dictionary (a newline, say) are tolerated.
  const trailing = new Uint8Array([...enc({ interval: 5 }), 0x0a]);
  assert.equal(parseAnnounceResponse(trailing).interval, 5);
  // Deep nesting is refused by the decoder's depth limit rather than walked.
  const deep = new TextEncoder().encode('d1:x' + 'l'.repeat(100) + 'e'.repeat(100) + 'e');
  assert.throws(() => parseAnnounceResponse(deep), isTrackerError(/not valid bencode/));
});

test('scrape URL convention (BEP 48)', () => {
  const cases: [string, string | undefined][] = [
    ['http://example.com/announce', 'http://example.com/scrape'],
    ['http://example.com/x/announce', 'http://example.com/x/scrape'],
    ['http://example.com/announce.php', 'http://example.com/scrape.php'],
    ['http://example.com/a', undefined],
    ['http://example.com/announce?x2%0644', 'http://example.com/scrape?x2%0644'],
    ['http://example.com/announce?x=2/4', 'http://example.com/scrape?x=2/4'],
    ['http://example.com/x%064announce', undefined],
    ['http://example.com/announce/', undefined],
    ['http://example.com', undefined],
    ['http://announce.example.com', undefined],
    ['http://example.com/announce#frag', 'http://example.com/scrape'],
    ['https://example.com:8443/p/announce-v2?k=v&a=b', 'https://example.com:8443/p/scrape-v2?k=v&a=b'],
  ];
  for (const [from, to] of cases) assert.equal(scrapeUrlFor(from), to, from);
});

test('scrape URL and reply', () => {
  const ih = fromHex('123456789abcdef123456789abcdef123456789a');
  const other = new Uint8Array(20).fill(0x25);
  assert.equal(buildScrapeUrl('http://t/scrape?k=1', [ih, other]), `http://t/scrape?k=1&info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A&info_hash=${'%25'.repeat(20)}`);
  assert.throws(() => buildScrapeUrl('http://t/scrape', [new Uint8Array(3)]), TypeError);

  const body = enc({
    files: {
      [latin1(ih)]: { complete: 3, incomplete: 4, downloaded: 10, name: 'x' },
      [latin1(other)]: { complete: -2 },
    },
    flags: { min_request_interval: 600 },
  });
  assert.deepEqual(parseScrapeResponse(body, ih), { seeders: 3, leechers: 4, completed: 10 });
  assert.deepEqual(parseScrapeResponse(body, other), { seeders: 0, leechers: 0, completed: 0 }, 'missing or bogus counters read as 0');
  const unknown = new Uint8Array(20).fill(7);
  assert.throws(() => parseScrapeResponse(body, unknown), isTrackerError(/does not know this torrent/));
  assert.throws(() => parseScrapeResponse(enc({ files: {} }), ih), isTrackerError(/does not know this torrent/));
  assert.throws(() => parseScrapeResponse(enc({}), ih), isTrackerError(/does not know this torrent/));
  assert.throws(() => parseScrapeResponse(enc({ files: 'x' }), ih), isTrackerError(/files is not a dictionary/));
  assert.throws(() => parseScrapeResponse(enc({ 'failure reason': 'scrape disabled' }), ih), isTrackerError(/^tracker failure: scrape disabled$/));
  assert.throws(() => parseScrapeResponse(new TextEncoder().encode('<html>'), ih), isTrackerError(/HTML page/));
});

test('hostile replies never throw anything but ERR_TRACKER (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      try {
        const r = parseAnnounceResponse(b);
        assert.ok(Array.isArray(r.peers));
      } catch (e) {
        assert.ok(e instanceof BtError && e.code === 'ERR_TRACKER', String(e));
      }
    }),
  );
});

test('scrape reply keyed by the UTF-8 form of the hash (npm bittorrent-tracker) or by hex', () => {
  const ih = new Uint8Array(20).map((_, i) => 0xf0 - i * 7);
  const latin1 = String.fromCharCode(...ih);
  const utf8Key = Buffer.from(latin1, 'utf8').toString('latin1');
  const body = (key: string): Uint8Array =>
    new Uint8Array(Buffer.concat([Buffer.from(`d5:filesd${Buffer.byteLength(key, 'latin1')}:`), Buffer.from(key, 'latin1'), Buffer.from('d8:completei3e10:incompletei4e10:downloadedi5eeee')]));
  for (const key of [latin1, utf8Key, Buffer.from(ih).toString('hex')]) {
    assert.deepEqual(parseScrapeResponse(body(key), ih), { seeders: 3, leechers: 4, completed: 5 });
  }
  assert.throws(() => parseScrapeResponse(body('x'.repeat(20)), ih), /does not know this torrent/);
});
