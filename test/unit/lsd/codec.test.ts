/** BEP 14 LSD announce codec: libtorrent's wire format, leniency, hostile input. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBtError } from '../../../src/core/errors.js';
import { MAX_LSD_INFOHASHES, decodeLsdAnnounce, encodeLsdAnnounce } from '../../../src/lsd/index.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const IH = '8e3cf7e5d1b0a48c0d2e3b3c1f9a2e7c5b6d4f4c';
const IH2 = '0123456789abcdef0123456789abcdef01234567';

describe('LSD codec (BEP 14)', () => {
  it("decodes libtorrent's announce", () => {
    const b = ascii(`BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ${IH}\r\ncookie: 140ecef9\r\n\r\n\r\n`);
    assert.deepEqual(decodeLsdAnnounce(b), { port: 6881, infoHashes: [IH], cookie: '140ecef9', host: '239.192.152.143:6771' });
  });

  it('encodes the same format, several Infohash lines, IPv6 host', () => {
    assert.equal(
      text(encodeLsdAnnounce({ port: 6881, infoHashes: [IH], cookie: '140ecef9' })),
      `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ${IH}\r\ncookie: 140ecef9\r\n\r\n\r\n`,
    );
    assert.equal(
      text(encodeLsdAnnounce({ port: 7000, infoHashes: [IH.toUpperCase(), IH2], ipv6: true })),
      `BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 7000\r\nInfohash: ${IH}\r\nInfohash: ${IH2}\r\n\r\n\r\n`,
    );
    const max = encodeLsdAnnounce({ port: 1, infoHashes: Array.from({ length: MAX_LSD_INFOHASHES }, (_, i) => i.toString(16).padStart(40, '0')), cookie: 'c' });
    assert.ok(max.length < 1200, `${max.length} bytes`);
    assert.equal(decodeLsdAnnounce(max)?.infoHashes.length, MAX_LSD_INFOHASHES);
  });

  it('refuses to encode nonsense with BtError', () => {
    for (const o of [
      { port: 0, infoHashes: [IH] },
      { port: 70000, infoHashes: [IH] },
      { port: 1, infoHashes: [] },
      { port: 1, infoHashes: ['xyz'] },
      { port: 1, infoHashes: new Array<string>(MAX_LSD_INFOHASHES + 1).fill(IH) },
      { port: 1, infoHashes: [IH], cookie: 'a b' },
    ]) {
      assert.throws(() => encodeLsdAnnounce(o), (e: unknown) => isBtError(e, 'ERR_PROTOCOL'));
    }
  });

  it('is lenient: header case, LF line ends, uppercase hex, extra spaces, unknown headers, bad Infohash lines skipped', () => {
    const b = ascii(`bt-search * http/1.0\nHOST: whatever\nport:   51413  \nX-Other: 1\ninfohash: ${IH.toUpperCase()}\nInfohash: not-hex\nINFOHASH: ${IH}\nInfohash: ${IH2}\nCOOKIE: abc\n\n`);
    assert.deepEqual(decodeLsdAnnounce(b), { port: 51413, infoHashes: [IH, IH2], cookie: 'abc', host: 'whatever' });
    // Headers after the blank line are not headers.
    const c = ascii(`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\nInfohash: ${IH}\r\n\r\n`);
    assert.equal(decodeLsdAnnounce(c), null);
  });

  it('returns null for garbage and out-of-range values', () => {
    const cases = [
      '',
      'hello',
      `NOTIFY * HTTP/1.1\r\nPort: 1\r\nInfohash: ${IH}\r\n\r\n`, // SSDP-like
      `M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${IH}\r\n\r\n`,
      `BT-SEARCH * HTTP/1.1\r\nInfohash: ${IH}\r\n\r\n`, // no port
      `BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: ${IH}\r\n\r\n`,
      `BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: ${IH}\r\n\r\n`,
      `BT-SEARCH * HTTP/1.1\r\nPort: 12ab\r\nInfohash: ${IH}\r\n\r\n`,
      `BT-SEARCH * HTTP/1.1\r\nPort: -1\r\nInfohash: ${IH}\r\n\r\n`,
      'BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n', // no infohash
      `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${IH}0\r\n\r\n`, // 41 hex
      `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${IH}\r\n${'X: y\r\n'.repeat(300)}\r\n`, // too long
    ];
    for (const c of cases) assert.equal(decodeLsdAnnounce(ascii(c)), null, JSON.stringify(c.slice(0, 60)));
  });

  it('never throws on arbitrary bytes (and decodes what it encodes)', () => {
    const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.uniqueArray(hex40, { minLength: 1, maxLength: MAX_LSD_INFOHASHES }), fc.stringMatching(/^[0-9a-f]{1,16}$/), (port, infoHashes, cookie) => {
        assert.deepEqual(decodeLsdAnnounce(encodeLsdAnnounce({ port, infoHashes, cookie })), { port, infoHashes, cookie, host: '239.192.152.143:6771' });
      }),
      { numRuns: 100 },
    );
    const head = fc.constantFrom('BT-SEARCH * HTTP/1.1\r\n', 'BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ', '');
    fc.assert(
      fc.property(head, fc.uint8Array({ maxLength: 2000 }), (h, rest) => {
        const b = new Uint8Array([...ascii(h), ...rest]);
        const r = decodeLsdAnnounce(b);
        if (r !== null) assert.ok(r.port >= 1 && r.infoHashes.length >= 1);
      }),
      { numRuns: 500 },
    );
  });
});
