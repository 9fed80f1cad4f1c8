/** torrentkit public API. */
export { ClientEngine, metadataCachePath, resumeDataPath } from './engine/index.js';
export type { Deps, EngineUdp, AddTorrentOptions, EngineEvents, PortForwardingStatus, ReachabilityReport } from './engine/index.js';
export type { StateFiles } from './storage/index.js';
export type { PortMapping, NatMethod, ExternalAddressReport } from './nat/index.js';
export { TorrentManager } from './torrent/index.js';
export type { TorrentState, TorrentStats, TorrentEvents, PeerInfo } from './torrent/index.js';
export { resolveSettings, DEFAULT_SETTINGS } from './engine/index.js';
export type { EngineSettings } from './engine/index.js';
export type { TorrentSettings } from './torrent/index.js';
export { BtError, isBtError } from './core/index.js';
export type { BtErrorCode, BtOp } from './core/index.js';
export { TextLogger, NullLogger } from './core/index.js';
export type { Logger, LogLevel } from './core/index.js';
export { parseTorrent, parseMagnet, formatMagnet, describeTorrent, formatBytes, MAX_TORRENT_BYTES } from './metainfo/index.js';
export type { Metainfo, MagnetLink, TorrentInfo, TorrentFile } from './metainfo/index.js';
export { createTorrentFromPath, verifyTorrent } from './storage/index.js';
export type { VerifyOptions, VerifyResult, FileVerification } from './storage/index.js';
export { TrackerFactory } from './tracker/index.js';
export type { TrackerCreator } from './tracker/index.js';
export type { TrackerStatus, TrackerState } from './tracker/index.js';
export type { AnnounceEvent, AnnounceRequest, AnnounceResponse, ScrapeResponse, Tracker, TrackerPeer } from './tracker/index.js';
export type { FileStatus, PeerSource, RateLimits, TorrentOptions } from './torrent/index.js';
export { encryptionPreset } from './peer/index.js';
export type { EncryptionType, ConnectionEncryption } from './peer/index.js';
export { IpFilter } from './util/index.js';
export type { IpFilterParse } from './util/index.js';
export type { WebSeedStatus } from './torrent/index.js';
export { Session, openSession, DEFAULT_SESSION_SETTINGS, NodeSessionFs } from './session/index.js';
export type {
  SessionApi,
  SessionSettings,
  SessionCounters,
  SessionTorrent,
  SessionAddOptions,
  SessionFs,
  TorrentRecord,
  TorrentPatch,
  FilePriority,
  LimitMode,
  QueueMove,
  AddResult,
  OpenSessionOptions,
} from './session/index.js';
export { MemoryStateFiles, NodeStateFiles } from './storage/index.js';
export { createRpcHandler, RpcCode, RpcError } from './rpc/index.js';
export type { RpcHandler, RpcHandlerOptions, RpcReply } from './rpc/index.js';
export { startRpcServer, hashPassword, verifyPassword, isPasswordHash } from './rpc/index.js';
export type { RpcServer, RpcServerOptions, RpcAuth } from './rpc/index.js';
export { StreamManager, FileReadStream, DEFAULT_STREAM_SETTINGS, createStreamHandler, createStreamServer, contentType, contentDisposition } from './stream/index.js';
export type { StreamSettings, ReadStreamOptions, StreamStats, TorrentSource, StreamHandlerOptions, StreamRoute, StreamServerOptions, StreamServer } from './stream/index.js';
