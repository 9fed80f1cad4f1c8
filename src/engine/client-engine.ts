/**
 * ClientEngine: owns the listeners, the connection manager, the hashing workers and the torrents.
 * One `Deps` object holds every injected seam (clock, randomness, transport, storage, hasher, logger);
 * production defaults fill whatever a caller leaves out.
 */
import type { Clock, Timer } from '../core/clock.js';
import { BtError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { NullLogger } from '../core/logger.js';
import { NodeClock } from '../core/node-clock.js';
import type { Random } from '../core/random.js';
import { NodeRandom } from '../core/node-random.js';
import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import { parseMagnet, parseTorrent } from '../metainfo/index.js';
import { bencode } from '../bencode/index.js';
import { LsdService, createNodeMulticastSocket } from '../lsd/index.js';
// eslint-disable-next-line no-restricted-imports -- TODO(issue 13): moves behind Deps.stateFiles
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ConnectionManager, ListenManager } from '../peer/index.js';
import type { DialTarget } from '../peer/index.js';
import type { Hasher, PieceStorage } from '../storage/types.js';
import { FsStorage, WorkerHasher } from '../storage/index.js';
import { acquireRc4Offload } from '../mse/offload.js';
import type { Transport } from '../transport/index.js';
import { TcpTransport } from '../transport/index.js';
import { concatBytes, equalBytes, formatHostPort, parseHostPort, toHex } from '../util/bytes.js';
import * as dns from 'node:dns';
import * as os from 'node:os';
import { NodeUdpMux } from '../transport/udp/udp-mux.js';
import { DualTransport } from '../transport/dual-transport.js';
import { UtpTransport } from '../transport/utp/index.js';
import type { UdpMux } from '../transport/udp/udp-mux.js';
import { TrackerFactory } from '../tracker/factory.js';
import { HttpTracker } from '../tracker/http/index.js';
import type { HttpGet } from '../tracker/http/index.js';
import { UdpTracker } from '../tracker/udp/udp-tracker.js';
import type { Resolve } from '../tracker/udp/udp-tracker.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { SkeyIndex } from '../mse/index.js';
import { makePeerId, makeReserved, suggestedMaxMessageLength } from '../wire/index.js';
import type { EngineSettings } from '../torrent/settings.js';
import { resolveSettings } from '../torrent/settings.js';
import type { RateLimits, TorrentDht, TorrentHost } from '../torrent/torrent-manager.js';
import { DhtNode } from '../dht/index.js';
import type { PeerAddress } from '../dht/index.js';
import { TorrentManager } from '../torrent/torrent-manager.js';
import { TokenBucket } from '../util/token-bucket.js';
import { IpFilter } from '../util/ip-filter.js';
import { createNodeRangeFetcher, type NodeRangeFetcher, type RangeFetch } from '../webseed/http-range.js';
import { parseSocks5Url } from '../transport/socks5.js';
import { socks5Agent, type TcpProxy } from '../transport/socks5-connect.js';
import { nodeHttpGet } from '../tracker/http/http-get.js';
import type { LsdSocket } from '../lsd/index.js';
import { createNodePortForwarder, reportExternalAddress } from '../nat/index.js';
import type { ExternalAddressReport, NatMethod, NodePortForwarderOptions, PortForwarder, PortForwarderStatus, PortMapping } from '../nat/index.js';

/** Port forwarding as the engine reports it: the forwarder's status, or 'off' (setting, or not started). */
export type PortForwardingStatus = PortForwarderStatus | { state: 'off' };

/**
 * Reachability (issue 8): the external address the gateway reports, compared with what trackers report.
 * `doubleNat`: the gateway's WAN address is private (another NAT upstream), or a tracker sees a different
 * address than the gateway's private one. `cgnat`: the gateway's WAN address is in 100.64/10.
 */
export interface ReachabilityReport {
  /** Best guess at the address peers reach us on: a tracker's view, else the gateway's. */
  address: string | undefined;
  gateway: (ExternalAddressReport & { method: NatMethod }) | undefined;
  tracker: { address: string; source: string } | undefined;
  /** Gateway and tracker both answered and disagree. */
  mismatch: boolean;
  doubleNat: boolean;
  cgnat: boolean;
}

/** Where a torrent's fast-resume data is kept: `<downloadDir>/.torrentkit/<info-hash>.resume`. */
export function resumeDataPath(downloadDir: string, infoHashHex: string): string {
  return path.join(downloadDir, '.torrentkit', `${infoHashHex}.resume`);
}

/** Where fetched metadata is cached: `<downloadDir>/.torrentkit/<info-hash>.torrent`. */
export function metadataCachePath(downloadDir: string, infoHashHex: string): string {
  return path.join(downloadDir, '.torrentkit', `${infoHashHex}.torrent`);
}

export interface Deps {
  clock: Clock;
  random: Random;
  logger: Logger;
  transport: Transport;
  createStorage: (meta: Metainfo, downloadDir: string) => PieceStorage;
  createHasher: (workers: number) => Hasher;
  /** The shared UDP socket (UDP trackers; uTP and DHT later). */
  createUdp: () => EngineUdp;
  /** Host name → address, for UDP trackers (HTTP resolves by itself). */
  resolve: Resolve;
  /** Host name → all its addresses, IPv4 and IPv6 (DHT bootstrap routers); a literal gives itself. */
  resolveAll: (host: string) => Promise<string[]>;
  /** HTTP(S) GET for trackers; node:http by default. */
  httpGet: HttpGet | undefined;
  /** This machine's own addresses, so a tracker listing us is not dialed. */
  localAddresses: () => string[];
  /** The BEP 14 multicast socket (node:dgram on settings.lsdInterface by default). */
  createLsdSocket: (interfaceAddress: string, onError: (e: Error) => void) => Promise<LsdSocket>;
  /** Port forwarding on the home router (UPnP IGD, NAT-PMP, PCP); createNodePortForwarder by default. */
  createPortForwarder: (opts: NodePortForwarderOptions) => PortForwarder;
  /** HTTP(S) range GET for web seeds (BEP 19); node:http(s) with keep-alive by default. */
  fetchRange: RangeFetch | undefined;
}

/** A UdpMux the engine can bind and close. */
export interface EngineUdp extends UdpMux {
  bind(endpoints: readonly { host: string; port: number }[]): Promise<void>;
  close(): Promise<void>;
  /** Which address families have a socket (default: IPv4 only). */
  readonly families?: { v4: boolean; v6: boolean };
  onError: ((err: Error) => void) | undefined;
}

export interface AddTorrentOptions {
  /** Directory the torrent's files go under (as DIR/<name>/... for multi-file torrents). */
  downloadDir: string;
  /** Peers to try at once, "host:port". */
  peers?: string[];
  /** Extra trackers (one tier each URL list), tried after the torrent's own tiers. */
  trackers?: string[][];
  /** This torrent's own limits, bytes per second of piece data (the engine's apply as well; 0 = none). */
  maxDownloadRate?: number;
  maxUploadRate?: number;
  /** Priority per file (0 = skip, 1..7, 4 = normal); see TorrentManager.setFilePriority. */
  filePriorities?: readonly number[];
  /** Pieces in order (streaming) instead of rarest-first; see TorrentManager.sequential. */
  sequential?: boolean;
  /** BEP 53 select-only: download only these files (0-based), skip the others (overrides a magnet's `so=`). */
  selectOnly?: readonly number[];
  /** Stop seeding once uploaded / size reaches this (0: no limit). */
  seedRatioLimit?: number;
  /** Stop after seeding this long, ms (0: no limit). */
  seedTimeLimitMs?: number;
}

export interface EngineEvents {
  [k: string]: unknown[];
  'torrent-added': [torrent: TorrentManager];
  'torrent-removed': [torrent: TorrentManager];
  listening: [port: number];
  /** A tracker reported our external address. */
  'external-address': [address: string, source: string];
  warning: [message: string];
  /** One port mapping changed (pending, created, renewed, failed). */
  'port-mapping': [mapping: PortMapping];
  /** The mapping list changed: all of them. */
  'port-mappings': [mappings: readonly PortMapping[]];
  /** Port forwarding status: discovering, ready (methods), no-gateway (once, quietly), disposed. */
  'port-forwarding': [status: PortForwardingStatus];
  /** The gateway's or a tracker's view of our external address changed. */
  reachability: [report: ReachabilityReport];
}

export class ClientEngine extends TypedEmitter<EngineEvents> {
  readonly settings: EngineSettings;
  readonly peerId: Uint8Array;
  private readonly deps: Deps;
  private readonly torrents = new Map<string, TorrentManager>();
  private hasherInstance: Hasher | undefined;
  /** RC4 of encrypted connections runs in a worker thread (src/mse/offload.ts) while this lease is held. */
  private readonly rc4Lease = acquireRc4Offload();
  private readonly connections: ConnectionManager;
  private readonly listen: ListenManager;
  private started: Promise<void> | undefined;
  private port = 0;
  private ticker: Timer | undefined;
  private disposed = false;
  private readonly reserved: Uint8Array;
  /** Tracker kinds by URL scheme: register more (or replace these) before adding torrents. */
  readonly trackerFactory = new TrackerFactory();
  private udpSocket: EngineUdp | undefined;
  /** uTP over the shared UDP socket (when enabled and the socket opened). */
  private utp: UtpTransport | undefined;
  private readonly dual: DualTransport;
  private readonly trackerKey: number;
  private readonly selfAddresses = new Set<string>();
  private externalIp: string | undefined;
  /** MSE: SHA1('req2', info-hash) of every torrent, so an encrypted incoming connection finds its torrent. */
  private readonly skeys = new SkeyIndex();
  private lsd: LsdService | undefined;
  private lsdErrors = 0;
  /** BEP 5 node on the shared UDP socket (undefined: disabled, no socket, or not started yet). */
  private dhtNode: DhtNode | undefined;
  private detachDht: (() => void) | undefined;
  /** Port forwarding (undefined: off, or the engine has not started). */
  private forwarder: PortForwarder | undefined;
  /** TCP listen ports (the ListenManager's list also holds the uTP listener). */
  private tcpPorts: number[] = [];
  private externalSource = '';

  /** Storage comes from deps.createStorage (not the files under downloadDir): no resume data. */
  private readonly customStorage: boolean;
  /** settings.proxy, parsed. */
  private readonly proxy: TcpProxy | undefined;

  /** The default web seed fetcher (keep-alive agents), made on first use. */
  private rangeFetcher: NodeRangeFetcher | undefined;

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

  private ipFilterValue: IpFilter = IpFilter.empty;

  /** Queueing (maxActiveDownloads / maxActiveSeeds): is there a slot of this kind besides `t`'s own? */
  private mayActivate(t: TorrentManager, kind: 'download' | 'seed'): boolean {
    const limit = kind === 'download' ? this.settings.maxActiveDownloads : this.settings.maxActiveSeeds;
    if (limit <= 0) return true;
    let active = 0;
    for (const o of this.torrents.values()) {
      if (o === t) continue;
      if (kind === 'download' ? o.state === 'downloading' || o.state === 'metadata' : o.state === 'seeding') active++;
    }
    return active < limit;
  }

  /** Start queued torrents, oldest first, while slots allow. */
  private promoteQueued(): void {
    for (const t of this.torrents.values()) {
      if (t.state === 'queued' && this.mayActivate(t, t.queueKind)) void t.resumeFromQueue();
    }
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

  /** Global rate limits, shared by every torrent's budget. */
  private readonly rateBuckets = { download: new TokenBucket(), upload: new TokenBucket() };

  constructor(settings: Partial<EngineSettings> = {}, deps: Partial<Deps> = {}) {
    super();
    this.customStorage = deps.createStorage !== undefined;
    this.settings = resolveSettings(settings);
    this.proxy = this.settings.proxy ? parseSocks5Url(this.settings.proxy) : undefined;
    this.rateBuckets.download.setRate(this.settings.maxDownloadRate);
    this.rateBuckets.upload.setRate(this.settings.maxUploadRate);
    this.reserved = makeReserved({ extended: true, fast: true, dht: this.settings.dhtEnabled });
    const clock = deps.clock ?? new NodeClock();
    const random = deps.random ?? new NodeRandom();
    this.deps = {
      clock,
      random,
      logger: deps.logger ?? new NullLogger(),
      transport: deps.transport ?? new TcpTransport(this.proxy),
      createStorage: deps.createStorage ?? ((meta, dir) => new FsStorage(meta.info, dir)),
      createHasher: deps.createHasher ?? ((n) => new WorkerHasher({ workers: n })),
      createUdp: deps.createUdp ?? (() => new NodeUdpMux()),
      resolve: deps.resolve ?? defaultResolve,
      resolveAll: deps.resolveAll ?? defaultResolveAll,
      httpGet: deps.httpGet,
      localAddresses: deps.localAddresses ?? defaultLocalAddresses,
      createLsdSocket: deps.createLsdSocket ?? ((interfaceAddress, onError) => createNodeMulticastSocket({ interfaceAddress, onError })),
      createPortForwarder: deps.createPortForwarder ?? createNodePortForwarder,
      fetchRange: deps.fetchRange,
    };
    this.trackerKey = random.int(0x7fffffff);
    const s = this.settings;
    const httpTracker = (url: string): HttpTracker =>
      new HttpTracker({
        url,
        clock,
        get: this.deps.httpGet ?? (this.proxy ? proxiedHttpGet(this.proxy) : undefined),
        timeoutMs: s.trackerHttpTimeoutMs,
        maxResponseBytes: s.trackerMaxResponseBytes,
        userAgent: s.userAgent,
      });
    this.trackerFactory
      .register('http', httpTracker)
      .register('https', httpTracker)
      .register('udp', (url) => {
        return new UdpTracker({
          url,
          clock,
          random,
          udp: () => this.udpSocket,
          resolve: this.deps.resolve,
          baseTimeoutMs: s.udpTrackerBaseTimeoutMs,
          maxRetries: s.udpTrackerMaxRetries,
        });
      });
    this.peerId = makePeerId(this.settings.peerIdPrefix, random.bytes(12));
    const maxMessageLength = (t: DialTarget): number => Math.max(256 * 1024, suggestedMaxMessageLength(t.pieceCount));
    const s0 = this.settings;
    this.dual = new DualTransport({
      tcp: s0.enableTcp ? this.deps.transport : undefined,
      utp: () => (s0.enableUtp ? this.utp : undefined),
      prefer: s0.preferredTransport,
      firstAttemptTimeoutMs: s0.transportFallbackMs,
    });
    this.connections = new ConnectionManager({
      random,
      encryption: this.settings.encryption,
      clock,
      logger: this.deps.logger.forComponent('connections'),
      transport: this.dual,
      peerId: this.peerId,
      reserved: this.reserved,
      maxHalfOpen: this.settings.maxHalfOpen,
      connectTimeoutMs: this.settings.connectTimeoutMs,
      handshakeTimeoutMs: this.settings.handshakeTimeoutMs,
      maxMessageLength,
      openConnections: () => this.openConnections(),
      maxConnections: this.settings.maxConnections,
    });
    this.listen = new ListenManager({
      clock,
      random,
      encryption: this.settings.encryption,
      resolveSkey: this.skeys.resolve,
      logger: this.deps.logger.forComponent('listen'),
      transport: this.deps.transport,
      peerId: this.peerId,
      reserved: this.reserved,
      handshakeTimeoutMs: this.settings.handshakeTimeoutMs,
      route: (ih) => this.torrents.get(toHex(ih)),
      accepting: () => this.openConnections() + this.connections.pending < this.settings.maxConnections,
      blocked: (a) => this.ipFilterValue.blocked(a),
    });
  }

  /** Open the listeners. Called by the first torrent start; idempotent. */
  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new BtError('ERR_STATE', 'engine disposed', { op: 'start' }));
    this.started ??= (async () => {
      if (this.settings.enableTcp) this.port = await this.listen.start(this.settings.listenEndpoints);
      this.tcpPorts = this.settings.enableTcp ? this.listen.ports.slice() : [];
      await this.openUdp();
      await this.startUtp();
      this.selfAddresses.clear();
      for (const a of ['127.0.0.1', '::1', '0.0.0.0', '::', ...this.deps.localAddresses()]) this.selfAddresses.add(a);
      this.ticker = this.deps.clock.setInterval(() => this.pump(), 1000);
      this.startLsd();
      void this.startDht();
      this.startPortForwarding();
      this.emit('listening', this.port);
    })();
    return this.started;
  }

  /** Bind the shared UDP socket: the configured endpoints, or the TCP listen hosts on the TCP port. */
  private async openUdp(): Promise<void> {
    const eps = (this.settings.udpEndpoints.length > 0 ? this.settings.udpEndpoints : this.settings.listenEndpoints).map((e) => {
      const ep = parseHostPort(e);
      return this.settings.udpEndpoints.length > 0 ? ep : { host: ep.host, port: this.port || ep.port };
    });
    const udp = this.deps.createUdp();
    udp.onError = (e) => this.emit('warning', `UDP socket: ${e.message}`);
    try {
      await udp.bind(eps);
    } catch (e) {
      // Same port taken for UDP by someone else: any port will do for trackers.
      try {
        await udp.bind(eps.map((ep) => ({ host: ep.host, port: 0 })));
      } catch {
        this.emit('warning', `no UDP socket, UDP trackers disabled: ${(e as Error).message}`);
        return;
      }
    }
    this.udpSocket = udp;
  }

  /** BEP 14: one service for all torrents; its failures (no multicast route, ...) are quiet warnings. */
  private startLsd(): void {
    if (!this.settings.lsdEnabled || this.disposed) return;
    const lsd = new LsdService({
      clock: this.deps.clock,
      random: this.deps.random,
      port: this.port,
      socketFactory: () => this.deps.createLsdSocket(this.settings.lsdInterface, (e) => this.lsdError(e)),
      hasTorrent: (hex) => {
        const t = this.torrents.get(hex);
        return t !== undefined && this.lsdAllowed(t);
      },
      onPeer: (hex, host, port) => {
        const t = this.torrents.get(hex);
        if (!t || !this.lsdAllowed(t) || this.isSelf(host, port)) return;
        t.addPeer(formatHostPort(host, port), 'lsd');
      },
      onError: (e) => this.lsdError(e),
    });
    this.lsd = lsd;
    for (const t of this.torrents.values()) if (this.lsdAllowed(t) && (t.state === 'downloading' || t.state === 'seeding')) lsd.add(t.infoHashHex);
    lsd.start().catch((e: unknown) => {
      this.lsdError(e);
      if (this.lsd === lsd) this.lsd = undefined;
      void lsd.stop();
    });
  }

  /**
   * BEP 5 on the shared UDP socket. Bootstrap names are resolved first; a router that does not resolve (no
   * network, a loopback-only test namespace) is a quiet warning, never an error.
   */
  private async startDht(): Promise<void> {
    if (!this.settings.dhtEnabled || !this.udpSocket || this.dhtNode) return;
    const families = this.udpSocket.families ?? { v4: true, v6: false };
    const resolved = await Promise.all(
      this.settings.dhtBootstrap.map(async (ep): Promise<PeerAddress[]> => {
        const { host, port } = parseHostPort(ep);
        try {
          // Both families of a router's name: its IPv6 address bootstraps the IPv6 table (BEP 32).
          const ips = await this.deps.resolveAll(host);
          return ips.filter((ip) => (ip.includes(':') ? families.v6 : families.v4)).map((ip) => ({ host: ip, port }));
        } catch (e) {
          this.dhtWarning(`cannot resolve DHT bootstrap ${ep}: ${(e as Error).message}`);
          return [];
        }
      }),
    );
    const udp = this.udpSocket;
    if (this.disposed || !udp || this.dhtNode) return;
    const node = new DhtNode({
      clock: this.deps.clock,
      random: this.deps.random,
      bootstrap: resolved.flat(),
      // BEP 32: with an IPv6 socket the node keeps an IPv6 routing table too, asks for nodes6, and looks up and
      // announces in both.
      ipv6: families.v6,
    });
    this.dhtNode = node;
    this.detachDht = node.attach(udp);
    if (this.externalIp) node.setExternalAddress(this.externalIp);
    await this.loadDhtState(node);
    node.start();
  }

  /** The routing table of the last run (settings.dhtStateFile), so a restart does not bootstrap from nothing. */
  private async loadDhtState(node: DhtNode): Promise<void> {
    const file = this.settings.dhtStateFile;
    if (!file) return;
    try {
      const text = await readFile(file, 'utf8');
      if (text.length > 4 * 1024 * 1024) throw new Error('larger than 4 MiB');
      node.loadState(JSON.parse(text) as unknown);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.dhtWarning(`DHT state ${file} not loaded: ${(e as Error).message}`);
    }
  }

  private async saveDhtState(node: DhtNode): Promise<void> {
    const file = this.settings.dhtStateFile;
    if (!file) return;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(node.saveState()));
      await rename(tmp, file);
    } catch (e) {
      this.dhtWarning(`DHT state ${file} not saved: ${(e as Error).message}`);
    }
  }

  private dhtWarning(msg: string): void {
    this.deps.logger.debug(() => msg);
    this.emit('warning', msg);
  }

  /** What torrents use of the DHT: lookups, announces, nodes from `nodes` keys and PORT messages. */
  private torrentDht(): TorrentDht | undefined {
    const node = this.dhtNode;
    const udp = this.udpSocket;
    if (!node || !udp) return undefined;
    return {
      getPeers: (ih, o) => node.getPeers(ih, o),
      // Announce in each family's table that has nodes (BEP 32).
      announce: async (ih, port, o) => {
        const v4 = node.stats().nodes > 0 || node.stats().nodes6 === 0 ? node.announce(ih, port, o) : undefined;
        const v6 = node.stats().nodes6 > 0 ? node.announce(ih, port, { ...o, v6: true }) : undefined;
        const [r4, r6] = await Promise.all([v4, v6]);
        return r4 && r6 ? { ...r4, acked: r4.acked + r6.acked, peers: [...r4.peers, ...r6.peers] } : (r4 ?? r6)!;
      },
      addNode: (host, port) => {
        this.deps
          .resolve(host)
          .then((ip) => this.dhtNode?.addNode(ip, port))
          .catch((e: unknown) => this.dhtWarning(`cannot resolve DHT node ${host}: ${(e as Error).message}`));
      },
      port: udp.port,
    };
  }

  /** The DHT node (BEP 5): getPeers / announce / stats. Undefined when disabled or before the engine started. */
  get dht(): DhtNode | undefined {
    return this.dhtNode;
  }

  private lsdAllowed(t: TorrentManager): boolean {
    return t.hasMetadata && !t.meta.info.private;
  }

  private lsdError(e: unknown): void {
    const msg = `local peer discovery: ${e instanceof Error ? e.message : String(e)}`;
    // Quiet: a machine (or test namespace) without a multicast route is normal; say it once.
    if (this.lsdErrors++ === 0) this.deps.logger.info(msg);
    else this.deps.logger.debug(() => msg);
    this.emit('warning', msg);
  }

  /** uTP on the shared UDP socket: dialed through the DualTransport, accepted through the ListenManager. */
  private async startUtp(): Promise<void> {
    const udp = this.udpSocket;
    if (!this.settings.enableUtp || !udp) {
      if (!this.settings.enableTcp) throw new BtError('ERR_LISTEN', 'TCP is disabled and uTP has no UDP socket', { op: 'start' });
      return;
    }
    this.utp = new UtpTransport(udp, { clock: this.deps.clock, random: this.deps.random });
    const host = parseHostPort(this.settings.listenEndpoints[0] ?? '0.0.0.0:0').host;
    await this.listen.listenOn(this.utp, host, udp.port);
    // uTP only: peers reach us on the UDP port.
    if (!this.settings.enableTcp) this.port = udp.port;
  }

  /** The shared UDP socket's port (0 when it isn't open). */
  get udpPort(): number {
    return this.udpSocket?.port ?? 0;
  }

  /**
   * Issue 8: map the TCP listen ports and the shared UDP port on the gateway. Runs in the background: never
   * delays start(); no gateway is one quiet 'no-gateway' status.
   */
  private startPortForwarding(): void {
    if (!this.settings.portForwarding || this.disposed || this.forwarder) return;
    const s = this.settings;
    const pf = this.deps.createPortForwarder({
      clock: this.deps.clock,
      random: this.deps.random,
      logger: this.deps.logger,
      methods: { upnp: s.natMethods.includes('upnp'), natpmp: s.natMethods.includes('natpmp'), pcp: s.natMethods.includes('pcp') },
      upnpLeaseSeconds: s.natLeaseSeconds,
      natpmpLifetimeSeconds: s.natLeaseSeconds,
      ssdpTimeoutMs: s.natDiscoveryTimeoutMs,
    });
    this.forwarder = pf;
    pf.on('mapping', (m) => this.emit('port-mapping', m));
    pf.on('mappings', (ms) => this.emit('port-mappings', ms));
    pf.on('status', (st) => this.emit('port-forwarding', st));
    pf.on('externalAddress', (r) => {
      if (!r.doubleNat && !r.cgnat) this.selfAddresses.add(r.address);
      this.emit('reachability', this.reachability);
    });
    this.updatePortMappings();
  }

  /** Tell the forwarder which ports to keep mapped (after start, and whenever the listeners change). */
  private updatePortMappings(): void {
    if (!this.forwarder || this.disposed) return;
    const udp = this.udpSocket?.port;
    this.forwarder.setPorts({ tcp: this.tcpPorts, udp: udp ? [udp] : [] });
  }

  /** Port mappings on the gateway (copies): protocol, internal/external port, method, state, error, expiry. */
  get portMappings(): PortMapping[] {
    return this.forwarder?.mappings ?? [];
  }

  get portForwardingStatus(): PortForwardingStatus {
    return this.forwarder?.status ?? { state: 'off' };
  }

  /** The gateway's external address next to what trackers report, with double NAT / CGNAT flags. */
  get reachability(): ReachabilityReport {
    const gateway = this.forwarder?.externalAddressReport;
    const tracker = this.externalIp !== undefined ? { address: this.externalIp, source: this.externalSource } : undefined;
    const mismatch = gateway !== undefined && tracker !== undefined && gateway.address !== tracker.address;
    const seen = tracker ? reportExternalAddress(tracker.address) : undefined;
    return {
      address: tracker?.address ?? gateway?.address,
      gateway,
      tracker,
      mismatch,
      doubleNat: (gateway?.doubleNat ?? false) || (mismatch && gateway?.class !== 'public'),
      cgnat: (gateway?.cgnat ?? false) || (seen?.cgnat ?? false),
    };
  }

  /** Our address as trackers see it, when one said. */
  get externalAddress(): string | undefined {
    return this.externalIp;
  }

  private isSelf(host: string, port: number): boolean {
    if (port !== this.port && !this.listen.ports.includes(port)) return false;
    return this.selfAddresses.has(host);
  }

  /** The TCP port peers can reach us on (0 before start or with no listeners). */
  get listenPort(): number {
    return this.port;
  }

  get listenPorts(): number[] {
    return this.listen.ports;
  }

  private get hasher(): Hasher {
    this.hasherInstance ??= this.deps.createHasher(this.settings.hashWorkers);
    return this.hasherInstance;
  }

  private openConnections(): number {
    let n = 0;
    for (const t of this.torrents.values()) n += t.connectedPeers;
    return n;
  }

  private pump(): void {
    this.connections.pump(this.torrents.values());
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
    let src: Metainfo | MagnetLink;
    let peers = opts.peers ?? [];
    let trackers = opts.trackers;
    if (typeof source === 'string') src = parseMagnet(source);
    else if (source instanceof Uint8Array) src = parseTorrent(source);
    else src = source;
    let selectOnly: readonly number[] | undefined;
    if ((src as Metainfo).info === undefined) {
      const magnet = src as MagnetLink;
      selectOnly = magnet.selectOnly;
      peers = [...magnet.peers, ...peers];
      const cached = await this.loadCachedMetadata(opts.downloadDir, magnet.infoHashHex);
      if (cached) {
        src = cached;
        trackers = [...magnet.trackers.map((t) => [t]), ...(trackers ?? [])];
      }
    }
    if (this.torrents.has(src.infoHashHex)) {
      throw new BtError('ERR_DUPLICATE_TORRENT', `torrent ${src.infoHashHex} is already added`, { op: 'start' });
    }
    const hasher = (): Hasher => this.hasher;
    const host: TorrentHost = {
      clock: this.deps.clock,
      random: this.deps.random,
      logger: this.deps.logger,
      settings: this.settings,
      peerId: this.peerId,
      reserved: this.reserved,
      get hasher() {
        return hasher();
      },
      listenPort: () => this.port,
      createStorage: this.deps.createStorage,
      rateLimits: this.rateBuckets,
      ipBlocked: (a) => this.ipFilterValue.blocked(a),
      mayActivate: (t, kind) => this.mayActivate(t, kind),
      fetchRange: (url, start, length, o) => this.rangeFetch()(url, start, length, o),
      // Resume data describes the files under downloadDir: only for the default file storage.
      resumePath: (t) => (this.settings.fastResume && !this.customStorage ? resumeDataPath(t.downloadDir, t.infoHashHex) : undefined),
      wantPeers: () => this.pump(),
      createTracker: (url) => this.trackerFactory.create(url),
      trackerKey: this.trackerKey,
      isSelf: (h, p) => this.isSelf(h, p),
      externalAddress: (a, from) => {
        if (a === this.externalIp) return;
        this.externalIp = a;
        this.dhtNode?.setExternalAddress(a);
        this.selfAddresses.add(a);
        this.externalSource = from;
        this.emit('external-address', a, from);
        this.emit('reachability', this.reachability);
      },
      dht: () => this.torrentDht(),
      saveMetadata: (tm, meta) => {
        this.saveCachedMetadata(tm.downloadDir, meta).catch((e: unknown) =>
          this.emit('warning', `cannot cache the metadata of ${meta.infoHashHex}: ${(e as Error).message}`),
        );
      },
    };
    const t = new TorrentManager(host, src, opts.downloadDir, {
      trackers,
      maxDownloadRate: opts.maxDownloadRate,
      maxUploadRate: opts.maxUploadRate,
      filePriorities: opts.filePriorities,
      selectOnly: opts.selectOnly ?? selectOnly,
      sequential: opts.sequential,
      seedRatioLimit: opts.seedRatioLimit,
      seedTimeLimitMs: opts.seedTimeLimitMs,
    });
    this.torrents.set(src.infoHashHex, t);
    this.skeys.add(src.infoHash);
    for (const p of peers) t.addPeer(p);
    t.on('state', (s) => {
      if (s === 'checking' || s === 'metadata') void this.start().catch((e: unknown) => this.emit('warning', (e as Error).message));
      if ((s === 'downloading' || s === 'seeding') && this.lsdAllowed(t)) this.lsd?.add(t.infoHashHex);
      else if (s === 'stopped' || s === 'error' || s === 'paused') this.lsd?.remove(t.infoHashHex);
      // A slot may have freed up: a download finished or left, a seed left.
      if (s === 'seeding' || s === 'stopped' || s === 'error' || s === 'paused') this.promoteQueued();
    });
    this.emit('torrent-added', t);
    return t;
  }

  private async loadCachedMetadata(downloadDir: string, infoHashHex: string): Promise<Metainfo | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(metadataCachePath(downloadDir, infoHashHex));
    } catch {
      return undefined;
    }
    try {
      const meta = parseTorrent(bytes);
      return meta.infoHashHex === infoHashHex ? meta : undefined;
    } catch (e) {
      this.emit('warning', `ignoring the cached metadata of ${infoHashHex}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Write the fetched info dictionary as a .torrent (with the magnet's trackers), atomically. */
  private async saveCachedMetadata(downloadDir: string, meta: Metainfo): Promise<void> {
    const file = metadataCachePath(downloadDir, meta.infoHashHex);
    await mkdir(path.dirname(file), { recursive: true });
    const enc = new TextEncoder();
    // Keys in order: announce-list < info; the info dictionary goes in as its exact bytes.
    const parts: Uint8Array[] = [enc.encode('d')];
    if (meta.announceList.length > 0) parts.push(enc.encode('13:announce-list'), bencode(meta.announceList.map((t) => [...t])));
    parts.push(enc.encode('4:info'), meta.infoBytes, enc.encode('e'));
    const tmp = `${file}.${toHex(this.deps.random.bytes(4))}.tmp`;
    await writeFile(tmp, concatBytes(parts));
    await rename(tmp, file);
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
    this.skeys.delete(t.infoHash);
    this.lsd?.remove(t.infoHashHex);
    this.emit('torrent-removed', t);
  }

  /** Stop every torrent, close listeners, connections, workers and timers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.ticker?.cancel();
    // Mappings come down while the rest shuts down (bounded by the forwarder's disposeTimeoutMs).
    const unmapped = this.forwarder?.dispose().catch((e: unknown) => this.deps.logger.debug(() => `port forwarding dispose: ${(e as Error).message}`));
    this.connections.dispose();
    const lsd = this.lsd;
    this.lsd = undefined;
    await lsd?.stop().catch(() => undefined);
    await Promise.all([...this.torrents.values()].map((t) => t.stop()));
    for (const t of this.torrents.values()) t.dispose();
    await this.listen.stop();
    if (this.dhtNode) {
      this.dhtNode.stop();
      await this.saveDhtState(this.dhtNode);
    }
    this.detachDht?.();
    this.detachDht = undefined;
    this.utp?.close();
    this.utp = undefined;
    await this.udpSocket?.close();
    this.udpSocket = undefined;
    await this.hasherInstance?.destroy();
    this.rangeFetcher?.close();
    this.rangeFetcher = undefined;
    await this.rc4Lease.release();
    await unmapped;
  }
}

/** HTTP(S) GET (trackers) through a SOCKS5 proxy. */
function proxiedHttpGet(proxy: TcpProxy): HttpGet {
  return (url, o) => nodeHttpGet(url, { ...o, agentFor: (secure) => socks5Agent(proxy, secure) });
}

const defaultResolveAll = async (host: string): Promise<string[]> => {
  if (/^[\d.]+$/.test(host) || host.includes(':')) return [host];
  const all = await dns.promises.lookup(host, { all: true });
  return [...new Set(all.map((a) => a.address))];
};

const defaultResolve: Resolve = async (host) => {
  if (/^[\d.]+$/.test(host) || host.includes(':')) return host;
  const r = await dns.promises.lookup(host);
  return r.address;
};

function defaultLocalAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}
