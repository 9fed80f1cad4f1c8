/**
 * BEP 3 bencoding: small typed accessors for validation code. Each returns undefined when the key is
 * absent and throws BtError (code ERR_BENCODE unless given, `field` set) when the value has the wrong type.
 */
import { BtError } from '../core/index.js';
import type { BtErrorCode } from '../core/index.js';
import { isBytes, isDict, isList } from './types.js';
import type { BDict, BValue } from './types.js';

const utf8Lenient = new TextDecoder('utf-8', { fatal: false });
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function wrongType(field: string, want: string, code: BtErrorCode): never {
  throw new BtError(code, `${field}: expected ${want}`, { op: 'validate', field });
}

function get(d: BDict, key: string): BValue | undefined {
  return Object.prototype.hasOwnProperty.call(d, key) ? d[key] : undefined;
}

/** An integer value. */
export function getInt(d: BDict, key: string, field: string = key, code: BtErrorCode = 'ERR_BENCODE'): number | undefined {
  const v = get(d, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number') wrongType(field, 'an integer', code);
  return v;
}

/** A byte string (a subarray of the decoded input). */
export function getBytes(d: BDict, key: string, field: string = key, code: BtErrorCode = 'ERR_BENCODE'): Uint8Array | undefined {
  const v = get(d, key);
  if (v === undefined) return undefined;
  if (!isBytes(v)) wrongType(field, 'a byte string', code);
  return v;
}

/** A byte string decoded as UTF-8 (invalid sequences become U+FFFD). */
export function getStr(d: BDict, key: string, field: string = key, code: BtErrorCode = 'ERR_BENCODE'): string | undefined {
  const b = getBytes(d, key, field, code);
  return b === undefined ? undefined : utf8Lossy(b);
}

/** A nested dictionary. */
export function getDict(d: BDict, key: string, field: string = key, code: BtErrorCode = 'ERR_BENCODE'): BDict | undefined {
  const v = get(d, key);
  if (v === undefined) return undefined;
  if (!isDict(v)) wrongType(field, 'a dictionary', code);
  return v;
}

/** A list. */
export function getList(d: BDict, key: string, field: string = key, code: BtErrorCode = 'ERR_BENCODE'): BValue[] | undefined {
  const v = get(d, key);
  if (v === undefined) return undefined;
  if (!isList(v)) wrongType(field, 'a list', code);
  return v;
}

/** Short pure-ASCII byte strings decode fastest without TextDecoder. */
function asciiOrUndefined(b: Uint8Array): string | undefined {
  if (b.length > 64) return undefined;
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Decode bytes as UTF-8; undefined when they are not valid UTF-8. */
export function utf8OrUndefined(b: Uint8Array): string | undefined {
  const a = asciiOrUndefined(b);
  if (a !== undefined) return a;
  try {
    return utf8Strict.decode(b);
  } catch {
    return undefined;
  }
}

/** Decode bytes as UTF-8, replacing invalid sequences with U+FFFD. */
export function utf8Lossy(b: Uint8Array): string {
  return asciiOrUndefined(b) ?? utf8Lenient.decode(b);
}
