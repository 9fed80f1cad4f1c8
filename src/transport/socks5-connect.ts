/**
 * SOCKS5 over node:net: open a TCP connection to a proxy and CONNECT through it (the handshake is socks5.ts's), for
 * peer connections (TcpTransport) and HTTP(S) trackers and web seeds (Socks5Agent).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { BtError } from '../core/index.js';
import { Socks5Client, type Socks5Credentials } from './socks5.js';

/** A SOCKS5 proxy for outgoing connections. */
export interface TcpProxy {
  host: string;
  port: number;
  credentials?: Socks5Credentials;
}

export interface Socks5Connected {
  socket: net.Socket;
  /** Bytes that came with the proxy's reply: the start of the tunnelled stream. */
  early: Uint8Array;
}

/**
 * Connect to `host:port` through `proxy`. The socket is paused when it resolves (nothing is lost before the caller
 * attaches its reader); `timeoutMs` bounds proxy connect + handshake.
 */
export function socks5Connect(
  proxy: TcpProxy,
  host: string,
  port: number,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Socks5Connected> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new BtError('ERR_ABORTED', 'dial aborted', { op: 'connect' }));
    let client: Socks5Client;
    try {
      client = new Socks5Client({ host, port }, proxy.credentials);
    } catch (e) {
      return reject(e);
    }
    const sock = net.connect({ host: proxy.host, port: proxy.port });
    let done = false;
    const finish = (err?: Error, early?: Uint8Array): void => {
      if (done) return;
      done = true;
      opts.signal?.removeEventListener('abort', onAbort);
      sock.setTimeout(0);
      sock.off('timeout', onTimeout);
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      if (err) {
        sock.destroy();
        reject(err);
      } else resolve({ socket: sock, early: early ?? new Uint8Array(0) });
    };
    const onData = (chunk: Buffer): void => {
      try {
        const step = client.receive(chunk);
        if ('send' in step) sock.write(step.send);
        else if ('connected' in step) {
          sock.pause();
          finish(undefined, step.leftover);
        }
      } catch (e) {
        finish(e as Error);
      }
    };
    const onAbort = (): void => finish(new BtError('ERR_ABORTED', 'dial aborted', { op: 'connect' }));
    const onError = (e: Error): void =>
      finish(new BtError('ERR_PROXY', `SOCKS5 proxy ${proxy.host}:${proxy.port}: ${e.message}`, { op: 'connect', cause: e }));
    const onClose = (): void => finish(new BtError('ERR_PROXY', `SOCKS5 proxy ${proxy.host}:${proxy.port} closed the connection`, { op: 'connect' }));
    const onTimeout = (): void => finish(new BtError('ERR_TIMEOUT', `connect to ${host}:${port} through the proxy timed out`, { op: 'connect' }));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs) sock.setTimeout(opts.timeoutMs, onTimeout);
    sock.on('error', onError);
    sock.on('close', onClose);
    sock.on('data', onData);
    sock.once('connect', () => sock.write(client.start()));
  });
}

/** An http(s).Agent whose connections go through a SOCKS5 proxy (TLS on top for https). One connection per request. */
export function socks5Agent(proxy: TcpProxy, secure: boolean): http.Agent {
  const Base = secure ? https.Agent : http.Agent;
  class Socks5Agent extends Base {
    override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): undefined {
      const cb = (err: Error | null, s?: Duplex): void => callback?.(err, s as Duplex);
      const host = String(options.host ?? options.hostname ?? 'localhost');
      const port = Number(options.port ?? (secure ? 443 : 80));
      const tlsOpts = options as http.ClientRequestArgs & tls.ConnectionOptions;
      socks5Connect(proxy, host, port, { timeoutMs: 30_000 }).then(
        ({ socket }) => {
          socket.resume();
          if (!secure) return cb(null, socket);
          const t = tls.connect({ ...tlsOpts, socket, servername: tlsOpts.servername ?? (net.isIP(host) ? undefined : host) });
          t.once('secureConnect', () => cb(null, t));
          t.once('error', (e) => cb(e));
        },
        (e: Error) => cb(e),
      );
      return undefined;
    }
  }
  return new Socks5Agent({ keepAlive: false });
}
