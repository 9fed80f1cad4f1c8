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
import type { Metainfo } from '../metainfo/types.js';
import { parseTorrent } from '../metainfo/index.js';
import { ConnectionManager, ListenManager } from '../peer/index.js';
import type { DialTarget } from '../peer/index.js';
import type { Hasher, PieceStorage } from '../storage/types.js';
import { FsStorage, WorkerHasher } from '../storage/index.js';
import type { Transport } from '../transport/index.js';
import { TcpTransport } from '../transport/index.js';
import { equalBytes, toHex } from '../util/bytes.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { makePeerId, makeReserved, suggestedMaxMessageLength } from '../wire/index.js';
import type { EngineSettings } from '../torrent/settings.js';
import { resolveSettings } from '../torrent/settings.js';
import type { TorrentHost } from '../torrent/torrent-manager.js';
import { TorrentManager } from '../torrent/torrent-manager.js';

export interface Deps {
  clock: Clock;
  random: Random;
  logger: Logger;
  transport: Transport;
  createStorage: (meta: Metainfo, downloadDir: string) => PieceStorage;
  createHasher: (workers: number) => Hasher;
}

export interface AddTorrentOptions {
  /** Directory the torrent's files go under (as DIR/<name>/... for multi-file torrents). */
  downloadDir: string;
  /** Peers to try at once, "host:port". */
  peers?: string[];
}

export interface EngineEvents {
  [k: string]: unknown[];
  'torrent-added': [torrent: TorrentManager];
  'torrent-removed': [torrent: TorrentManager];
  listening: [port: number];
  warning: [message: string];
}

export class ClientEngine extends TypedEmitter<EngineEvents> {
  readonly settings: EngineSettings;
  readonly peerId: Uint8Array;
  private readonly deps: Deps;
  private readonly torrents = new Map<string, TorrentManager>();
  private hasherInstance: Hasher | undefined;
  private readonly connections: ConnectionManager;
  private readonly listen: ListenManager;
  private started: Promise<void> | undefined;
  private port = 0;
  private ticker: Timer | undefined;
  private disposed = false;
  private readonly reserved = makeReserved({ extended: true, fast: true, dht: false });

  constructor(settings: Partial<EngineSettings> = {}, deps: Partial<Deps> = {}) {
    super();
    this.settings = resolveSettings(settings);
    const clock = deps.clock ?? new NodeClock();
    const random = deps.random ?? new NodeRandom();
    this.deps = {
      clock,
      random,
      logger: deps.logger ?? new NullLogger(),
      transport: deps.transport ?? new TcpTransport(),
      createStorage: deps.createStorage ?? ((meta, dir) => new FsStorage(meta.info, dir)),
      createHasher: deps.createHasher ?? ((n) => new WorkerHasher({ workers: n })),
    };
    this.peerId = makePeerId(this.settings.peerIdPrefix, random.bytes(12));
    const maxMessageLength = (t: DialTarget): number => Math.max(256 * 1024, suggestedMaxMessageLength(t.pieceCount));
    this.connections = new ConnectionManager({
      clock,
      logger: this.deps.logger.forComponent('connections'),
      transport: this.deps.transport,
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
      logger: this.deps.logger.forComponent('listen'),
      transport: this.deps.transport,
      peerId: this.peerId,
      reserved: this.reserved,
      handshakeTimeoutMs: this.settings.handshakeTimeoutMs,
      route: (ih) => this.torrents.get(toHex(ih)),
      accepting: () => this.openConnections() + this.connections.pending < this.settings.maxConnections,
    });
  }

  /** Open the listeners. Called by the first torrent start; idempotent. */
  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new BtError('ERR_STATE', 'engine disposed', { op: 'start' }));
    this.started ??= (async () => {
      this.port = await this.listen.start(this.settings.listenEndpoints);
      this.ticker = this.deps.clock.setInterval(() => this.pump(), 1000);
      this.emit('listening', this.port);
    })();
    return this.started;
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

  /** Add a torrent from .torrent bytes or parsed metainfo. It starts stopped; call `start()` on it. */
  async addTorrent(source: Uint8Array | Metainfo, opts: AddTorrentOptions): Promise<TorrentManager> {
    if (this.disposed) throw new BtError('ERR_STATE', 'engine disposed', { op: 'start' });
    const meta = source instanceof Uint8Array ? parseTorrent(source) : source;
    if (this.torrents.has(meta.infoHashHex)) {
      throw new BtError('ERR_DUPLICATE_TORRENT', `torrent ${meta.infoHashHex} is already added`, { op: 'start' });
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
      wantPeers: () => this.pump(),
    };
    const t = new TorrentManager(host, meta, opts.downloadDir);
    this.torrents.set(meta.infoHashHex, t);
    for (const p of opts.peers ?? []) t.addPeer(p);
    t.on('state', (s) => {
      if (s === 'checking') void this.start().catch((e: unknown) => this.emit('warning', (e as Error).message));
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
    const mine = this.torrents.get(t.meta.infoHashHex);
    if (!mine || !equalBytes(mine.infoHash, t.infoHash)) return;
    await t.stop();
    this.torrents.delete(t.meta.infoHashHex);
    this.emit('torrent-removed', t);
  }

  /** Stop every torrent, close listeners, connections, workers and timers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.ticker?.cancel();
    this.connections.dispose();
    await Promise.all([...this.torrents.values()].map((t) => t.stop()));
    await this.listen.stop();
    await this.hasherInstance?.destroy();
  }
}
