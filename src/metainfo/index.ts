/** Metainfo (BEP 3, 9, 12, 19, 27): .torrent parsing and building, magnet links, info-hash, piece/file layout. */
export type { Metainfo, MagnetLink, TorrentInfo, TorrentFile, DhtNodeAddr } from './types.js';
export { pieceSize, pieceHash } from './types.js';
export { parseTorrent, MAX_PIECE_LENGTH, MAX_TORRENT_BYTES, MAX_TORRENT_VALUES, MAX_PATH_BYTES, MAX_TRACKERS, MAX_WEB_SEEDS } from './parse-torrent.js';
export { parseMagnet, formatMagnet } from './magnet.js';
export { buildTorrent, autoPieceLength, buildTorrentV2, sortV2Files, hybridV1Files } from './build-torrent.js';
export type { BuildTorrentOptions, BuildTorrentV2Options, BuildV2File } from './build-torrent.js';
export { sha1, infoHashOf, parseInfoHash, infoHashToHex, base32Encode, base32Decode } from './info-hash.js';
export { isSafePathComponent, assertSafePathComponent, unsafeComponentReason } from './safe-path.js';
export { fileIndexAt, fileSlices, pieceFileSlices, filePieceRange } from './layout.js';
export type { FileSlice } from './layout.js';
export { describeTorrent, formatBytes } from './describe.js';
export { metainfoFromInfoBytes } from './parse-torrent.js';
export type { MetainfoFromInfoOptions } from './parse-torrent.js';
export {
  MetadataAssembler,
  METADATA_PIECE_SIZE,
  DEFAULT_MAX_METADATA_SIZE,
  checkMetadataSize,
  metadataPieceCount,
  metadataPieceLength,
} from './metadata-assembler.js';
export type { MetadataAssemblerOptions, MetadataDataResult, ExpiredRequest } from './metadata-assembler.js';
export type { MetaVersion } from './types.js';
export {
  MERKLE_BLOCK_SIZE,
  HASH_SIZE,
  sha256,
  hashPair,
  padHash,
  merkleRoot,
  leafHashes,
  pieceHashV2,
  fileMerkle,
  rootFromPieceLayer,
  pieceLayerProblem,
  verifyPieceV2,
  filePieceCount,
  nextPow2,
  isPow2,
} from './merkle.js';
export { MAX_V2_PIECES } from './parse-v2.js';
