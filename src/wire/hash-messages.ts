/**
 * BEP 52 merkle hash messages: hash request (id 21), hashes (id 22), hash reject (id 23), and the v2 upgrade
 * bit of the handshake's reserved bytes (reserved[7] & 0x10).
 *
 * Each starts with the same 48 bytes: `pieces root` (32), `base layer` (u32 BE), `index` (u32 BE), `length`
 * (u32 BE), `proof layers` (u32 BE); hashes (22) then carries the `length` base-layer hashes followed by the
 * uncle hashes of the proof, 32 bytes each. Decoding is bounded and strict (ERR_WIRE): `length` a power of two
 * of at most MAX_HASH_REQUEST_LENGTH, `index` a multiple of it, `base layer` and `proof layers` under
 * MAX_TREE_HEIGHT, at most `length + proof layers` hashes in a hashes message.
 *
 * These ids are not in decodeMessage's union yet (it reports them as 'unknown', which the torrent layer
 * ignores); the v2 download path will decode them with decodeHashMessage.
 */
import { BtError } from '../core/index.js';

export const HashMessageId = { 'hash-request': 21, hashes: 22, 'hash-reject': 23 } as const;

/** The most hashes one request may ask for (libtorrent's limit is 8192 too). */
export const MAX_HASH_REQUEST_LENGTH = 8192;
/** Tree layers above the leaves of any file a torrent can hold (2^63 leaves); base and proof layers stay below. */
export const MAX_TREE_HEIGHT = 64;
/** The fixed header of all three messages. */
export const HASH_REQUEST_LENGTH = 48;

export interface HashRequestFields {
  /** The file's pieces root (32 bytes). */
  piecesRoot: Uint8Array;
  /** The layer of the requested hashes, counted from the leaves (0: 16 KiB blocks). */
  baseLayer: number;
  /** Index of the first requested hash within its layer (a multiple of `length`). */
  index: number;
  /** How many hashes (a power of two). */
  length: number;
  /** How many layers of uncle hashes to include above the requested subtree. */
  proofLayers: number;
}

export type HashMessage =
  | ({ type: 'hash-request' } & HashRequestFields)
  | ({ type: 'hashes'; /** `length` base hashes then the uncle hashes, 32 bytes each (a view, not a copy). */ hashes: Uint8Array } & HashRequestFields)
  | ({ type: 'hash-reject' } & HashRequestFields);

function wireError(message: string, op: 'encode' | 'decode'): BtError {
  return new BtError('ERR_WIRE', message, { op });
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Why these fields are not a valid request, or undefined. */
export function hashRequestProblem(f: HashRequestFields): string | undefined {
  if (!(f.piecesRoot instanceof Uint8Array) || f.piecesRoot.length !== 32) return 'pieces root must be 32 bytes';
  for (const k of ['baseLayer', 'index', 'length', 'proofLayers'] as const) {
    if ((f[k] >>> 0) !== f[k]) return `${k} must be a uint32, got ${f[k]}`;
  }
  if (!isPow2(f.length) || f.length > MAX_HASH_REQUEST_LENGTH) return `length must be a power of two in 1..${MAX_HASH_REQUEST_LENGTH}, got ${f.length}`;
  if (f.index % f.length !== 0) return `index ${f.index} is not a multiple of length ${f.length}`;
  if (f.baseLayer >= MAX_TREE_HEIGHT) return `base layer ${f.baseLayer} is above any tree (max ${MAX_TREE_HEIGHT - 1})`;
  if (f.proofLayers >= MAX_TREE_HEIGHT) return `proof layers ${f.proofLayers} is above any tree (max ${MAX_TREE_HEIGHT - 1})`;
  return undefined;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Encode one hash message as a complete frame (length prefix, id, payload). Throws ERR_WIRE on bad fields. */
export function encodeHashMessage(msg: HashMessage): Uint8Array {
  const why = hashRequestProblem(msg);
  if (why !== undefined) throw wireError(`${msg.type}: ${why}`, 'encode');
  const extra = msg.type === 'hashes' ? msg.hashes.length : 0;
  if (msg.type === 'hashes') {
    const n = msg.hashes.length / 32;
    if (!Number.isInteger(n) || n < msg.length || n > msg.length + msg.proofLayers) {
      throw wireError(`hashes: ${msg.hashes.length} bytes is not ${msg.length}..${msg.length + msg.proofLayers} hashes`, 'encode');
    }
  }
  const out = new Uint8Array(5 + HASH_REQUEST_LENGTH + extra);
  writeU32(out, 0, 1 + HASH_REQUEST_LENGTH + extra);
  out[4] = HashMessageId[msg.type];
  out.set(msg.piecesRoot, 5);
  writeU32(out, 37, msg.baseLayer);
  writeU32(out, 41, msg.index);
  writeU32(out, 45, msg.length);
  writeU32(out, 49, msg.proofLayers);
  if (msg.type === 'hashes') out.set(msg.hashes, 53);
  return out;
}

/** True for the ids of BEP 52's hash messages (21, 22, 23). */
export function isHashMessageId(id: number): boolean {
  return id === 21 || id === 22 || id === 23;
}

/**
 * Decode a hash message from its id and payload (the bytes after the id). Throws BtError ERR_WIRE for another
 * id, a wrong length or fields out of bounds. `piecesRoot` and `hashes` are views into `payload`.
 */
export function decodeHashMessage(id: number, payload: Uint8Array): HashMessage {
  if (!isHashMessageId(id)) throw wireError(`message id ${id} is not a BEP 52 hash message`, 'decode');
  const type = id === 21 ? 'hash-request' : id === 22 ? 'hashes' : 'hash-reject';
  const p = payload;
  if (type === 'hashes' ? p.length < HASH_REQUEST_LENGTH : p.length !== HASH_REQUEST_LENGTH) {
    throw wireError(`${type} message (id ${id}) payload must be ${type === 'hashes' ? 'at least ' : ''}${HASH_REQUEST_LENGTH} bytes, got ${p.length}`, 'decode');
  }
  const fields: HashRequestFields = {
    piecesRoot: p.subarray(0, 32),
    baseLayer: readU32(p, 32),
    index: readU32(p, 36),
    length: readU32(p, 40),
    proofLayers: readU32(p, 44),
  };
  const why = hashRequestProblem(fields);
  if (why !== undefined) throw wireError(`${type} message: ${why}`, 'decode');
  if (type !== 'hashes') return { type, ...fields };
  const hashes = p.subarray(HASH_REQUEST_LENGTH);
  const n = hashes.length / 32;
  if (!Number.isInteger(n)) throw wireError(`hashes message: ${hashes.length} bytes of hashes is not a multiple of 32`, 'decode');
  if (n < fields.length || n > fields.length + fields.proofLayers) {
    throw wireError(`hashes message: ${n} hashes for length ${fields.length} and ${fields.proofLayers} proof layers`, 'decode');
  }
  return { type, ...fields, hashes };
}

/** BEP 52: the peer supports v2 (and may upgrade a hybrid connection): reserved[7] & 0x10. */
export function supportsV2(reserved: Uint8Array): boolean {
  return reserved.length >= 8 && (reserved[7]! & 0x10) !== 0;
}
