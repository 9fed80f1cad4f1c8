/**
 * BEP 5 peer store: peers announced to us per info-hash, expiring after 30 minutes, bounded per info-hash
 * (oldest entry evicted) and in total (new info-hashes refused when full).
 */
import type { Clock, Random } from '../core/index.js';
import { canonicalHost, isIPv6 } from './addr.js';
import type { PeerAddress } from './addr.js';
import { idKey } from './routing-table.js';

export const PEER_TTL_MS = 30 * 60_000;

export interface PeerStoreOptions {
  clock: Clock;
  random: Random;
  ttlMs?: number;
  maxPeersPerInfoHash?: number;
  maxInfoHashes?: number;
  maxPeers?: number;
}

interface Entry {
  host: string;
  port: number;
  seed: boolean;
  expires: number;
}

export class PeerStore {
  private readonly byHash = new Map<string, Map<string, Entry>>();
  private total = 0;
  private readonly ttl: number;
  private readonly perHash: number;
  private readonly maxHashes: number;
  private readonly maxPeers: number;

  constructor(private readonly opts: PeerStoreOptions) {
    this.ttl = opts.ttlMs ?? PEER_TTL_MS;
    this.perHash = opts.maxPeersPerInfoHash ?? 200;
    this.maxHashes = opts.maxInfoHashes ?? 2000;
    this.maxPeers = opts.maxPeers ?? 20_000;
  }

  get infoHashes(): number {
    return this.byHash.size;
  }

  get peers(): number {
    return this.total;
  }

  /** Store (or refresh) a peer; false when the store is full. */
  add(infoHash: Uint8Array, peer: PeerAddress, seed = false): boolean {
    const now = this.opts.clock.now();
    const hk = idKey(infoHash);
    let m = this.byHash.get(hk);
    if (!m) {
      if (this.byHash.size >= this.maxHashes || this.total >= this.maxPeers) {
        this.expire();
        if (this.byHash.size >= this.maxHashes || this.total >= this.maxPeers) return false;
      }
      m = new Map();
      this.byHash.set(hk, m);
    }
    const host = canonicalHost(peer.host);
    const pk = `${host}|${peer.port}`;
    const old = m.get(pk);
    if (old) {
      m.delete(pk); // re-insert at the end: Map order is age order
    } else {
      if (this.total >= this.maxPeers) {
        this.expire();
        if (this.total >= this.maxPeers) return false;
      }
      if (m.size >= this.perHash) {
        const first = m.keys().next().value as string;
        m.delete(first);
        this.total--;
      }
      this.total++;
    }
    m.set(pk, { host, port: peer.port, seed, expires: now + this.ttl });
    return true;
  }

  /** Up to `max` live peers of the family wanted, a random sample when there are more. */
  get(infoHash: Uint8Array, max: number, v6: boolean): PeerAddress[] {
    const m = this.byHash.get(idKey(infoHash));
    if (!m) return [];
    const now = this.opts.clock.now();
    const live: PeerAddress[] = [];
    for (const [k, e] of m) {
      if (e.expires <= now) {
        m.delete(k);
        this.total--;
        continue;
      }
      if (isIPv6(e.host) === v6) live.push({ host: e.host, port: e.port });
    }
    if (m.size === 0) this.byHash.delete(idKey(infoHash));
    if (live.length <= max) return live;
    for (let i = 0; i < max; i++) {
      const j = i + this.opts.random.int(live.length - i);
      const t = live[i]!;
      live[i] = live[j]!;
      live[j] = t;
    }
    return live.slice(0, max);
  }

  /** Drop expired entries. */
  expire(): void {
    const now = this.opts.clock.now();
    for (const [hk, m] of this.byHash) {
      for (const [k, e] of m) {
        if (e.expires <= now) {
          m.delete(k);
          this.total--;
        }
      }
      if (m.size === 0) this.byHash.delete(hk);
    }
  }
}
