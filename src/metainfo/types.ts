/** Shared metainfo types (BEP 3 v1 torrents). Produced by parseTorrent(), consumed by storage/torrent/engine. */

export interface TorrentFile {
  /**
   * Path relative to the download directory, as components. For a single-file torrent: [name].
   * For a multi-file torrent: [name, ...path]. Every component has been validated as safe.
   */
  path: string[];
  length: number;
  /** Byte offset of this file's first byte within the torrent's concatenated data. */
  offset: number;
  /** BEP 47 padding file (attr 'p'): all zeros, never created on disk. */
  pad?: boolean;
}

export interface TorrentInfo {
  name: string;
  pieceLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes. */
  pieces: Uint8Array;
  pieceCount: number;
  files: TorrentFile[];
  totalLength: number;
  private: boolean;
  /** True when the info dict used `length` (single file) rather than `files`. */
  singleFile: boolean;
}

export interface DhtNodeAddr {
  host: string;
  port: number;
}

export interface Metainfo {
  /** SHA-1 over the exact original bytes of the `info` dictionary. */
  infoHash: Uint8Array;
  infoHashHex: string;
  /** The exact original bencoded bytes of `info` (for ut_metadata later). */
  infoBytes: Uint8Array;
  info: TorrentInfo;
  announce: string | undefined;
  /** BEP 12 tiers; when absent in the file but `announce` exists, one tier of [announce]. */
  announceList: string[][];
  nodes: DhtNodeAddr[];
  urlList: string[];
  comment: string | undefined;
  createdBy: string | undefined;
  creationDate: number | undefined;
  /** Tracker URLs and web seeds beyond the limits (MAX_TRACKERS, MAX_WEB_SEEDS) that were ignored, if any. */
  ignored?: { trackers: number; webSeeds: number };
}

export interface MagnetLink {
  infoHash: Uint8Array;
  infoHashHex: string;
  displayName: string | undefined;
  trackers: string[];
  /** x.pe peer addresses, "host:port". */
  peers: string[];
  webSeeds: string[];
  /** BEP 53 `so=`: the files (0-based indices) to download; absent when the link does not say. */
  selectOnly?: number[];
}

/** Length in bytes of piece `index` (the last piece may be short). */
export function pieceSize(info: Pick<TorrentInfo, 'pieceLength' | 'totalLength' | 'pieceCount'>, index: number): number {
  if (index === info.pieceCount - 1) {
    const rem = info.totalLength - info.pieceLength * (info.pieceCount - 1);
    return rem;
  }
  return info.pieceLength;
}

/** The 20-byte expected hash of piece `index`. */
export function pieceHash(info: Pick<TorrentInfo, 'pieces'>, index: number): Uint8Array {
  return info.pieces.subarray(index * 20, index * 20 + 20);
}
