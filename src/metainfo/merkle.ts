/**
 * BEP 52 merkle trees: SHA-256 over 16 KiB leaf blocks of each file, the leaf layer zero-padded (32 zero bytes
 * per missing leaf) to a power of two. A file's `pieces root` is the tree's root; its piece layer is the layer
 * whose nodes each cover one piece (only files longer than one piece have one in `piece layers`).
 *
 * Pure functions over Uint8Array (node:crypto's createHash is a pure computation here), so that hashing big
 * data can move to a worker later as SHA-1 hashing did. Every loop is linear in its input; nothing recurses.
 * Hashes are passed around concatenated (n × 32 bytes), as they are in `piece layers` and on the wire.
 */
import { createHash } from 'node:crypto';

/** Leaf block size (16 KiB). */
export const MERKLE_BLOCK_SIZE = 16 * 1024;
/** Bytes per SHA-256 hash. */
export const HASH_SIZE = 32;

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** SHA-256(left || right). */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(left).update(right).digest());
}

/** The smallest power of two ≥ n (1 for n ≤ 1). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** log2 of a power of two. */
export function log2(p: number): number {
  let l = 0;
  while (2 ** l < p) l++;
  return l;
}

export function isPow2(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** log2(n) === n;
}

const padCache: Uint8Array[] = [new Uint8Array(HASH_SIZE)];

/** The root of a subtree of 2^height all-zero leaf hashes (height 0: 32 zero bytes). */
export function padHash(height: number): Uint8Array {
  for (let h = padCache.length; h <= height; h++) padCache.push(hashPair(padCache[h - 1]!, padCache[h - 1]!));
  return padCache[height]!;
}

/**
 * The root over `hashes` (concatenated, count = length / 32 ≥ 1) as the bottom layer of a tree of `width`
 * nodes (a power of two ≥ count; default the next power of two), the missing nodes being subtrees of zero leaves
 * of height `padHeight`. Linear: width/2 + width/4 + … pair hashes, with the padding hashes taken from a cache.
 */
export function merkleRoot(hashes: Uint8Array, padHeight = 0, width?: number): Uint8Array {
  const count = hashes.length / HASH_SIZE;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`merkleRoot: ${hashes.length} bytes is not a positive number of hashes`);
  const w = width ?? nextPow2(count);
  if (!isPow2(w) || w < count) throw new RangeError(`merkleRoot: width ${w} is not a power of two ≥ ${count}`);
  // One flat buffer per layer: a pair is a 64-byte window hashed in place (no per-node arrays or copies).
  let layer = hashes;
  let n = count;
  let height = padHeight;
  for (let w2 = w; w2 > 1; w2 /= 2) {
    const m = Math.ceil(n / 2);
    const next = new Uint8Array(m * HASH_SIZE);
    const full = Math.floor(n / 2);
    for (let i = 0; i < full; i++) next.set(createHash('sha256').update(layer.subarray(i * 64, i * 64 + 64)).digest(), i * HASH_SIZE);
    if (n % 2 === 1) next.set(hashPair(layer.subarray((n - 1) * HASH_SIZE, n * HASH_SIZE), padHash(height)), full * HASH_SIZE);
    layer = next;
    n = m;
    height++;
  }
  return layer.slice(0, HASH_SIZE);
}

/** SHA-256 of each 16 KiB block of `data` (the last may be short), concatenated. Empty data has no leaves. */
export function leafHashes(data: Uint8Array): Uint8Array {
  const n = Math.ceil(data.length / MERKLE_BLOCK_SIZE);
  const out = new Uint8Array(n * HASH_SIZE);
  for (let i = 0; i < n; i++) out.set(sha256(data.subarray(i * MERKLE_BLOCK_SIZE, (i + 1) * MERKLE_BLOCK_SIZE)), i * HASH_SIZE);
  return out;
}

function checkPieceLength(pieceLength: number): number {
  if (!isPow2(pieceLength) || pieceLength < MERKLE_BLOCK_SIZE) throw new RangeError(`piece length ${pieceLength} is not a power of two ≥ 16 KiB`);
  return pieceLength / MERKLE_BLOCK_SIZE;
}

/** How many pieces a file of `fileLength` bytes spans in a v2 torrent (files start on piece boundaries). */
export function filePieceCount(fileLength: number, pieceLength: number): number {
  return Math.ceil(fileLength / pieceLength);
}

/**
 * The v2 hash of one piece of a file, from the piece's data: the root of its blocks' subtree. A piece of a file
 * longer than one piece is padded to a full piece's worth of leaves (this is its piece-layer entry); the only
 * piece of a file no longer than a piece is padded to the next power of two only, and its hash is the file's
 * pieces root.
 */
export function pieceHashV2(pieceData: Uint8Array, pieceLength: number, fileLength: number): Uint8Array {
  const perPiece = checkPieceLength(pieceLength);
  if (pieceData.length === 0 || pieceData.length > pieceLength) throw new RangeError(`piece data of ${pieceData.length} bytes for piece length ${pieceLength}`);
  const leaves = leafHashes(pieceData);
  return fileLength <= pieceLength ? merkleRoot(leaves) : merkleRoot(leaves, 0, perPiece);
}

/** The pieces root and piece layer (concatenated; empty for a file of at most one piece) of a file's data. */
export function fileMerkle(data: Uint8Array, pieceLength: number): { root: Uint8Array; pieceLayer: Uint8Array } {
  const perPiece = checkPieceLength(pieceLength);
  if (data.length === 0) throw new RangeError('an empty file has no merkle tree');
  if (data.length <= pieceLength) return { root: merkleRoot(leafHashes(data)), pieceLayer: new Uint8Array(0) };
  const pieces = filePieceCount(data.length, pieceLength);
  const layer = new Uint8Array(pieces * HASH_SIZE);
  for (let p = 0; p < pieces; p++) {
    const leaves = leafHashes(data.subarray(p * pieceLength, (p + 1) * pieceLength));
    layer.set(merkleRoot(leaves, 0, perPiece), p * HASH_SIZE);
  }
  return { root: rootFromPieceLayer(layer, pieceLength), pieceLayer: layer };
}

/** The pieces root from a file's piece layer (its missing nodes are subtrees of zero leaves one piece high). */
export function rootFromPieceLayer(layer: Uint8Array, pieceLength: number): Uint8Array {
  const perPiece = checkPieceLength(pieceLength);
  return merkleRoot(layer, log2(perPiece));
}

/**
 * Why `layer` is not the piece layer of a file of `fileLength` bytes with pieces root `root`, or undefined when
 * it is: its size must be one hash per piece and its hashes must lead to the root.
 */
export function pieceLayerProblem(layer: Uint8Array, fileLength: number, pieceLength: number, root: Uint8Array): string | undefined {
  if (layer.length % HASH_SIZE !== 0) return `${layer.length} bytes is not a multiple of ${HASH_SIZE}`;
  const want = filePieceCount(fileLength, pieceLength);
  if (layer.length / HASH_SIZE !== want) return `has ${layer.length / HASH_SIZE} hashes, expected ${want} for ${fileLength} bytes at piece length ${pieceLength}`;
  if (!equal(rootFromPieceLayer(layer, pieceLength), root)) return 'does not hash to the pieces root';
  return undefined;
}

/** Whether `pieceData` (piece `index` of a file of `fileLength` bytes) matches its piece-layer hash (or the root). */
export function verifyPieceV2(pieceData: Uint8Array, pieceLength: number, fileLength: number, expected: Uint8Array): boolean {
  return equal(pieceHashV2(pieceData, pieceLength, fileLength), expected);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
