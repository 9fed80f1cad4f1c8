/**
 * ConnectionManager: dials peers for torrents under the global, per-torrent and half-open limits, runs
 * the handshake, and hands finished connections to their torrent. Fed by addPeer (and later trackers,
 * DHT, PEX, LSD) through each torrent's candidate list.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Connection, Transport } from '../transport/index.js';
import type { Handshake } from '../wire/index.js';
import type { FrameDecoder } from '../wire/index.js';
import { performHandshake } from './handshake.js';

/** The part of a torrent the connection manager needs. */
export interface DialTarget {
  readonly infoHash: Uint8Array;
  /** Pieces in the torrent (bounds the bitfield message). */
  readonly pieceCount: number;
  readonly openSlots: number;
  takeCandidate(now: number): { host: string; port: number } | undefined;
  dialFailed(host: string, port: number, reason: string): void;
  attachPeer(conn: Connection, remote: Handshake, decoder: FrameDecoder): void;
}

export interface ConnectionManagerOptions {
  clock: Clock;
  logger: Logger;
  transport: Transport;
  peerId: Uint8Array;
  reserved: Uint8Array;
  maxHalfOpen: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  maxMessageLength: (target: DialTarget) => number;
  /** Total open connections (for the global limit) and that limit. */
  openConnections: () => number;
  maxConnections: number;
}

export class ConnectionManager {
  private halfOpen = 0;
  private readonly controller = new AbortController();
  private pumping = false;

  constructor(private readonly o: ConnectionManagerOptions) {}

  get pending(): number {
    return this.halfOpen;
  }

  /** Dial as many candidates as the limits allow, round-robin over the targets. */
  pump(targets: Iterable<DialTarget>): void {
    if (this.pumping || this.controller.signal.aborted) return;
    this.pumping = true;
    try {
      const list = [...targets];
      let progress = true;
      while (progress) {
        progress = false;
        for (const t of list) {
          if (this.halfOpen >= this.o.maxHalfOpen) return;
          if (this.o.openConnections() + this.halfOpen >= this.o.maxConnections) return;
          if (t.openSlots <= 0) continue;
          const c = t.takeCandidate(this.o.clock.now());
          if (!c) continue;
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
    let conn: Connection | undefined;
    try {
      conn = await this.o.transport.dial(host, port, { signal: this.controller.signal, timeoutMs: this.o.connectTimeoutMs });
      const { remote, decoder } = await performHandshake(conn, {
        clock: this.o.clock,
        timeoutMs: this.o.handshakeTimeoutMs,
        reserved: this.o.reserved,
        peerId: this.o.peerId,
        maxMessageLength: this.o.maxMessageLength(t),
        infoHash: t.infoHash,
      });
      this.halfOpen--;
      t.attachPeer(conn, remote, decoder);
    } catch (e) {
      this.halfOpen--;
      conn?.close(false);
      t.dialFailed(host, port, e instanceof Error ? e.message : String(e));
      this.o.logger.debug(() => `dial ${host}:${port}: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    this.controller.abort();
  }
}
