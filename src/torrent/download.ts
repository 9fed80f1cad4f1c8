/**
 * Download: what a checked torrent has until it stops (whatever its mode: downloading, seeding, queued, paused):
 * the storage, the picker, the piece assembler, the requester and the web seeds, and the piece-level protocol
 * over them: what peers have (bitfield, have), our interest, blocks in, pieces verified or failed, completion.
 * The modes decide when any of it runs; this is the how.
 */
import type { PieceStorage } from '../storage/index.js';
import { PiecePicker } from '../picker/index.js';
import { Bitfield } from '../util/index.js';
import type { Message } from '../wire/index.js';
import { usableWebSeed } from '../webseed/index.js';
import { banReason, blameWeight, shouldBan } from './hash-blame.js';
import { SeedingMode } from './modes/active.js';
import type { PeerSession } from './peer-session.js';
import { PieceAssembler } from './piece-assembler.js';
import { Requester, nextSlowStart } from './requester.js';
import type { TorrentCore } from './torrent-core.js';
import { WebSeedSet } from './web-seeds.js';

export class Download {
  readonly picker: PiecePicker;
  readonly assembler: PieceAssembler;
  private readonly requester: Requester;
  readonly webSeeds: WebSeedSet | undefined;

  constructor(
    private readonly core: TorrentCore,
    readonly storage: PieceStorage,
    have: Bitfield,
    signal: AbortSignal,
  ) {
    const env = core.env;
    const meta = core.meta!;
    const info = meta.info;
    this.picker = new PiecePicker({ pieceCount: info.pieceCount, pieceLength: info.pieceLength, totalLength: info.totalLength, have, random: env.random });
    this.picker.sequential = core.sequential;
    if (core.streamPieces.length > 0) this.picker.setStreamPieces(core.streamPieces, core.streamUrgent);
    this.assembler = new PieceAssembler(info, storage, env.hasher, {
      verified: (i) => this.onVerified(i),
      failed: (i) => this.onHashFailed(i),
      error: (e) => core.fail(e),
      unblocked: () => {
        if (core.mode.connectable) this.fillAll();
      },
    });
    this.requester = new Requester(env.settings, core.rate, this.assembler);
    const urls = [...new Set([...meta.urlList, ...core.magnetWebSeeds])].filter(usableWebSeed);
    if (env.fetchRange && env.settings.webSeedsEnabled && !have.complete && urls.length > 0) {
      this.webSeeds = new WebSeedSet(urls, info, this.picker, env.fetchRange, core.rate, this.assembler, {
        now: () => env.clock.now(),
        downloading: () => core.mode.requesting,
        received: (n) => this.received(n),
        cancel: (peerId, r) => core.peers.get(peerId)?.send({ type: 'cancel', index: r.index, begin: r.begin, length: r.length }),
        warning: (m) => core.events.emit('warning', m),
        refill: () => this.fillAll(),
      }, signal);
      core.log.info(`web seeds: ${urls.join(', ')}`);
    }
  }

  /** Keep every pipeline full (web seeds first; while streaming, the fastest peers first: they get the urgent pieces). */
  fillAll(): void {
    this.webSeeds?.fill();
    if (this.picker.streamPieces.length > 0) {
      const now = this.core.env.clock.now();
      const peers = [...this.core.peers.values()].map((st) => ({ st, rate: st.peer.down.rate(now) }));
      peers.sort((a, b) => b.rate - a.rate);
      for (const p of peers) this.fill(p.st);
      return;
    }
    for (const st of this.core.peers.values()) this.fill(st);
  }

  /**
   * Streaming: set the pieces readers need (nearest first, the first `urgent` urgent); with `cancelOutside` (a
   * seek), cancel every request for a piece outside them. Returns the Cancels sent. Refills the pipelines.
   */
  setStream(pieces: readonly number[], urgent: number, cancelOutside: boolean): number {
    this.picker.setStreamPieces(pieces, urgent);
    let sent = 0;
    if (cancelOutside) {
      for (const c of this.picker.cancelOutsideStream()) {
        const st = this.core.peers.get(c.peerId);
        if (!st) continue;
        st.send({ type: 'cancel', index: c.req.index, begin: c.req.begin, length: c.req.length });
        sent++;
      }
    }
    if (this.core.mode.connectable) this.fillAll();
    return sent;
  }

  fill(st: PeerSession): void {
    if (this.core.mode.requesting) this.requester.fill(this.picker, st, this.core.env.clock.now());
  }

  dispose(): void {
    this.webSeeds?.dispose();
    this.assembler.dispose();
  }

  /** Our first messages to a new peer: what we have (BEP 6 have-all / have-none when it can), our DHT port. */
  initialMessages(st: PeerSession, dhtPort: number | undefined): Message[] {
    const have = this.picker.have;
    const msgs: Message[] = [];
    if (st.fast && have.complete) msgs.push({ type: 'have-all' });
    else if (st.fast && have.empty) msgs.push({ type: 'have-none' });
    else if (!have.empty) msgs.push({ type: 'bitfield', bits: have.bytes });
    if (dhtPort) msgs.push({ type: 'port', port: dhtPort });
    return msgs;
  }

  /** Neither side wants anything from the other: we have every wanted piece and the peer is a seed or upload_only. */
  bothDone(st: PeerSession): boolean {
    return this.picker.finished && (st.isSeed || st.uploadOnly);
  }

  /** Close a peer when bothDone: we have every wanted piece and it is a seed (or upload_only). */
  private leave(st: PeerSession): void {
    st.close(this.picker.complete && st.isSeed ? 'both are seeds' : 'neither wants anything more');
  }

  onBitfield(st: PeerSession, bits: Uint8Array): void {
    const n = this.picker.pieceCount;
    if (st.gotBitfield) {
      // aria2 sends a whole new bitfield mid-connection instead of a run of Haves: merge it as Haves.
      const update = new Bitfield(n, bits);
      for (let i = 0; i < n && !st.closed; i++) if (update.get(i) && !st.have.get(i)) this.onHave(st, i);
      return;
    }
    st.gotBitfield = true;
    const fresh = new Bitfield(n, bits);
    for (let i = 0; i < n; i++) if (fresh.get(i)) st.have.set(i);
    st.isSeed = fresh.complete;
    this.picker.addPeerBitfield(st.have);
    st.interestingCount = this.countInteresting(st.have);
    if (this.bothDone(st)) return this.leave(st);
    this.updateInterest(st);
  }

  onHave(st: PeerSession, index: number): void {
    const picker = this.picker;
    if (!st.gotBitfield) {
      st.gotBitfield = true;
      picker.addPeerBitfield(st.have);
    }
    if (st.have.get(index)) return;
    st.have.set(index);
    picker.addPeerHave(index);
    if (!picker.have.get(index) && picker.piecePriority(index) > 0) st.interestingCount++;
    st.isSeed = st.have.complete;
    if (this.bothDone(st)) return this.leave(st);
    this.updateInterest(st);
  }

  updateInterest(st: PeerSession): void {
    const want = st.interestingCount > 0 && !this.picker.finished;
    st.setInterested(want);
    if (want) this.fill(st);
  }

  /** Pieces the peer has that we lack and want. */
  countInteresting(peerHave: Bitfield): number {
    const picker = this.picker;
    const ours = picker.have;
    let n = 0;
    for (let i = 0; i < peerHave.length; i++) if (peerHave.get(i) && !ours.get(i) && picker.piecePriority(i) > 0) n++;
    return n;
  }

  /** Every peer's interest again (file priorities changed). */
  recountInterest(): void {
    for (const st of this.core.peers.values()) {
      st.interestingCount = this.countInteresting(st.have);
      this.updateInterest(st);
    }
  }

  onPiece(st: PeerSession, index: number, begin: number, block: Uint8Array): void {
    const now = this.core.env.clock.now();
    this.received(block.length, now);
    const res = this.picker.onBlock(st.id, index, begin, block.length);
    for (const c of res.cancels) {
      this.core.peers.get(c.peerId)?.send({ type: 'cancel', index: c.req.index, begin: c.req.begin, length: c.req.length });
    }
    if (res.accepted) {
      st.snubbed = false;
      st.slowStart = nextSlowStart(st.slowStart, now - st.peer.connectedAt);
      if (!this.assembler.store(index, begin, block, res.pieceComplete)) return st.close('block past the end of its piece');
    }
    this.fill(st);
  }

  private received(bytes: number, now = this.core.env.clock.now()): void {
    this.core.downloaded += bytes;
    this.core.downMeter.add(bytes, now);
  }

  private onVerified(index: number): void {
    const core = this.core;
    const picker = this.picker;
    picker.onPieceVerified(index);
    core.resume.pieceVerified();
    core.events.emit('piece-verified', index);
    for (const st of core.peers.values()) {
      if (st.have.get(index) && picker.piecePriority(index) > 0) st.interestingCount--;
      st.send({ type: 'have', index });
      if (st.interestingCount <= 0) this.updateInterest(st);
    }
    if (picker.finished) void this.complete();
  }

  private onHashFailed(index: number): void {
    const core = this.core;
    const blamed = this.picker.contributors(index);
    this.picker.onPieceFailed(index);
    core.events.emit('hash-failed', index, blamed);
    core.log.warn(`piece ${index} failed its hash check (from ${blamed.join(', ') || 'unknown'})`);
    const weight = blameWeight(blamed);
    const threshold = core.env.settings.hashFailuresToBan;
    for (const addr of blamed) {
      if (this.webSeeds?.blame(addr, weight, threshold)) continue;
      const st = core.peers.get(addr);
      if (!st) continue;
      st.hashFailures += weight;
      if (shouldBan(st.hashFailures, threshold)) core.ban(st, banReason(st.hashFailures, weight));
    }
    this.fillAll();
  }

  /** Every wanted piece is verified (every piece, unless files are skipped): seed what we have. */
  async complete(): Promise<void> {
    const core = this.core;
    const all = this.picker.complete;
    try {
      await this.storage.ensureFiles(all ? undefined : core.selection.wanted);
    } catch (e) {
      return core.fail(e);
    }
    if (!core.mode.requesting || core.active !== this || !this.picker.finished) return;
    core.setMode(new SeedingMode(core));
    // Every verified piece has been written (the assembler awaits the write): a crash from here on re-checks
    // nothing but files modified within seconds of this save (the clean save at stop trusts those too).
    core.resume.request();
    // Trackers hear 'completed' only for the whole torrent (a selective download is not a seed).
    if (all) core.trackers?.complete();
    core.extensions.resendHandshake(core.peers.values());
    core.events.emit('complete');
    for (const st of core.peers.list()) {
      if (this.bothDone(st)) this.leave(st);
      else this.updateInterest(st);
    }
  }
}
