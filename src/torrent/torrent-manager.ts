/**
 * TorrentManager: one torrent as the library's users and the engine see it. A facade: its state is its mode's
 * (modes/: stopped, metadata, checking, queued, downloading, seeding, paused, error), its work is done by the
 * TorrentCore's collaborators (see torrent-core.ts and docs/architecture.md). All state lives on the event loop;
 * disk I/O and hashing are awaited, never blocking.
 */
import { BtError } from '../core/index.js';
import type { MagnetLink, Metainfo } from '../metainfo/index.js';
import type { ConnectionEncryption } from '../peer/index.js';
import type { Connection } from '../transport/index.js';
import type { TrackerStatus } from '../tracker/index.js';
import type { TrackerManager } from '../tracker/index.js';
import { formatHostPort, parseHostPort } from '../util/index.js';
import { TypedEmitter } from '../util/index.js';
import type { FrameDecoder, Handshake } from '../wire/index.js';
import { peerInfo } from './stats.js';
import { TorrentCore } from './torrent-core.js';
import type { TorrentEventSink } from './torrent-core.js';
import type {
  FileStatus,
  PeerInfo,
  PeerSource,
  RateLimits,
  TorrentEnv,
  TorrentEvents,
  TorrentOptions,
  TorrentState,
  TorrentStats,
  WebSeedStatus,
} from './types.js';

export type {
  FileStatus,
  PeerInfo,
  PeerSource,
  RateLimits,
  TorrentDht,
  TorrentEnv,
  TorrentEvents,
  TorrentHost,
  TorrentOptions,
  TorrentState,
  TorrentStats,
  WebSeedStatus,
} from './types.js';
export { UT_METADATA_ID, UT_PEX_ID } from './extensions.js';

export class TorrentManager extends TypedEmitter<TorrentEvents> {
  /** The magnet link this torrent was added from (undefined for a .torrent). */
  readonly magnet: MagnetLink | undefined;
  readonly infoHash: Uint8Array;
  readonly infoHashHex: string;
  readonly downloadDir: string;
  readonly #core: TorrentCore;

  /** `source`: parsed metainfo, or a magnet link (the torrent then starts by fetching the metadata, BEP 9). */
  constructor(env: TorrentEnv, source: Metainfo | MagnetLink, downloadDir: string, opts: TorrentOptions = {}) {
    super();
    this.magnet = 'info' in source ? undefined : source;
    this.infoHash = source.infoHash;
    this.infoHashHex = source.infoHashHex;
    this.downloadDir = downloadDir;
    const events = { emit: this.emit.bind(this), listenerCount: this.listenerCount.bind(this) } as TorrentEventSink;
    this.#core = new TorrentCore(this, events, env, source, this.magnet, downloadDir, opts);
  }

  /** The torrent's metainfo. Throws until it is known (a magnet link before its metadata arrived): see hasMetadata. */
  get meta(): Metainfo {
    const meta = this.#core.meta;
    if (!meta) throw new BtError('ERR_STATE', 'the torrent has no metadata yet', { op: 'validate' });
    return meta;
  }

  get hasMetadata(): boolean {
    return this.#core.meta !== undefined;
  }

  // ------------------------------------------------------------------ lifecycle

  get state(): TorrentState {
    return this.#core.mode.state;
  }

  get error(): BtError | undefined {
    return this.#core.error;
  }

  get name(): string {
    return this.#core.meta?.info.name ?? this.magnet?.displayName ?? this.infoHashHex;
  }

  get complete(): boolean {
    return this.#core.picker?.complete ?? false;
  }

  /**
   * The verified pieces as a bitfield (BitTorrent order: bit 0 is the high bit of byte 0): live while the torrent
   * runs, as of its last stop() when stopped; undefined before its first check or without metadata. The engine's
   * own bytes: read, don't change.
   */
  get haveBitfield(): Uint8Array | undefined {
    return (this.#core.picker?.have ?? this.#core.stoppedHave)?.bytes;
  }

  get pieceCount(): number {
    return this.#core.meta?.info.pieceCount ?? 0;
  }

  /** Check existing data, then download or seed. Resolves once checking is done. */
  start(): Promise<void> {
    return this.#core.mode.start();
  }

  /** Disconnect every peer but keep the data open; start() resumes at once. Only while downloading or seeding. */
  pause(): void {
    this.#core.mode.pause();
  }

  /** Disconnect peers, stop timers, close files. The torrent can be started again. */
  stop(): Promise<void> {
    return this.#core.stop();
  }

  /** Release what outlives stop() (tracker clients); the torrent can't be started again. */
  dispose(): void {
    this.#core.trackers?.dispose();
  }

  /**
   * Check every piece on disk again, ignoring resume data (after files were changed behind the engine's back,
   * say). A running torrent is stopped and started again; a stopped one checks on its next start.
   */
  async recheck(): Promise<void> {
    const core = this.#core;
    core.forceFullCheck = true;
    if (!core.meta || !core.mode.started) return;
    await this.stop();
    await this.start();
  }

  /** What slot a queued torrent waits for: a seed slot once every wanted piece is there. */
  get queueKind(): 'download' | 'seed' {
    return this.#core.picker?.finished ? 'seed' : 'download';
  }

  /** Leave the queue (the engine calls this when a slot frees up). */
  resumeFromQueue(): Promise<void> {
    return this.#core.mode.leaveQueue();
  }

  // ------------------------------------------------------------------ peers in and out

  /** Add a peer address to try ("ip:port" or "[v6]:port"). */
  addPeer(address: string, source: PeerSource = 'manual'): void {
    const { host, port } = parseHostPort(address);
    if (this.#core.addCandidate(host, port, source) && this.#core.connectable) this.#core.wantPeers();
  }

  /** Per-tracker status (announce order): last and next announce, peers, seeders, leechers, last error. */
  get trackers(): TrackerStatus[] {
    return this.#core.trackers?.status ?? [];
  }

  /** Announce to the trackers now (respecting their min interval). */
  announce(): void {
    this.#core.trackers?.announce();
  }

  /** Scrape the torrent's working tracker. */
  scrape(opts: { signal?: AbortSignal } = {}): ReturnType<TrackerManager['scrape']> {
    const t = this.#core.trackers;
    if (!t) return Promise.reject(new BtError('ERR_TRACKER', 'torrent has no trackers', { op: 'scrape' }));
    return t.scrape(opts);
  }

  get connectedPeers(): number {
    return this.#core.peers.size;
  }

  /** This torrent's connection limit: its own (TorrentOptions.peerLimit) or settings.maxConnectionsPerTorrent. */
  get peerLimit(): number {
    return this.#core.maxPeers ?? this.#core.env.settings.maxConnectionsPerTorrent;
  }

  /** Change the connection limit (a positive integer; undefined: back to the setting). Peers over it are not cut. */
  set peerLimit(n: number | undefined) {
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw new BtError('ERR_SETTINGS', `peerLimit must be a positive integer, not ${n}`, { op: 'settings', field: 'peerLimit' });
    this.#core.maxPeers = n;
    if (this.#core.connectable) this.#core.wantPeers();
  }

  /** Connections this torrent may still open (per-torrent limit). */
  get openSlots(): number {
    const core = this.#core;
    if (!core.connectable) return 0;
    return Math.max(0, this.peerLimit - core.peers.size - core.pool.connecting);
  }

  /** The next address to dial, marked as connecting; undefined when none is due. */
  takeCandidate(now: number): { host: string; port: number } | undefined {
    return this.#core.pool.take(now);
  }

  /** Candidates neither connected nor being dialed (the connection manager keeps such a torrent in its pump). */
  hasCandidates(): boolean {
    return this.#core.pool.hasWaiting();
  }

  /** Connection attempt result from the connection manager. */
  dialFailed(host: string, port: number, reason: string): void {
    const core = this.#core;
    const key = formatHostPort(host, port);
    const c = core.pool.dialFailed(key, core.env.clock.now(), core.env.settings.reconnectBaseMs);
    if (!c) return;
    // Peers the user named get their first failure said out loud (e.g. "encryption is required" on a plaintext peer).
    if (c.source === 'manual' && c.failures === 1) this.emit('warning', `peer ${key}: ${reason}`);
    if (core.pool.get(key)) core.log.debug(() => `dial ${key} failed (${reason}); retry #${c.failures}`);
  }

  /** Can this torrent take one more (incoming or dialed) connection? */
  acceptsPeer(): boolean {
    return this.#core.connectable && this.#core.peers.size < this.peerLimit;
  }

  /** A connection whose handshake has completed joins the swarm (or is refused: not active, banned, ourselves...). */
  attachPeer(conn: Connection, remote: Handshake, decoder: FrameDecoder, encryption: ConnectionEncryption = 'none'): void {
    try {
      this.#attach(conn, remote, decoder, encryption);
    } catch (e) {
      // Our bug, not the peer's: say so with the stack, drop the connection, keep the torrent and the engine.
      const err = e instanceof Error ? e : new Error(String(e));
      this.#core.log.error(`internal error attaching ${conn.remoteAddress}:${conn.remotePort}: ${err.stack ?? err.message}`);
      conn.close(false);
    }
  }

  #attach(conn: Connection, remote: Handshake, decoder: FrameDecoder, encryption: ConnectionEncryption): void {
    const core = this.#core;
    const env = core.env;
    const st = core.peers.admit(
      conn,
      remote,
      decoder,
      encryption,
      core.pool,
      {
        accepting: core.connectable,
        ourPeerId: env.peerId,
        maxConnections: this.peerLimit,
        pieceCount: this.pieceCount,
        clock: env.clock,
        handler: core.handler,
      },
      (why) => core.log.debug(() => why),
    );
    if (!st) return;
    core.mode.onPeerAttached(st);
    core.scheduleTick();
    this.emit('peer-connected', st.id);
    core.log.debug(() => `peer ${st.id} connected (${conn.outgoing ? 'out' : 'in'})`);
    st.peer.start();
  }

  /** Close the connections of peers whose address `blocked` says no to, and forget such candidates. */
  dropBlocked(blocked: (address: string) => boolean): number {
    let n = 0;
    for (const st of this.#core.peers.list()) {
      if (blocked(st.peer.conn.remoteAddress)) {
        st.close('address is on the blocklist');
        n++;
      }
    }
    this.#core.pool.dropBlocked(blocked);
    return n;
  }

  // ------------------------------------------------------------------ what to download, how fast

  /**
   * Sequential download (streaming, e.g. to play a video while it downloads): new pieces are requested in order,
   * within the highest file priority, instead of rarest-first. It costs the swarm piece diversity; switch it off
   * once the start of the file is there if that matters.
   */
  get sequential(): boolean {
    return this.#core.sequential;
  }

  set sequential(on: boolean) {
    this.#core.sequential = on;
    const picker = this.#core.picker;
    if (picker) picker.sequential = on;
  }

  /**
   * Streaming priority (used by src/stream): the pieces readers need soon, nearest first; the first `urgent` are
   * urgent (re-requested from another peer when they lag). They are requested before anything else; an empty list
   * returns to normal picking. `cancelOutside` (a seek): cancel the outstanding requests for every other piece.
   * Kept across stop/start. Returns the number of Cancels sent.
   */
  setStreamPieces(pieces: readonly number[], urgent: number, opts: { cancelOutside?: boolean } = {}): number {
    const core = this.#core;
    const n = this.pieceCount;
    for (const i of pieces) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new BtError('ERR_RANGE', `piece ${i} out of range (${n} pieces)`, { op: 'validate' });
    }
    core.streamPieces = [...pieces];
    core.streamUrgent = urgent;
    return core.active?.setStream(core.streamPieces, urgent, opts.cancelOutside === true) ?? 0;
  }

  /** Is this piece verified (and so readable with readPiece)? */
  hasPiece(index: number): boolean {
    return this.#core.picker?.have.get(index) === true;
  }

  /**
   * A verified piece's bytes, through the read cache (the one uploads use: memory stays bounded). Rejects with
   * ERR_STATE when the piece is not verified or the torrent's files are not open (stopped, error, metadata).
   */
  readPiece(index: number): Promise<Uint8Array> {
    const core = this.#core;
    if (!core.storage || !core.readCache || !this.hasPiece(index)) {
      return Promise.reject(new BtError('ERR_STATE', `piece ${index} is not readable (not verified, or the torrent is not active)`, { op: 'read' }));
    }
    return core.readCache.get(index);
  }

  /** The torrent's files with their priorities and verified bytes (empty until a magnet's metadata arrives). */
  get files(): FileStatus[] {
    const core = this.#core;
    return core.meta ? core.selection.files(core.meta.info, core.picker?.have ?? core.stoppedHave) : [];
  }

  /**
   * Set one file's priority (0 = skip, 1..7; 4 = normal). Takes effect at once: skipped files' pieces are no
   * longer requested (unless a wanted file shares them), and a torrent whose wanted files are all complete is
   * 'seeding' until a file is wanted again.
   */
  setFilePriority(fileIndex: number, priority: number): void {
    this.#core.selection.set(fileIndex, priority);
    this.#core.applySelection();
  }

  /** Set several files' priorities at once (index = file; undefined entries are left as they are). */
  setFilePriorities(priorities: readonly (number | undefined)[]): void {
    priorities.forEach((p, i) => {
      if (p !== undefined) this.#core.selection.set(i, p);
    });
    this.#core.applySelection();
  }

  /** This torrent's own rate limits (bytes per second of piece data; 0 = none). The engine's limits apply as well. */
  get rateLimits(): RateLimits {
    return this.#core.rate.limits;
  }

  setRateLimits(limits: Partial<RateLimits>): void {
    this.#core.rate.setLimits(limits);
    this.#core.wake();
  }

  /** A limit changed or tokens came back: request and serve again. */
  wakeRateLimited(): void {
    this.#core.wake();
  }

  /** The seeding limits now (TorrentOptions.seedRatioLimit / seedTimeLimitMs; 0 = none). */
  get seedLimits(): { ratio: number; timeMs: number } {
    return { ratio: this.#core.seedRatioLimit, timeMs: this.#core.seedTimeLimitMs };
  }

  /** Change the seeding limits on a live torrent (0 = none); a seeding torrent checks them on its next tick. */
  setSeedLimits(limits: { ratio?: number; timeMs?: number }): void {
    for (const [k, v] of Object.entries(limits)) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new BtError('ERR_SETTINGS', `seed limit ${k} must be >= 0, not ${v}`, { op: 'settings', field: k });
    }
    if (limits.ratio !== undefined) this.#core.seedRatioLimit = limits.ratio;
    if (limits.timeMs !== undefined) this.#core.seedTimeLimitMs = limits.timeMs;
  }

  /** Payload bytes moved over this TorrentManager's whole life (all its runs), cheap to read often. */
  get transferred(): { downloaded: number; uploaded: number } {
    return { downloaded: this.#core.downloaded, uploaded: this.#core.uploaded };
  }

  /** The torrent's web seeds (url-list, and the magnet's ws) with their state; empty when not downloading. */
  get webSeeds(): WebSeedStatus[] {
    return this.#core.active?.webSeeds?.status(this.#core.env.clock.now()) ?? [];
  }

  // ------------------------------------------------------------------ views

  stats(): TorrentStats {
    return this.#core.stats();
  }

  peerList(): PeerInfo[] {
    const now = this.#core.env.clock.now();
    return this.#core.peers.list().map((st) => peerInfo(st, this.pieceCount, now));
  }

  /**
   * Resolves when every wanted piece is verified (every piece unless files are skipped; immediately if that is
   * already so); rejects on error.
   */
  waitForCompletion(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const finished = (): boolean => this.#core.picker?.finished === true && this.state === 'seeding';
    if (finished()) return Promise.resolve();
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
        if (finished()) onComplete();
        else if (s === 'error') {
          cleanup();
          reject(this.#core.error);
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
