/**
 * WebSeedSet (BEP 19): the torrent's web seeds as picker peers that have everything. Each ready seed gets runs of
 * up to WEB_SEED_BLOCKS blocks (WEB_SEED_REQUESTS requests at a time), fetched as HTTP range requests per file
 * (webseed/plan.ts) and fed through the same assembler as peers' blocks. A failed request releases its blocks
 * and backs off (5 s doubling to 10 min); data that fails hash checks disables the seed.
 */
import type { TorrentInfo } from '../metainfo/index.js';
import type { BlockRequest, PickerPeer, PiecePicker } from '../picker/index.js';
import { Bitfield } from '../util/index.js';
import type { RangeFetch } from '../webseed/index.js';
import { planRanges } from '../webseed/index.js';
import type { PieceAssembler } from './piece-assembler.js';
import type { TorrentRate } from './torrent-rate.js';
import type { WebSeedStatus } from './types.js';

/** Blocks (16 KiB) per web seed HTTP request, and requests in flight per web seed. */
export const WEB_SEED_BLOCKS = 64;
export const WEB_SEED_REQUESTS = 2;
const WEB_SEED_TIMEOUT_MS = 60_000;
/** Back-off after a failed request: 5 s doubling to 10 min. */
const WEB_SEED_RETRY_MS = 5_000;
const WEB_SEED_RETRY_MAX_MS = 600_000;

/** Back-off before the next request after `failures` failures in a row. */
export function webSeedBackoffMs(failures: number): number {
  return Math.min(WEB_SEED_RETRY_MAX_MS, WEB_SEED_RETRY_MS * 2 ** (failures - 1));
}

/** Group blocks into runs of contiguous torrent bytes (one HTTP range plan each). */
export function contiguousRuns(info: Pick<TorrentInfo, 'pieceLength'>, reqs: readonly BlockRequest[]): { offset: number; length: number; reqs: BlockRequest[] }[] {
  const sorted = [...reqs].sort((a, b) => a.index - b.index || a.begin - b.begin);
  const runs: { offset: number; length: number; reqs: BlockRequest[] }[] = [];
  for (const r of sorted) {
    const offset = r.index * info.pieceLength + r.begin;
    const last = runs[runs.length - 1];
    if (last && last.offset + last.length === offset) {
      last.length += r.length;
      last.reqs.push(r);
    } else runs.push({ offset, length: r.length, reqs: [r] });
  }
  return runs;
}

interface WebSeed {
  url: string;
  peer: PickerPeer;
  inFlight: number;
  failures: number;
  hashFailures: number;
  retryAt: number;
  downloaded: number;
  error: string | undefined;
  disabled: boolean;
}

export interface WebSeedHooks {
  now(): number;
  /** Is the torrent downloading (web seeds are asked for nothing otherwise)? */
  downloading(): boolean;
  /** A block arrived from a web seed (before the picker sees it): count it. */
  received(bytes: number): void;
  /** The picker cancels a duplicate request to a peer (endgame). */
  cancel(peerId: string, req: BlockRequest): void;
  warning(message: string): void;
  /** A seed was disabled: its blocks went back to the picker; ask everyone for them. */
  refill(): void;
}

export class WebSeedSet {
  private readonly seeds: WebSeed[];
  private disposed = false;

  constructor(
    urls: readonly string[],
    private readonly info: TorrentInfo,
    private readonly picker: PiecePicker,
    private readonly fetch: RangeFetch,
    private readonly rate: TorrentRate,
    private readonly assembler: PieceAssembler,
    private readonly hooks: WebSeedHooks,
    private readonly signal: AbortSignal | undefined,
  ) {
    const all = new Bitfield(info.pieceCount);
    all.setAll();
    this.seeds = urls.map((url) => ({
      url,
      peer: { id: `web:${url}`, have: all, isSeed: true, allowedFast: new Set<number>(), choking: false },
      inFlight: 0,
      failures: 0,
      hashFailures: 0,
      retryAt: 0,
      downloaded: 0,
      error: undefined,
      disabled: false,
    }));
    for (const _ of this.seeds) picker.addPeerBitfield(all);
  }

  get size(): number {
    return this.seeds.length;
  }

  status(now: number): WebSeedStatus[] {
    return this.seeds.map((w) => ({
      url: w.url,
      state: w.disabled ? 'disabled' : w.retryAt > now ? 'waiting' : 'active',
      downloaded: w.downloaded,
      ...(w.error !== undefined ? { error: w.error } : {}),
      ...(w.retryAt > now && !w.disabled ? { retryAt: w.retryAt } : {}),
    }));
  }

  /** Stop: requests under way deliver nothing more. */
  dispose(): void {
    this.disposed = true;
  }

  /** Give each ready web seed runs of blocks to fetch, within the download budget. */
  fill(): void {
    if (this.disposed || this.seeds.length === 0 || this.picker.finished || !this.hooks.downloading()) return;
    const now = this.hooks.now();
    const budget = this.rate.download;
    for (const ws of this.seeds) {
      while (!ws.disabled && ws.inFlight < WEB_SEED_REQUESTS && now >= ws.retryAt && !this.assembler.overBudget) {
        let want = WEB_SEED_BLOCKS;
        if (!budget.unlimited) {
          if (!budget.canSpend(now)) return this.rate.waitFor(budget);
          want = Math.min(want, Math.max(1, Math.floor(budget.available(now) / 16384)));
        }
        const reqs = this.picker.pick(ws.peer, want, now);
        if (reqs.length === 0) break;
        if (!budget.unlimited) budget.spend(reqs.reduce((n, r) => n + r.length, 0), now);
        this.fetchRuns(ws, reqs);
      }
    }
  }

  /**
   * A piece with blocks from `peerId` failed its hash check: if that is one of ours, charge it `weight` and disable
   * it at `threshold`. False when `peerId` is not a web seed.
   */
  blame(peerId: string, weight: number, threshold: number): boolean {
    const ws = this.seeds.find((w) => w.peer.id === peerId);
    if (!ws) return false;
    ws.hashFailures += weight;
    if (ws.hashFailures >= threshold) this.disable(ws, 'its data failed the hash check');
    return true;
  }

  /** Fetch blocks from a web seed: contiguous runs of the torrent's bytes, each as HTTP range requests per file. */
  private fetchRuns(ws: WebSeed, reqs: BlockRequest[]): void {
    const runs = contiguousRuns(this.info, reqs);
    const delivered = new Set<BlockRequest>();
    ws.inFlight++;
    void (async () => {
      try {
        for (const run of runs) {
          const buf = new Uint8Array(run.length);
          let o = 0;
          for (const part of planRanges(ws.url, this.info, run.offset, run.length)) {
            if (part.url !== undefined) buf.set(await this.fetch(part.url, part.start, part.length, { timeoutMs: WEB_SEED_TIMEOUT_MS, signal: this.signal }), o);
            o += part.length;
          }
          if (this.disposed || ws.disabled) return;
          for (const r of run.reqs) {
            const at = r.index * this.info.pieceLength + r.begin - run.offset;
            this.onBlock(ws, r, buf.subarray(at, at + r.length));
            delivered.add(r);
          }
        }
        ws.failures = 0;
        ws.error = undefined;
      } catch (e) {
        if (this.disposed) return;
        for (const r of reqs) if (!delivered.has(r)) this.picker.onRequestFailed(ws.peer.id, r);
        ws.failures++;
        ws.retryAt = this.hooks.now() + webSeedBackoffMs(ws.failures);
        const msg = (e as Error).message;
        if (ws.error !== msg) this.hooks.warning(`web seed ${ws.url}: ${msg}`);
        ws.error = msg;
      } finally {
        ws.inFlight--;
        if (!this.disposed) this.fill();
      }
    })();
  }

  private onBlock(ws: WebSeed, r: BlockRequest, block: Uint8Array): void {
    this.hooks.received(block.length);
    ws.downloaded += block.length;
    const res = this.picker.onBlock(ws.peer.id, r.index, r.begin, block.length);
    for (const c of res.cancels) this.hooks.cancel(c.peerId, c.req);
    if (res.accepted) this.assembler.store(r.index, r.begin, block, res.pieceComplete);
  }

  private disable(ws: WebSeed, why: string): void {
    if (ws.disabled) return;
    ws.disabled = true;
    ws.error = why;
    this.hooks.warning(`web seed ${ws.url} disabled: ${why}`);
    this.picker.removePeerBitfield(ws.peer.have);
    this.picker.releasePeer(ws.peer.id);
    this.hooks.refill();
  }
}
