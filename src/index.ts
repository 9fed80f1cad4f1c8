/** torrentkit public API. */
export { ClientEngine } from './engine/index.js';
export type { Deps, AddTorrentOptions, EngineEvents } from './engine/index.js';
export { TorrentManager } from './torrent/torrent-manager.js';
export type { TorrentState, TorrentStats, TorrentEvents, PeerInfo } from './torrent/torrent-manager.js';
export { resolveSettings, DEFAULT_SETTINGS } from './torrent/settings.js';
export type { EngineSettings } from './torrent/settings.js';
export { BtError, isBtError } from './core/errors.js';
export type { BtErrorCode, BtOp } from './core/errors.js';
export { TextLogger, NullLogger } from './core/logger.js';
export type { Logger, LogLevel } from './core/logger.js';
export { parseTorrent, parseMagnet, formatMagnet, describeTorrent, formatBytes } from './metainfo/index.js';
export type { Metainfo, MagnetLink, TorrentInfo, TorrentFile } from './metainfo/types.js';
export { createTorrentFromPath } from './storage/create-torrent.js';
export { TrackerFactory } from './tracker/factory.js';
export type { TrackerCreator } from './tracker/factory.js';
export type { TrackerStatus, TrackerState } from './tracker/tracker-manager.js';
export type { AnnounceEvent, AnnounceRequest, AnnounceResponse, ScrapeResponse, Tracker, TrackerPeer } from './tracker/types.js';
export type { PeerSource, TorrentOptions } from './torrent/torrent-manager.js';
