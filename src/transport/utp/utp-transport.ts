/**
 * uTP transport (BEP 29): the Transport interface over a shared UDP port (UdpMux), so the engine dials and
 * listens over uTP exactly like TCP. All protocol work is in UtpSocket / UtpConnection (pure); this file only
 * wires them to the mux and turns connection setup into promises.
 */
import type { Clock, Random } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import type { Connection, DialOptions, Listener, Transport } from '../types.js';
import type { UdpMux } from '../udp/udp-mux.js';
import type { UtpConnection } from './connection.js';
import { UtpSocket, type UtpConnectionSettings, type UtpSocketOptions } from './socket.js';

export interface UtpTransportOptions {
  clock: Clock;
  random: Random;
  connection?: UtpConnectionSettings;
  socket?: Partial<Omit<UtpSocketOptions, 'clock' | 'random' | 'send' | 'connection' | 'localPort'>>;
}

export class UtpTransport implements Transport {
  readonly kind = 'utp' as const;
  readonly socket: UtpSocket;
  private readonly removeHandler: () => void;
  private readonly removeBatchHandler: (() => void) | undefined;
  private listening = false;
  private disposed = false;

  constructor(private readonly mux: UdpMux, o: UtpTransportOptions) {
    const batched = mux.addBatchEndHandler !== undefined;
    this.socket = new UtpSocket({
      batched,
      ...o.socket,
      clock: o.clock,
      random: o.random,
      send: (d, host, port) => mux.send(d, host, port),
      localPort: () => mux.port,
      connection: o.connection,
    });
    this.removeHandler = mux.addHandler((data, host, port) => this.socket.handlePacket(data, host, port));
    this.removeBatchHandler = this.socket.batched ? mux.addBatchEndHandler?.(() => this.socket.endBatch()) : undefined;
  }

  dial(host: string, port: number, opts: DialOptions = {}): Promise<Connection> {
    if (this.disposed) return Promise.reject(new BtError('ERR_CLOSED', 'uTP transport is closed', { op: 'connect' }));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(new BtError('ERR_ABORTED', 'dial aborted', { op: 'connect' }));
    return new Promise<Connection>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        conn.close(false);
        reject(new BtError('ERR_ABORTED', 'dial aborted', { op: 'connect' }));
      };
      const settings: UtpConnectionSettings = opts.timeoutMs !== undefined ? { connectTimeoutMs: opts.timeoutMs } : {};
      const conn: UtpConnection = this.socket.connect(
        host,
        port,
        {
          onConnect: (c) => {
            if (settled) return;
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            resolve(c);
          },
          onFreed: (_c, err) => {
            if (settled) return;
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            const reason = err?.message ?? 'closed';
            const code = err && (err as BtError).code === 'ERR_TIMEOUT' ? 'ERR_TIMEOUT' : 'ERR_CONNECT';
            reject(new BtError(code, `uTP connect to ${host}:${port} failed: ${reason}`, { op: 'connect', cause: err }));
          },
        },
        settings,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Accept incoming uTP connections on the mux's port (the UDP socket is bound by whoever owns the mux). */
  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener> {
    if (this.disposed) return Promise.reject(new BtError('ERR_CLOSED', 'uTP transport is closed', { op: 'listen' }));
    if (this.listening) return Promise.reject(new BtError('ERR_LISTEN', 'uTP transport is already listening', { op: 'listen' }));
    const actual = this.mux.port;
    if (port !== 0 && actual !== 0 && port !== actual) {
      return Promise.reject(new BtError('ERR_LISTEN', `uTP listens on the shared UDP port ${actual}, not ${port}`, { op: 'listen' }));
    }
    this.listening = true;
    this.socket.onAccept = (c) => onConnection(c);
    return Promise.resolve({
      host,
      port: actual,
      close: () => {
        this.listening = false;
        this.socket.onAccept = undefined;
        return Promise.resolve();
      },
    });
  }

  /** Reset every connection and detach from the mux. */
  close(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.socket.onAccept = undefined;
    this.socket.close();
    this.removeHandler();
    this.removeBatchHandler?.();
  }
}
