/**
 * TorrentCore: the shared state of one torrent that its modes work on, and the transitions between modes. What a
 * mode does with peers, messages and ticks lives in modes/; each concern lives in its collaborator (PeerSet,
 * CandidatePool, FileSelection, TorrentRate, Uploader, Extensions, DhtAnnouncer, the TrackerManager; per
 * activation PieceAssembler, Requester, WebSeedSet). TorrentManager is the public face over this.
 */
import type { Timer } from '../core/index.js';
import { BtError } from '../core/index.js';
import type { BtErrorCode } from '../core/index.js';
import type { Logger } from '../core/index.js';
import type { MagnetLink, Metainfo } from '../metainfo/index.js';
import { pieceSize } from '../metainfo/index.js';
import type { PeerConnection, PeerHandler } from '../peer/index.js';
import type { PiecePicker } from '../picker/index.js';
import type { PieceStorage } from '../storage/index.js';
import type { TrackerManager } from '../tracker/index.js';
import { RateMeter, toHex } from '../util/index.js';
import type { Bitfield } from '../util/index.js';
import type { Message } from '../wire/index.js';
import { CandidatePool } from './candidate-pool.js';
import { DhtAnnouncer } from './dht-announcer.js';
import { Extensions } from './extensions.js';
import { FileSelection } from './file-selection.js';
import type { MetadataFetch } from './metadata-fetch.js';
import { DownloadingMode, SeedingMode } from './modes/active.js';
import { CheckingMode, storageOp } from './modes/checking.js';
import { ErrorMode } from './modes/error.js';
import { MetadataMode } from './modes/metadata.js';
import type { Mode } from './modes/mode.js';
import { StoppedMode } from './modes/stopped.js';
import { PeerSet } from './peer-set.js';
import type { PeerSession } from './peer-session.js';
import { PieceReadCache } from './read-cache.js';
import { ResumeWriter } from './resume-writer.js';
import { torrentStats } from './stats.js';
import { TorrentRate } from './torrent-rate.js';
import { createTrackerManager } from './trackers.js';
import type { PeerSource, TorrentEnv, TorrentEvents, TorrentOptions, TorrentStats } from './types.js';
import { Uploader } from './uploader.js';
import type { Download } from './download.js';
import type { Tickable } from './tick-scheduler.js';
import type { TorrentManager } from './torrent-manager.js';

/** How the core's parts tell the world: the TorrentManager's events. */
export interface TorrentEventSink {
  emit<K extends keyof TorrentEvents & string>(ev: K, ...args: TorrentEvents[K]): boolean;
  listenerCount<K extends keyof TorrentEvents & string>(ev: K): number;
}

export class TorrentCore {
  readonly log: Logger;
  readonly infoHashHex: string;
  readonly peers = new PeerSet();
  readonly pool = new CandidatePool((key) => this.peers.has(key));
  readonly selection = new FileSelection();
  readonly rate: TorrentRate;
  readonly uploader: Uploader;
  readonly extensions: Extensions;
  readonly dht: DhtAnnouncer;
  readonly trackers: TrackerManager | undefined;
  readonly magnetWebSeeds: readonly string[];
  readonly downMeter = new RateMeter(5);
  readonly upMeter = new RateMeter(5);
  /** Seeding limits (TorrentOptions; TorrentManager.setSeedLimits changes them on a live torrent). */
  seedRatioLimit: number;
  seedTimeLimitMs: number;
  /** This torrent's own peer limit (TorrentManager.peerLimit); undefined: settings.maxConnectionsPerTorrent. */
  maxPeers: number | undefined;
  downloaded = 0;
  uploaded = 0;
  meta: Metainfo | undefined;
  mode: Mode;
  error: BtError | undefined;
  /** Created when checking starts; kept while paused or queued; dropped at stop. */
  storage: PieceStorage | undefined;
  /** Exists once checked (downloading, seeding, queued, paused) until stop. */
  active: Download | undefined;
  readCache: PieceReadCache | undefined;
  /** Aborted at stop: checks, web seed fetches. */
  abort: AbortController | undefined;
  startPromise: Promise<void> | undefined;
  /** Figures at stop(), for the `stopped` announce that goes out after the pieces are forgotten. */
  stoppedStats: TorrentStats | undefined;
  /** The verified pieces at the last stop(), so a stopped torrent still shows its progress (RPC, files). */
  stoppedHave: Bitfield | undefined;
  /** When the torrent last became 'seeding' (clock ms). */
  seedingSince = 0;
  /** The next start hashes every piece, whatever the resume data says (recheck()). */
  forceFullCheck = false;
  sequential: boolean;
  /** Streaming: pieces readers need soon, nearest first, and how many of them are urgent (PiecePicker.setStreamPieces). */
  streamPieces: readonly number[] = [];
  streamUrgent = 0;
  /** stop() calls under way (the mode changes only when one ends): no peer may join, none is asked for. */
  private stopping = 0;
  readonly handler: PeerHandler;
  /** The one writer of this torrent's fast-resume data. */
  readonly resume: ResumeWriter;
  /** Its own once-a-second timer, when the engine gives no shared ticker (env.ticks). */
  private ticker: Timer | undefined;
  /** Between startTicker and stopTicker: the mode's tick runs while it has work (needsTick). */
  private ticking = false;
  /** This torrent as the engine's ticker sees it. */
  private readonly tickable: Tickable = {
    tick: (now) => {
      this.mode.tick(now);
      return this.ticking && this.needsTick();
    },
  };

  constructor(
    /** The TorrentManager the engine knows this torrent as. */
    readonly owner: TorrentManager,
    readonly events: TorrentEventSink,
    readonly env: TorrentEnv,
    source: Metainfo | MagnetLink,
    readonly magnet: MagnetLink | undefined,
    readonly downloadDir: string,
    opts: TorrentOptions,
  ) {
    this.infoHashHex = source.infoHashHex;
    this.magnetWebSeeds = 'webSeeds' in source ? source.webSeeds : [];
    this.log = env.logger.forComponent(`torrent ${source.infoHashHex.slice(0, 8)}`);
    this.rate = new TorrentRate(env.clock, env.rateLimits, () => this.wake());
    this.rate.setLimits({ download: opts.maxDownloadRate ?? 0, upload: opts.maxUploadRate ?? 0 });
    if (opts.filePriorities) opts.filePriorities.forEach((p, i) => this.selection.set(i, p));
    else if (opts.selectOnly) this.selection.selectOnly(opts.selectOnly);
    this.sequential = opts.sequential === true;
    for (const [k, v] of [['seedRatioLimit', opts.seedRatioLimit], ['seedTimeLimitMs', opts.seedTimeLimitMs]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new BtError('ERR_SETTINGS', `${k} must be >= 0, not ${v}`, { field: k });
    }
    this.seedRatioLimit = opts.seedRatioLimit ?? 0;
    this.seedTimeLimitMs = opts.seedTimeLimitMs ?? 0;
    this.maxPeers = opts.peerLimit;
    this.mode = new StoppedMode(this);
    if (env.peersChanged) this.peers.onSizeChange = (d) => env.peersChanged!(d);
    this.uploader = new Uploader(env.settings, env.random, env.clock, this.rate, {
      uploaded: (bytes, now) => {
        this.uploaded += bytes;
        this.upMeter.add(bytes, now);
      },
      warning: (m) => this.events.emit('warning', m),
    });
    this.extensions = new Extensions(env.settings, env.clock, {
      meta: () => this.meta,
      listenPort: () => env.listenPort(),
      finished: () => this.active?.picker.finished ?? false,
      pexAllowed: () => this.pexAllowed,
      fetch: () => this.fetch,
      handshaken: (st) => this.mode.onHandshaken(st),
      pexPeer: (host, port) => this.addCandidate(host, port, 'pex'),
      wantPeers: () => env.wantPeers(this.owner),
      isSelf: (h, p) => env.isSelf(h, p),
      warning: (m) => this.events.emit('warning', m),
      debug: (m) => this.log.debug(m),
    });
    this.dht = new DhtAnnouncer(source.infoHash, env.clock, this.log, {
      dht: () => env.dht?.(),
      allowed: () => this.dhtAllowed && env.dht !== undefined && this.connectable,
      nodes: () => this.meta?.nodes,
      listenPort: () => env.listenPort(),
      peer: (host, port) => {
        if (this.addCandidate(host, port, 'dht') && this.connectable) this.wantPeers();
      },
      isSelf: (h, p) => env.isSelf(h, p),
    });
    this.trackers = createTrackerManager(env, source, opts.trackers ?? [], {
      stats: () => this.stoppedStats ?? this.stats(),
      peers: (peers) => {
        let added = 0;
        // Trackers list the announcing peer too: never dial ourselves.
        for (const p of peers) if (!env.isSelf(p.host, p.port) && this.addCandidate(p.host, p.port, 'tracker')) added++;
        if (added > 0 && this.connectable) this.wantPeers();
      },
      warning: (w) => this.events.emit('warning', w),
      status: (st) => this.events.emit('tracker', st),
    });
    this.handler = {
      onMessage: (p, m) => this.onMessage(p, m),
      onClose: (p, reason) => this.onPeerClosed(p, reason),
      onDrain: (p) => {
        const st = this.peers.get(p.address);
        if (st && this.readCache) this.uploader.serve(st, this.readCache);
      },
      onError: (p, err, m) => this.onBug(p, err, m),
    };
    this.resume = new ResumeWriter({
      clock: env.clock,
      log: this.log,
      intervalMs: env.settings.resumeSaveIntervalMs,
      store: () => env.resume?.(this.owner),
      info: () => this.meta?.info,
      have: () => this.picker?.have,
      flush: () => this.storage?.flush?.() ?? Promise.resolve(),
    });
    if ('info' in source) this.setMeta(source);
  }

  get infoHash(): Uint8Array {
    return this.owner.infoHash;
  }

  /** Are peers dialed and accepted now (the mode says so, and the torrent is not stopping)? */
  get connectable(): boolean {
    return this.mode.connectable && this.stopping === 0;
  }

  /** The metadata fetch, while in metadata mode. */
  get fetch(): MetadataFetch | undefined {
    return this.mode instanceof MetadataMode ? this.mode.fetch : undefined;
  }

  get picker(): PiecePicker | undefined {
    return this.active?.picker;
  }

  /** May we use the DHT (BEP 5)? Not for private torrents; a magnet link may (by info-hash) until its metadata says private. */
  get dhtAllowed(): boolean {
    return this.env.settings.dhtEnabled && !this.meta?.info.private;
  }

  /** May we exchange peers (BEP 11)? Never for private torrents, nor before we know whether it is one. */
  get pexAllowed(): boolean {
    return this.env.settings.pexEnabled && this.meta !== undefined && !this.meta.info.private;
  }

  setMeta(meta: Metainfo): void {
    this.meta = meta;
    this.selection.setInfo(meta.info);
    this.readCache = new PieceReadCache(
      Math.max(this.env.settings.readCacheBytes, meta.info.pieceLength * 2),
      (i) => this.storage!.read(i, 0, pieceSize(meta.info, i)),
      (i) => pieceSize(meta.info, i),
    );
  }

  /** Switch modes: the old one exits, the state event goes out, the new one enters. */
  setMode(next: Mode): void {
    const prev = this.mode;
    prev.exit();
    this.mode = next;
    if (prev.state !== next.state) {
      if (next.state === 'seeding') this.seedingSince = this.env.clock.now();
      this.events.emit('state', next.state, prev.state);
    }
    next.enter();
    this.scheduleTick();
  }

  /** From stopped or error: fetch the metadata (a magnet) or check the data. */
  begin(): Promise<void> {
    this.abort = new AbortController();
    this.stoppedStats = undefined;
    this.error = undefined;
    if (!this.meta) {
      this.setMode(new MetadataMode(this));
      return Promise.resolve();
    }
    return this.check();
  }

  /** Check the data on disk, then queue or activate (CheckingMode). Resolves once checking is done. */
  check(): Promise<void> {
    this.abort = new AbortController();
    this.stoppedStats = undefined;
    this.error = undefined;
    const mode = new CheckingMode(this, this.abort.signal);
    this.setMode(mode);
    this.startPromise = mode.done;
    return mode.done;
  }

  /** Checked and admitted: download or seed (a seed creates its files first), and start the peer sources. */
  async activate(signal: AbortSignal): Promise<void> {
    const d = this.active!;
    if (d.picker.finished) {
      await storageOp(() => d.storage.ensureFiles(d.picker.complete ? undefined : this.selection.wanted));
      if (signal.aborted) return;
      this.setMode(new SeedingMode(this));
    } else {
      this.setMode(new DownloadingMode(this));
    }
    this.trackers?.start({ complete: d.picker.complete });
    this.dht.start();
    this.wantPeers();
  }

  /** Back from paused: downloading or seeding again, peers wanted. */
  resumeActive(): void {
    // finished, not complete: a selective download with every wanted piece seeds (as activate() decides).
    this.setMode(this.active!.picker.finished ? new SeedingMode(this) : new DownloadingMode(this));
    this.wantPeers();
  }

  /**
   * Disconnect peers, stop timers, flush and close files, save resume data (clean: trusted at the next start),
   * tell trackers. The torrent can be started again.
   */
  async stop(): Promise<void> {
    this.stopping++;
    try {
      await this.stopParts();
    } finally {
      this.stopping--;
    }
    if (!this.error) this.setMode(new StoppedMode(this));
  }

  private async stopParts(): Promise<void> {
    this.abort?.abort();
    this.stopTicker();
    this.rate.cancel();
    this.stoppedStats = this.stats();
    this.fetch?.stop();
    this.active?.webSeeds?.dispose();
    this.dht.stop();
    const announced = this.trackers?.stop();
    this.peers.closeAll('stopped');
    this.active?.assembler.dispose();
    this.readCache?.clear();
    const storage = this.storage;
    const have = this.picker?.have.clone();
    if (have) this.stoppedHave = have;
    const assembler = this.active?.assembler;
    // No periodic save may overlap the close (its flush would meet a closed storage): wait for one in flight.
    await this.resume.quiesce();
    this.storage = undefined;
    this.active = undefined;
    if (storage) {
      let closed = true;
      await storage.close().catch((e: unknown) => {
        closed = false;
        this.log.warn(`files not flushed and closed cleanly: ${e instanceof Error ? e.message : String(e)}`);
      });
      // After a clean close no write is in flight and every file's mtime is final: a clean save. Otherwise the
      // resume data of the last periodic save stays (what changed since is re-checked at the next start).
      if (have && closed) {
        // Pieces whose write was in flight at the stop are on disk now (close waited for them).
        for (const i of assembler?.writtenAfterDispose ?? []) have.set(i);
        await this.resume.final(have);
      }
    }
    await announced;
  }

  /** Periodic work may run from now on (checked, or fetching metadata): the mode's tick, while it has any. */
  startTicker(): void {
    this.ticking = true;
    const ticks = this.env.ticks;
    if (ticks) return this.scheduleTick();
    this.ticker?.cancel();
    this.ticker = this.env.clock.setInterval(() => this.mode.tick(this.env.clock.now()), 1000);
  }

  stopTicker(): void {
    this.ticking = false;
    this.env.ticks?.delete(this.tickable);
    this.ticker?.cancel();
    this.ticker = undefined;
  }

  /** Something that may give the mode periodic work happened (a peer joined, the mode changed): tick if so. */
  scheduleTick(): void {
    const ticks = this.env.ticks;
    if (ticks && this.ticking && this.needsTick()) ticks.add(this.tickable);
  }

  /**
   * Does the mode's tick have work? Downloading and fetching metadata always do (requests, web seeds, dialing);
   * seeding only with peers (choker, keep-alives, PEX) or a seed time limit to watch; the other modes never.
   */
  private needsTick(): boolean {
    const state = this.mode.state;
    if (state === 'downloading' || state === 'metadata') return true;
    if (state === 'seeding') return this.peers.size > 0 || this.seedTimeLimitMs > 0 || this.active?.webSeeds !== undefined;
    return false;
  }

  wantPeers(): void {
    if (this.stopping > 0) return;
    this.env.wantPeers(this.owner);
  }

  addCandidate(host: string, port: number, source: PeerSource): boolean {
    if (this.env.ipBlocked?.(host)) return false;
    return this.pool.add(host, port, source);
  }

  /** A limit changed or tokens came back: the mode requests and serves again. */
  wake(): void {
    this.rate.cancel();
    this.mode.wake();
  }

  /** The torrent cannot go on: error mode. `code` says whose failure it is (storage by default). */
  fail(e: unknown, code: BtErrorCode = 'ERR_STORAGE'): void {
    const err = e instanceof BtError ? e : new BtError(code, e instanceof Error ? e.message : String(e), { cause: e });
    this.error = err;
    this.log.error(`torrent failed: ${err.message}`);
    if (code === 'ERR_INTERNAL' && e instanceof Error && e.stack) this.log.error(e.stack);
    this.stopTicker();
    this.rate.cancel();
    this.dht.stop();
    // Verifications and web seed fetches still under way report nothing more: not a second failure now, nor
    // (after a restart replaced this download) a stale one that would fail the new run.
    this.active?.dispose();
    void this.resume.quiesce();
    this.peers.closeAll('torrent error');
    this.setMode(new ErrorMode(this));
    if (this.events.listenerCount('error') > 0) this.events.emit('error', err);
  }

  ban(st: PeerSession, reason: string): void {
    this.pool.ban(st.id);
    this.pool.banPeerId(toHex(st.peer.peerId));
    this.events.emit('peer-banned', st.id, reason);
    this.log.info(`banned ${st.id}: ${reason}`);
    st.close(`banned: ${reason}`);
  }

  stats(): TorrentStats {
    const now = this.env.clock.now();
    return torrentStats({
      state: this.mode.state,
      info: this.meta?.info,
      picker: this.picker,
      selective: this.selection.active,
      downloaded: this.downloaded,
      uploaded: this.uploaded,
      downloadRate: this.meta ? this.downMeter.rate(now) : 0,
      uploadRate: this.meta ? this.upMeter.rate(now) : 0,
      peers: this.peers.list(),
    });
  }

  /** Piece priorities follow the files; the mode then decides whether that changes its state. */
  applySelection(): void {
    const picker = this.picker;
    if (!picker || !this.meta || !this.selection.active) return;
    const prio = this.selection.piecePriorities(this.meta.info);
    for (let p = 0; p < prio.length; p++) picker.setPiecePriority(p, prio[p]!);
    this.mode.onSelectionChanged();
  }

  private onMessage(p: PeerConnection, m: Message): void {
    const st = this.peers.of(p);
    if (!st) return;
    if (m.type === 'extended') return this.extensions.onExtended(st, m.id, m.payload);
    this.mode.onMessage(st, m);
  }

  private onPeerClosed(p: PeerConnection, reason: string): void {
    const st = this.peers.of(p);
    if (!st) return;
    this.peers.delete(st);
    const picker = this.picker;
    if (picker) {
      picker.releasePeer(st.id);
      if (st.gotBitfield) picker.removePeerBitfield(st.have);
    }
    this.pool.closed(st.id, this.env.clock.now() + this.env.settings.reconnectBaseMs);
    this.events.emit('peer-disconnected', st.id, reason);
    this.log.debug(() => `peer ${st.id} closed: ${reason}`);
    this.mode.onPeerClosed(st);
  }

  /** Our own code threw while handling a peer's message: log it with the stack, close that peer, blame nobody. */
  private onBug(p: PeerConnection, err: unknown, m: Message): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.log.error(`internal error handling ${m.type} from ${p.address}: ${e.stack ?? e.message}`);
    this.events.emit('warning', `internal error handling ${m.type} from ${p.address}: ${e.message}`);
    p.close(`internal error: ${e.message}`);
  }
}
