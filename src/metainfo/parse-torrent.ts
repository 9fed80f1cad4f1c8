/**
 * BEP 3 .torrent parsing (v1 single- and multi-file), with BEP 12 announce-list, BEP 5 nodes,
 * BEP 19 url-list and BEP 27 private flag; BEP 52 v2-only and hybrid (v1+v2) torrents (parse-v2.ts: the file
 * tree, piece layers, the hybrid consistency check). Every validation failure is a BtError naming the failing field.
 */
import { BtError } from '../core/index.js';
import { toHex } from '../util/index.js';
import { bdecode, bdecodeTorrent, getBytes, getDict, getInt, getList, isBytes, isDict, isList, utf8Lossy, utf8OrUndefined } from '../bencode/index.js';
import type { BDict, BValue } from '../bencode/index.js';
import { assertSafePathComponent, isSafePathComponent } from './safe-path.js';
import { infoHashOf } from './info-hash.js';
import { sha256 } from './merkle.js';
import { checkHybrid, checkV2PieceLength, parseFileTree, parsePieceLayers, v2Layout } from './parse-v2.js';
import type { DhtNodeAddr, Metainfo, MetaVersion, TorrentFile, TorrentInfo } from './types.js';

/** Largest accepted piece length (128 MiB). */
export const MAX_PIECE_LENGTH = 128 * 1024 * 1024;

function bad(field: string, msg: string): never {
  throw new BtError('ERR_METAINFO', `${field}: ${msg}`, { op: 'validate', field });
}

function has(d: BDict, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(d, k);
}

/** `key.utf-8` when it is a valid UTF-8 byte string, else `key` decoded leniently. Returns [value, fieldUsed]. */
function pickUtf8(d: BDict, key: string, field: string): [string, string] | undefined {
  const alt = d[`${key}.utf-8`];
  if (alt !== undefined && has(d, `${key}.utf-8`) && isBytes(alt)) {
    const s = utf8OrUndefined(alt);
    if (s !== undefined) return [s, `${field}.utf-8`];
  }
  const b = getBytes(d, key, field, 'ERR_METAINFO');
  return b === undefined ? undefined : [utf8Lossy(b), field];
}

/**
 * The largest .torrent (or info dictionary) accepted, and the most bencoded values in it: libtorrent's
 * load_torrent_limits are 10 MB and 3,000,000 tokens; 16 MiB covers a 1.6 TB torrent at 256 KiB pieces, and
 * 2,000,000 values about 250,000 files. Beyond either, the input is refused before anything is built.
 */
export const MAX_TORRENT_BYTES = 16 * 1024 * 1024;
export const MAX_TORRENT_VALUES = 2_000_000;
const TORRENT_DECODE_LIMITS = { maxLength: MAX_TORRENT_BYTES, maxTokens: MAX_TORRENT_VALUES };
/** A .torrent file may have bytes after its top-level dictionary (libtorrent ignores them too). */
const FILE_DECODE_LIMITS = { ...TORRENT_DECODE_LIMITS, allowTrailing: true };

/** Linux's PATH_MAX: no file of a torrent can be written under a longer path, so none may be described. */
export const MAX_PATH_BYTES = 4096;
/** The most components a path within MAX_PATH_BYTES can have (one byte and a separator each). */
const MAX_PATH_COMPONENTS = MAX_PATH_BYTES / 2;

/**
 * Path components of file `i`, preferring `path.utf-8` when it is a list of valid UTF-8 strings.
 * Returns the components and whether they came from `path.utf-8` (see pathField).
 */
function pickPath(f: BDict, i: number): [string[], boolean] {
  const alt = has(f, 'path.utf-8') ? f['path.utf-8'] : undefined;
  if (alt !== undefined && isList(alt) && alt.length > 0 && alt.length <= MAX_PATH_COMPONENTS) {
    const comps: string[] = [];
    for (const c of alt) {
      const s = isBytes(c) ? utf8OrUndefined(c) : undefined;
      if (s === undefined) break;
      comps.push(s);
    }
    if (comps.length === alt.length) return [comps, true];
  }
  const raw = has(f, 'path') ? f['path'] : undefined;
  if (raw === undefined) bad(pathField(i, false), 'missing');
  if (!isList(raw)) bad(pathField(i, false), 'expected a list');
  if (raw.length > MAX_PATH_COMPONENTS) bad(pathField(i, false), `${raw.length} components: deeper than any file system allows (${MAX_PATH_BYTES} bytes)`);
  const comps = new Array<string>(raw.length);
  let bytes = 0;
  for (let j = 0; j < raw.length; j++) {
    const c = raw[j]!;
    if (!isBytes(c)) bad(`${pathField(i, false)}[${j}]`, 'expected a byte string');
    bytes += c.length + 1;
    comps[j] = utf8Lossy(c);
  }
  if (bytes > MAX_PATH_BYTES) bad(pathField(i, false), `${bytes} bytes long: longer than any file system allows (${MAX_PATH_BYTES})`);
  return [comps, false];
}

/** Field name of file i's path, built only on failure (the files loop runs 100k+ times for big torrents). */
function pathField(i: number, utf8: boolean): string {
  return utf8 ? `info.files[${i}].path.utf-8` : `info.files[${i}].path`;
}

function checkLength(v: number | undefined, field: string): number {
  if (v === undefined) bad(field, 'missing');
  if (!Number.isSafeInteger(v) || v < 0) bad(field, `must be a non-negative integer, got ${v}`);
  return v;
}

/** A node of the path tree parseFiles builds: a file, or a directory with its entries. */
interface PathNode {
  file: boolean;
  children: Map<string, PathNode> | undefined;
}

/** A path for an error message, at most ~200 characters (hostile paths run to megabytes). */
function shortPath(comps: readonly string[]): string {
  const s = JSON.stringify(comps.join('/'));
  return s.length <= 200 ? s : `${s.slice(0, 100)}…${s.slice(-100)} (${comps.length} components)`;
}

function parseFiles(info: BDict, name: string): { files: TorrentFile[]; total: number; singleFile: boolean } {
  const hasFiles = has(info, 'files');
  const hasLength = has(info, 'length');
  if (hasFiles && hasLength) bad('info', 'has both length and files');
  if (!hasFiles && !hasLength) bad('info', 'has neither length nor files');
  if (hasLength) {
    const length = checkLength(getInt(info, 'length', 'info.length', 'ERR_METAINFO'), 'info.length');
    if (length === 0) bad('info.length', 'torrent is empty');
    return { files: [{ path: [name], length, offset: 0 }], total: length, singleFile: true };
  }
  const list = getList(info, 'files', 'info.files', 'ERR_METAINFO')!;
  if (list.length === 0) bad('info.files', 'empty file list');
  const files: TorrentFile[] = [];
  // A tree of the paths seen so far, by component: a file may not reuse a file's or a directory's path. Each file
  // costs one map lookup per component (a map of prefix strings would cost depth² per file: a remote hang).
  const root: PathNode = { file: false, children: new Map() };
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!;
    // Field names are built only on failure: this loop runs once per file (100k+ in big torrents).
    if (!isDict(entry)) bad(`info.files[${i}]`, 'expected a dictionary');
    const attr = has(entry, 'attr') ? entry['attr'] : undefined;
    const isPad = attr !== undefined && isBytes(attr) && attr.includes(0x70 /* 'p' */);
    let len = has(entry, 'length') ? entry['length'] : undefined;
    // A symlink (attr 'l') may come without a length (libtorrent loads it as an empty file).
    if (len === undefined && attr !== undefined && isBytes(attr) && attr.includes(0x6c /* 'l' */)) len = 0;
    if (typeof len !== 'number' || len < 0) {
      checkLength(getInt(entry, 'length', `info.files[${i}].length`, 'ERR_METAINFO'), `info.files[${i}].length`);
    }
    const length = len as number;
    // A pad file without a path (seen in the wild) is named as libtorrent names pad files.
    const noPath = isPad && !has(entry, 'path') && !has(entry, 'path.utf-8');
    const [comps, fromUtf8] = noPath ? [['.pad', String(length)], false] : pickPath(entry, i);
    if (comps.length === 0) bad(pathField(i, fromUtf8), 'empty path');
    for (const c of comps) if (!isSafePathComponent(c)) assertSafePathComponent(c, pathField(i, fromUtf8));
    // BEP 47 padding files (attr contains 'p') may share a path: libtorrent names them `.pad/<size>`. BitComet's
    // older convention, a file named `_____padding_file_…` without attr, is padding too (as libtorrent reads it).
    if (isPad || comps[comps.length - 1]!.startsWith('_____padding_file_')) {
      comps.unshift(name);
      files.push({ path: comps, length, offset: total, pad: true });
      total += length;
      if (!Number.isSafeInteger(total)) bad(`info.files[${i}].length`, 'total length out of range');
      continue;
    }
    let node = root;
    for (let j = 0; j < comps.length; j++) {
      if (node.file) bad(pathField(i, fromUtf8), `path ${shortPath(comps)} is inside file ${shortPath(comps.slice(0, j))}`);
      let next = node.children!.get(comps[j]!);
      if (!next) {
        next = j === comps.length - 1 ? { file: true, children: undefined } : { file: false, children: new Map() };
        node.children!.set(comps[j]!, next);
      } else if (j === comps.length - 1) bad(pathField(i, fromUtf8), `duplicate path ${shortPath(comps)}`);
      node = next;
    }
    comps.unshift(name);
    files.push({ path: comps, length, offset: total });
    total += length;
    if (!Number.isSafeInteger(total)) bad(`info.files[${i}].length`, 'total length out of range');
  }
  if (total === 0) bad('info.files', 'torrent is empty');
  return { files, total, singleFile: false };
}

/** `meta version`: absent or 1 is v1; 2 is BEP 52; anything else is refused. */
function metaVersion(info: BDict): 1 | 2 {
  const v = getInt(info, 'meta version', 'info.meta version', 'ERR_METAINFO');
  if (v === undefined || v === 1) return 1;
  if (v === 2) return 2;
  bad('info.meta version', `unsupported version ${v} (1 and 2 are known)`);
}

function parseInfo(info: BDict): TorrentInfo {
  const meta = metaVersion(info);
  const picked = pickUtf8(info, 'name', 'info.name');
  if (picked === undefined) bad('info.name', 'missing');
  const [name, nameField] = picked;
  assertSafePathComponent(name, nameField);

  const pieceLength = getInt(info, 'piece length', 'info.piece length', 'ERR_METAINFO');
  if (pieceLength === undefined) bad('info.piece length', 'missing');
  if (pieceLength <= 0 || pieceLength > MAX_PIECE_LENGTH) bad('info.piece length', `must be in 1..${MAX_PIECE_LENGTH}, got ${pieceLength}`);

  const priv = has(info, 'private') && info['private'] === 1;
  const hasV1 = has(info, 'pieces');
  let v2: ReturnType<typeof parseFileTree> | undefined;
  let layout: ReturnType<typeof v2Layout> | undefined;
  if (meta === 2) {
    checkV2PieceLength(pieceLength);
    v2 = parseFileTree(has(info, 'file tree') ? info['file tree'] : undefined);
    layout = v2Layout(v2, name, pieceLength);
    if (!hasV1) {
      if (has(info, 'files') || has(info, 'length')) bad('info.pieces', 'missing (the info has a v1 file list but no v1 piece hashes)');
      const pieceCount = Math.ceil(layout.total / pieceLength);
      return { name, pieceLength, pieces: new Uint8Array(0), pieceCount, files: layout.files, totalLength: layout.total, private: priv, singleFile: layout.singleFile, version: 2 };
    }
  }

  const pieces = getBytes(info, 'pieces', 'info.pieces', 'ERR_METAINFO');
  if (pieces === undefined) bad('info.pieces', 'missing');
  if (pieces.length % 20 !== 0) bad('info.pieces', `length ${pieces.length} is not a multiple of 20`);

  const { files, total, singleFile } = parseFiles(info, name);
  const pieceCount = pieces.length / 20;
  const want = Math.ceil(total / pieceLength);
  if (pieceCount !== want) bad('info.pieces', `has ${pieceCount} hashes, expected ${want} for ${total} bytes at piece length ${pieceLength}`);

  const version: MetaVersion = v2 === undefined ? 1 : 'hybrid';
  if (v2 !== undefined && layout !== undefined) checkHybrid(files, singleFile, v2, layout.files, layout.total, pieceLength);
  const out: TorrentInfo = { name, pieceLength, pieces, pieceCount, files, totalLength: total, private: priv, singleFile };
  if (version !== 1) out.version = version;
  return out;
}

/** The version fields of a Metainfo from its info and info bytes. */
function versionFields(info: TorrentInfo, infoBytes: Uint8Array): Pick<Metainfo, 'infoHash' | 'infoHashHex' | 'version' | 'infoHashV2' | 'infoHashV2Hex'> {
  const version = info.version ?? 1;
  if (version === 1) {
    const infoHash = infoHashOf(infoBytes);
    return { infoHash, infoHashHex: toHex(infoHash), version };
  }
  const v2 = sha256(infoBytes);
  const infoHash = version === 2 ? v2.slice(0, 20) : infoHashOf(infoBytes);
  return { infoHash, infoHashHex: toHex(infoHash), version, infoHashV2: v2, infoHashV2Hex: toHex(v2) };
}

function str(v: BValue | undefined): string | undefined {
  if (v === undefined || !isBytes(v)) return undefined;
  const s = utf8Lossy(v).trim();
  return s.length > 0 ? s : undefined;
}

function field(d: BDict, k: string): BValue | undefined {
  return has(d, k) ? d[k] : undefined;
}

/**
 * The most tracker URLs and web seeds a torrent keeps (the rest are ignored, and Metainfo.ignored says how many):
 * every one is announced to or fetched from, shown in every progress report, and a torrent with 100,000 of them
 * made 18 MB progress lines.
 */
export const MAX_TRACKERS = 200;
export const MAX_WEB_SEEDS = 100;

/**
 * BEP 12 tiers: garbage entries, empty strings and empty tiers are skipped; URLs are de-duplicated; at most
 * MAX_TRACKERS URLs are kept (`ignored` counts the rest).
 */
function parseAnnounceList(v: BValue | undefined): { tiers: string[][]; ignored: number } {
  if (v === undefined || !isList(v)) return { tiers: [], ignored: 0 };
  const seen = new Set<string>();
  const tiers: string[][] = [];
  let ignored = 0;
  for (const tier of v) {
    const urls = isList(tier) ? tier : isBytes(tier) ? [tier] : [];
    const out: string[] = [];
    for (const u of urls) {
      const s = str(u);
      if (s === undefined || seen.has(s)) continue;
      seen.add(s);
      if (seen.size > MAX_TRACKERS) ignored++;
      else out.push(s);
    }
    if (out.length > 0) tiers.push(out);
  }
  return { tiers, ignored };
}

/** BEP 5 `nodes`: a list of [host, port]; malformed entries are skipped. */
function parseNodes(v: BValue | undefined): DhtNodeAddr[] {
  if (v === undefined || !isList(v)) return [];
  const out: DhtNodeAddr[] = [];
  for (const n of v) {
    if (!isList(n) || n.length < 2) continue;
    const host = str(n[0]);
    const port = n[1];
    if (host === undefined || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    out.push({ host, port });
  }
  return out;
}

/** BEP 19 `url-list`: a string or a list of strings; at most MAX_WEB_SEEDS distinct ones kept. */
function parseUrlList(v: BValue | undefined): { urls: string[]; ignored: number } {
  if (v === undefined) return { urls: [], ignored: 0 };
  const items = isList(v) ? v : [v];
  const out = new Set<string>();
  for (const u of items) {
    const s = str(u);
    if (s !== undefined) out.add(s);
  }
  const urls = [...out];
  return { urls: urls.slice(0, MAX_WEB_SEEDS), ignored: Math.max(0, urls.length - MAX_WEB_SEEDS) };
}

/**
 * Parse and validate a .torrent file. Throws BtError: ERR_BENCODE for malformed bencoding,
 * ERR_METAINFO / ERR_UNSAFE_PATH (with `field`) for invalid content.
 */
export function parseTorrent(bytes: Uint8Array): Metainfo {
  const { value: top, infoBytes } = bdecodeTorrent(bytes, FILE_DECODE_LIMITS);
  const infoDict = getDict(top, 'info', 'info', 'ERR_METAINFO');
  if (infoDict === undefined || infoBytes === undefined) bad('info', 'missing');
  const info = parseInfo(infoDict);
  const hashes = versionFields(info, infoBytes);
  const pieceLayers = hashes.version === 1 ? undefined : parsePieceLayers(field(top, 'piece layers'), info.files, info.pieceLength);

  const announce = str(field(top, 'announce'));
  const tiers = parseAnnounceList(field(top, 'announce-list'));
  let announceList = tiers.tiers;
  if (announceList.length === 0 && announce !== undefined) announceList = [[announce]];
  const webSeeds = parseUrlList(field(top, 'url-list'));

  const commentPick = (() => {
    const alt = field(top, 'comment.utf-8');
    if (alt !== undefined && isBytes(alt) && utf8OrUndefined(alt) !== undefined) return str(alt);
    return str(field(top, 'comment'));
  })();
  const cd = field(top, 'creation date');

  return {
    ...hashes,
    ...(pieceLayers !== undefined ? { pieceLayers } : {}),
    infoBytes,
    info,
    announce,
    announceList,
    nodes: parseNodes(field(top, 'nodes')),
    urlList: webSeeds.urls,
    comment: commentPick,
    createdBy: str(field(top, 'created by')),
    creationDate: typeof cd === 'number' ? cd : undefined,
    ...(tiers.ignored > 0 || webSeeds.ignored > 0 ? { ignored: { trackers: tiers.ignored, webSeeds: webSeeds.ignored } } : {}),
  };
}

export interface MetainfoFromInfoOptions {
  /** Trackers (e.g. a magnet link's `tr` values): each becomes its own BEP 12 tier, in order. */
  trackers?: readonly string[];
  /** Web seeds (BEP 19; a magnet link's `ws` values). */
  urlList?: readonly string[];
  /**
   * When given, the info-hash of infoBytes must equal it (BtError ERR_HASH otherwise): the SHA-1 for a v1 or
   * hybrid info dictionary, the truncated SHA-256 for a v2-only one.
   */
  infoHash?: Uint8Array;
  /** When given, the SHA-256 of infoBytes (the v2 info-hash) must equal it (BtError ERR_HASH otherwise). */
  infoHashV2?: Uint8Array;
}

/**
 * Build a Metainfo from the bencoded info dictionary alone, as fetched with BEP 9 ut_metadata. The
 * bytes must be exactly one bencoded dictionary (they are the info-hash's preimage). Throws BtError:
 * ERR_BENCODE for malformed bencoding, ERR_METAINFO / ERR_UNSAFE_PATH for invalid content, ERR_HASH when
 * `infoHash` is given and does not match.
 */
export function metainfoFromInfoBytes(infoBytes: Uint8Array, opts: MetainfoFromInfoOptions = {}): Metainfo {
  const sha1Hash = infoHashOf(infoBytes);
  if (opts.infoHash !== undefined && toHex(opts.infoHash) !== toHex(sha1Hash) && toHex(opts.infoHash) !== toHex(sha256(infoBytes).subarray(0, 20))) {
    throw new BtError('ERR_HASH', `info dictionary hashes to ${toHex(sha1Hash)}, expected ${toHex(opts.infoHash)}`, { op: 'hash', field: 'info' });
  }
  if (opts.infoHashV2 !== undefined && toHex(opts.infoHashV2) !== toHex(sha256(infoBytes))) {
    throw new BtError('ERR_HASH', `info dictionary's v2 info-hash is ${toHex(sha256(infoBytes))}, expected ${toHex(opts.infoHashV2)}`, { op: 'hash', field: 'info' });
  }
  if (infoBytes.length === 0 || infoBytes[0] !== 0x64 /* 'd' */) bad('info', 'expected a dictionary');
  const infoDict = bdecode(infoBytes, TORRENT_DECODE_LIMITS);
  if (!isDict(infoDict)) bad('info', 'expected a dictionary');
  const info = parseInfo(infoDict);
  const hashes = versionFields(info, infoBytes);
  const seen = new Set<string>();
  const announceList: string[][] = [];
  for (const t of opts.trackers ?? []) {
    const s = typeof t === 'string' ? t.trim() : '';
    if (s.length === 0 || seen.has(s)) continue;
    seen.add(s);
    announceList.push([s]);
  }
  return {
    ...hashes,
    ...(hashes.version === 1 ? {} : { pieceLayers: new Map<string, Uint8Array>() }),
    infoBytes: infoBytes.slice(),
    info,
    announce: announceList[0]?.[0],
    announceList,
    nodes: [],
    urlList: [...new Set(opts.urlList ?? [])],
    comment: undefined,
    createdBy: undefined,
    creationDate: undefined,
  };
}
