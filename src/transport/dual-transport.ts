/**
 * TCP and uTP behind one Transport (libtorrent-style): outgoing connections try the preferred kind first and
 * fall back to the other when the peer does not answer; incoming connections come from both (the engine
 * listens on each). The uTP side exists only once the engine's shared UDP socket is open, so it is looked up
 * at each dial.
 */
import { BtError } from '../core/index.js';
import type { Connection, DialOptions, Listener, Transport } from './types.js';

export type TransportChoice = 'tcp' | 'utp';

export interface DualTransportOptions {
  tcp: Transport | undefined;
  utp: () => Transport | undefined;
  /** Tried first for outgoing connections. */
  prefer: TransportChoice;
  /** Bound on the first attempt when a fallback exists, so an unanswered uTP SYN does not cost the whole timeout. */
  firstAttemptTimeoutMs: number;
}

export class DualTransport implements Transport {
  readonly kind = 'tcp' as const;
  constructor(private readonly o: DualTransportOptions) {}

  private order(): Transport[] {
    const utp = this.o.utp();
    const list = this.o.prefer === 'utp' ? [utp, this.o.tcp] : [this.o.tcp, utp];
    return list.filter((t): t is Transport => t !== undefined);
  }

  async dial(host: string, port: number, opts: DialOptions = {}): Promise<Connection> {
    const order = this.order();
    if (order.length === 0) throw new BtError('ERR_STATE', 'no transport enabled (TCP off, uTP not open)', { op: 'connect' });
    const errors: string[] = [];
    for (let i = 0; i < order.length; i++) {
      const t = order[i]!;
      const last = i === order.length - 1;
      const timeoutMs = last ? opts.timeoutMs : Math.min(opts.timeoutMs ?? this.o.firstAttemptTimeoutMs, this.o.firstAttemptTimeoutMs);
      try {
        return await t.dial(host, port, { ...opts, timeoutMs });
      } catch (e) {
        errors.push(`${t.kind}: ${(e as Error).message}`);
        if (opts.signal?.aborted || last) break;
      }
    }
    throw new BtError('ERR_CONNECT', `could not connect to ${host}:${port} (${errors.join('; ')})`, { op: 'connect' });
  }

  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener> {
    if (!this.o.tcp) return Promise.reject(new BtError('ERR_LISTEN', 'TCP is disabled', { op: 'listen' }));
    return this.o.tcp.listen(host, port, onConnection);
  }
}
