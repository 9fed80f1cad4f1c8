/** BEP 3 info-hash: SHA-1 over the exact bencoded bytes of the `info` dictionary; hex / base32 forms (BEP 9). */
import { createHash } from 'node:crypto';
import { BtError } from '../core/index.js';
import { fromHex, toHex } from '../util/index.js';

export function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(data).digest());
}

/** The 20-byte v1 info-hash of the original `info` bytes. */
export function infoHashOf(infoBytes: Uint8Array): Uint8Array {
  return sha1(infoBytes);
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding), as used by old magnet links. */
export function base32Decode(s: string): Uint8Array {
  const up = s.toUpperCase().replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((up.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of up) {
    const v = B32.indexOf(ch);
    if (v < 0) throw new TypeError(`invalid base32 character ${JSON.stringify(ch)}`);
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

export function base32Encode(b: Uint8Array): string {
  let s = '';
  let bits = 0;
  let acc = 0;
  for (const byte of b) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32[(acc >>> bits) & 31];
    }
  }
  if (bits > 0) s += B32[(acc << (5 - bits)) & 31];
  return s;
}

/**
 * Parse a v1 info-hash given as 40 hex chars or 32 base32 chars. Throws BtError ERR_MAGNET (field `xt`
 * unless given) on anything else.
 */
export function parseInfoHash(s: string, field = 'xt'): Uint8Array {
  if (/^[0-9a-fA-F]{40}$/.test(s)) return fromHex(s);
  if (/^[A-Za-z2-7]{32}$/.test(s)) return base32Decode(s);
  throw new BtError('ERR_MAGNET', `${field}: info-hash must be 40 hex or 32 base32 characters, got ${JSON.stringify(s)}`, {
    op: 'parse',
    field,
  });
}

export function infoHashToHex(h: Uint8Array): string {
  return toHex(h);
}
