/**
 * ListenManager: accepts connections on every configured endpoint, reads the handshake, routes it by
 * info-hash to the torrent that wants it, and answers with ours. Connections still in their handshake are bounded
 * by a HalfOpenTable (in total and per address; the oldest is shed for a newcomer) and share one deadline,
 * `handshakeTimeoutMs` from accept, MSE included.
 */
import type { Clock, Logger, Random, Timer } from '../core/index.js';
import type { Connection, Listener, Transport } from '../transport/index.js';
import { parseHostPort } from '../util/index.js';
import type { DialTarget } from './connection-manager.js';
import { acceptAndHandshake } from './encryption.js';
import type { EncryptionType } from './encryption.js';
import { HalfOpenTable } from './half-open-table.js';

export interface ListenManagerOptions {
  clock: Clock;
  random: Random;
  logger: Logger;
  transport: Transport;
  /** Allowed connection kinds (settings.encryption); incoming ones are accepted when listed, in any order. */
  encryption: readonly EncryptionType[];
  /** MSE: the info-hash whose SHA1('req2', ih) this is, among the engine's torrents. */
  resolveSkey: (req2: Uint8Array) => Uint8Array | undefined;
  peerId: Uint8Array;
  reserved: Uint8Array;
  /** The whole incoming handshake (MSE and BitTorrent) must complete within this long of the accept. */
  handshakeTimeoutMs: number;
  /** Incoming connections in their handshake at once; a newcomer beyond it sheds the oldest. */
  maxHalfOpenIncoming: number;
  /** The same per remote address (half-open ones only: established peers do not count). */
  maxIncomingPerIp: number;
  /** The torrent for an info-hash that accepts one more peer now, if any. */
  route: (infoHash: Uint8Array) => (DialTarget & { acceptsPeer(): boolean }) | undefined;
  /** Room under the global connection limit? */
  accepting: () => boolean;
  /** The blocklist: connections from these addresses are closed at once. */
  blocked?: (address: string) => boolean;
}

export class ListenManager {
  private listeners: Listener[] = [];
  private readonly log: Logger;
  private readonly halfOpen: HalfOpenTable<Connection>;
  private sweepTimer: Timer | undefined;
  private stopped = false;
  constructor(private readonly o: ListenManagerOptions) {
    this.log = o.logger;
    this.halfOpen = new HalfOpenTable({ maxHalfOpen: o.maxHalfOpenIncoming, maxPerIp: o.maxIncomingPerIp, timeoutMs: o.handshakeTimeoutMs });
  }

  /** Incoming connections in their handshake now, and how many were shed to make room so far. */
  get halfOpenIncoming(): { count: number; shed: number } {
    return { count: this.halfOpen.size, shed: this.halfOpen.shedCount };
  }

  /**
   * Listen on each "host:port". When port is 0 the first endpoint picks a free port and the others
   * reuse it. Endpoints that cannot be bound (e.g. no IPv6) are skipped with a warning; fails only if none binds.
   */
  async start(endpoints: readonly string[]): Promise<number> {
    let port = 0;
    const errors: string[] = [];
    for (const ep of endpoints) {
      const hp = parseHostPort(ep);
      const want = hp.port === 0 ? port : hp.port;
      try {
        const l = await this.o.transport.listen(hp.host, want, (c) => this.onConnection(c));
        this.listeners.push(l);
        if (port === 0) port = l.port;
      } catch (e) {
        errors.push(`${ep}: ${(e as Error).message}`);
        this.log.warn(`cannot listen on ${ep}: ${(e as Error).message}`);
      }
    }
    if (this.listeners.length === 0 && endpoints.length > 0) {
      throw new Error(`could not listen on any endpoint (${errors.join('; ')})`);
    }
    return port;
  }

  /** Accept connections from another transport too (uTP on the shared UDP port). */
  async listenOn(transport: Transport, host: string, port: number): Promise<number> {
    const l = await transport.listen(host, port, (c) => this.onConnection(c));
    this.listeners.push(l);
    return l.port;
  }

  get ports(): number[] {
    return this.listeners.map((l) => l.port);
  }

  private onConnection(conn: Connection): void {
    if (this.o.blocked?.(conn.remoteAddress)) {
      this.log.debug(() => `refused ${conn.remoteAddress}: on the blocklist`);
      conn.close(false);
      return;
    }
    if (this.stopped || !this.o.accepting()) {
      conn.close(false);
      return;
    }
    const { id, shed } = this.halfOpen.add(conn.remoteAddress, conn, this.o.clock.now());
    for (const c of shed) {
      this.log.debug(() => `shed half-open ${c.remoteAddress}:${c.remotePort} for a newcomer`);
      c.close(false);
    }
    this.armSweep();
    let target: (DialTarget & { acceptsPeer(): boolean }) | undefined;
    acceptAndHandshake(conn, {
      prefs: this.o.encryption,
      random: this.o.random,
      resolveSkey: this.o.resolveSkey,
      clock: this.o.clock,
      timeoutMs: this.o.handshakeTimeoutMs,
      reserved: this.o.reserved,
      peerId: this.o.peerId,
      // The decoder exists before we know the torrent, so incoming peers get one fixed limit.
      maxMessageLength: 1 << 20,
      route: (ih) => {
        target = this.o.route(ih);
        return target && target.acceptsPeer() ? target.infoHash : undefined;
      },
    }).then(
      (r) => {
        this.halfOpen.remove(id);
        if (r.conn.closed) return; // shed or expired as the handshake completed
        if (target) target.attachPeer(r.conn, r.remote, r.decoder, r.encryption);
        else r.conn.close(false);
      },
      (e: unknown) => {
        this.halfOpen.remove(id);
        conn.close(false);
        this.log.debug(() => `incoming ${conn.remoteAddress}:${conn.remotePort}: ${(e as Error).message}`);
      },
    );
  }

  /** One timer, at the oldest half-open connection's deadline. */
  private armSweep(): void {
    if (this.sweepTimer || this.stopped) return;
    const at = this.halfOpen.nextDeadline();
    if (at === undefined) return;
    this.sweepTimer = this.o.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      for (const c of this.halfOpen.expire(this.o.clock.now())) {
        this.log.debug(() => `incoming ${c.remoteAddress}:${c.remotePort}: handshake timed out`);
        c.close(false);
      }
      this.armSweep();
    }, Math.max(0, at - this.o.clock.now()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    for (const c of this.halfOpen.clear()) c.close(false);
    const ls = this.listeners;
    this.listeners = [];
    await Promise.all(ls.map((l) => l.close()));
  }
}
