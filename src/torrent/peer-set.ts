/**
 * PeerSet: a torrent's connected peers, and the admission of a handshaken connection into it (limits, bans,
 * ourselves, duplicates). Building the PeerConnection pipe and its PeerSession happens here; what the session
 * then says and does is the torrent's mode's business.
 */
import type { Clock } from '../core/index.js';
import type { ConnectionEncryption, PeerHandler } from '../peer/index.js';
import { PeerConnection } from '../peer/index.js';
import type { Connection } from '../transport/index.js';
import { equalBytes, formatHostPort, toHex } from '../util/index.js';
import type { FrameDecoder, Handshake } from '../wire/index.js';
import { supportsDht } from '../wire/index.js';
import type { CandidatePool } from './candidate-pool.js';
import { PeerSession } from './peer-session.js';

export interface Admission {
  /** Does the torrent take connections now (its mode)? */
  accepting: boolean;
  ourPeerId: Uint8Array;
  maxConnections: number;
  pieceCount: number;
  clock: Clock;
  handler: PeerHandler;
}

export class PeerSet {
  private readonly map = new Map<string, PeerSession>();
  /** Told +1 / -1 as peers join and leave (the engine's count of open connections, kept without walking torrents). */
  onSizeChange: ((delta: number) => void) | undefined;

  get size(): number {
    return this.map.size;
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  get(id: string): PeerSession | undefined {
    return this.map.get(id);
  }

  /** The session of this exact connection (not a newer one at the same address). */
  of(p: PeerConnection): PeerSession | undefined {
    const st = this.map.get(p.address);
    return st && st.peer === p ? st : undefined;
  }

  values(): IterableIterator<PeerSession> {
    return this.map.values();
  }

  /** A copy, for loops that may close peers. */
  list(): PeerSession[] {
    return [...this.map.values()];
  }

  delete(st: PeerSession): void {
    if (this.map.get(st.id) !== st) return;
    this.map.delete(st.id);
    this.onSizeChange?.(-1);
  }

  closeAll(reason: string): void {
    for (const st of this.list()) st.close(reason);
  }

  /**
   * A connection whose handshake completed: admit it (a new session, not started yet) or close it and say why
   * (undefined return). `pool` learns the dial is over; ourselves is banned (when we dialed) so a tracker listing
   * us does not make us dial ourselves every announce.
   */
  admit(
    conn: Connection,
    remote: Handshake,
    decoder: FrameDecoder,
    encryption: ConnectionEncryption,
    pool: CandidatePool,
    a: Admission,
    log: (why: string) => void,
  ): PeerSession | undefined {
    const address = formatHostPort(conn.remoteAddress, conn.remotePort);
    const cand = pool.handshaken(address);
    const refuse = (why: string): undefined => {
      log(`refusing ${address}: ${why}`);
      conn.close(false);
      return undefined;
    };
    if (!a.accepting) return refuse('torrent not active');
    if (pool.isBanned(address) || pool.isBannedPeerId(toHex(remote.peerId))) return refuse('banned');
    if (equalBytes(remote.peerId, a.ourPeerId)) {
      if (conn.outgoing) pool.ban(address);
      else pool.forget(address);
      return refuse('connected to ourselves');
    }
    if (this.map.size >= a.maxConnections) return refuse('torrent connection limit');
    for (const st of this.map.values()) {
      if (equalBytes(st.peer.peerId, remote.peerId)) return refuse('duplicate peer id');
    }
    if (this.map.has(address)) return refuse('already connected');
    if (cand) cand.failures = 0;
    const peer = new PeerConnection({ conn, peerId: remote.peerId, reserved: remote.reserved, decoder, pieceCount: a.pieceCount, clock: a.clock, handler: a.handler });
    const st = new PeerSession({
      peer,
      pieceCount: a.pieceCount,
      source: cand?.source ?? (conn.outgoing ? 'manual' : 'incoming'),
      encryption,
      dht: supportsDht(remote.reserved),
    });
    this.map.set(address, st);
    this.onSizeChange?.(1);
    return st;
  }
}
