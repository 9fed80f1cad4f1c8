// Issue 14 item 6: more than 10 dials in flight raised MaxListenersExceededWarning, because every dial added an
// abort listener to one shared signal. Now each dial has a signal of its own, and every listener goes when its dial
// ends. 40 dials in flight against a server that accepts and never says a word (so each dial sits in its handshake).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { getEventListeners } from 'node:events';
import { NodeClock, NodeRandom, NullLogger } from '../../../src/core/index.js';
import { ConnectionManager } from '../../../src/peer/index.js';
import type { DialTarget, EncryptionType } from '../../../src/peer/index.js';
import { TcpTransport } from '../../../src/transport/index.js';
import type { Connection, DialOptions, Transport } from '../../../src/transport/index.js';

const DIALS = 40;

async function silentServer(): Promise<{ port: number; sockets: Set<net.Socket>; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

for (const encryption of [['plaintext'], ['rc4-full', 'plaintext']] as EncryptionType[][]) {
  test(`${DIALS} dials in flight (${encryption.join(', ')}): no MaxListenersExceededWarning, no listener left`, async () => {
    const srv = await silentServer();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const tcp = new TcpTransport();
    const signals: AbortSignal[] = [];
    const transport: Transport = {
      kind: 'tcp',
      dial: (host: string, port: number, opts?: DialOptions): Promise<Connection> => {
        if (opts?.signal) signals.push(opts.signal);
        return tcp.dial(host, port, opts);
      },
      listen: (h, p, cb) => tcp.listen(h, p, cb),
    };
    let candidates = DIALS;
    const failures: string[] = [];
    const target: DialTarget = {
      infoHash: new Uint8Array(20).fill(9),
      pieceCount: 16,
      get openSlots() {
        return candidates;
      },
      takeCandidate: () => (candidates-- > 0 ? { host: '127.0.0.1', port: srv.port } : undefined),
      dialFailed: (_h, _p, reason) => void failures.push(reason),
      attachPeer: () => assert.fail('nobody answers the handshake'),
    };
    const cm = new ConnectionManager({
      clock: new NodeClock(),
      random: new NodeRandom(),
      logger: new NullLogger(),
      transport,
      encryption,
      peerId: new Uint8Array(20).fill(1),
      reserved: new Uint8Array(8),
      maxHalfOpen: DIALS,
      connectTimeoutMs: 10_000,
      handshakeTimeoutMs: 60_000,
      maxMessageLength: () => 1 << 20,
      openConnections: () => 0,
      maxConnections: 1000,
    });
    try {
      cm.pump([target]);
      assert.equal(cm.pending, DIALS);
      // Wait until every dial is connected and sits in its handshake.
      for (let i = 0; i < 200 && srv.sockets.size < DIALS; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(srv.sockets.size, DIALS);
      await new Promise((r) => setTimeout(r, 50));
      const leakWarnings = (): string[] => warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message);
      assert.deepEqual(leakWarnings(), []);
      assert.equal(new Set(signals).size, signals.length, 'each dial has its own signal');
      for (const s of signals) assert.ok(getEventListeners(s, 'abort').length <= 2, 'a dial holds at most a couple of listeners');
      cm.dispose();
      for (let i = 0; i < 200 && cm.pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(cm.pending, 0);
      assert.equal(failures.length, DIALS);
      for (const s of signals) {
        assert.ok(s.aborted);
        assert.equal(getEventListeners(s, 'abort').length, 0, 'every listener removed when its dial ended');
      }
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(leakWarnings(), []);
    } finally {
      process.off('warning', onWarning);
      cm.dispose();
      await srv.close();
    }
  });
}
