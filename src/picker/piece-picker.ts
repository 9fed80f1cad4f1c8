/**
 * PiecePicker: which blocks to request from which peer (BEP 3 rarest-first, BEP 6 allowed-fast, endgame).
 * Pure bookkeeping: no I/O, no timers; time comes in as `nowMs`, randomness from the injected Random.
 * See NOTES.md beside this file for the algorithm.
 */
import type { Random } from '../core/index.js';
import { Bitfield } from '../util/index.js';
import { RarityIndex } from './rarity-index.js';

export interface BlockRequest {
  index: number;
  begin: number;
  length: number;
}

/** The view of one connected peer the picker needs. */
export interface PickerPeer {
  readonly id: string;
  /** What the peer has (kept up to date by the caller; for have-all the caller passes a full bitfield). */
  readonly have: Bitfield;
  /** Not read-only so a caller's peer state can implement this interface directly; the picker never writes it. */
  isSeed: boolean;
  /** BEP 6 pieces we may request while choked. */
  readonly allowedFast: ReadonlySet<number>;
  /** The peer is choking us (mutable for the same reason as isSeed). */
  choking: boolean;
}

export interface BlockCancel {
  peerId: string;
  req: BlockRequest;
}

export interface BlockResult {
  /** False for a block that is malformed, already received, of a piece we have, or of a piece not in progress. */
  accepted: boolean;
  /** Every block of the piece has now arrived: the caller hashes it and reports onPieceVerified / onPieceFailed. */
  pieceComplete: boolean;
  /** Other peers that had this block requested (endgame): send each a Cancel. */
  cancels: BlockCancel[];
}

export interface PickerStats {
  /** Pieces started and not yet fully received. */
  partialPieces: number;
  /** Distinct blocks with at least one request in flight. */
  requestedBlocks: number;
  /** Requests in flight over all peers (counts endgame duplicates). */
  outstandingRequests: number;
  /** Pieces fully received and waiting for onPieceVerified / onPieceFailed. */
  awaitingHash: number;
}

export interface PiecePickerOptions {
  pieceCount: number;
  pieceLength: number;
  totalLength: number;
  /** Verified pieces. The picker keeps and updates this very object (see `PiecePicker.have`). */
  have: Bitfield;
  random: Random;
  /** Request size, default 16384. */
  blockSize?: number;
  /** Max concurrent requests for one block in endgame (to different peers), default 2. 1 disables endgame. */
  endgameDuplicates?: number;
  /** Until we have this many pieces, new pieces are picked at random rather than rarest-first. Default 4. */
  randomFirstPieces?: number;
  /** A block a peer rejected is not asked of that peer again for this long (or until it unchokes us). Default 2000. */
  rejectCooldownMs?: number;
  /**
   * Streaming: a block of an urgent stream piece requested this long ago without arriving is requested again from
   * another peer (up to endgameDuplicates requesters). Default 1000.
   */
  urgentLagMs?: number;
}

/** Piece priorities (libtorrent's scale): 0 = skip, 1 = low, 4 = default, 7 = top. */
export const PRIORITY_SKIP = 0;
export const PRIORITY_DEFAULT = 4;
export const PRIORITY_MAX = 7;

const MISSING = 0;
const REQUESTED = 1;
const RECEIVED = 2;

/** Download state of one started piece. */
class PieceState {
  /** MISSING / REQUESTED / RECEIVED per block. */
  readonly state: Uint8Array;
  /** Peers with a request in flight for each block (undefined when none). */
  readonly requesters: (string[] | undefined)[];
  missing: number;
  requested = 0;
  received = 0;
  /** No MISSING block below this (a lower bound for the next scan). */
  firstMissing = 0;
  /** When each block was last requested (nowMs), for re-requesting lagging urgent blocks; allocated on first use. */
  since: Float64Array | undefined;
  readonly contributors = new Set<string>();
  constructor(
    readonly index: number,
    readonly blockCount: number,
  ) {
    this.state = new Uint8Array(blockCount);
    this.requesters = new Array<string[] | undefined>(blockCount).fill(undefined);
    this.missing = blockCount;
  }
}

interface PeerRecord {
  /** Block keys (piece * blocksPerPiece + block) requested from this peer and not yet answered. */
  readonly reqs: Set<number>;
  /** Outstanding requests per piece. */
  readonly perPiece: Map<number, number>;
  /** Block keys this peer rejected recently (not asked of it again until the cool-down ends or it unchokes us). */
  readonly rejected: Set<number>;
  readonly rejectedPerPiece: Map<number, number>;
  rejectedSince: number;
  wasChoking: boolean | undefined;
}

export class PiecePicker {
  /** Verified pieces (the object passed to the constructor, updated in place). */
  readonly have: Bitfield;
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly totalLength: number;
  readonly blockSize: number;
  readonly endgameDuplicates: number;
  private readonly random: Random;
  private readonly randomFirstPieces: number;
  private readonly rejectCooldownMs: number;
  /** Blocks in a full-size piece; block keys are piece * blocksPerPiece + block. */
  private readonly blocksPerPiece: number;
  private readonly lastPieceSize: number;

  /** Peers (registered bitfields) that have each piece. */
  private readonly avail: Uint32Array;
  private readonly priority: Uint8Array;
  /** Pieces with priority > 0, as a bitfield (for isInteresting). */
  private readonly wantedBits: Bitfield;
  /**
   * Sequential mode (streaming): new pieces are started in index order, within the highest priority that has any,
   * instead of rarest-first. Started pieces are still finished first, and endgame works as usual.
   */
  sequential = false;
  /** Every piece below this index is verified (sequential mode's starting point, advanced lazily). */
  private seqCursor = 0;
  /** Rarity index per priority level: not-started, wanted pieces we lack. */
  private readonly levels: (RarityIndex | undefined)[] = new Array<RarityIndex | undefined>(PRIORITY_MAX + 1).fill(undefined);
  /** Started pieces (some block requested or received), until verified or failed. */
  private readonly active = new Map<number, PieceState>();
  private readonly peers = new Map<string, PeerRecord>();
  private registeredPeers = 0;
  private wantedMissing = 0;
  /** Blocks in MISSING state over all active pieces. */
  private missingInActive = 0;
  /** Blocks in REQUESTED state over all active pieces. */
  private requestedDistinct = 0;
  private outstandingTotal = 0;
  private lastNow = 0;
  readonly urgentLagMs: number;
  /** Streaming: pieces a reader needs soon, nearest first (see setStreamPieces); the first `streamUrgent` are urgent. */
  private streamList: readonly number[] = [];
  private streamUrgent = 0;
  /** Per piece: 0 = not in the stream list, 1 = in it, 2 = urgent. */
  private readonly streamFlag: Uint8Array;

  constructor(opts: PiecePickerOptions) {
    const { pieceCount, pieceLength, totalLength, have } = opts;
    const blockSize = opts.blockSize ?? 16384;
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 0) throw new RangeError(`bad pieceCount ${pieceCount}`);
    if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) throw new RangeError(`bad pieceLength ${pieceLength}`);
    if (!Number.isSafeInteger(blockSize) || blockSize <= 0) throw new RangeError(`bad blockSize ${blockSize}`);
    if (
      !Number.isSafeInteger(totalLength) ||
      (pieceCount === 0 ? totalLength !== 0 : totalLength <= (pieceCount - 1) * pieceLength || totalLength > pieceCount * pieceLength)
    ) {
      throw new RangeError(`totalLength ${totalLength} does not fit ${pieceCount} pieces of ${pieceLength}`);
    }
    if (have.length !== pieceCount) throw new RangeError(`have has ${have.length} bits, expected ${pieceCount}`);
    this.pieceCount = pieceCount;
    this.pieceLength = pieceLength;
    this.totalLength = totalLength;
    this.blockSize = blockSize;
    this.have = have;
    this.random = opts.random;
    this.endgameDuplicates = Math.max(1, Math.floor(opts.endgameDuplicates ?? 2));
    this.randomFirstPieces = opts.randomFirstPieces ?? 4;
    this.rejectCooldownMs = opts.rejectCooldownMs ?? 2000;
    this.urgentLagMs = opts.urgentLagMs ?? 1000;
    this.streamFlag = new Uint8Array(pieceCount);
    this.blocksPerPiece = Math.ceil(pieceLength / blockSize);
    this.lastPieceSize = pieceCount === 0 ? 0 : totalLength - (pieceCount - 1) * pieceLength;

    this.avail = new Uint32Array(pieceCount);
    this.priority = new Uint8Array(pieceCount).fill(PRIORITY_DEFAULT);
    this.wantedBits = new Bitfield(pieceCount);
    this.wantedBits.setAll();
    const missing = new Int32Array(pieceCount - have.count);
    let n = 0;
    for (let i = 0; i < pieceCount; i++) if (!have.get(i)) missing[n++] = i;
    this.wantedMissing = n;
    this.level(PRIORITY_DEFAULT).build(missing, this.random);
  }

  // ------------------------------------------------------------------ geometry

  pieceBytes(index: number): number {
    return index === this.pieceCount - 1 ? this.lastPieceSize : this.pieceLength;
  }

  blockCount(index: number): number {
    return Math.ceil(this.pieceBytes(index) / this.blockSize);
  }

  blockLength(index: number, block: number): number {
    return Math.min(this.blockSize, this.pieceBytes(index) - block * this.blockSize);
  }

  // ------------------------------------------------------------------ state

  /** Every piece is verified. */
  get complete(): boolean {
    return this.have.complete;
  }

  /** Every wanted piece (priority > 0) is verified; equals `complete` unless priorities skip pieces. */
  get finished(): boolean {
    return this.wantedMissing === 0;
  }

  /**
   * Every missing block that a connected peer could give us is already requested: pick() now hands out
   * duplicate requests (up to endgameDuplicates per block, to different peers).
   */
  get inEndgame(): boolean {
    if (this.wantedMissing === 0 || this.requestedDistinct === 0) return false;
    for (const lv of this.levels) if (lv && lv.available > 0) return false;
    if (this.missingInActive > 0) {
      for (const p of this.active.values()) {
        if (p.missing > 0 && this.avail[p.index]! > 0 && this.priority[p.index]! > 0) return false;
      }
    }
    return true;
  }

  stats(): PickerStats {
    let partial = 0;
    let hashing = 0;
    for (const p of this.active.values()) {
      if (p.received === p.blockCount) hashing++;
      else partial++;
    }
    return { partialPieces: partial, requestedBlocks: this.requestedDistinct, outstandingRequests: this.outstandingTotal, awaitingHash: hashing };
  }

  // ------------------------------------------------------------------ availability

  /** A peer connected with this bitfield (or have-all). Pair with removePeerBitfield on disconnect. */
  addPeerBitfield(bits: Bitfield): void {
    this.registeredPeers++;
    forEachSetBit(bits, (i) => this.incAvail(i));
  }

  /** A peer registered with addPeerBitfield left; pass its current bitfield (including later haves). */
  removePeerBitfield(bits: Bitfield): void {
    this.registeredPeers = Math.max(0, this.registeredPeers - 1);
    forEachSetBit(bits, (i) => this.decAvail(i));
  }

  /** A registered peer announced a piece (call only when its bit was not already set). */
  addPeerHave(index: number): void {
    this.incAvail(index);
  }

  availability(index: number): number {
    return this.avail[index]!;
  }

  /** Number of peers registered through addPeerBitfield. */
  get peerCount(): number {
    return this.registeredPeers;
  }

  /** The peer has a piece we lack and want. */
  isInteresting(peerHave: Bitfield): boolean {
    const p = peerHave.bytes;
    const h = this.have.bytes;
    const w = this.wantedBits.bytes;
    for (let k = 0; k < p.length; k++) if ((p[k]! & ~h[k]! & w[k]!) !== 0) return true;
    return false;
  }

  private incAvail(i: number): void {
    this.avail[i]!++;
    this.levels[this.priority[i]!]?.incremented(i);
  }

  private decAvail(i: number): void {
    if (this.avail[i] === 0) return;
    this.avail[i]!--;
    this.levels[this.priority[i]!]?.decremented(i);
  }

  // ------------------------------------------------------------------ priorities

  /** 0 = skip, 1 (low) .. 7 (top); default 4. Higher-priority pieces are started first. */
  setPiecePriority(index: number, priority: number): void {
    if (index < 0 || index >= this.pieceCount) throw new RangeError(`piece ${index} out of range`);
    if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_MAX) throw new RangeError(`bad priority ${priority}`);
    const old = this.priority[index]!;
    if (old === priority) return;
    const had = this.have.get(index);
    const piece = this.active.get(index);
    if (!had && !piece) this.levels[old]?.remove(index);
    this.priority[index] = priority;
    this.wantedBits.set(index, priority > 0);
    if (!had) {
      this.wantedMissing += (priority > 0 ? 1 : 0) - (old > 0 ? 1 : 0);
      if (!piece) {
        if (priority > 0) this.level(priority).insert(index, this.random);
      } else if (priority === 0) {
        this.dropIfIdle(piece);
      }
    }
  }

  setPiecePriorities(priorities: ArrayLike<number>): void {
    if (priorities.length !== this.pieceCount) throw new RangeError(`${priorities.length} priorities for ${this.pieceCount} pieces`);
    for (let i = 0; i < this.pieceCount; i++) this.setPiecePriority(i, priorities[i]!);
  }

  /** Download only the pieces set in `wanted` (at default priority); skip the rest. */
  setWanted(wanted: Bitfield): void {
    if (wanted.length !== this.pieceCount) throw new RangeError(`wanted has ${wanted.length} bits, expected ${this.pieceCount}`);
    for (let i = 0; i < this.pieceCount; i++) {
      const want = wanted.get(i);
      const cur = this.priority[i]!;
      if (want && cur === 0) this.setPiecePriority(i, PRIORITY_DEFAULT);
      else if (!want && cur !== 0) this.setPiecePriority(i, 0);
    }
  }

  piecePriority(index: number): number {
    return this.priority[index]!;
  }

  private level(priority: number): RarityIndex {
    let lv = this.levels[priority];
    if (!lv) {
      lv = new RarityIndex(this.pieceCount, this.avail);
      this.levels[priority] = lv;
    }
    return lv;
  }

  // ------------------------------------------------------------------ picking

  /** Up to `max` new block requests for this peer, recorded as requested by peer.id. */
  pick(peer: PickerPeer, max: number, nowMs: number): BlockRequest[] {
    this.lastNow = nowMs;
    const out: BlockRequest[] = [];
    if (max <= 0 || this.wantedMissing === 0) return out;
    const rec = this.record(peer.id);
    if (rec.rejected.size > 0 && ((rec.wasChoking === true && !peer.choking) || nowMs - rec.rejectedSince >= this.rejectCooldownMs)) {
      rec.rejected.clear();
      rec.rejectedPerPiece.clear();
    }
    rec.wasChoking = peer.choking;
    if (peer.choking && peer.allowedFast.size === 0) return out;

    // 0. Streaming: the pieces readers need, nearest first; urgent ones are duplicated when they lag.
    if (this.streamList.length > 0) this.pickStream(peer, rec, max, out, nowMs);

    // 1. Finish started pieces: first the ones this peer is already on, then the closest to completion.
    if (out.length < max && this.missingInActive > 0) this.pickStarted(peer, rec, max, out);

    // 2. Start new pieces: random at first, then rarest-first; whole pieces, contiguous blocks.
    while (out.length < max) {
      const index = this.findNewPiece(peer, rec);
      if (index < 0) break;
      const piece = this.activate(index);
      const before = out.length;
      this.takeBlocks(piece, peer.id, rec, max, out);
      if (out.length === before) {
        this.dropIfIdle(piece); // cannot happen (findNewPiece checks), but never loop on it
        break;
      }
    }

    // 3. Endgame: duplicate requests for blocks already in flight elsewhere.
    if (out.length < max && this.endgameDuplicates > 1 && this.inEndgame) this.pickEndgame(peer, rec, max, out);
    return out;
  }

  private canRequest(peer: PickerPeer, index: number): boolean {
    return peer.have.get(index) && (!peer.choking || peer.allowedFast.has(index)) && this.priority[index]! > 0;
  }

  /**
   * Streaming (step 0 of pick): walk the stream list in order; start or continue each piece this peer can give.
   * Blocks of urgent pieces requested elsewhere more than urgentLagMs ago are requested from this peer as well.
   */
  private pickStream(peer: PickerPeer, rec: PeerRecord, max: number, out: BlockRequest[], nowMs: number): void {
    const list = this.streamList;
    for (let k = 0; k < list.length && out.length < max; k++) {
      const index = list[k]!;
      if (this.have.get(index) || !this.canRequest(peer, index)) continue;
      let piece = this.active.get(index);
      if (!piece) {
        if (!this.levels[this.priority[index]!]?.has(index) || this.fullyRejected(rec, index)) continue;
        piece = this.activate(index);
        this.takeBlocks(piece, peer.id, rec, max, out, nowMs);
        this.dropIfIdle(piece);
        continue;
      }
      if (piece.missing > 0) this.takeBlocks(piece, peer.id, rec, max, out, nowMs);
      if (k < this.streamUrgent && this.endgameDuplicates > 1 && piece.requested > 0) this.duplicateLagging(piece, peer, rec, max, out, nowMs);
    }
  }

  /** Request again from this peer the blocks of `piece` that other peers have had for longer than urgentLagMs. */
  private duplicateLagging(piece: PieceState, peer: PickerPeer, rec: PeerRecord, max: number, out: BlockRequest[], nowMs: number): void {
    const since = piece.since;
    if (!since) return;
    const base = piece.index * this.blocksPerPiece;
    for (let b = 0; b < piece.blockCount && out.length < max; b++) {
      if (piece.state[b] !== REQUESTED || nowMs - since[b]! < this.urgentLagMs) continue;
      const list = piece.requesters[b]!;
      if (list.length >= this.endgameDuplicates || list.includes(peer.id) || rec.rejected.has(base + b)) continue;
      this.addRequest(piece, b, peer.id, rec);
      this.streamDuplicates++;
      out.push({ index: piece.index, begin: b * this.blockSize, length: this.blockLength(piece.index, b) });
    }
  }

  /**
   * Streaming: the pieces readers need, nearest first (the first `urgent` of them are urgent). pick() serves them
   * before anything else; an empty list means no reader: normal picking. Pieces we have are skipped, and pieces
   * of priority 0 are not requested (make the file wanted first).
   */
  setStreamPieces(pieces: readonly number[], urgent: number): void {
    for (const i of this.streamList) this.streamFlag[i] = 0;
    const list: number[] = [];
    for (const i of pieces) {
      if (!Number.isInteger(i) || i < 0 || i >= this.pieceCount) throw new RangeError(`stream piece ${i} out of range`);
      if (this.streamFlag[i] !== 0) continue;
      this.streamFlag[i] = list.length < urgent ? 2 : 1;
      list.push(i);
    }
    this.streamList = list;
    this.streamUrgent = Math.min(Math.max(0, Math.floor(urgent)), list.length);
  }

  /** The stream list set last (nearest first). */
  get streamPieces(): readonly number[] {
    return this.streamList;
  }

  /** Urgent blocks requested a second time because the first request lagged (a counter). */
  streamDuplicates = 0;

  /**
   * A seek: forget every outstanding request for a piece outside the stream list and return them, for the caller
   * to send Cancels (the blocks become missing again; pieces left with nothing become not-started). Nothing is
   * cancelled when the list is empty.
   */
  cancelOutsideStream(): BlockCancel[] {
    const out: BlockCancel[] = [];
    if (this.streamList.length === 0) return out;
    for (const piece of [...this.active.values()]) {
      if (this.streamFlag[piece.index] !== 0 || piece.requested === 0) continue;
      for (let b = 0; b < piece.blockCount; b++) {
        const list = piece.requesters[b];
        if (!list) continue;
        const req = { index: piece.index, begin: b * this.blockSize, length: this.blockLength(piece.index, b) };
        for (const id of [...list]) {
          out.push({ peerId: id, req });
          const rec = this.peers.get(id)!;
          this.unrequest(piece, b, id, rec);
          // The peer may have sent it already (its send buffer): do not ask it again at once, or both copies come.
          this.markRejected(rec, piece.index * this.blocksPerPiece + b, piece.index);
        }
      }
      this.dropIfIdle(piece);
    }
    return out;
  }

  private pickStarted(peer: PickerPeer, rec: PeerRecord, max: number, out: BlockRequest[]): void {
    for (const index of [...rec.perPiece.keys()]) {
      const piece = this.active.get(index)!;
      if (piece.missing > 0 && this.canRequest(peer, index)) this.takeBlocks(piece, peer.id, rec, max, out);
      if (out.length >= max) return;
    }
    const others: PieceState[] = [];
    for (const piece of this.active.values()) {
      if (piece.missing > 0 && !rec.perPiece.has(piece.index) && this.canRequest(peer, piece.index)) others.push(piece);
    }
    others.sort(
      (a, b) =>
        this.priority[b.index]! - this.priority[a.index]! ||
        a.missing + a.requested - (b.missing + b.requested) ||
        a.index - b.index,
    );
    for (const piece of others) {
      this.takeBlocks(piece, peer.id, rec, max, out);
      if (out.length >= max) return;
    }
  }

  /** Missing blocks of `piece`, in order, for this peer. */
  private takeBlocks(piece: PieceState, peerId: string, rec: PeerRecord, max: number, out: BlockRequest[], nowMs = this.lastNow): void {
    const base = piece.index * this.blocksPerPiece;
    let b = piece.firstMissing;
    while (b < piece.blockCount && piece.state[b] !== MISSING) b++;
    piece.firstMissing = b;
    for (; b < piece.blockCount && out.length < max && piece.missing > 0; b++) {
      if (piece.state[b] !== MISSING || rec.rejected.has(base + b)) continue;
      piece.state[b] = REQUESTED;
      if (this.streamFlag[piece.index] !== 0) (piece.since ??= new Float64Array(piece.blockCount))[b] = nowMs;
      piece.missing--;
      piece.requested++;
      this.missingInActive--;
      this.requestedDistinct++;
      this.addRequest(piece, b, peerId, rec);
      out.push({ index: piece.index, begin: b * this.blockSize, length: this.blockLength(piece.index, b) });
    }
  }

  private addRequest(piece: PieceState, b: number, peerId: string, rec: PeerRecord): void {
    const list = piece.requesters[b];
    if (list) list.push(peerId);
    else piece.requesters[b] = [peerId];
    rec.reqs.add(piece.index * this.blocksPerPiece + b);
    rec.perPiece.set(piece.index, (rec.perPiece.get(piece.index) ?? 0) + 1);
    this.outstandingTotal++;
  }

  private pickEndgame(peer: PickerPeer, rec: PeerRecord, max: number, out: BlockRequest[]): void {
    const cands: PieceState[] = [];
    for (const piece of this.active.values()) if (piece.requested > 0 && this.canRequest(peer, piece.index)) cands.push(piece);
    cands.sort((a, b) => a.missing + a.requested - (b.missing + b.requested) || a.index - b.index);
    // Blocks with the fewest requesters first.
    for (let dup = 1; dup < this.endgameDuplicates; dup++) {
      for (const piece of cands) {
        const base = piece.index * this.blocksPerPiece;
        for (let b = 0; b < piece.blockCount; b++) {
          if (out.length >= max) return;
          if (piece.state[b] !== REQUESTED) continue;
          const list = piece.requesters[b]!;
          if (list.length !== dup || list.includes(peer.id) || rec.rejected.has(base + b)) continue;
          this.addRequest(piece, b, peer.id, rec);
          out.push({ index: piece.index, begin: b * this.blockSize, length: this.blockLength(piece.index, b) });
        }
      }
    }
  }

  /** Every block of a not-started piece was recently rejected by this peer. */
  private fullyRejected(rec: PeerRecord, index: number): boolean {
    return rec.rejectedPerPiece.size > 0 && rec.rejectedPerPiece.get(index) === this.blockCount(index);
  }

  /** A not-started wanted piece this peer can give us, or -1. */
  private findNewPiece(peer: PickerPeer, rec: PeerRecord): number {
    if (peer.choking) return this.bestAllowedFast(peer, rec);
    const randomMode = this.have.count < this.randomFirstPieces;
    for (let prio = PRIORITY_MAX; prio > 0; prio--) {
      const lv = this.levels[prio];
      if (!lv || lv.size === 0) continue;
      if (this.sequential) {
        const next = this.nextInOrder(prio, peer, rec);
        if (next >= 0) return next;
        if (next === -1) continue; // this peer has none of this priority's pieces
      }
      const found = randomMode ? this.randomIn(lv, peer, rec) : this.rarestIn(lv, peer, rec);
      if (found >= 0) return found;
    }
    return -1;
  }

  /**
   * Sequential mode: the lowest-index not-started piece of priority `prio` that the peer has; -1 when there is
   * none; -2 when the scan budget ran out first (then rarest-first decides, so a peer lacking the next pieces still
   * gets work).
   */
  private nextInOrder(prio: number, peer: PickerPeer, rec: PeerRecord): number {
    while (this.seqCursor < this.pieceCount && this.have.get(this.seqCursor)) this.seqCursor++;
    let budget = 8192;
    for (let i = this.seqCursor; i < this.pieceCount; i++) {
      if (this.priority[i] === prio && !this.have.get(i) && !this.active.has(i) && peer.have.get(i) && !this.fullyRejected(rec, i)) return i;
      if (--budget === 0) return -2;
    }
    return -1;
  }

  /**
   * Work budget for scanning a rarity index before falling back to a scan of the peer's bitfield (which costs
   * about pieceCount / 8 byte reads), or 0 to go straight to that scan: when the peer has few pieces compared
   * with the index, a match would take long to find there.
   */
  private scanBudget(lv: RarityIndex, peer: PickerPeer): number {
    if (peer.have.count * 16 < lv.size) return 0;
    return Math.max(256, this.pieceCount >> 5);
  }

  /**
   * Rarest-first: walk the availability buckets upwards; inside a bucket start at a random offset, so ties
   * are broken at random. Bucket 0 (pieces no registered peer has) comes last.
   */
  private rarestIn(lv: RarityIndex, peer: PickerPeer, rec: PeerRecord): number {
    let budget = this.scanBudget(lv, peer);
    if (budget === 0) return this.sparseBest(lv, peer, rec, false);
    const have = peer.have;
    const nb = lv.bucketCount;
    for (let k = 1; k <= nb; k++) {
      const b = k === nb ? 0 : k;
      const s = lv.bucketStart(b);
      const n = lv.bucketStart(b + 1) - s;
      if (n === 0) continue;
      const off = this.random.int(n);
      for (let j = 0; j < n; j++) {
        let at = off + j;
        if (at >= n) at -= n;
        const p = lv.order[s + at]!;
        if (have.get(p) && !this.fullyRejected(rec, p)) return p;
        if (--budget === 0) return this.sparseBest(lv, peer, rec, false);
      }
    }
    return -1;
  }

  /** Random-first-piece: any not-started piece the peer has, uniformly-ish at random. */
  private randomIn(lv: RarityIndex, peer: PickerPeer, rec: PeerRecord): number {
    let budget = this.scanBudget(lv, peer);
    if (budget === 0) return this.sparseBest(lv, peer, rec, true);
    const n = lv.size;
    const off = this.random.int(n);
    for (let j = 0; j < n; j++) {
      let at = off + j;
      if (at >= n) at -= n;
      const p = lv.order[at]!;
      if (peer.have.get(p) && !this.fullyRejected(rec, p)) return p;
      if (--budget === 0) return this.sparseBest(lv, peer, rec, true);
    }
    return -1;
  }

  /**
   * Walk the peer's bitfield instead of the index (for peers with few pieces we need): the rarest (or, with
   * `uniform`, any) not-started piece it has, ties broken by reservoir sampling.
   */
  private sparseBest(lv: RarityIndex, peer: PickerPeer, rec: PeerRecord, uniform: boolean): number {
    const bytes = peer.have.bytes;
    let best = -1;
    let bestKey = Infinity;
    let ties = 0;
    for (let k = 0; k < bytes.length; k++) {
      const v = bytes[k]!;
      if (v === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if ((v & (0x80 >> bit)) === 0) continue;
        const p = k * 8 + bit;
        if (!lv.has(p) || this.fullyRejected(rec, p)) continue;
        const a = this.avail[p]!;
        const key = uniform ? 0 : a === 0 ? 0x1_0000_0000 : a;
        if (key < bestKey) {
          best = p;
          bestKey = key;
          ties = 1;
        } else if (key === bestKey && this.random.int(++ties) === 0) {
          best = p;
        }
      }
    }
    return best;
  }

  /** While choked: the best not-started allowed-fast piece (priority, then rarity; random tie-break). */
  private bestAllowedFast(peer: PickerPeer, rec: PeerRecord): number {
    let best = -1;
    let bestPrio = 0;
    let bestAvail = Infinity;
    let ties = 0;
    for (const p of peer.allowedFast) {
      if (p < 0 || p >= this.pieceCount || !peer.have.get(p)) continue;
      const prio = this.priority[p]!;
      if (prio === 0 || !this.levels[prio]!.has(p) || this.fullyRejected(rec, p)) continue;
      const a = this.avail[p]!;
      if (prio > bestPrio || (prio === bestPrio && a < bestAvail)) {
        best = p;
        bestPrio = prio;
        bestAvail = a;
        ties = 1;
      } else if (prio === bestPrio && a === bestAvail && this.random.int(++ties) === 0) {
        best = p;
      }
    }
    return best;
  }

  private activate(index: number): PieceState {
    this.levels[this.priority[index]!]!.remove(index);
    const piece = new PieceState(index, this.blockCount(index));
    this.active.set(index, piece);
    this.missingInActive += piece.blockCount;
    return piece;
  }

  /** Forget a started piece that has nothing requested or received: it goes back to the rarity index. */
  private dropIfIdle(piece: PieceState): void {
    if (piece.requested > 0 || piece.received > 0 || this.active.get(piece.index) !== piece) return;
    this.dropPiece(piece);
    const prio = this.priority[piece.index]!;
    if (prio > 0 && !this.have.get(piece.index)) this.level(prio).insert(piece.index, this.random);
  }

  /** Remove a piece's state and every request for it; returns the requests dropped. */
  private dropPiece(piece: PieceState): BlockCancel[] {
    const dropped: BlockCancel[] = [];
    const base = piece.index * this.blocksPerPiece;
    for (let b = 0; b < piece.blockCount; b++) {
      const list = piece.requesters[b];
      if (!list) continue;
      const req = { index: piece.index, begin: b * this.blockSize, length: this.blockLength(piece.index, b) };
      for (const id of list) {
        this.forgetRequest(this.peers.get(id), piece.index, base + b);
        dropped.push({ peerId: id, req });
      }
      piece.requesters[b] = undefined;
    }
    this.missingInActive -= piece.missing;
    this.requestedDistinct -= piece.requested;
    this.active.delete(piece.index);
    return dropped;
  }

  // ------------------------------------------------------------------ answers

  /** A block arrived from `peerId`. See BlockResult. */
  onBlock(peerId: string, index: number, begin: number, length: number): BlockResult {
    const res: BlockResult = { accepted: false, pieceComplete: false, cancels: [] };
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return res;
    const piece = this.active.get(index);
    if (!piece || begin % this.blockSize !== 0) return res;
    const b = begin / this.blockSize;
    if (b < 0 || b >= piece.blockCount || length !== this.blockLength(index, b)) return res;
    const key = index * this.blocksPerPiece + b;
    if (piece.state[b] === RECEIVED) {
      // A duplicate (endgame race, or a block sent after our Cancel).
      return res;
    }
    const list = piece.requesters[b];
    if (list) {
      const req = { index, begin, length };
      for (const id of list) {
        this.forgetRequest(this.peers.get(id), index, key);
        if (id !== peerId) res.cancels.push({ peerId: id, req });
      }
      piece.requesters[b] = undefined;
    }
    if (piece.state[b] === REQUESTED) {
      piece.requested--;
      this.requestedDistinct--;
    } else {
      // Not requested any more (released after a choke or a timeout) but still needed: keep it.
      piece.missing--;
      this.missingInActive--;
    }
    piece.state[b] = RECEIVED;
    piece.received++;
    piece.contributors.add(peerId);
    res.accepted = true;
    res.pieceComplete = piece.received === piece.blockCount;
    return res;
  }

  /** A request was rejected or timed out: the block can be requested again (not from this peer for a while). */
  onRequestFailed(peerId: string, req: BlockRequest): void {
    const rec = this.peers.get(peerId);
    const piece = this.active.get(req.index);
    if (!rec || !piece || req.begin % this.blockSize !== 0) return;
    const b = req.begin / this.blockSize;
    const key = req.index * this.blocksPerPiece + b;
    if (!rec.reqs.has(key)) return;
    this.unrequest(piece, b, peerId, rec);
    this.markRejected(rec, key, req.index);
    this.dropIfIdle(piece);
  }

  /** Not to be asked of this peer again until the cool-down ends or it unchokes us. */
  private markRejected(rec: PeerRecord, key: number, index: number): void {
    if (rec.rejected.has(key)) return;
    if (rec.rejected.size === 0) rec.rejectedSince = this.lastNow;
    rec.rejected.add(key);
    rec.rejectedPerPiece.set(index, (rec.rejectedPerPiece.get(index) ?? 0) + 1);
  }

  /** The peer disconnected or choked us: forget its outstanding requests (returned); the blocks become requestable. */
  releasePeer(peerId: string): BlockRequest[] {
    const rec = this.peers.get(peerId);
    if (!rec) return [];
    this.peers.delete(peerId);
    const released: BlockRequest[] = [];
    const touched = new Set<PieceState>();
    for (const key of [...rec.reqs]) {
      const index = Math.floor(key / this.blocksPerPiece);
      const b = key - index * this.blocksPerPiece;
      const piece = this.active.get(index)!;
      this.unrequest(piece, b, peerId, rec);
      touched.add(piece);
      released.push({ index, begin: b * this.blockSize, length: this.blockLength(index, b) });
    }
    for (const piece of touched) this.dropIfIdle(piece);
    return released;
  }

  /**
   * The peer unchoked us: blocks it rejected while choking us may be asked of it again at once. (pick() also
   * notices a choked -> unchoked change by itself, but only if it was called while the peer was choking.)
   */
  onUnchoke(peerId: string): void {
    const rec = this.peers.get(peerId);
    if (!rec) return;
    rec.rejected.clear();
    rec.rejectedPerPiece.clear();
    rec.wasChoking = false;
  }

  /** Requests in flight to this peer. */
  outstanding(peerId: string): number {
    return this.peers.get(peerId)?.reqs.size ?? 0;
  }

  /** The outstanding requests of this peer (a copy). */
  requestsOf(peerId: string): BlockRequest[] {
    const rec = this.peers.get(peerId);
    if (!rec) return [];
    return [...rec.reqs].map((key) => {
      const index = Math.floor(key / this.blocksPerPiece);
      const b = key - index * this.blocksPerPiece;
      return { index, begin: b * this.blockSize, length: this.blockLength(index, b) };
    });
  }

  /** Peers that delivered accepted blocks of a started piece (call before onPieceFailed to blame them). */
  contributors(index: number): string[] {
    const piece = this.active.get(index);
    return piece ? [...piece.contributors] : [];
  }

  /**
   * The piece passed its hash check (or was found on disk): set the have bit and drop its state. Returns the
   * requests still in flight for it (normally none), which the caller may cancel.
   */
  onPieceVerified(index: number): BlockCancel[] {
    if (index < 0 || index >= this.pieceCount || this.have.get(index)) return [];
    const piece = this.active.get(index);
    const dropped = piece ? this.dropPiece(piece) : [];
    this.levels[this.priority[index]!]?.remove(index);
    this.have.set(index);
    if (this.priority[index]! > 0) this.wantedMissing--;
    return dropped;
  }

  /**
   * The piece failed its hash check: every block becomes missing again and the piece goes back to the pool.
   * Returns the contributors (the same list contributors(index) gave just before).
   */
  onPieceFailed(index: number): string[] {
    const piece = this.active.get(index);
    if (!piece || this.have.get(index)) return [];
    const blamed = [...piece.contributors];
    this.dropPiece(piece);
    const prio = this.priority[index]!;
    if (prio > 0) this.level(prio).insert(index, this.random);
    return blamed;
  }

  // ------------------------------------------------------------------ helpers

  private record(peerId: string): PeerRecord {
    let rec = this.peers.get(peerId);
    if (!rec) {
      rec = { reqs: new Set(), perPiece: new Map(), rejected: new Set(), rejectedPerPiece: new Map(), rejectedSince: 0, wasChoking: undefined };
      this.peers.set(peerId, rec);
    }
    return rec;
  }

  /** Remove peerId's request for block b; the block is MISSING again when nobody else has it requested. */
  private unrequest(piece: PieceState, b: number, peerId: string, rec: PeerRecord): void {
    this.forgetRequest(rec, piece.index, piece.index * this.blocksPerPiece + b);
    const list = piece.requesters[b];
    if (list) {
      const at = list.indexOf(peerId);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) piece.requesters[b] = undefined;
    }
    if (piece.state[b] === REQUESTED && !piece.requesters[b]) {
      piece.state[b] = MISSING;
      if (b < piece.firstMissing) piece.firstMissing = b;
      piece.requested--;
      piece.missing++;
      this.requestedDistinct--;
      this.missingInActive++;
    }
  }

  /** Remove a request from a peer's record only (the piece side is handled by the caller). */
  private forgetRequest(rec: PeerRecord | undefined, index: number, key: number): void {
    if (!rec || !rec.reqs.delete(key)) return;
    this.outstandingTotal--;
    const n = rec.perPiece.get(index)! - 1;
    if (n === 0) rec.perPiece.delete(index);
    else rec.perPiece.set(index, n);
  }

  /** Test helper: throws when the picker's bookkeeping is inconsistent. */
  checkInvariants(): void {
    let missing = 0;
    let requested = 0;
    let outstanding = 0;
    for (const lv of this.levels) lv?.checkInvariants();
    for (let i = 0; i < this.pieceCount; i++) {
      const prio = this.priority[i]!;
      const inIndex = this.levels.some((lv) => lv?.has(i));
      const should = prio > 0 && !this.have.get(i) && !this.active.has(i);
      if (inIndex !== should) throw new Error(`piece ${i}: in index ${inIndex}, expected ${should}`);
      if (inIndex && !this.levels[prio]!.has(i)) throw new Error(`piece ${i} in the wrong priority level`);
    }
    for (const p of this.active.values()) {
      if (this.have.get(p.index)) throw new Error(`active piece ${p.index} is verified`);
      let m = 0;
      let r = 0;
      let c = 0;
      for (let b = 0; b < p.blockCount; b++) {
        const list = p.requesters[b];
        if (p.state[b] === MISSING) m++;
        if (p.state[b] === REQUESTED) r++;
        if (p.state[b] === RECEIVED) c++;
        if ((p.state[b] === REQUESTED) !== (list !== undefined && list.length > 0)) throw new Error(`piece ${p.index} block ${b}: state vs requesters`);
        if (list && new Set(list).size !== list.length) throw new Error(`piece ${p.index} block ${b}: duplicate requester`);
        for (const id of list ?? []) {
          if (!this.peers.get(id)?.reqs.has(p.index * this.blocksPerPiece + b)) throw new Error(`piece ${p.index} block ${b}: ${id} not recorded`);
        }
        outstanding += list?.length ?? 0;
      }
      if (m !== p.missing || r !== p.requested || c !== p.received) throw new Error(`piece ${p.index}: counters`);
      if (r === 0 && c === 0) throw new Error(`piece ${p.index} active but idle`);
      missing += m;
      requested += r;
    }
    if (missing !== this.missingInActive) throw new Error(`missingInActive ${this.missingInActive} != ${missing}`);
    if (requested !== this.requestedDistinct) throw new Error(`requestedDistinct ${this.requestedDistinct} != ${requested}`);
    if (outstanding !== this.outstandingTotal) throw new Error(`outstandingTotal ${this.outstandingTotal} != ${outstanding}`);
    let recs = 0;
    for (const rec of this.peers.values()) recs += rec.reqs.size;
    if (recs !== outstanding) throw new Error(`peer records ${recs} != ${outstanding}`);
  }
}

function forEachSetBit(bits: Bitfield, fn: (i: number) => void): void {
  const bytes = bits.bytes;
  for (let k = 0; k < bytes.length; k++) {
    const v = bytes[k]!;
    if (v === 0) continue;
    for (let bit = 0; bit < 8; bit++) if ((v & (0x80 >> bit)) !== 0) fn(k * 8 + bit);
  }
}
