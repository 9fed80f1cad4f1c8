/**
 * The session layer's contract (issue 15): a persistent multi-torrent session over one ClientEngine. The RPC layer
 * (src/rpc) drives a Session through exactly these types; src/session implements them. Everything a restart must
 * restore lives in a TorrentRecord or in SessionSettings; runtime facts come from the TorrentManager.
 *
 * Conventions: times are unix seconds (as Transmission's RPC shows them); rates are bytes per second; ids are
 * positive integers, unique for the session's whole life (persisted, never reused).
 */
import type { ClientEngine } from '../engine/index.js';
import type { TorrentManager } from '../torrent/index.js';

/** Transmission's file priority: -1 low, 0 normal, 1 high. */
export type FilePriority = -1 | 0 | 1;

/** Transmission's seed ratio / idle modes: 0 use the session's, 1 this torrent's own limit, 2 unlimited. */
export type LimitMode = 0 | 1 | 2;

/** What a torrent keeps across restarts (besides its metainfo and fast-resume data). */
export interface TorrentRecord {
  id: number;
  /** v1 info-hash, lowercase hex. */
  infoHashHex: string;
  /** Until metadata arrives: the magnet link it was added from. */
  magnet?: string;
  downloadDir: string;
  /** The user's wish: false = stopped/paused by the user (Transmission status 0). */
  started: boolean;
  addedDate: number;
  /** 0 until complete. */
  doneDate: number;
  /** Last time data moved (0 = never). */
  activityDate: number;
  labels: string[];
  /** 0-based position in the session's queue. */
  queuePosition: number;
  /** Per file: wanted and priority (empty until metadata). */
  wanted: boolean[];
  priorities: FilePriority[];
  /** -1 low, 0 normal, 1 high. */
  bandwidthPriority: FilePriority;
  peerLimit: number;
  downloadLimit: number; // KB/s (Transmission's unit: 1000 bytes)
  downloadLimited: boolean;
  uploadLimit: number; // KB/s
  uploadLimited: boolean;
  honorsSessionLimits: boolean;
  seedRatioLimit: number;
  seedRatioMode: LimitMode;
  seedIdleLimit: number; // minutes
  seedIdleMode: LimitMode;
  sequential: boolean;
  /** Tracker tiers added over RPC (the torrent's own are in its metainfo); removed announce URLs. */
  addedTrackers: string[][];
  removedTrackers: string[];
  /** Cumulative over every run. */
  uploadedEver: number;
  downloadedEver: number;
  corruptEver: number;
  secondsDownloading: number;
  secondsSeeding: number;
  /** rename-path of the top-level name, if any. */
  name?: string;
  /** Every rename-path, in order: [path as it was, new last component] (replayed on the metainfo's file paths). */
  renames?: [string, string][];
}

/** Session-wide settings that session-set changes and that persist (Transmission's names, in camelCase). */
export interface SessionSettings {
  downloadDir: string;
  /** KB/s; the *Enabled flags turn the limit on. */
  speedLimitDown: number;
  speedLimitDownEnabled: boolean;
  speedLimitUp: number;
  speedLimitUpEnabled: boolean;
  altSpeedDown: number;
  altSpeedUp: number;
  altSpeedEnabled: boolean;
  seedRatioLimit: number;
  seedRatioLimited: boolean;
  idleSeedingLimit: number;
  idleSeedingLimitEnabled: boolean;
  downloadQueueSize: number;
  downloadQueueEnabled: boolean;
  seedQueueSize: number;
  seedQueueEnabled: boolean;
  peerLimitGlobal: number;
  peerLimitPerTorrent: number;
  peerPort: number;
  dhtEnabled: boolean;
  lpdEnabled: boolean;
  pexEnabled: boolean;
  utpEnabled: boolean;
  portForwardingEnabled: boolean;
  /** 'required' | 'preferred' | 'tolerated' (Transmission's words). */
  encryption: 'required' | 'preferred' | 'tolerated';
  startAddedTorrents: boolean;
  renamePartialFiles: boolean;
  blocklistEnabled: boolean;
  blocklistUrl: string;
  /** Everything else session-set accepted that we only store and echo back. */
  extra: Record<string, unknown>;
}

/** Cumulative and current-run counters (session-stats). */
export interface SessionCounters {
  uploadedBytes: number;
  downloadedBytes: number;
  filesAdded: number;
  secondsActive: number;
  sessionCount: number;
}

export interface SessionAddOptions {
  downloadDir?: string;
  paused?: boolean;
  labels?: string[];
  peerLimit?: number;
  bandwidthPriority?: FilePriority;
  filesWanted?: number[];
  filesUnwanted?: number[];
  priorityHigh?: number[];
  priorityLow?: number[];
  priorityNormal?: number[];
}

/** torrent-set: every key optional; file lists are indexes. */
export interface TorrentPatch {
  bandwidthPriority?: FilePriority;
  downloadLimit?: number;
  downloadLimited?: boolean;
  uploadLimit?: number;
  uploadLimited?: boolean;
  honorsSessionLimits?: boolean;
  filesWanted?: number[];
  filesUnwanted?: number[];
  priorityHigh?: number[];
  priorityLow?: number[];
  priorityNormal?: number[];
  labels?: string[];
  peerLimit?: number;
  queuePosition?: number;
  seedRatioLimit?: number;
  seedRatioMode?: LimitMode;
  seedIdleLimit?: number;
  seedIdleMode?: LimitMode;
  sequential?: boolean;
  trackerAdd?: string[];
  /** Tracker ids as torrent-get's trackers[].id shows them. */
  trackerRemove?: number[];
  /** Replace the added tiers: one announce URL per line, blank line between tiers (Transmission 4 trackerList). */
  trackerList?: string;
  location?: string;
}

/** One torrent of the session: its record plus the live engine torrent. */
export interface SessionTorrent {
  readonly id: number;
  readonly record: Readonly<TorrentRecord>;
  readonly torrent: TorrentManager;
  /** Name as shown (record.name after a rename, else the metainfo's or magnet's). */
  readonly name: string;
  /** Seconds since the unix epoch when it was last started in this run (0 if not). */
  readonly startDate: number;
  /** Why it is stopped, if an error stopped it (Transmission error 3 = local error). */
  readonly errorString: string;
}

export type QueueMove = 'top' | 'up' | 'down' | 'bottom';

export interface AddResult {
  torrent: SessionTorrent;
  duplicate: boolean;
}

/** The Session as the RPC layer sees it. */
export interface SessionApi {
  readonly engine: ClientEngine;
  readonly settings: Readonly<SessionSettings>;
  /** Every torrent, in id order. Cheap: no copying per call beyond the array. */
  list(): readonly SessionTorrent[];
  get(idOrHash: number | string): SessionTorrent | undefined;
  /** .torrent bytes or a magnet URI. A duplicate answers the existing torrent with duplicate: true. */
  add(source: Uint8Array | string, opts?: SessionAddOptions): Promise<AddResult>;
  remove(t: SessionTorrent, opts?: { deleteData?: boolean }): Promise<void>;
  start(t: SessionTorrent, opts?: { now?: boolean }): Promise<void>;
  stop(t: SessionTorrent): Promise<void>;
  verify(t: SessionTorrent): Promise<void>;
  reannounce(t: SessionTorrent): void;
  set(t: SessionTorrent, patch: TorrentPatch): Promise<void>;
  setLocation(t: SessionTorrent, dir: string, move: boolean): Promise<void>;
  /** Rename a file or folder of the torrent; `path` must be an existing path of it, `name` a single component. */
  renamePath(t: SessionTorrent, path: string, name: string): Promise<{ path: string; name: string }>;
  queueMove(ts: readonly SessionTorrent[], how: QueueMove): void;
  updateSettings(patch: Partial<SessionSettings>): Promise<void>;
  /** Current run and all-time counters. */
  counters(): { current: SessionCounters; cumulative: SessionCounters };
  /** Ids removed at or after `since` (unix seconds), for torrent-get's `recently-active`. */
  removedSince(since: number): number[];
  /** Torrents whose activity changed at or after `since` (unix seconds). */
  activeSince(since: number): SessionTorrent[];
  /** Persist everything now (crash-safe). */
  save(): Promise<void>;
  /** Save, stop every torrent (trackers told `stopped`), dispose the engine. */
  close(): Promise<void>;
}

/** openSession's options (src/session/session.ts implements it). */
export interface OpenSessionOptions {
  /** Where settings.json, the session state and the torrents' metainfo live. Created if missing. */
  configDir: string;
  /** Defaults for settings not yet in settings.json (e.g. downloadDir from --download-dir). */
  defaults?: Partial<SessionSettings>;
  /**
   * Engine settings from the command line (--port, --no-dht, --encryption, ...): they override settings.json for
   * this run (and are not written back unless session-set changes them).
   */
  engineSettings?: Partial<import('../engine/index.js').EngineSettings>;
  /** Injected clock, files, sockets (tests); the real ones by default. */
  deps?: Partial<import('../engine/index.js').Deps>;
  onWarning?: (message: string) => void;
  /** File operations on torrent data (remove, move, rename); node:fs by default. */
  fs?: import('./fs.js').SessionFs;
  /** Concurrent starts (checks) while restoring torrents on open (default 8). */
  restoreConcurrency?: number;
}
