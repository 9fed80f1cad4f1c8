/**
 * The engine's shared UDP port, as libtorrent shares one: UDP tracker replies, uTP and the DHT all arrive on
 * it. `UdpMux` is what protocol code sees (send + handlers that claim the datagrams they understand);
 * `NodeUdpMux` is the node:dgram adapter with one socket per address family.
 */
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import { BtError } from '../../core/index.js';

/** Returns true when it consumed the datagram; handlers are asked in registration order. */
export type UdpHandler = (data: Uint8Array, host: string, port: number) => boolean;

export interface UdpMux {
  /** Fire and forget; errors (no route, buffer full) are counted, never thrown. */
  send(data: Uint8Array, host: string, port: number): void;
  addHandler(h: UdpHandler): () => void;
  /**
   * Optional: `h` runs once after each batch of datagrams (every datagram the event loop had waiting has been
   * offered to the handlers), so a protocol can do per-batch work once (deliver, acknowledge) instead of per
   * datagram.
   */
  addBatchEndHandler?(h: () => void): () => void;
  /** Local port of the IPv4 socket (or the IPv6 one when there is no IPv4 socket); 0 when closed. */
  readonly port: number;
}

export interface UdpMuxStats {
  received: number;
  unclaimed: number;
  sent: number;
  sendErrors: number;
}

export function normalizeUdpAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class NodeUdpMux implements UdpMux {
  private readonly handlers: UdpHandler[] = [];
  private readonly batchEndHandlers: (() => void)[] = [];
  private batchScheduled = false;
  private v4: dgram.Socket | undefined;
  private v6: dgram.Socket | undefined;
  readonly stats: UdpMuxStats = { received: 0, unclaimed: 0, sent: 0, sendErrors: 0 };
  /** Called with the first few send errors (a warning), then silently counted. */
  onError: ((err: Error) => void) | undefined;

  /**
   * Bind one socket per endpoint ("0.0.0.0:6881", "[::]:6881"); port 0 picks one (the IPv6 socket then takes the
   * IPv4 socket's port when it can). Endpoints that fail to bind are skipped; at least one must succeed.
   */
  async bind(endpoints: readonly { host: string; port: number }[]): Promise<void> {
    const errors: string[] = [];
    for (const ep of endpoints) {
      const v6 = ep.host.includes(':');
      if ((v6 && this.v6) || (!v6 && this.v4)) continue;
      const port = ep.port === 0 && this.port !== 0 ? this.port : ep.port;
      try {
        const s = await bindSocket(v6 ? 'udp6' : 'udp4', ep.host, port).catch((e: unknown) =>
          port !== ep.port ? bindSocket(v6 ? 'udp6' : 'udp4', ep.host, ep.port) : Promise.reject(e),
        );
        s.on('message', (msg, rinfo) => this.dispatch(msg, rinfo));
        s.on('error', (e) => this.reportError(e));
        if (v6) this.v6 = s;
        else this.v4 = s;
      } catch (e) {
        errors.push(`${ep.host}:${ep.port}: ${(e as Error).message}`);
      }
    }
    if (!this.v4 && !this.v6) {
      throw new BtError('ERR_LISTEN', `cannot bind a UDP socket (${errors.join('; ') || 'no endpoints'})`, { op: 'listen' });
    }
  }

  /** Which address families have a socket. */
  get families(): { v4: boolean; v6: boolean } {
    return { v4: this.v4 !== undefined, v6: this.v6 !== undefined };
  }

  get port(): number {
    const s = this.v4 ?? this.v6;
    if (!s) return 0;
    try {
      return s.address().port;
    } catch {
      return 0;
    }
  }

  addHandler(h: UdpHandler): () => void {
    this.handlers.push(h);
    return () => {
      const i = this.handlers.indexOf(h);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  addBatchEndHandler(h: () => void): () => void {
    this.batchEndHandlers.push(h);
    return () => {
      const i = this.batchEndHandlers.indexOf(h);
      if (i >= 0) this.batchEndHandlers.splice(i, 1);
    };
  }

  send(data: Uint8Array, host: string, port: number): void {
    const s = host.includes(':') ? this.v6 : this.v4;
    if (!s) {
      this.stats.sendErrors++;
      return;
    }
    this.stats.sent++;
    s.send(data, port, host, this.afterSend);
  }

  /** One completion callback for every send (no closure per datagram). */
  private readonly afterSend = (err: Error | null): void => {
    if (err) this.reportError(err);
  };

  close(): Promise<void> {
    const all = [this.v4, this.v6].filter((s): s is dgram.Socket => s !== undefined);
    this.v4 = this.v6 = undefined;
    this.handlers.length = 0;
    this.batchEndHandlers.length = 0;
    return Promise.all(all.map((s) => new Promise<void>((res) => s.close(() => res())))).then(() => undefined);
  }

  private dispatch(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.stats.received++;
    if (!this.batchScheduled && this.batchEndHandlers.length > 0) {
      // setImmediate runs after the poll phase, i.e. once libuv has read every datagram that was waiting.
      this.batchScheduled = true;
      setImmediate(this.endBatch);
    }
    const address = rinfo.address;
    const host = address.charCodeAt(0) === 58 /* ':' */ ? normalizeUdpAddress(address) : address;
    const data: Uint8Array = msg; // a Buffer is a Uint8Array: no second view per datagram
    for (const h of this.handlers) {
      try {
        if (h(data, host, rinfo.port)) return;
      } catch (e) {
        this.reportError(e as Error);
        return;
      }
    }
    this.stats.unclaimed++;
  }

  private readonly endBatch = (): void => {
    this.batchScheduled = false;
    for (const h of this.batchEndHandlers) {
      try {
        h();
      } catch (e) {
        this.reportError(e as Error);
      }
    }
  };

  private reportError(e: Error): void {
    this.stats.sendErrors++;
    if (this.stats.sendErrors <= 5) this.onError?.(e);
  }
}

/** Requested SO_RCVBUF / SO_SNDBUF for the shared UDP socket (bytes). */
const UDP_RECV_BUFFER = 4 * 1024 * 1024;
const UDP_SEND_BUFFER = 1024 * 1024;

/**
 * dgram resolves the host of every send() through dns.lookup, which answers an IP literal on the next tick. We only
 * ever send to literals (peers, DHT nodes and trackers are resolved before they get here), so answer at once and
 * save a tick per datagram; anything else still goes to dns.lookup.
 */
function literalLookup(host: string, family: unknown, cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const fam = isIP(host);
  if (fam !== 0) cb(null, host, fam);
  else dns.lookup(host, family as number, cb);
}

function bindSocket(type: 'udp4' | 'udp6', host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type, ipv6Only: type === 'udp6', lookup: literalLookup });
    const onErr = (e: Error): void => {
      s.close();
      reject(e);
    };
    s.once('error', onErr);
    s.bind(port, host, () => {
      s.off('error', onErr);
      // uTP peers (libtorrent) keep hundreds of ~1.5 KB datagrams in flight; the 208 KiB default receive buffer
      // overflows while the event loop is busy and every drop costs the sender a retransmission (or a 500 ms
      // timeout). The kernel caps these at net.core.rmem_max / wmem_max.
      try {
        s.setRecvBufferSize(UDP_RECV_BUFFER);
        s.setSendBufferSize(UDP_SEND_BUFFER);
      } catch {
        // not fatal: the defaults work, only slower under load
      }
      resolve(s);
    });
  });
}
