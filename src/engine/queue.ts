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
  const out: T[] = [];
  for (const t of all) {
    if (t.state !== 'queued') continue;
    const kind = t.queueKind;
    const limit = kind === 'download' ? limits.maxActiveDownloads : limits.maxActiveSeeds;
    if (limit > 0 && active[kind] >= limit) continue;
    active[kind]++;
    out.push(t);
  }
  return out;
}
