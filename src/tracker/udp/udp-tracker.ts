/**
 * A `Tracker` for udp:// URLs: resolves the host once per announce (cached for a while), registers on the
 * engine's shared UDP socket for datagrams from that address, and runs the BEP 15 state machine.
 */
import type { Clock, Random } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import type { UdpMux } from '../../transport/index.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeResponse, Tracker } from '../types.js';
import { UdpTrackerClient } from './client.js';

export type Resolve = (host: string) => Promise<string>;

export interface UdpTrackerOptions {
  url: string;
  clock: Clock;
  random: Random;
  /** The engine's shared UDP socket, looked up at each announce (it opens when the engine starts). */
  udp: () => UdpMux | undefined;
  resolve: Resolve;
  /** First retransmission timeout (BEP 15: 15 s). */
  baseTimeoutMs?: number;
  maxRetries?: number;
}

const RESOLVE_TTL_MS = 30 * 60_000;

export class UdpTracker implements Tracker {
  readonly url: string;
  readonly canScrape = true;
  private readonly host: string;
  private readonly port: number;
  private readonly urlData: string;
  private address: string | undefined;
  private udp: UdpMux | undefined;
  private resolvedAt = 0;
  private client: UdpTrackerClient | undefined;
  private unregister: (() => void) | undefined;
  private disposed = false;

  constructor(private readonly o: UdpTrackerOptions) {
    this.url = o.url;
    const u = parseUdpUrl(o.url);
    this.host = u.host;
    this.port = u.port;
    this.urlData = u.urlData;
  }

  async announce(req: AnnounceRequest, opts: { signal?: AbortSignal } = {}): Promise<AnnounceResponse> {
    const client = await this.ready(opts.signal);
    const r = await client.announce(
      {
        infoHash: req.infoHash,
        peerId: req.peerId,
        downloaded: req.downloaded,
        left: req.left,
        uploaded: req.uploaded,
        event: req.event,
        key: req.key,
        numWant: req.numWant,
        port: req.port,
        urlData: this.urlData || undefined,
      },
      opts,
    );
    return { interval: r.interval, seeders: r.seeders, leechers: r.leechers, peers: r.peers };
  }

  async scrape(infoHash: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<ScrapeResponse> {
    const client = await this.ready(opts.signal);
    const r = await client.scrape([infoHash], opts);
    const f = r.files[0];
    if (!f) throw new BtError('ERR_TRACKER', 'UDP tracker returned an empty scrape', { op: 'scrape' });
    return { seeders: f.seeders, leechers: f.leechers, completed: f.completed };
  }

  dispose(): void {
    this.disposed = true;
    this.client?.close();
    this.unregister?.();
    this.client = undefined;
    this.unregister = undefined;
  }

  private async ready(signal?: AbortSignal): Promise<UdpTrackerClient> {
    if (this.disposed) throw new BtError('ERR_ABORTED', 'tracker disposed', { op: 'announce' });
    const udp = this.o.udp();
    if (!udp) throw new BtError('ERR_TRACKER', 'no UDP socket for UDP trackers', { op: 'announce' });
    if (this.client && udp === this.udp && this.o.clock.now() - this.resolvedAt < RESOLVE_TTL_MS) return this.client;
    let address: string;
    try {
      address = await this.o.resolve(this.host);
    } catch (e) {
      throw new BtError('ERR_TRACKER', `cannot resolve ${this.host}: ${(e as Error).message}`, { op: 'resolve', cause: e });
    }
    if (signal?.aborted || this.disposed) throw new BtError('ERR_ABORTED', 'tracker request aborted', { op: 'announce' });
    if (this.client && address === this.address && udp === this.udp) {
      this.resolvedAt = this.o.clock.now();
      return this.client;
    }
    this.client?.close();
    this.unregister?.();
    this.address = address;
    this.udp = udp;
    this.resolvedAt = this.o.clock.now();
    const port = this.port;
    const client = new UdpTrackerClient({
      clock: this.o.clock,
      random: this.o.random,
      ipv6: address.includes(':'),
      baseTimeoutMs: this.o.baseTimeoutMs,
      maxRetries: this.o.maxRetries,
      send: (pkt) => udp.send(pkt, address, port),
    });
    this.unregister = udp.addHandler((data, host, p) => {
      if (p !== port || host !== address) return false;
      // Only BEP 15 replies (action 0..3) to one of this client's transactions; other torrents' clients for the same
      // tracker, uTP and the DHT get the rest.
      if (data.length < 8 || data[0] !== 0 || data[1] !== 0 || data[2] !== 0 || data[3]! > 3) return false;
      return client.handlePacket(data);
    });
    this.client = client;
    return client;
  }
}

/** udp://host:port[/path[?query]] → parts; the path and query travel as BEP 41 URL data. */
export function parseUdpUrl(url: string): { host: string; port: number; urlData: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BtError('ERR_TRACKER', `not a URL: ${url}`, { op: 'parse' });
  }
  if (u.protocol !== 'udp:') throw new BtError('ERR_TRACKER', `not a udp:// URL: ${url}`, { op: 'parse' });
  const port = Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BtError('ERR_TRACKER', `UDP tracker URL needs a port: ${url}`, { op: 'parse' });
  }
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const path = u.pathname === '/' ? '' : u.pathname;
  return { host, port, urlData: path + u.search };
}
