/**
 * What the engine gives each torrent (its TorrentHost), and what the engine does when a torrent changes state.
 * Built from the engine's parts; the engine keeps no per-torrent closures of its own.
 */
import * as path from 'node:path';
import type { Metainfo } from '../metainfo/index.js';
import type { Hasher } from '../storage/index.js';
import { fileResumeStore } from '../storage/index.js';
import type { CheckSlots, TickScheduler, TorrentDht, TorrentHost, TorrentManager, TorrentState } from '../torrent/index.js';
import type { TrackerFactory } from '../tracker/index.js';
import type { TokenBucket } from '../util/index.js';
import type { RangeFetch } from '../webseed/index.js';
import type { Deps } from './deps.js';
import { saveCachedMetadata } from './metadata-cache.js';
import type { QueueKind } from './queue.js';
import type { Reachability } from './reachability.js';
import type { EngineSettings } from './settings.js';

/** Where a torrent's fast-resume data is kept: `<downloadDir>/.torrentkit/<info-hash>.resume`. */
export function resumeDataPath(downloadDir: string, infoHashHex: string): string {
  return path.join(downloadDir, '.torrentkit', `${infoHashHex}.resume`);
}

/** The engine parts a torrent's host is made of. */
export interface EngineParts {
  readonly deps: Deps;
  readonly settings: EngineSettings;
  readonly peerId: Uint8Array;
  readonly reserved: Uint8Array;
  /** Storage comes from deps.createStorage (not the files under downloadDir): no resume data. */
  readonly customStorage: boolean;
  readonly trackerFactory: TrackerFactory;
  readonly trackerKey: number;
  readonly rateBuckets: { download: TokenBucket; upload: TokenBucket };
  readonly reachability: Reachability;
  hasher(): Hasher;
  listenPort(): number;
  ipBlocked(address: string): boolean;
  mayActivate(t: TorrentManager, kind: QueueKind): boolean;
  rangeFetch(): RangeFetch;
  /** `t` wants peers: dial its candidates soon. */
  wantPeers(t: TorrentManager): void;
  /** The engine-wide ticker of the torrents' periodic work. */
  readonly ticks: TickScheduler;
  /** Connected peers of some torrent went up or down. */
  peersChanged(delta: number): void;
  /** Torrents checking their data at once. */
  readonly checkSlots: CheckSlots;
  /** A tracker told us our address: the DHT follows it. */
  externalAddress(address: string): void;
  dht(): TorrentDht | undefined;
  warn(msg: string): void;
}

/** The TorrentHost every torrent of the engine gets. */
export function createTorrentEnv(e: EngineParts): TorrentHost {
  const { deps, settings } = e;
  return {
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger,
    settings,
    peerId: e.peerId,
    reserved: e.reserved,
    get hasher() {
      return e.hasher();
    },
    listenPort: () => e.listenPort(),
    createStorage: deps.createStorage,
    rateLimits: e.rateBuckets,
    ipBlocked: (a) => e.ipBlocked(a),
    mayActivate: (t, kind) => e.mayActivate(t, kind),
    fetchRange: (url, start, length, o) => e.rangeFetch()(url, start, length, o),
    // Resume data describes the files under downloadDir: only for the default file storage.
    resume: (t) => (settings.fastResume && !e.customStorage ? fileResumeStore(resumeDataPath(t.downloadDir, t.infoHashHex), t.downloadDir) : undefined),
    wantPeers: (t) => e.wantPeers(t),
    ticks: e.ticks,
    checkSlots: e.checkSlots,
    peersChanged: (d) => e.peersChanged(d),
    createTracker: (url) => e.trackerFactory.create(url),
    trackerKey: e.trackerKey,
    isSelf: (h, p) => e.reachability.isSelf(h, p),
    externalAddress: (a, from) => {
      e.reachability.trackerSaw(a, from, (addr) => e.externalAddress(addr));
    },
    dht: () => e.dht(),
    saveMetadata: (tm, meta: Metainfo) => {
      saveCachedMetadata(deps.stateFiles, tm.downloadDir, meta).catch((err: unknown) =>
        e.warn(`cannot cache the metadata of ${meta.infoHashHex}: ${(err as Error).message}`),
      );
    },
  };
}

/** What the engine does on a torrent's state changes. */
export interface StateReactions {
  /** The torrent is in state `s` now (told before the reactions below: the queue book counts it). */
  moved(t: TorrentManager, s: TorrentState): void;
  /** The engine's listeners (a torrent that starts checking or fetching metadata needs them). */
  start(): Promise<void>;
  /** Local peer discovery: announce the torrent, or stop announcing it. */
  lsdAdd(t: TorrentManager): void;
  lsdRemove(t: TorrentManager): void;
  /** A queue slot may have freed up. */
  promoteQueued(): void;
  warn(msg: string): void;
}

export function watchTorrentState(t: TorrentManager, r: StateReactions): void {
  t.on('state', (s: TorrentState) => {
    r.moved(t, s);
    if (s === 'checking' || s === 'metadata') void r.start().catch((e: unknown) => r.warn((e as Error).message));
    if (s === 'downloading' || s === 'seeding') r.lsdAdd(t);
    else if (s === 'stopped' || s === 'error' || s === 'paused') r.lsdRemove(t);
    // A slot may have freed up: a download finished or left, a seed left.
    if (s === 'seeding' || s === 'stopped' || s === 'error' || s === 'paused') r.promoteQueued();
  });
}
