/**
 * BEP 3 bencoding: strict, iterative decoder.
 * Rejects leading zeros, `-0`, empty integers, truncation, trailing bytes, non-string or duplicate keys,
 * oversize string lengths (checked before any allocation), unsafe integers and nesting beyond maxDepth.
 * Unsorted keys are accepted. Byte strings are subarrays of the input (no copies).
 */
import { BtError } from '../core/index.js';
import { bytesToLatin1 } from './latin1.js';
import type { BDict, BValue, DecodeOptions } from './types.js';

const CH_I = 0x69;
const CH_L = 0x6c;
const CH_D = 0x64;
const CH_E = 0x65;
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;
const CH_0 = 0x30;
const CH_9 = 0x39;
const MAX_DIGITS = 16; // Number.MAX_SAFE_INTEGER has 16 digits

const DEFAULT_MAX_DEPTH = 64;

// A tiny direct-mapped cache of short dictionary keys ('length', 'path', ...): repeated keys reuse one string.
const KEY_CACHE_MAX_LEN = 24;
const keyCacheBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(256).fill(undefined);
const keyCacheStr: string[] = new Array<string>(256).fill('');

function keyAt(buf: Uint8Array, s: number, e: number): string {
  const n = e - s;
  if (n > KEY_CACHE_MAX_LEN) return bytesToLatin1(buf, s, e);
  let h = n;
  for (let i = s; i < e; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
  const slot = (h ^ (h >>> 8)) & 255;
  const c = keyCacheBytes[slot];
  if (c !== undefined && c.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (c[i] !== buf[s + i]) {
        same = false;
        break;
      }
    }
    if (same) return keyCacheStr[slot]!;
  }
  const str = bytesToLatin1(buf, s, e);
  keyCacheBytes[slot] = buf.slice(s, e);
  keyCacheStr[slot] = str;
  return str;
}

interface Frame {
  list: BValue[] | undefined;
  dict: BDict | undefined;
  /** Pending key of a dict frame (undefined when a key is expected next). */
  key: string | undefined;
}

interface DecodeResult {
  value: BValue;
  end: number;
  infoStart: number;
  infoEnd: number;
}

function fail(msg: string, offset: number): never {
  throw new BtError('ERR_BENCODE', `bencode: ${msg} at offset ${offset}`, { op: 'decode' });
}

/**
 * Decode one value starting at `start`, reading no further than `limit`.
 * When `truncatedByLimit`, hitting `limit` is reported as a maxLength violation rather than truncation.
 */
function decodeValue(buf: Uint8Array, start: number, limit: number, maxDepth: number, truncatedByLimit: boolean, captureInfo: boolean): DecodeResult {
  const eof = (at: number): never =>
    truncatedByLimit ? fail('value exceeds maxLength', at) : fail('unexpected end of input', at);
  const stack: Frame[] = [];
  let pos = start;
  let infoStart = -1;
  let infoEnd = -1;
  let spanStart = 0; // start of the byte string last read by readStringSpan (avoids a tuple per string)

  for (;;) {
    if (pos >= limit) eof(pos);
    const c = buf[pos]!;
    const top = stack.length > 0 ? stack[stack.length - 1]! : undefined;
    let value: BValue;

    if (top !== undefined && c === CH_E) {
      if (top.dict !== undefined && top.key !== undefined) fail(`missing value for key ${JSON.stringify(top.key)}`, pos);
      pos++;
      stack.pop();
      value = top.dict ?? top.list!;
    } else if (top !== undefined && top.dict !== undefined && top.key === undefined) {
      // A dictionary key: must be a byte string.
      if (c < CH_0 || c > CH_9) fail('dictionary key must be a byte string', pos);
      const keyPos = pos;
      const e = readStringSpan();
      const key = keyAt(buf, spanStart, e);
      if (Object.prototype.hasOwnProperty.call(top.dict, key)) fail(`duplicate dictionary key ${JSON.stringify(key)}`, keyPos);
      top.key = key;
      if (captureInfo && stack.length === 1 && key === 'info') infoStart = pos;
      continue;
    } else if (c === CH_I) {
      value = readInt();
    } else if (c >= CH_0 && c <= CH_9) {
      const e = readStringSpan();
      value = buf.subarray(spanStart, e);
    } else if (c === CH_L || c === CH_D) {
      if (stack.length >= maxDepth) fail(`nesting deeper than maxDepth ${maxDepth}`, pos);
      pos++;
      if (c === CH_L) stack.push({ list: [], dict: undefined, key: undefined });
      else stack.push({ list: undefined, dict: Object.create(null) as BDict, key: undefined });
      continue;
    } else {
      fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')}`, pos);
    }

    // Deliver the completed value to its parent (or finish).
    const parent = stack.length > 0 ? stack[stack.length - 1]! : undefined;
    if (parent === undefined) return { value, end: pos, infoStart, infoEnd };
    if (parent.dict !== undefined) {
      parent.dict[parent.key!] = value;
      if (captureInfo && stack.length === 1 && parent.key === 'info') infoEnd = pos;
      parent.key = undefined;
    } else {
      parent.list!.push(value);
    }
  }

  function readInt(): number {
    const at = pos;
    pos++; // 'i'
    let neg = false;
    if (pos < limit && buf[pos] === CH_MINUS) {
      neg = true;
      pos++;
    }
    const digitsAt = pos;
    let v = 0;
    while (pos < limit) {
      const d = buf[pos]!;
      if (d < CH_0 || d > CH_9) break;
      if (pos - digitsAt >= MAX_DIGITS) fail('integer out of safe range', at);
      v = v * 10 + (d - CH_0);
      pos++;
    }
    if (pos >= limit) eof(pos);
    if (buf[pos] !== CH_E) fail('invalid character in integer', pos);
    const n = pos - digitsAt;
    if (n === 0) fail('empty integer', at);
    if (buf[digitsAt] === CH_0 && n > 1) fail('integer with leading zero', at);
    if (neg && v === 0) fail('negative zero', at);
    if (v > Number.MAX_SAFE_INTEGER) fail('integer out of safe range', at);
    pos++; // 'e'
    return neg ? -v : v;
  }

  /** Read a `<len>:<bytes>` header; sets spanStart and returns the end offset. */
  function readStringSpan(): number {
    const at = pos;
    let len = 0;
    while (pos < limit) {
      const d = buf[pos]!;
      if (d < CH_0 || d > CH_9) break;
      if (pos - at >= MAX_DIGITS) fail('string length out of range', at);
      len = len * 10 + (d - CH_0);
      pos++;
    }
    if (pos >= limit) eof(pos);
    if (buf[pos] !== CH_COLON) fail('invalid character in string length', pos);
    if (buf[at] === CH_0 && pos - at > 1) fail('string length with leading zero', at);
    pos++; // ':'
    if (len > limit - pos) {
      if (truncatedByLimit) fail('value exceeds maxLength', at);
      fail(`string length ${len} exceeds remaining input ${limit - pos}`, at);
    }
    spanStart = pos;
    pos += len;
    return pos;
  }
}

function checkOpts(buf: Uint8Array, opts: DecodeOptions | undefined): number {
  if (!(buf instanceof Uint8Array)) throw new BtError('ERR_BENCODE', 'bencode: input must be a Uint8Array', { op: 'decode' });
  const maxDepth = opts?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new BtError('ERR_BENCODE', 'bencode: maxDepth must be a non-negative integer', { op: 'decode' });
  return maxDepth;
}

/**
 * Count the values in `buf` without building any (a skim over the framing: string bodies are skipped whole), and
 * fail once there are more than `max`. Malformed input stops the count quietly: the real decode reports it.
 */
function checkTokens(buf: Uint8Array, max: number): void {
  let n = 0;
  let pos = 0;
  const len = buf.length;
  while (pos < len) {
    const c = buf[pos]!;
    if (c === CH_E || c === CH_L || c === CH_D) pos++;
    else if (c === CH_I) {
      while (pos < len && buf[pos] !== CH_E) pos++;
      pos++;
    } else if (c >= CH_0 && c <= CH_9) {
      let l = 0;
      while (pos < len && buf[pos]! >= CH_0 && buf[pos]! <= CH_9 && l < 2 ** 40) l = l * 10 + (buf[pos++]! - CH_0);
      if (buf[pos] !== CH_COLON) return;
      pos += 1 + l;
    } else return;
    if (c !== CH_E && ++n > max) fail(`more than ${max} values (maxTokens)`, pos);
  }
}

function decodeWhole(buf: Uint8Array, opts: DecodeOptions | undefined, captureInfo: boolean): DecodeResult {
  const maxDepth = checkOpts(buf, opts);
  if (opts?.maxLength !== undefined && buf.length > opts.maxLength) {
    fail(`input of ${buf.length} bytes exceeds maxLength ${opts.maxLength}`, opts.maxLength);
  }
  if (buf.length === 0) fail('empty input', 0);
  if (opts?.maxTokens !== undefined) checkTokens(buf, opts.maxTokens);
  const r = decodeValue(buf, 0, buf.length, maxDepth, false, captureInfo);
  if (r.end !== buf.length && opts?.allowTrailing !== true) fail(`${buf.length - r.end} trailing byte(s)`, r.end);
  return r;
}

/** Decode a complete bencoded value; the whole buffer must be consumed. Throws BtError ERR_BENCODE. */
export function bdecode(buf: Uint8Array, opts?: DecodeOptions): BValue {
  return decodeWhole(buf, opts, false).value;
}

/**
 * Decode a .torrent file: the top level must be a dictionary. `infoBytes` is the exact original byte span
 * of the top-level `info` value (a subarray of `buf`), for the info-hash.
 */
export function bdecodeTorrent(buf: Uint8Array, opts?: DecodeOptions): { value: BDict; infoBytes: Uint8Array | undefined } {
  if (buf instanceof Uint8Array && buf.length > 0 && buf[0] !== CH_D) fail('top level of a torrent must be a dictionary', 0);
  const r = decodeWhole(buf, opts, true);
  const infoBytes = r.infoStart >= 0 && r.infoEnd >= 0 ? buf.subarray(r.infoStart, r.infoEnd) : undefined;
  return { value: r.value as BDict, infoBytes };
}

/** Decode one value at the start of `buf` (trailing bytes allowed); `used` is the number of bytes it took. */
export function bdecodePrefix(buf: Uint8Array, opts?: DecodeOptions): { value: BValue; used: number } {
  const maxDepth = checkOpts(buf, opts);
  if (buf.length === 0) fail('empty input', 0);
  const max = opts?.maxLength;
  const limited = max !== undefined && max < buf.length;
  const r = decodeValue(buf, 0, limited ? max : buf.length, maxDepth, limited, false);
  return { value: r.value, used: r.end };
}
