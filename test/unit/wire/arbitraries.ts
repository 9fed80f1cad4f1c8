/** fast-check arbitraries for peer wire messages (BEP 3/5/6/10), shared by the wire tests. */
import fc from 'fast-check';
import type { Handshake, Message } from '../../../src/wire/index.js';
import { MessageId } from '../../../src/wire/index.js';

export const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
const KNOWN_IDS = new Set<number>(Object.values(MessageId));

const triple = <T extends 'request' | 'cancel' | 'reject'>(type: T) =>
  fc.record({ type: fc.constant(type), index: u32, begin: u32, length: u32 });
const indexed = <T extends 'have' | 'suggest' | 'allowed-fast'>(type: T) => fc.record({ type: fc.constant(type), index: u32 });

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.constantFrom<Message>(
    { type: 'keep-alive' },
    { type: 'choke' },
    { type: 'unchoke' },
    { type: 'interested' },
    { type: 'not-interested' },
    { type: 'have-all' },
    { type: 'have-none' },
  ),
  indexed('have'),
  indexed('suggest'),
  indexed('allowed-fast'),
  triple('request'),
  triple('cancel'),
  triple('reject'),
  fc.record({ type: fc.constant('bitfield' as const), bits: bytes(40) }),
  fc.record({ type: fc.constant('piece' as const), index: u32, begin: u32, block: bytes(300) }),
  fc.record({ type: fc.constant('port' as const), port: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ type: fc.constant('extended' as const), id: fc.integer({ min: 0, max: 255 }), payload: bytes(40) }),
  fc.record({
    type: fc.constant('unknown' as const),
    id: fc.integer({ min: 0, max: 255 }).filter((id) => !KNOWN_IDS.has(id)),
    payload: bytes(40),
  }),
).map((m) => ({ ...m })); // fast-check records have a null prototype; plain objects compare equal to decoded ones

export const handshakeArb: fc.Arbitrary<Handshake> = fc.record({
  reserved: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }),
  peerId: fc.uint8Array({ minLength: 20, maxLength: 20 }),
}).map((h) => ({ ...h }));

/** Split `buf` at the given (unsorted, possibly repeated) cut points. */
export function splitAt(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
