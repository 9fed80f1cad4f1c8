/**
 * Uploader: serving peers' requests and choking. Requests queue per peer (bounded by maxIncomingRequests) and are
 * served from the read cache within the upload budget, a few reads at a time and while the socket drains. The
 * Choker (a pure round) decides whom to unchoke every chokeIntervalMs; an interested peer gets a free slot at once.
 */
import type { Clock } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import { pieceSize } from '../metainfo/index.js';
import type { Bitfield } from '../util/index.js';
import { Choker } from './choker.js';
import type { PeerSession } from './peer-session.js';
import type { PieceReadCache } from './read-cache.js';
import type { TorrentRate } from './torrent-rate.js';
import type { TorrentSettings } from './types.js';
import type { Random } from '../core/index.js';

const MAX_READS_IN_FLIGHT = 16;
const WRITE_HIGH_WATER = 4 * 1024 * 1024;
/** The largest block a peer may ask for. */
const MAX_REQUEST = 128 * 1024;

export interface UploaderHooks {
  /** A block went out: count it. */
  uploaded(bytes: number, now: number): void;
  warning(message: string): void;
}

export class Uploader {
  private readonly choker: Choker;
  private lastChoke = 0;

  constructor(
    private readonly settings: TorrentSettings,
    random: Random,
    private readonly clock: Clock,
    private readonly rate: TorrentRate,
    private readonly hooks: UploaderHooks,
  ) {
    this.choker = new Choker({ uploadSlots: settings.uploadSlots, random });
  }

  /**
   * A request from `st`: invalid ones close the peer; ones we cannot serve now (choked, a piece we lack, a full
   * queue) are rejected (BEP 6) or dropped; the rest queue and are served.
   */
  onRequest(st: PeerSession, info: TorrentInfo, have: Bitfield, cache: PieceReadCache, index: number, begin: number, length: number): void {
    if (index >= info.pieceCount || length === 0 || length > MAX_REQUEST || begin + length > pieceSize(info, index)) {
      return st.close(`invalid request ${index}:${begin}+${length}`);
    }
    const reject = (): void => {
      if (st.fast) st.send({ type: 'reject', index, begin, length });
    };
    if (st.amChoking || !have.get(index)) return reject();
    if (st.uploadQueue.length >= this.settings.maxIncomingRequests) return reject();
    st.uploadQueue.push({ index, begin, length });
    this.serve(st, cache);
  }

  onCancel(st: PeerSession, index: number, begin: number, length: number): void {
    const q = st.uploadQueue;
    const i = q.findIndex((r) => r.index === index && r.begin === begin && r.length === length);
    if (i >= 0) q.splice(i, 1);
  }

  /** Send what `st` asked for, as far as reads in flight, the socket's backlog and the upload budget allow. */
  serve(st: PeerSession, cache: PieceReadCache): void {
    const p = st.peer;
    const budget = this.rate.upload;
    while (st.uploadQueue.length > 0 && st.readsInFlight < MAX_READS_IN_FLIGHT && p.writeBacklog < WRITE_HIGH_WATER && !p.isClosed && !st.amChoking) {
      if (!budget.unlimited) {
        // An upload limit: a block spends its bytes when we commit to sending it.
        const now = this.clock.now();
        if (!budget.canSpend(now)) return this.rate.waitFor(budget);
        budget.spend(st.uploadQueue[0]!.length, now);
      }
      const r = st.uploadQueue.shift()!;
      st.readsInFlight++;
      cache.get(r.index).then(
        (piece) => {
          st.readsInFlight--;
          if (p.isClosed || st.amChoking) return;
          p.sendPiece(r.index, r.begin, piece.subarray(r.begin, r.begin + r.length));
          this.hooks.uploaded(r.length, this.clock.now());
          this.serve(st, cache);
        },
        (e: unknown) => {
          st.readsInFlight--;
          this.hooks.warning(`cannot read piece ${r.index}: ${(e as Error).message}`);
          if (st.fast) st.send({ type: 'reject', index: r.index, begin: r.begin, length: r.length });
        },
      );
    }
  }

  setChoke(st: PeerSession, choke: boolean): void {
    if (st.amChoking === choke) return;
    st.amChoking = choke;
    st.send({ type: choke ? 'choke' : 'unchoke' });
    if (choke) {
      if (st.fast) for (const r of st.uploadQueue) st.send({ type: 'reject', index: r.index, begin: r.begin, length: r.length });
      st.uploadQueue.length = 0;
    }
  }

  /** An interested peer gets a free upload slot at once rather than waiting for the next choke round. */
  maybeUnchokeNow(st: PeerSession, peers: Iterable<PeerSession>): void {
    if (!st.amChoking) return;
    let unchoked = 0;
    for (const o of peers) if (!o.amChoking) unchoked++;
    if (unchoked < this.settings.uploadSlots) this.setChoke(st, false);
  }

  /** Every chokeIntervalMs: a choker round over the connected peers. */
  tick(peers: readonly PeerSession[], seeding: boolean, now: number): void {
    if (now - this.lastChoke < this.settings.chokeIntervalMs) return;
    this.lastChoke = now;
    const cands = peers.map((st) => ({
      id: st.id,
      interested: st.peerInterested,
      amChoking: st.amChoking,
      downloadRate: st.peer.down.rate(now),
      uploadRate: st.peer.up.rate(now),
      isSeed: st.isSeed,
      connectedAtMs: st.peer.connectedAt,
    }));
    const { unchoke } = this.choker.round(cands, { seeding, nowMs: now });
    for (const st of peers) this.setChoke(st, !unchoke.has(st.id));
  }
}
