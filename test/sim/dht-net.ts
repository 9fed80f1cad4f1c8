/**
 * A cheap deterministic world for DHT simulations: a heap-ordered virtual clock (FakeClock re-sorts its whole
 * queue per timer, too slow for thousands of nodes) and a virtual UDP network whose datagrams are timer events
 * delivered by direct function calls. Everything is driven by one seeded PRNG, so a seed replays exactly.
 */
import { createHash } from 'node:crypto';
import type { Clock, Timer } from '../../src/core/clock.js';
import { SeededRandom } from '../../src/core/node-random.js';
import { DhtNode, compareDistance, isLocalAddress } from '../../src/dht/index.js';
import type { DhtNodeOptions } from '../../src/dht/index.js';

interface Ev {
  at: number;
  seq: number;
  fn: () => void;
  every: number;
  live: boolean;
}

/** Binary-heap virtual clock. */
export class SimClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  private heap: Ev[] = [];

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): Timer {
    return this.push(fn, ms, 0);
  }
  setInterval(fn: () => void, ms: number): Timer {
    return this.push(fn, ms, Math.max(1, ms));
  }
  get pending(): number {
    return this.heap.length;
  }

  /** Run events in time order until `until()` holds, the queue empties, or virtual time passes `maxMs` from now. */
  run(until: () => boolean, maxMs: number): boolean {
    const end = this.t + maxMs;
    while (!until()) {
      const e = this.heap[0];
      if (!e || e.at > end) {
        this.t = Math.max(this.t, Math.min(end, e ? e.at : end));
        return until();
      }
      this.pop();
      if (!e.live) continue;
      this.t = e.at;
      if (e.every > 0) {
        e.at += e.every;
        e.seq = this.seq++;
        this.insert(e);
      } else e.live = false;
      e.fn();
    }
    return true;
  }

  /** Advance virtual time by ms, running everything due. */
  advance(ms: number): void {
    const end = this.t + ms;
    this.run(() => false, ms);
    this.t = end;
  }

  private push(fn: () => void, ms: number, every: number): Timer {
    const e: Ev = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, every, live: true };
    this.insert(e);
    return { cancel: () => { e.live = false; } };
  }
  private less(a: Ev, b: Ev): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private insert(e: Ev): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

export interface SimNode {
  index: number;
  host: string;
  port: number;
  node: DhtNode;
  /** The node's id (cached: DhtNode.id copies). */
  id: Uint8Array;
}

export interface SimOptions {
  seed: number;
  /** Fraction of datagrams dropped. */
  loss?: number;
  /** One-way latency range in ms. */
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** Hash every delivered datagram (for replay checks). */
  digest?: boolean;
  node?: Partial<DhtNodeOptions>;
}

export class SimNet {
  readonly clock = new SimClock();
  readonly rnd: SeededRandom;
  readonly nodes: SimNode[] = [];
  private readonly byAddr = new Map<string, SimNode>();
  private readonly usedIps = new Set<string>();
  private readonly hash = createHash('sha1');
  delivered = 0;
  dropped = 0;

  constructor(private readonly opts: SimOptions) {
    this.rnd = new SeededRandom(opts.seed);
  }

  /** A unique public-looking IPv4 address (so BEP 42 ids are exercised). */
  private freshIp(): string {
    for (;;) {
      const b = this.rnd.bytes(4);
      const host = `${1 + (b[0]! % 222)}.${b[1]}.${b[2]}.${1 + (b[3]! % 254)}`;
      if (isLocalAddress(host) || this.usedIps.has(host)) continue;
      this.usedIps.add(host);
      return host;
    }
  }

  addNode(bootstrap: { host: string; port: number }[]): SimNode {
    const host = this.freshIp();
    const port = 6881;
    const index = this.nodes.length;
    const random = new SeededRandom(this.rnd.int(0x7fffffff) + 1);
    const sim: SimNode = { index, host, port, node: undefined as unknown as DhtNode, id: new Uint8Array(20) };
    sim.node = new DhtNode({
      clock: this.clock,
      random,
      externalAddress: host,
      bootstrap,
      send: (data, toHost, toPort) => this.send(sim, data, toHost, toPort),
      ...this.opts.node,
    });
    sim.id = sim.node.id;
    this.nodes.push(sim);
    this.byAddr.set(`${host}|${port}`, sim);
    return sim;
  }

  private send(from: SimNode, data: Uint8Array, host: string, port: number): void {
    const to = this.byAddr.get(`${host}|${port}`);
    if (!to) return;
    if (this.opts.loss && this.rnd.int(1_000_000) < this.opts.loss * 1_000_000) {
      this.dropped++;
      return;
    }
    const min = this.opts.minLatencyMs ?? 10;
    const max = this.opts.maxLatencyMs ?? 120;
    const delay = min + this.rnd.int(max - min + 1);
    const copy = data.slice();
    this.clock.setTimeout(() => {
      this.delivered++;
      if (this.opts.digest) this.hash.update(copy).update(`${from.host}>${host}`);
      to.node.handlePacket(copy, from.host, from.port);
    }, delay);
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }

  /** The true k closest node ids to target among all nodes. */
  trueClosest(target: Uint8Array, k: number): SimNode[] {
    return [...this.nodes].sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, k);
  }

  pick(): SimNode {
    return this.nodes[this.rnd.int(this.nodes.length)]!;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * Build a network of `n` nodes bootstrapped from node 0, started `staggerMs` apart, then let it settle.
 * Returns when every node's bootstrap lookup is done (or after `settleMs`).
 */
export function buildNetwork(net: SimNet, n: number, staggerMs = 20, settleMs = 120_000): void {
  const first = net.addNode([]);
  first.node.start();
  const boot = [{ host: first.host, port: first.port }];
  for (let i = 1; i < n; i++) {
    const s = net.addNode(boot);
    net.clock.setTimeout(() => s.node.start(), i * staggerMs);
  }
  net.clock.advance(n * staggerMs + settleMs);
}
