/**
 * BEP 5 DHT node (with BEP 32 IPv6, BEP 42 secure ids, BEP 43 read-only), sans I/O: feed datagrams to
 * `handlePacket(bytes, host, port)` and give it a `send(bytes, host, port)`. It answers ping / find_node /
 * get_peers / announce_peer, keeps one routing table per address family, stores announced peers, and runs
 * iterative lookups for the engine (`getPeers`, `announce`, `findNode`). Time and randomness are injected.
 */
import type { Clock, Timer, Random } from '../core/index.js';
import { BtError } from '../core/index.js';
import { TypedEmitter, toHex, fromHex } from '../util/index.js';
import { ID_LENGTH, canonicalHost, isIPv6, isLocalAddress, parseIPv4, parseIPv6 } from './addr.js';
import type { NodeInfo, PeerAddress } from './addr.js';
import {
  KRPC_GENERIC,
  KRPC_PROTOCOL,
  KrpcDecodeError,
  decodeKrpc,
  encodeError,
  encodeQuery,
  encodeResponse,
} from './krpc.js';
import type { KrpcMessage, KrpcQuery, KrpcQueryMessage, KrpcResponseBody, KrpcResponseMessage, Want } from './krpc.js';
import { K, RoutingTable, idKey } from './routing-table.js';
import type { RoutingNode } from './routing-table.js';
import { isSecureNodeId, secureNodeId } from './secure-id.js';
import { PeerStore } from './peer-store.js';
import { TokenManager } from './tokens.js';
import { Traversal } from './traversal.js';
import type { LookupKind, TraversalResult } from './traversal.js';

export type SendFn = (data: Uint8Array, host: string, port: number) => void;

/** The engine's shared UDP socket as DhtNode needs it (src/transport/udp UdpMux fits). */
export interface DhtSocket {
  send: SendFn;
  addHandler(h: (data: Uint8Array, host: string, port: number) => boolean): () => void;
}

export interface DhtNodeOptions {
  clock: Clock;
  random: Random;
  /** Where datagrams go; `attach(mux)` sets it too. */
  send?: SendFn;
  /** Our node id; default: random, or BEP 42-derived from `externalAddress`. */
  id?: Uint8Array;
  /** Our external IPv4 address when known: the id is derived from it (BEP 42). */
  externalAddress?: string;
  /** Router addresses for bootstrap (asked, never added to the tables). */
  bootstrap?: readonly PeerAddress[];
  k?: number;
  alpha?: number;
  /** Timeout of one query (ms). */
  queryTimeoutMs?: number;
  /** Interval of the maintenance tick (bucket refresh, pings, expiry). */
  maintenanceIntervalMs?: number;
  maxPeersPerInfoHash?: number;
  maxInfoHashes?: number;
  maxStoredPeers?: number;
  /** Cap on `values` in one get_peers response (anti-amplification). */
  maxValuesReturned?: number;
  /** Queries per second accepted from one IP (token bucket), and its burst. */
  rateLimit?: { perSecond: number; burst: number };
  /** BEP 43: do not answer queries and ask others not to add us. */
  readOnly?: boolean;
  /** Insert only BEP 42 compliant nodes (non-local). Default false: they are only not preferred. */
  enforceSecureIds?: boolean;
  /** Client version sent in `v`. */
  version?: Uint8Array;
  /**
   * We can send IPv6 (BEP 32): queries carry `want: [n4, n6]` and nodes6 learned over IPv4 seed the IPv6 table
   * while it is small. Default false.
   */
  ipv6?: boolean;
}

export interface DhtStats {
  id: string;
  nodes: number;
  nodes6: number;
  buckets: number;
  buckets6: number;
  queriesIn: number;
  queriesOut: number;
  responsesIn: number;
  errorsIn: number;
  errorsOut: number;
  timeouts: number;
  invalid: number;
  rateLimited: number;
  peersStored: number;
  infoHashes: number;
  lookups: number;
}

/** A plain JSON-able snapshot of the routing tables. */
export interface DhtState {
  id: string;
  nodes: { id: string; host: string; port: number }[];
  nodes6?: { id: string; host: string; port: number }[];
}

export interface LookupHandle {
  abort(): void;
}

export interface AnnounceResult {
  /** Nodes that acknowledged our announce_peer. */
  acked: number;
  /** Peers seen during the get_peers phase. */
  peers: PeerAddress[];
  lookup: TraversalResult;
}

export type DhtEvents = {
  /** A bootstrap lookup finished with `nodes` in the tables. */
  ready: [nodes: number];
  /** Our id changed (BEP 42, after our external address became known). */
  id: [id: Uint8Array];
};

interface Pending {
  host: string;
  port: number;
  expectId: Uint8Array | undefined;
  timer: Timer;
  cb: (r: KrpcResponseMessage | undefined) => void;
}

interface Bucket {
  tokens: number;
  at: number;
}

const DEFAULT_VERSION = new Uint8Array([0x54, 0x4b, 0x00, 0x01]); // "TK" 0.1
const MAX_RATE_SOURCES = 10_000;
const EXTERNAL_VOTES = 3;

function abortError(): BtError {
  return new BtError('ERR_ABORTED', 'DHT operation aborted', { op: 'announce' });
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p > 0 && p <= 65535;
}

/** Addresses we never route to: unspecified, multicast, broadcast (a loopback node may be in a loopback DHT). */
function routable(host: string): boolean {
  if (isIPv6(host)) {
    const b = parseIPv6(host);
    return !!b && !b.every((x) => x === 0) && b[0] !== 0xff;
  }
  const b = parseIPv4(host);
  return !!b && b[0] !== 0 && b[0]! < 224;
}

export class DhtNode extends TypedEmitter<DhtEvents> {
  private readonly clock: Clock;
  private readonly random: Random;
  private sendFn: SendFn | undefined;
  private selfId: Uint8Array;
  private table4: RoutingTable;
  private table6: RoutingTable;
  private readonly routers: PeerAddress[];
  private readonly k: number;
  private readonly alpha: number;
  private readonly timeoutMs: number;
  private readonly maintenanceMs: number;
  private readonly maxValues: number;
  private readonly rate: { perSecond: number; burst: number };
  private readonly readOnly: boolean;
  private readonly enforceSecure: boolean;
  private readonly version: Uint8Array;
  private readonly ipv6: boolean;
  private readonly tokens: TokenManager;
  private readonly store: PeerStore;
  private readonly pending = new Map<number, Pending>();
  private readonly pinging = new Set<string>();
  private readonly sources = new Map<string, Bucket>();
  private readonly votes = new Map<string, Set<string>>();
  private readonly lookups = new Set<Traversal>();
  private nextT: number;
  private tick: Timer | undefined;
  private bootstrapping4 = false;
  private bootstrapping6 = false;
  private externalAddress: string | undefined;
  private stopped = false;
  private readonly counters = {
    queriesIn: 0,
    queriesOut: 0,
    responsesIn: 0,
    errorsIn: 0,
    errorsOut: 0,
    timeouts: 0,
    invalid: 0,
    rateLimited: 0,
    lookups: 0,
  };

  constructor(opts: DhtNodeOptions) {
    super();
    this.clock = opts.clock;
    this.random = opts.random;
    this.sendFn = opts.send;
    this.k = opts.k ?? K;
    this.alpha = opts.alpha ?? 3;
    this.timeoutMs = opts.queryTimeoutMs ?? 2_000;
    this.maintenanceMs = opts.maintenanceIntervalMs ?? 60_000;
    this.maxValues = opts.maxValuesReturned ?? 32;
    this.rate = opts.rateLimit ?? { perSecond: 20, burst: 40 };
    this.readOnly = opts.readOnly ?? false;
    this.enforceSecure = opts.enforceSecureIds ?? false;
    this.version = opts.version ?? DEFAULT_VERSION;
    this.ipv6 = opts.ipv6 ?? false;
    this.routers = (opts.bootstrap ?? []).map((r) => ({ host: canonicalHost(r.host), port: r.port }));
    this.externalAddress = opts.externalAddress;
    if (opts.id !== undefined && opts.id.length !== ID_LENGTH) {
      throw new BtError('ERR_SETTINGS', 'DHT node id must be 20 bytes', { op: 'settings', field: 'id' });
    }
    this.selfId =
      opts.id?.slice() ??
      (opts.externalAddress && !isLocalAddress(opts.externalAddress)
        ? secureNodeId(opts.externalAddress, this.random)
        : this.random.bytes(ID_LENGTH));
    this.table4 = this.newTable();
    this.table6 = this.newTable();
    this.tokens = new TokenManager(this.clock, this.random);
    this.store = new PeerStore({
      clock: this.clock,
      random: this.random,
      maxPeersPerInfoHash: opts.maxPeersPerInfoHash,
      maxInfoHashes: opts.maxInfoHashes,
      maxPeers: opts.maxStoredPeers,
    });
    this.nextT = this.random.int(0x10000) * 0x10000;
  }

  private newTable(): RoutingTable {
    return new RoutingTable(this.selfId, { clock: this.clock, k: this.k, enforceSecureIds: this.enforceSecure });
  }

  get id(): Uint8Array {
    return this.selfId.slice();
  }

  /** Start the maintenance timer and bootstrap (routers, saved nodes, nodes added so far). */
  start(): void {
    this.stopped = false;
    if (!this.tick) this.tick = this.clock.setInterval(() => this.maintain(), this.maintenanceMs);
    this.bootstrap();
  }

  /** Stop timers, abort lookups, forget outstanding queries. The tables and stored peers stay (saveState). */
  stop(): void {
    this.stopped = true;
    this.tick?.cancel();
    this.tick = undefined;
    for (const l of [...this.lookups]) l.abort();
    for (const p of this.pending.values()) p.timer.cancel();
    const cbs = [...this.pending.values()].map((p) => p.cb);
    this.pending.clear();
    for (const cb of cbs) cb(undefined);
  }

  /** Attach to a shared UDP socket: KRPC datagrams are claimed, everything else passes on. Returns detach. */
  attach(sock: DhtSocket): () => void {
    this.sendFn = (d, h, p) => sock.send(d, h, p);
    return sock.addHandler((d, h, p) => this.handlePacket(d, h, p));
  }

  // ---------------------------------------------------------------- inbound

  /**
   * One datagram from host:port. Returns false when it is not KRPC (does not start with 'd'), so the
   * caller can offer it to uTP or the UDP tracker client. Never throws.
   */
  handlePacket(data: Uint8Array, host: string, port: number): boolean {
    if (data.length === 0 || data[0] !== 0x64) return false;
    if (this.stopped) return true;
    try {
      const from = isIPv6(host) ? canonicalHost(host) : host;
      let msg: KrpcMessage;
      try {
        msg = decodeKrpc(data);
      } catch (e) {
        this.counters.invalid++;
        if (e instanceof KrpcDecodeError && !this.readOnly && this.allow(from)) {
          this.reply(encodeError(e.transactionId, e.krpcCode, e.krpcCode === KRPC_PROTOCOL ? 'Protocol Error' : 'Method Unknown', { v: this.version }), from, port);
        }
        return true;
      }
      if (!validPort(port)) return true;
      if (msg.y === 'q') this.onQuery(msg, from, port);
      else this.onReply(msg, from, port);
    } catch {
      // Nothing a remote sends may escape: count it as invalid.
      this.counters.invalid++;
    }
    return true;
  }

  /** Token bucket per source IP. */
  private allow(host: string): boolean {
    const now = this.clock.now();
    let b = this.sources.get(host);
    if (!b) {
      if (this.sources.size >= MAX_RATE_SOURCES) {
        for (const [h, x] of this.sources) {
          if (now - x.at > (this.rate.burst / this.rate.perSecond) * 1000) this.sources.delete(h);
        }
        if (this.sources.size >= MAX_RATE_SOURCES) this.sources.clear();
      }
      b = { tokens: this.rate.burst, at: now };
      this.sources.set(host, b);
    } else {
      b.tokens = Math.min(this.rate.burst, b.tokens + ((now - b.at) * this.rate.perSecond) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) {
      this.counters.rateLimited++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  private reply(bytes: Uint8Array, host: string, port: number): void {
    this.sendFn?.(bytes, host, port);
  }

  private tableFor(v6: boolean): RoutingTable {
    return v6 ? this.table6 : this.table4;
  }

  private onQuery(msg: KrpcQueryMessage, host: string, port: number): void {
    this.counters.queriesIn++;
    if (this.readOnly) return; // BEP 43: read-only nodes do not answer
    if (!this.allow(host)) return;
    const v6 = isIPv6(host);
    const q = msg.query;
    if (!msg.ro && routable(host)) this.tableFor(v6).heard({ id: q.id, host, port }, 'query');
    const t = msg.t;
    const ip = { host, port };
    const body: KrpcResponseBody = { id: this.selfId };
    switch (q.q) {
      case 'ping':
        break;
      case 'find_node':
        this.addNodes(body, q.target, q.want, v6);
        break;
      case 'get_peers': {
        body.token = this.tokens.issue(host);
        const values = this.store.get(q.infoHash, this.maxValues, v6);
        if (values.length > 0) body.values = values;
        this.addNodes(body, q.infoHash, q.want, v6);
        break;
      }
      case 'announce_peer': {
        if (!this.tokens.verify(q.token, host)) {
          this.counters.errorsOut++;
          this.reply(encodeError(t, KRPC_PROTOCOL, 'Bad token', { v: this.version }), host, port);
          return;
        }
        const peerPort = q.impliedPort ? port : q.port;
        if (!validPort(peerPort)) {
          this.counters.errorsOut++;
          this.reply(encodeError(t, KRPC_PROTOCOL, 'Bad port', { v: this.version }), host, port);
          return;
        }
        if (!this.store.add(q.infoHash, { host, port: peerPort }, q.seed ?? false)) {
          this.counters.errorsOut++;
          this.reply(encodeError(t, KRPC_GENERIC, 'Peer store full', { v: this.version }), host, port);
          return;
        }
        break;
      }
    }
    this.reply(encodeResponse(t, body, { ip, v: this.version }), host, port);
  }

  private addNodes(body: KrpcResponseBody, target: Uint8Array, want: Want[] | undefined, v6: boolean): void {
    const w4 = want && want.length > 0 ? want.includes('n4') : !v6;
    const w6 = want && want.length > 0 ? want.includes('n6') : v6;
    if (w4) body.nodes = this.table4.closest(target, this.k).map(strip);
    if (w6) body.nodes6 = this.table6.closest(target, this.k).map(strip);
  }

  private onReply(msg: KrpcMessage, host: string, port: number): void {
    if (msg.t.length !== 4) return;
    const t = ((msg.t[0]! << 24) | (msg.t[1]! << 16) | (msg.t[2]! << 8) | msg.t[3]!) >>> 0;
    const p = this.pending.get(t);
    // Only the address we asked may answer (a spoofed reply from elsewhere is ignored).
    if (!p || p.host !== host || p.port !== port) return;
    this.pending.delete(t);
    p.timer.cancel();
    const v6 = isIPv6(host);
    if (msg.y === 'e') {
      this.counters.errorsIn++;
      p.cb(undefined);
      return;
    }
    if (msg.y !== 'r') return;
    this.counters.responsesIn++;
    const id = msg.r.id;
    if (idKey(id) === idKey(this.selfId)) {
      p.cb(undefined);
      return;
    }
    if (p.expectId && idKey(p.expectId) !== idKey(id)) this.tableFor(v6).remove(p.expectId);
    if (msg.ip) this.voteExternal(msg.ip.host, host);
    const table = this.tableFor(v6);
    const wasEmpty = table.size === 0;
    if (routable(host)) {
      const res = table.heard({ id, host, port }, 'response');
      if (res.ping) this.pingNode(res.ping);
    }
    if (wasEmpty && table.size > 0 && !(v6 ? this.bootstrapping6 : this.bootstrapping4) && !this.stopped) {
      this.bootstrapFamily(v6);
    }
    p.cb(msg);
  }

  // ---------------------------------------------------------------- outbound

  /** Send a query; `cb` gets the response, or undefined on timeout / error reply. */
  private query(host: string, port: number, q: KrpcQuery, expectId: Uint8Array | undefined, cb: (r: KrpcResponseMessage | undefined) => void): void {
    if (!this.sendFn || this.stopped) {
      cb(undefined);
      return;
    }
    let t = this.nextT;
    while (this.pending.has(t)) t = (t + 1) >>> 0;
    this.nextT = (t + 1) >>> 0;
    const tb = new Uint8Array([t >>> 24, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff]);
    let bytes: Uint8Array;
    try {
      bytes = encodeQuery(tb, q, { v: this.version, ro: this.readOnly });
    } catch {
      cb(undefined);
      return;
    }
    const v6 = isIPv6(host);
    const timer = this.clock.setTimeout(() => {
      if (this.pending.get(t)?.timer !== timer) return;
      this.pending.delete(t);
      this.counters.timeouts++;
      if (expectId) this.tableFor(v6).failed(expectId);
      cb(undefined);
    }, this.timeoutMs);
    this.pending.set(t, { host, port, expectId, timer, cb });
    this.counters.queriesOut++;
    this.sendFn(bytes, host, port);
  }

  private pingNode(n: RoutingNode): void {
    const key = idKey(n.id);
    if (this.pinging.has(key)) return;
    this.pinging.add(key);
    this.query(n.host, n.port, { q: 'ping', id: this.selfId }, n.id, () => this.pinging.delete(key));
  }

  /** Ping host:port (a torrent's `nodes`, a known node): it joins the table when it answers. */
  addNode(host: string, port: number): void {
    if (!validPort(port)) return;
    const h = canonicalHost(host);
    if (!routable(h) || !(isIPv6(h) ? parseIPv6(h) : parseIPv4(h))) return;
    this.query(h, port, { q: 'ping', id: this.selfId }, undefined, () => {});
  }

  private want(): Want[] | undefined {
    return this.ipv6 ? ['n4', 'n6'] : undefined;
  }

  /** BEP 32: nodes of the other family learned in a response seed that family's table while it is small. */
  private learnOtherFamily(r: KrpcResponseBody, v6: boolean): void {
    if (!this.ipv6) return;
    const other = v6 ? r.nodes : r.nodes6;
    if (!other || this.tableFor(!v6).size >= this.k) return;
    for (const n of other.slice(0, 2)) {
      if (routable(n.host) && idKey(n.id) !== idKey(this.selfId) && !this.tableFor(!v6).get(n.id)) this.addNode(n.host, n.port);
    }
  }

  /** Bootstrap both families: a lookup of our own id through routers and whatever the tables hold. */
  bootstrap(): void {
    this.bootstrapFamily(false);
    if (this.table6.size > 0 || this.routers.some((r) => isIPv6(r.host))) this.bootstrapFamily(true);
  }

  private bootstrapFamily(v6: boolean): void {
    if (v6 ? this.bootstrapping6 : this.bootstrapping4) return;
    const routers = this.routers.filter((r) => isIPv6(r.host) === v6);
    if (this.tableFor(v6).size === 0 && routers.length === 0) return;
    if (v6) this.bootstrapping6 = true;
    else this.bootstrapping4 = true;
    this.startLookup({
      target: this.selfId,
      kind: 'find_node',
      v6,
      routers,
      onDone: () => {
        if (v6) this.bootstrapping6 = false;
        else this.bootstrapping4 = false;
        this.emit('ready', this.table4.size + this.table6.size);
      },
    });
  }

  /**
   * Low-level lookup (callback style, no promises: the simulation drives it synchronously).
   * `v6` picks the table and `nodes6`; `routers` are asked in addition to the table's closest nodes.
   */
  startLookup(opts: {
    target: Uint8Array;
    kind: LookupKind;
    v6?: boolean;
    routers?: readonly PeerAddress[];
    onPeers?: (peers: PeerAddress[], from: NodeInfo) => void;
    onDone: (r: TraversalResult) => void;
  }): LookupHandle {
    const v6 = opts.v6 ?? false;
    const table = this.tableFor(v6);
    this.counters.lookups++;
    const seeds = table.closest(opts.target, this.k * 2);
    const routers = opts.routers ?? (seeds.length < this.k ? this.routers.filter((r) => isIPv6(r.host) === v6) : []);
    const selfKey = idKey(this.selfId);
    const target = opts.target;
    const kind = opts.kind;
    const tr: Traversal = new Traversal(
      {
        target,
        kind,
        v6,
        k: this.k,
        alpha: this.alpha,
        accept: (n) => idKey(n.id) !== selfKey && routable(n.host) && isIPv6(n.host) === v6,
        query: (node, done) => {
          const w = this.want();
          const q: KrpcQuery =
            kind === 'find_node' ? { q: 'find_node', id: this.selfId, target } : { q: 'get_peers', id: this.selfId, infoHash: target };
          if (w) q.want = w;
          this.query(node.host, node.port, q, node.id, (r) => {
            if (r) this.learnOtherFamily(r.r, v6);
            done(r?.r);
          });
        },
        onPeers: opts.onPeers,
        onDone: (r) => {
          this.lookups.delete(tr);
          opts.onDone(r);
        },
      },
      seeds.map(strip),
      routers,
    );
    this.lookups.add(tr);
    tr.start();
    return { abort: () => tr.abort() };
  }

  /** Low-level announce: a get_peers lookup, then announce_peer to the closest nodes that gave a token. */
  startAnnounce(opts: {
    infoHash: Uint8Array;
    port: number;
    impliedPort?: boolean;
    seed?: boolean;
    v6?: boolean;
    onPeers?: (peers: PeerAddress[]) => void;
    onDone: (r: AnnounceResult) => void;
  }): LookupHandle {
    const peers: PeerAddress[] = [];
    let aborted = false;
    const handle = this.startLookup({
      target: opts.infoHash,
      kind: 'get_peers',
      v6: opts.v6,
      onPeers: (ps) => {
        peers.push(...ps);
        opts.onPeers?.(ps);
      },
      onDone: (lookup) => {
        if (aborted || lookup.aborted) {
          opts.onDone({ acked: 0, peers, lookup });
          return;
        }
        const targets = lookup.closest.filter((c) => c.token);
        let outstanding = targets.length;
        let acked = 0;
        if (outstanding === 0) {
          opts.onDone({ acked, peers, lookup });
          return;
        }
        for (const c of targets) {
          const q: KrpcQuery = {
            q: 'announce_peer',
            id: this.selfId,
            infoHash: opts.infoHash,
            port: opts.impliedPort ? 0 : opts.port,
            token: c.token!,
            impliedPort: opts.impliedPort ?? false,
          };
          if (opts.seed !== undefined) q.seed = opts.seed;
          this.query(c.node.host, c.node.port, q, c.node.id, (r) => {
            if (r) acked++;
            if (--outstanding === 0) opts.onDone({ acked, peers, lookup });
          });
        }
      },
    });
    return {
      abort: () => {
        aborted = true;
        handle.abort();
      },
    };
  }

  /** The K closest nodes to `target` (IPv4 table). */
  findNode(target: Uint8Array, opts: { signal?: AbortSignal; v6?: boolean } = {}): Promise<NodeInfo[]> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(abortError());
      const onAbort = (): void => {
        h.abort();
        reject(abortError());
      };
      const h = this.startLookup({
        target,
        kind: 'find_node',
        v6: opts.v6,
        onDone: (r) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(r.closest.map((c) => c.node));
        },
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Peers for an info-hash, as they arrive (deduplicated), from the IPv4 table and, when it has nodes, the IPv6
   * table. Ends when the lookups converge; aborting throws ERR_ABORTED.
   */
  getPeers(infoHash: Uint8Array, opts: { signal?: AbortSignal } = {}): AsyncIterable<PeerAddress> {
    if (infoHash.length !== ID_LENGTH) throw new BtError('ERR_DHT', 'info-hash must be 20 bytes', { op: 'announce', field: 'infoHash' });
    return {
      [Symbol.asyncIterator]: () => this.peerIterator(infoHash, opts.signal),
    };
  }

  private peerIterator(infoHash: Uint8Array, signal: AbortSignal | undefined): AsyncIterator<PeerAddress> {
    const queue: PeerAddress[] = [];
    const seen = new Set<string>();
    let running = 0;
    let failed: BtError | undefined;
    let wake: (() => void) | undefined;
    const handles: LookupHandle[] = [];
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const onAbort = (): void => {
      failed = abortError();
      for (const h of handles) h.abort();
      notify();
    };
    if (signal?.aborted) failed = abortError();
    else {
      signal?.addEventListener('abort', onAbort, { once: true });
      const families = this.table6.size > 0 ? [false, true] : [false];
      for (const v6 of families) {
        running++;
        handles.push(
          this.startLookup({
            target: infoHash,
            kind: 'get_peers',
            v6,
            onPeers: (ps) => {
              for (const p of ps) {
                const key = `${p.host}|${p.port}`;
                if (seen.has(key)) continue;
                seen.add(key);
                queue.push(p);
              }
              notify();
            },
            onDone: () => {
              running--;
              if (running === 0) signal?.removeEventListener('abort', onAbort);
              notify();
            },
          }),
        );
      }
    }
    const finish = (): void => {
      signal?.removeEventListener('abort', onAbort);
      for (const h of handles) h.abort();
    };
    return {
      next: async (): Promise<IteratorResult<PeerAddress>> => {
        for (;;) {
          if (failed) {
            finish();
            throw failed;
          }
          const p = queue.shift();
          if (p) return { value: p, done: false };
          if (running === 0) return { value: undefined, done: true };
          await new Promise<void>((res) => (wake = res));
        }
      },
      return: async (): Promise<IteratorResult<PeerAddress>> => {
        finish();
        return { value: undefined, done: true };
      },
    };
  }

  /** Announce that we have `infoHash` on `port` to the K closest nodes (IPv4 table). Resolves with the acks. */
  announce(infoHash: Uint8Array, port: number, opts: { signal?: AbortSignal; impliedPort?: boolean; seed?: boolean; v6?: boolean } = {}): Promise<AnnounceResult> {
    if (infoHash.length !== ID_LENGTH) throw new BtError('ERR_DHT', 'info-hash must be 20 bytes', { op: 'announce', field: 'infoHash' });
    if (!opts.impliedPort && !validPort(port)) throw new BtError('ERR_DHT', `bad port ${port}`, { op: 'announce', field: 'port' });
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(abortError());
      let settled = false;
      const onAbort = (): void => {
        settled = true;
        h.abort();
        reject(abortError());
      };
      const h = this.startAnnounce({
        infoHash,
        port,
        impliedPort: opts.impliedPort,
        seed: opts.seed,
        v6: opts.v6,
        onDone: (r) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (!settled) resolve(r);
        },
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---------------------------------------------------------------- BEP 42

  private voteExternal(ip: string, voter: string): void {
    if (isIPv6(ip)) return; // ids are derived from the IPv4 address
    let s = this.votes.get(ip);
    if (!s) {
      if (this.votes.size > 64) this.votes.clear();
      s = new Set();
      this.votes.set(ip, s);
    }
    if (s.size >= EXTERNAL_VOTES) return;
    s.add(voter);
    if (s.size >= EXTERNAL_VOTES && this.externalAddress !== ip) this.setExternalAddress(ip);
  }

  /** Our external IPv4 address became known: if our id is not BEP 42 compliant for it, take a compliant one. */
  setExternalAddress(host: string): void {
    this.externalAddress = host;
    if (isLocalAddress(host) || isSecureNodeId(this.selfId, host)) return;
    this.changeId(secureNodeId(host, this.random));
  }

  private changeId(id: Uint8Array): void {
    const old4 = this.table4.all();
    const old6 = this.table6.all();
    this.selfId = id.slice();
    this.table4 = this.newTable();
    this.table6 = this.newTable();
    for (const n of old4) this.table4.heard(n, n.lastResponse > 0 ? 'response' : 'saved');
    for (const n of old6) this.table6.heard(n, n.lastResponse > 0 ? 'response' : 'saved');
    this.emit('id', this.id);
  }

  // ---------------------------------------------------------------- maintenance

  private maintain(): void {
    if (this.stopped) return;
    this.store.expire();
    for (const v6 of [false, true]) {
      const table = this.tableFor(v6);
      if (table.size === 0) {
        if (!v6 || this.routers.some((r) => isIPv6(r.host))) this.bootstrapFamily(v6);
        continue;
      }
      for (const target of table.refreshTargets(this.random)) this.startLookup({ target, kind: 'find_node', v6, onDone: () => {} });
      for (const n of table.questionable(2)) this.pingNode(n);
    }
  }

  // ---------------------------------------------------------------- state

  stats(): DhtStats {
    return {
      id: toHex(this.selfId),
      nodes: this.table4.size,
      nodes6: this.table6.size,
      buckets: this.table4.bucketCount,
      buckets6: this.table6.bucketCount,
      ...this.counters,
      peersStored: this.store.peers,
      infoHashes: this.store.infoHashes,
    };
  }

  /** The routing tables' nodes (plain JSON-able). */
  saveState(): DhtState {
    const dump = (t: RoutingTable): DhtState['nodes'] =>
      t.all().filter((n) => t.state(n) !== 'bad').map((n) => ({ id: toHex(n.id), host: n.host, port: n.port }));
    const s: DhtState = { id: toHex(this.selfId), nodes: dump(this.table4) };
    const n6 = dump(this.table6);
    if (n6.length > 0) s.nodes6 = n6;
    return s;
  }

  /**
   * Restore a saveState() snapshot: its id (unless it contradicts a known external address) and its nodes, as
   * unconfirmed entries that the next bootstrap asks first. Malformed entries are skipped; a non-object throws.
   */
  loadState(state: unknown): void {
    if (typeof state !== 'object' || state === null) throw new BtError('ERR_DHT', 'DHT state must be an object', { op: 'parse' });
    const s = state as Record<string, unknown>;
    const parseId = (x: unknown): Uint8Array | undefined => (typeof x === 'string' && /^[0-9a-fA-F]{40}$/.test(x) ? fromHex(x) : undefined);
    const id = parseId(s.id);
    if (id && (!this.externalAddress || isLocalAddress(this.externalAddress) || isSecureNodeId(id, this.externalAddress))) {
      if (idKey(id) !== idKey(this.selfId)) this.changeId(id);
    }
    const load = (list: unknown, v6: boolean): void => {
      if (!Array.isArray(list)) return;
      for (const e of list.slice(0, 2000)) {
        if (typeof e !== 'object' || e === null) continue;
        const r = e as Record<string, unknown>;
        const nid = parseId(r.id);
        if (!nid || typeof r.host !== 'string' || typeof r.port !== 'number' || !validPort(r.port)) continue;
        const host = canonicalHost(r.host);
        if (isIPv6(host) !== v6 || !routable(host) || !(v6 ? parseIPv6(host) : parseIPv4(host))) continue;
        this.tableFor(v6).heard({ id: nid, host, port: r.port }, 'saved');
      }
    };
    load(s.nodes, false);
    load(s.nodes6, true);
  }
}

function strip(n: NodeInfo): NodeInfo {
  return { id: n.id, host: n.host, port: n.port };
}
