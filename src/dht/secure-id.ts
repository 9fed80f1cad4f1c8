/**
 * BEP 42 DHT security extension: node ids bound to the node's external IP with CRC32-C.
 * The first 21 bits of a compliant id equal the top 21 bits of crc32c((ip & mask) | r << 29 / 61), where r is
 * the id's last byte & 7. Loopback, private and link-local addresses are exempt.
 */
import { ID_LENGTH, ipToBytes, isLocalAddress } from './addr.js';
import type { Random } from '../core/index.js';

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as used by BEP 42. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function ipCrc(ip: Uint8Array, r: number): number {
  const v6 = ip.length === 16;
  const mask = v6 ? V6_MASK : V4_MASK;
  const b = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) b[i] = ip[i]! & mask[i]!;
  b[0]! |= (r & 7) << 5;
  return crc32c(b);
}

/**
 * A BEP 42 id for `host`: the first 21 bits from the CRC, the last byte `rand` (its low 3 bits are r), the rest
 * random. Pass a Random, or `{ rand, middle }` (middle: 17 bytes for bytes 2..18) to reproduce test vectors.
 */
export function secureNodeId(host: string, random: Random | { rand: number; middle?: Uint8Array }): Uint8Array {
  const ip = ipToBytes(host);
  let rand: number;
  let middle: Uint8Array;
  if ('bytes' in random) {
    middle = random.bytes(17);
    rand = random.int(256);
  } else {
    rand = random.rand & 0xff;
    middle = random.middle ?? new Uint8Array(17);
  }
  const crc = ipCrc(ip, rand & 7);
  const id = new Uint8Array(ID_LENGTH);
  id.set(middle.subarray(0, 17), 2);
  id[0] = crc >>> 24;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 0x7);
  id[19] = rand;
  return id;
}

/** True when `id` satisfies BEP 42 for `host` (always true for exempt local addresses). */
export function isSecureNodeId(id: Uint8Array, host: string): boolean {
  if (isLocalAddress(host)) return true;
  let ip: Uint8Array;
  try {
    ip = ipToBytes(host);
  } catch {
    return false;
  }
  if (id.length !== ID_LENGTH) return false;
  const crc = ipCrc(ip, id[19]! & 7);
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) && (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8);
}
