/**
 * Choker: BEP 3 tit-for-tat upload slots (the libtorrent / MonoTorrent choking algorithm, reimplemented).
 * Pure policy: the caller runs round() every choke interval (10 s) and applies the returned unchoke set.
 *
 * - Downloading: the interested peers that upload to us fastest get the regular slots (uploadSlots - 1).
 * - Seeding: the interested peers we upload to fastest get them (ties rotate round by round, so with
 *   no rates yet every peer takes a turn).
 * - One optimistic slot, re-drawn every `optimisticEveryRounds` rounds among the interested peers we choke,
 *   peers connected less than a minute ago three times as likely (they have nothing to trade yet).
 * - Peers that are not interested (and seeds) never take a slot.
 * Deterministic under a SeededRandom: the input order of `peers` does not matter.
 */
import type { Random } from '../core/index.js';

export interface ChokeCandidate {
  id: string;
  interested: boolean;
  amChoking: boolean;
  /** Bytes/s from them to us. */
  downloadRate: number;
  /** Bytes/s from us to them. */
  uploadRate: number;
  isSeed: boolean;
  connectedAtMs: number;
}

export interface ChokerOptions {
  /** Unchoked peers, the optimistic one included. Default 4. Infinity unchokes every interested peer. */
  uploadSlots?: number;
  /** Rounds between optimistic unchoke rotations. Default 3 (a round is 10 s). */
  optimisticEveryRounds?: number;
  random: Random;
  /** Peers connected for less than this are "new" for the optimistic draw. Default 60 000. */
  newPeerMs?: number;
  /** Weight of a new peer in the optimistic draw (others weigh 1). Default 3. */
  newPeerWeight?: number;
}

export interface ChokeRound {
  /** The complete set of peers that should be unchoked after this round. */
  unchoke: Set<string>;
  /** The optimistic unchoke among them, if any. */
  optimistic: string | undefined;
}

export class Choker {
  readonly uploadSlots: number;
  readonly optimisticEveryRounds: number;
  private readonly random: Random;
  private readonly newPeerMs: number;
  private readonly newPeerWeight: number;
  private rounds = 0;
  private optimistic: string | undefined;
  private optimisticSince = 0;

  constructor(opts: ChokerOptions) {
    this.uploadSlots = opts.uploadSlots ?? 4;
    this.optimisticEveryRounds = Math.max(1, Math.floor(opts.optimisticEveryRounds ?? 3));
    this.random = opts.random;
    this.newPeerMs = opts.newPeerMs ?? 60_000;
    this.newPeerWeight = Math.max(1, Math.round(opts.newPeerWeight ?? 3));
    if (!(this.uploadSlots >= 0)) throw new RangeError(`bad uploadSlots ${this.uploadSlots}`);
  }

  /** The current optimistic unchoke. */
  get optimisticPeer(): string | undefined {
    return this.optimistic;
  }

  round(peers: ChokeCandidate[], opts: { seeding: boolean; nowMs: number }): ChokeRound {
    this.rounds++;
    const eligible = peers.filter((p) => p.interested && !p.isSeed).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const n = eligible.length;
    const slots = Math.floor(Math.min(this.uploadSlots, n));
    if (slots <= 0) {
      this.optimistic = undefined;
      return { unchoke: new Set(), optimistic: undefined };
    }
    if (slots === n) {
      // Room for everyone who wants it: no ranking, no optimistic draw (keep the current one if still here).
      if (!eligible.some((p) => p.id === this.optimistic)) this.optimistic = undefined;
      return { unchoke: new Set(eligible.map((p) => p.id)), optimistic: this.optimistic };
    }

    // Regular slots: best rate first; ties rotate by round (seeding), or keep the unchoked ones (downloading).
    const regularSlots = slots - 1;
    const offset = (this.rounds * Math.max(1, regularSlots)) % n;
    const rotation = new Map<string, number>();
    eligible.forEach((p, i) => rotation.set(p.id, (i - offset + n) % n));
    const rate = (p: ChokeCandidate): number => (opts.seeding ? p.uploadRate : p.downloadRate);
    const ranked = [...eligible].sort(
      (a, b) =>
        rate(b) - rate(a) ||
        (opts.seeding ? 0 : Number(a.amChoking) - Number(b.amChoking)) ||
        rotation.get(a.id)! - rotation.get(b.id)!,
    );
    const unchoke = new Set(ranked.slice(0, regularSlots).map((p) => p.id));

    // Optimistic slot: keep it until its time is up, unless it left, lost interest or earned a regular slot.
    const current = this.optimistic;
    const stillValid = current !== undefined && eligible.some((p) => p.id === current) && !unchoke.has(current);
    if (!stillValid || this.rounds - this.optimisticSince >= this.optimisticEveryRounds) {
      const rest = eligible.filter((p) => !unchoke.has(p.id));
      let pool = rest.filter((p) => p.amChoking && p.id !== current);
      if (pool.length === 0) pool = rest.filter((p) => p.id !== current);
      if (pool.length === 0) pool = rest;
      this.optimistic = this.draw(pool, opts.nowMs);
      this.optimisticSince = this.rounds;
    }
    if (this.optimistic !== undefined) unchoke.add(this.optimistic);
    return { unchoke, optimistic: this.optimistic };
  }

  /** Weighted draw: new peers weigh newPeerWeight, others 1. */
  private draw(pool: ChokeCandidate[], nowMs: number): string | undefined {
    if (pool.length === 0) return undefined;
    const weight = (p: ChokeCandidate): number => (nowMs - p.connectedAtMs < this.newPeerMs ? this.newPeerWeight : 1);
    let total = 0;
    for (const p of pool) total += weight(p);
    let r = this.random.int(total);
    for (const p of pool) {
      r -= weight(p);
      if (r < 0) return p.id;
    }
    return pool[pool.length - 1]!.id;
  }
}
