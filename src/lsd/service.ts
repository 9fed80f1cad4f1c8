/**
 * BEP 14 Local Service Discovery service: announces our torrents on the LSD multicast group and reports
 * the peers that announce torrents we have. Pure apart from the injected socket (src/lsd/node-multicast.ts
 * is the node:dgram one) and Clock / Random.
 *
 * - Each added torrent is announced at once (subject to the rate limit), then every announceIntervalMs
 *   (5 minutes, as libtorrent).
 * - Rate limit: at most one datagram per minSendIntervalMs (1 s); hashes that are due together share one
 *   message (up to MAX_LSD_INFOHASHES Infohash lines).
 * - Private torrents must never be added (BEP 27): the caller passes only public ones.
 * - Received announces: malformed datagrams, our own (matched by cookie: on loopback and with
 *   IP_MULTICAST_LOOP we hear ourselves), unusable sources and info-hashes the caller does not have are
 *   ignored; the rest become onPeer(infoHashHex, source host, announced port). A flood is cut off at
 *   maxMessagesPerSecond.
 */
import type { Clock, Timer, Random } from '../core/index.js';
import { BtError } from '../core/index.js';
import { LSD_GROUP_V4, LSD_GROUP_V6, LSD_PORT, MAX_LSD_INFOHASHES, decodeLsdAnnounce, encodeLsdAnnounce } from './codec.js';

export interface LsdEndpoint {
  host: string;
  port: number;
}

/** The datagram socket LsdService uses: joined to the LSD group, bound to port 6771. */
export interface LsdSocket {
  send(bytes: Uint8Array, host: string, port: number): void | Promise<void>;
  /** Register the receiver (called once, before any send). */
  onMessage(cb: (bytes: Uint8Array, from: LsdEndpoint) => void): void;
  close(): void | Promise<void>;
}

export type LsdSocketFactory = () => LsdSocket | Promise<LsdSocket>;

export interface LsdServiceOptions {
  clock: Clock;
  /** For the cookie. */
  random: Random;
  socketFactory: LsdSocketFactory;
  /** Our BitTorrent listen port, written in the Port header. */
  port: number;
  /** Announce to the IPv6 group [ff15::efc0:988f]:6771 instead of the IPv4 one. */
  ipv6?: boolean;
  /** Whether we have this torrent (lowercase 40-hex v1 info-hash); announces for others are ignored. */
  hasTorrent(infoHashHex: string): boolean;
  /** A peer on the local network announced a torrent we have. */
  onPeer(infoHashHex: string, host: string, port: number): void;
  /** A send failed (e.g. ENETUNREACH), or a callback threw; the service keeps going. */
  onError?(e: unknown): void;
  /** Default 5 minutes. */
  announceIntervalMs?: number;
  /** Default 1 s: at most one datagram per this interval. */
  minSendIntervalMs?: number;
  /** Received datagrams handled per second; the rest are dropped (default 50). */
  maxMessagesPerSecond?: number;
}

export interface LsdStats {
  sent: number;
  sendErrors: number;
  received: number;
  /** Malformed, our own, rate-limited, or from an unusable source. */
  ignored: number;
  peers: number;
}

function hexCookie(random: Random): string {
  let s = '';
  for (const b of random.bytes(4)) s += b.toString(16).padStart(2, '0');
  return s;
}

export class LsdService {
  /** Sent with every announce; received announces carrying it are ours. */
  readonly cookie: string;
  readonly stats: LsdStats = { sent: 0, sendErrors: 0, received: 0, ignored: 0, peers: 0 };
  private readonly o: LsdServiceOptions;
  private readonly interval: number;
  private readonly minSend: number;
  private readonly maxPerSecond: number;
  private port: number;
  private socket: LsdSocket | undefined;
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  /** info-hash hex → when it is next due. */
  private readonly due = new Map<string, number>();
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private lastSend = -Infinity;
  private windowStart = -Infinity;
  private windowCount = 0;

  constructor(opts: LsdServiceOptions) {
    this.o = opts;
    this.port = opts.port;
    this.interval = opts.announceIntervalMs ?? 5 * 60_000;
    this.minSend = opts.minSendIntervalMs ?? 1000;
    this.maxPerSecond = opts.maxMessagesPerSecond ?? 50;
    this.cookie = hexCookie(opts.random);
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Torrents being announced. */
  get torrents(): string[] {
    return [...this.due.keys()];
  }

  /** Open the socket and start announcing the torrents added so far. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'starting';
    const socket = await this.o.socketFactory();
    if (this.state !== 'starting') {
      // stop() came first
      await socket.close();
      return;
    }
    this.socket = socket;
    socket.onMessage((bytes, from) => this.handleMessage(bytes, from));
    this.state = 'running';
    this.schedule();
  }

  /** Announce a public torrent now (rate limit permitting) and every interval after. */
  add(infoHashHex: string): void {
    const h = infoHashHex.toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(h)) {
      throw new BtError('ERR_PROTOCOL', `LSD: info-hash ${JSON.stringify(infoHashHex)} is not 40 hex digits`, { op: 'announce', field: 'infoHash' });
    }
    if (this.due.has(h)) return;
    this.due.set(h, this.o.clock.now());
    this.schedule();
  }

  remove(infoHashHex: string): void {
    this.due.delete(infoHashHex.toLowerCase());
    this.schedule();
  }

  /** Our listen port changed: announce everything again with the new one. */
  setPort(port: number): void {
    if (port === this.port) return;
    this.port = port;
    const now = this.o.clock.now();
    for (const h of this.due.keys()) this.due.set(h, now);
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.cancelTimer();
    const s = this.socket;
    this.socket = undefined;
    if (s) await s.close();
  }

  /** Handle one received datagram (the socket's onMessage; public for tests and other socket owners). */
  handleMessage(bytes: Uint8Array, from: LsdEndpoint): void {
    if (this.state !== 'running') return;
    this.stats.received++;
    const now = this.o.clock.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (++this.windowCount > this.maxPerSecond) {
      this.stats.ignored++;
      return;
    }
    const msg = decodeLsdAnnounce(bytes);
    if (msg === null || msg.cookie === this.cookie || !usableHost(from.host)) {
      this.stats.ignored++;
      return;
    }
    for (const h of msg.infoHashes) {
      let has = false;
      try {
        has = this.o.hasTorrent(h);
      } catch (e) {
        this.o.onError?.(e);
      }
      if (!has) continue;
      this.stats.peers++;
      try {
        this.o.onPeer(h, from.host, msg.port);
      } catch (e) {
        this.o.onError?.(e);
      }
    }
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private schedule(): void {
    if (this.state !== 'running') return;
    let earliest = Infinity;
    for (const t of this.due.values()) earliest = Math.min(earliest, t);
    if (earliest === Infinity) {
      this.cancelTimer();
      return;
    }
    const at = Math.max(earliest, this.lastSend + this.minSend);
    if (this.timer !== undefined && this.timerAt === at) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.fire();
    }, Math.max(0, at - this.o.clock.now()));
  }

  private fire(): void {
    if (this.state !== 'running' || this.socket === undefined) return;
    const now = this.o.clock.now();
    const ready = [...this.due].filter(([, t]) => t <= now).sort((a, b) => a[1] - b[1]).slice(0, MAX_LSD_INFOHASHES);
    if (ready.length > 0) {
      const hashes = ready.map(([h]) => h);
      for (const h of hashes) this.due.set(h, now + this.interval);
      this.lastSend = now;
      this.send(encodeLsdAnnounce({ port: this.port, infoHashes: hashes, cookie: this.cookie, ipv6: this.o.ipv6 === true }));
    }
    this.schedule();
  }

  private send(bytes: Uint8Array): void {
    const host = this.o.ipv6 ? LSD_GROUP_V6 : LSD_GROUP_V4;
    const fail = (e: unknown): void => {
      this.stats.sendErrors++;
      this.o.onError?.(e);
    };
    try {
      const r = this.socket!.send(bytes, host, LSD_PORT);
      this.stats.sent++;
      if (r instanceof Promise) r.catch(fail);
    } catch (e) {
      fail(e);
    }
  }
}

function usableHost(host: string): boolean {
  return typeof host === 'string' && host.length > 0 && host !== '0.0.0.0' && host !== '::' && !/^(::ffff:)?0\.0\.0\.0$/i.test(host);
}
