/**
 * The torrent layer's entry for other folders: TorrentManager, its public types, engine settings.
 * TODO(issue 13): the torrent split (design review §3.1) owns this file; it was added only so that src/index.ts
 * can import torrent/ through its index.
 */
export { TorrentManager, UT_METADATA_ID, UT_PEX_ID } from './torrent-manager.js';
export type {
  TorrentState,
  PeerSource,
  PeerInfo,
  TorrentStats,
  TorrentEvents,
  TorrentHost,
  TorrentDht,
  TorrentOptions,
  FileStatus,
  WebSeedStatus,
  RateLimits,
} from './torrent-manager.js';
export type { TorrentSettings } from './settings.js';
export { TickScheduler } from './tick-scheduler.js';
export type { Tickable } from './tick-scheduler.js';
export { CheckSlots } from './check-slots.js';
