/** TCP transport (BEP 3 over TCP): a thin node:net adapter behind the Connection interface. */
import * as net from 'node:net';
import { BtError } from '../../core/index.js';
import type { Connection, ConnectionHandlers, DialOptions, Listener, Transport } from '../types.js';
import { socks5Connect, type TcpProxy } from '../socks5-connect.js';

class TcpConnection implements Connection {
  readonly kind = 'tcp' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  private handlers: ConnectionHandlers | undefined;
  private early: Uint8Array[] = [];
  private isClosed = false;
  private closeErr: Error | undefined;
  private closeReported = false;

  constructor(
    private readonly sock: net.Socket,
    readonly outgoing: boolean,
    /** Through a proxy: the peer we asked for, and bytes that arrived with the proxy's reply. */
    via?: { host: string; port: number; early: Uint8Array },
  ) {
    this.remoteAddress = via ? normalizeAddress(via.host) : normalizeAddress(sock.remoteAddress ?? '');
    this.remotePort = via ? via.port : (sock.remotePort ?? 0);
    if (via && via.early.length > 0) this.early.push(via.early);
    this.localPort = sock.localPort ?? 0;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      if (this.handlers) this.handlers.onData(chunk);
      else this.early.push(chunk);
    });
    sock.on('drain', () => this.handlers?.onDrain());
    sock.on('error', (err) => {
      this.closeErr ??= err;
    });
    sock.on('close', () => {
      this.isClosed = true;
      this.reportClose();
    });
  }

  private reportClose(): void {
    if (this.closeReported || !this.handlers) return;
    this.closeReported = true;
    this.handlers.onClose(this.closeErr);
  }

  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
    const early = this.early;
    this.early = [];
    for (const c of early) h.onData(c);
    if (this.isClosed) this.reportClose();
  }

  write(data: Uint8Array): boolean {
    if (this.isClosed || this.sock.destroyed) return false;
    return this.sock.write(data);
  }

  get writableLength(): number {
    return this.sock.writableLength;
  }

  pause(): void {
    this.sock.pause();
  }

  resume(): void {
    this.sock.resume();
  }

  get closed(): boolean {
    return this.isClosed || this.sock.destroyed;
  }

  close(graceful = false): void {
    if (graceful) this.sock.end();
    else this.sock.destroy();
  }
}

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;

  /** With `proxy`, outgoing connections go through that SOCKS5 proxy (CONNECT); listening is unchanged. */
  constructor(private readonly proxy?: TcpProxy) {}

  dial(host: string, port: number, opts: DialOptions = {}): Promise<Connection> {
    if (this.proxy) return this.dialViaProxy(this.proxy, host, port, opts);
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new BtError('ERR_ABORTED', 'dial aborted', { op: 'connect' }));
        return;
      }
      const sock = net.connect({ host, port });
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        opts.signal?.removeEventListener('abort', onAbort);
        sock.setTimeout(0);
        sock.off('timeout', onTimeout);
        if (err) {
          sock.destroy();
          reject(err);
        } else {
          sock.off('error', onError);
          resolve(new TcpConnection(sock, true));
        }
      };
      const onAbort = (): void => finish(new BtError('ERR_ABORTED', 'dial aborted', { op: 'connect' }));
      const onError = (e: Error): void =>
        finish(new BtError('ERR_CONNECT', `connect to ${host}:${port} failed: ${e.message}`, { op: 'connect', cause: e }));
      const onTimeout = (): void => finish(new BtError('ERR_TIMEOUT', `connect to ${host}:${port} timed out`, { op: 'connect' }));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      // socket.setTimeout is node's own idle timer; using it keeps timers out of this adapter's API.
      if (opts.timeoutMs) sock.setTimeout(opts.timeoutMs, onTimeout);
      sock.once('error', onError);
      sock.once('connect', () => finish());
    });
  }

  /** Connect to the proxy, then CONNECT to host:port through it; the deadline covers both. */
  private async dialViaProxy(proxy: TcpProxy, host: string, port: number, opts: DialOptions): Promise<Connection> {
    const { socket, early } = await socks5Connect(proxy, host, port, opts);
    const c = new TcpConnection(socket, true, { host, port, early });
    socket.resume();
    return c;
  }

  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true }, (sock) => {
        sock.on('error', () => {});
        onConnection(new TcpConnection(sock, false));
      });
      server.once('error', (e) =>
        reject(new BtError('ERR_CONNECT', `cannot listen on ${host}:${port}: ${e.message}`, { op: 'listen', cause: e })),
      );
      server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
        const addr = server.address() as net.AddressInfo;
        server.on('error', () => {});
        resolve({
          host,
          port: addr.port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      });
    });
  }
}
