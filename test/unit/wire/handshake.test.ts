/** BEP 3 handshake, reserved bits (BEP 5/6/10) and peer-id helpers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBtError } from '../../../src/core/errors.js';
import {
  HANDSHAKE_LENGTH,
  decodeHandshake,
  decodeHandshakeHead,
  describePeerId,
  encodeHandshake,
  makePeerId,
  makeReserved,
  supportsDht,
  supportsExtended,
  supportsFast,
} from '../../../src/wire/index.js';
import { handshakeArb, hex } from './arbitraries.js';

const ascii = (s: string): Uint8Array => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
const ih = new Uint8Array(20).map((_, i) => i + 1);
const pid = ascii('-TK0100-abcdefghijkl');

describe('handshake encode/decode', () => {
  it('encodes the exact 68-byte layout', () => {
    const reserved = makeReserved({ extended: true, fast: true, dht: true });
    const b = encodeHandshake({ reserved, infoHash: ih, peerId: pid });
    assert.equal(b.length, HANDSHAKE_LENGTH);
    assert.deepEqual(
      b.subarray(0, 28),
      hex('13 426974546f7272656e742070726f746f636f6c 0000000000100005'),
    );
    assert.deepEqual(b.subarray(28, 48), ih);
    assert.deepEqual(b.subarray(48), pid);
  });

  it('round-trips any handshake, with copies not views', () => {
    fc.assert(
      fc.property(handshakeArb, (h) => {
        const b = encodeHandshake(h);
        const d = decodeHandshake(b);
        assert.deepEqual(d, h);
        assert.notEqual(d.peerId.buffer, b.buffer);
        assert.deepEqual(decodeHandshakeHead(b.subarray(0, 48)), { reserved: h.reserved, infoHash: h.infoHash });
      }),
    );
  });

  it('rejects wrong field sizes on encode', () => {
    assert.throws(() => encodeHandshake({ reserved: new Uint8Array(7), infoHash: ih, peerId: pid }), (e) => isBtError(e, 'ERR_HANDSHAKE'));
    assert.throws(() => encodeHandshake({ reserved: new Uint8Array(8), infoHash: new Uint8Array(32), peerId: pid }), (e) => isBtError(e, 'ERR_HANDSHAKE'));
    assert.throws(() => encodeHandshake({ reserved: new Uint8Array(8), infoHash: ih, peerId: new Uint8Array(19) }), (e) => isBtError(e, 'ERR_HANDSHAKE'));
  });

  it('rejects bad pstrlen, bad pstr and wrong length on decode', () => {
    const good = encodeHandshake({ reserved: new Uint8Array(8), infoHash: ih, peerId: pid });
    const badLen = good.slice();
    badLen[0] = 18;
    const badStr = good.slice();
    badStr[5] = 0x78;
    for (const b of [badLen, badStr, good.subarray(0, 67), new Uint8Array([...good, 0])]) {
      assert.throws(() => decodeHandshake(b), (e) => isBtError(e, 'ERR_HANDSHAKE'));
    }
  });
});

describe('reserved bits', () => {
  it('sets and reads the BEP 10 / BEP 6 / BEP 5 bits at the right places', () => {
    assert.deepEqual(makeReserved(), new Uint8Array(8));
    assert.deepEqual(makeReserved({ extended: true }), hex('0000000000100000'));
    assert.deepEqual(makeReserved({ fast: true }), hex('0000000000000004'));
    assert.deepEqual(makeReserved({ dht: true }), hex('0000000000000001'));
    for (const flags of [{}, { extended: true }, { fast: true }, { dht: true }, { extended: true, fast: true, dht: true }]) {
      const r = makeReserved(flags);
      assert.equal(supportsExtended(r), !!flags.extended);
      assert.equal(supportsFast(r), !!flags.fast);
      assert.equal(supportsDht(r), !!flags.dht);
    }
    // Other bits do not leak into the flags.
    const others = new Uint8Array(8).fill(0xff);
    others[5] = 0xef;
    others[7] = 0xfa;
    assert.equal(supportsExtended(others), false);
    assert.equal(supportsFast(others), false);
    assert.equal(supportsDht(others), false);
  });
});

describe('peer ids', () => {
  it('makePeerId keeps the prefix and fills 20 printable bytes', () => {
    const id = makePeerId('-TK0100-', new Uint8Array(12).map((_, i) => i * 37));
    assert.equal(id.length, 20);
    assert.equal(String.fromCharCode(...id.subarray(0, 8)), '-TK0100-');
    for (const c of id) assert.ok(c > 0x20 && c < 0x7f);
    assert.deepEqual(makePeerId('-TK0100-', new Uint8Array(12)), makePeerId('-TK0100-', new Uint8Array(12)));
    assert.throws(() => makePeerId('-TK0100-', new Uint8Array(11)), (e) => isBtError(e));
    assert.throws(() => makePeerId('x'.repeat(21), new Uint8Array(0)), (e) => isBtError(e));
  });

  it('describes common clients', () => {
    const cases: [string, string][] = [
      ['-LT2080-', 'libtorrent 2.0.8'],
      ['-LT12J0-', 'libtorrent 1.2.19'],
      ['-TR3000-', 'Transmission 3.00'],
      ['-TR2940-', 'Transmission 2.94'],
      ['-TR4050-', 'Transmission 4.0.5'],
      ['-TR111Z-', 'Transmission 1.11+'],
      ['-qB4520-', 'qBittorrent 4.5.2'],
      ['-DE13F0-', 'Deluge 1.3.15'],
      ['-lt0D80-', 'libTorrent (rakshasa) 0.13.8'],
      ['-UT355W-', 'µTorrent 3.5.5'],
      ['-AZ5750-', 'Vuze 5.7.5'],
      ['-WW0208-', 'WebTorrent 2.8'],
      ['-TK0100-', 'torrentkit 0.1.0'],
      ['A2-1-37-0-', 'aria2 1.37.0'],
      ['M7-4-3--', 'BitTorrent (Mainline) 7.4.3'],
      ['S58B-----', 'Shadow 5.8.11'],
      ['T03I-----', 'BitTornado 0.3.18'],
    ];
    for (const [prefix, want] of cases) {
      const id = new Uint8Array(20).fill(0x41);
      id.set(ascii(prefix));
      assert.equal(describePeerId(id), want, prefix);
    }
    assert.match(describePeerId(ascii('-ZZ1230-xxxxxxxxxxxx')), /^unknown ZZ 1\.2\.3/);
    assert.match(describePeerId(new Uint8Array(20)), /^unknown \(/);
    assert.match(describePeerId(new Uint8Array(3)), /^unknown/);
  });

  it('never throws on arbitrary ids', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (id) => typeof describePeerId(id) === 'string'));
  });
});
