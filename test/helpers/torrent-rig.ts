/**
 * A torrent test rig (after MonoTorrent's TestRig and libtorrent's fake_peer): one TorrentManager on a fake
 * TorrentEnv — FakeClock, SeededRandom, MemoryStorage, InlineHasher, resolveSettings() with DHT, LSD, PEX, uTP
 * and web seeds off — with scripted peers over memoryPair() connections. No sockets, no worker threads, no real
 * timers: every piece of async work in it is a microtask chain (memory connections, InlineHasher, MemoryStorage),
 * so `settle()` (one macrotask turn) runs it all to quiescence, and time moves only through `advance(ms)`.
 *
 *   const rig = await TorrentRig.create({ pieces: 6 });
 *   await rig.torrent.start();                      // checking → downloading
 *   const seed = await rig.connect();               // handshaken and attached
 *   seed.send({ type: 'bitfield', bits: ScriptedPeer.bits(rig.meta.info.pieceCount) });
 *   seed.send({ type: 'unchoke' });
 *   const req = await seed.next('request');         // bounded: throws after a few empty settles
 *   seed.servePieces(rig.content, rig.meta.info.pieceLength); // answer every request, now and later
 *   await rig.settle();
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FakeClock } from '../../src/core/fake-clock.js';
import { NullLogger } from '../../src/core/logger.js';
import { SeededRandom } from '../../src/core/node-random.js';
import { buildTorrent, formatMagnet, parseMagnet, parseTorrent } from '../../src/metainfo/index.js';
import type { MagnetLink, Metainfo } from '../../src/metainfo/types.js';
import { performHandshake } from '../../src/peer/handshake.js';
import { InlineHasher } from '../../src/storage/hasher.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import type { PieceStorage } from '../../src/storage/types.js';
import { resolveSettings } from '../../src/engine/settings.js';
import type { EngineSettings } from '../../src/engine/settings.js';
import { TorrentManager } from '../../src/torrent/torrent-manager.js';
import type { TorrentEnv, TorrentEvents, TorrentOptions, TorrentState } from '../../src/torrent/types.js';
import { memoryPair } from '../../src/transport/memory/memory-transport.js';
import type { Connection } from '../../src/transport/types.js';
import { equalBytes } from '../../src/util/bytes.js';
import { Bitfield } from '../../src/util/bitfield.js';
import type { RangeFetch } from '../../src/webseed/http-range.js';
import {
  FrameDecoder,
  decodeExtendedHandshake,
  decodeUtMetadata,
  encodeExtendedHandshake,
  encodeHandshake,
  encodeMessage,
  encodeUtMetadata,
  makePeerId,
  makeReserved,
} from '../../src/wire/index.js';
import type { ExtendedHandshake, Message, MessageType, UtMetadataMessage } from '../../src/wire/index.js';

// ------------------------------------------------------------------------------------------ payloads

/** Deterministic bytes (xorshift32), different per seed. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface TestTorrentOptions {
  /** Piece length (default 16 KiB: one block per piece). */
  pieceLength?: number;
  /** Pieces of a single-file torrent (default 6); the last one is `lastPieceShort` bytes shorter. */
  pieces?: number;
  lastPieceShort?: number;
  /** Multi-file torrent: file lengths (overrides `pieces`). */
  files?: number[];
  name?: string;
  seed?: number;
  /** BEP 19 web seeds (url-list). */
  urlList?: string[];
}

export interface TestTorrent {
  meta: Metainfo;
  /** The whole payload (meta.info.totalLength bytes). */
  content: Uint8Array;
  /** The .torrent file. */
  torrent: Uint8Array;
}

/** A small torrent built with the project's own buildTorrent + parseTorrent over deterministic bytes. */
export function makeTestTorrent(opts: TestTorrentOptions = {}): TestTorrent {
  const pieceLength = opts.pieceLength ?? 16 * 1024;
  const name = opts.name ?? 'rig';
  const total = opts.files ? opts.files.reduce((a, b) => a + b, 0) : (opts.pieces ?? 6) * pieceLength - (opts.lastPieceShort ?? 0);
  const content = patternBytes(total, opts.seed ?? 7);
  const n = Math.ceil(total / pieceLength);
  const hashes = new Uint8Array(n * 20);
  for (let i = 0; i < n; i++) hashes.set(createHash('sha1').update(content.subarray(i * pieceLength, (i + 1) * pieceLength)).digest(), i * 20);
  const torrent = buildTorrent({
    name,
    files: opts.files ? opts.files.map((length, i) => ({ path: [`f${i}.bin`], length })) : null,
    length: total,
    pieceLength,
    pieceHashes: hashes,
    urlList: opts.urlList,
  });
  return { meta: parseTorrent(torrent), content, torrent };
}

/** The bytes of piece `i` of a payload. */
export function pieceBytes(t: Pick<TestTorrent, 'meta' | 'content'>, i: number): Uint8Array {
  const pl = t.meta.info.pieceLength;
  return t.content.slice(i * pl, Math.min(t.meta.info.totalLength, (i + 1) * pl));
}

// ------------------------------------------------------------------------------------------ settling

/**
 * Let every microtask chain run to its end: one macrotask turn (the microtask queue is drained completely
 * before a setImmediate callback runs). `rounds` turns, for chains that cross a macrotask on purpose.
 */
export async function settle(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

// ------------------------------------------------------------------------------------------ the rig

export type RecordedEvent = { [K in keyof TorrentEvents & string]: { name: K; args: TorrentEvents[K] } }[keyof TorrentEvents & string];

const EVENT_NAMES = [
  'state',
  'checked',
  'piece-verified',
  'hash-failed',
  'peer-connected',
  'peer-disconnected',
  'peer-banned',
  'complete',
  'seed-limit',
  'metadata',
  'tracker',
  'warning',
  'error',
] as const satisfies readonly (keyof TorrentEvents & string)[];

export interface RigOptions extends TestTorrentOptions {
  /** Use this torrent instead of generating one. */
  torrent?: TestTorrent;
  /** Start from the magnet link (no metadata). */
  magnet?: boolean;
  /** The storage starts with the whole payload (a seed). */
  seeded?: boolean;
  /** Build the storage yourself (wrap a MemoryStorage to inject failures, say). */
  storage?: (meta: Metainfo, content: Uint8Array) => PieceStorage;
  /** Settings on top of the rig's defaults. */
  settings?: Partial<EngineSettings>;
  torrentOptions?: TorrentOptions;
  /** The engine's queue (TorrentEnv.mayActivate); absent: always yes. */
  mayActivate?: (kind: 'download' | 'seed') => boolean;
  fetchRange?: RangeFetch;
}

export interface ConnectOptions {
  /** BEP 6 fast extension bit (default false). */
  fast?: boolean;
  /** BEP 10 extension bit (default false). */
  extended?: boolean;
  /** The peer dialed us (default: we dialed it). */
  incoming?: boolean;
  /** The peer's port (default: a fresh one per peer); its address is 127.0.0.1:port. */
  port?: number;
  peerId?: Uint8Array;
}

export class TorrentRig {
  readonly clock = new FakeClock();
  readonly random = new SeededRandom(42);
  readonly settings: EngineSettings;
  readonly env: TorrentEnv;
  readonly torrent: TorrentManager;
  readonly meta: Metainfo;
  readonly content: Uint8Array;
  readonly magnet: MagnetLink | undefined;
  readonly peerId: Uint8Array;
  /** Every storage createStorage built, in order. */
  readonly storages: PieceStorage[] = [];
  /** Calls the torrent made to its env. */
  readonly calls = {
    wantPeers: 0,
    mayActivate: [] as ('download' | 'seed')[],
    saveMetadata: [] as Metainfo[],
  };
  /** Every event the torrent emitted, in order. */
  readonly events: RecordedEvent[] = [];
  readonly peers: ScriptedPeer[] = [];
  private nextPort = 40001;

  constructor(opts: RigOptions = {}) {
    const t = opts.torrent ?? makeTestTorrent(opts);
    this.meta = t.meta;
    this.content = t.content;
    this.settings = resolveSettings({
      dhtEnabled: false,
      lsdEnabled: false,
      pexEnabled: false,
      enableUtp: false,
      webSeedsEnabled: opts.fetchRange !== undefined,
      fastResume: false,
      portForwarding: false,
      listenEndpoints: ['127.0.0.1:6881'],
      ...opts.settings,
    });
    this.peerId = makePeerId('-TK0100-', this.random.bytes(12));
    const storageFor = opts.storage ?? ((meta: Metainfo, content: Uint8Array) => new MemoryStorage(meta.info, opts.seeded ? { content } : {}));
    const calls = this.calls;
    const env: TorrentEnv = {
      clock: this.clock,
      random: this.random,
      logger: new NullLogger(),
      settings: this.settings,
      peerId: this.peerId,
      reserved: makeReserved({ extended: true, fast: true }),
      hasher: new InlineHasher(),
      listenPort: () => 6881,
      createStorage: (meta) => {
        const s = storageFor(meta, this.content);
        this.storages.push(s);
        return s;
      },
      wantPeers: () => {
        calls.wantPeers++;
      },
      createTracker: (url) => {
        throw new Error(`the rig has no trackers (${url})`);
      },
      trackerKey: 1,
      isSelf: () => false,
      mayActivate: opts.mayActivate
        ? (_t, kind) => {
            calls.mayActivate.push(kind);
            return opts.mayActivate!(kind);
          }
        : undefined,
      saveMetadata: (_t, meta) => {
        calls.saveMetadata.push(meta);
      },
      fetchRange: opts.fetchRange,
    };
    this.env = env;
    this.magnet = opts.magnet ? parseMagnet(formatMagnet(t.meta)) : undefined;
    this.torrent = new TorrentManager(env, this.magnet ?? t.meta, '/rig', opts.torrentOptions);
    for (const name of EVENT_NAMES) {
      this.torrent.on(name, (...args: unknown[]) => this.events.push({ name, args } as RecordedEvent));
    }
  }

  /** The latest storage (the one a started torrent uses until it is stopped). */
  get storage(): PieceStorage {
    assert.ok(this.storages[0], 'no storage yet: start the torrent');
    return this.storages[this.storages.length - 1]!;
  }

  /** Start the torrent and settle. */
  async start(): Promise<void> {
    await this.torrent.start();
    await this.settle();
  }

  settle(rounds = 2): Promise<void> {
    return settle(rounds);
  }

  /** Move the fake clock (firing due timers in order), then settle. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }

  /** The events called `name`, their arguments. */
  eventsOf<K extends keyof TorrentEvents & string>(name: K): TorrentEvents[K][] {
    return this.events.filter((e) => e.name === name).map((e) => e.args as TorrentEvents[K]);
  }

  /** The states the torrent went through ('state' events), in order. */
  get states(): TorrentState[] {
    return this.eventsOf('state').map(([s]) => s);
  }

  /**
   * A scripted peer: the BEP 3 handshake runs over a memoryPair (performHandshake on the torrent's side, the
   * scripted peer's own on the other), then the torrent's end is attached with attachPeer, and the rig settles.
   * The peer may have been refused (see `peer.closed`).
   */
  async connect(opts: ConnectOptions = {}): Promise<ScriptedPeer> {
    const port = opts.port ?? this.nextPort++;
    const [a, b] = opts.incoming ? memoryPair(port, 6881) : memoryPair(6881, port);
    const ours = opts.incoming ? b : a;
    const theirs = opts.incoming ? a : b;
    const reserved = makeReserved({ fast: opts.fast === true, extended: opts.extended === true });
    const peerId = opts.peerId ?? makePeerId('-SP0001-', this.random.bytes(12));
    const peer = new ScriptedPeer(theirs, this.torrent.infoHash, peerId, reserved, `127.0.0.1:${port}`);
    const hs = performHandshake(ours, {
      clock: this.clock,
      timeoutMs: 10_000,
      reserved: this.env.reserved,
      peerId: this.peerId,
      maxMessageLength: 256 * 1024,
      ...(opts.incoming ? { route: (ih: Uint8Array) => (equalBytes(ih, this.torrent.infoHash) ? this.torrent.infoHash : undefined) } : { infoHash: this.torrent.infoHash }),
    });
    peer.start();
    const { remote, decoder } = await hs;
    this.torrent.attachPeer(ours, remote, decoder);
    this.peers.push(peer);
    await this.settle();
    return peer;
  }

  /** Stop the torrent (peers closed, storage closed) and settle. */
  async stop(): Promise<void> {
    await this.torrent.stop();
    await this.settle();
  }
}

// ------------------------------------------------------------------------------------------ scripted peers

type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/**
 * The far end of one connection: sends typed wire messages, records and decodes everything the torrent sends.
 * `next(type)` consumes the next unread message of a type (settling while there is none, then failing);
 * `received(type)` lists every one received so far.
 */
export class ScriptedPeer {
  /** Every message received, in order (the torrent's handshake is `handshake`). */
  readonly log: Message[] = [];
  handshake: { infoHash: Uint8Array; peerId: Uint8Array; reserved: Uint8Array } | undefined;
  closed = false;
  /** The extension ids we advertise in extendedHandshake() (what the torrent uses to write to us). */
  readonly ourExtensions: Record<string, number> = { ut_metadata: 3, ut_pex: 4 };
  private readonly unread: Message[] = [];
  private readonly decoder = new FrameDecoder({ maxMessageLength: 1024 * 1024, expectHandshake: true });
  private serving: { content: Uint8Array; pieceLength: number; tamper?: (index: number, begin: number, block: Uint8Array) => Uint8Array | undefined } | undefined;

  constructor(
    readonly conn: Connection,
    private readonly infoHash: Uint8Array,
    readonly peerId: Uint8Array,
    readonly reserved: Uint8Array,
    /** "127.0.0.1:port": the id the torrent knows this peer by. */
    readonly address: string,
  ) {}

  start(): void {
    this.conn.setHandlers({
      onData: (chunk) => this.onData(chunk),
      onDrain: () => {},
      onClose: () => {
        this.closed = true;
      },
    });
    this.conn.write(encodeHandshake({ reserved: this.reserved, infoHash: this.infoHash, peerId: this.peerId }));
  }

  // ---------------------------------------------------------------- sending

  send(...msgs: Message[]): void {
    for (const m of msgs) this.conn.write(encodeMessage(m));
  }

  sendRaw(bytes: Uint8Array): void {
    this.conn.write(bytes);
  }

  /** A bitfield of every piece (or of `pieces` only) for a torrent of `pieceCount` pieces. */
  static bits(pieceCount: number, pieces?: Iterable<number>): Uint8Array {
    const b = new Bitfield(pieceCount);
    if (pieces) for (const i of pieces) b.set(i);
    else b.setAll();
    return b.bytes;
  }

  /** Our BEP 10 handshake (m: ourExtensions unless given). */
  extendedHandshake(h: Partial<ExtendedHandshake> = {}): void {
    this.send({ type: 'extended', id: 0, payload: encodeExtendedHandshake({ m: this.ourExtensions, ...h }) });
  }

  /** A ut_metadata message, on the id the torrent advertised. */
  utMetadata(msg: UtMetadataMessage): void {
    const id = this.theirExtensions()['ut_metadata'];
    assert.ok(id, 'the torrent has not advertised ut_metadata');
    this.send({ type: 'extended', id, payload: encodeUtMetadata(msg) });
  }

  /**
   * Answer every request (those already received and unread, and every later one) with the block from `content`;
   * `tamper` may replace a block (corrupt data) or drop it (return undefined).
   */
  servePieces(content: Uint8Array, pieceLength: number, tamper?: (index: number, begin: number, block: Uint8Array) => Uint8Array | undefined): void {
    this.serving = { content, pieceLength, tamper };
    for (let m = this.take('request'); m; m = this.take('request')) this.answer(m);
  }

  stopServing(): void {
    this.serving = undefined;
  }

  close(): void {
    this.conn.close(false);
  }

  // ---------------------------------------------------------------- receiving

  /** Every `type` message received so far (read or not). */
  received<T extends MessageType>(type: T): MessageOf<T>[] {
    return this.log.filter((m): m is MessageOf<T> => m.type === type);
  }

  /** The types received so far, in order (keep-alives included). */
  get types(): MessageType[] {
    return this.log.map((m) => m.type);
  }

  /** Consume the next unread `type` message, if one is there now. */
  take<T extends MessageType>(type: T): MessageOf<T> | undefined {
    const i = this.unread.findIndex((m) => m.type === type);
    if (i < 0) return undefined;
    return this.unread.splice(i, 1)[0] as MessageOf<T>;
  }

  /** Every unread `type` message, consumed. */
  takeAll<T extends MessageType>(type: T): MessageOf<T>[] {
    const out: MessageOf<T>[] = [];
    for (let m = this.take(type); m; m = this.take(type)) out.push(m);
    return out;
  }

  /** The next unread `type` message; settles up to `rounds` times waiting for it, then fails with what did arrive. */
  async next<T extends MessageType>(type: T, rounds = 5): Promise<MessageOf<T>> {
    for (let i = 0; ; i++) {
      const m = this.take(type);
      if (m) return m;
      if (i >= rounds) assert.fail(`${this.address}: no '${type}' message (closed: ${this.closed}; received: ${this.types.join(', ') || 'nothing'})`);
      await settle(1);
    }
  }

  /** The torrent's latest BEP 10 handshake, decoded (undefined if none came). */
  theirExtendedHandshake(): ExtendedHandshake | undefined {
    const hs = this.log.filter((m): m is MessageOf<'extended'> => m.type === 'extended' && m.id === 0).pop();
    return hs ? decodeExtendedHandshake(hs.payload) : undefined;
  }

  theirExtensions(): Record<string, number> {
    return this.theirExtendedHandshake()?.m ?? {};
  }

  /** The ut_metadata messages the torrent sent us (on our advertised id), decoded. */
  utMetadataReceived(): UtMetadataMessage[] {
    return this.log
      .filter((m): m is MessageOf<'extended'> => m.type === 'extended' && m.id === this.ourExtensions['ut_metadata'])
      .map((m) => decodeUtMetadata(m.payload));
  }

  private onData(chunk: Uint8Array): void {
    this.decoder.push(chunk);
    for (let r = this.decoder.next(); r; r = this.decoder.next()) {
      if (r.kind === 'handshake') {
        this.handshake = r.handshake;
        continue;
      }
      const m = r.message;
      // Views into the pushed chunk: keep our own copies.
      const copy = 'block' in m ? { ...m, block: m.block.slice() } : 'payload' in m ? { ...m, payload: m.payload.slice() } : 'bits' in m ? { ...m, bits: m.bits.slice() } : m;
      this.log.push(copy);
      if (copy.type === 'request' && this.serving) this.answer(copy);
      else this.unread.push(copy);
    }
  }

  private answer(r: MessageOf<'request'>): void {
    const s = this.serving!;
    const at = r.index * s.pieceLength + r.begin;
    let block: Uint8Array | undefined = s.content.slice(at, at + r.length);
    if (s.tamper) block = s.tamper(r.index, r.begin, block);
    if (block) this.send({ type: 'piece', index: r.index, begin: r.begin, block });
  }
}
