/**
 * A tiny bencode encoder of the tests' own (independent of src/), to build torrents the project's
 * encoder would refuse to produce: unsafe paths and other hostile metainfo.
 */
import { createHash } from 'node:crypto';

export type BValue = number | bigint | string | Uint8Array | BValue[] | { [key: string]: BValue };

function enc(v: BValue, out: Buffer[]): void {
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isInteger(v)) throw new Error(`bencode: not an integer: ${v}`);
    out.push(Buffer.from(`i${v}e`, 'latin1'));
  } else if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    out.push(Buffer.from(`${b.length}:`, 'latin1'), b);
  } else if (v instanceof Uint8Array) {
    out.push(Buffer.from(`${v.length}:`, 'latin1'), Buffer.from(v));
  } else if (Array.isArray(v)) {
    out.push(Buffer.from('l'));
    for (const x of v) enc(x, out);
    out.push(Buffer.from('e'));
  } else {
    out.push(Buffer.from('d'));
    // keys sorted as raw bytes
    const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    for (const k of keys) {
      enc(k, out);
      enc(v[k]!, out);
    }
    out.push(Buffer.from('e'));
  }
}

export function bencode(v: BValue): Buffer {
  const out: Buffer[] = [];
  enc(v, out);
  return Buffer.concat(out);
}

/** Concatenated SHA-1 piece hashes of `data`. */
export function pieceHashes(data: Uint8Array, pieceLength: number): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += pieceLength) {
    parts.push(createHash('sha1').update(data.subarray(off, Math.min(off + pieceLength, data.length))).digest());
  }
  return Buffer.concat(parts);
}

/** The info-hash (hex) of an info dictionary. */
export function infoHashHex(info: BValue): string {
  return createHash('sha1').update(bencode(info)).digest('hex');
}

/**
 * A multi-file torrent whose files are `files` (path components exactly as given, unchecked), all-zero
 * content, valid piece hashes: only what the test makes hostile is wrong.
 */
export function rawMultiFileTorrent(name: string, files: { path: string[]; length: number }[], pieceLength = 16384): Buffer {
  const total = files.reduce((n, f) => n + f.length, 0);
  const info = {
    name,
    'piece length': pieceLength,
    pieces: pieceHashes(new Uint8Array(total), pieceLength),
    files: files.map((f) => ({ length: f.length, path: f.path })),
  };
  return bencode({ 'created by': 'torrentkit-tests', info });
}

/** A single-file torrent named `name` (unchecked), all-zero content of `length` bytes. */
export function rawSingleFileTorrent(name: string, length: number, pieceLength = 16384): Buffer {
  const info = { name, length, 'piece length': pieceLength, pieces: pieceHashes(new Uint8Array(length), pieceLength) };
  return bencode({ 'created by': 'torrentkit-tests', info });
}
