/**
 * A whole swarm of real ClientEngines (one seed, N leechers) on a SimNetwork under one FakeClock, deterministic
 * for a seed. Scenarios switch on a corrupting leecher, a seed that leaves once the leechers hold every piece
 * between them, and churn (leechers that stop and start again, or leave for good).
 *
 * Everything an engine does is injected: the clock (FakeClock), randomness (SeededRandom per engine, derived
 * from the seed and the peer's name), the transport (SimNetwork), storage (MemoryStorage behind a wrapper that
 * survives a stop/start), hashing (InlineHasher: synchronous SHA-1, no worker threads), the tracker (SimTracker
 * behind Deps.httpGet), name resolution, local addresses; UDP, LSD, port forwarding and web seeds get inert
 * stand-ins, and the settings turn DHT, LSD, uTP, encryption and fast resume off.
 *
 * The trace is a SHA-256 over the ordered event lines (virtual time, peer, event): connections opened, refused
 * and closed on the network; peers connected, disconnected and banned, pieces verified, hash failures, state
 * changes and completions in the engines.
 */
import { createHash } from 'node:crypto';
import { ClientEngine } from '../../../src/index.js';
import type { Deps, EngineSettings, Metainfo, TorrentManager } from '../../../src/index.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { NullLogger, TextLogger } from '../../../src/core/logger.js';
import type { Logger } from '../../../src/core/logger.js';
import { BtError } from '../../../src/core/errors.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { InlineHasher, MemoryStateFiles } from '../../../src/storage/index.js';
import type { PieceStorage } from '../../../src/storage/index.js';
import type { EngineUdp } from '../../../src/engine/index.js';
import { guardGlobals, runUntil } from './driver.js';
import type { LeakCounts } from './driver.js';
import { SimNetwork } from './sim-network.js';
import type { NetworkOptions, NetEvent } from './sim-network.js';
import { SimTracker } from './sim-tracker.js';

export interface SwarmOptions {
  seed: number;
  /** Leechers (default 20). */
  leechers?: number;
  /** Torrent size in bytes (default 16 MiB) and piece length (default 256 KiB). */
  sizeBytes?: number;
  pieceLength?: number;
  network?: NetworkOptions;
  /** Leecher indices whose storage serves flipped bytes (they upload corrupt data). */
  corrupt?: number[];
  /** The seed stops as soon as the leechers hold every piece between them (it uploaded each piece at least once). */
  seedLeaves?: boolean;
  /** Leechers join, stop and start again, and leave for good at random virtual times (from the seed). */
  churn?: boolean;
  /** Leechers start at random virtual times in [0, joinSpreadMs] (default 2 s; churn: 10 s). */
  joinSpreadMs?: number;
  /** Leechers pick pieces in order (AddTorrentOptions.sequential) instead of rarest-first: a baseline. */
  sequential?: boolean;
  /** Give up after this much virtual time (default 20 min). */
  maxVirtualMs?: number;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** Keep every trace line in the result (for diffing two runs). */
  keepTrace?: boolean;
  /** Engine log lines at this level go to `progress` (debugging). */
  logLevel?: 'debug' | 'info' | 'warn';
}

export interface CurvePoint {
  /** Virtual seconds since the start. */
  t: number;
  /** Fewest copies of any piece among the peers online (seed included while it is there). */
  min: number;
  /** Mean copies per piece. */
  avg: number;
  /** Distributed copies (libtorrent's definition): min + share of pieces with more than min copies. */
  dc: number;
  /** Same, among the leechers only. */
  leecherMin: number;
  online: number;
  complete: number;
}

export interface PeerResult {
  name: string;
  address: string;
  corrupt: boolean;
  /** Left for good (churn): not counted among the leechers that must complete. */
  gone: boolean;
  completeAtMs: number | undefined;
  /** Content equals the source byte for byte. */
  intact: boolean;
  uploaded: number;
  downloaded: number;
  banned: string[];
  hashFailures: number;
}

export interface SwarmResult {
  /** Leechers that completed / leechers that stayed. */
  complete: number;
  leechers: number;
  virtualMs: number;
  wallMs: number;
  trace: string;
  traceEvents: number;
  traceLines: string[] | undefined;
  curve: CurvePoint[];
  peers: PeerResult[];
  pieceCount: number;
  sizeBytes: number;
  /** When the seed left (seedLeaves) and what it had uploaded by then. */
  seedLeftAtMs: number | undefined;
  seedUploaded: number;
  /** When the leechers first held every piece between them. */
  swarmHasAllAtMs: number | undefined;
  firstCompleteAtMs: number | undefined;
  errors: string[];
  /** Real timers / clocks / random numbers the process used during the run (see driver.guardGlobals): none expected. */
  leaks: LeakCounts;
  steps: number;
  endReason: string;
  net: SimNetwork['stats'];
  tracker: SimTracker['stats'];
}

/** Deterministic pseudo-random content (xorshift32, 4 bytes at a time). */
export function contentBytes(n: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = (seed ^ 0x2545f491) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, n);
}

/** A Buffer over the same bytes (no copy). */
function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function hashString(seed: number, s: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The simulation's storage: a piece store that survives its torrent's stop/start (as files on disk would:
 * close() closes this view, the next createStorage() reopens it) and shares memory with the source. A written
 * piece that equals the source byte for byte (compared on the way in) is kept as a reference to the source, so
 * 21 copies of 16 MiB cost no memory and no page faults; anything else is kept as a copy of what was written.
 * Reads return fresh buffers, as the PieceStorage contract asks. A corrupting peer flips a byte in every 4 KiB
 * it reads (its uploads), while its own downloads verify and are stored correctly.
 */
class SimStorage implements PieceStorage {
  private closedView = false;
  /** true: equals the source; a buffer: what was written; undefined: nothing yet. */
  private readonly pieces: (true | Uint8Array | undefined)[];
  constructor(
    private readonly info: Metainfo['info'],
    private readonly source: Uint8Array,
    seeded: boolean,
    private readonly corrupt: boolean,
  ) {
    this.pieces = new Array<true | undefined>(info.pieceCount).fill(seeded ? true : undefined);
  }
  reopen(): this {
    this.closedView = false;
    return this;
  }
  private span(piece: number): [number, number] {
    const start = piece * this.info.pieceLength;
    return [start, Math.min(start + this.info.pieceLength, this.info.totalLength)];
  }
  private check(op: 'read' | 'write' | 'check'): void {
    if (this.closedView) throw new BtError('ERR_CLOSED', 'storage is closed', { op });
  }
  async read(piece: number, begin: number, length: number): Promise<Uint8Array> {
    this.check('read');
    const [s, e] = this.span(piece);
    const p = this.pieces[piece];
    if (p === undefined || begin + length > e - s) throw new BtError('ERR_STORAGE', `piece ${piece} has no data at ${begin}+${length}`, { op: 'read' });
    const d = (p === true ? this.source.subarray(s + begin, s + begin + length) : p.subarray(begin, begin + length)).slice();
    if (this.corrupt) for (let i = 0; i < d.length; i += 4096) d[i]! ^= 0x5a;
    return d;
  }
  async write(piece: number, begin: number, data: Uint8Array): Promise<void> {
    this.check('write');
    const [s, e] = this.span(piece);
    if (begin + data.length > e - s) throw new BtError('ERR_STORAGE', `write past piece ${piece}`, { op: 'write' });
    const src = this.source.subarray(s + begin, s + begin + data.length);
    const p = this.pieces[piece];
    if (begin === 0 && data.length === e - s) {
      this.pieces[piece] = Buffer.compare(view(data), view(src)) === 0 ? true : data.slice();
      return;
    }
    // A partial write: keep a buffer of the whole piece (the engine writes whole verified pieces; this is for completeness).
    const buf = p instanceof Uint8Array ? p : p === true ? this.source.slice(s, e) : new Uint8Array(e - s);
    buf.set(data, begin);
    this.pieces[piece] = buf;
  }
  async hasData(piece: number): Promise<boolean> {
    this.check('check');
    return this.pieces[piece] !== undefined;
  }
  async ensureFiles(): Promise<void> {
    this.check('write');
  }
  async close(): Promise<void> {
    this.closedView = true;
  }
  /** Every piece there and equal to the source. */
  intact(): boolean {
    return this.pieces.every((p, i) => {
      if (p === true) return true;
      if (p === undefined) return false;
      const [s, e] = this.span(i);
      return Buffer.compare(view(p), view(this.source.subarray(s, e))) === 0;
    });
  }
}

/** The engine's shared UDP socket, inert: DHT, uTP and UDP trackers are off in the simulation. */
class NullUdp implements EngineUdp {
  onError: ((err: Error) => void) | undefined;
  port = 0;
  readonly families = { v4: true, v6: false };
  async bind(endpoints: readonly { host: string; port: number }[]): Promise<void> {
    this.port = endpoints[0]?.port ?? 0;
  }
  async close(): Promise<void> {
    this.port = 0;
  }
  send(): void {}
  addHandler(): () => void {
    return () => undefined;
  }
}

interface Peer {
  name: string;
  address: string;
  index: number;
  isSeed: boolean;
  corrupt: boolean;
  engine: ClientEngine;
  storage: SimStorage;
  torrent: TorrentManager | undefined;
  have: Uint8Array;
  haveCount: number;
  online: boolean;
  gone: boolean;
  completeAt: number | undefined;
  banned: string[];
  hashFailures: number;
}

const PORT = 6881;

export async function runSwarm(o: SwarmOptions): Promise<SwarmResult> {
  const wallNow = performance.now.bind(performance);
  const wall0 = wallNow();
  const guard = guardGlobals();
  try {
    return await simulate(o, wallNow, wall0, guard.counts);
  } finally {
    guard.restore();
  }
}

async function simulate(o: SwarmOptions, wallNow: () => number, wall0: number, leaks: LeakCounts): Promise<SwarmResult> {
  const seed = o.seed;
  const nLeechers = o.leechers ?? 20;
  const size = o.sizeBytes ?? 16 * 1024 * 1024;
  const pieceLength = o.pieceLength ?? 256 * 1024;
  const clock = new FakeClock(1_000_000);
  const t0 = clock.now();
  const deadline = t0 + (o.maxVirtualMs ?? 20 * 60_000);
  const rng = new SeededRandom(hashString(seed, 'swarm'));
  const net = new SimNetwork(clock, seed, o.network);
  const tracker = new SimTracker(net, '10.255.0.1', seed);
  const errors: string[] = [];

  // ---- the torrent
  const data = contentBytes(size, seed);
  const pieceCount = Math.ceil(size / pieceLength);
  const hashes = new Uint8Array(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) {
    hashes.set(createHash('sha1').update(data.subarray(i * pieceLength, (i + 1) * pieceLength)).digest(), i * 20);
  }
  const half = Math.floor(size / 2) + 1;
  const meta: Metainfo = parseTorrent(
    buildTorrent({
      name: `sim-${seed}`,
      files: [
        { path: ['a.bin'], length: half },
        { path: ['b.bin'], length: size - half },
      ],
      pieceLength,
      pieceHashes: hashes,
      trackers: [[tracker.url]],
    }),
  );

  // ---- the trace
  const trace = createHash('sha256');
  let traceEvents = 0;
  const traceLines: string[] | undefined = o.keepTrace ? [] : undefined;
  const vt = (): string => (clock.now() - t0).toFixed(3);
  let traceOpen = true;
  const record = (line: string): void => {
    if (!traceOpen) return;
    const l = `${vt()} ${line}\n`;
    trace.update(l);
    traceEvents++;
    traceLines?.push(l);
  };
  net.onEvent = (e: NetEvent): void => {
    if (e.type === 'close') record(`net close ${e.host} ${e.remote}${e.graceful ? '' : ' rst'}`);
    else record(`net ${e.type} ${e.from} ${e.to}`);
  };
  const progress = o.progress ?? ((): void => undefined);

  // ---- the peers
  const settings: Partial<EngineSettings> = {
    dhtEnabled: false,
    lsdEnabled: false,
    portForwarding: false,
    enableUtp: false,
    encryption: ['plaintext'],
    fastResume: false,
    webSeedsEnabled: false,
    pexEnabled: true,
    hashWorkers: 1,
    // 21 engines share one process: a smaller read cache than the default 32 MiB each.
    readCacheBytes: 16 * 1024 * 1024,
  };
  const peers: Peer[] = [];
  const corrupt = new Set(o.corrupt ?? []);
  const makePeer = (name: string, address: string, index: number, isSeed: boolean): Peer => {
    net.addHost(address);
    const storage = new SimStorage(meta.info, data, isSeed, corrupt.has(index));
    const logger: Logger = o.logLevel ? new TextLogger(o.logLevel, (l) => progress(`${vt()} ${name} ${l}`)) : new NullLogger();
    const deps: Deps = {
      clock,
      random: new SeededRandom(hashString(seed, `engine ${name}`)),
      logger,
      transport: net.transport(address),
      createStorage: (): PieceStorage => storage.reopen(),
      createHasher: () => new InlineHasher(),
      createUdp: () => new NullUdp(),
      resolve: async (h) => h,
      resolveAll: async (h) => [h],
      httpGet: tracker.httpGet(address),
      localAddresses: () => [address],
      createLsdSocket: () => Promise.reject(new Error('no multicast in the simulation')),
      createPortForwarder: () => {
        throw new Error('no port forwarding in the simulation');
      },
      fetchRange: () => Promise.reject(new Error('no web seeds in the simulation')),
      stateFiles: new MemoryStateFiles(),
    };
    const engine = new ClientEngine({ ...settings, listenEndpoints: [`${address}:${PORT}`] }, deps);
    const p: Peer = {
      name,
      address,
      index,
      isSeed,
      corrupt: corrupt.has(index),
      engine,
      storage,
      torrent: undefined,
      have: new Uint8Array(pieceCount).fill(isSeed ? 1 : 0),
      haveCount: isSeed ? pieceCount : 0,
      online: false,
      gone: false,
      completeAt: undefined,
      banned: [],
      hashFailures: 0,
    };
    peers.push(p);
    return p;
  };
  const seedPeer = makePeer('seed', '10.0.0.1', -1, true);
  const leechers: Peer[] = [];
  for (let i = 0; i < nLeechers; i++) leechers.push(makePeer(`L${String(i).padStart(2, '0')}`, `10.1.${Math.floor(i / 200)}.${(i % 200) + 2}`, i, false));

  const fail = (where: string, e: unknown): void => {
    const msg = `${vt()} ${where}: ${e instanceof Error ? e.message : String(e)}`;
    errors.push(msg);
    progress(`error: ${msg}`);
  };

  let swarmHasAllAt: number | undefined;
  let firstCompleteAt: number | undefined;
  let seedLeftAt: number | undefined;
  let seedUploaded = 0;
  /** Copies of each piece among leechers (verified), to know when they hold everything between them. */
  const leecherCopies = new Uint16Array(pieceCount);
  let piecesAmongLeechers = 0;

  const leaveSeed = (): void => {
    if (seedLeftAt !== undefined || !seedPeer.torrent) return;
    seedLeftAt = clock.now();
    seedUploaded = seedPeer.torrent.stats().uploaded;
    record(`seed leaves, uploaded ${seedUploaded}`);
    progress(`t=${vt()}s seed leaves after uploading ${(seedUploaded / size).toFixed(2)}x the torrent`);
    seedPeer.online = false;
    seedPeer.engine.dispose().catch((e: unknown) => fail('seed dispose', e));
  };

  const wire = (p: Peer, t: TorrentManager): void => {
    const n = p.name;
    t.on('state', (s, prev) => record(`${n} state ${prev}->${s}`));
    t.on('peer-connected', (a) => record(`${n} peer+ ${a}`));
    t.on('peer-disconnected', (a, why) => record(`${n} peer- ${a} ${why}`));
    t.on('peer-banned', (a, why) => {
      p.banned.push(a);
      record(`${n} ban ${a} ${why}`);
    });
    t.on('hash-failed', (i, from) => {
      p.hashFailures++;
      record(`${n} hashfail ${i} ${from.join(',')}`);
    });
    t.on('piece-verified', (i) => {
      record(`${n} have ${i}`);
      if (!p.have[i]) {
        p.have[i] = 1;
        p.haveCount++;
      }
      if (!p.isSeed && leecherCopies[i]!++ === 0 && ++piecesAmongLeechers === pieceCount && swarmHasAllAt === undefined) {
        swarmHasAllAt = clock.now();
        record('leechers hold every piece');
        if (o.seedLeaves) leaveSeed();
      }
    });
    t.on('complete', () => {
      record(`${n} complete`);
      if (p.isSeed || p.completeAt !== undefined) return;
      p.completeAt = clock.now();
      firstCompleteAt ??= p.completeAt;
    });
    t.on('warning', (w) => record(`${n} warning ${w}`));
    t.on('error', (e) => fail(`${n} torrent error`, e));
  };

  /** Add (first time) or start again (after a stop) a peer's torrent. */
  const startPeer = async (p: Peer): Promise<void> => {
    if (p.gone) return;
    if (!p.torrent) {
      p.torrent = await p.engine.addTorrent(meta, {
        downloadDir: `/sim/${p.name}`,
        peers: p.isSeed ? [] : [`${seedPeer.address}:${PORT}`],
        sequential: !p.isSeed && o.sequential === true,
      });
      wire(p, p.torrent);
    }
    p.online = true;
    record(`${p.name} start`);
    await p.torrent.start();
  };
  const stopPeer = async (p: Peer, forGood: boolean): Promise<void> => {
    if (p.gone || !p.torrent) return;
    record(`${p.name} ${forGood ? 'leaves' : 'stops'}`);
    p.online = false;
    if (forGood) {
      p.gone = true;
      await p.engine.dispose();
    } else {
      await p.torrent.stop();
      // Its verified pieces stay in storage; the restart re-checks them.
    }
  };
  const at = (ms: number, what: string, fn: () => Promise<void>): void => {
    clock.setTimeout(() => {
      fn().catch((e: unknown) => fail(what, e));
    }, ms);
  };

  // ---- the schedule
  /** Scheduled churn actions that have not happened yet: the run is not over before they have. */
  let churnPending = 0;
  const churn = (ms: number, what: string, fn: () => Promise<void>): void => {
    churnPending++;
    at(ms, what, () => {
      churnPending--;
      return fn();
    });
  };
  at(0, 'seed start', () => startPeer(seedPeer));
  const spread = o.joinSpreadMs ?? (o.churn ? 10_000 : 2_000);
  const joinAt = new Map<Peer, number>();
  for (const p of leechers) {
    const t = 100 + rng.int(spread + 1);
    joinAt.set(p, t);
    at(t, `${p.name} start`, () => startPeer(p));
  }
  if (o.churn) {
    // A quarter of the leechers stop and start again (once or twice) while downloading; two leave for good.
    // Never the corrupt ones.
    const order = leechers.filter((p) => !p.corrupt);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const bouncers = order.slice(0, Math.max(1, Math.floor(nLeechers / 4)));
    const leavers = order.slice(bouncers.length, bouncers.length + Math.min(2, Math.max(0, order.length - bouncers.length - 1)));
    for (const p of bouncers) {
      let t = joinAt.get(p)! + 1_000 + rng.int(5_000);
      const rounds = 1 + rng.int(2);
      for (let r = 0; r < rounds; r++) {
        const back = t + 1_000 + rng.int(4_000);
        churn(t, `${p.name} stop`, () => stopPeer(p, false));
        churn(back, `${p.name} restart`, () => startPeer(p));
        t = back + 1_000 + rng.int(5_000);
      }
    }
    for (const p of leavers) churn(joinAt.get(p)! + 1_000 + rng.int(6_000), `${p.name} leave`, () => stopPeer(p, true));
  }

  // ---- the copies curve, once a virtual second
  const curve: CurvePoint[] = [];
  const sample = (): void => {
    const online = peers.filter((p) => p.online);
    let min = Infinity;
    let lmin = Infinity;
    let total = 0;
    const counts = new Uint16Array(pieceCount);
    for (const p of online) for (let i = 0; i < pieceCount; i++) counts[i]! += p.have[i]!;
    let above = 0;
    for (let i = 0; i < pieceCount; i++) {
      const c = counts[i]!;
      total += c;
      if (c < min) min = c;
      const lc = c - (seedPeer.online ? 1 : 0);
      if (lc < lmin) lmin = lc;
    }
    for (let i = 0; i < pieceCount; i++) if (counts[i]! > min) above++;
    const stayed = leechers.filter((p) => !p.gone);
    const point: CurvePoint = {
      t: Math.round((clock.now() - t0) / 1000),
      min,
      avg: total / pieceCount,
      dc: min + above / pieceCount,
      leecherMin: lmin,
      online: online.length,
      complete: stayed.filter((p) => p.completeAt !== undefined).length,
    };
    curve.push(point);
    if (point.t % 5 === 0) progress(`t=${point.t}s online ${point.online}, complete ${point.complete}/${stayed.length}, copies min ${min} avg ${point.avg.toFixed(2)}`);
  };
  const sampler = clock.setInterval(sample, 1000);

  // ---- run
  const allDone = (): boolean =>
    churnPending === 0 && leechers.every((p) => p.gone || (p.completeAt !== undefined && p.online)) && leechers.some((p) => !p.gone);
  const run = await runUntil(clock, () => allDone() || errors.length > 0, deadline, net);
  const end = clock.now();
  sampler.cancel();
  sample();
  record(`end ${run.reason}`);
  traceOpen = false;
  const traceHex = trace.digest('hex');

  // ---- results (then shut everything down; nothing after this point is in the trace)
  const results: PeerResult[] = [];
  for (const p of peers) {
    const intact = p.storage.intact();
    const st = p.torrent?.stats();
    results.push({
      name: p.name,
      address: p.address,
      corrupt: p.corrupt,
      gone: p.gone,
      completeAtMs: p.completeAt === undefined ? undefined : p.completeAt - t0,
      intact,
      uploaded: st?.uploaded ?? 0,
      downloaded: st?.downloaded ?? 0,
      banned: p.banned,
      hashFailures: p.hashFailures,
    });
  }
  if (seedLeftAt === undefined) seedUploaded = seedPeer.torrent?.stats().uploaded ?? 0;
  // Shut down in order; settle with the clock running so stop announces and closes finish.
  const disposing = Promise.all(peers.filter((p) => !p.gone).map((p) => p.engine.dispose().catch(() => undefined)));
  let disposed = false;
  void disposing.then(() => (disposed = true));
  await runUntil(clock, () => disposed, clock.now() + 60_000, net);

  const stayed = leechers.filter((p) => !p.gone);
  return {
    complete: stayed.filter((p) => p.completeAt !== undefined).length,
    leechers: stayed.length,
    virtualMs: end - t0,
    wallMs: wallNow() - wall0,
    leaks: { ...leaks },
    trace: traceHex,
    traceEvents,
    traceLines,
    curve,
    peers: results,
    pieceCount,
    sizeBytes: size,
    seedLeftAtMs: seedLeftAt === undefined ? undefined : seedLeftAt - t0,
    seedUploaded,
    swarmHasAllAtMs: swarmHasAllAt === undefined ? undefined : swarmHasAllAt - t0,
    firstCompleteAtMs: firstCompleteAt === undefined ? undefined : firstCompleteAt - t0,
    errors,
    steps: run.steps,
    endReason: run.reason,
    net: net.stats,
    tracker: tracker.stats,
  };
}

/** Summary lines: the copies curve (one line per virtual second) and the peers. */
export function formatCurve(r: SwarmResult): string[] {
  return r.curve.map(
    (c) =>
      `copies t=${String(c.t).padStart(3)}s  min ${String(c.min).padStart(2)}  avg ${c.avg.toFixed(2).padStart(6)}  dc ${c.dc.toFixed(2).padStart(6)}  leechers-min ${String(Math.max(0, c.leecherMin)).padStart(2)}  online ${String(c.online).padStart(2)}  complete ${c.complete}`,
  );
}
