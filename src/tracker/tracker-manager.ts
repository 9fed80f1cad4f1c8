/**
 * TrackerManager: one torrent's trackers, announced per BEP 12 (MonoTorrent's TrackerManager, libtorrent's
 * announce logic), sans I/O: trackers come from an injected factory, time from the injected Clock.
 *
 * - Tiers are tried in order; each tier is shuffled once; within a tier the trackers are tried in order and the
 *   first that answers moves to the front of its tier. One announce round stops at the first tracker that
 *   answers, so a swarm is announced to one tracker at a time, as BEP 12 intends.
 * - A tracker that fails is skipped until its back-off (base * 2^(failures-1), capped) has passed; when every
 *   tracker is backing off, the round is retried when the first one may be asked again.
 * - The next regular round is due after the answering tracker's `interval` (floored by a setting), and a manual
 *   `announce()` is never sent sooner than its `min interval`.
 * - `started` goes to each tracker the first time it is asked; `completed` goes once per torrent, to the next
 *   tracker that answers after the download finished (never if it was complete at start); `stopped` goes, on
 *   stop, to every tracker that got `started`, bounded in time.
 */
import type { Clock, Timer, Random } from '../core/index.js';
import { BtError } from '../core/index.js';
import type { AnnounceEvent, AnnounceRequest, AnnounceResponse, ScrapeResponse, Tracker, TrackerPeer } from './types.js';

export type TrackerState = 'idle' | 'announcing' | 'working' | 'failed' | 'unsupported';

export interface TrackerStatus {
  url: string;
  /** 0-based tier. */
  tier: number;
  state: TrackerState;
  /** Clock time (ms) of the last announce sent to it, answered or not. */
  lastAnnounce?: number;
  /** Clock time (ms) of its last answer. */
  lastSuccess?: number;
  /** Clock time (ms) when it will next be asked (by the regular schedule or after its back-off). */
  nextAnnounce?: number;
  /** Peers in its last answer, and in all its answers. */
  peersReceived: number;
  totalPeersReceived: number;
  seeders?: number;
  leechers?: number;
  /** From the last scrape. */
  completed?: number;
  /** Seconds, as the tracker last said. */
  interval?: number;
  minInterval?: number;
  lastError?: string;
  warning?: string;
  /** Consecutive failures. */
  failures: number;
  /** Events it has answered, in order (bounded to the last 16): for tests and diagnostics. */
  events: AnnounceEvent[];
}

export interface TrackerManagerOptions {
  /** Announce URLs by tier (BEP 12 announce-list, or [[announce]]). Duplicates are dropped. */
  tiers: readonly (readonly string[])[];
  clock: Clock;
  random: Random;
  /** Builds a Tracker for a URL; throws (ERR_UNSUPPORTED) for schemes it can't handle. */
  createTracker: (url: string) => Tracker;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  key: number;
  /** Current transfer figures for the announce. */
  stats: () => { port: number; uploaded: number; downloaded: number; left: number };
  crypto?: AnnounceRequest['crypto'];
  numWant?: number;
  /** Floor on the regular announce interval (ms), whatever the tracker says. */
  minIntervalMs?: number;
  /** Interval when the tracker doesn't give one (ms). */
  defaultIntervalMs?: number;
  /** First back-off after a failure (ms), doubling per consecutive failure up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Upper bound on one announce or scrape, whatever the tracker implementation does (ms). */
  requestTimeoutMs?: number;
  /** Upper bound on sending `stopped` to all trackers on stop (ms). */
  stopTimeoutMs?: number;
  onPeers: (peers: TrackerPeer[], url: string) => void;
  onWarning?: (message: string) => void;
  /** A tracker's status after it answered, failed, or was told `stopped`. */
  onStatus?: (status: TrackerStatus) => void;
  /** Every answer, for the engine (external ip). */
  onResponse?: (r: AnnounceResponse, url: string) => void;
}

interface Entry {
  url: string;
  tier: number;
  tracker: Tracker | undefined;
  status: TrackerStatus;
  startedSent: boolean;
  retryAt: number;
  /** Earliest time a non-forced announce may go to it (its min interval). */
  minNextAt: number;
}

export class TrackerManager {
  private readonly tiers: Entry[][] = [];
  private readonly o: Required<Omit<TrackerManagerOptions, 'onWarning' | 'onResponse' | 'onStatus' | 'crypto'>> & TrackerManagerOptions;
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private active = false;
  private completedPending = false;
  private completedSent = false;
  private completeAtStart = false;
  private again = false;
  private nextRoundAt: number | undefined;
  private disposed = false;
  private unsupportedReported = false;

  constructor(opts: TrackerManagerOptions) {
    this.o = {
      numWant: 200,
      minIntervalMs: 30_000,
      defaultIntervalMs: 30 * 60_000,
      retryBaseMs: 15_000,
      retryMaxMs: 30 * 60_000,
      requestTimeoutMs: 60_000,
      stopTimeoutMs: 3_000,
      ...opts,
    };
    const seen = new Set<string>();
    opts.tiers.forEach((urls) => {
      const tier: Entry[] = [];
      for (const raw of urls) {
        const url = raw.trim();
        if (!url || seen.has(url)) continue;
        seen.add(url);
        const e: Entry = {
          url,
          tier: this.tiers.length,
          tracker: undefined,
          status: { url, tier: this.tiers.length, state: 'idle', peersReceived: 0, totalPeersReceived: 0, failures: 0, events: [] },
          startedSent: false,
          retryAt: 0,
          minNextAt: 0,
        };
        try {
          e.tracker = opts.createTracker(url);
        } catch (err) {
          // Reported once, at the first start (when someone listens).
          e.status.state = 'unsupported';
          e.status.lastError = (err as Error).message;
        }
        tier.push(e);
      }
      if (tier.length === 0) return;
      // BEP 12: shuffle each tier once.
      for (let i = tier.length - 1; i > 0; i--) {
        const j = opts.random.int(i + 1);
        [tier[i], tier[j]] = [tier[j]!, tier[i]!];
      }
      this.tiers.push(tier);
    });
  }

  /** Trackers in announce order, with their status (copies). */
  get status(): TrackerStatus[] {
    return this.tiers.flat().map((e) => this.snapshot(e));
  }

  private snapshot(e: Entry): TrackerStatus {
    return { ...e.status, events: [...e.status.events], nextAnnounce: this.nextFor(e) };
  }

  private changed(e: Entry): void {
    this.o.onStatus?.(this.snapshot(e));
  }

  /** True when at least one tracker can be used. */
  get usable(): boolean {
    return this.tiers.some((t) => t.some((e) => e.tracker !== undefined));
  }

  /** Begin announcing (`started`). `complete` says the download is already complete, so `completed` is never sent. */
  start(opts: { complete?: boolean } = {}): void {
    if (this.disposed || this.active) return;
    this.active = true;
    if (!this.unsupportedReported) {
      this.unsupportedReported = true;
      for (const e of this.tiers.flat()) {
        if (e.status.state === 'unsupported') this.o.onWarning?.(`tracker ${e.url} skipped: ${e.status.lastError ?? 'unsupported'}`);
      }
    }
    this.completeAtStart = opts.complete ?? false;
    this.schedule(0);
  }

  /** The download finished: announce `completed` now (once per torrent). */
  complete(): void {
    if (this.completeAtStart || this.completedSent || this.completedPending) return;
    this.completedPending = true;
    if (this.active) this.schedule(0);
  }

  /** Ask for peers now, unless the answering tracker's min interval forbids it (then as soon as it allows). */
  announce(): void {
    if (!this.active) return;
    const first = this.firstCandidate();
    const at = first ? Math.max(first.minNextAt, this.o.clock.now()) : this.o.clock.now();
    if (this.nextRoundAt === undefined || at < this.nextRoundAt) this.schedule(at - this.o.clock.now());
  }

  /** Scrape the tracker currently answering (or the first one that can scrape). */
  async scrape(opts: { signal?: AbortSignal } = {}): Promise<ScrapeResponse & { url: string }> {
    const entries = this.tiers.flat().filter((e) => e.tracker?.canScrape);
    entries.sort((a, b) => Number(b.status.state === 'working') - Number(a.status.state === 'working'));
    const e = entries[0];
    if (!e?.tracker) throw new BtError('ERR_TRACKER', 'no tracker of this torrent supports scrape', { op: 'scrape' });
    const r = await this.bounded((signal) => e.tracker!.scrape(this.o.infoHash, { signal }), opts.signal);
    e.status.seeders = r.seeders;
    e.status.leechers = r.leechers;
    e.status.completed = r.completed;
    return { ...r, url: e.url };
  }

  /** Stop announcing; send `stopped` to every tracker that got `started`, within stopTimeoutMs. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.nextRoundAt = undefined;
    this.abort?.abort();
    await this.running?.catch(() => undefined);
    const started = this.tiers.flat().filter((e) => e.startedSent && e.tracker);
    const deadline = new AbortController();
    const t = this.o.clock.setTimeout(() => deadline.abort(), this.o.stopTimeoutMs);
    await Promise.allSettled(
      started.map(async (e) => {
        e.startedSent = false;
        try {
          await e.tracker!.announce(this.request('stopped', 0), { signal: deadline.signal });
          this.pushEvent(e, 'stopped');
          e.status.state = 'idle';
        } catch (err) {
          e.status.lastError = `stopped: ${(err as Error).message}`;
        }
        this.changed(e);
      }),
    );
    t.cancel();
  }

  /** Stop timers and release the trackers (without sending `stopped`: call stop() first for that). */
  dispose(): void {
    this.disposed = true;
    this.active = false;
    this.timer?.cancel();
    this.abort?.abort();
    for (const e of this.tiers.flat()) e.tracker?.dispose();
  }

  private request(event: AnnounceEvent, numWant: number): AnnounceRequest {
    const s = this.o.stats();
    return {
      infoHash: this.o.infoHash,
      peerId: this.o.peerId,
      port: s.port,
      uploaded: s.uploaded,
      downloaded: s.downloaded,
      left: s.left,
      event,
      numWant,
      key: this.o.key,
      crypto: this.o.crypto,
    };
  }

  private schedule(delayMs: number): void {
    if (!this.active) return;
    if (this.running) {
      // A round is in flight: run another right after it if this one asks for sooner than it will schedule.
      if (delayMs <= 0) this.again = true;
      return;
    }
    this.timer?.cancel();
    const d = Math.max(0, delayMs);
    this.nextRoundAt = this.o.clock.now() + d;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.nextRoundAt = undefined;
      this.running = this.round().then((next) => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else if (next !== undefined) {
          this.schedule(next);
        }
      });
    }, d);
  }

  private eventFor(e: Entry): AnnounceEvent {
    if (!e.startedSent) return 'started';
    if (this.completedPending) return 'completed';
    return 'none';
  }

  private firstCandidate(): Entry | undefined {
    for (const tier of this.tiers) for (const e of tier) if (e.tracker && e.retryAt <= this.o.clock.now()) return e;
    return undefined;
  }

  private nextFor(e: Entry): number | undefined {
    if (!e.tracker || !this.active) return undefined;
    if (e.retryAt > this.o.clock.now()) return e.retryAt;
    return this.firstCandidate() === e ? this.nextRoundAt : undefined;
  }

  /** One announce round; resolves with the delay until the next one (undefined when stopped). */
  private async round(): Promise<number | undefined> {
    const ac = new AbortController();
    this.abort = ac;
    for (const tier of this.tiers) {
      for (let i = 0; i < tier.length; i++) {
        const e = tier[i]!;
        if (!e.tracker || e.retryAt > this.o.clock.now()) continue;
        if (!this.active || ac.signal.aborted) return undefined;
        const event = this.eventFor(e);
        e.status.state = 'announcing';
        e.status.lastAnnounce = this.o.clock.now();
        let r: AnnounceResponse;
        try {
          r = await this.bounded((signal) => e.tracker!.announce(this.request(event, this.o.numWant), { signal }), ac.signal);
        } catch (err) {
          if (ac.signal.aborted) {
            e.status.state = e.status.lastSuccess !== undefined ? 'working' : 'idle';
            return undefined;
          }
          this.fail(e, err as Error);
          continue;
        }
        this.succeed(e, event, r);
        // BEP 12: the tracker that answered moves to the front of its tier.
        tier.splice(i, 1);
        tier.unshift(e);
        const intervalMs = Math.max(this.o.minIntervalMs, (r.interval ?? this.o.defaultIntervalMs / 1000) * 1000, e.minNextAt - this.o.clock.now());
        return intervalMs;
      }
    }
    // Nobody answered: try again when the first tracker's back-off ends.
    let next = Infinity;
    for (const e of this.tiers.flat()) if (e.tracker) next = Math.min(next, e.retryAt);
    return next === Infinity ? undefined : Math.max(1000, next - this.o.clock.now());
  }

  private succeed(e: Entry, event: AnnounceEvent, r: AnnounceResponse): void {
    const now = this.o.clock.now();
    const st = e.status;
    st.state = 'working';
    st.lastSuccess = now;
    st.failures = 0;
    st.lastError = undefined;
    st.warning = r.warning;
    st.interval = r.interval;
    st.minInterval = r.minInterval;
    st.seeders = r.seeders ?? st.seeders;
    st.leechers = r.leechers ?? st.leechers;
    st.peersReceived = r.peers.length;
    st.totalPeersReceived += r.peers.length;
    e.retryAt = 0;
    e.minNextAt = now + (r.minInterval ?? 0) * 1000;
    this.pushEvent(e, event);
    if (event === 'started') {
      e.startedSent = true;
      // A tracker told `started` with nothing left counts us as a seeder; `completed` would be a double count.
      if (this.request('none', 0).left === 0) this.completedPending = false;
    }
    if (event === 'completed') {
      this.completedPending = false;
      this.completedSent = true;
    }
    this.changed(e);
    if (r.warning) this.o.onWarning?.(`tracker ${e.url} warns: ${r.warning}`);
    this.o.onResponse?.(r, e.url);
    if (r.peers.length > 0) this.o.onPeers(r.peers, e.url);
  }

  private fail(e: Entry, err: Error): void {
    const st = e.status;
    st.state = 'failed';
    st.failures++;
    st.lastError = err.message;
    const backoff = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(20, st.failures - 1));
    e.retryAt = this.o.clock.now() + backoff;
    this.changed(e);
  }

  private pushEvent(e: Entry, ev: AnnounceEvent): void {
    e.status.events.push(ev);
    if (e.status.events.length > 16) e.status.events.shift();
  }

  /** Run a tracker call with an overall deadline and an outer abort, whatever the implementation does. */
  private bounded<T>(call: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
    const ac = new AbortController();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        outer?.removeEventListener('abort', onOuter);
        fn();
      };
      const onOuter = (): void => {
        ac.abort();
        finish(() => reject(new BtError('ERR_ABORTED', 'tracker request aborted', { op: 'announce' })));
      };
      const timer = this.o.clock.setTimeout(() => {
        ac.abort();
        finish(() => reject(new BtError('ERR_TIMEOUT', `tracker did not answer within ${this.o.requestTimeoutMs} ms`, { op: 'announce' })));
      }, this.o.requestTimeoutMs);
      if (outer?.aborted) return onOuter();
      outer?.addEventListener('abort', onOuter, { once: true });
      call(ac.signal).then(
        (v) => finish(() => resolve(v)),
        (err: unknown) => finish(() => reject(err as Error)),
      );
    });
  }
}
