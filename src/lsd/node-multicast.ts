/**
 * BEP 14 LSD socket on node:dgram: bound to port 6771 with SO_REUSEADDR (libtorrent and other clients on
 * the host share it), joined to the LSD group on one interface, sending through that interface.
 *
 * `interfaceAddress` is required and pins both IP_MULTICAST_IF and the membership: tests pass 127.0.0.1
 * (inside the loopback-only namespace multicast then stays on lo; without it the send fails ENETUNREACH
 * and the membership ENODEV). For IPv6 it is a scoped address such as `::%lo` (Node's
 * setMulticastInterface format) and the membership uses the same.
 * On loopback our own announces come back to us: LsdService filters them by cookie.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { LSD_GROUP_V4, LSD_GROUP_V6, LSD_PORT } from './codec.js';
import type { LsdEndpoint, LsdSocket } from './service.js';

export interface NodeMulticastOptions {
  /** Interface to send from and join on (e.g. '127.0.0.1', or a LAN address; '::%lo' for IPv6). */
  interfaceAddress: string;
  ipv6?: boolean;
  /** Port to bind (default 6771, the LSD port: libtorrent also sends from it). */
  port?: number;
  /** Multicast TTL (default 1: the local link). */
  ttl?: number;
  /** Socket errors after start (they do not close the socket). */
  onError?: (e: Error) => void;
}

class NodeMulticastSocket implements LsdSocket {
  private receiver: ((bytes: Uint8Array, from: LsdEndpoint) => void) | undefined;
  private closed = false;

  constructor(private readonly sock: Socket) {
    sock.on('message', (msg, rinfo) => {
      if (this.receiver === undefined) return;
      this.receiver(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { host: rinfo.address, port: rinfo.port });
    });
  }

  send(bytes: Uint8Array, host: string, port: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('LSD socket is closed'));
    return new Promise((resolve, reject) => {
      this.sock.send(bytes, port, host, (err) => (err ? reject(err) : resolve()));
    });
  }

  onMessage(cb: (bytes: Uint8Array, from: LsdEndpoint) => void): void {
    this.receiver = cb;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.receiver = undefined;
    return new Promise((resolve) => {
      try {
        this.sock.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** Open the LSD multicast socket. Rejects (and closes the socket) when bind or the membership fails. */
export async function createNodeMulticastSocket(opts: NodeMulticastOptions): Promise<LsdSocket> {
  if (typeof opts.interfaceAddress !== 'string' || opts.interfaceAddress.length === 0) {
    throw new TypeError('createNodeMulticastSocket: interfaceAddress is required (e.g. 127.0.0.1 in tests)');
  }
  const v6 = opts.ipv6 === true;
  const group = v6 ? LSD_GROUP_V6 : LSD_GROUP_V4;
  const sock = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      sock.once('error', onError);
      sock.bind({ port: opts.port ?? LSD_PORT, address: v6 ? '::' : '0.0.0.0', exclusive: false }, () => {
        sock.off('error', onError);
        resolve();
      });
    });
    sock.setMulticastInterface(opts.interfaceAddress);
    sock.addMembership(group, opts.interfaceAddress);
    sock.setMulticastTTL(opts.ttl ?? 1);
    sock.setMulticastLoopback(true);
  } catch (e) {
    try {
      sock.close();
    } catch {
      // already closed
    }
    throw e;
  }
  sock.on('error', (e) => opts.onError?.(e));
  return new NodeMulticastSocket(sock);
}
