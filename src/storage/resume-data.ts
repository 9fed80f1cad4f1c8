/**
 * Resume data: the verified bitfield plus each file's size and mtime (ns) at save time, as a small JSON file,
 * so a restart re-hashes only the pieces touching files that changed since. Full checking stays the baseline:
 * anything unreadable, from another torrent, or inconsistent makes loadResume() return undefined.
 *
 * "Racy" files (git's term): file systems keep coarse timestamps, so a file modified within the same tick
 * as the save could change again without its mtime moving. A file whose mtime is within RACY_MS of the
 * moment of saving (measured by the file system itself, via the mtime of the resume file just written) is
 * never trusted: its pieces are always re-checked. A save made while the torrent writes (periodic, on completion)
 * keeps that guard; a *clean* save, made after the storage was flushed and closed (stop), does not: no write of
 * ours can follow it, so every mtime it records is final and its pieces are trusted at the next start.
 *
 * Written crash-safe through NodeStateFiles (temporary file with a unique name, fsync, rename, fsync of the
 * directory): a crash at any moment leaves the previous data or the new data, never a torn file, and two saves
 * never share a temporary file.
 *
 *   const r = await loadResume(file, info, dir);
 *   const have = r ? r.have : new Bitfield(info.pieceCount);
 *   const found = await checkPieces(info, storage, hasher, r ? { pieces: r.recheck } : {});
 *   // have |= found
 */
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BtError } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import { Bitfield, toHex } from '../util/index.js';
import { PieceLayout } from './layout.js';
import { NodeStateFiles } from './node-state-files.js';
import type { StateFiles } from './state-files.js';

const VERSION = 1;
const RACY_MS = 3000n;

interface ResumeFileEntry {
  /** -1 when the file did not exist. */
  size: number;
  /** mtime in nanoseconds, as a decimal string; '' when missing. */
  mtimeNs: string;
  /** Modified too close to the save to be trusted. */
  racy: boolean;
}

interface ResumeJson {
  version: number;
  /** SHA-1 (hex) of info.pieces: identifies the torrent's content. */
  fingerprint: string;
  pieceLength: number;
  totalLength: number;
  pieceCount: number;
  /** Verified pieces, BitTorrent bit order, base64. */
  have: string;
  files: ResumeFileEntry[];
  /** Saved after a clean stop (informational: the racy flags already say what to trust). */
  clean?: boolean;
}

export interface ResumeResult {
  /** Pieces verified at save time whose files are all unchanged: trust these without hashing. */
  have: Bitfield;
  /** Pieces touching a changed (or racy) file: check these. Every other piece is known not to be present. */
  recheck: number[];
}

function fingerprint(info: TorrentInfo): string {
  return toHex(createHash('sha1').update(info.pieces).digest());
}

async function fileState(p: string): Promise<{ size: number; mtimeNs: bigint } | undefined> {
  try {
    const st = await stat(p, { bigint: true });
    return st.isFile() ? { size: Number(st.size), mtimeNs: st.mtimeNs } : undefined;
  } catch {
    return undefined;
  }
}

export interface SaveResumeOptions {
  /**
   * The storage was flushed and closed before this save (a clean stop): no write of ours can follow, so no file
   * is racy. Default false (the torrent may still be writing).
   */
  clean?: boolean;
  /** Where the bytes go (tests make a step fail); default crash-safe files on disk. */
  files?: StateFiles;
}

/** The file system's "now": the mtime of a new file beside `resumePath` (written after every stat of the save). */
async function fsNow(resumePath: string): Promise<bigint> {
  const probe = `${resumePath}.${randomBytes(4).toString('hex')}.now`;
  const fh = await open(probe, 'wx', 0o644);
  try {
    return (await fh.stat({ bigint: true })).mtimeNs;
  } finally {
    await fh.close();
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * Record `have` (pieces verified on disk) with the current size and mtime of every file (creates the file's
 * directory). Crash-safe: the previous data stays until the new data is durable.
 */
export async function saveResume(resumePath: string, info: TorrentInfo, downloadDir: string, have: Bitfield, opts: SaveResumeOptions = {}): Promise<void> {
  if (have.length !== info.pieceCount) throw new BtError('ERR_STORAGE', 'resume bitfield length does not match the torrent', { op: 'write' });
  const files = opts.files ?? new NodeStateFiles();
  try {
    const states = await Promise.all(info.files.map((f) => fileState(path.join(path.resolve(downloadDir), ...f.path))));
    let now = 0n;
    if (!opts.clean) {
      await mkdir(path.dirname(resumePath), { recursive: true });
      now = await fsNow(resumePath);
    }
    const doc: ResumeJson = {
      version: VERSION,
      fingerprint: fingerprint(info),
      pieceLength: info.pieceLength,
      totalLength: info.totalLength,
      pieceCount: info.pieceCount,
      have: Buffer.from(have.bytes).toString('base64'),
      files: states.map((s) =>
        s ? { size: s.size, mtimeNs: s.mtimeNs.toString(), racy: !opts.clean && s.mtimeNs + RACY_MS * 1_000_000n > now } : { size: -1, mtimeNs: '', racy: false },
      ),
      clean: opts.clean === true,
    };
    await files.writeAtomic(resumePath, new TextEncoder().encode(JSON.stringify(doc)));
  } catch (e) {
    throw new BtError('ERR_STORAGE', `cannot save resume data to ${resumePath}: ${(e as Error).message}`, { op: 'write', cause: e });
  }
}

export interface LoadResumeOptions {
  /** Where the resume bytes are read from; default the file on disk (the fuzz harness reads from memory). */
  files?: StateFiles;
}

/**
 * Read resume data and compare it with the files on disk. Undefined when there is none, it is unreadable or
 * it belongs to another torrent (then check everything).
 */
export async function loadResume(resumePath: string, info: TorrentInfo, downloadDir: string, opts: LoadResumeOptions = {}): Promise<ResumeResult | undefined> {
  let doc: ResumeJson;
  try {
    const bytes = await (opts.files ?? new NodeStateFiles()).read(resumePath);
    if (bytes === undefined) return undefined;
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as ResumeJson;
  } catch {
    return undefined;
  }
  if (!valid(doc, info)) return undefined;
  const saved = new Bitfield(info.pieceCount, new Uint8Array(Buffer.from(doc.have, 'base64')));
  const states = await Promise.all(info.files.map((f) => fileState(path.join(path.resolve(downloadDir), ...f.path))));
  const changed = info.files.map((f, i) => {
    const r = doc.files[i]!;
    const s = states[i];
    if (!s) return r.size !== -1; // missing now: unchanged only if it was missing then
    return r.racy || r.size !== s.size || r.mtimeNs !== s.mtimeNs.toString();
  });
  const layout = new PieceLayout(info);
  const have = new Bitfield(info.pieceCount);
  const recheck: number[] = [];
  for (let p = 0; p < info.pieceCount; p++) {
    const files = layout.filesForPiece(p);
    if (files.some((i) => changed[i])) recheck.push(p);
    else if (saved.get(p)) have.set(p);
  }
  return { have, recheck };
}

function valid(doc: ResumeJson, info: TorrentInfo): boolean {
  if (typeof doc !== 'object' || doc === null) return false;
  if (doc.version !== VERSION || doc.fingerprint !== fingerprint(info)) return false;
  if (doc.pieceLength !== info.pieceLength || doc.totalLength !== info.totalLength || doc.pieceCount !== info.pieceCount) return false;
  if (typeof doc.have !== 'string' || !Array.isArray(doc.files) || doc.files.length !== info.files.length) return false;
  const raw = Buffer.from(doc.have, 'base64');
  if (!Bitfield.spareBitsClear(info.pieceCount, new Uint8Array(raw))) return false;
  return doc.files.every(
    (f) =>
      typeof f === 'object' &&
      f !== null &&
      Number.isInteger(f.size) &&
      f.size >= -1 &&
      typeof f.mtimeNs === 'string' &&
      /^\d*$/.test(f.mtimeNs) &&
      typeof f.racy === 'boolean',
  );
}

/**
 * Where fast-resume data comes from and goes to, for one torrent: the engine builds it (the file under
 * `<downloadDir>/.torrentkit/`, only for the default file storage) and the torrent layer sees only this.
 */
export interface ResumeStore {
  /** Resume data compared with the files now, or undefined (none, unreadable, another torrent's). */
  load(info: TorrentInfo): Promise<ResumeResult | undefined>;
  /**
   * Record `have` with the files' current sizes and mtimes, crash-safe. `clean`: the storage was flushed and
   * closed first (a stop), so no file is racy.
   */
  save(info: TorrentInfo, have: Bitfield, opts?: { clean?: boolean }): Promise<void>;
}

/** The file-backed ResumeStore of a torrent whose files are under `downloadDir`. */
export function fileResumeStore(resumePath: string, downloadDir: string): ResumeStore {
  return {
    load: (info) => loadResume(resumePath, info, downloadDir),
    save: (info, have, opts) => saveResume(resumePath, info, downloadDir, have, { clean: opts?.clean === true }),
  };
}
