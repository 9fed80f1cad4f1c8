/**
 * ConnectionManager: dials peers for torrents under the global, per-torrent and half-open limits, runs
 * the handshake, and hands finished connections to their torrent. Fed by addPeer (and later trackers,
 * DHT, PEX, LSD) through each torrent's candidate list.
 */
import type { Clock, Logger, Random } from '../core/index.js';
import type { Connection, Transport } from '../transport/index.js';
import type { Handshake, FrameDecoder } from '../wire/index.js';
import { dialAndHandshake } from './encryption.js';
import type { ConnectionEncryption, EncryptionType } from './encryption.js';

/** The part of a torrent the connection manager needs. */
export interface DialTarget {
  readonly infoHash: Uint8Array;
  /** Pieces in the torrent (bounds the bitfield message). */
  readonly pieceCount: number;
  readonly openSlots: number;
  takeCandidate(now: number): { host: string; port: number } | undefined;
  /**
   * Has it candidates that are neither connected nor being dialed (due now or backing off)? A target that says no
   * (or has no open slot) leaves the wanting set until it asks again (want()); absent: it leaves once nothing is due.
   */
  hasCandidates?(): boolean;
  dialFailed(host: string, port: number, reason: string): void;
  attachPeer(conn: Connection, remote: Handshake, decoder: FrameDecoder, encryption: ConnectionEncryption): void;
}

export interface ConnectionManagerOptions {
  clock: Clock;
  random: Random;
  logger: Logger;
  transport: Transport;
  /** Allowed connection kinds, in preference order (settings.encryption). */
  encryption: readonly EncryptionType[];
  peerId: Uint8Array;
  reserved: Uint8Array;
  maxHalfOpen: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  maxMessageLength: (target: DialTarget) => number;
  /** Total open connections (for the global limit: a counter, read on every dial) and that limit. */
  openConnections: () => number;
  maxConnections: number;
}

export class ConnectionManager {
  private halfOpen = 0;
  /**
   * One AbortController per dial in flight, removed when the dial ends; dispose() aborts each. (One shared signal
   * for every dial gathered an abort listener per dial from the transport and MSE, so more than 10 dials in flight
   * raised node's MaxListenersExceededWarning.)
   */
  private readonly inFlight = new Set<AbortController>();
  private disposed = false;
  private pumping = false;
  /**
   * The targets that asked for peers (want()) and may still dial: a pump visits only these, so its cost follows the
   * torrents looking for peers, not every torrent. Insertion order is the round-robin order.
   */
  private readonly wanting = new Set<DialTarget>();
  private scheduled = false;
  /** Targets visited by pumps (tests, diagnostics). */
  visits = 0;

  constructor(private readonly o: ConnectionManagerOptions) {}

  get pending(): number {
    return this.halfOpen;
  }

  /** Targets waiting for a dial now (tests, diagnostics). */
  get wantingCount(): number {
    return this.wanting.size;
  }

  /** `t` wants peers: it joins the wanting set, and one pump runs soon (requests in the same turn share it). */
  want(t: DialTarget): void {
    if (this.disposed) return;
    this.wanting.add(t);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** `t` is gone (removed from the engine): never dial for it again. */
  forget(t: DialTarget): void {
    this.wanting.delete(t);
  }

  /**
   * Dial as many candidates as the limits allow, round-robin over the wanting targets (and `targets`, which join
   * them). A target with no open slot, or nothing left to dial, leaves the set.
   */
  pump(targets?: Iterable<DialTarget>): void {
    if (this.disposed) return;
    if (targets) for (const t of targets) this.wanting.add(t);
    if (this.pumping) return;
    this.pumping = true;
    try {
      let progress = true;
      while (progress && this.wanting.size > 0) {
        progress = false;
        for (const t of this.wanting) {
          if (this.halfOpen >= this.o.maxHalfOpen) return;
          if (this.o.openConnections() + this.halfOpen >= this.o.maxConnections) return;
          this.visits++;
          if (t.openSlots <= 0) {
            this.wanting.delete(t);
            continue;
          }
          const c = t.takeCandidate(this.o.clock.now());
          if (!c) {
            if (!(t.hasCandidates?.() ?? false)) this.wanting.delete(t);
            continue;
          }
          progress = true;
          void this.dial(t, c.host, c.port);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async dial(t: DialTarget, host: string, port: number): Promise<void> {
    this.halfOpen++;
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      const r = await dialAndHandshake({
        transport: this.o.transport,
        host,
        port,
        prefs: this.o.encryption,
        random: this.o.random,
        connectTimeoutMs: this.o.connectTimeoutMs,
        signal: controller.signal,
        clock: this.o.clock,
        timeoutMs: this.o.handshakeTimeoutMs,
        reserved: this.o.reserved,
        peerId: this.o.peerId,
        maxMessageLength: this.o.maxMessageLength(t),
        infoHash: t.infoHash,
      });
      this.halfOpen--;
      this.inFlight.delete(controller);
      t.attachPeer(r.conn, r.remote, r.decoder, r.encryption);
      // A dial slot is free and the target may want more: it is visited again at the next pump.
      if (!this.disposed) this.wanting.add(t);
    } catch (e) {
      this.halfOpen--;
      this.inFlight.delete(controller);
      t.dialFailed(host, port, e instanceof Error ? e.message : String(e));
      if (!this.disposed) this.wanting.add(t);
      this.o.logger.debug(() => `dial ${host}:${port}: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.wanting.clear();
    const dials = [...this.inFlight];
    this.inFlight.clear();
    for (const c of dials) c.abort();
  }
}
