/**
 * BEP 5 iterative lookup (find_node / get_peers), callback-driven so a simulation runs it synchronously:
 * keep a distance-sorted candidate list, keep up to α = 3 queries in flight to the closest unqueried candidates,
 * and stop when the K closest live candidates have all answered. Per-query timeouts belong to the caller's
 * `query` function (it calls back with undefined). get_peers collects the peers (`values`) and the tokens of
 * the closest nodes, for announce_peer.
 */
import type { NodeInfo, PeerAddress } from './addr.js';
import type { KrpcResponseBody } from './krpc.js';
import { K, compareDistance, idKey } from './routing-table.js';

export const ALPHA = 3;

export type LookupKind = 'find_node' | 'get_peers';

export interface ClosestNode {
  node: NodeInfo;
  /** get_peers: the token this node gave us (needed to announce to it). */
  token?: Uint8Array;
}

export interface TraversalResult {
  target: Uint8Array;
  /** The K closest nodes that answered, closest first. */
  closest: ClosestNode[];
  /** Queries sent. */
  queries: number;
  responses: number;
  /** Distinct peers found (get_peers). */
  peers: number;
  aborted: boolean;
}

export interface TraversalOptions {
  target: Uint8Array;
  kind: LookupKind;
  /** Use `nodes6` from responses (the IPv6 table's lookup). */
  v6: boolean;
  k?: number;
  alpha?: number;
  /** Hard cap on queries of one lookup (defence against endless candidate lists). */
  maxQueries?: number;
  /** Queries to one candidate before it counts as failed (default 2). */
  maxTries?: number;
  /** Send the query; call `done` exactly once, with the response body or undefined (timeout, error). */
  query(node: PeerAddress & { id?: Uint8Array }, done: (r: KrpcResponseBody | undefined) => void): void;
  /** Filter for nodes learned from responses (our own id, bad addresses). */
  accept?(n: NodeInfo): boolean;
  onPeers?(peers: PeerAddress[], from: NodeInfo): void;
  onDone(result: TraversalResult): void;
}

const NEW = 0;
const INFLIGHT = 1;
const DONE = 2;
const FAILED = 3;

interface Candidate {
  node: NodeInfo;
  state: number;
  token: Uint8Array | undefined;
  tries: number;
}

export class Traversal {
  private readonly k: number;
  private readonly alpha: number;
  private readonly maxQueries: number;
  private readonly maxTries: number;
  private readonly cands: Candidate[] = [];
  private readonly seen = new Set<string>();
  private readonly peersSeen = new Set<string>();
  private inflight = 0;
  private queries = 0;
  private responses = 0;
  private finished = false;
  private started = false;

  constructor(
    private readonly opts: TraversalOptions,
    seeds: readonly NodeInfo[],
    private readonly routers: readonly PeerAddress[] = [],
  ) {
    this.k = opts.k ?? K;
    this.alpha = opts.alpha ?? ALPHA;
    this.maxQueries = opts.maxQueries ?? 200;
    this.maxTries = opts.maxTries ?? 2;
    for (const s of seeds) this.addCandidate(s);
  }

  get done(): boolean {
    return this.finished;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    // Routers have no known id: ask them once, in addition to the seeds.
    for (const r of this.routers) {
      if (this.seen.has(`@${r.host}|${r.port}`)) continue;
      this.seen.add(`@${r.host}|${r.port}`);
      this.send(undefined, r);
    }
    this.step();
  }

  abort(): void {
    this.finish(true);
  }

  private addCandidate(n: NodeInfo): void {
    const key = idKey(n.id);
    const akey = `@${n.host}|${n.port}`;
    if (this.seen.has(key) || this.seen.has(akey)) return;
    if (this.opts.accept && !this.opts.accept(n)) return;
    this.seen.add(key);
    this.seen.add(akey);
    const c: Candidate = { node: n, state: NEW, token: undefined, tries: 0 };
    // Binary search for the insertion point.
    let lo = 0;
    let hi = this.cands.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(this.cands[mid]!.node.id, n.id, this.opts.target) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.k * 8) return; // far beyond anything we will query
    this.cands.splice(lo, 0, c);
    if (this.cands.length > this.k * 8) {
      const last = this.cands[this.cands.length - 1]!;
      if (last.state !== INFLIGHT) this.cands.pop();
    }
  }

  private send(c: Candidate | undefined, addr: PeerAddress & { id?: Uint8Array }): void {
    this.inflight++;
    this.queries++;
    if (c) {
      c.state = INFLIGHT;
      c.tries++;
    }
    let called = false;
    this.opts.query(addr, (r) => {
      if (called) return;
      called = true;
      this.inflight--;
      if (this.finished) return;
      if (r) this.onResponse(c, r, addr);
      // One lost datagram should not cost a lookup its closest node: ask a silent candidate twice.
      else if (c) c.state = c.tries < this.maxTries ? NEW : FAILED;
      this.step();
    });
  }

  private onResponse(c: Candidate | undefined, r: KrpcResponseBody, addr: PeerAddress): void {
    this.responses++;
    if (c) {
      c.state = DONE;
      c.token = r.token;
    } else {
      // A router answered: we learn its id, but it is not a lookup result.
      this.seen.add(idKey(r.id));
    }
    const from: NodeInfo = { id: r.id, host: addr.host, port: addr.port };
    if (this.opts.kind === 'get_peers' && r.values && r.values.length > 0) {
      const fresh: PeerAddress[] = [];
      for (const p of r.values) {
        if (p.port === 0) continue;
        const key = `${p.host}|${p.port}`;
        if (this.peersSeen.has(key)) continue;
        this.peersSeen.add(key);
        fresh.push(p);
      }
      if (fresh.length > 0) this.opts.onPeers?.(fresh, from);
    }
    const learned = this.opts.v6 ? r.nodes6 : r.nodes;
    if (learned) for (const n of learned) if (n.port !== 0) this.addCandidate(n);
  }

  private step(): void {
    if (this.finished || !this.started) return;
    let top = 0;
    let pending = false;
    for (const c of this.cands) {
      if (c.state === FAILED) continue;
      if (top >= this.k) break;
      top++;
      if (c.state === INFLIGHT) pending = true;
      else if (c.state === NEW) {
        pending = true;
        if (this.inflight < this.alpha && this.queries < this.maxQueries) this.send(c, c.node);
      }
    }
    // Done when the K closest live candidates have all answered (or nothing more can be asked).
    // Queries still out to routers or to farther candidates only matter while we have fewer than K answers.
    const stuck = this.queries >= this.maxQueries && this.inflight === 0;
    if (stuck || (!pending && (this.inflight === 0 || top >= this.k))) this.finish(false);
  }

  private finish(aborted: boolean): void {
    if (this.finished) return;
    this.finished = true;
    const closest: ClosestNode[] = [];
    for (const c of this.cands) {
      if (c.state !== DONE) continue;
      closest.push(c.token ? { node: c.node, token: c.token } : { node: c.node });
      if (closest.length >= this.k) break;
    }
    this.opts.onDone({
      target: this.opts.target,
      closest,
      queries: this.queries,
      responses: this.responses,
      peers: this.peersSeen.size,
      aborted,
    });
  }
}
