/**
 * Peer wire message codec: BEP 3 (ids 0-8, keep-alive), BEP 5 (port, id 9), BEP 6 fast extension
 * (ids 0x0D-0x11) and BEP 10 extension protocol (id 20 + extended message id byte).
 * Frames are `<length u32 BE><id u8><payload>`; keep-alive is a zero length.
 */
import { BtError } from '../core/index.js';
import type { Message, MessageType } from './types.js';

export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  'not-interested': 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 0x0d,
  'have-all': 0x0e,
  'have-none': 0x0f,
  reject: 0x10,
  'allowed-fast': 0x11,
  extended: 20,
} as const satisfies Partial<Record<MessageType, number>>;

/** Bytes before the block in a piece frame: length(4) + id(1) + index(4) + begin(4). */
export const PIECE_HEADER_LENGTH = 13;

function wireError(message: string, op: 'encode' | 'decode'): BtError {
  return new BtError('ERR_WIRE', message, { op });
}

function checkU32(v: number, what: string): void {
  if ((v >>> 0) !== v) throw wireError(`${what} must be a uint32, got ${v}`, 'encode');
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

const KEEP_ALIVE_BYTES = new Uint8Array(4);

/** Frame with a payload of `payloadLength` bytes after the id; the caller fills bytes from offset 5. */
function frame(id: number, payloadLength: number): Uint8Array {
  const out = new Uint8Array(5 + payloadLength);
  writeU32(out, 0, 1 + payloadLength);
  out[4] = id;
  return out;
}

function idOnly(id: number): Uint8Array {
  return frame(id, 0);
}

function withIndex(id: number, index: number): Uint8Array {
  checkU32(index, 'index');
  const out = frame(id, 4);
  writeU32(out, 5, index);
  return out;
}

function withTriple(id: number, index: number, begin: number, length: number): Uint8Array {
  checkU32(index, 'index');
  checkU32(begin, 'begin');
  checkU32(length, 'length');
  const out = new Uint8Array(17);
  out[3] = 13;
  out[4] = id;
  writeU32(out, 5, index);
  writeU32(out, 9, begin);
  writeU32(out, 13, length);
  return out;
}

function withBytes(id: number, bytes: Uint8Array): Uint8Array {
  const out = frame(id, bytes.length);
  out.set(bytes, 5);
  return out;
}

/** A request frame (17 bytes): the hot path of downloading. */
export function encodeRequest(index: number, begin: number, length: number): Uint8Array {
  return withTriple(6, index, begin, length);
}

/**
 * The first 13 bytes of a piece frame (length prefix covering the block, id 7, index, begin):
 * write it, then write the block itself, with no concatenation.
 */
export function encodePieceHeader(index: number, begin: number, blockLength: number): Uint8Array {
  checkU32(index, 'index');
  checkU32(begin, 'begin');
  if (!Number.isInteger(blockLength) || blockLength < 0 || blockLength > 0xffffffff - 9) {
    throw wireError(`block length out of range: ${blockLength}`, 'encode');
  }
  const out = new Uint8Array(PIECE_HEADER_LENGTH);
  writeU32(out, 0, 9 + blockLength);
  out[4] = 7;
  writeU32(out, 5, index);
  writeU32(out, 9, begin);
  return out;
}

/** Encode one message as a complete frame (length prefix included). */
export function encodeMessage(msg: Message): Uint8Array {
  switch (msg.type) {
    case 'keep-alive':
      return KEEP_ALIVE_BYTES.slice();
    case 'choke':
      return idOnly(0);
    case 'unchoke':
      return idOnly(1);
    case 'interested':
      return idOnly(2);
    case 'not-interested':
      return idOnly(3);
    case 'have':
      return withIndex(4, msg.index);
    case 'bitfield':
      return withBytes(5, msg.bits);
    case 'request':
      return withTriple(6, msg.index, msg.begin, msg.length);
    case 'piece': {
      const out = new Uint8Array(PIECE_HEADER_LENGTH + msg.block.length);
      out.set(encodePieceHeader(msg.index, msg.begin, msg.block.length), 0);
      out.set(msg.block, PIECE_HEADER_LENGTH);
      return out;
    }
    case 'cancel':
      return withTriple(8, msg.index, msg.begin, msg.length);
    case 'port': {
      if (!Number.isInteger(msg.port) || msg.port < 0 || msg.port > 0xffff) throw wireError(`port out of range: ${msg.port}`, 'encode');
      const out = frame(9, 2);
      out[5] = msg.port >>> 8;
      out[6] = msg.port;
      return out;
    }
    case 'suggest':
      return withIndex(0x0d, msg.index);
    case 'have-all':
      return idOnly(0x0e);
    case 'have-none':
      return idOnly(0x0f);
    case 'reject':
      return withTriple(0x10, msg.index, msg.begin, msg.length);
    case 'allowed-fast':
      return withIndex(0x11, msg.index);
    case 'extended': {
      if (!Number.isInteger(msg.id) || msg.id < 0 || msg.id > 255) throw wireError(`extended message id out of range: ${msg.id}`, 'encode');
      const out = frame(20, 1 + msg.payload.length);
      out[5] = msg.id;
      out.set(msg.payload, 6);
      return out;
    }
    case 'unknown':
      if (!Number.isInteger(msg.id) || msg.id < 0 || msg.id > 255) throw wireError(`message id out of range: ${msg.id}`, 'encode');
      return withBytes(msg.id, msg.payload);
    default: {
      const never: never = msg;
      throw wireError(`cannot encode message ${JSON.stringify((never as { type: unknown }).type)}`, 'encode');
    }
  }
}

// ---- decoding --------------------------------------------------------------------------------

// Messages without fields carry no data: share one frozen object each.
const CHOKE: Message = Object.freeze({ type: 'choke' });
const UNCHOKE: Message = Object.freeze({ type: 'unchoke' });
const INTERESTED: Message = Object.freeze({ type: 'interested' });
const NOT_INTERESTED: Message = Object.freeze({ type: 'not-interested' });
const HAVE_ALL: Message = Object.freeze({ type: 'have-all' });
const HAVE_NONE: Message = Object.freeze({ type: 'have-none' });
export const KEEP_ALIVE: Message = Object.freeze({ type: 'keep-alive' });

const NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(MessageId)) NAMES[v] = k;

function badLength(id: number, got: number, want: string): BtError {
  return wireError(`${NAMES[id]} message (id ${id}) payload must be ${want}, got ${got} bytes`, 'decode');
}

function exact(id: number, payload: Uint8Array, n: number): void {
  if (payload.length !== n) throw badLength(id, payload.length, `${n} bytes`);
}

/**
 * Decode a message from its id and payload (the bytes after the id). Payload lengths are checked
 * exactly per type (ERR_WIRE). Byte fields (bitfield bits, piece block, extended/unknown payload) are
 * views into `payload`, not copies. Unknown ids give `{ type: 'unknown', id, payload }`.
 */
export function decodeMessage(id: number, payload: Uint8Array): Message {
  const p = payload;
  switch (id) {
    case 0:
      exact(id, p, 0);
      return CHOKE;
    case 1:
      exact(id, p, 0);
      return UNCHOKE;
    case 2:
      exact(id, p, 0);
      return INTERESTED;
    case 3:
      exact(id, p, 0);
      return NOT_INTERESTED;
    case 4:
      exact(id, p, 4);
      return { type: 'have', index: readU32(p, 0) };
    case 5:
      return { type: 'bitfield', bits: p };
    case 6:
      exact(id, p, 12);
      return { type: 'request', index: readU32(p, 0), begin: readU32(p, 4), length: readU32(p, 8) };
    case 7:
      if (p.length < 8) throw badLength(id, p.length, 'at least 8 bytes');
      return { type: 'piece', index: readU32(p, 0), begin: readU32(p, 4), block: p.subarray(8) };
    case 8:
      exact(id, p, 12);
      return { type: 'cancel', index: readU32(p, 0), begin: readU32(p, 4), length: readU32(p, 8) };
    case 9:
      exact(id, p, 2);
      return { type: 'port', port: (p[0]! << 8) | p[1]! };
    case 0x0d:
      exact(id, p, 4);
      return { type: 'suggest', index: readU32(p, 0) };
    case 0x0e:
      exact(id, p, 0);
      return HAVE_ALL;
    case 0x0f:
      exact(id, p, 0);
      return HAVE_NONE;
    case 0x10:
      exact(id, p, 12);
      return { type: 'reject', index: readU32(p, 0), begin: readU32(p, 4), length: readU32(p, 8) };
    case 0x11:
      exact(id, p, 4);
      return { type: 'allowed-fast', index: readU32(p, 0) };
    case 20:
      if (p.length < 1) throw badLength(id, p.length, 'at least 1 byte (the extended message id)');
      return { type: 'extended', id: p[0]!, payload: p.subarray(1) };
    default:
      return { type: 'unknown', id, payload: p };
  }
}
