/**
 * ClientEngine: the facade. It owns the listeners, the connection manager, the hashing workers and the torrents,
 * and composes the parts beside it: settings.ts (EngineSettings), deps.ts (every seam to the outside world, with
 * production defaults for whatever a caller leaves out), udp.ts (the shared UDP socket and uTP), dht-service.ts,
 * local-discovery.ts (BEP 14), reachability.ts (port forwarding, external address), queue.ts, metadata-cache.ts,
 * and torrent-env.ts (what each torrent gets of the engine).
 */
import type { Timer } from '../core/index.js';
import { BtError } from '../core/index.js';
import type { MagnetLink, Metainfo } from '../metainfo/index.js';
import { parseMagnet, parseTorrent } from '../metainfo/index.js';
import { ConnectionManager, ListenManager } from '../peer/index.js';
import type { DialTarget } from '../peer/index.js';
import type { Hasher } from '../storage/index.js';
import { acquireRc4Offload } from '../mse/index.js';
import { SkeyIndex } from '../mse/index.js';
import { DualTransport } from '../transport/index.js';
import type { UtpTransport } from '../transport/index.js';
import { parseSocks5Url } from '../transport/index.js';
import { socks5Agent, type TcpProxy } from '../transport/index.js';
import { TrackerFactory } from '../tracker/index.js';
import { equalBytes, toHex } from '../util/index.js';
import { IpFilter } from '../util/index.js';
import { TokenBucket } from '../util/index.js';
import { TypedEmitter } from '../util/index.js';
import { createNodeRangeFetcher, type NodeRangeFetcher, type RangeFetch } from '../webseed/index.js';
import type { DhtNode } from '../dht/index.js';
import { makePeerId, makeReserved, suggestedMaxMessageLength } from '../wire/index.js';
import type { RateLimits, TorrentHost, TorrentOptions } from '../torrent/index.js';
import { CheckSlots, TickScheduler, TorrentManager } from '../torrent/index.js';
import type { PortMapping } from '../nat/index.js';
import { defaultDeps, registerTrackerKinds } from './deps.js';
import type { Deps, EngineUdp } from './deps.js';
import { DhtService } from './dht-service.js';
import type { EngineEvents, PortForwardingStatus, ReachabilityReport } from './events.js';
import { LocalDiscovery } from './local-discovery.js';
import { loadCachedMetadata } from './metadata-cache.js';
import { QueueBook } from './queue.js';
import type { QueueLimits } from './queue.js';
import { Reachability } from './reachability.js';
import { resolveSettings } from './settings.js';
import type { EngineSettings } from './settings.js';
import { createTorrentEnv, watchTorrentState } from './torrent-env.js';
import { openUdp, startUtp } from './udp.js';

export type { Deps, EngineUdp } from './deps.js';
export type { EngineEvents, PortForwardingStatus, ReachabilityReport } from './events.js';
export { metadataCachePath } from './metadata-cache.js';
export { resumeDataPath } from './torrent-env.js';

/** A torrent's options (TorrentOptions) plus where its files go and peers to try at once. */
export interface AddTorrentOptions extends TorrentOptions {
  /** Directory the torrent's files go under (as DIR/<name>/... for multi-file torrents). */
  downloadDir: string;
  /** Peers to try at once, "host:port". */
  peers?: string[];
}

/**
 * Torrents checking their data at once. Enough to keep the hashers and the file system busy with small torrents
 * (a fast-resume start is mostly waiting on a few file operations); more only queue thousands of file operations
 * behind each other and stall the event loop (bench/scale.ts: 1,000 torrents started at once).
 */
const CHECK_SLOTS = 16;

export class ClientEngine extends TypedEmitter<EngineEvents> {
  readonly settings: EngineSettings;
  readonly peerId: Uint8Array;
  /** Tracker kinds by URL scheme: register more (or replace these) before adding torrents. */
  readonly trackerFactory = new TrackerFactory();
  private readonly deps: Deps;
  private readonly torrents = new Map<string, TorrentManager>();
  /** Torrents per state and the queued ones, for queue decisions without walking every torrent. */
  private readonly queue = new QueueBook<TorrentManager>();
  private hasherInstance: Hasher | undefined;
  /** RC4 of encrypted connections runs in a worker thread (src/mse/offload.ts) while this lease is held. */
  private readonly rc4Lease = acquireRc4Offload();
  private readonly connections: ConnectionManager;
  private readonly listen: ListenManager;
  private started: Promise<void> | undefined;
  private port = 0;
  private ticker: Timer | undefined;
  /** The torrents' periodic work: one timer for the engine, running only while some torrent has such work. */
  private readonly ticks: TickScheduler;
  /** Connected peers over all torrents, kept by the torrents' peer sets (+1 / -1), never recounted. */
  private peerCount = 0;
  private disposed = false;
  private readonly reserved: Uint8Array;
  private udpSocket: EngineUdp | undefined;
  /** uTP over the shared UDP socket (when enabled and the socket opened). */
  private utp: UtpTransport | undefined;
  /** MSE: SHA1('req2', info-hash) of every torrent, so an encrypted incoming connection finds its torrent. */
  private readonly skeys = new SkeyIndex();
  private readonly dhtService: DhtService;
  private readonly lsd: LocalDiscovery;
  private readonly reach: Reachability;
  /** The TorrentHost every torrent gets. */
  private readonly env: TorrentHost;
  /** settings.proxy, parsed. */
  private readonly proxy: TcpProxy | undefined;
  /** The default web seed fetcher (keep-alive agents), made on first use. */
  private rangeFetcher: NodeRangeFetcher | undefined;
  private ipFilterValue: IpFilter = IpFilter.empty;
  /** Queue sizes (settings.maxActiveDownloads / maxActiveSeeds until setQueueLimits changes them). */
  private readonly queueLimits: QueueLimits;
  /** Global rate limits, shared by every torrent's budget. */
  private readonly rateBuckets = { download: new TokenBucket(), upload: new TokenBucket() };

  constructor(settings: Partial<EngineSettings> = {}, deps: Partial<Deps> = {}) {
    super();
    this.settings = resolveSettings(settings);
    const s = this.settings;
    this.proxy = s.proxy ? parseSocks5Url(s.proxy) : undefined;
    this.rateBuckets.download.setRate(s.maxDownloadRate);
    this.rateBuckets.upload.setRate(s.maxUploadRate);
    this.queueLimits = { maxActiveDownloads: s.maxActiveDownloads, maxActiveSeeds: s.maxActiveSeeds };
    this.reserved = makeReserved({ extended: true, fast: true, dht: s.dhtEnabled });
    this.deps = defaultDeps(deps, this.proxy);
    const { clock, random } = this.deps;
    const trackerKey = random.int(0x7fffffff);
    this.ticks = new TickScheduler(clock);
    registerTrackerKinds(this.trackerFactory, this.deps, s, this.proxy, () => this.udpSocket);
    this.peerId = makePeerId(s.peerIdPrefix, random.bytes(12));
    const warn = (msg: string): void => void this.emit('warning', msg);
    this.dhtService = new DhtService(s, this.deps, warn);
    this.reach = new Reachability(s, this.deps, (ev, ...args) => void this.emit(ev, ...args), (p) => p === this.port || this.listen.ports.includes(p));
    this.lsd = new LocalDiscovery(s, this.deps, (hex) => this.torrents.get(hex), (h, p) => this.reach.isSelf(h, p), warn);
    const dual = new DualTransport({
      tcp: s.enableTcp ? this.deps.transport : undefined,
      utp: () => (s.enableUtp ? this.utp : undefined),
      prefer: s.preferredTransport,
      firstAttemptTimeoutMs: s.transportFallbackMs,
    });
    const common = { clock, random, encryption: s.encryption, peerId: this.peerId, reserved: this.reserved, handshakeTimeoutMs: s.handshakeTimeoutMs };
    this.connections = new ConnectionManager({
      ...common,
      logger: this.deps.logger.forComponent('connections'),
      transport: dual,
      maxHalfOpen: s.maxHalfOpen,
      connectTimeoutMs: s.connectTimeoutMs,
      maxMessageLength: (t: DialTarget) => Math.max(256 * 1024, suggestedMaxMessageLength(t.pieceCount)),
      openConnections: () => this.openConnections(),
      maxConnections: s.maxConnections,
    });
    this.listen = new ListenManager({
      ...common,
      resolveSkey: this.skeys.resolve,
      logger: this.deps.logger.forComponent('listen'),
      transport: this.deps.transport,
      maxHalfOpenIncoming: s.maxHalfOpenIncoming,
      maxIncomingPerIp: s.maxIncomingPerIp,
      route: (ih) => this.torrents.get(toHex(ih)),
      accepting: () => this.openConnections() + this.connections.pending < s.maxConnections,
      blocked: (a) => this.ipFilterValue.blocked(a),
    });
    this.env = createTorrentEnv({
      deps: this.deps,
      settings: s,
      peerId: this.peerId,
      reserved: this.reserved,
      customStorage: deps.createStorage !== undefined,
      trackerFactory: this.trackerFactory,
      trackerKey,
      rateBuckets: this.rateBuckets,
      reachability: this.reach,
      hasher: () => this.hasher,
      listenPort: () => this.port,
      ipBlocked: (a) => this.ipFilterValue.blocked(a),
      mayActivate: (t, kind) => this.queue.mayActivate(this.queueLimits, t, kind),
      rangeFetch: () => this.rangeFetch(),
      wantPeers: (t) => this.connections.want(t),
      ticks: this.ticks,
      checkSlots: new CheckSlots(CHECK_SLOTS),
      peersChanged: (d) => {
        this.peerCount += d;
      },
      externalAddress: (a) => this.dhtService.setExternalAddress(a),
      dht: () => this.dhtService.torrentDht(this.udpSocket),
      warn,
    });
  }

  /** Open the listeners. Called by the first torrent start; idempotent. */
  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new BtError('ERR_STATE', 'engine disposed', { op: 'start' }));
    this.started ??= (async () => {
      const s = this.settings;
      const warn = (msg: string): void => void this.emit('warning', msg);
      if (s.enableTcp) this.port = await this.listen.start(s.listenEndpoints);
      const tcpPorts = s.enableTcp ? this.listen.ports.slice() : [];
      this.udpSocket = await openUdp(s, this.deps, this.port, warn);
      this.utp = await startUtp(s, this.deps, this.udpSocket, this.listen);
      // uTP only: peers reach us on the UDP port.
      if (this.utp && !s.enableTcp) this.port = this.udpSocket!.port;
      this.reach.start(tcpPorts, this.udpPort);
      this.ticker = this.deps.clock.setInterval(() => this.pump(), 1000);
      if (!this.disposed) this.lsd.start(this.port, this.torrents.values());
      void this.dhtService.start(this.udpSocket, () => this.disposed);
      if (!this.disposed) this.reach.startPortForwarding();
      this.emit('listening', this.port);
    })();
    return this.started;
  }

  /** Same as addTorrent: a magnet URI, .torrent bytes or parsed metainfo. */
  add(source: string | MagnetLink | Uint8Array | Metainfo, opts: AddTorrentOptions): Promise<TorrentManager> {
    return this.addTorrent(source, opts);
  }

  /**
   * Add a torrent from a magnet URI, .torrent bytes or parsed metainfo. It starts stopped; call `start()`
   * on it. A magnet link starts by fetching the metadata from peers (state 'metadata'), unless it was
   * fetched before and cached under `<downloadDir>/.torrentkit/`.
   */
  async addTorrent(source: string | MagnetLink | Uint8Array | Metainfo, opts: AddTorrentOptions): Promise<TorrentManager> {
    if (this.disposed) throw new BtError('ERR_STATE', 'engine disposed', { op: 'start' });
    const { downloadDir, peers: extraPeers, ...torrentOpts } = opts;
    let src: Metainfo | MagnetLink;
    if (typeof source === 'string') src = parseMagnet(source);
    else if (source instanceof Uint8Array) src = parseTorrent(source);
    else src = source;
    // BEP 52 downloads (merkle piece checks, hash requests) are not built yet: see src/metainfo/NOTES-v2.md.
    if ((src as Metainfo).version === 2 || (src as MagnetLink).v2Only === true) {
      throw new BtError('ERR_UNSUPPORTED', 'downloading v2-only torrents is not supported yet (a hybrid torrent downloads as v1)', { op: 'start' });
    }
    let peers = extraPeers ?? [];
    let trackers = torrentOpts.trackers;
    let selectOnly = torrentOpts.selectOnly;
    if ((src as Metainfo).info === undefined) {
      const magnet = src as MagnetLink;
      selectOnly ??= magnet.selectOnly;
      peers = [...magnet.peers, ...peers];
      const cached = await loadCachedMetadata(this.deps.stateFiles, downloadDir, magnet.infoHashHex, (m) => this.emit('warning', m));
      if (cached) {
        src = cached;
        trackers = [...magnet.trackers.map((t) => [t]), ...(trackers ?? [])];
      }
    }
    if (this.torrents.has(src.infoHashHex)) {
      throw new BtError('ERR_DUPLICATE_TORRENT', `torrent ${src.infoHashHex} is already added`, { op: 'start' });
    }
    const t = new TorrentManager(this.env, src, downloadDir, { ...torrentOpts, trackers, selectOnly });
    this.torrents.set(src.infoHashHex, t);
    this.queue.add(t);
    this.skeys.add(src.infoHash);
    for (const p of peers) t.addPeer(p);
    watchTorrentState(t, {
      moved: (x, st) => this.queue.moved(x, st),
      start: () => this.start(),
      lsdAdd: (x) => this.lsd.add(x),
      lsdRemove: (x) => this.lsd.remove(x),
      promoteQueued: () => this.promoteQueued(),
      warn: (m) => this.emit('warning', m),
    });
    this.emit('torrent-added', t);
    return t;
  }

  getTorrent(infoHash: Uint8Array | string): TorrentManager | undefined {
    const hex = typeof infoHash === 'string' ? infoHash.toLowerCase() : toHex(infoHash);
    return this.torrents.get(hex);
  }

  get torrentList(): TorrentManager[] {
    return [...this.torrents.values()];
  }

  async removeTorrent(t: TorrentManager): Promise<void> {
    const mine = this.torrents.get(t.infoHashHex);
    if (!mine || !equalBytes(mine.infoHash, t.infoHash)) return;
    await t.stop();
    t.dispose();
    this.torrents.delete(t.infoHashHex);
    this.queue.remove(t);
    this.connections.forget(t);
    this.skeys.delete(t.infoHash);
    this.lsd.remove(t);
    this.emit('torrent-removed', t);
  }

  /** The DHT node (BEP 5): getPeers / announce / stats. Undefined when disabled or before the engine started. */
  get dht(): DhtNode | undefined {
    return this.dhtService.node;
  }

  /** The shared UDP socket's port (0 when it isn't open). */
  get udpPort(): number {
    return this.udpSocket?.port ?? 0;
  }

  /** The TCP port peers can reach us on (0 before start or with no listeners). */
  get listenPort(): number {
    return this.port;
  }

  get listenPorts(): number[] {
    return this.listen.ports;
  }

  /** Port mappings on the gateway (copies): protocol, internal/external port, method, state, error, expiry. */
  get portMappings(): PortMapping[] {
    return this.reach.portMappings;
  }

  get portForwardingStatus(): PortForwardingStatus {
    return this.reach.portForwardingStatus;
  }

  /** The gateway's external address next to what trackers report, with double NAT / CGNAT flags. */
  get reachability(): ReachabilityReport {
    return this.reach.report;
  }

  /** Our address as trackers see it, when one said. */
  get externalAddress(): string | undefined {
    return this.reach.externalAddress;
  }

  /** The IP blocklist (empty by default): peers at these addresses are neither dialed nor accepted. */
  get ipFilter(): IpFilter {
    return this.ipFilterValue;
  }

  /** Replace the blocklist; connected peers it now blocks are disconnected. Returns how many were. */
  setIpFilter(filter: IpFilter | undefined): number {
    this.ipFilterValue = filter ?? IpFilter.empty;
    let n = 0;
    for (const t of this.torrents.values()) n += t.dropBlocked((a) => this.ipFilterValue.blocked(a));
    return n;
  }

  /** The global rate limits now (bytes per second of piece data, 0 = none); they start as the settings say. */
  get rateLimits(): RateLimits {
    return { download: this.rateBuckets.download.rate, upload: this.rateBuckets.upload.rate };
  }

  /** Change the global rate limits on the running engine; every torrent follows at once. */
  setRateLimits(limits: Partial<RateLimits>): void {
    for (const [k, v] of Object.entries(limits)) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new BtError('ERR_SETTINGS', `rate limit ${k} must be >= 0 bytes per second, not ${v}`, { op: 'settings', field: k });
      }
    }
    if (limits.download !== undefined) this.rateBuckets.download.setRate(limits.download);
    if (limits.upload !== undefined) this.rateBuckets.upload.setRate(limits.upload);
    for (const t of this.torrents.values()) t.wakeRateLimited();
  }

  /** The queue sizes now (0 = no limit); they start as settings.maxActiveDownloads / maxActiveSeeds say. */
  get queueSizes(): { maxActiveDownloads: number; maxActiveSeeds: number } {
    return { ...this.queueLimits };
  }

  /** Change the queue sizes on the running engine (0 = no limit); queued torrents start at once if slots opened. */
  setQueueLimits(limits: Partial<QueueLimits>): void {
    for (const [k, v] of Object.entries(limits)) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
        throw new BtError('ERR_SETTINGS', `${k} must be a whole number >= 0, not ${v}`, { op: 'settings', field: k });
      }
    }
    if (limits.maxActiveDownloads !== undefined) this.queueLimits.maxActiveDownloads = limits.maxActiveDownloads;
    if (limits.maxActiveSeeds !== undefined) this.queueLimits.maxActiveSeeds = limits.maxActiveSeeds;
    this.promoteQueued();
  }

  /** Stop every torrent, close listeners, connections, workers and timers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.ticker?.cancel();
    // Mappings come down while the rest shuts down.
    const unmapped = this.reach.dispose();
    this.connections.dispose();
    await this.lsd.stop();
    await Promise.all([...this.torrents.values()].map((t) => t.stop()));
    for (const t of this.torrents.values()) t.dispose();
    await this.listen.stop();
    await this.dhtService.stop();
    this.utp?.close();
    this.utp = undefined;
    await this.udpSocket?.close();
    this.udpSocket = undefined;
    this.ticks.dispose();
    await this.hasherInstance?.destroy();
    this.rangeFetcher?.close();
    this.rangeFetcher = undefined;
    await this.rc4Lease.release();
    await unmapped;
  }

  /** Start queued torrents, oldest first, while slots allow. */
  private promoteQueued(): void {
    for (const t of this.queue.toPromote(this.queueLimits)) void t.resumeFromQueue();
  }

  private rangeFetch(): RangeFetch {
    if (this.deps.fetchRange) return this.deps.fetchRange;
    const proxy = this.proxy;
    this.rangeFetcher ??= createNodeRangeFetcher(
      this.deps.clock,
      this.settings.userAgent,
      proxy ? { http: socks5Agent(proxy, false), https: socks5Agent(proxy, true) } : undefined,
    );
    return this.rangeFetcher.fetch;
  }

  private get hasher(): Hasher {
    this.hasherInstance ??= this.deps.createHasher(this.settings.hashWorkers);
    return this.hasherInstance;
  }

  /** Open connections over all torrents (a counter: the global limit reads it on every dial and accept). */
  private openConnections(): number {
    return this.peerCount;
  }

  /** Dial for the torrents that want peers (the connection manager's wanting set; not every torrent). */
  private pump(): void {
    this.connections.pump();
  }
}
