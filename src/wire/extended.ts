/**
 * BEP 10 extension protocol: the extended handshake (extended message id 0), a bencoded dictionary.
 * Decoding is tolerant: missing keys are absent, values of the wrong type or range are dropped; only a
 * payload that is not bencoded, or not a dictionary, is an error (ERR_WIRE).
 */
import { bdecodePrefix, bencode, isBytes, isDict, utf8Lossy } from '../bencode/index.js';
import type { BDict, BValue } from '../bencode/index.js';
import { BtError } from '../core/index.js';

export interface ExtendedHandshake {
  /** Extension name → the extended message id the sender wants to receive it on (0 = disabled). */
  m: Record<string, number>;
  /** Client name and version. */
  v?: string;
  /** The sender's listen port. */
  p?: number;
  /** How many outstanding requests the sender accepts. */
  reqq?: number;
  /** Our address as the sender sees it (4 or 16 bytes). */
  yourip?: Uint8Array;
  /** The sender's IPv4 address (4 bytes). */
  ipv4?: Uint8Array;
  /** The sender's IPv6 address (16 bytes). */
  ipv6?: Uint8Array;
  /** BEP 9: size of the info dictionary in bytes. */
  metadata_size?: number;
  /** BEP 21: non-zero when the sender only uploads. */
  upload_only?: number;
}

/** Largest extended handshake payload decodeExtendedHandshake accepts. */
export const MAX_EXTENDED_HANDSHAKE_LENGTH = 1024 * 1024;

function wireError(message: string, op: 'encode' | 'decode', cause?: unknown): BtError {
  return new BtError('ERR_WIRE', message, { op, cause });
}

function isExtId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
}

export function encodeExtendedHandshake(h: ExtendedHandshake): Uint8Array {
  const m: Record<string, number> = {};
  for (const [name, id] of Object.entries(h.m ?? {})) {
    if (!isExtId(id)) throw wireError(`extension ${JSON.stringify(name)} has an invalid message id ${id}`, 'encode');
    m[name] = id;
  }
  return bencode({
    m,
    v: h.v,
    p: h.p,
    reqq: h.reqq,
    yourip: h.yourip,
    ipv4: h.ipv4,
    ipv6: h.ipv6,
    metadata_size: h.metadata_size,
    upload_only: h.upload_only,
  });
}

function own(d: BDict, key: string): BValue | undefined {
  return Object.prototype.hasOwnProperty.call(d, key) ? d[key] : undefined;
}

function intIn(v: BValue | undefined, min: number, max: number): number | undefined {
  return typeof v === 'number' && v >= min && v <= max ? v : undefined;
}

function bytesOf(v: BValue | undefined, ...lengths: number[]): Uint8Array | undefined {
  return isBytes(v) && lengths.includes(v.length) ? v.slice() : undefined;
}

/** Decode an extended handshake payload (the bytes after the extended id 0). */
export function decodeExtendedHandshake(payload: Uint8Array): ExtendedHandshake {
  if (payload.length > MAX_EXTENDED_HANDSHAKE_LENGTH) {
    throw wireError(`extended handshake of ${payload.length} bytes is too large`, 'decode');
  }
  let d: BValue;
  try {
    // A prefix decode: some clients pad the dictionary; trailing bytes are ignored.
    d = bdecodePrefix(payload, { maxDepth: 16 }).value;
  } catch (e) {
    throw wireError(`extended handshake is not valid bencoding: ${(e as Error).message}`, 'decode', e);
  }
  if (!isDict(d)) throw wireError('extended handshake is not a dictionary', 'decode');

  const out: ExtendedHandshake = { m: {} };
  const m = own(d, 'm');
  if (isDict(m)) {
    for (const name of Object.keys(m)) {
      const id = m[name];
      if (isExtId(id) && name !== '__proto__') out.m[name] = id;
    }
  }
  const v = own(d, 'v');
  if (isBytes(v)) out.v = utf8Lossy(v);
  const p = intIn(own(d, 'p'), 1, 65535);
  if (p !== undefined) out.p = p;
  const reqq = intIn(own(d, 'reqq'), 1, Number.MAX_SAFE_INTEGER);
  if (reqq !== undefined) out.reqq = reqq;
  const yourip = bytesOf(own(d, 'yourip'), 4, 16);
  if (yourip !== undefined) out.yourip = yourip;
  const ipv4 = bytesOf(own(d, 'ipv4'), 4);
  if (ipv4 !== undefined) out.ipv4 = ipv4;
  const ipv6 = bytesOf(own(d, 'ipv6'), 16);
  if (ipv6 !== undefined) out.ipv6 = ipv6;
  const size = intIn(own(d, 'metadata_size'), 1, Number.MAX_SAFE_INTEGER);
  if (size !== undefined) out.metadata_size = size;
  const uploadOnly = intIn(own(d, 'upload_only'), 0, Number.MAX_SAFE_INTEGER);
  if (uploadOnly !== undefined) out.upload_only = uploadOnly;
  return out;
}
