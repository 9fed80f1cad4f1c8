/**
 * BEP 3 torrent building (pure): assemble and bencode a v1 .torrent from precomputed piece hashes.
 * Info dict keys match mktorrent exactly (files|length, name, piece length, pieces, private when set), so the
 * info-hash equals mktorrent's for the same content. BEP 12 announce-list is written only when there is more
 * than one tracker; BEP 19 url-list is a string for one URL, a list for several.
 */
import { BtError } from '../core/index.js';
import { bencode } from '../bencode/index.js';
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
