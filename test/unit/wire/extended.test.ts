/** BEP 10 extended handshake codec: canonical bytes, round trip, tolerance of odd fields. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import type { ExtendedHandshake } from '../../../src/wire/index.js';
import { decodeExtendedHandshake, encodeExtendedHandshake } from '../../../src/wire/index.js';

const text = (b: Uint8Array): string => String.fromCharCode(...b);
const bytes = (s: string): Uint8Array => new Uint8Array([...s].map((c) => c.charCodeAt(0)));

describe('extended handshake (BEP 10)', () => {
  it('encodes canonical bencoding and skips absent fields', () => {
    const b = encodeExtendedHandshake({ m: { ut_pex: 2, ut_metadata: 1 }, v: 'tk', p: 6881, reqq: 250, metadata_size: undefined });
    assert.equal(text(b), 'd1:md11:ut_metadatai1e6:ut_pexi2ee1:pi6881e4:reqqi250e1:v2:tke');
    assert.equal(text(encodeExtendedHandshake({ m: {} })), 'd1:mdee');
  });

  it('round-trips every field', () => {
    const h: ExtendedHandshake = {
      m: { ut_metadata: 3, ut_pex: 1, lt_donthave: 0 },
      v: 'torrentkit 0.1.0 ✓',
      p: 51413,
      reqq: 500,
      yourip: new Uint8Array([10, 0, 0, 1]),
      ipv4: new Uint8Array([192, 168, 1, 2]),
      ipv6: new Uint8Array(16).fill(0xfe),
      metadata_size: 31337,
      upload_only: 1,
    };
    assert.deepEqual(decodeExtendedHandshake(encodeExtendedHandshake(h)), h);
  });

  it('decodes a real-world libtorrent-style handshake', () => {
    const raw = bytes('d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei5261e4:reqqi500e11:upload_onlyi0e1:v17:qBittorrent/4.5.26:yourip4:\x7f\x00\x00\x01e');
    const h = decodeExtendedHandshake(raw);
    assert.deepEqual(h.m, { lt_donthave: 7, share_mode: 8, upload_only: 3, ut_holepunch: 4, ut_metadata: 2, ut_pex: 1 });
    assert.equal(h.v, 'qBittorrent/4.5.2');
    assert.equal(h.metadata_size, 5261);
    assert.equal(h.reqq, 500);
    assert.equal(h.upload_only, 0);
    assert.deepEqual(h.yourip, new Uint8Array([127, 0, 0, 1]));
    assert.equal(h.p, undefined);
  });

  it('drops fields of the wrong type or range instead of failing', () => {
    const raw = bencode({
      m: { good: 1, neg: -1, big: 256, str: 'x', list: [1] },
      v: 42,
      p: 70000,
      reqq: 'many',
      yourip: new Uint8Array(5),
      ipv4: new Uint8Array(16),
      ipv6: new Uint8Array(4),
      metadata_size: -5,
      upload_only: 'yes',
    });
    assert.deepEqual(decodeExtendedHandshake(raw), { m: { good: 1 } });
    assert.deepEqual(decodeExtendedHandshake(bencode({ m: 'nope' })), { m: {} });
    assert.deepEqual(decodeExtendedHandshake(bencode({})), { m: {} });
    assert.deepEqual(decodeExtendedHandshake(bytes('d1:md1:ai1eeeXYZ')), { m: { a: 1 } }, 'trailing bytes ignored');
  });

  it('rejects non-dictionary or non-bencoded payloads with ERR_WIRE', () => {
    for (const raw of [bytes('i1e'), bytes('le'), bytes('4:spam'), bytes(''), bytes('d1:m'), bytes('xyz')]) {
      assert.throws(() => decodeExtendedHandshake(raw), (e) => isBtError(e, 'ERR_WIRE'), JSON.stringify(text(raw)));
    }
  });

  it('rejects invalid extension ids on encode', () => {
    assert.throws(() => encodeExtendedHandshake({ m: { x: 300 } }), (e) => isBtError(e, 'ERR_WIRE'));
  });

  it('only ever throws ERR_WIRE on arbitrary payloads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (raw) => {
        try {
          decodeExtendedHandshake(raw);
        } catch (e) {
          assert.ok(isBtError(e, 'ERR_WIRE'));
        }
      }),
    );
  });
});
