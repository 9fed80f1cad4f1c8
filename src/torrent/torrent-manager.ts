/**
 * TorrentManager: one torrent's life (checking, downloading, seeding, paused, stopped, error) and its
 * peers' message loop (BEP 3, BEP 6 fast, BEP 10 handshake). All state lives on the event loop; disk
 * I/O and hashing are awaited, never blocking. Policy (which blocks, whom to unchoke) lives in picker/
 * and choker.ts; sockets and listeners live in the engine.
 */
import type { Clock, Timer } from '../core/clock.js';
import { BtError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import { pieceHash, pieceSize } from '../metainfo/types.js';
import { MetadataAssembler, filePieceRange, metainfoFromInfoBytes } from '../metainfo/index.js';
import type { PeerHandler } from '../peer/peer-connection.js';
import { PeerConnection } from '../peer/peer-connection.js';
import type { BlockRequest, PickerPeer } from '../picker/index.js';
import { PiecePicker } from '../picker/index.js';
import type { Hasher, PieceStorage } from '../storage/types.js';
import { checkPieces, loadResume, saveResume } from '../storage/index.js';
import type { Connection } from '../transport/index.js';
import { Bitfield } from '../util/bitfield.js';
import { equalBytes, formatHostPort, parseHostPort } from '../util/bytes.js';
import { RateMeter } from '../util/rate.js';
import { Budget, TokenBucket } from '../util/token-bucket.js';
import type { RangeFetch } from '../webseed/http-range.js';
import { planRanges, usableWebSeed } from '../webseed/plan.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { Handshake, Message } from '../wire/index.js';
import type { Tracker, TrackerPeer } from '../tracker/types.js';
import type { ConnectionEncryption } from '../peer/index.js';
import type { TrackerStatus } from '../tracker/tracker-manager.js';
import { TrackerManager } from '../tracker/tracker-manager.js';
import {
  FrameDecoder,
  PexFlags,
  METADATA_PIECE_SIZE,
  PexTracker,
  decodeExtendedHandshake,
  decodeUtMetadata,
  decodeUtPex,
  encodeExtendedHandshake,
  encodeUtMetadata,
  encodeUtPex,
  serveMetadata,
  supportsDht,
} from '../wire/index.js';
import type { PexPeer } from '../wire/index.js';
import { Choker } from './choker.js';
import { PieceReadCache } from './read-cache.js';
import type { TorrentSettings } from './settings.js';

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
export interface TorrentHost {
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
   * Where this torrent's resume data lives (fast resume: verified pieces plus file sizes and mtimes), or undefined
   * when it is not kept (setting off, or storage that is not the files under downloadDir).
   */
  resumePath?(torrent: TorrentManager): string | undefined;
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

/** DHT get_peers + announce period per torrent, and the retry schedule while a lookup finds nobody. */
const DHT_ANNOUNCE_INTERVAL_MS = 15 * 60_000;
const DHT_RETRY_MIN_MS = 5_000;

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
}

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

interface WebSeed {
  url: string;
  peer: PickerPeer;
  inFlight: number;
  failures: number;
  hashFailures: number;
  retryAt: number;
  downloaded: number;
  error: string | undefined;
  disabled: boolean;
}

/** Blocks (16 KiB) per web seed HTTP request, and requests in flight per web seed. */
const WEB_SEED_BLOCKS = 64;
const WEB_SEED_REQUESTS = 2;
const WEB_SEED_TIMEOUT_MS = 60_000;
/** Back-off after a failed request: 5 s doubling to 10 min. */
const WEB_SEED_RETRY_MS = 5_000;
const WEB_SEED_RETRY_MAX_MS = 600_000;

const PRIORITY_NORMAL = 4;
const PRIORITY_MAX = 7;

/** Rate limits: bytes per second of piece data, 0 = unlimited. */
export interface RateLimits {
  download: number;
  upload: number;
}

interface Candidate {
  host: string;
  port: number;
  source: PeerSource;
  failures: number;
  nextAttempt: number;
  connecting: boolean;
}


interface PeerState extends PickerPeer {
  peer: PeerConnection;
  /** BEP 21: the peer said upload_only (a partial seed, or any peer that wants nothing more). */
  uploadOnly?: boolean;
  /** ut_metadata pieces served to this peer (created on its first request). */
  metadataServed?: TokenBucket;
  /** Pieces the peer has that we lack. */
  interestingCount: number;
  uploadQueue: BlockRequest[];
  readsInFlight: number;
  snubbed: boolean;
  source: PeerSource;
  encryption: ConnectionEncryption;
  /** BEP 9 metadata_size from the peer's extended handshake. */
  metadataSize: number | undefined;
  /** The peer's listen port from its extended handshake (`p`). */
  listenPort: number | undefined;
  /** BEP 11: what we told this peer (present when it supports ut_pex and PEX is allowed). */
  pex: PexTracker | undefined;
  lastPexReceived: number;
  /** The peer set the handshake's DHT bit (BEP 5). */
  dht: boolean;
}

/** The extended message ids we ask peers to use for messages to us (BEP 10 `m`). */
export const UT_METADATA_ID = 1;
export const UT_PEX_ID = 2;
/** `left` announced to trackers while the size is unknown (magnet before metadata). */
const UNKNOWN_LEFT = 16 * 1024 * 1024 * 1024;

const MAX_READS_IN_FLIGHT = 16;
/** Addresses kept to dial (from trackers, PEX, ...): bounded so a hostile source can't grow it without limit. */
const MAX_CANDIDATES = 2000;
const WRITE_HIGH_WATER = 4 * 1024 * 1024;

export class TorrentManager extends TypedEmitter<TorrentEvents> {
  private metaValue: Metainfo | undefined;
  /** The magnet link this torrent was added from (undefined for a .torrent). */
  readonly magnet: MagnetLink | undefined;
  private assembler: MetadataAssembler<PeerState> | undefined;
  readonly infoHash: Uint8Array;
  readonly infoHashHex: string;
  readonly downloadDir: string;
  /** Web seeds (BEP 19) while downloading; the magnet's `ws` ones are kept in magnetWebSeeds. */
  private webSeedList: WebSeed[] = [];
  private readonly magnetWebSeeds: readonly string[];
  private currentState: TorrentState = 'stopped';
  private errorValue: BtError | undefined;
  private storage: PieceStorage | undefined;
  private picker: PiecePicker | undefined;
  private readonly choker: Choker;
  private readonly peers = new Map<string, PeerState>();
  private readonly candidates = new Map<string, Candidate>();
  private readonly banned = new Set<string>();
  /** Buffers of pieces being downloaded, filled block by block. */
  private readonly partial = new Map<number, Uint8Array>();
  /** Bytes of complete pieces being hashed or written; new requests wait while this is over budget. */
  private verifyingBytes = 0;
  private readonly piecePool: Uint8Array[] = [];
  private verifyBudget = 16 * 1024 * 1024;
  private readCache: PieceReadCache | undefined;
  private readonly downMeter = new RateMeter(5);
  private readonly upMeter = new RateMeter(5);
  private downloadedBytes = 0;
  private uploadedBytes = 0;
  private ticker: Timer | undefined;
  private lastChoke = 0;
  private abort: AbortController | undefined;
  private startPromise: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly handler: PeerHandler;
  private readonly host: TorrentHost;
  private readonly trackerManager: TrackerManager | undefined;
  /** Figures at stop(), for the `stopped` announce that goes out after the pieces are forgotten. */
  private stoppedStats: TorrentStats | undefined;
  /** BEP 5: the periodic get_peers + announce. */
  private dhtTimer: Timer | undefined;
  private dhtAbort: AbortController | undefined;
  private dhtRetryMs = DHT_RETRY_MIN_MS;
  private dhtNodesAdded = false;

  /** `source`: parsed metainfo, or a magnet link (the torrent then starts by fetching the metadata, BEP 9). */
  /** This torrent's own limits; the budgets also draw on the engine's (host.rateLimits). */
  private readonly downLimit = new TokenBucket();
  private readonly upLimit = new TokenBucket();
  private readonly downBudget: Budget;
  private readonly upBudget: Budget;
  /** Woken when a rate limit lets requests or uploads go again. */
  private rateTimer: Timer | undefined;
  /** Per-file priorities as set (index = file); undefined entries are normal. Applied to the picker's pieces. */
  private readonly filePrio: number[] = [];
  /** Some file is not at normal priority: piece priorities follow the files. */
  private filePrioSet = false;
  private sequentialValue = false;
  /** BEP 53 selection waiting for the file list (magnet links). */
  private pendingSelectOnly: readonly number[] | undefined;
  private readonly seedRatioLimit: number;
  private readonly seedTimeLimitMs: number;
  /** When the torrent last became 'seeding' (clock ms). */
  private seedingSince = 0;
  /** resumeFromQueue() is under way (a seed creates its files first). */
  private leavingQueue = false;
  /** The next start hashes every piece, whatever the resume data says (recheck()). */
  private forceFullCheck = false;

  constructor(host: TorrentHost, source: Metainfo | MagnetLink, downloadDir: string, opts: TorrentOptions = {}) {
    super();
    this.host = host;
    const isMeta = (x: Metainfo | MagnetLink): x is Metainfo => (x as Metainfo).info !== undefined;
    this.magnet = isMeta(source) ? undefined : source;
    this.infoHash = source.infoHash;
    this.infoHashHex = source.infoHashHex;
    this.magnetWebSeeds = 'webSeeds' in source ? source.webSeeds : [];
    this.downBudget = new Budget(host.rateLimits ? [this.downLimit, host.rateLimits.download] : [this.downLimit]);
    this.upBudget = new Budget(host.rateLimits ? [this.upLimit, host.rateLimits.upload] : [this.upLimit]);
    this.setRateLimits({ download: opts.maxDownloadRate ?? 0, upload: opts.maxUploadRate ?? 0 });
    if (opts.filePriorities) opts.filePriorities.forEach((p, i) => this.setFilePriorityValue(i, p));
    else if (opts.selectOnly) {
      this.pendingSelectOnly = opts.selectOnly;
      if (this.metaValue) this.applySelectOnly(this.metaValue);
    }
    this.sequentialValue = opts.sequential === true;
    for (const [k, v] of [['seedRatioLimit', opts.seedRatioLimit], ['seedTimeLimitMs', opts.seedTimeLimitMs]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new BtError('ERR_SETTINGS', `${k} must be >= 0, not ${v}`, { field: k });
    }
    this.seedRatioLimit = opts.seedRatioLimit ?? 0;
    this.seedTimeLimitMs = opts.seedTimeLimitMs ?? 0;
    this.downloadDir = downloadDir;
    this.log = host.logger.forComponent(`torrent ${source.infoHashHex.slice(0, 8)}`);
    this.choker = new Choker({ uploadSlots: host.settings.uploadSlots, random: host.random });
    if (isMeta(source)) this.setMeta(source);
    const own = isMeta(source) ? source.announceList : source.trackers.map((t) => [t]);
    const tiers = [...own, ...(opts.trackers ?? [])].filter((t) => t.length > 0);
    if (tiers.length > 0) {
      const s = host.settings;
      this.trackerManager = new TrackerManager({
        tiers,
        clock: host.clock,
        random: host.random,
        createTracker: (url) => host.createTracker(url),
        infoHash: source.infoHash,
        peerId: host.peerId,
        key: host.trackerKey,
        stats: () => {
          const st = this.stoppedStats ?? this.stats();
          return { port: host.listenPort(), uploaded: st.uploaded, downloaded: st.downloaded, left: st.left };
        },
        numWant: s.trackerNumWant,
        crypto: s.encryption.includes('plaintext') ? (s.encryption.length > 1 ? 'supported' : 'none') : 'required',
        minIntervalMs: s.trackerMinIntervalMs,
        retryBaseMs: s.trackerRetryBaseMs,
        requestTimeoutMs: s.trackerRequestTimeoutMs,
        stopTimeoutMs: s.trackerStopTimeoutMs,
        onPeers: (peers) => this.addTrackerPeers(peers),
        onWarning: (w) => this.emit('warning', w),
        onStatus: (st) => this.emit('tracker', st),
        onResponse: (r, url) => {
          if (r.externalIp) host.externalAddress?.(r.externalIp, url);
        },
      });
    }
    this.handler = {
      onMessage: (p, m) => this.onMessage(p, m),
      onClose: (p, reason) => this.onPeerClosed(p, reason),
      onDrain: (p) => this.serveUploads(this.peers.get(p.address)),
    };
  }

  /** BEP 53: every file not listed is skipped (indices past the last file are ignored). */
  private applySelectOnly(meta: Metainfo): void {
    const want = new Set(this.pendingSelectOnly);
    this.pendingSelectOnly = undefined;
    meta.info.files.forEach((_, i) => this.setFilePriorityValue(i, want.has(i) ? PRIORITY_NORMAL : 0));
    this.applyFilePriorities();
  }

  private setMeta(meta: Metainfo): void {
    this.metaValue = meta;
    if (this.pendingSelectOnly) this.applySelectOnly(meta);
    this.verifyBudget = Math.max(16 * 1024 * 1024, meta.info.pieceLength * 4);
    this.readCache = new PieceReadCache(
      Math.max(this.host.settings.readCacheBytes, meta.info.pieceLength * 2),
      (i) => this.storage!.read(i, 0, pieceSize(meta.info, i)),
      (i) => pieceSize(meta.info, i),
    );
  }

  /** The torrent's metainfo. Throws until it is known (a magnet link before its metadata arrived): see hasMetadata. */
  get meta(): Metainfo {
    if (!this.metaValue) throw new BtError('ERR_STATE', 'the torrent has no metadata yet', { op: 'validate' });
    return this.metaValue;
  }

  get hasMetadata(): boolean {
    return this.metaValue !== undefined;
  }

  /** May we use the DHT (BEP 5)? Not for private torrents; a magnet link may (by info-hash) until its metadata says private. */
  private get dhtAllowed(): boolean {
    return this.host.settings.dhtEnabled && !this.metaValue?.info.private;
  }

  /** May we exchange peers (BEP 11)? Never for private torrents, nor before we know whether it is one. */
  private get pexAllowed(): boolean {
    return this.host.settings.pexEnabled && this.metaValue !== undefined && !this.metaValue.info.private;
  }

  // ------------------------------------------------------------------ lifecycle

  get state(): TorrentState {
    return this.currentState;
  }

  get error(): BtError | undefined {
    return this.errorValue;
  }

  get name(): string {
    return this.metaValue?.info.name ?? this.magnet?.displayName ?? this.infoHashHex;
  }

  get complete(): boolean {
    return this.picker?.complete ?? false;
  }

  get pieceCount(): number {
    return this.metaValue?.info.pieceCount ?? 0;
  }

  /** Check existing data, then download or seed. Resolves once checking is done. */
  start(): Promise<void> {
    if (
      this.currentState === 'downloading' ||
      this.currentState === 'seeding' ||
      this.currentState === 'checking' ||
      this.currentState === 'metadata' ||
      this.currentState === 'queued'
    ) {
      return this.startPromise ?? Promise.resolve();
    }
    if (this.currentState === 'paused' && this.picker) {
      this.setState(this.picker.complete ? 'seeding' : 'downloading');
      this.host.wantPeers(this);
      return Promise.resolve();
    }
    if (!this.metaValue) {
      this.startMetadata();
      return Promise.resolve();
    }
    this.startPromise = this.doStart();
    return this.startPromise;
  }

  /** Magnet link: connect to peers and fetch the info dictionary (BEP 9); then check and download. */
  private startMetadata(): void {
    this.abort = new AbortController();
    this.stoppedStats = undefined;
    this.errorValue = undefined;
    this.setState('metadata');
    this.ticker = this.host.clock.setInterval(() => this.tick(), 1000);
    this.trackerManager?.start({ complete: false });
    this.startDht();
    this.host.wantPeers(this);
  }

  private async doStart(): Promise<void> {
    this.abort = new AbortController();
    this.stoppedStats = undefined;
    const signal = this.abort.signal;
    this.errorValue = undefined;
    this.setState('checking');
    try {
      this.storage ??= this.host.createStorage(this.meta, this.downloadDir);
      const have = await this.checkExisting(this.storage, signal);
      if (signal.aborted) return;
      this.picker = new PiecePicker({
        pieceCount: this.meta.info.pieceCount,
        pieceLength: this.meta.info.pieceLength,
        totalLength: this.meta.info.totalLength,
        have,
        random: this.host.random,
      });
      this.picker.sequential = this.sequentialValue;
      this.applyFilePriorities();
      this.startWebSeeds();
      this.emit('checked', have.count, this.meta.info.pieceCount);
      this.ticker = this.host.clock.setInterval(() => this.tick(), 1000);
      if (this.host.mayActivate && !this.host.mayActivate(this, this.queueKind)) {
        this.setState('queued');
        return;
      }
      await this.activate(signal);
    } catch (e) {
      if (signal.aborted) return;
      this.fail(e);
    }
  }

  /** What slot a queued torrent waits for: a seed slot once every wanted piece is there. */
  get queueKind(): 'download' | 'seed' {
    return this.picker?.finished ? 'seed' : 'download';
  }

  /** Leave the queue (the engine calls this when a slot frees up). */
  async resumeFromQueue(): Promise<void> {
    if (this.currentState !== 'queued' || !this.abort || this.leavingQueue) return;
    const signal = this.abort.signal;
    this.leavingQueue = true;
    try {
      await this.activate(signal);
    } catch (e) {
      if (!signal.aborted) this.fail(e);
    } finally {
      this.leavingQueue = false;
    }
  }

  /** Checked and admitted: download or seed, and start the peer sources. */
  private async activate(signal: AbortSignal): Promise<void> {
    const picker = this.picker!;
    if (picker.finished) {
      await this.storage!.ensureFiles(picker.complete ? undefined : this.wantedFile);
      if (signal.aborted) return;
      this.setState('seeding');
    } else {
      this.setState('downloading');
    }
    this.trackerManager?.start({ complete: picker.complete });
    this.startDht();
    this.host.wantPeers(this);
  }

  /**
   * Which pieces are on disk already. With resume data whose files are unchanged since it was saved, only the
   * pieces touching changed (or just-modified) files are hashed; otherwise every piece with data is.
   */
  private async checkExisting(storage: PieceStorage, signal: AbortSignal): Promise<Bitfield> {
    const info = this.meta.info;
    const file = this.host.resumePath?.(this);
    const full = this.forceFullCheck;
    this.forceFullCheck = false;
    const resume = file && !full ? await loadResume(file, info, this.downloadDir).catch(() => undefined) : undefined;
    if (!resume) return checkPieces(info, storage, this.host.hasher, { signal });
    const found = await checkPieces(info, storage, this.host.hasher, { signal, pieces: resume.recheck });
    const have = resume.have;
    for (const i of resume.recheck) if (found.get(i)) have.set(i);
    this.log.info(`resume data: ${have.count - found.count} pieces trusted, ${resume.recheck.length} re-checked (${found.count} present)`);
    return have;
  }

  /** Record the verified pieces with the files' sizes and mtimes (fast resume); a failure is a warning only. */
  private async saveResumeData(have: Bitfield | undefined): Promise<void> {
    const file = this.host.resumePath?.(this);
    if (!file || !have || !this.metaValue) return;
    try {
      await saveResume(file, this.metaValue.info, this.downloadDir, have);
    } catch (e) {
      this.log.warn(`resume data not saved: ${(e as Error).message}`);
    }
  }

  pause(): void {
    if (this.currentState !== 'downloading' && this.currentState !== 'seeding') return;
    this.closeAllPeers('paused');
    this.setState('paused');
  }

  /** Disconnect peers, stop timers, close files. The torrent can be started again. */
  async stop(): Promise<void> {
    this.abort?.abort();
    this.ticker?.cancel();
    this.ticker = undefined;
    this.rateTimer?.cancel();
    this.rateTimer = undefined;
    this.stoppedStats = this.stats();
    this.webSeedList = [];
    this.stopDht();
    const announced = this.trackerManager?.stop();
    this.closeAllPeers('stopped');
    this.partial.clear();
    this.piecePool.length = 0;
    this.readCache?.clear();
    this.assembler = undefined;
    const st = this.storage;
    const have = this.picker?.have.clone();
    this.storage = undefined;
    this.picker = undefined;
    if (st) {
      await st.close();
      // After close: no write is in flight, every file's mtime is final.
      await this.saveResumeData(have);
    }
    await announced;
    if (this.currentState !== 'error') this.setState('stopped');
  }

  /** Release what outlives stop() (tracker clients); the torrent can't be started again. */
  dispose(): void {
    this.trackerManager?.dispose();
  }

  private fail(e: unknown): void {
    const err =
      e instanceof BtError ? e : new BtError('ERR_STORAGE', e instanceof Error ? e.message : String(e), { cause: e });
    this.errorValue = err;
    this.log.error(`torrent failed: ${err.message}`);
    this.ticker?.cancel();
    this.ticker = undefined;
    this.rateTimer?.cancel();
    this.rateTimer = undefined;
    this.stopDht();
    this.closeAllPeers('torrent error');
    this.setState('error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  // ------------------------------------------------------------------ BEP 5 DHT

  /** get_peers + announce now, then about every 15 minutes (sooner while lookups find nobody). */
  private startDht(): void {
    this.stopDht();
    if (!this.dhtAllowed || !this.host.dht) return;
    this.dhtRetryMs = DHT_RETRY_MIN_MS;
    this.dhtTimer = this.host.clock.setTimeout(() => void this.runDht(), 0);
  }

  private stopDht(): void {
    this.dhtTimer?.cancel();
    this.dhtTimer = undefined;
    this.dhtAbort?.abort();
    this.dhtAbort = undefined;
  }

  private async runDht(): Promise<void> {
    this.dhtTimer = undefined;
    if (!this.dhtAllowed || !this.connectable) return;
    const dht = this.host.dht?.();
    if (!dht) {
      // The engine's node is not up yet (resolving its routers): try again soon.
      this.dhtTimer = this.host.clock.setTimeout(() => void this.runDht(), DHT_RETRY_MIN_MS);
      return;
    }
    if (!this.dhtNodesAdded && this.metaValue) {
      this.dhtNodesAdded = true;
      for (const n of this.metaValue.nodes) dht.addNode(n.host, n.port);
    }
    const abort = new AbortController();
    this.dhtAbort = abort;
    const signal = abort.signal;
    let found = 0;
    try {
      for await (const p of dht.getPeers(this.infoHash, { signal })) {
        if (this.host.isSelf(p.host, p.port)) continue;
        found++;
        if (this.addCandidate(p.host, p.port, 'dht') && this.connectable) this.host.wantPeers(this);
      }
      const port = this.host.listenPort();
      if (port > 0 && !signal.aborted) await dht.announce(this.infoHash, port, { signal });
    } catch (e) {
      if (signal.aborted) return;
      this.log.debug(() => `DHT lookup failed: ${(e as Error).message}`);
    }
    if (signal.aborted || this.dhtAbort !== abort) return;
    this.dhtAbort = undefined;
    this.log.debug(() => `DHT: ${found} peers`);
    let delay = DHT_ANNOUNCE_INTERVAL_MS;
    if (found === 0) {
      delay = this.dhtRetryMs;
      this.dhtRetryMs = Math.min(this.dhtRetryMs * 2, DHT_ANNOUNCE_INTERVAL_MS);
    }
    this.dhtTimer = this.host.clock.setTimeout(() => void this.runDht(), delay);
  }

  private setState(s: TorrentState): void {
    const prev = this.currentState;
    if (prev === s) return;
    this.currentState = s;
    if (s === 'seeding') this.seedingSince = this.host.clock.now();
    this.emit('state', s, prev);
  }

  /** Seeding limits: reached → 'seed-limit', then stop. */
  private checkSeedLimits(now: number): void {
    if (this.currentState !== 'seeding' || !this.metaValue) return;
    let reason: string | undefined;
    const size = this.metaValue.info.totalLength;
    if (this.seedRatioLimit > 0 && size > 0 && this.uploadedBytes >= this.seedRatioLimit * size) {
      reason = `uploaded ${(this.uploadedBytes / size).toFixed(2)}x the torrent's size (limit ${this.seedRatioLimit})`;
    } else if (this.seedTimeLimitMs > 0 && now - this.seedingSince >= this.seedTimeLimitMs) {
      reason = `seeded for ${Math.round((now - this.seedingSince) / 1000)} s (limit ${Math.round(this.seedTimeLimitMs / 1000)} s)`;
    }
    if (!reason) return;
    this.log.info(`seed limit reached: ${reason}`);
    this.emit('seed-limit', reason);
    void this.stop();
  }

  /**
   * Check every piece on disk again, ignoring resume data (after files were changed behind the engine's back,
   * say). A running torrent is stopped and started again; a stopped one checks on its next start.
   */
  async recheck(): Promise<void> {
    this.forceFullCheck = true;
    if (this.currentState === 'stopped' || this.currentState === 'error' || !this.metaValue) return;
    await this.stop();
    await this.start();
  }

  private get active(): boolean {
    return this.currentState === 'downloading' || this.currentState === 'seeding';
  }

  /** Peers are dialed and accepted: while active, and while fetching metadata. */
  private get connectable(): boolean {
    return this.active || this.currentState === 'metadata';
  }

  // ------------------------------------------------------------------ peers in and out

  /** Add a peer address to try ("ip:port" or "[v6]:port"). */
  addPeer(address: string, source: PeerSource = 'manual'): void {
    const { host, port } = parseHostPort(address);
    if (this.addCandidate(host, port, source) && this.connectable) this.host.wantPeers(this);
  }

  private addCandidate(host: string, port: number, source: PeerSource): boolean {
    if (port === 0) return false;
    if (this.host.ipBlocked?.(host)) return false;
    const key = formatHostPort(host, port);
    if (this.candidates.has(key) || this.peers.has(key) || this.banned.has(key)) return false;
    if (this.candidates.size >= MAX_CANDIDATES) return false;
    this.candidates.set(key, { host, port, source, failures: 0, nextAttempt: 0, connecting: false });
    return true;
  }

  private addTrackerPeers(peers: TrackerPeer[]): void {
    let added = 0;
    for (const p of peers) {
      // Trackers list the announcing peer too: never dial ourselves.
      if (this.host.isSelf(p.host, p.port)) continue;
      if (this.addCandidate(p.host, p.port, 'tracker')) added++;
    }
    if (added > 0 && this.connectable) this.host.wantPeers(this);
  }

  /** Per-tracker status (announce order): last and next announce, peers, seeders, leechers, last error. */
  get trackers(): TrackerStatus[] {
    return this.trackerManager?.status ?? [];
  }

  /** Announce to the trackers now (respecting their min interval). */
  announce(): void {
    this.trackerManager?.announce();
  }

  /** Scrape the torrent's working tracker. */
  scrape(opts: { signal?: AbortSignal } = {}): ReturnType<TrackerManager['scrape']> {
    if (!this.trackerManager) return Promise.reject(new BtError('ERR_TRACKER', 'torrent has no trackers', { op: 'scrape' }));
    return this.trackerManager.scrape(opts);
  }

  get connectedPeers(): number {
    return this.peers.size;
  }

  /** Connections this torrent may still open (per-torrent limit). */
  get openSlots(): number {
    if (!this.connectable) return 0;
    let connecting = 0;
    for (const c of this.candidates.values()) if (c.connecting) connecting++;
    return Math.max(0, this.host.settings.maxConnectionsPerTorrent - this.peers.size - connecting);
  }

  /** The next address to dial, marked as connecting; undefined when none is due. */
  takeCandidate(now: number): { host: string; port: number } | undefined {
    for (const [key, c] of this.candidates) {
      if (c.connecting || c.nextAttempt > now || this.peers.has(key)) continue;
      c.connecting = true;
      return { host: c.host, port: c.port };
    }
    return undefined;
  }

  /** Connection attempt result from the connection manager. */
  dialFailed(host: string, port: number, reason: string): void {
    const key = formatHostPort(host, port);
    const c = this.candidates.get(key);
    if (!c) return;
    c.connecting = false;
    c.failures++;
    // Peers the user named get their first failure said out loud (e.g. "encryption is required" on a plaintext peer).
    if (c.source === 'manual' && c.failures === 1) this.emit('warning', `peer ${key}: ${reason}`);
    if (c.failures >= 8) {
      this.candidates.delete(key);
      return;
    }
    c.nextAttempt = this.host.clock.now() + this.host.settings.reconnectBaseMs * 2 ** (c.failures - 1);
    this.log.debug(() => `dial ${key} failed (${reason}); retry #${c.failures}`);
  }

  /** Can this torrent take one more (incoming or dialed) connection? */
  acceptsPeer(): boolean {
    return this.connectable && this.peers.size < this.host.settings.maxConnectionsPerTorrent;
  }

  /** A connection whose handshake has completed joins the swarm. */
  attachPeer(conn: Connection, remote: Handshake, decoder: FrameDecoder, encryption: ConnectionEncryption = 'none'): void {
    const address = formatHostPort(conn.remoteAddress, conn.remotePort);
    const cand = this.candidates.get(address);
    if (cand) cand.connecting = false;
    const refuse = (why: string): void => {
      this.log.debug(() => `refusing ${address}: ${why}`);
      conn.close(false);
    };
    if (!this.connectable || (this.active && !this.picker)) return refuse('torrent not active');
    if (this.banned.has(address)) return refuse('banned');
    if (equalBytes(remote.peerId, this.host.peerId)) {
      this.candidates.delete(address);
      // Remember it, so a tracker listing us again doesn't make us dial ourselves every announce.
      if (conn.outgoing) this.banned.add(address);
      return refuse('connected to ourselves');
    }
    if (this.peers.size >= this.host.settings.maxConnectionsPerTorrent) return refuse('torrent connection limit');
    for (const st of this.peers.values()) {
      if (equalBytes(st.peer.peerId, remote.peerId)) return refuse('duplicate peer id');
    }
    if (this.peers.has(address)) return refuse('already connected');
    if (cand) cand.failures = 0;

    const peer = new PeerConnection({
      conn,
      peerId: remote.peerId,
      reserved: remote.reserved,
      decoder,
      pieceCount: this.pieceCount,
      clock: this.host.clock,
      handler: this.handler,
    });
    const st: PeerState = {
      peer,
      id: address,
      have: peer.have,
      isSeed: false,
      allowedFast: peer.allowedFast,
      choking: true,
      interestingCount: 0,
      uploadQueue: [],
      readsInFlight: 0,
      snubbed: false,
      source: cand?.source ?? (conn.outgoing ? 'manual' : 'incoming'),
      encryption,
      metadataSize: undefined,
      listenPort: undefined,
      pex: undefined,
      lastPexReceived: -Infinity,
      dht: supportsDht(remote.reserved),
    };
    this.peers.set(address, st);
    this.sendInitial(st);
    this.emit('peer-connected', address);
    this.log.debug(() => `peer ${address} connected (${conn.outgoing ? 'out' : 'in'})`);
    peer.start();
  }

  /**
   * Our BEP 10 handshake: ut_metadata, ut_pex (unless private or off), listen port, request queue, metadata size,
   * and BEP 21 upload_only while every wanted piece is there (a selective download that finished, or a seed).
   */
  private extendedHandshake(): Uint8Array {
    const m: Record<string, number> = { ut_metadata: UT_METADATA_ID };
    if (this.host.settings.pexEnabled && !this.metaValue?.info.private) m['ut_pex'] = UT_PEX_ID;
    return encodeExtendedHandshake({
      m,
      v: this.host.settings.userAgent,
      p: this.host.listenPort() || undefined,
      reqq: this.host.settings.maxIncomingRequests,
      metadata_size: this.metaValue?.infoBytes.length,
      upload_only: this.picker?.finished ? 1 : undefined,
    });
  }

  /** BEP 10 allows a new handshake at any time: tell the peers that upload_only changed. */
  private resendExtendedHandshake(): void {
    const payload = this.extendedHandshake();
    for (const st of this.peers.values()) if (st.peer.extended) st.peer.send({ type: 'extended', id: 0, payload });
  }

  /** Neither side wants anything from the other: we have every wanted piece and the peer is a seed or upload_only. */
  private bothDone(st: PeerState): boolean {
    return (this.picker?.finished ?? false) && (st.isSeed || st.uploadOnly === true);
  }

  private sendInitial(st: PeerState): void {
    const p = st.peer;
    const msgs: Message[] = [];
    if (p.extended) msgs.push({ type: 'extended', id: 0, payload: this.extendedHandshake() });
    // BEP 5: our DHT port, after the bitfield, to peers that set the DHT bit.
    const dhtPort = st.dht && this.dhtAllowed ? this.host.dht?.()?.port : undefined;
    if (!this.picker) {
      // Fetching metadata: we have no pieces (BEP 6 wants a have-none from a fast peer).
      if (p.fast) msgs.push({ type: 'have-none' });
      if (dhtPort) msgs.push({ type: 'port', port: dhtPort });
      p.sendMany(msgs);
      return;
    }
    const have = this.picker.have;
    if (p.fast && have.complete) msgs.push({ type: 'have-all' });
    else if (p.fast && have.empty) msgs.push({ type: 'have-none' });
    else if (!have.empty) msgs.push({ type: 'bitfield', bits: have.bytes });
    if (dhtPort) msgs.push({ type: 'port', port: dhtPort });
    p.sendMany(msgs);
  }

  private onPeerClosed(p: PeerConnection, reason: string): void {
    const st = this.peers.get(p.address);
    if (!st || st.peer !== p) return;
    this.peers.delete(p.address);
    if (this.picker) {
      this.picker.releasePeer(p.address);
      if (p.gotBitfield) this.picker.removePeerBitfield(p.have);
    }
    const cand = this.candidates.get(p.address);
    if (cand) {
      cand.connecting = false;
      cand.nextAttempt = this.host.clock.now() + this.host.settings.reconnectBaseMs;
    }
    this.emit('peer-disconnected', p.address, reason);
    this.log.debug(() => `peer ${p.address} closed: ${reason}`);
    if (this.assembler) {
      this.assembler.removePeer(st);
      this.requestMetadataAll();
    }
    if (this.currentState === 'metadata') this.host.wantPeers(this);
    if (this.active) {
      this.fillAllRequests();
      this.host.wantPeers(this);
    }
  }

  private closeAllPeers(reason: string): void {
    for (const st of [...this.peers.values()]) st.peer.close(reason);
  }

  private ban(st: PeerState, reason: string): void {
    this.banned.add(st.id);
    this.candidates.delete(st.id);
    this.emit('peer-banned', st.id, reason);
    this.log.info(`banned ${st.id}: ${reason}`);
    st.peer.close(`banned: ${reason}`);
  }

  // ------------------------------------------------------------------ the message loop

  private onMessage(p: PeerConnection, m: Message): void {
    const st = this.peers.get(p.address);
    if (!st) return;
    if (m.type === 'extended') return this.onExtended(st, m.id, m.payload);
    const picker = this.picker;
    // Fetching metadata: nothing but extension messages matters yet (peers are reconnected afterwards).
    if (!picker) return;
    switch (m.type) {
      case 'keep-alive':
        return;
      case 'bitfield':
        return this.onBitfield(st, m.bits);
      case 'have-all': {
        if (!p.fast) return p.close('have-all without the fast extension');
        const all = new Bitfield(this.meta.info.pieceCount);
        all.setAll();
        return this.onBitfield(st, all.bytes);
      }
      case 'have-none':
        if (!p.fast) return p.close('have-none without the fast extension');
        return this.onBitfield(st, new Uint8Array(Math.ceil(this.meta.info.pieceCount / 8)));
      case 'have':
        return this.onHave(st, m.index);
      case 'choke':
        p.peerChoking = true;
        st.choking = true;
        // Without the fast extension a choke discards every pending request; with it, the peer rejects each.
        if (!p.fast) picker.releasePeer(p.address);
        return;
      case 'unchoke':
        p.peerChoking = false;
        st.choking = false;
        picker.onUnchoke(p.address);
        return this.fillRequests(st);
      case 'interested':
        p.peerInterested = true;
        return this.maybeUnchokeNow(st);
      case 'not-interested':
        p.peerInterested = false;
        return;
      case 'request':
        return this.onRequest(st, m.index, m.begin, m.length);
      case 'cancel': {
        const q = st.uploadQueue;
        const i = q.findIndex((r) => r.index === m.index && r.begin === m.begin && r.length === m.length);
        if (i >= 0) q.splice(i, 1);
        return;
      }
      case 'piece':
        return this.onPiece(st, m.index, m.begin, m.block);
      case 'reject':
        if (!p.fast) return p.close('reject without the fast extension');
        picker.onRequestFailed(p.address, { index: m.index, begin: m.begin, length: m.length });
        return this.fillRequests(st);
      case 'allowed-fast':
        if (m.index < this.meta.info.pieceCount) p.allowedFast.add(m.index);
        if (p.peerChoking) this.fillRequests(st);
        return;
      case 'suggest':
        return;
      case 'port':
        if (this.dhtAllowed && m.port > 0) this.host.dht?.()?.addNode(p.conn.remoteAddress, m.port);
        return;
      case 'unknown':
        return;
    }
  }

  // ------------------------------------------------------------------ BEP 10 extensions: ut_metadata, ut_pex

  private onExtended(st: PeerState, id: number, payload: Uint8Array): void {
    const p = st.peer;
    if (id === 0) {
      let hs;
      try {
        hs = decodeExtendedHandshake(payload);
      } catch (e) {
        this.emit('warning', `bad extended handshake from ${p.address}: ${(e as Error).message}`);
        return;
      }
      if (hs.v !== undefined) p.clientName = hs.v;
      if (hs.reqq !== undefined && hs.reqq > 0) p.maxRequests = Math.min(hs.reqq, this.host.settings.maxOutstandingRequests);
      p.extensions = hs.m ?? {};
      if (hs.p !== undefined) st.listenPort = hs.p;
      if (hs.metadata_size !== undefined) st.metadataSize = hs.metadata_size;
      st.uploadOnly = hs.upload_only === 1;
      if (st.uploadOnly && this.bothDone(st)) return p.close('neither wants anything more');
      if ((p.extensions['ut_pex'] ?? 0) > 0 && this.pexAllowed && !st.pex) {
        st.pex = new PexTracker({ clock: this.host.clock, remote: this.pexAddress(st) });
      }
      if (this.currentState === 'metadata') this.metadataPeerReady(st);
      return;
    }
    if (id === UT_METADATA_ID) return this.onUtMetadata(st, payload);
    if (id === UT_PEX_ID) return this.onUtPex(st, payload);
    // An extension we did not advertise: ignore it (BEP 10).
  }

  /**
   * Metadata requests are answered with 16 KiB each: a peer may fetch the info dictionary about twice at once, then
   * one piece per second; beyond that it gets rejects (an amplification bound, like libtorrent's request limit).
   */
  private mayServeMetadata(st: PeerState, size: number): boolean {
    const now = this.host.clock.now();
    st.metadataServed ??= new TokenBucket(METADATA_PIECE_SIZE, 2 * size + METADATA_PIECE_SIZE);
    if (!st.metadataServed.canSpend(now)) return false;
    st.metadataServed.spend(METADATA_PIECE_SIZE, now);
    return true;
  }

  private sendExtended(st: PeerState, name: string, payload: Uint8Array): void {
    const id = st.peer.extensions[name] ?? 0;
    if (id > 0) st.peer.send({ type: 'extended', id, payload });
  }

  private onUtMetadata(st: PeerState, payload: Uint8Array): void {
    const p = st.peer;
    const max = this.host.settings.maxMetadataSize;
    let msg;
    try {
      const asm = this.assembler;
      msg = decodeUtMetadata(payload, asm && asm.agrees(st.metadataSize) ? { metadataSize: asm.metadataSize, maxMetadataSize: max } : { maxMetadataSize: max });
    } catch (e) {
      return p.close(`bad ut_metadata message: ${(e as Error).message}`);
    }
    switch (msg.type) {
      case 'request': {
        const info = this.metaValue?.infoBytes;
        if (info && !this.mayServeMetadata(st, info.length)) {
          return this.sendExtended(st, 'ut_metadata', encodeUtMetadata({ type: 'reject', piece: msg.piece }));
        }
        return this.sendExtended(st, 'ut_metadata', serveMetadata(info, msg.piece));
      }
      case 'reject':
        if (!this.assembler) return;
        this.assembler.onReject(st, msg.piece);
        return this.requestMetadata(st);
      case 'data': {
        const asm = this.assembler;
        if (!asm || this.currentState !== 'metadata') return;
        let r;
        try {
          r = asm.onData(st, msg.piece, msg.data);
        } catch (e) {
          return p.close(`bad ut_metadata data: ${(e as Error).message}`);
        }
        if (r.status === 'complete') return this.gotMetadata(r.infoBytes);
        if (r.status === 'hash-failed') {
          this.assembler = undefined;
          for (const bad of r.peers) this.ban(bad, 'sent metadata that does not match the info-hash');
          // Start again with whoever is left (a fresh assembler: the size may have been the lie).
          for (const o of this.peers.values()) this.metadataPeerReady(o);
          return;
        }
        return this.requestMetadata(st);
      }
      case 'unknown':
        return;
    }
  }

  /** A peer's extended handshake arrived while we fetch metadata: ask it for pieces if it has them. */
  private metadataPeerReady(st: PeerState): void {
    if (this.currentState !== 'metadata' || st.peer.isClosed) return;
    if ((st.peer.extensions['ut_metadata'] ?? 0) === 0 || st.metadataSize === undefined) return;
    if (!this.assembler) {
      try {
        this.assembler = new MetadataAssembler<PeerState>({
          infoHash: this.infoHash,
          metadataSize: st.metadataSize,
          clock: this.host.clock,
          maxMetadataSize: this.host.settings.maxMetadataSize,
        });
      } catch (e) {
        return st.peer.close(`unusable metadata_size: ${(e as Error).message}`);
      }
    }
    this.requestMetadata(st);
  }

  private requestMetadata(st: PeerState): void {
    const asm = this.assembler;
    if (!asm || st.peer.isClosed || !asm.agrees(st.metadataSize) || (st.peer.extensions['ut_metadata'] ?? 0) === 0) return;
    for (let piece = asm.request(st); piece !== undefined; piece = asm.request(st)) {
      this.sendExtended(st, 'ut_metadata', encodeUtMetadata({ type: 'request', piece }));
    }
  }

  private requestMetadataAll(): void {
    for (const st of this.peers.values()) this.requestMetadata(st);
  }

  /** The info dictionary arrived and hashes to the info-hash: build the metainfo, reconnect, check, download. */
  private gotMetadata(infoBytes: Uint8Array): void {
    let meta: Metainfo;
    try {
      meta = metainfoFromInfoBytes(infoBytes, {
        trackers: this.magnet?.trackers ?? [],
        urlList: this.magnet?.webSeeds ?? [],
        infoHash: this.infoHash,
      });
    } catch (e) {
      return this.fail(e);
    }
    this.assembler = undefined;
    this.setMeta(meta);
    this.log.info(`metadata received: ${meta.info.name}, ${meta.info.pieceCount} pieces`);
    this.emit('metadata', meta);
    this.host.saveMetadata?.(this, meta);
    // Simplest correct hand-over: drop the connections (they were opened with no piece count) and dial
    // them again; peers that dialed us are dialed back on the listen port they announced.
    const again: [string, number, PeerSource][] = [];
    for (const st of this.peers.values()) {
      if (!st.peer.conn.outgoing && st.listenPort !== undefined) again.push([st.peer.conn.remoteAddress, st.listenPort, st.source]);
    }
    this.ticker?.cancel();
    this.ticker = undefined;
    // doStart moves to 'checking' at once, so nothing is dialed until the check is done.
    this.startPromise = this.doStart();
    this.closeAllPeers('metadata received; reconnecting');
    for (const [h, port, source] of again) this.addCandidate(h, port, source);
    for (const c of this.candidates.values()) {
      c.nextAttempt = 0;
      c.failures = 0;
    }
  }

  /** The address other peers can dial `st` on (for PEX), or undefined when unknown. */
  private pexAddress(st: PeerState): { host: string; port: number } | undefined {
    const c = st.peer.conn;
    if (c.outgoing) return { host: c.remoteAddress, port: c.remotePort };
    return st.listenPort !== undefined ? { host: c.remoteAddress, port: st.listenPort } : undefined;
  }

  private onUtPex(st: PeerState, payload: Uint8Array): void {
    if (!this.pexAllowed) return;
    const now = this.host.clock.now();
    let msg;
    try {
      msg = decodeUtPex(payload);
    } catch (e) {
      return st.peer.close(`bad ut_pex message: ${(e as Error).message}`);
    }
    // BEP 11: at most one message a minute; a flood is read no more often than every 10 s.
    if (now - st.lastPexReceived < 10_000) return;
    st.lastPexReceived = now;
    let added = 0;
    for (const a of msg.added) {
      if (this.host.isSelf(a.host, a.port)) continue;
      if (this.addCandidate(a.host, a.port, 'pex')) added++;
    }
    if (added > 0) {
      this.log.debug(() => `${added} peer(s) from ${st.id} by PEX`);
      this.host.wantPeers(this);
    }
  }

  /** Send each PEX-capable peer what changed (PexTracker keeps it to one message a minute). */
  private sendPex(): void {
    if (!this.pexAllowed) return;
    let list: PexPeer[] | undefined;
    for (const st of this.peers.values()) {
      if (!st.pex || st.peer.isClosed || st.pex.msUntilNext() > 0) continue;
      list ??= [...this.peers.values()].flatMap((o) => {
        const a = this.pexAddress(o);
        if (!a) return [];
        let flags = 0;
        if (o.peer.conn.outgoing) flags |= PexFlags.Reachable;
        if (o.isSeed) flags |= PexFlags.Seed;
        if (o.encryption !== 'none') flags |= PexFlags.PreferEncryption;
        return [{ host: a.host, port: a.port, flags }];
      });
      const msg = st.pex.next(list);
      if (msg) this.sendExtended(st, 'ut_pex', encodeUtPex(msg));
    }
  }

  private onBitfield(st: PeerState, bits: Uint8Array): void {
    const p = st.peer;
    const n = this.meta.info.pieceCount;
    if (!Bitfield.spareBitsClear(n, bits)) return p.close('bitfield has the wrong length or spare bits set');
    if (p.gotBitfield) {
      // aria2 sends a whole new bitfield mid-connection instead of a run of Haves: merge it as Haves.
      const update = new Bitfield(n, bits);
      for (let i = 0; i < n && !p.isClosed; i++) if (update.get(i) && !p.have.get(i)) this.onHave(st, i);
      return;
    }
    p.gotBitfield = true;
    const picker = this.picker!;
    const fresh = new Bitfield(n, bits);
    for (let i = 0; i < n; i++) if (fresh.get(i)) p.have.set(i);
    st.isSeed = p.isSeed = fresh.complete;
    picker.addPeerBitfield(p.have);
    st.interestingCount = this.countInteresting(p.have);
    if (st.isSeed && picker.complete) return p.close('both are seeds');
    this.updateInterest(st);
  }

  private onHave(st: PeerState, index: number): void {
    const p = st.peer;
    if (index >= this.meta.info.pieceCount) return p.close(`have for piece ${index} out of range`);
    if (!p.gotBitfield) {
      p.gotBitfield = true;
      this.picker!.addPeerBitfield(p.have);
    }
    if (p.have.get(index)) return;
    p.have.set(index);
    this.picker!.addPeerHave(index);
    if (!this.picker!.have.get(index) && this.picker!.piecePriority(index) > 0) st.interestingCount++;
    st.isSeed = p.isSeed = p.have.complete;
    if (st.isSeed && this.picker!.complete) return p.close('both are seeds');
    this.updateInterest(st);
  }

  private updateInterest(st: PeerState): void {
    const want = st.interestingCount > 0 && !this.picker!.finished;
    const p = st.peer;
    if (want && !p.amInterested) {
      p.amInterested = true;
      p.send({ type: 'interested' });
    } else if (!want && p.amInterested) {
      p.amInterested = false;
      p.send({ type: 'not-interested' });
    }
    if (want) this.fillRequests(st);
  }

  // ------------------------------------------------------------------ downloading

  private fillAllRequests(): void {
    this.fillWebSeeds();
    for (const st of this.peers.values()) this.fillRequests(st);
  }

  /**
   * Sequential download (streaming, e.g. to play a video while it downloads): new pieces are requested in order,
   * within the highest file priority, instead of rarest-first. It costs the swarm piece diversity; switch it off
   * once the start of the file is there if that matters.
   */
  get sequential(): boolean {
    return this.sequentialValue;
  }

  set sequential(on: boolean) {
    this.sequentialValue = on;
    if (this.picker) this.picker.sequential = on;
  }

  /** The torrent's files with their priorities and verified bytes (empty until a magnet's metadata arrives). */
  get files(): FileStatus[] {
    if (!this.metaValue) return [];
    const info = this.metaValue.info;
    const have = this.picker?.have;
    return info.files.map((f, index) => {
      let got = 0;
      if (have && f.length > 0) {
        const { first, last } = filePieceRange(info, index);
        for (let p = first; p <= last; p++) {
          if (!have.get(p)) continue;
          const start = Math.max(f.offset, p * info.pieceLength);
          const end = Math.min(f.offset + f.length, p * info.pieceLength + pieceSize(info, p));
          got += end - start;
        }
      }
      return { index, path: f.path, length: f.length, priority: this.filePrio[index] ?? PRIORITY_NORMAL, have: got };
    });
  }

  /**
   * Set one file's priority (0 = skip, 1..7; 4 = normal). Takes effect at once: skipped files' pieces are no
   * longer requested (unless a wanted file shares them), and a torrent whose wanted files are all complete is
   * 'seeding' until a file is wanted again.
   */
  setFilePriority(fileIndex: number, priority: number): void {
    this.setFilePriorityValue(fileIndex, priority);
    this.applyFilePriorities();
  }

  /** Set several files' priorities at once (index = file; undefined entries are left as they are). */
  setFilePriorities(priorities: readonly (number | undefined)[]): void {
    priorities.forEach((p, i) => {
      if (p !== undefined) this.setFilePriorityValue(i, p);
    });
    this.applyFilePriorities();
  }

  private setFilePriorityValue(fileIndex: number, priority: number): void {
    const n = this.metaValue?.info.files.length;
    if (!Number.isInteger(fileIndex) || fileIndex < 0 || (n !== undefined && fileIndex >= n)) {
      throw new BtError('ERR_SETTINGS', `file ${fileIndex} is not in the torrent${n !== undefined ? ` (${n} files)` : ''}`, { field: 'filePriorities' });
    }
    if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_MAX) {
      throw new BtError('ERR_SETTINGS', `file priority must be 0 (skip) to ${PRIORITY_MAX}, not ${priority}`, { field: 'filePriorities' });
    }
    this.filePrio[fileIndex] = priority;
    if (priority !== PRIORITY_NORMAL) this.filePrioSet = true;
  }

  /** Piece priorities from the files' (a piece takes the highest of the files it touches), then interest and state. */
  private applyFilePriorities(): void {
    const picker = this.picker;
    if (!picker || !this.metaValue || !this.filePrioSet) return;
    const info = this.metaValue.info;
    const prio = new Uint8Array(info.pieceCount);
    info.files.forEach((f, i) => {
      if (f.length === 0 || f.pad) return;
      const { first, last } = filePieceRange(info, i);
      const fp = this.filePrio[i] ?? PRIORITY_NORMAL;
      for (let p = first; p <= last; p++) if (fp > prio[p]!) prio[p] = fp;
    });
    for (let p = 0; p < info.pieceCount; p++) picker.setPiecePriority(p, prio[p]!);
    for (const st of this.peers.values()) {
      st.interestingCount = this.countInteresting(st.peer.have);
      this.updateInterest(st);
    }
    if (this.currentState === 'seeding' && !picker.finished) {
      this.setState('downloading');
      this.resendExtendedHandshake();
      // Seeds we left when nothing more was wanted are worth dialing again at once.
      for (const c of this.candidates.values()) if (!c.connecting) c.nextAttempt = 0;
      this.host.wantPeers(this);
    } else if (this.currentState === 'downloading' && picker.finished) {
      void this.onComplete();
    }
    this.fillAllRequests();
  }

  /** Pieces the peer has that we lack and want. */
  private countInteresting(peerHave: Bitfield): number {
    const picker = this.picker!;
    const ours = picker.have;
    let n = 0;
    for (let i = 0; i < peerHave.length; i++) if (peerHave.get(i) && !ours.get(i) && picker.piecePriority(i) > 0) n++;
    return n;
  }

  /** This torrent's own rate limits (bytes per second of piece data; 0 = none). The engine's limits apply as well. */
  get rateLimits(): RateLimits {
    return { download: this.downLimit.rate, upload: this.upLimit.rate };
  }

  setRateLimits(limits: Partial<RateLimits>): void {
    for (const [k, v] of Object.entries(limits)) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new BtError('ERR_SETTINGS', `rate limit ${k} must be >= 0 bytes per second, not ${v}`, { field: k });
    }
    if (limits.download !== undefined) this.downLimit.setRate(limits.download);
    if (limits.upload !== undefined) this.upLimit.setRate(limits.upload);
    this.wakeRateLimited();
  }

  /** Close the connections of peers whose address `blocked` says no to, and forget such candidates. */
  dropBlocked(blocked: (address: string) => boolean): number {
    let n = 0;
    for (const st of [...this.peers.values()]) {
      if (blocked(st.peer.conn.remoteAddress)) {
        st.peer.close('address is on the blocklist');
        n++;
      }
    }
    for (const [k, c] of [...this.candidates]) if (blocked(c.host)) this.candidates.delete(k);
    return n;
  }

  /** A limit changed or tokens came back: request and serve again. */
  wakeRateLimited(): void {
    this.rateTimer?.cancel();
    this.rateTimer = undefined;
    if (!this.active) return;
    this.fillAllRequests();
    for (const st of this.peers.values()) this.serveUploads(st);
  }

  /** Come back when the budget that stopped us can be spent again. */
  private waitForBudget(b: Budget): void {
    if (this.rateTimer) return;
    const ms = Math.max(5, b.msUntilSpendable(this.host.clock.now()));
    this.rateTimer = this.host.clock.setTimeout(() => {
      this.rateTimer = undefined;
      this.wakeRateLimited();
    }, ms);
  }

  /** Keep the peer's request pipeline full; its depth follows the peer's rate. */
  private fillRequests(st: PeerState): void {
    const picker = this.picker;
    const p = st.peer;
    if (!picker || picker.finished || this.currentState !== 'downloading' || p.isClosed) return;
    if (!p.amInterested) return;
    if (p.peerChoking && p.allowedFast.size === 0) return;
    if (this.verifyingBytes > this.verifyBudget) return;
    const now = this.host.clock.now();
    const s = this.host.settings;
    const rate = p.down.rate(now);
    // Rate-based depth (libtorrent's request_queue_time), with a TCP-like slow start while the rate
    // estimate is young: every block received grows the pipeline by one.
    const cap = Math.min(p.maxRequests, s.maxOutstandingRequests);
    const target = Math.max(16, Math.min(cap, Math.max(Math.ceil((rate * s.requestQueueSeconds) / 16384), p.slowStart)));
    const have = picker.outstanding(p.address);
    // Top up in batches so a fast peer costs one picker call per several blocks.
    if (have > target - Math.max(1, target >> 3)) return;
    let want = target - have;
    const budget = this.downBudget;
    if (!budget.unlimited) {
      // A download limit: a request spends its bytes when it is sent (what is requested will arrive), so the
      // requests in flight follow the limit and no peer's pipeline runs ahead of it.
      if (!budget.canSpend(now)) return this.waitForBudget(budget);
      want = Math.min(want, Math.max(1, Math.floor(budget.available(now) / 16384)));
    }
    const reqs = picker.pick(st, want, now);
    if (reqs.length === 0) return;
    if (!budget.unlimited) {
      let bytes = 0;
      for (const r of reqs) bytes += r.length;
      budget.spend(bytes, now);
      if (!budget.canSpend(now)) this.waitForBudget(budget);
    }
    for (const r of reqs) {
      if (!this.partial.has(r.index)) this.partial.set(r.index, this.allocPiece(r.index));
    }
    p.sendMany(reqs.map((r) => ({ type: 'request' as const, index: r.index, begin: r.begin, length: r.length })));
  }

  private onPiece(st: PeerState, index: number, begin: number, block: Uint8Array): void {
    const picker = this.picker!;
    const p = st.peer;
    if (index >= this.meta.info.pieceCount) return p.close('piece index out of range');
    this.downloadedBytes += block.length;
    const now = this.host.clock.now();
    this.downMeter.add(block.length, now);
    const res = picker.onBlock(p.address, index, begin, block.length);
    for (const c of res.cancels) {
      const other = this.peers.get(c.peerId);
      other?.peer.send({ type: 'cancel', index: c.req.index, begin: c.req.begin, length: c.req.length });
    }
    if (res.accepted) {
      st.snubbed = false;
      if (p.slowStart > 0) p.slowStart = now - p.connectedAt < 10_000 ? p.slowStart + 1 : 0;
      if (!this.storeBlock(index, begin, block, res.pieceComplete)) return p.close('block past the end of its piece');
    }
    this.fillRequests(st);
  }

  // ------------------------------------------------------------------ BEP 19 web seeds

  /** The torrent's web seeds (url-list, and the magnet's ws) with their state; empty when not downloading. */
  get webSeeds(): WebSeedStatus[] {
    const now = this.host.clock.now();
    return this.webSeedList.map((w) => ({
      url: w.url,
      state: w.disabled ? 'disabled' : w.retryAt > now ? 'waiting' : 'active',
      downloaded: w.downloaded,
      ...(w.error !== undefined ? { error: w.error } : {}),
      ...(w.retryAt > now && !w.disabled ? { retryAt: w.retryAt } : {}),
    }));
  }

  private startWebSeeds(): void {
    const picker = this.picker;
    if (!picker || !this.host.fetchRange || !this.host.settings.webSeedsEnabled || picker.complete) return;
    const urls = [...new Set([...this.meta.urlList, ...this.magnetWebSeeds])].filter(usableWebSeed);
    const all = new Bitfield(this.meta.info.pieceCount);
    all.setAll();
    this.webSeedList = urls.map((url) => ({
      url,
      peer: { id: `web:${url}`, have: all, isSeed: true, allowedFast: new Set<number>(), choking: false },
      inFlight: 0,
      failures: 0,
      hashFailures: 0,
      retryAt: 0,
      downloaded: 0,
      error: undefined,
      disabled: false,
    }));
    for (const _ of this.webSeedList) picker.addPeerBitfield(all);
    if (urls.length > 0) this.log.info(`web seeds: ${urls.join(', ')}`);
  }

  /** Give each ready web seed runs of blocks to fetch, within the download budget. */
  private fillWebSeeds(): void {
    const picker = this.picker;
    if (!picker || picker.finished || this.currentState !== 'downloading' || this.webSeedList.length === 0) return;
    const now = this.host.clock.now();
    const budget = this.downBudget;
    for (const ws of this.webSeedList) {
      while (!ws.disabled && ws.inFlight < WEB_SEED_REQUESTS && now >= ws.retryAt && this.verifyingBytes <= this.verifyBudget) {
        let want = WEB_SEED_BLOCKS;
        if (!budget.unlimited) {
          if (!budget.canSpend(now)) return this.waitForBudget(budget);
          want = Math.min(want, Math.max(1, Math.floor(budget.available(now) / 16384)));
        }
        const reqs = picker.pick(ws.peer, want, now);
        if (reqs.length === 0) break;
        if (!budget.unlimited) budget.spend(reqs.reduce((n, r) => n + r.length, 0), now);
        this.fetchWebSeed(ws, reqs);
      }
    }
  }

  /** Fetch blocks from a web seed: contiguous runs of the torrent's bytes, each as HTTP range requests per file. */
  private fetchWebSeed(ws: WebSeed, reqs: BlockRequest[]): void {
    const picker = this.picker!;
    const info = this.meta.info;
    const fetch = this.host.fetchRange!;
    const signal = this.abort?.signal;
    const sorted = [...reqs].sort((a, b) => a.index - b.index || a.begin - b.begin);
    const runs: { offset: number; length: number; reqs: BlockRequest[] }[] = [];
    for (const r of sorted) {
      const offset = r.index * info.pieceLength + r.begin;
      const last = runs[runs.length - 1];
      if (last && last.offset + last.length === offset) {
        last.length += r.length;
        last.reqs.push(r);
      } else runs.push({ offset, length: r.length, reqs: [r] });
    }
    const delivered = new Set<BlockRequest>();
    ws.inFlight++;
    void (async () => {
      try {
        for (const run of runs) {
          const buf = new Uint8Array(run.length);
          let o = 0;
          for (const part of planRanges(ws.url, info, run.offset, run.length)) {
            if (part.url !== undefined) buf.set(await fetch(part.url, part.start, part.length, { timeoutMs: WEB_SEED_TIMEOUT_MS, signal }), o);
            o += part.length;
          }
          if (this.picker !== picker || ws.disabled) return;
          for (const r of run.reqs) {
            const at = r.index * info.pieceLength + r.begin - run.offset;
            this.onWebSeedBlock(ws, r, buf.subarray(at, at + r.length));
            delivered.add(r);
          }
        }
        ws.failures = 0;
        ws.error = undefined;
      } catch (e) {
        if (this.picker !== picker) return;
        for (const r of reqs) if (!delivered.has(r)) picker.onRequestFailed(ws.peer.id, r);
        ws.failures++;
        ws.retryAt = this.host.clock.now() + Math.min(WEB_SEED_RETRY_MAX_MS, WEB_SEED_RETRY_MS * 2 ** (ws.failures - 1));
        const msg = (e as Error).message;
        if (ws.error !== msg) this.emit('warning', `web seed ${ws.url}: ${msg}`);
        ws.error = msg;
      } finally {
        ws.inFlight--;
        if (this.picker === picker) this.fillWebSeeds();
      }
    })();
  }

  private onWebSeedBlock(ws: WebSeed, r: BlockRequest, block: Uint8Array): void {
    const picker = this.picker!;
    const now = this.host.clock.now();
    this.downloadedBytes += block.length;
    this.downMeter.add(block.length, now);
    ws.downloaded += block.length;
    const res = picker.onBlock(ws.peer.id, r.index, r.begin, block.length);
    for (const c of res.cancels) {
      this.peers.get(c.peerId)?.peer.send({ type: 'cancel', index: c.req.index, begin: c.req.begin, length: c.req.length });
    }
    if (res.accepted) this.storeBlock(r.index, r.begin, block, res.pieceComplete);
  }

  private disableWebSeed(ws: WebSeed, why: string): void {
    if (ws.disabled) return;
    ws.disabled = true;
    ws.error = why;
    this.emit('warning', `web seed ${ws.url} disabled: ${why}`);
    const picker = this.picker;
    if (picker) {
      picker.removePeerBitfield(ws.peer.have);
      picker.releasePeer(ws.peer.id);
      this.fillAllRequests();
    }
  }

  /** Copy an accepted block into its piece buffer; a complete piece goes to verification. False if it does not fit. */
  private storeBlock(index: number, begin: number, block: Uint8Array, pieceComplete: boolean): boolean {
    let part = this.partial.get(index);
    if (!part) {
      part = this.allocPiece(index);
      this.partial.set(index, part);
    }
    if (begin + block.length > part.length) return false;
    part.set(block, begin);
    if (pieceComplete) {
      this.partial.delete(index);
      void this.verifyPiece(index, part);
    }
    return true;
  }

  private async verifyPiece(index: number, piece: Uint8Array): Promise<void> {
    const storage = this.storage;
    if (!storage) return;
    const size = piece.length; // `piece` is detached once its bytes travel to the hash worker
    this.verifyingBytes += size;
    try {
      // Hash first (the bytes travel to a worker and back without a copy), then write only good data.
      const { digest, data } = await this.host.hasher.hashPiece(piece);
      if (!this.picker || this.storage !== storage) return;
      if (equalBytes(digest, pieceHash(this.meta.info, index))) {
        await storage.write(index, 0, data);
        this.freePiece(data);
        const picker = this.picker;
        if (!picker || this.storage !== storage) return;
        picker.onPieceVerified(index);
        this.onVerified(index);
      } else {
        this.freePiece(data);
        const blamed = this.picker.contributors(index);
        this.picker.onPieceFailed(index);
        this.onHashFailed(index, blamed);
      }
    } catch (e) {
      if (this.storage === storage) this.fail(e);
    } finally {
      const wasBlocked = this.verifyingBytes > this.verifyBudget;
      this.verifyingBytes -= size;
      if (wasBlocked && this.verifyingBytes <= this.verifyBudget && this.active) this.fillAllRequests();
    }
  }

  /**
   * Piece buffers are recycled: a download allocates a few dozen instead of one per piece, which keeps
   * RSS flat (external ArrayBuffer memory is otherwise reclaimed only when V8 gets round to it).
   */
  private allocPiece(index: number): Uint8Array {
    const size = pieceSize(this.meta.info, index);
    if (size === this.meta.info.pieceLength) {
      const b = this.piecePool.pop();
      if (b && b.length === size) return b;
    }
    return new Uint8Array(size);
  }

  private freePiece(b: Uint8Array): void {
    if (b.length !== this.meta.info.pieceLength || b.byteOffset !== 0 || b.buffer.byteLength !== b.length) return;
    if (this.piecePool.length * b.length < this.verifyBudget + 8 * 1024 * 1024) this.piecePool.push(b);
  }

  private onVerified(index: number): void {
    this.emit('piece-verified', index);
    const picker = this.picker!;
    for (const st of this.peers.values()) {
      const p = st.peer;
      if (p.have.get(index) && picker.piecePriority(index) > 0) st.interestingCount--;
      p.send({ type: 'have', index });
      if (st.interestingCount <= 0) this.updateInterest(st);
    }
    if (picker.finished) void this.onComplete();
  }

  /** A file the download wants (its priority is not 0). */
  private readonly wantedFile = (i: number): boolean => (this.filePrio[i] ?? PRIORITY_NORMAL) > 0;

  /** Every wanted piece is verified (every piece, unless files are skipped): seed what we have. */
  private async onComplete(): Promise<void> {
    const all = this.picker?.complete ?? false;
    try {
      await this.storage?.ensureFiles(all ? undefined : this.wantedFile);
    } catch (e) {
      return this.fail(e);
    }
    if (this.currentState !== 'downloading' || !this.picker?.finished) return;
    this.setState('seeding');
    // Every verified piece has been written (verifyPiece awaits the write): a crash from here on re-checks
    // nothing but files modified within seconds of this save.
    void this.saveResumeData(this.picker?.have.clone());
    // Trackers hear 'completed' only for the whole torrent (a selective download is not a seed).
    if (all) this.trackerManager?.complete();
    this.resendExtendedHandshake();
    this.emit('complete');
    for (const st of [...this.peers.values()]) {
      if (this.bothDone(st)) st.peer.close(all && st.isSeed ? 'both are seeds' : 'neither wants anything more');
      else this.updateInterest(st);
    }
  }

  private onHashFailed(index: number, blamed: string[]): void {
    this.emit('hash-failed', index, blamed);
    this.log.warn(`piece ${index} failed its hash check (from ${blamed.join(', ') || 'unknown'})`);
    const weight = blamed.length === 1 ? 2 : 1;
    for (const addr of blamed) {
      const ws = this.webSeedList.find((w) => w.peer.id === addr);
      if (ws) {
        ws.hashFailures += weight;
        if (ws.hashFailures >= this.host.settings.hashFailuresToBan) this.disableWebSeed(ws, 'its data failed the hash check');
        continue;
      }
      const st = this.peers.get(addr);
      if (!st) continue;
      st.peer.hashFailures += weight;
      if (st.peer.hashFailures >= this.host.settings.hashFailuresToBan) {
        this.ban(st, `sent data for ${Math.ceil(st.peer.hashFailures / weight)} pieces that failed their hash check`);
      }
    }
    this.fillAllRequests();
  }

  // ------------------------------------------------------------------ uploading

  private onRequest(st: PeerState, index: number, begin: number, length: number): void {
    const p = st.peer;
    const info = this.meta.info;
    const picker = this.picker!;
    if (index >= info.pieceCount || length === 0 || length > 128 * 1024 || begin + length > pieceSize(info, index)) {
      return p.close(`invalid request ${index}:${begin}+${length}`);
    }
    const reject = (): void => {
      if (p.fast) p.send({ type: 'reject', index, begin, length });
    };
    if (p.amChoking || !picker.have.get(index)) return reject();
    if (st.uploadQueue.length >= this.host.settings.maxIncomingRequests) return reject();
    st.uploadQueue.push({ index, begin, length });
    this.serveUploads(st);
  }

  private serveUploads(st: PeerState | undefined): void {
    if (!st) return;
    const p = st.peer;
    const budget = this.upBudget;
    while (
      st.uploadQueue.length > 0 &&
      st.readsInFlight < MAX_READS_IN_FLIGHT &&
      p.writeBacklog < WRITE_HIGH_WATER &&
      !p.isClosed &&
      !p.amChoking
    ) {
      if (!budget.unlimited) {
        // An upload limit: a block spends its bytes when we commit to sending it.
        const now = this.host.clock.now();
        if (!budget.canSpend(now)) return this.waitForBudget(budget);
        budget.spend(st.uploadQueue[0]!.length, now);
      }
      const r = st.uploadQueue.shift()!;
      st.readsInFlight++;
      this.readCache!.get(r.index).then(
        (piece) => {
          st.readsInFlight--;
          if (p.isClosed || p.amChoking) return;
          p.sendPiece(r.index, r.begin, piece.subarray(r.begin, r.begin + r.length));
          this.uploadedBytes += r.length;
          this.upMeter.add(r.length, this.host.clock.now());
          this.serveUploads(st);
        },
        (e: unknown) => {
          st.readsInFlight--;
          this.emit('warning', `cannot read piece ${r.index}: ${(e as Error).message}`);
          if (p.fast) p.send({ type: 'reject', index: r.index, begin: r.begin, length: r.length });
        },
      );
    }
  }

  private setChoke(st: PeerState, choke: boolean): void {
    const p = st.peer;
    if (p.amChoking === choke) return;
    p.amChoking = choke;
    p.send({ type: choke ? 'choke' : 'unchoke' });
    if (choke) {
      if (p.fast) for (const r of st.uploadQueue) p.send({ type: 'reject', index: r.index, begin: r.begin, length: r.length });
      st.uploadQueue.length = 0;
    }
  }

  /** An interested peer gets a free upload slot at once rather than waiting for the next choke round. */
  private maybeUnchokeNow(st: PeerState): void {
    if (!st.peer.amChoking) return;
    let unchoked = 0;
    for (const o of this.peers.values()) if (!o.peer.amChoking) unchoked++;
    if (unchoked < this.host.settings.uploadSlots) this.setChoke(st, false);
  }

  private runChoker(now: number): void {
    const cands = [...this.peers.values()].map((st) => ({
      id: st.id,
      interested: st.peer.peerInterested,
      amChoking: st.peer.amChoking,
      downloadRate: st.peer.down.rate(now),
      uploadRate: st.peer.up.rate(now),
      isSeed: st.isSeed,
      connectedAtMs: st.peer.connectedAt,
    }));
    const { unchoke } = this.choker.round(cands, { seeding: this.currentState === 'seeding', nowMs: now });
    for (const st of this.peers.values()) this.setChoke(st, !unchoke.has(st.id));
  }

  // ------------------------------------------------------------------ housekeeping

  private tick(): void {
    if (this.currentState === 'metadata') return this.tickMetadata();
    if (!this.active) return;
    const now = this.host.clock.now();
    const s = this.host.settings;
    this.sendPex();
    if (now - this.lastChoke >= s.chokeIntervalMs) {
      this.lastChoke = now;
      this.runChoker(now);
    }
    for (const st of [...this.peers.values()]) {
      const p = st.peer;
      if (now - p.lastReceived > s.peerIdleTimeoutMs) {
        p.close('idle timeout');
        continue;
      }
      if (now - p.lastSent > s.keepAliveIntervalMs) p.send({ type: 'keep-alive' });
      const out = this.picker?.outstanding(p.address) ?? 0;
      if (out > 0 && !p.peerChoking && now - p.lastPieceAt > s.requestTimeoutMs && !st.snubbed) {
        // Snubbed: give its blocks to others; keep the connection (it may recover).
        st.snubbed = true;
        this.picker!.releasePeer(p.address);
        p.lastPieceAt = now;
        this.fillAllRequests();
      } else {
        this.fillRequests(st);
      }
    }
    this.fillWebSeeds();
    this.checkSeedLimits(now);
    this.host.wantPeers(this);
  }

  private tickMetadata(): void {
    const now = this.host.clock.now();
    const s = this.host.settings;
    for (const st of [...this.peers.values()]) {
      const p = st.peer;
      if (now - p.lastReceived > s.peerIdleTimeoutMs) p.close('idle timeout');
      else if (now - p.lastSent > s.keepAliveIntervalMs) p.send({ type: 'keep-alive' });
    }
    if (this.assembler && this.assembler.expire().length > 0) this.requestMetadataAll();
    this.host.wantPeers(this);
  }

  // ------------------------------------------------------------------ views

  stats(): TorrentStats {
    const now = this.host.clock.now();
    if (!this.metaValue) {
      return {
        state: this.currentState,
        progress: 0,
        piecesHave: 0,
        pieceCount: 0,
        downloaded: this.downloadedBytes,
        uploaded: this.uploadedBytes,
        downloadRate: 0,
        uploadRate: 0,
        peers: this.peers.size,
        seeds: 0,
        eta: undefined,
        left: UNKNOWN_LEFT,
      };
    }
    const info = this.metaValue.info;
    const have = this.picker?.have;
    const piecesHave = have?.count ?? 0;
    let haveBytes = 0;
    if (have) {
      haveBytes = piecesHave * info.pieceLength;
      if (have.get(info.pieceCount - 1)) haveBytes -= info.pieceLength - pieceSize(info, info.pieceCount - 1);
    }
    const left = info.totalLength - haveBytes;
    // Progress and ETA count what is wanted: with skipped files, the bytes of the pieces still wanted.
    let wantedTotal = info.totalLength;
    let wantedLeft = left;
    const picker = this.picker;
    if (picker && this.filePrioSet) {
      wantedTotal = 0;
      wantedLeft = 0;
      for (let i = 0; i < info.pieceCount; i++) {
        if (picker.piecePriority(i) === 0 && !picker.have.get(i)) continue;
        const size = pieceSize(info, i);
        wantedTotal += size;
        if (!picker.have.get(i)) wantedLeft += size;
      }
    }
    const downloadRate = this.downMeter.rate(now);
    let seeds = 0;
    for (const st of this.peers.values()) if (st.isSeed) seeds++;
    return {
      state: this.currentState,
      progress: wantedTotal === 0 ? 1 : (wantedTotal - wantedLeft) / wantedTotal,
      piecesHave,
      pieceCount: info.pieceCount,
      downloaded: this.downloadedBytes,
      uploaded: this.uploadedBytes,
      downloadRate,
      uploadRate: this.upMeter.rate(now),
      peers: this.peers.size,
      seeds,
      eta: wantedLeft === 0 ? 0 : downloadRate > 0 ? wantedLeft / downloadRate : undefined,
      left,
    };
  }

  peerList(): PeerInfo[] {
    const now = this.host.clock.now();
    const n = this.pieceCount;
    return [...this.peers.values()].map((st) => ({
      address: st.id,
      source: st.source,
      encryption: st.encryption,
      client: st.peer.clientName,
      outgoing: st.peer.conn.outgoing,
      transport: st.peer.conn.kind,
      progress: n === 0 ? 0 : st.peer.have.count / n,
      downloadRate: st.peer.down.rate(now),
      uploadRate: st.peer.up.rate(now),
      amChoking: st.peer.amChoking,
      amInterested: st.peer.amInterested,
      peerChoking: st.peer.peerChoking,
      peerInterested: st.peer.peerInterested,
    }));
  }

  /**
   * Resolves when every wanted piece is verified (every piece unless files are skipped; immediately if that is
   * already so); rejects on error.
   */
  waitForCompletion(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.picker?.finished && this.currentState === 'seeding') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        this.off('complete', onComplete);
        this.off('state', onState);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onComplete = (): void => {
        cleanup();
        resolve();
      };
      const onState = (s: TorrentState): void => {
        if (s === 'seeding' && this.picker?.finished) onComplete();
        else if (s === 'error') {
          cleanup();
          reject(this.errorValue);
        } else if (s === 'stopped') {
          cleanup();
          reject(new BtError('ERR_ABORTED', 'torrent stopped before completing', { op: 'stop' }));
        }
      };
      const onAbort = (): void => {
        cleanup();
        reject(new BtError('ERR_ABORTED', 'aborted', { op: 'stop' }));
      };
      this.on('complete', onComplete);
      this.on('state', onState);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
