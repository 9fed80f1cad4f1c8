/**
 * DhtAnnouncer (BEP 5): one torrent's get_peers + announce on the engine's DHT, now and then about every 15
 * minutes; while lookups find nobody, again after 5 s doubling up to that period. The torrent's `nodes` are
 * pinged once.
 */
import type { Clock, Timer } from '../core/index.js';
import type { Logger } from '../core/index.js';
import type { TorrentDht } from './types.js';

export const DHT_ANNOUNCE_INTERVAL_MS = 15 * 60_000;
export const DHT_RETRY_MIN_MS = 5_000;

/** The delay before the next lookup, and the retry delay after it, given how many peers this one found. */
export function nextDhtDelay(found: number, retryMs: number): { delay: number; retryMs: number } {
  if (found > 0) return { delay: DHT_ANNOUNCE_INTERVAL_MS, retryMs };
  return { delay: retryMs, retryMs: Math.min(retryMs * 2, DHT_ANNOUNCE_INTERVAL_MS) };
}

export interface DhtAnnouncerHooks {
  /** The engine's DHT, once it runs. */
  dht(): TorrentDht | undefined;
  /** May the torrent use the DHT and take peers now? */
  allowed(): boolean;
  /** The torrent's `nodes` (pinged once, when the metadata is known). */
  nodes(): readonly { host: string; port: number }[] | undefined;
  listenPort(): number;
  /** A peer found (already filtered: not ourselves). */
  peer(host: string, port: number): void;
  isSelf(host: string, port: number): boolean;
}

export class DhtAnnouncer {
  private timer: Timer | undefined;
  private abort: AbortController | undefined;
  private retryMs = DHT_RETRY_MIN_MS;
  private nodesAdded = false;

  constructor(
    private readonly infoHash: Uint8Array,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly hooks: DhtAnnouncerHooks,
  ) {}

  /** Look up now (the first lookup), then on the schedule. */
  start(): void {
    this.stop();
    if (!this.hooks.allowed()) return;
    this.retryMs = DHT_RETRY_MIN_MS;
    this.timer = this.clock.setTimeout(() => void this.run(), 0);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.abort?.abort();
    this.abort = undefined;
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (!this.hooks.allowed()) return;
    const dht = this.hooks.dht();
    if (!dht) {
      // The engine's node is not up yet (resolving its routers): try again soon.
      this.timer = this.clock.setTimeout(() => void this.run(), DHT_RETRY_MIN_MS);
      return;
    }
    const nodes = this.nodesAdded ? undefined : this.hooks.nodes();
    if (nodes) {
      this.nodesAdded = true;
      for (const n of nodes) dht.addNode(n.host, n.port);
    }
    const abort = new AbortController();
    this.abort = abort;
    const signal = abort.signal;
    let found = 0;
    try {
      for await (const p of dht.getPeers(this.infoHash, { signal })) {
        if (this.hooks.isSelf(p.host, p.port)) continue;
        found++;
        this.hooks.peer(p.host, p.port);
      }
      const port = this.hooks.listenPort();
      if (port > 0 && !signal.aborted) await dht.announce(this.infoHash, port, { signal });
    } catch (e) {
      if (signal.aborted) return;
      this.log.debug(() => `DHT lookup failed: ${(e as Error).message}`);
    }
    if (signal.aborted || this.abort !== abort) return;
    this.abort = undefined;
    this.log.debug(() => `DHT: ${found} peers`);
    const next = nextDhtDelay(found, this.retryMs);
    this.retryMs = next.retryMs;
    this.timer = this.clock.setTimeout(() => void this.run(), next.delay);
  }
}
