/**
 * The torrent layer's public types: states, events, views, options, and the environment (TorrentEnv) the engine
 * gives each torrent. No behaviour here.
 */
import type { Clock } from '../core/index.js';
import type { BtError } from '../core/index.js';
import type { Logger } from '../core/index.js';
import type { Random } from '../core/index.js';
import type { Metainfo } from '../metainfo/index.js';
import type { ConnectionEncryption } from '../peer/index.js';
import type { Hasher, PieceStorage, ResumeStore } from '../storage/index.js';
import type { Tracker } from '../tracker/index.js';
import type { TrackerStatus } from '../tracker/index.js';
import type { TokenBucket } from '../util/index.js';
import type { RangeFetch } from '../webseed/index.js';
import type { TorrentSettings } from './settings.js';
import type { CheckSlots } from './check-slots.js';
import type { TickScheduler } from './tick-scheduler.js';
export type { TorrentSettings };
import type { TorrentManager } from './torrent-manager.js';

/** 'queued': checked, waiting for a download or seed slot (EngineSettings.maxActiveDownloads / maxActiveSeeds). */
export type TorrentState = 'stopped' | 'metadata' | 'checking' | 'queued' | 'downloading' | 'seeding' | 'paused' | 'error';

/** Where a peer's address came from. */
export type PeerSource = 'manual' | 'tracker' | 'dht' | 'pex' | 'lsd' | 'incoming';

export interface PeerInfo {
  address: string;
  source: PeerSource;
  /** 'rc4': MSE with RC4 throughout; 'header': MSE handshake then plaintext; 'none': plaintext. */
  encryption: ConnectionEncryption;
  client: string | undefined;
  outgoing: boolean;
  transport: string;
  progress: number;
  downloadRate: number;
  uploadRate: number;
  amChoking: boolean;
  amInterested: boolean;
  peerChoking: boolean;
  peerInterested: boolean;
}

export interface TorrentStats {
  state: TorrentState;
  /** Share of the wanted bytes verified (all bytes unless files are skipped), 0..1. */
  progress: number;
  piecesHave: number;
  pieceCount: number;
  /** Payload bytes received from peers (verified or not) since start. */
  downloaded: number;
  uploaded: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  seeds: number;
  /** Seconds to completion at the current rate, or undefined when unknown. */
  eta: number | undefined;
  left: number;
}

export interface TorrentEvents {
  [k: string]: unknown[];
  state: [state: TorrentState, previous: TorrentState];
  checked: [have: number, total: number];
  'piece-verified': [index: number];
  'hash-failed': [index: number, peers: string[]];
  'peer-connected': [address: string];
  'peer-disconnected': [address: string, reason: string];
  'peer-banned': [address: string, reason: string];
  complete: [];
  /** A seeding limit (seedRatioLimit / seedTimeLimitMs) was reached; the torrent stops right after. */
  'seed-limit': [reason: string];
  /** A magnet link's metadata was fetched from peers (and verified against the info-hash). */
  metadata: [meta: Metainfo];
  /** A tracker answered, failed or was told `stopped` (its status after the change). */
  tracker: [status: TrackerStatus];
  warning: [message: string];
  error: [error: BtError];
}


/** What the engine provides to each torrent. */
export interface TorrentEnv {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly settings: TorrentSettings;
  readonly peerId: Uint8Array;
  readonly reserved: Uint8Array;
  readonly hasher: Hasher;
  listenPort(): number;
  createStorage(meta: Metainfo, downloadDir: string): PieceStorage;
  /** Ask the connection manager to dial candidates now. */
  wantPeers(torrent: TorrentManager): void;
  /** Builds a Tracker for an announce URL (the engine's TrackerFactory); throws for unsupported schemes. */
  createTracker(url: string): Tracker;
  /** The announce `key`, constant for the engine's life. */
  readonly trackerKey: number;
  /** Is host:port this engine itself (trackers list the announcing peer too)? */
  isSelf(host: string, port: number): boolean;
  /** A tracker told us our address as it sees it. */
  externalAddress?(address: string, from: string): void;
  /** The engine's IP blocklist: candidates from any source at a blocked address are dropped. */
  ipBlocked?(address: string): boolean;
  /** Queueing: may this torrent become active now as a download / a seed? Absent: always. */
  mayActivate?(torrent: TorrentManager, kind: 'download' | 'seed'): boolean;
  /** HTTP range GET for web seeds (BEP 19); none: web seeds are not used. */
  readonly fetchRange?: RangeFetch;
  /** Metadata fetched for a magnet link: cache it so a restart doesn't fetch it again. */
  saveMetadata?(torrent: TorrentManager, meta: Metainfo): void;
  /** The engine's global rate limits (shared by every torrent). */
  readonly rateLimits?: { download: TokenBucket; upload: TokenBucket };
  /** The engine's DHT (BEP 5), when it runs. */
  dht?(): TorrentDht | undefined;
  /**
   * This torrent's fast-resume data (verified pieces plus file sizes and mtimes), or undefined when it is not kept
   * (setting off, or storage that is not the files under downloadDir).
   */
  resume?(torrent: TorrentManager): ResumeStore | undefined;
  /**
   * The engine-wide ticker: a torrent is in it only while it has periodic work. Absent: each torrent runs its own
   * once-a-second timer while checked.
   */
  readonly ticks?: TickScheduler;
  /** The engine's limit on torrents checking their data at once. Absent: no limit. */
  readonly checkSlots?: CheckSlots;
  /** The torrent's connected peers went up or down by `delta` (the engine's connection count). */
  peersChanged?(delta: number): void;
}

/** What a torrent needs of the engine's DHT node. */
export interface TorrentDht {
  getPeers(infoHash: Uint8Array, opts: { signal?: AbortSignal }): AsyncIterable<{ host: string; port: number }>;
  announce(infoHash: Uint8Array, port: number, opts: { signal?: AbortSignal }): Promise<unknown>;
  /** Ping a node (a torrent's `nodes`, a peer's PORT message); host names are resolved. */
  addNode(host: string, port: number): void;
  /** Our DHT UDP port (the PORT message). */
  readonly port: number;
}

export interface TorrentOptions {
  /** Extra tracker tiers, tried after the torrent's own. */
  trackers?: readonly (readonly string[])[];
  /** This torrent's own download limit, bytes per second of piece data (0 or absent: none; the engine's applies too). */
  maxDownloadRate?: number;
  /** This torrent's own upload limit, bytes per second of piece data (0 or absent: none; the engine's applies too). */
  maxUploadRate?: number;
  /**
   * Priority of each file (index as in the torrent): 0 = skip, 1 (low) .. 7 (top), 4 = normal. Missing entries
   * are 4. Only wanted files are downloaded (plus the bytes of skipped files that share a piece with a wanted one).
   */
  filePriorities?: readonly number[];
  /** Download pieces in order (streaming) instead of rarest-first; see TorrentManager.sequential. */
  sequential?: boolean;
  /**
   * BEP 53 (a magnet's `so=`): download only these files (0-based), skip the others; applied when the file list is
   * known. Ignored when filePriorities is given.
   */
  selectOnly?: readonly number[];
  /** Stop once this much has been uploaded, as a multiple of the torrent's size, while seeding (0/absent: no limit). */
  seedRatioLimit?: number;
  /** Stop after seeding this long (ms) (0/absent: no limit). */
  seedTimeLimitMs?: number;
  /** This torrent's own connection limit (absent: settings.maxConnectionsPerTorrent); see TorrentManager.peerLimit. */
  peerLimit?: number;
}

/** The former name of TorrentEnv. */
export type TorrentHost = TorrentEnv;

/** A file of the torrent with its download priority. */
export interface FileStatus {
  index: number;
  /** Path components under the torrent's directory. */
  path: readonly string[];
  length: number;
  /** 0 = skip, 1 (low) .. 7 (top); 4 = normal. */
  priority: number;
  /** Bytes of this file in verified pieces. */
  have: number;
}

/** A web seed (BEP 19) as the API shows it. */
export interface WebSeedStatus {
  url: string;
  /** active: fetching or ready; waiting: backing off after a failure (retry at `retryAt`); disabled: given up. */
  state: 'active' | 'waiting' | 'disabled';
  /** Piece bytes received from it. */
  downloaded: number;
  /** The last failure, if any. */
  error?: string;
  retryAt?: number;
}



/** Rate limits: bytes per second of piece data, 0 = unlimited. */
export interface RateLimits {
  download: number;
  upload: number;
}

