/**
 * BEP 29 (uTP) packet codec: the 20-byte header and the extension chain (extension 1 = selective ACK).
 * Pure and strict: anything malformed is a BtError('ERR_UTP'); nothing a peer sends can make it allocate
 * more than the packet itself.
 *
 *   0       4       8               16              24              32
 *   +-------+-------+---------------+---------------+---------------+
 *   | type  | ver   | extension     | connection_id                 |
 *   +-------+-------+---------------+---------------+---------------+
 *   | timestamp_microseconds                                        |
 *   | timestamp_difference_microseconds                             |
 *   | wnd_size                                                      |
 *   | seq_nr                        | ack_nr                        |
 *   +---------------+---------------+---------------+---------------+
 *
 * All fields big-endian. An extension is (next extension type u8, length u8, payload); the first type is in
 * the header's `extension` byte and 0 ends the chain. The SACK bitmask covers ack_nr+2, ack_nr+3, ...; bit i of
 * the mask (byte i >> 3, bit i & 7, least significant first) stands for ack_nr + 2 + i.
 */
import { BtError } from '../../core/index.js';

export const ST_DATA = 0;
export const ST_FIN = 1;
export const ST_STATE = 2;
export const ST_RESET = 3;
export const ST_SYN = 4;
export type UtpType = 0 | 1 | 2 | 3 | 4;

export const UTP_VERSION = 1;
export const HEADER_SIZE = 20;
export const EXT_SACK = 1;
/** Longest SACK bitmask we send or accept (bytes): 1024 packets beyond ack_nr+1. libtorrent sends at most 32. */
export const MAX_SACK_BYTES = 128;
/** Extensions per packet we are willing to walk (libtorrent knows two). */
export const MAX_EXTENSIONS = 8;

export const TYPE_NAMES = ['ST_DATA', 'ST_FIN', 'ST_STATE', 'ST_RESET', 'ST_SYN'] as const;

export interface UtpPacket extends HeaderFields {
  /** Selective-ACK bitmask (a view into the packet), when present. */
  sack: Uint8Array | undefined;
  /** Payload (a view into the packet, never copied). */
  payload: Uint8Array;
}

function fail(msg: string, field?: string): never {
  throw new BtError('ERR_UTP', `uTP: ${msg}`, { op: 'decode', field });
}

/** Cheap test used by the UDP demultiplexer: could this datagram be uTP at all (length, version, type)? */
export function looksLikeUtp(b: Uint8Array): boolean {
  return b.length >= HEADER_SIZE && (b[0]! & 0x0f) === UTP_VERSION && b[0]! >> 4 <= ST_SYN;
}

/** Decode and validate one datagram. Unknown extensions are skipped; a malformed chain or SACK throws. */
export function decodePacket(b: Uint8Array): UtpPacket {
  return decodePacketInto(b, newPacket());
}

/** A packet object for decodePacketInto to fill (the receive path reuses one per socket). */
export function newPacket(): UtpPacket {
  return { type: ST_DATA, connectionId: 0, timestamp: 0, timestampDiff: 0, wndSize: 0, seqNr: 0, ackNr: 0, sack: undefined, payload: EMPTY };
}

const EMPTY = new Uint8Array(0);

/**
 * decodePacket into an existing object (no per-packet object, no DataView: the receive path runs this ~80k times
 * a second). The payload and SACK are views of `b`; `out` is overwritten by the next call.
 */
export function decodePacketInto(b: Uint8Array, out: UtpPacket): UtpPacket {
  const n = b.length;
  if (n < HEADER_SIZE) fail(`packet of ${n} bytes is shorter than the header`, 'length');
  const b0 = b[0]!;
  if ((b0 & 0x0f) !== UTP_VERSION) fail(`unsupported version ${b0 & 0x0f}`, 'version');
  const type = b0 >> 4;
  if (type > ST_SYN) fail(`unknown packet type ${type}`, 'type');
  let ext = b[1]!;
  let off = HEADER_SIZE;
  let sack: Uint8Array | undefined;
  let count = 0;
  while (ext !== 0) {
    if (++count > MAX_EXTENSIONS) fail('too many extensions', 'extension');
    if (off + 2 > n) fail('truncated extension header', 'extension');
    const next = b[off]!;
    const len = b[off + 1]!;
    off += 2;
    if (off + len > n) fail('truncated extension', 'extension');
    if (ext === EXT_SACK) {
      if (sack) fail('duplicate selective ACK extension', 'sack');
      // BEP 29 asks for a multiple of 4 bytes, but libtorrent sends ceil(span / 8) bytes (1..32): any length
      // is accepted (a zero-length mask says nothing and is ignored).
      if (len > MAX_SACK_BYTES) fail(`selective ACK of ${len} bytes exceeds ${MAX_SACK_BYTES}`, 'sack');
      if (len > 0) sack = new Uint8Array(b.buffer, b.byteOffset + off, len);
    }
    off += len;
    ext = next;
  }
  out.type = type as UtpType;
  out.connectionId = (b[2]! << 8) | b[3]!;
  out.timestamp = readU32(b, 4);
  out.timestampDiff = readU32(b, 8);
  out.wndSize = readU32(b, 12);
  out.seqNr = (b[16]! << 8) | b[17]!;
  out.ackNr = (b[18]! << 8) | b[19]!;
  out.sack = sack;
  // Only ST_DATA carries a payload; trailing bytes on a control packet are ignored (as libtorrent does).
  out.payload = type === ST_DATA && off < n ? new Uint8Array(b.buffer, b.byteOffset + off, n - off) : EMPTY;
  return out;
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export interface HeaderFields {
  type: UtpType;
  connectionId: number;
  timestamp: number;
  timestampDiff: number;
  wndSize: number;
  seqNr: number;
  ackNr: number;
}

/** Write the 20-byte header at the start of `b` with extension byte `ext`. */
export function writeHeader(b: Uint8Array, h: HeaderFields, ext = 0): void {
  b[0] = (h.type << 4) | UTP_VERSION;
  b[1] = ext;
  b[2] = (h.connectionId >>> 8) & 0xff;
  b[3] = h.connectionId & 0xff;
  writeU32(b, 4, h.timestamp);
  writeU32(b, 8, h.timestampDiff);
  writeU32(b, 12, h.wndSize);
  b[16] = (h.seqNr >>> 8) & 0xff;
  b[17] = h.seqNr & 0xff;
  b[18] = (h.ackNr >>> 8) & 0xff;
  b[19] = h.ackNr & 0xff;
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export interface EncodeOptions extends HeaderFields {
  sack?: Uint8Array | undefined;
  payload?: Uint8Array | undefined;
}

/** Encode a whole packet into one new buffer. */
export function encodePacket(p: EncodeOptions): Uint8Array {
  const sack = p.sack;
  if (sack && (sack.length === 0 || sack.length > MAX_SACK_BYTES)) {
    throw new BtError('ERR_UTP', `uTP: selective ACK length ${sack.length} is invalid`, { op: 'encode', field: 'sack' });
  }
  if (p.payload && p.payload.length > 0 && p.type !== ST_DATA) {
    throw new BtError('ERR_UTP', `uTP: ${TYPE_NAMES[p.type]} cannot carry a payload`, { op: 'encode', field: 'payload' });
  }
  const extLen = sack ? 2 + sack.length : 0;
  const plen = p.payload?.length ?? 0;
  const b = new Uint8Array(HEADER_SIZE + extLen + plen);
  writeHeader(b, p, sack ? EXT_SACK : 0);
  let off = HEADER_SIZE;
  if (sack) {
    b[off] = 0;
    b[off + 1] = sack.length;
    b.set(sack, off + 2);
    off += extLen;
  }
  if (p.payload && plen > 0) b.set(p.payload, off);
  return b;
}

/** Is `ackNr + 2 + i` marked received in this bitmask? */
export function sackHas(mask: Uint8Array, i: number): boolean {
  const byte = i >> 3;
  return byte < mask.length && (mask[byte]! & (1 << (i & 7))) !== 0;
}

// 16-bit sequence arithmetic (BEP 29 numbers wrap at 0xffff).
export const SEQ_MASK = 0xffff;
/** a - b in the signed 16-bit sense: positive when a is after b. */
export function seqDiff(a: number, b: number): number {
  return ((((a - b) & SEQ_MASK) + 0x8000) & SEQ_MASK) - 0x8000;
}
export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQ_MASK;
}
