/** BEP 11 ut_pex codec and PexTracker: vectors, round trips, strict lengths, caps, hostile input. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../../../src/core/index.js';
import { isBtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import { concatBytes } from '../../../src/util/bytes.js';
import type { PexPeer } from '../../../src/wire/index.js';
import { PexFlags, PexTracker, decodeUtPex, encodeUtPex, pexPeerKey } from '../../../src/wire/index.js';

const text = (b: Uint8Array): string => String.fromCharCode(...b);
const ascii = (s: string): Uint8Array => new Uint8Array([...s].map((c) => c.charCodeAt(0)));

function throwsWire(fn: () => unknown, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBtError(e, 'ERR_WIRE'), `expected ERR_WIRE, got ${String(e)}`);
    if (re) assert.match((e as Error).message, re);
    return true;
  });
}

function v4Peers(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n * 6);
  for (let i = 0; i < n; i++) {
    const k = i + start;
    b.set([10, (k >> 16) & 0xff, (k >> 8) & 0xff, k & 0xff, 0x1a, 0xe1], i * 6);
  }
  return b;
}

describe('ut_pex codec (BEP 11)', () => {
  it('encodes a known message byte for byte', () => {
    const b = encodeUtPex({
      added: [
        { host: '1.2.3.4', port: 6881, flags: PexFlags.Seed | PexFlags.Reachable },
        { host: '2001:db8::1', port: 51413, flags: PexFlags.Utp },
      ],
      dropped: [{ host: '5.6.7.8', port: 80 }],
    });
    assert.equal(
      text(b),
      'd5:added6:\x01\x02\x03\x04\x1a\xe1' +
        '7:added.f1:\x12' +
        '6:added618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\xc8\xd5' +
        '8:added6.f1:\x04' +
        '7:dropped6:\x05\x06\x07\x08\x00\x50e',
    );
    assert.equal(text(encodeUtPex({ added: [], dropped: [] })), 'd5:added0:7:added.f0:7:dropped0:e');
  });

  it('decodes libtorrent-style messages, flags optional', () => {
    const m = decodeUtPex(ascii('d5:added12:\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x1a\xe27:added.f2:\x01\x107:dropped0:e'));
    assert.deepEqual(m, {
      added: [
        { host: '127.0.0.1', port: 6881, flags: 1 },
        { host: '127.0.0.2', port: 6882, flags: 0x10 },
      ],
      dropped: [],
    });
    // No flags at all (some clients): flags 0.
    assert.deepEqual(decodeUtPex(ascii('d5:added6:\x7f\x00\x00\x01\x1a\xe1e')).added, [{ host: '127.0.0.1', port: 6881, flags: 0 }]);
    // An empty dictionary is a valid, empty message.
    assert.deepEqual(decodeUtPex(ascii('de')), { added: [], dropped: [] });
  });

  it('formats IPv6 addresses canonically (RFC 5952)', () => {
    const one = (hex: string): string => {
      const addr = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
      return decodeUtPex(bencode({ added6: concatBytes([addr, new Uint8Array([0, 1])]) })).added[0]!.host;
    };
    assert.equal(one('00000000000000000000000000000001'), '::1');
    assert.equal(one('20010db8000000000000000000000001'), '2001:db8::1');
    assert.equal(one('20010db8000000010000000000000001'), '2001:db8:0:1::1');
    assert.equal(one('fe800000000000000000000000000000'), 'fe80::');
    assert.equal(one('20010db8000100020003000400050006'), '2001:db8:1:2:3:4:5:6');
    assert.equal(one('00000000000000000000ffff01020304'), '::ffff:102:304');
    assert.equal(pexPeerKey({ host: '::ffff:1.2.3.4', port: 1 }), '[::ffff:102:304]:1');
    assert.equal(pexPeerKey({ host: '2001:DB8:0:0::1', port: 9 }), '[2001:db8::1]:9');
    assert.equal(pexPeerKey({ host: '[::1]', port: 9 }), '[::1]:9');
    assert.equal(pexPeerKey({ host: 'example.com', port: 9 }), undefined);
    assert.equal(pexPeerKey({ host: '1.2.3.256', port: 9 }), undefined);
    assert.equal(pexPeerKey({ host: '1::2::3', port: 9 }), undefined);
  });

  it('round-trips arbitrary IPv4/IPv6 peer lists', () => {
    const v4 = fc.tuple(fc.integer({ min: 1, max: 255 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
    const v6 = fc.ipV6().filter((h) => !/^[0:]+$/.test(h) && pexPeerKey({ host: h, port: 1 }) !== undefined);
    const peer = fc.record({ host: fc.oneof(v4, v6), port: fc.integer({ min: 1, max: 65535 }), flags: fc.nat(255) });
    fc.assert(
      fc.property(fc.uniqueArray(peer, { maxLength: 40, selector: (p) => pexPeerKey(p) }), fc.uniqueArray(peer, { maxLength: 40, selector: (p) => pexPeerKey(p) }), (added, dropped) => {
        const m = decodeUtPex(encodeUtPex({ added, dropped }));
        const norm = (ps: PexPeer[], flags: boolean): string[] => ps.map((p) => `${pexPeerKey(p)}${flags ? '/' + (p.flags ?? 0) : ''}`).sort();
        assert.deepEqual(norm(m.added, true), norm(added, true));
        assert.deepEqual(norm(m.dropped, false), norm(dropped, false));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses bad lengths and types', () => {
    throwsWire(() => decodeUtPex(bencode({ added: new Uint8Array(7) })), /multiple of 6/);
    throwsWire(() => decodeUtPex(bencode({ added6: new Uint8Array(17) })), /multiple of 18/);
    throwsWire(() => decodeUtPex(bencode({ dropped: new Uint8Array(5) })), /multiple of 6/);
    throwsWire(() => decodeUtPex(bencode({ dropped6: new Uint8Array(36 + 1) })), /multiple of 18/);
    throwsWire(() => decodeUtPex(bencode({ added: v4Peers(3), 'added.f': new Uint8Array(2) })), /2 flags for 3 peers/);
    throwsWire(() => decodeUtPex(bencode({ added6: new Uint8Array(18).fill(1), 'added6.f': new Uint8Array(4) })), /flags/);
    throwsWire(() => decodeUtPex(bencode({ 'added.f': new Uint8Array(1) })), /without added/);
    throwsWire(() => decodeUtPex(bencode({ added: 5 })), /not a byte string/);
    throwsWire(() => decodeUtPex(bencode([1, 2])), /not a dictionary/);
    throwsWire(() => decodeUtPex(ascii('d5:added')), /bencoding/);
    throwsWire(() => decodeUtPex(new Uint8Array(0)), /empty/);
    throwsWire(() => decodeUtPex(new Uint8Array(600 * 1024).fill(0x64)), /too large/);
    throwsWire(() => encodeUtPex({ added: [{ host: 'example.com', port: 1 }], dropped: [] }), /not an IP/);
    throwsWire(() => encodeUtPex({ added: [{ host: '1.2.3.4', port: 0 }], dropped: [] }), /port/);
    throwsWire(() => encodeUtPex({ added: [{ host: '1.2.3.4', port: 1, flags: 256 }], dropped: [] }), /flags/);
  });

  it('caps a message with thousands of peers, and skips port 0, 0.0.0.0 and duplicates', () => {
    const many = decodeUtPex(bencode({ added: v4Peers(5000), 'added.f': new Uint8Array(5000), dropped: v4Peers(3000), added6: new Uint8Array(18 * 1000).fill(0x20) }));
    assert.equal(many.added.filter((p) => !p.host.includes(':')).length, 200);
    assert.equal(many.added.filter((p) => p.host.includes(':')).length, 1, 'the 1000 identical IPv6 entries are one peer');
    assert.equal(many.dropped.length, 200);
    assert.equal(decodeUtPex(bencode({ added: v4Peers(500) }), { maxPeersPerFamily: 10 }).added.length, 10);
    const odd = concatBytes([
      new Uint8Array([1, 2, 3, 4, 0, 0]), // port 0
      new Uint8Array([0, 0, 0, 0, 0, 80]), // unspecified
      new Uint8Array([1, 2, 3, 4, 0, 80]),
      new Uint8Array([1, 2, 3, 4, 0, 80]), // duplicate
    ]);
    assert.deepEqual(decodeUtPex(bencode({ added: odd, 'added.f': new Uint8Array([1, 2, 3, 4]) })).added, [{ host: '1.2.3.4', port: 80, flags: 3 }]);
  });

  it('never throws anything but BtError on arbitrary bytes', () => {
    const dicty = fc
      .tuple(fc.constantFrom('d5:added', 'd7:added.f', 'd6:added6', 'd7:dropped', 'd'), fc.uint8Array({ maxLength: 80 }))
      .map(([h, rest]) => concatBytes([ascii(h), rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), dicty), (b) => {
        try {
          decodeUtPex(b);
        } catch (e) {
          assert.ok(isBtError(e, 'ERR_WIRE'), String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('PexTracker (BEP 11 sending side)', () => {
  const peers = (n: number, start = 0): PexPeer[] =>
    Array.from({ length: n }, (_, i) => ({ host: `10.0.${(i + start) >> 8}.${(i + start) & 0xff}`, port: 6881, flags: PexFlags.Reachable }));

  it('sends at most 50 added per message, the rest later, at most once a minute', () => {
    const clock = new FakeClock();
    const t = new PexTracker({ clock });
    const all = peers(120);
    const m1 = t.next(all)!;
    assert.equal(m1.added.length, 50);
    assert.equal(m1.dropped.length, 0);
    assert.equal(m1.added[0]!.flags, PexFlags.Reachable);
    assert.equal(t.next(all), undefined, 'too soon');
    assert.equal(t.msUntilNext(), 60_000);
    clock.advance(59_999);
    assert.equal(t.next(all), undefined);
    clock.advance(1);
    assert.equal(t.next(all)!.added.length, 50);
    clock.advance(60_000);
    assert.equal(t.next(all)!.added.length, 20);
    assert.equal(t.advertisedCount, 120);
    clock.advance(60_000);
    assert.equal(t.next(all), undefined, 'nothing changed: nothing to send');
    // And the encoded message fits the codec.
    assert.equal(decodeUtPex(encodeUtPex(m1)).added.length, 50);
  });

  it('drops peers that went away (at most 50 per message) and adds new ones in the same message', () => {
    const clock = new FakeClock();
    const t = new PexTracker({ clock, minIntervalMs: 0 });
    t.next(peers(50));
    t.next(peers(50, 50));
    t.next(peers(100));
    assert.equal(t.advertisedCount, 100);
    const m = t.next([...peers(30), ...peers(5, 200)])!; // 70 gone, 5 new
    assert.equal(m.dropped.length, 50);
    assert.deepEqual(m.added.map((p) => p.host), peers(5, 200).map((p) => p.host));
    assert.equal(m.dropped[0]!.flags, undefined, 'dropped entries carry no flags');
    const m2 = t.next([...peers(30), ...peers(5, 200)])!;
    assert.equal(m2.dropped.length, 20);
    assert.equal(m2.added.length, 0);
    assert.equal(t.advertisedCount, 35);
  });

  it('never advertises the remote peer to itself, unusable addresses, or duplicates', () => {
    const clock = new FakeClock();
    const t = new PexTracker({ clock, remote: { host: '10.0.0.1', port: 6881 } });
    const m = t.next([
      { host: '10.0.0.1', port: 6881 },
      { host: '10.0.0.2', port: 6881 },
      { host: '10.0.0.2', port: 6881 },
      { host: 'not-an-ip', port: 6881 },
      { host: '10.0.0.3', port: 0 },
      { host: '::1', port: 7000, flags: PexFlags.Utp | PexFlags.Seed },
    ])!;
    assert.deepEqual(m.added, [
      { host: '10.0.0.2', port: 6881, flags: 0 },
      { host: '::1', port: 7000, flags: PexFlags.Utp | PexFlags.Seed },
    ]);
  });
});
