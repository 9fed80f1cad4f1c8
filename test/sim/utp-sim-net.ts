/**
 * A deterministic virtual network for uTP simulations: two (or more) UtpSockets on one FakeClock, joined by
 * one-way links with delay, jitter (reordering), loss, duplication and an optional bottleneck with a queue.
 * Every random choice comes from one SeededRandom, so a seed replays the same run packet for packet.
 */
import { FakeClock } from '../../src/core/fake-clock.js';
import { SeededRandom } from '../../src/core/node-random.js';
import { UtpSocket, type UtpConnectionSettings, type UtpSocketOptions } from '../../src/transport/utp/index.js';

export interface LinkProfile {
  /** One-way propagation delay (ms). */
  delayMs: number;
  /** Probability a datagram is dropped. */
  loss?: number;
  /** Probability a datagram is delivered twice. */
  dup?: number;
  /** Probability a datagram is held back by up to jitterMs (so later ones overtake it). */
  reorder?: number;
  jitterMs?: number;
  /** Bottleneck rate (bytes/s); 0 = infinite. Datagrams queue behind each other. */
  rateBps?: number;
  /** Drop-tail: queueing delay beyond which datagrams are dropped (ms). */
  maxQueueMs?: number;
  /** Extra constant delay (ms), e.g. a standing queue from a competing flow; may change mid-run. */
  extraDelayMs?: number;
}

interface Ev {
  at: number;
  n: number;
  data: Uint8Array;
  toHost: string;
  fromHost: string;
  fromPort: number;
}

/** Minimal binary heap ordered by (at, n). */
class Heap {
  private a: Ev[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Ev | undefined {
    return this.a[0];
  }
  push(e: Ev): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, e)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }
  pop(): Ev | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && less(a[r]!, a[l]!) ? r : l;
        if (less(last, a[c]!)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
function less(x: Ev, y: Ev): boolean {
  return x.at < y.at || (x.at === y.at && x.n < y.n);
}

export interface SimNode {
  host: string;
  port: number;
  socket: UtpSocket;
}

export interface SimStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  bytes: number;
}

export class SimNet {
  readonly clock = new FakeClock(1_000_000);
  readonly rng: SeededRandom;
  readonly stats: SimStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, reordered: 0, bytes: 0 };
  private readonly nodes = new Map<string, SimNode>();
  private readonly links = new Map<string, LinkProfile & { busyUntil: number }>();
  private readonly q = new Heap();
  private n = 0;
  /** Optional tap on every datagram put on a link (for traces / replay checks). */
  onSend: ((from: string, to: string, data: Uint8Array, at: number) => void) | undefined;

  constructor(seed: number) {
    this.rng = new SeededRandom(seed);
  }

  addNode(host: string, port: number, seed: number, settings: UtpConnectionSettings = {}, extra: Partial<UtpSocketOptions> = {}): SimNode {
    const node: SimNode = {
      host,
      port,
      socket: new UtpSocket({
        clock: this.clock,
        random: new SeededRandom(seed),
        send: (data, toHost) => this.transmit(host, port, toHost, data),
        localPort: () => port,
        connection: settings,
        ...extra,
      }),
    };
    this.nodes.set(host, node);
    return node;
  }

  /** One-way link from host a to host b. */
  link(a: string, b: string, p: LinkProfile): LinkProfile {
    const l = { ...p, busyUntil: 0 };
    this.links.set(`${a}>${b}`, l);
    return l;
  }

  linkProfile(a: string, b: string): LinkProfile {
    return this.links.get(`${a}>${b}`)!;
  }

  private transmit(fromHost: string, fromPort: number, toHost: string, data: Uint8Array): void {
    this.stats.sent++;
    const l = this.links.get(`${fromHost}>${toHost}`);
    if (!l) return;
    const now = this.clock.now();
    this.onSend?.(fromHost, toHost, data, now);
    const rng = this.rng;
    if (l.loss && rng.int(1_000_000) < l.loss * 1_000_000) {
      this.stats.dropped++;
      return;
    }
    let at = now;
    if (l.rateBps) {
      const start = Math.max(now, l.busyUntil);
      if (l.maxQueueMs !== undefined && start - now > l.maxQueueMs) {
        this.stats.dropped++;
        return;
      }
      at = start + ((data.length + 28) * 1000) / l.rateBps;
      l.busyUntil = at;
    }
    at += l.delayMs + (l.extraDelayMs ?? 0);
    if (l.reorder && rng.int(1_000_000) < l.reorder * 1_000_000) {
      at += ((l.jitterMs ?? 10) * (1 + rng.int(1000))) / 1000;
      this.stats.reordered++;
    }
    const copy = data.slice();
    this.stats.bytes += copy.length;
    this.q.push({ at, n: this.n++, data: copy, toHost, fromHost, fromPort });
    if (l.dup && rng.int(1_000_000) < l.dup * 1_000_000) {
      this.stats.duplicated++;
      this.q.push({ at: at + 1 + rng.int(5), n: this.n++, data: copy.slice(), toHost, fromHost, fromPort });
    }
  }

  /**
   * Run until `done()` or `maxMs` of virtual time pass. Time jumps from event to event; timers in between
   * fire in order (FakeClock). Returns the virtual ms elapsed.
   */
  run(done: () => boolean, maxMs: number, idleStepMs = 10): number {
    const clock = this.clock;
    const start = clock.now();
    const end = start + maxMs;
    // Batched sockets (option `batched`) get endBatch() like NodeUdpMux gives it: after every datagram due at
    // this instant was handled, or after 32 of them (libuv reads at most 32 per poll).
    const open = new Map<SimNode, number>();
    const endBatches = (): void => {
      for (const n of open.keys()) n.socket.endBatch();
      open.clear();
    };
    while (!done()) {
      const now = clock.now();
      if (now >= end) break;
      const next = this.q.peek();
      if (next && next.at <= now) {
        this.q.pop();
        const node = this.nodes.get(next.toHost);
        if (!node) continue;
        this.stats.delivered++;
        node.socket.handlePacket(next.data, next.fromHost, next.fromPort);
        if (node.socket.batched) {
          const k = (open.get(node) ?? 0) + 1;
          open.set(node, k);
          if (k >= 32) {
            open.delete(node);
            node.socket.endBatch();
          }
        }
        continue;
      }
      endBatches();
      if (done()) break;
      // Timers due before the next delivery may send datagrams that arrive earlier still: re-peek after.
      clock.advance(Math.min(next ? next.at : Infinity, now + idleStepMs, end) - now);
    }
    endBatches();
    return clock.now() - start;
  }

  get inFlight(): number {
    return this.q.size;
  }
}

/** Deterministic pseudo-random bytes (fast: 32 bits at a time). */
export function patternBytes(n: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, n);
}
