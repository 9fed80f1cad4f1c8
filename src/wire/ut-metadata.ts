/**
 * BEP 9 ut_metadata: the extension message that carries the info dictionary in 16 KiB pieces.
 *
 * The payload (after the extended message id) is a bencoded dictionary
 * `{msg_type: 0 request | 1 data | 2 reject, piece: i, total_size: n (data only)}`; a data message is
 * followed by the raw piece bytes. Every piece is exactly 16 KiB except the last.
 *
 * Decoding is strict: a payload that is not a dictionary, a missing or non-integer key, a piece index out
 * of range, a wrong total_size or a wrong data length is BtError ERR_METADATA. An integer msg_type we do
 * not know decodes to `{ type: 'unknown' }`: BEP 9 says it MUST be ignored.
 */
import { bdecodePrefix, bencode, isDict } from '../bencode/index.js';
import type { BDict, BValue } from '../bencode/index.js';
import { BtError } from '../core/index.js';
import { concatBytes } from '../util/index.js';
import { DEFAULT_MAX_METADATA_SIZE, METADATA_PIECE_SIZE, checkMetadataSize, metadataPieceCount, metadataPieceLength } from '../metainfo/index.js';

export { DEFAULT_MAX_METADATA_SIZE, METADATA_PIECE_SIZE, checkMetadataSize, metadataPieceCount, metadataPieceLength };

/** Longest bencoded header (the dictionary before the data) decodeUtMetadata reads. */
const MAX_HEADER_LENGTH = 512;

export const UtMetadataType = { Request: 0, Data: 1, Reject: 2 } as const;

export type UtMetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Uint8Array }
  | { type: 'reject'; piece: number }
  /** A msg_type this version does not know: ignore it (BEP 9). */
  | { type: 'unknown'; msgType: number; piece: number | undefined };

export interface UtMetadataDecodeOptions {
  /**
   * The metadata size we expect (from the peer's extended handshake): bounds `piece`, must equal a data
   * message's `total_size`, and fixes each data piece's length. Without it only `maxMetadataSize` applies.
   */
  metadataSize?: number;
  /** Bound on total_size (default DEFAULT_MAX_METADATA_SIZE). */
  maxMetadataSize?: number;
}

function bad(message: string, op: 'encode' | 'decode', field?: string, cause?: unknown): never {
  throw new BtError('ERR_METADATA', `ut_metadata: ${message}`, { op, field, cause });
}

/** Size checks with this codec's message prefix and op. */
function sizeOk(size: number, max: number, op: 'encode' | 'decode'): void {
  try {
    checkMetadataSize(size, max);
  } catch (e) {
    bad((e as Error).message, op, 'total_size');
  }
}

function pieceLength(size: number, piece: number, op: 'encode' | 'decode'): number {
  try {
    return metadataPieceLength(size, piece);
  } catch (e) {
    return bad((e as Error).message, op, 'piece');
  }
}

/** A peer's bencode value for an error message: String() throws on a decoded dictionary (null prototype), alone or in a list. */
function describeValue(v: unknown): string {
  if (typeof v === 'number' || v === undefined) return String(v);
  return v instanceof Uint8Array ? 'a byte string' : Array.isArray(v) ? 'a list' : typeof v === 'object' && v !== null ? 'a dictionary' : typeof v;
}

function checkPiece(piece: unknown, op: 'encode' | 'decode'): number {
  if (typeof piece !== 'number' || !Number.isSafeInteger(piece) || piece < 0) bad(`piece ${describeValue(piece)} is not a non-negative integer`, op, 'piece');
  return piece;
}

/** Encode a ut_metadata message payload (the bytes after the extended message id). */
export function encodeUtMetadata(msg: UtMetadataMessage): Uint8Array {
  switch (msg.type) {
    case 'request':
      return bencode({ msg_type: UtMetadataType.Request, piece: checkPiece(msg.piece, 'encode') });
    case 'reject':
      return bencode({ msg_type: UtMetadataType.Reject, piece: checkPiece(msg.piece, 'encode') });
    case 'data': {
      const piece = checkPiece(msg.piece, 'encode');
      sizeOk(msg.totalSize, Number.MAX_SAFE_INTEGER, 'encode');
      const want = pieceLength(msg.totalSize, piece, 'encode');
      if (msg.data.length !== want) bad(`data piece ${piece} is ${msg.data.length} bytes, expected ${want}`, 'encode', 'data');
      return concatBytes([bencode({ msg_type: UtMetadataType.Data, piece, total_size: msg.totalSize }), msg.data]);
    }
    default:
      return bad(`cannot encode message type ${(msg as { type: string }).type}`, 'encode', 'msg_type');
  }
}

function own(d: BDict, key: string): BValue | undefined {
  return Object.prototype.hasOwnProperty.call(d, key) ? d[key] : undefined;
}

/** Decode a ut_metadata payload. Throws BtError ERR_METADATA on anything malformed (see the header). */
export function decodeUtMetadata(payload: Uint8Array, opts: UtMetadataDecodeOptions = {}): UtMetadataMessage {
  const max = opts.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE;
  if (opts.metadataSize !== undefined) sizeOk(opts.metadataSize, max, 'decode');
  if (!(payload instanceof Uint8Array) || payload.length === 0) bad('empty message', 'decode');
  let head: BValue;
  let used: number;
  try {
    ({ value: head, used } = bdecodePrefix(payload, { maxDepth: 4, maxLength: MAX_HEADER_LENGTH }));
  } catch (e) {
    return bad(`header is not valid bencoding: ${(e as Error).message}`, 'decode', undefined, e);
  }
  if (!isDict(head)) bad('header is not a dictionary', 'decode');
  const msgType = own(head, 'msg_type');
  if (typeof msgType !== 'number' || !Number.isSafeInteger(msgType) || msgType < 0) bad('msg_type is missing or not a non-negative integer', 'decode', 'msg_type');
  const rawPiece = own(head, 'piece');
  if (msgType > UtMetadataType.Reject) {
    return { type: 'unknown', msgType, piece: typeof rawPiece === 'number' && Number.isSafeInteger(rawPiece) && rawPiece >= 0 ? rawPiece : undefined };
  }
  const piece = checkPiece(rawPiece, 'decode');
  if (opts.metadataSize !== undefined) pieceLength(opts.metadataSize, piece, 'decode');
  const rest = payload.length - used;

  if (msgType !== UtMetadataType.Data) {
    if (rest !== 0) bad(`${rest} trailing byte(s) after a ${msgType === 0 ? 'request' : 'reject'}`, 'decode');
    return { type: msgType === UtMetadataType.Request ? 'request' : 'reject', piece };
  }
  const totalSize = own(head, 'total_size');
  if (typeof totalSize !== 'number') bad('data message without an integer total_size', 'decode', 'total_size');
  sizeOk(totalSize, max, 'decode');
  if (opts.metadataSize !== undefined && totalSize !== opts.metadataSize) {
    bad(`total_size ${totalSize} differs from the announced metadata_size ${opts.metadataSize}`, 'decode', 'total_size');
  }
  const want = pieceLength(totalSize, piece, 'decode');
  if (rest !== want) bad(`data piece ${piece} is ${rest} bytes, expected ${want}`, 'decode', 'data');
  return { type: 'data', piece, totalSize, data: payload.slice(used) };
}

/**
 * Our side of BEP 9: the reply payload to a peer's request for `piece` of our info dictionary — a data
 * message, or a reject when the piece is out of range (or there is no metadata to serve).
 */
export function serveMetadata(infoBytes: Uint8Array | undefined, piece: number): Uint8Array {
  const ok = Number.isInteger(piece) && piece >= 0;
  if (infoBytes === undefined || infoBytes.length === 0 || !ok || piece >= metadataPieceCount(infoBytes.length)) {
    return encodeUtMetadata({ type: 'reject', piece: ok ? piece : 0 });
  }
  const start = piece * METADATA_PIECE_SIZE;
  const data = infoBytes.subarray(start, start + pieceLength(infoBytes.length, piece, 'encode'));
  return encodeUtMetadata({ type: 'data', piece, totalSize: infoBytes.length, data });
}
