/**
 * BEP 52 (BitTorrent v2) parts of a .torrent: the `file tree`, per-file `pieces root`, the top-level
 * `piece layers`, the v2 layout (every file starts on a piece boundary) and the check that a hybrid's v1 file
 * list (with BEP 47 pad files) describes the same data as its file tree.
 *
 * Bounded: the tree is walked with an explicit stack, one visit per dictionary entry; keys are sorted once per
 * directory; paths are checked by the same rules as v1 paths (safe-path.ts, MAX_PATH_BYTES). Every failure is
 * a BtError (ERR_METAINFO or ERR_UNSAFE_PATH) naming the field.
 */
import { BtError } from '../core/index.js';
import { toHex } from '../util/index.js';
import { isBytes, isDict, latin1ToBytes, utf8Lossy } from '../bencode/index.js';
import type { BDict, BValue } from '../bencode/index.js';
import { unsafeComponentReason } from './safe-path.js';
import { HASH_SIZE, MERKLE_BLOCK_SIZE, isPow2, pieceLayerProblem } from './merkle.js';
import type { TorrentFile } from './types.js';

/** The most pieces a v2 layout may have (4,194,304: 64 GiB at 16 KiB pieces, 16 TiB at 4 MiB). */
export const MAX_V2_PIECES = 1 << 22;

function bad(field: string, msg: string): never {
  throw new BtError('ERR_METAINFO', `${field}: ${msg}`, { op: 'validate', field });
}

function has(d: BDict, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(d, k);
}

/** A file of the file tree, in tree order. `path` is relative to the torrent's directory. */
export interface V2File {
  path: string[];
  length: number;
  piecesRoot: Uint8Array | undefined;
}

/** A tree path for an error message, at most ~200 characters. */
function shown(path: readonly string[]): string {
  const s = JSON.stringify(path.join('/'));
  return s.length <= 200 ? s : `${s.slice(0, 100)}…${s.slice(-100)}`;
}

function isArrayIndexKey(k: string): boolean {
  return /^(0|[1-9][0-9]{0,9})$/.test(k) && Number(k) < 2 ** 32 - 1;
}

const MAX_PATH_BYTES = 4096;
function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

interface Frame {
  dict: BDict;
  keys: string[];
  next: number;
  path: string[];
  bytes: number;
}

/**
 * The files of `file tree`, depth first in key (byte) order. A file is `{ name: { '': { length, pieces root } } }`;
 * every other dictionary is a directory. Refused: an empty tree or directory, a node that is both a file and a
 * directory, unsafe or empty names, keys out of order, a pad attribute, a missing or all-zero root on a non-empty file.
 */
export function parseFileTree(tree: BValue | undefined): V2File[] {
  const F = 'info.file tree';
  if (tree === undefined) bad(F, 'missing (meta version 2 needs a file tree)');
  if (!isDict(tree)) bad(F, 'expected a dictionary');
  const files: V2File[] = [];
  const stack: Frame[] = [];
  const push = (dict: BDict, path: string[], bytes: number): void => {
    const keys = Object.keys(dict);
    if (keys.length === 0) bad(F, path.length === 0 ? 'empty' : `directory ${shown(path)} is empty`);
    // Bencoded keys are sorted by their bytes; a JS object lists integer-like keys first, so only the order of
    // the others can be seen (libtorrent refuses a tree out of order: file order fixes the piece layout).
    let prev: string | undefined;
    for (const k of keys) {
      if (isArrayIndexKey(k)) continue;
      if (prev !== undefined && !(prev < k)) bad(F, `keys of ${path.length === 0 ? 'the tree' : shown(path)} are not in sorted order`);
      prev = k;
    }
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    stack.push({ dict, keys, next: 0, path, bytes });
  };
  push(tree, [], 0);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.keys.length) {
      stack.pop();
      continue;
    }
    const key = top.keys[top.next++]!;
    const node = top.dict[key]!;
    if (key === '') bad(F, top.path.length === 0 ? 'a file entry at the root has no name' : `${shown(top.path)} has an entry with an empty name`);
    const name = utf8Lossy(latin1ToBytes(key));
    const path = [...top.path, name];
    const why = unsafeComponentReason(name);
    if (why !== undefined) throw new BtError('ERR_UNSAFE_PATH', `${F}: ${shown(path)}: ${why}`, { op: 'validate', field: F });
    const bytes = top.bytes + name.length + 1;
    if (bytes > MAX_PATH_BYTES) bad(F, `path ${shown(path)} is longer than any file system allows (${MAX_PATH_BYTES} bytes)`);
    if (!isDict(node)) bad(F, `${shown(path)}: expected a dictionary`);
    if (!has(node, '')) {
      push(node, path, bytes);
      continue;
    }
    if (Object.keys(node).length !== 1) bad(F, `${shown(path)} is both a file and a directory`);
    const entry = node[''];
    if (!isDict(entry)) bad(F, `${shown(path)}: file entry is not a dictionary`);
    files.push(parseFileEntry(entry, path));
  }
  return files;
}

function parseFileEntry(entry: BDict, path: string[]): V2File {
  const F = 'info.file tree';
  const attrV = has(entry, 'attr') ? entry['attr'] : undefined;
  const attr = attrV !== undefined && isBytes(attrV) ? attrV : new Uint8Array(0);
  if (attr.includes(0x70 /* p */)) bad(F, `${shown(path)} has the pad attribute: v2 file trees have no pad files`);
  const symlink = attr.includes(0x6c /* l */);
  const lenV = has(entry, 'length') ? entry['length'] : undefined;
  if (lenV === undefined && !symlink) bad(F, `${shown(path)}: length missing`);
  const length = lenV === undefined ? 0 : lenV;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) bad(F, `${shown(path)}: length must be a non-negative integer`);
  const rootV = has(entry, 'pieces root') ? entry['pieces root'] : undefined;
  if (length === 0) {
    if (rootV !== undefined && !isBytes(rootV)) bad(F, `${shown(path)}: pieces root must be a byte string`);
    return { path, length, piecesRoot: undefined };
  }
  if (rootV === undefined) bad(F, `${shown(path)}: pieces root missing (a non-empty file needs its merkle root)`);
  if (!isBytes(rootV) || rootV.length !== HASH_SIZE) bad(F, `${shown(path)}: pieces root must be ${HASH_SIZE} bytes`);
  if (isZero(rootV)) bad(F, `${shown(path)}: pieces root is all zeros (no root hash)`);
  return { path, length, piecesRoot: rootV };
}

/** `piece length` rules of BEP 52: a power of two, at least 16 KiB. */
export function checkV2PieceLength(pieceLength: number): void {
  if (!isPow2(pieceLength) || pieceLength < MERKLE_BLOCK_SIZE) {
    bad('info.piece length', `must be a power of two of at least 16 KiB in a v2 torrent, got ${pieceLength}`);
  }
}

/**
 * The v2 layout of the tree's files: each starts on a piece boundary, pad entries (pad: true, path
 * `[name, '.pad', size]`, as libtorrent names them) fill the gap after each file that ends off a piece boundary
 * and is followed by more data (libtorrent's layout). `singleFile`
 * when the tree is one file at its root (its path is then just the file's name).
 */
export function v2Layout(v2: V2File[], name: string, pieceLength: number): { files: TorrentFile[]; total: number; singleFile: boolean } {
  const singleFile = v2.length === 1 && v2[0]!.path.length === 1;
  const files: TorrentFile[] = [];
  let total = 0;
  let lastData = -1;
  for (let i = 0; i < v2.length; i++) if (v2[i]!.length > 0) lastData = i;
  for (let i = 0; i < v2.length; i++) {
    const f = v2[i]!;
    const file: TorrentFile = { path: singleFile ? [...f.path] : [name, ...f.path], length: f.length, offset: total };
    if (f.piecesRoot !== undefined) file.piecesRoot = f.piecesRoot;
    files.push(file);
    total += f.length;
    const rem = total % pieceLength;
    if (i < lastData && rem !== 0) {
      files.push({ path: [name, '.pad', String(pieceLength - rem)], length: pieceLength - rem, offset: total, pad: true });
      total += pieceLength - rem;
    }
    if (!Number.isSafeInteger(total) || total / pieceLength > MAX_V2_PIECES) {
      bad('info.file tree', `too many pieces: more than ${MAX_V2_PIECES} at piece length ${pieceLength}`);
    }
  }
  if (total === 0) bad('info.file tree', 'torrent is empty');
  return { files, total, singleFile };
}

/**
 * A hybrid's v1 file list must describe the v2 layout: the same files (path and length) in the same order, each
 * non-empty file at its v2 offset (pad files filling exactly the gaps), nothing beyond the last piece. On success
 * the v1 entries get their pieces roots.
 */
export function checkHybrid(v1: TorrentFile[], v1SingleFile: boolean, v2: V2File[], layout: TorrentFile[], layoutTotal: number, pieceLength: number): void {
  const F = 'info.files';
  const real = layout.filter((f) => f.pad !== true);
  let j = 0;
  for (let i = 0; i < v1.length; i++) {
    const f = v1[i]!;
    if (f.pad === true) continue;
    const want = real[j];
    const tree = v2[j];
    if (want === undefined || tree === undefined) bad(F, `v1 and v2 file lists do not match: v1 file ${i} ${shown(f.path)} is not in the file tree`);
    const v1Rel = v1SingleFile ? f.path : f.path.slice(1);
    if (v1Rel.length !== tree.path.length || v1Rel.some((c, k) => c !== tree.path[k])) {
      bad(F, `v1 and v2 file lists do not match: v1 file ${i} is ${shown(v1Rel)}, the file tree has ${shown(tree.path)}`);
    }
    if (f.length !== want.length) bad(F, `v1 and v2 file lists do not match: ${shown(v1Rel)} is ${f.length} bytes in v1, ${want.length} in v2`);
    if (f.length > 0 && f.offset !== want.offset) {
      bad(F, `v1 and v2 file lists do not match: ${shown(v1Rel)} is at offset ${f.offset} in v1, ${want.offset} in v2 (pad files do not align it to a piece)`);
    }
    if (want.piecesRoot !== undefined) f.piecesRoot = want.piecesRoot;
    j++;
  }
  if (j !== real.length) bad(F, `v1 and v2 file lists do not match: the file tree has ${real.length} files, the v1 list ${j}`);
  const v1Total = v1.length === 0 ? 0 : v1[v1.length - 1]!.offset + v1[v1.length - 1]!.length;
  const maxTotal = Math.ceil(layoutTotal / pieceLength) * pieceLength;
  if (v1Total < layoutTotal || v1Total > maxTotal) bad(F, `v1 and v2 file lists do not match: ${v1Total} bytes in v1, ${layoutTotal} in v2`);
}

/**
 * The top-level `piece layers`: each key a pieces root of a file longer than one piece, each value that file's
 * piece layer (one hash per piece) whose merkle root is the key. Layers may be missing (peers supply them).
 */
export function parsePieceLayers(v: BValue | undefined, files: readonly TorrentFile[], pieceLength: number): Map<string, Uint8Array> {
  const F = 'piece layers';
  const out = new Map<string, Uint8Array>();
  if (v === undefined) return out;
  if (!isDict(v)) bad(F, 'expected a dictionary');
  const byRoot = new Map<string, TorrentFile>();
  for (const f of files) if (f.piecesRoot !== undefined && f.length > pieceLength) byRoot.set(toHex(f.piecesRoot), f);
  for (const k of Object.keys(v)) {
    const root = latin1ToBytes(k);
    const hex = toHex(root);
    const shortHex = hex.length > 80 ? `${hex.slice(0, 64)}…` : hex;
    if (root.length !== HASH_SIZE) bad(F, `key ${shortHex} is not a ${HASH_SIZE}-byte pieces root`);
    const file = byRoot.get(hex);
    if (file === undefined) bad(F, `entry ${hex} is not the pieces root of any file longer than one piece`);
    const layer = v[k]!;
    if (!isBytes(layer)) bad(F, `entry ${hex}: expected a byte string`);
    const why = pieceLayerProblem(layer, file.length, pieceLength, file.piecesRoot!);
    if (why !== undefined) bad(F, `entry ${hex} (${shown(file.path)}): ${why}`);
    out.set(hex, layer);
  }
  return out;
}
