/**
 * MemoryTransport: the Transport interface in one process, for tests and simulations. Listeners register as
 * "host:port" in a MemoryNetwork (a registry); dial() finds the listener and connects the two ends with
 * memoryPair. A listener on 0.0.0.0 or :: answers for any host on its port. Nothing touches a socket.
 */
import { BtError } from '../../core/index.js';
import type { Connection, DialOptions, Listener, Transport } from '../types.js';
import { memoryPair } from './memory-transport.js';

type Accept = (c: Connection) => void;

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The registry of listeners, and the port numbers handed out (ephemeral ports from 40000). */
export class MemoryNetwork {
  private readonly listeners = new Map<string, Accept>();
  /** Listeners per port number. */
  private readonly ports = new Map<number, number>();
  private nextPort = 40_000;

  /** A port no listener of this network uses (dialers' ports come from here too). */
  freePort(): number {
    for (;;) {
      const p = this.nextPort++;
      if (this.nextPort > 65_535) this.nextPort = 40_000;
      if (!this.ports.has(p)) return p;
    }
  }

  /** Register `accept` at host:port (port 0: a free one); throws when the address is taken. */
  listen(host: string, port: number, accept: Accept): number {
    const p = port === 0 ? this.freePort() : port;
    const k = key(host, p);
    if (this.listeners.has(k)) throw new BtError('ERR_LISTEN', `${k} is in use`, { op: 'listen' });
    this.listeners.set(k, accept);
    this.ports.set(p, (this.ports.get(p) ?? 0) + 1);
    return p;
  }

  unlisten(host: string, port: number, accept: Accept): void {
    const k = key(host, port);
    if (this.listeners.get(k) !== accept) return;
    this.listeners.delete(k);
    const n = (this.ports.get(port) ?? 1) - 1;
    if (n > 0) this.ports.set(port, n);
    else this.ports.delete(port);
  }

  /** The listener for host:port: an exact one, else a wildcard one on that port. */
  find(host: string, port: number): Accept | undefined {
    return this.listeners.get(key(host, port)) ?? this.listeners.get(key('0.0.0.0', port)) ?? this.listeners.get(key('::', port));
  }
}

function key(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The network every MemoryTransport uses unless given its own. */
export const defaultMemoryNetwork = new MemoryNetwork();

export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;

  /** `host`: the address this side's connections come from (what the acceptor sees as remoteAddress). */
  constructor(
    readonly network: MemoryNetwork = defaultMemoryNetwork,
    readonly host = '127.0.0.1',
  ) {}

  dial(host: string, port: number, opts: DialOptions = {}): Promise<Connection> {
    if (opts.signal?.aborted) return Promise.reject(new BtError('ERR_ABORTED', 'dial aborted', { op: 'connect' }));
    const accept = this.network.find(host, port);
    if (!accept) {
      return Promise.reject(new BtError('ERR_CONNECT', `connect to ${host}:${port} failed: connection refused`, { op: 'connect' }));
    }
    const [a, b] = memoryPair(this.network.freePort(), port, this.host, WILDCARDS.has(host) ? '127.0.0.1' : host);
    // The acceptor learns of the connection after the dialer has it, as with a socket.
    queueMicrotask(() => accept(b));
    return Promise.resolve(a);
  }

  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener> {
    try {
      const bound = this.network.listen(host, port, onConnection);
      const network = this.network;
      return Promise.resolve({
        host,
        port: bound,
        close: () => {
          network.unlisten(host, bound, onConnection);
          return Promise.resolve();
        },
      });
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }
}
