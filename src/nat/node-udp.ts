/** node:dgram implementation of the NatUdpSocket seam (IPv4). */
import * as dgram from 'node:dgram';
import type { NatUdpFactory, NatUdpSocket, UdpRemote } from './types.js';

export const nodeNatUdp: NatUdpFactory = (opts) =>
  new Promise<NatUdpSocket>((resolve, reject) => {
    const sock = dgram.createSocket({ type: 'udp4' });
    const listeners: ((bytes: Uint8Array, from: UdpRemote) => void)[] = [];
    let closed = false;
    const onError = (e: Error): void => {
      if (!closed) {
        closed = true;
        sock.close();
      }
      reject(e);
    };
    sock.once('error', onError);
    sock.on('message', (msg, rinfo) => {
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      for (const fn of listeners) fn(bytes, { address: rinfo.address, port: rinfo.port });
    });
    sock.bind({ port: 0, address: opts.bindAddress }, () => {
      try {
        if (opts.multicastInterface) sock.setMulticastInterface(opts.multicastInterface);
        if (opts.multicastTtl !== undefined) sock.setMulticastTTL(opts.multicastTtl);
      } catch (e) {
        onError(e as Error);
        return;
      }
      const ready = (): void => {
        sock.off('error', onError);
        // Later errors (e.g. ICMP port unreachable on a connected socket) must not crash the process.
        sock.on('error', () => undefined);
        resolve({
          send: (bytes, port, address) =>
            new Promise<void>((res, rej) => {
              if (closed) return rej(new Error('socket closed'));
              const cb = (err: Error | null): void => (err ? rej(err) : res());
              if (opts.connect) sock.send(bytes, cb);
              else sock.send(bytes, port, address, cb);
            }),
          onMessage: (fn) => {
            listeners.push(fn);
          },
          localAddress: () => {
            try {
              return sock.address().address;
            } catch {
              return '0.0.0.0';
            }
          },
          close: () => {
            if (closed) return;
            closed = true;
            listeners.length = 0;
            sock.close();
          },
        });
      };
      if (opts.connect) sock.connect(opts.connect.port, opts.connect.address, ready);
      else ready();
    });
  });
