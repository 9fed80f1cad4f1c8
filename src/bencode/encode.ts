/**
 * BEP 3 bencoding: encoder. Produces canonical output: dictionary keys sorted by raw bytes,
 * so encode(decode(x)) === x for any canonical x. JS strings are encoded as UTF-8 byte strings.
 */
import { BtError } from '../core/index.js';
import { isLatin1, latin1ToBytes } from './latin1.js';
import type { BEncodable, BValue } from './types.js';

const textEncoder = new TextEncoder();
const MAX_ENCODE_DEPTH = 1000;

function fail(msg: string): never {
  throw new BtError('ERR_BENCODE', `bencode: ${msg}`, { op: 'encode' });
}

class Writer {
  buf = new Uint8Array(256);
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }
  ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  byteString(b: Uint8Array): void {
    this.ascii(String(b.length));
    this.byte(0x3a);
    this.bytes(b);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The raw bytes of a dictionary key: latin1 when every char is < 256 (decoded BDict keys), else UTF-8. */
export function keyBytes(k: string): Uint8Array {
  return isLatin1(k) ? latin1ToBytes(k) : textEncoder.encode(k);
}

function write(w: Writer, v: unknown, path: object[]): void {
  switch (typeof v) {
    case 'number':
      if (!Number.isSafeInteger(v)) fail(`cannot encode non-integer or unsafe number ${v}`);
      w.byte(0x69);
      w.ascii(String(v));
      w.byte(0x65);
      return;
    case 'string':
      w.byteString(textEncoder.encode(v));
      return;
    case 'object':
      break;
    default:
      fail(`cannot encode a value of type ${typeof v}`);
  }
  if (v === null) fail('cannot encode null');
  if (v instanceof Uint8Array) {
    w.byteString(v);
    return;
  }
  if (ArrayBuffer.isView(v)) fail('cannot encode a typed array other than Uint8Array');
  if (path.includes(v)) fail('cannot encode a cyclic structure');
  if (path.length >= MAX_ENCODE_DEPTH) fail(`nesting deeper than ${MAX_ENCODE_DEPTH}`);
  path.push(v);
  if (Array.isArray(v)) {
    w.byte(0x6c);
    for (const item of v as unknown[]) {
      if (item === undefined) fail('cannot encode undefined in a list');
      write(w, item, path);
    }
    w.byte(0x65);
  } else {
    const obj = v as Record<string, unknown>;
    const entries: { k: Uint8Array; v: unknown }[] = [];
    let allLatin1 = true;
    for (const key of Object.keys(obj)) {
      const val = obj[key];
      if (val === undefined) continue;
      if (!isLatin1(key)) allLatin1 = false;
      entries.push({ k: keyBytes(key), v: val });
    }
    entries.sort((a, b) => compareBytes(a.k, b.k));
    if (!allLatin1) {
      for (let i = 1; i < entries.length; i++) {
        if (compareBytes(entries[i - 1]!.k, entries[i]!.k) === 0) fail('two dictionary keys encode to the same bytes');
      }
    }
    w.byte(0x64);
    for (const e of entries) {
      w.byteString(e.k);
      write(w, e.v, path);
    }
    w.byte(0x65);
  }
  path.pop();
}

/** Encode a value. Throws BtError ERR_BENCODE for booleans, null, non-integers, cycles. */
export function bencode(v: BValue | string | BEncodable): Uint8Array {
  const w = new Writer();
  write(w, v, []);
  return w.buf.slice(0, w.pos);
}
