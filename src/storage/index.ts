/** Storage: piece <-> file layout, file and memory PieceStorage, SHA-1 hashing, piece checking, resume data. */
export type { PieceStorage, Hasher } from './types.js';
export { PieceLayout, pieceSpans, filesForPiece } from './layout.js';
export type { FileSpan, LayoutInfo } from './layout.js';
export { FsStorage } from './fs-storage.js';
export type { FsStorageOptions } from './fs-storage.js';
export { MemoryStorage } from './memory-storage.js';
export type { MemoryStorageOptions } from './memory-storage.js';
export { WorkerHasher, InlineHasher } from './hasher.js';
export type { WorkerHasherOptions } from './hasher.js';
export { checkPieces } from './check.js';
export type { CheckOptions } from './check.js';
export { createTorrentFromPath } from './create-torrent.js';
export type { CreateTorrentOptions } from './create-torrent.js';
export { saveResume, loadResume } from './resume-data.js';
export type { ResumeResult } from './resume-data.js';
export { verifyTorrent } from './verify.js';
export type { VerifyOptions, VerifyResult, FileVerification } from './verify.js';
