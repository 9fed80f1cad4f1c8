/**
 * Availability buckets for rarest-first piece picking (the libtorrent piece_picker idea, reimplemented).
 *
 * The pieces in the index sit in one array `order`, sorted by availability: bucket `a` (every piece seen by
 * exactly `a` peers) is the slice [start[a], start[a + 1]). A piece's availability changes by one at a time,
 * which moves it across one bucket boundary: a single swap plus a boundary shift, O(1). Inserting or removing
 * a piece shifts one element per bucket above it, O(number of buckets) = O(peers). Order inside a bucket
 * is arbitrary; pickers break ties by starting their scan at a random offset in the bucket.
 *
 * The index does not own availability: it reads the shared `avail` array, and the caller tells it about
 * every change of a member's count (incremented / decremented) after writing the new value.
 */
import type { Random } from '../core/index.js';

export class RarityIndex {
  /** Pieces in the index, grouped by availability (ascending). */
  readonly order: Int32Array;
  /** Position of a piece in `order`, or -1 when it is not in the index. */
  readonly pos: Int32Array;
  private sizeValue = 0;
  /** start[a] = first position of bucket a; start[buckets] === size. */
  private start: Int32Array;
  private buckets = 1;

  constructor(
    pieceCount: number,
    private readonly avail: Uint32Array,
  ) {
    this.order = new Int32Array(pieceCount);
    this.pos = new Int32Array(pieceCount).fill(-1);
    this.start = new Int32Array(8);
  }

  get size(): number {
    return this.sizeValue;
  }

  has(piece: number): boolean {
    return this.pos[piece]! >= 0;
  }

  /** Number of buckets tracked: every member's availability is below this. */
  get bucketCount(): number {
    return this.buckets;
  }

  bucketStart(a: number): number {
    return a >= this.buckets ? this.sizeValue : this.start[a]!;
  }

  /** Members with availability of at least 1 (pieces some connected peer can give us). */
  get available(): number {
    return this.sizeValue - this.bucketStart(1);
  }

  /**
   * Fill an empty index with `pieces` (in any order) at once: a counting sort by availability, then a
   * Fisher-Yates shuffle inside each bucket so ties start out in random order.
   */
  build(pieces: ArrayLike<number>, random: Random): void {
    if (this.sizeValue !== 0) throw new Error('RarityIndex.build on a non-empty index');
    let maxA = 0;
    for (let k = 0; k < pieces.length; k++) maxA = Math.max(maxA, this.avail[pieces[k]!]!);
    this.ensureBuckets(maxA + 1);
    const counts = new Int32Array(maxA + 2);
    for (let k = 0; k < pieces.length; k++) counts[this.avail[pieces[k]!]! + 1]!++;
    for (let a = 1; a <= maxA + 1; a++) counts[a]! += counts[a - 1]!;
    for (let a = 0; a <= maxA; a++) this.start[a] = counts[a]!;
    for (let a = maxA + 1; a <= this.buckets; a++) this.start[a] = pieces.length;
    const fill = counts.slice(0, maxA + 1);
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k]!;
      const at = fill[this.avail[p]!]!++;
      this.order[at] = p;
      this.pos[p] = at;
    }
    this.sizeValue = pieces.length;
    for (let a = 0; a <= maxA; a++) {
      const s = this.start[a]!;
      for (let n = this.start[a + 1]! - s; n > 1; n--) this.swap(s + n - 1, s + random.int(n));
    }
  }

  /** Add a piece at its current availability, at a random place among its equals. */
  insert(piece: number, random: Random): void {
    if (this.pos[piece]! >= 0) return;
    const a = this.avail[piece]!;
    this.ensureBuckets(a + 1);
    let hole = this.sizeValue;
    for (let b = this.buckets - 1; b > a; b--) {
      const first = this.start[b]!;
      if (first !== hole) this.move(first, hole);
      hole = first;
      this.start[b] = first + 1;
    }
    this.order[hole] = piece;
    this.pos[piece] = hole;
    this.sizeValue++;
    this.start[this.buckets] = this.sizeValue;
    const s = this.start[a]!;
    const n = this.start[a + 1]! - s;
    if (n > 1) this.swap(hole, s + random.int(n));
  }

  remove(piece: number): void {
    let hole = this.pos[piece]!;
    if (hole < 0) return;
    const a = this.avail[piece]!;
    for (let b = a; b < this.buckets; b++) {
      const last = this.start[b + 1]! - 1;
      if (last !== hole) this.move(last, hole);
      hole = last;
      this.start[b + 1] = last;
    }
    this.pos[piece] = -1;
    this.sizeValue--;
  }

  /** The piece's availability was just raised by one. */
  incremented(piece: number): void {
    const p = this.pos[piece]!;
    if (p < 0) return;
    const a = this.avail[piece]! - 1;
    this.ensureBuckets(a + 2);
    const last = this.start[a + 1]! - 1;
    this.swap(p, last);
    this.start[a + 1] = last;
  }

  /** The piece's availability was just lowered by one. */
  decremented(piece: number): void {
    const p = this.pos[piece]!;
    if (p < 0) return;
    const a = this.avail[piece]! + 1;
    const first = this.start[a]!;
    this.swap(p, first);
    this.start[a] = first + 1;
  }

  /** Make sure buckets 0..n-1 exist (start has n + 1 entries in use). */
  private ensureBuckets(n: number): void {
    if (n <= this.buckets) return;
    if (n + 1 > this.start.length) {
      const grown = new Int32Array(Math.max(n + 1, this.start.length * 2));
      grown.set(this.start);
      this.start = grown;
    }
    for (let b = this.buckets + 1; b <= n; b++) this.start[b] = this.sizeValue;
    this.buckets = n;
  }

  private move(from: number, to: number): void {
    const p = this.order[from]!;
    this.order[to] = p;
    this.pos[p] = to;
  }

  private swap(i: number, j: number): void {
    if (i === j) return;
    const a = this.order[i]!;
    const b = this.order[j]!;
    this.order[i] = b;
    this.pos[b] = i;
    this.order[j] = a;
    this.pos[a] = j;
  }

  /** Test helper: throws when the bucket invariants do not hold. */
  checkInvariants(): void {
    if (this.start[0] !== 0) throw new Error('start[0] !== 0');
    if (this.start[this.buckets] !== this.sizeValue) throw new Error('top sentinel != size');
    for (let b = 0; b < this.buckets; b++) {
      if (this.start[b]! > this.start[b + 1]!) throw new Error(`bucket ${b} has negative size`);
      for (let i = this.start[b]!; i < this.start[b + 1]!; i++) {
        const p = this.order[i]!;
        if (this.pos[p] !== i) throw new Error(`pos[${p}] != ${i}`);
        if (this.avail[p] !== b) throw new Error(`piece ${p} with availability ${this.avail[p]} in bucket ${b}`);
      }
    }
    let members = 0;
    for (let p = 0; p < this.pos.length; p++) if (this.pos[p]! >= 0) members++;
    if (members !== this.sizeValue) throw new Error(`${members} members, size ${this.sizeValue}`);
  }
}
