/**
 * BEP 3 torrent building (pure): assemble and bencode a v1 .torrent from precomputed piece hashes.
 * Info dict keys match mktorrent exactly (files|length, name, piece length, pieces, private when set), so the
 * info-hash equals mktorrent's for the same content. BEP 12 announce-list is written only when there is more
 * than one tracker; BEP 19 url-list is a string for one URL, a list for several.
 */
import { BtError } from '../core/index.js';
import { bencode, bytesToLatin1 } from '../bencode/index.js';
import type { BEncodable } from '../bencode/index.js';
import { assertSafePathComponent } from './safe-path.js';
import { MAX_PIECE_LENGTH } from './parse-torrent.js';

export interface BuildTorrentOptions {
  name: string;
  /** Files of a multi-file torrent, paths relative to the torrent root; null for a single file of `length`. */
  files: { path: string[]; length: number }[] | null;
  /** Length of the single file (when files is null). */
  length?: number;
  pieceLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes. */
  pieceHashes: Uint8Array;
  /** Tracker tiers (BEP 12). */
  trackers?: string[][];
  private?: boolean;
  comment?: string;
  createdBy?: string;
  /** Unix seconds. Omitted when undefined (no clock access here). */
  creationDate?: number;
  /** BEP 19 web seeds. */
  urlList?: string[];
}

function bad(field: string, msg: string): never {
  throw new BtError('ERR_METAINFO', `${field}: ${msg}`, { op: 'create', field });
}

function checkLength(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(field, `must be a non-negative integer, got ${String(v)}`);
  return v;
}

/** Build a .torrent. Throws BtError ERR_METAINFO / ERR_UNSAFE_PATH (with `field`) on invalid input. */
export function buildTorrent(opts: BuildTorrentOptions): Uint8Array {
  assertSafePathComponent(opts.name, 'name');
  const pl = opts.pieceLength;
  if (!Number.isSafeInteger(pl) || pl <= 0 || pl > MAX_PIECE_LENGTH) bad('pieceLength', `must be in 1..${MAX_PIECE_LENGTH}, got ${pl}`);

  const info: Record<string, BEncodable | undefined> = { name: opts.name, 'piece length': pl, pieces: opts.pieceHashes };
  let total = 0;
  if (opts.files === null) {
    total = checkLength(opts.length, 'length');
    info['length'] = total;
  } else {
    if (opts.files.length === 0) bad('files', 'no files');
    info['files'] = opts.files.map((f, i) => {
      const field = `files[${i}]`;
      const length = checkLength(f.length, `${field}.length`);
      if (f.path.length === 0) bad(`${field}.path`, 'empty path');
      f.path.forEach((c) => assertSafePathComponent(c, `${field}.path`));
      total += length;
      return { length, path: f.path };
    });
    if (!Number.isSafeInteger(total)) bad('files', 'total length out of range');
  }
  if (total === 0) bad(opts.files === null ? 'length' : 'files', 'torrent is empty');
  const want = Math.ceil(total / pl) * 20;
  if (opts.pieceHashes.length !== want) bad('pieceHashes', `has ${opts.pieceHashes.length} bytes, expected ${want}`);
  if (opts.private) info['private'] = 1;

  const tiers = (opts.trackers ?? []).map((t) => t.filter((u) => u.length > 0)).filter((t) => t.length > 0);
  const urls = opts.urlList?.filter((u) => u.length > 0) ?? [];
  const top: Record<string, BEncodable | undefined> = {
    announce: tiers[0]?.[0],
    'announce-list': tiers.flat().length > 1 ? tiers : undefined,
    comment: opts.comment,
    'created by': opts.createdBy,
    'creation date': opts.creationDate,
    info,
    'url-list': urls.length === 0 ? undefined : urls.length === 1 ? urls[0] : urls,
  };
  return bencode(top);
}

/**
 * A power-of-two piece length giving roughly 1000-2000 pieces, clamped to 16 KiB .. 16 MiB
 * (the libtorrent / qBittorrent rule of thumb).
 */
export function autoPieceLength(totalBytes: number): number {
  let p = 16 * 1024;
  while (p < 16 * 1024 * 1024 && totalBytes / p > 2000) p *= 2;
  return p;
}

/** A file of a v2 or hybrid torrent to build: its path (relative to the torrent's directory) and merkle tree. */
export interface BuildV2File {
  path: string[];
  length: number;
  /** The file's pieces root (required when length > 0). */
  piecesRoot?: Uint8Array;
  /** Its piece layer (files longer than one piece). */
  pieceLayer?: Uint8Array;
  /** BEP 47 attributes ('x': executable), written in the file tree and the hybrid's v1 list. */
  attr?: string;
}

export interface BuildTorrentV2Options extends Omit<BuildTorrentOptions, 'files' | 'length' | 'pieceHashes'> {
  /** 2: v2 only; 'hybrid': v1 + v2 (BEP 52), the v1 file list padded with BEP 47 pad files as libtorrent 2.0 does. */
  version: 2 | 'hybrid';
  /** In tree order (sortV2Files); a single-file torrent has one file whose path is [name]. */
  files: BuildV2File[];
  singleFile: boolean;
  /** Hybrid: the SHA-1 piece hashes of the v1 layout (hybridV1Files). */
  pieceHashes?: Uint8Array;
}

/** Byte order of two path components (UTF-8), as the keys of a bencoded dictionary are sorted. */
function compareComponent(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Files sorted into file-tree order (component by component, bytewise), the order of a v2 torrent's pieces. */
export function sortV2Files<T extends { path: string[] }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => {
    for (let i = 0; i < a.path.length && i < b.path.length; i++) {
      const c = compareComponent(a.path[i]!, b.path[i]!);
      if (c !== 0) return c;
    }
    return a.path.length - b.path.length;
  });
}

/**
 * The v1 file list of a hybrid torrent (libtorrent 2.0's layout): each file, then, when its end is not on a piece
 * boundary, a pad file (`attr: 'p'`, path `.pad/<size>`) up to the next one. A single file needs none.
 */
export function hybridV1Files(
  files: readonly { path: string[]; length: number; attr?: string }[],
  pieceLength: number,
  singleFile: boolean,
): { path: string[]; length: number; pad?: boolean; attr?: string }[] {
  if (singleFile) return files.map((f) => ({ path: f.path, length: f.length }));
  const out: { path: string[]; length: number; pad?: boolean; attr?: string }[] = [];
  for (const f of files) {
    out.push({ path: f.path, length: f.length, ...(f.attr !== undefined && f.attr.length > 0 ? { attr: f.attr } : {}) });
    const rem = f.length % pieceLength;
    if (rem !== 0) out.push({ path: ['.pad', String(pieceLength - rem)], length: pieceLength - rem, pad: true });
  }
  return out;
}

/**
 * Build a BEP 52 v2-only or hybrid .torrent: info keys as libtorrent 2.0 writes them (`file tree`, `files` or
 * `length` for a hybrid, `meta version`, `name`, `piece length`, `pieces` for a hybrid, `private`), so the
 * info-hashes equal libtorrent's for the same files and piece length; `piece layers` at the top level.
 */
export function buildTorrentV2(opts: BuildTorrentV2Options): Uint8Array {
  assertSafePathComponent(opts.name, 'name');
  const pl = opts.pieceLength;
  if (!Number.isSafeInteger(pl) || pl < 16384 || pl > MAX_PIECE_LENGTH || (pl & (pl - 1)) !== 0) {
    bad('pieceLength', `must be a power of two in 16384..${MAX_PIECE_LENGTH} for a v2 torrent, got ${pl}`);
  }
  if (opts.files.length === 0) bad('files', 'no files');
  if (opts.singleFile && opts.files.length !== 1) bad('files', 'a single-file torrent has one file');
  type Tree = { [k: string]: Tree | { '': Record<string, BEncodable> } };
  const tree: Tree = {};
  const layers: Record<string, BEncodable> = {};
  let total = 0;
  opts.files.forEach((f, i) => {
    const field = `files[${i}]`;
    const length = checkLength(f.length, `${field}.length`);
    if (f.path.length === 0) bad(`${field}.path`, 'empty path');
    f.path.forEach((c) => assertSafePathComponent(c, `${field}.path`));
    const entry: Record<string, BEncodable> = { length };
    if (f.attr !== undefined && f.attr.length > 0) entry['attr'] = f.attr;
    if (length > 0) {
      if (f.piecesRoot?.length !== 32) bad(`${field}.piecesRoot`, 'a non-empty file needs its 32-byte pieces root');
      entry['pieces root'] = f.piecesRoot;
      if (length > pl) {
        if (f.pieceLayer === undefined || f.pieceLayer.length !== Math.ceil(length / pl) * 32) bad(`${field}.pieceLayer`, 'missing or of the wrong size');
        layers[String.fromCharCode(...f.piecesRoot)] = f.pieceLayer;
      }
    }
    // Dictionary keys are byte strings: a component's UTF-8 bytes, as latin1 (what the encoder writes verbatim).
    const keys = f.path.map((c) => bytesToLatin1(new TextEncoder().encode(c)));
    let node = tree;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Tree;
    if (node[keys[keys.length - 1]!] !== undefined) bad(`${field}.path`, 'duplicate path');
    node[keys[keys.length - 1]!] = { '': entry };
    total += length;
  });
  if (total === 0) bad('files', 'torrent is empty');
  const info: Record<string, BEncodable | undefined> = { 'file tree': tree, 'meta version': 2, name: opts.name, 'piece length': pl };
  if (opts.version === 'hybrid') {
    const v1 = hybridV1Files(opts.files, pl, opts.singleFile);
    const v1Total = v1.reduce((n, f) => n + f.length, 0);
    const want = Math.ceil(v1Total / pl) * 20;
    if (opts.pieceHashes?.length !== want) bad('pieceHashes', `has ${opts.pieceHashes?.length ?? 0} bytes, expected ${want}`);
    info['pieces'] = opts.pieceHashes;
    if (opts.singleFile) info['length'] = total;
    else info['files'] = v1.map((f) => (f.pad === true ? { attr: 'p', length: f.length, path: f.path } : { attr: f.attr, length: f.length, path: f.path }));
  }
  if (opts.private) info['private'] = 1;
  const tiers = (opts.trackers ?? []).map((t) => t.filter((u) => u.length > 0)).filter((t) => t.length > 0);
  const urls = opts.urlList?.filter((u) => u.length > 0) ?? [];
  return bencode({
    announce: tiers[0]?.[0],
    'announce-list': tiers.flat().length > 1 ? tiers : undefined,
    comment: opts.comment,
    'created by': opts.createdBy,
    'creation date': opts.creationDate,
    info,
    'piece layers': layers,
    'url-list': urls.length === 0 ? undefined : urls.length === 1 ? urls[0] : urls,
  });
}
