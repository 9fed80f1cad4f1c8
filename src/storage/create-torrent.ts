/**
 * BEP 3 torrent creation from a file or directory on disk. Produces the same info dictionary, and so the
 * same info-hash, as mktorrent 1.1 for the same content and piece length:
 * - a file gives a single-file torrent; a directory gives a multi-file torrent named after it;
 * - files are found recursively, following symlinks (to files and directories); hidden files and empty files
 *   are included; empty directories contribute nothing; non-regular files (fifos, sockets, devices) are skipped;
 *   a dangling symlink is an error (as in mktorrent);
 * - files are ordered by strcmp() on the relative path joined with '/' (UTF-8 bytes, unsigned);
 * - info holds only files|length, name, piece length, pieces, and private (when set).
 * Hashing streams the files in order with read-ahead (one chunk in flight while the previous one is hashed).
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BtError } from '../core/index.js';
import {
  MERKLE_BLOCK_SIZE,
  autoPieceLength,
  buildTorrent,
  buildTorrentV2,
  hybridV1Files,
  merkleRoot,
  parseTorrent,
  rootFromPieceLayer,
  sha256,
  sortV2Files,
} from '../metainfo/index.js';
import type { BuildV2File } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/index.js';

export interface CreateTorrentOptions {
  /** Piece length in bytes (default: autoPieceLength of the total size). */
  pieceLength?: number;
  /** Tracker tiers; a flat list puts each URL in its own tier. */
  trackers?: string[] | string[][];
  private?: boolean;
  comment?: string;
  createdBy?: string;
  /** Unix seconds; omitted from the torrent when undefined. */
  creationDate?: number;
  /** BEP 19 web seeds. */
  urlList?: string[];
  signal?: AbortSignal;
  /** Called after each chunk is hashed. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
  /**
   * 1 (default): BEP 3, mktorrent's info dictionary. 2: BEP 52 v2 only; 'hybrid': v1 + v2 — both with
   * libtorrent 2.0's info dictionary (files in tree order, pad files in the hybrid's v1 list, attr 'x' on
   * executable files), so the info-hashes equal libtorrent's for the same files and piece length.
   */
  version?: 1 | 2 | 'hybrid';
}

export interface SourceFile {
  /** Path components relative to the torrent root ([] for a single-file torrent). */
  path: string[];
  /** Absolute path on disk. */
  abs: string;
  length: number;
  /** The owner may execute it (BEP 47 attr 'x' in v2 and hybrid torrents, as libtorrent writes it). */
  executable?: boolean;
}

const READ_CHUNK = 4 * 1024 * 1024;

function storageError(msg: string, cause?: unknown): BtError {
  return new BtError('ERR_STORAGE', msg, { op: 'create', cause });
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BtError('ERR_ABORTED', 'torrent creation aborted', { op: 'create', cause: signal.reason });
}

async function statFollow(p: string): Promise<Stats> {
  try {
    return await stat(p);
  } catch (e) {
    throw storageError(`cannot stat ${p}: ${(e as Error).message}`, e);
  }
}

function compareStrcmp(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/** The files mktorrent would put in a torrent of `target`, in its order. */
export async function listSourceFiles(target: string, signal?: AbortSignal): Promise<{ name: string; singleFile: boolean; files: SourceFile[] }> {
  const abs = resolve(target);
  const name = basename(abs);
  const st = await statFollow(abs);
  if (st.isFile()) return { name, singleFile: true, files: [{ path: [], abs, length: st.size, executable: (st.mode & 0o100) !== 0 }] };
  if (!st.isDirectory()) throw storageError(`${target} is neither a regular file nor a directory`);

  const found: SourceFile[] = [];
  const walk = async (dir: string, rel: string[], ancestors: Set<string>): Promise<void> => {
    checkAbort(signal);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      throw storageError(`cannot read directory ${dir}: ${(e as Error).message}`, e);
    }
    for (const n of names) {
      const p = join(dir, n);
      const s = await statFollow(p);
      if (s.isFile()) {
        found.push({ path: [...rel, n], abs: p, length: s.size, executable: (s.mode & 0o100) !== 0 });
      } else if (s.isDirectory()) {
        const id = `${s.dev}:${s.ino}`;
        if (ancestors.has(id)) throw storageError(`symlink loop at ${p}`);
        ancestors.add(id);
        await walk(p, [...rel, n], ancestors);
        ancestors.delete(id);
      }
    }
  };
  await walk(abs, [], new Set([`${st.dev}:${st.ino}`]));
  const keyed = found.map((f) => ({ f, k: Buffer.from(f.path.join('/'), 'utf8') }));
  keyed.sort((a, b) => compareStrcmp(a.k, b.k));
  return { name, singleFile: false, files: keyed.map((x) => x.f) };
}

/** SHA-1 piece hashes of the files concatenated in order. */
export async function hashFiles(
  files: readonly SourceFile[],
  pieceLength: number,
  opts: { signal?: AbortSignal; onProgress?: (hashedBytes: number, totalBytes: number) => void } = {},
): Promise<Uint8Array> {
  const total = files.reduce((n, f) => n + f.length, 0);
  const pieceCount = Math.ceil(total / pieceLength);
  const out = new Uint8Array(pieceCount * 20);
  let outPos = 0;
  let h: Hash = createHash('sha1');
  let inPiece = 0;
  let hashed = 0;
  const bufs = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  let which = 0;

  const feed = (chunk: Buffer): void => {
    let o = 0;
    while (o < chunk.length) {
      const take = Math.min(chunk.length - o, pieceLength - inPiece);
      h.update(chunk.subarray(o, o + take));
      inPiece += take;
      o += take;
      if (inPiece === pieceLength) {
        out.set(h.digest(), outPos);
        outPos += 20;
        h = createHash('sha1');
        inPiece = 0;
      }
    }
    hashed += chunk.length;
    opts.onProgress?.(hashed, total);
  };

  for (const f of files) {
    checkAbort(opts.signal);
    if (f.length === 0) continue;
    let fh;
    try {
      fh = await open(f.abs, 'r');
    } catch (e) {
      throw storageError(`cannot open ${f.abs}: ${(e as Error).message}`, e);
    }
    try {
      let pos = 0;
      const readAt = (buf: Buffer, at: number): Promise<number> =>
        fh.read(buf, 0, Math.min(buf.length, f.length - at), at).then(
          (r) => r.bytesRead,
          (e: unknown) => {
            throw storageError(`cannot read ${f.abs}: ${(e as Error).message}`, e);
          },
        );
      let pending: Promise<number> | undefined = readAt(bufs[which]!, 0);
      while (pending !== undefined) {
        const n = await pending;
        const cur = bufs[which]!;
        if (n === 0) throw storageError(`${f.abs} shrank while hashing (expected ${f.length} bytes)`);
        pos += n;
        which ^= 1;
        pending = pos < f.length ? readAt(bufs[which]!, pos) : undefined;
        feed(cur.subarray(0, n));
        checkAbort(opts.signal);
      }
    } finally {
      await fh.close();
    }
  }
  if (inPiece > 0) {
    out.set(h.digest(), outPos);
    outPos += 20;
  }
  if (outPos !== out.length) throw storageError('internal error: piece count mismatch');
  return out;
}

/**
 * BEP 52 hashing of files in tree order: each file's pieces root and piece layer (SHA-256 over 16 KiB blocks),
 * and for a hybrid the SHA-1 piece hashes of the v1 layout (each file followed by the zeros of its pad file).
 * Streams each file once; memory is one read buffer, one piece's leaf hashes and the piece layers.
 */
export async function hashFilesV2(
  files: readonly SourceFile[],
  pieceLength: number,
  opts: { hybrid?: boolean; singleFile?: boolean; signal?: AbortSignal; onProgress?: (hashedBytes: number, totalBytes: number) => void } = {},
): Promise<{ roots: (Uint8Array | undefined)[]; layers: Uint8Array[]; v1Pieces: Uint8Array | undefined }> {
  const perPiece = pieceLength / MERKLE_BLOCK_SIZE;
  const total = files.reduce((n, f) => n + f.length, 0);
  const roots: (Uint8Array | undefined)[] = [];
  const layers: Uint8Array[] = [];
  // v1 (hybrid): SHA-1 over the padded stream.
  const v1Layout = opts.hybrid === true ? hybridV1Files(files, pieceLength, opts.singleFile === true) : undefined;
  const v1Total = v1Layout?.reduce((n, f) => n + f.length, 0) ?? 0;
  const v1Out = v1Layout !== undefined ? new Uint8Array(Math.ceil(v1Total / pieceLength) * 20) : undefined;
  let v1Pos = 0;
  let v1Hash: Hash = createHash('sha1');
  let v1In = 0;
  const v1Feed = (chunk: Uint8Array): void => {
    let o = 0;
    while (o < chunk.length) {
      const take = Math.min(chunk.length - o, pieceLength - v1In);
      v1Hash.update(chunk.subarray(o, o + take));
      v1In += take;
      o += take;
      if (v1In === pieceLength) {
        v1Out!.set(v1Hash.digest(), v1Pos);
        v1Pos += 20;
        v1Hash = createHash('sha1');
        v1In = 0;
      }
    }
  };
  const buf = Buffer.allocUnsafe(Math.max(READ_CHUNK, MERKLE_BLOCK_SIZE));
  const leaves = new Uint8Array(perPiece * 32);
  const block = new Uint8Array(MERKLE_BLOCK_SIZE);
  let hashed = 0;
  for (const f of files) {
    checkAbort(opts.signal);
    if (f.length === 0) {
      roots.push(undefined);
      layers.push(new Uint8Array(0));
      continue;
    }
    const pieces = Math.ceil(f.length / pieceLength);
    const layer = new Uint8Array(pieces > 1 ? pieces * 32 : 0);
    let nLeaves = 0; // leaves of the current piece
    let piece = 0;
    let inBlock = 0;
    let root: Uint8Array | undefined;
    const endBlock = (): void => {
      leaves.set(sha256(block.subarray(0, inBlock)), nLeaves * 32);
      nLeaves++;
      inBlock = 0;
    };
    const endPiece = (): void => {
      if (pieces === 1) root = merkleRoot(leaves.subarray(0, nLeaves * 32));
      else layer.set(merkleRoot(leaves.subarray(0, nLeaves * 32), 0, perPiece), piece * 32);
      piece++;
      nLeaves = 0;
    };
    let fh;
    try {
      fh = await open(f.abs, 'r');
    } catch (e) {
      throw storageError(`cannot open ${f.abs}: ${(e as Error).message}`, e);
    }
    try {
      let pos = 0;
      while (pos < f.length) {
        let n: number;
        try {
          n = (await fh.read(buf, 0, Math.min(buf.length, f.length - pos), pos)).bytesRead;
        } catch (e) {
          throw storageError(`cannot read ${f.abs}: ${(e as Error).message}`, e);
        }
        if (n === 0) throw storageError(`${f.abs} shrank while hashing (expected ${f.length} bytes)`);
        const chunk = buf.subarray(0, n);
        if (v1Out !== undefined) v1Feed(chunk);
        let o = 0;
        while (o < n) {
          const take = Math.min(n - o, MERKLE_BLOCK_SIZE - inBlock);
          block.set(chunk.subarray(o, o + take), inBlock);
          inBlock += take;
          o += take;
          if (inBlock === MERKLE_BLOCK_SIZE) {
            endBlock();
            if (nLeaves === perPiece) endPiece();
          }
        }
        pos += n;
        hashed += n;
        opts.onProgress?.(hashed, total);
        checkAbort(opts.signal);
      }
    } finally {
      await fh.close();
    }
    if (inBlock > 0) endBlock();
    if (nLeaves > 0) endPiece();
    roots.push(pieces === 1 ? root : rootFromPieceLayer(layer, pieceLength));
    layers.push(layer);
    if (v1Out !== undefined && opts.singleFile !== true) {
      const rem = f.length % pieceLength;
      if (rem !== 0) v1Feed(new Uint8Array(pieceLength - rem));
    }
  }
  if (v1Out !== undefined && v1In > 0) {
    v1Out.set(v1Hash.digest(), v1Pos);
    v1Pos += 20;
  }
  if (v1Out !== undefined && v1Pos !== v1Out.length) throw storageError('internal error: piece count mismatch');
  return { roots, layers, v1Pieces: v1Out };
}

/** A BEP 52 v2-only or hybrid .torrent of `files` (listSourceFiles' result). */
async function createV2(
  name: string,
  singleFile: boolean,
  listed: SourceFile[],
  version: 2 | 'hybrid',
  pieceLength: number,
  opts: CreateTorrentOptions,
): Promise<Uint8Array> {
  if (!Number.isSafeInteger(pieceLength) || pieceLength < MERKLE_BLOCK_SIZE || (pieceLength & (pieceLength - 1)) !== 0) {
    throw new BtError('ERR_METAINFO', `pieceLength: a v2 torrent needs a power of two of at least 16 KiB, got ${pieceLength}`, { op: 'create', field: 'pieceLength' });
  }
  const files = singleFile ? listed.map((f) => ({ ...f, path: [name] })) : sortV2Files(listed);
  const { roots, layers, v1Pieces } = await hashFilesV2(files, pieceLength, { hybrid: version === 'hybrid', singleFile, signal: opts.signal, onProgress: opts.onProgress });
  const v2Files: BuildV2File[] = files.map((f, i) => ({
    path: f.path,
    length: f.length,
    ...(roots[i] !== undefined ? { piecesRoot: roots[i] } : {}),
    ...(layers[i]!.length > 0 ? { pieceLayer: layers[i] } : {}),
    ...(f.executable === true && !singleFile ? { attr: 'x' } : {}),
  }));
  return buildTorrentV2({
    name,
    version,
    files: v2Files,
    singleFile,
    pieceLength,
    pieceHashes: v1Pieces,
    trackers: normalizeTiers(opts.trackers),
    private: opts.private,
    comment: opts.comment,
    createdBy: opts.createdBy,
    creationDate: opts.creationDate,
    urlList: opts.urlList,
  });
}

function normalizeTiers(t: string[] | string[][] | undefined): string[][] {
  if (t === undefined) return [];
  return t.map((x: string | string[]) => (Array.isArray(x) ? x : [x]));
}

/** Create a .torrent (v1 unless opts.version says 2 or 'hybrid') from a file or directory. Throws BtError ERR_STORAGE / ERR_METAINFO / ERR_ABORTED. */
export async function createTorrentFromPath(path: string, opts: CreateTorrentOptions = {}): Promise<{ torrent: Uint8Array; meta: Metainfo }> {
  checkAbort(opts.signal);
  const { name, singleFile, files } = await listSourceFiles(path, opts.signal);
  const total = files.reduce((n, f) => n + f.length, 0);
  if (total === 0) throw new BtError('ERR_METAINFO', `${path}: nothing to share (no non-empty files)`, { op: 'create', field: 'files' });
  const pieceLength = opts.pieceLength ?? autoPieceLength(total);
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
    throw new BtError('ERR_METAINFO', `pieceLength: must be a positive integer, got ${pieceLength}`, { op: 'create', field: 'pieceLength' });
  }
  if (opts.version === 2 || opts.version === 'hybrid') {
    const torrent = await createV2(name, singleFile, files, opts.version, pieceLength, opts);
    return { torrent, meta: parseTorrent(torrent) };
  }
  const pieceHashes = await hashFiles(files, pieceLength, { signal: opts.signal, onProgress: opts.onProgress });
  const torrent = buildTorrent({
    name,
    files: singleFile ? null : files.map((f) => ({ path: f.path, length: f.length })),
    length: singleFile ? total : undefined,
    pieceLength,
    pieceHashes,
    trackers: normalizeTiers(opts.trackers),
    private: opts.private,
    comment: opts.comment,
    createdBy: opts.createdBy,
    creationDate: opts.creationDate,
    urlList: opts.urlList,
  });
  return { torrent, meta: parseTorrent(torrent) };
}
