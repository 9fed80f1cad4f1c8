/**
 * BEP 5 routing table: 160-bit ids, k-buckets of K = 8 indexed by the length of the prefix shared with our id;
 * only the last bucket (the one that contains our id) splits. Nodes are good (responded within 15 minutes, or
 * responded once and queried us within 15 minutes), questionable, or bad (failed twice in a row). A full bucket
 * keeps newcomers in a replacement cache and asks the caller to ping its least recently seen questionable node;
 * bad nodes are replaced first. BEP 42: a compliant newcomer may displace a non-compliant node (local addresses
 * are exempt). Buckets idle for 15 minutes are reported for refresh.
 */
import type { Clock, Random } from '../core/index.js';
import { ID_LENGTH } from './addr.js';
import type { NodeInfo } from './addr.js';
import { isSecureNodeId } from './secure-id.js';

export const K = 8;
export const GOOD_INTERVAL_MS = 15 * 60_000;
export const REFRESH_INTERVAL_MS = 15 * 60_000;
/** Failed queries in a row that make a node bad. */
export const BAD_FAILURES = 2;

export type NodeState = 'good' | 'questionable' | 'bad';

export interface RoutingNode extends NodeInfo {
  /** Time of the last response from it (0: never). */
  lastResponse: number;
  /** Time of the last query from it (0: never). */
  lastQuery: number;
  /** Failed queries in a row. */
  failures: number;
  /** BEP 42 compliant (or exempt). */
  secure: boolean;
}

interface Bucket {
  nodes: RoutingNode[];
  replacements: RoutingNode[];
  lastChanged: number;
}

export interface HeardResult {
  /** The node is now in the table (new or already there). */
  inTable: boolean;
  /** The bucket is full of live nodes: ping this questionable node; if it fails, a replacement takes its place. */
  ping?: RoutingNode;
}

export interface RoutingTableOptions {
  clock: Clock;
  k?: number;
  /** When true, non-compliant BEP 42 nodes are not inserted at all (off by default: they are only not preferred). */
  enforceSecureIds?: boolean;
}

/** Key of an id in maps: the 20 bytes as a latin1 string. */
export function idKey(id: Uint8Array): string {
  return String.fromCharCode.apply(null, id as unknown as number[]);
}

/** Number of leading bits `a` and `b` share (160 when equal). */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_LENGTH * 8;
}

/** Negative when `a` is closer to `target` than `b` (XOR metric), 0 when equally close. */
export function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** XOR distance as a byte string (tests and diagnostics). */
export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(ID_LENGTH);
  for (let i = 0; i < ID_LENGTH; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export class RoutingTable {
  readonly self: Uint8Array;
  readonly k: number;
  private readonly clock: Clock;
  private readonly enforceSecure: boolean;
  private readonly buckets: Bucket[];
  private readonly byId = new Map<string, RoutingNode>();

  constructor(self: Uint8Array, opts: RoutingTableOptions) {
    if (self.length !== ID_LENGTH) throw new RangeError('node id must be 20 bytes');
    this.self = self.slice();
    this.k = opts.k ?? K;
    this.clock = opts.clock;
    this.enforceSecure = opts.enforceSecureIds ?? false;
    this.buckets = [{ nodes: [], replacements: [], lastChanged: this.clock.now() }];
  }

  get size(): number {
    return this.byId.size;
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  state(n: RoutingNode, now = this.clock.now()): NodeState {
    if (n.failures >= BAD_FAILURES) return 'bad';
    if (n.lastResponse > 0 && (now - n.lastResponse < GOOD_INTERVAL_MS || now - n.lastQuery < GOOD_INTERVAL_MS)) return 'good';
    return 'questionable';
  }

  get(id: Uint8Array): RoutingNode | undefined {
    return this.byId.get(idKey(id));
  }

  all(): RoutingNode[] {
    const out: RoutingNode[] = [];
    for (const b of this.buckets) out.push(...b.nodes);
    return out;
  }

  private bucketIndex(id: Uint8Array): number {
    return Math.min(commonPrefixBits(id, this.self), this.buckets.length - 1);
  }

  /**
   * We heard from a node: a response to our query (`response`), a query it sent (`query`), or an entry from a
   * saved state (`saved`, not yet confirmed). Returns whether it is in the table and what to ping.
   */
  heard(info: NodeInfo, how: 'response' | 'query' | 'saved'): HeardResult {
    if (info.id.length !== ID_LENGTH || idKey(info.id) === idKey(this.self)) return { inTable: false };
    const now = this.clock.now();
    const key = idKey(info.id);
    const existing = this.byId.get(key);
    if (existing) {
      if (existing.host !== info.host || existing.port !== info.port) {
        // Another address claims a known id: keep a live entry (spoofing), take over a dead one.
        if (this.state(existing, now) === 'good') return { inTable: true };
        existing.host = info.host;
        existing.port = info.port;
        existing.secure = isSecureNodeId(info.id, info.host);
      }
      if (how === 'response') {
        existing.lastResponse = now;
        existing.failures = 0;
        this.buckets[this.bucketIndex(info.id)]!.lastChanged = now;
      } else if (how === 'query') {
        existing.lastQuery = now;
      }
      return { inTable: true };
    }
    const secure = isSecureNodeId(info.id, info.host);
    if (!secure && this.enforceSecure) return { inTable: false };
    const node: RoutingNode = {
      id: info.id.slice(),
      host: info.host,
      port: info.port,
      lastResponse: how === 'response' ? now : 0,
      lastQuery: how === 'query' ? now : 0,
      failures: 0,
      secure,
    };
    for (;;) {
      const idx = this.bucketIndex(node.id);
      const b = this.buckets[idx]!;
      if (b.nodes.length < this.k) {
        this.insert(b, node, now);
        return { inTable: true };
      }
      if (idx === this.buckets.length - 1 && this.buckets.length < ID_LENGTH * 8) {
        this.split();
        continue;
      }
      // Full bucket: replace a bad node, then a non-compliant one (BEP 42), else cache and ask for a ping.
      const bad = b.nodes.findIndex((n) => this.state(n, now) === 'bad');
      if (bad >= 0) {
        this.removeAt(b, bad);
        this.insert(b, node, now);
        return { inTable: true };
      }
      if (secure && how === 'response') {
        const weak = b.nodes.findIndex((n) => !n.secure);
        if (weak >= 0) {
          const [old] = b.nodes.splice(weak, 1);
          this.byId.delete(idKey(old!.id));
          this.insert(b, node, now);
          return { inTable: true };
        }
      }
      this.addReplacement(b, node);
      if (how !== 'response') return { inTable: false };
      let oldest: RoutingNode | undefined;
      for (const n of b.nodes) {
        if (this.state(n, now) !== 'questionable') continue;
        if (!oldest || Math.max(n.lastResponse, n.lastQuery) < Math.max(oldest.lastResponse, oldest.lastQuery)) oldest = n;
      }
      return oldest ? { inTable: false, ping: oldest } : { inTable: false };
    }
  }

  /** A query to this node failed (timeout or error). Bad nodes give their place to the freshest replacement. */
  failed(id: Uint8Array): void {
    const n = this.byId.get(idKey(id));
    if (!n) return;
    n.failures++;
    if (n.failures < BAD_FAILURES) return;
    const b = this.buckets[this.bucketIndex(id)]!;
    const rep = b.replacements.pop();
    if (rep || n.lastResponse === 0 || n.failures >= BAD_FAILURES * 2) {
      const i = b.nodes.indexOf(n);
      if (i >= 0) this.removeAt(b, i);
      if (rep) this.insert(b, rep, this.clock.now());
    }
  }

  remove(id: Uint8Array): void {
    const b = this.buckets[this.bucketIndex(id)]!;
    const i = b.nodes.findIndex((n) => idKey(n.id) === idKey(id));
    if (i >= 0) this.removeAt(b, i);
  }

  /** Up to `k` nodes closest to `target` by XOR distance, bad nodes excluded. */
  closest(target: Uint8Array, k = this.k, filter?: (n: RoutingNode) => boolean): RoutingNode[] {
    const now = this.clock.now();
    const out: RoutingNode[] = [];
    for (const b of this.buckets) {
      for (const n of b.nodes) {
        if (this.state(n, now) === 'bad' || (filter && !filter(n))) continue;
        // Insertion into a sorted array of at most k entries.
        if (out.length === k && compareDistance(n.id, out[k - 1]!.id, target) >= 0) continue;
        let i = out.length < k ? out.length : k - 1;
        if (out.length < k) out.push(n);
        while (i > 0 && compareDistance(n.id, out[i - 1]!.id, target) < 0) {
          out[i] = out[i - 1]!;
          i--;
        }
        out[i] = n;
      }
    }
    return out;
  }

  /** Questionable nodes (oldest first), for the maintenance pinger. */
  questionable(limit: number): RoutingNode[] {
    const now = this.clock.now();
    return this.all()
      .filter((n) => this.state(n, now) === 'questionable')
      .sort((a, b) => Math.max(a.lastResponse, a.lastQuery) - Math.max(b.lastResponse, b.lastQuery))
      .slice(0, limit);
  }

  /** Random targets inside every bucket untouched for REFRESH_INTERVAL_MS (the bucket is marked refreshed). */
  refreshTargets(random: Random, idleMs = REFRESH_INTERVAL_MS): Uint8Array[] {
    const now = this.clock.now();
    const out: Uint8Array[] = [];
    this.buckets.forEach((b, i) => {
      if (now - b.lastChanged < idleMs) return;
      b.lastChanged = now;
      out.push(this.randomIdInBucket(i, random));
    });
    return out;
  }

  /** A random id that falls in bucket `index`. */
  randomIdInBucket(index: number, random: Random): Uint8Array {
    const id = random.bytes(ID_LENGTH);
    const last = index === this.buckets.length - 1;
    const keep = last ? index : index + 1; // bits copied from our id (the last one flipped for inner buckets)
    for (let bit = 0; bit < keep; bit++) {
      const byte = bit >> 3;
      const mask = 0x80 >> (bit & 7);
      let v = this.self[byte]! & mask;
      if (!last && bit === index) v ^= mask;
      id[byte] = (id[byte]! & ~mask) | v;
    }
    return id;
  }

  private insert(b: Bucket, n: RoutingNode, now: number): void {
    b.nodes.push(n);
    b.lastChanged = now;
    b.replacements = b.replacements.filter((r) => idKey(r.id) !== idKey(n.id));
    this.byId.set(idKey(n.id), n);
  }

  private removeAt(b: Bucket, i: number): void {
    const [n] = b.nodes.splice(i, 1);
    if (n) this.byId.delete(idKey(n.id));
  }

  private addReplacement(b: Bucket, n: RoutingNode): void {
    const key = idKey(n.id);
    b.replacements = b.replacements.filter((r) => idKey(r.id) !== key);
    b.replacements.push(n);
    if (b.replacements.length > this.k) b.replacements.shift();
  }

  private split(): void {
    const last = this.buckets[this.buckets.length - 1]!;
    const idx = this.buckets.length - 1;
    const next: Bucket = { nodes: [], replacements: [], lastChanged: last.lastChanged };
    this.buckets.push(next);
    const stay: RoutingNode[] = [];
    for (const n of last.nodes) (commonPrefixBits(n.id, this.self) > idx ? next.nodes : stay).push(n);
    last.nodes = stay;
    const reps = last.replacements;
    last.replacements = [];
    for (const r of reps) {
      const target = commonPrefixBits(r.id, this.self) > idx ? next : last;
      if (target.nodes.length < this.k) {
        target.nodes.push(r);
        this.byId.set(idKey(r.id), r);
      } else target.replacements.push(r);
    }
  }
}
