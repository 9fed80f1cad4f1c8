/**
 * BEP 19 web seeds (GetRight style): which HTTP byte ranges of which URLs hold a range of the torrent's data.
 * Pure: no I/O.
 *
 * URL of a file: for a single-file torrent the URL itself, or URL + name when it ends in '/'; for a multi-file
 * torrent URL + '/' (when missing) + name + '/' + the file's path, each component percent-encoded (libtorrent
 * does the same). Pad files (BEP 47) are never requested: their bytes are zeros.
 */
import { fileSlices } from '../metainfo/index.js';
import type { TorrentInfo } from '../metainfo/index.js';

export interface RangeRequest {
  /** The file's URL (undefined for a pad file: fill with zeros). */
  url: string | undefined;
  /** First byte within the file. */
  start: number;
  /** Bytes wanted from `start`. */
  length: number;
}

/** The URL of file `fileIndex` under web seed `base`. */
export function webSeedFileUrl(base: string, info: Pick<TorrentInfo, 'files' | 'singleFile'>, fileIndex: number): string {
  const f = info.files[fileIndex]!;
  const enc = (parts: readonly string[]): string => parts.map((c) => encodeURIComponent(c)).join('/');
  if (info.singleFile) return base.endsWith('/') ? base + enc(f.path) : base;
  return (base.endsWith('/') ? base : `${base}/`) + enc(f.path);
}

/** The requests that fetch torrent bytes [offset, offset + length) from web seed `base`, in order. */
export function planRanges(base: string, info: Pick<TorrentInfo, 'files' | 'singleFile'>, offset: number, length: number): RangeRequest[] {
  return fileSlices(info, offset, length).map((s) => ({
    url: info.files[s.fileIndex]!.pad ? undefined : webSeedFileUrl(base, info, s.fileIndex),
    start: s.fileOffset,
    length: s.length,
  }));
}

/** A web seed URL torrentkit can use: http or https. */
export function usableWebSeed(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
