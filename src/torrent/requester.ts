/**
 * Requesting blocks from a peer: how deep its pipeline should be (a pure function of its rate) and filling it
 * from the picker within the download budget and the verification budget.
 */
import type { PiecePicker } from '../picker/index.js';
import type { PieceAssembler } from './piece-assembler.js';
import type { PeerSession } from './peer-session.js';
import type { TorrentRate } from './torrent-rate.js';
import type { TorrentSettings } from './types.js';

const BLOCK = 16384;

/**
 * Blocks to keep requested from a peer: enough for `requestQueueSeconds` at its current rate (libtorrent's
 * request_queue_time), at least 16, at most what it and we allow, and during slow start at least `slowStart`.
 */
export function requestDepth(
  rate: number,
  s: Pick<TorrentSettings, 'requestQueueSeconds' | 'maxOutstandingRequests'>,
  peerMaxRequests: number,
  slowStart: number,
): number {
  const cap = Math.min(peerMaxRequests, s.maxOutstandingRequests);
  return Math.max(16, Math.min(cap, Math.max(Math.ceil((rate * s.requestQueueSeconds) / BLOCK), slowStart)));
}

/**
 * How many blocks to request now, given `outstanding` in flight and a `target` depth: top up in batches (once
 * an eighth of the pipeline is free) so a fast peer costs one picker call per several blocks; 0 = not yet.
 */
export function requestBatch(outstanding: number, target: number): number {
  return outstanding > target - Math.max(1, target >> 3) ? 0 : target - outstanding;
}

/** Slow start: every block received in the first 10 s grows the pipeline floor by one; afterwards it ends. */
export function nextSlowStart(slowStart: number, msSinceConnected: number): number {
  if (slowStart <= 0) return 0;
  return msSinceConnected < 10_000 ? slowStart + 1 : 0;
}

export class Requester {
  constructor(
    private readonly settings: TorrentSettings,
    private readonly rate: TorrentRate,
    private readonly assembler: PieceAssembler,
  ) {}

  /** Keep the peer's request pipeline full. The caller checks that the torrent is downloading. */
  fill(picker: PiecePicker, st: PeerSession, now: number): void {
    const p = st.peer;
    if (picker.finished || p.isClosed || !st.amInterested) return;
    if (st.choking && st.allowedFast.size === 0) return;
    if (this.assembler.overBudget) return;
    // A snubbed peer (its blocks were given to others) gets one request at a time until it delivers again.
    const target = st.snubbed ? 1 : requestDepth(p.down.rate(now), this.settings, st.maxRequests, st.slowStart);
    const outstanding = picker.outstanding(st.id);
    let want = requestBatch(outstanding, target);
    if (want === 0) return;
    const budget = this.rate.download;
    if (!budget.unlimited) {
      // A download limit: a request spends its bytes when it is sent (what is requested will arrive), so the
      // requests in flight follow the limit and no peer's pipeline runs ahead of it.
      if (!budget.canSpend(now)) return this.rate.waitFor(budget);
      want = Math.min(want, Math.max(1, Math.floor(budget.available(now) / BLOCK)));
    }
    const reqs = picker.pick(st, want, now);
    if (reqs.length === 0) return;
    if (!budget.unlimited) {
      let bytes = 0;
      for (const r of reqs) bytes += r.length;
      budget.spend(bytes, now);
      if (!budget.canSpend(now)) this.rate.waitFor(budget);
    }
    // The request timeout (ActiveMode.tick) runs from the first request in flight, not from a piece long ago or
    // the connection: a peer that unchokes us (or gets interesting) late is not snubbed on its first requests.
    if (outstanding === 0) p.lastPieceAt = now;
    for (const r of reqs) this.assembler.prepare(r.index);
    p.sendMany(reqs.map((r) => ({ type: 'request' as const, index: r.index, begin: r.begin, length: r.length })));
  }
}
