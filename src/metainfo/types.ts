/**
 * Shared metainfo types (BEP 3 v1, BEP 52 v2 and hybrid torrents). Produced by parseTorrent(), consumed by
 * storage/torrent/engine.
 */

/** 1: BEP 3 only; 2: BEP 52 only (no `pieces`); 'hybrid': both, describing the same data. */
export type MetaVersion = 1 | 2 | 'hybrid';

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
  /**
   * BEP 52 (v2 and hybrid torrents): the file's merkle root (SHA-256, 32 bytes); absent for empty files and pad
   * files. In a v2 torrent every file starts on a piece boundary (pad entries fill the gaps).
   */
  piecesRoot?: Uint8Array;
}

export interface TorrentInfo {
  name: string;
  pieceLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes (empty for a v2-only torrent: its pieces are checked by merkle trees). */
  pieces: Uint8Array;
  pieceCount: number;
  files: TorrentFile[];
  totalLength: number;
  private: boolean;
  /** True when the info dict used `length` (single file) rather than `files` (v2: one file at the tree's root). */
  singleFile: boolean;
  /** Which protocol versions the info dictionary describes (absent: 1). */
  version?: MetaVersion;
}

export interface DhtNodeAddr {
  host: string;
  port: number;
}

export interface Metainfo {
  /**
   * The 20-byte info-hash that names the torrent in handshakes, trackers and the DHT: SHA-1 over the exact
   * original bytes of the `info` dictionary (v1 and hybrid), or the v2 info-hash truncated to 20 bytes (v2 only).
   */
  infoHash: Uint8Array;
  infoHashHex: string;
  /** 1, 2 or 'hybrid' (info.version, repeated here for convenience). */
  version: MetaVersion;
  /** BEP 52 (v2 and hybrid): SHA-256 over the exact original bytes of `info` (32 bytes). */
  infoHashV2?: Uint8Array;
  infoHashV2Hex?: string;
  /**
   * BEP 52 `piece layers` (v2 and hybrid), verified against the files' roots: the piece layer (concatenated
   * 32-byte hashes) by the hex of its pieces root. Files of at most one piece have none (their root is their
   * piece hash); a layer missing here comes from peers (hash request, message 21).
   */
  pieceLayers?: Map<string, Uint8Array>;
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
  /** The 20-byte swarm id: the btih, or (for a btmh-only link) the v2 info-hash truncated to 20 bytes. */
  infoHash: Uint8Array;
  infoHashHex: string;
  /** BEP 52 `xt=urn:btmh:1220…`: the 32-byte v2 info-hash. */
  infoHashV2?: Uint8Array;
  infoHashV2Hex?: string;
  /** True when the link has a btmh and no btih (the torrent is v2 only, or its v1 hash is unknown). */
  v2Only?: boolean;
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
