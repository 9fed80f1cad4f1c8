/**
 * Queueing (settings.maxActiveDownloads / maxActiveSeeds) as pure functions of the torrents' states: a torrent
 * over the limit waits, checked, in 'queued'; queued torrents start in add order as slots free up.
 */
import type { TorrentState } from '../torrent/index.js';

export type QueueKind = 'download' | 'seed';

/** What queueing reads of a torrent. */
export interface QueuedTorrent {
  readonly state: TorrentState;
  readonly queueKind: QueueKind;
}

export interface QueueLimits {
  /** 0 or less: no limit. */
  maxActiveDownloads: number;
  maxActiveSeeds: number;
}

/** Does a torrent in `state` hold a slot of this kind? ('metadata' counts as a download.) */
function holdsSlot(state: TorrentState, kind: QueueKind): boolean {
  return kind === 'download' ? state === 'downloading' || state === 'metadata' : state === 'seeding';
}

/** Is there a slot of this kind for `t` (the torrents besides `t` itself that hold one are below the limit)? */
export function mayActivate<T extends QueuedTorrent>(limits: QueueLimits, torrents: Iterable<T>, t: T, kind: QueueKind): boolean {
  const limit = kind === 'download' ? limits.maxActiveDownloads : limits.maxActiveSeeds;
  if (limit <= 0) return true;
  let active = 0;
  for (const o of torrents) if (o !== t && holdsSlot(o.state, kind)) active++;
  return active < limit;
}

/**
 * The queued torrents to start now, oldest first (`torrents` in add order). Each one chosen takes its slot for the
 * ones after it, also when it leaves the queue asynchronously (a seed creates its files first).
 */
export function torrentsToPromote<T extends QueuedTorrent>(limits: QueueLimits, torrents: Iterable<T>): T[] {
  const all = [...torrents];
  const active = { download: 0, seed: 0 };
  for (const o of all) for (const kind of ['download', 'seed'] as const) if (holdsSlot(o.state, kind)) active[kind]++;
  return promote(limits, active, all);
}

/** The queued ones of `candidates` (add order) to start, given the slots of each kind held now. */
function promote<T extends QueuedTorrent>(limits: QueueLimits, active: Record<QueueKind, number>, candidates: readonly T[]): T[] {
  const out: T[] = [];
  for (const t of candidates) {
    if (t.state !== 'queued') continue;
    const kind = t.queueKind;
    const limit = kind === 'download' ? limits.maxActiveDownloads : limits.maxActiveSeeds;
    if (limit > 0 && active[kind] >= limit) continue;
    active[kind]++;
    out.push(t);
  }
  return out;
}

/**
 * The engine's queue book: how many torrents are in each state and which are queued (in add order), kept up to
 * date from the torrents' state events, so that mayActivate is O(1) and finding the torrents to promote costs
 * nothing while none is queued (with many torrents, both run on every state change).
 */
export class QueueBook<T extends QueuedTorrent> {
  private readonly counts = new Map<TorrentState, number>();
  /** Each torrent's add sequence and the state it was last counted in. */
  private readonly known = new Map<T, { seq: number; state: TorrentState }>();
  private readonly queued = new Set<T>();
  private seq = 0;

  /** Torrents known. */
  get size(): number {
    return this.known.size;
  }

  /** Torrents counted in `state`. */
  count(state: TorrentState): number {
    return this.counts.get(state) ?? 0;
  }

  add(t: T): void {
    if (this.known.has(t)) return;
    this.known.set(t, { seq: this.seq++, state: t.state });
    this.bump(t.state, 1);
    if (t.state === 'queued') this.queued.add(t);
  }

  /** `t` is in `state` now (its state event). */
  moved(t: T, state: TorrentState): void {
    const k = this.known.get(t);
    if (!k || k.state === state) return;
    this.bump(k.state, -1);
    this.bump(state, 1);
    if (k.state === 'queued') this.queued.delete(t);
    if (state === 'queued') this.queued.add(t);
    k.state = state;
  }

  remove(t: T): void {
    const k = this.known.get(t);
    if (!k) return;
    this.bump(k.state, -1);
    this.queued.delete(t);
    this.known.delete(t);
  }

  /** Same answer as mayActivate over every torrent, from the counts. */
  mayActivate(limits: QueueLimits, t: T, kind: QueueKind): boolean {
    const limit = kind === 'download' ? limits.maxActiveDownloads : limits.maxActiveSeeds;
    if (limit <= 0) return true;
    const own = this.known.get(t);
    const active = this.holding(kind) - (own && holdsSlot(own.state, kind) ? 1 : 0);
    return active < limit;
  }

  /** Same answer as torrentsToPromote over every torrent: the queued ones to start now, oldest first. */
  toPromote(limits: QueueLimits): T[] {
    if (this.queued.size === 0) return [];
    const order = [...this.queued].sort((a, b) => this.known.get(a)!.seq - this.known.get(b)!.seq);
    return promote(limits, { download: this.holding('download'), seed: this.holding('seed') }, order);
  }

  private holding(kind: QueueKind): number {
    return kind === 'download' ? this.count('downloading') + this.count('metadata') : this.count('seeding');
  }

  private bump(state: TorrentState, d: number): void {
    this.counts.set(state, this.count(state) + d);
  }
}
