/**
 * UtpTransport over real UDP on 127.0.0.1 (NodeUdpMux): dial / listen like TCP, backpressure with
 * write() === false + onDrain, a bulk transfer both ways, orderly close, refused and aborted dials,
 * and sharing the UDP port with another handler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeClock } from '../../../src/core/node-clock.js';
import { NodeRandom } from '../../../src/core/node-random.js';
import { isBtError } from '../../../src/core/errors.js';
import type { Connection } from '../../../src/transport/types.js';
import { NodeUdpMux } from '../../../src/transport/udp/udp-mux.js';
import { UtpTransport, type UtpTransportOptions } from '../../../src/transport/utp/index.js';

async function node(o: Partial<UtpTransportOptions> = {}) {
  const mux = new NodeUdpMux();
  await mux.bind([{ host: '127.0.0.1', port: 0 }]);
  const t = new UtpTransport(mux, { clock: new NodeClock(), random: new NodeRandom(), ...o });
  return { mux, t, close: async () => (t.close(), await mux.close()) };
}

function pattern(n: number, k: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((Math.imul(i + k, 2654435761) >>> 0), i);
  return b;
}

/** Write `data` in 16 KiB pieces honouring backpressure; collect what arrives; resolve when `expect` bytes came. */
function exchange(c: Connection, data: Buffer, expect: number) {
  const got: Buffer[] = [];
  let n = 0;
  let sent = 0;
  let falses = 0;
  let drains = 0;
  let closed: { err: Error | undefined } | undefined;
  const pump = () => {
    while (sent < data.length) {
      const ok = c.write(data.subarray(sent, sent + 16384));
      sent += 16384;
      if (!ok) {
        falses++;
        return;
      }
    }
  };
  const done = new Promise<void>((resolve) => {
    c.setHandlers({
      onData: (d) => {
        got.push(Buffer.from(d));
        n += d.length;
        if (n >= expect) resolve();
      },
      onDrain: () => (drains++, pump()),
      onClose: (err) => (closed = { err }),
    });
    if (expect === 0) resolve();
  });
  pump();
  return { done, bytes: () => Buffer.concat(got), stats: () => ({ falses, drains }), closed: () => closed };
}

test('dial / listen over uTP on loopback: 32 MiB both ways with backpressure, then an orderly close', { timeout: 60_000 }, async () => {
  const A = await node();
  const B = await node();
  try {
    const size = 32 * 1024 * 1024;
    const da = pattern(size, 1);
    const db = pattern(size, 2);
    let xb: ReturnType<typeof exchange> | undefined;
    const accepted = new Promise<void>((res) => {
      void B.t.listen('127.0.0.1', B.mux.port, (c) => {
        assert.equal(c.kind, 'utp');
        assert.equal(c.outgoing, false);
        xb = exchange(c, db, size);
        res();
      });
    });
    const t0 = performance.now();
    const ca = await A.t.dial('127.0.0.1', B.mux.port);
    assert.equal(ca.kind, 'utp');
    assert.equal(ca.remotePort, B.mux.port);
    assert.equal(ca.localPort, A.mux.port);
    const xa = exchange(ca, da, size);
    await accepted;
    await Promise.all([xa.done, xb!.done]);
    const ms = performance.now() - t0;
    assert.ok(xa.bytes().equals(db), 'A got B\'s bytes');
    assert.ok(xb!.bytes().equals(da), 'B got A\'s bytes');
    assert.ok(xa.stats().falses > 0 && xa.stats().drains > 0, 'write() pushed back and onDrain resumed it');
    console.log(`# loopback uTP (1400-byte packets): 2 x 32 MiB in ${ms.toFixed(0)} ms = ${((2 * size) / 1048576 / (ms / 1000)).toFixed(1)} MiB/s`);
    ca.close(true);
    const t1 = Date.now();
    while ((!xa.closed() || !xb!.closed()) && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(xa.closed(), { err: undefined });
    assert.deepEqual(xb!.closed(), { err: undefined });
    assert.equal(A.t.socket.connectionCount, 0);
  } finally {
    await A.close();
    await B.close();
  }
});

test('loopbackPacketSize: large datagrams between torrentkit nodes (throughput)', { timeout: 60_000 }, async () => {
  const A = await node({ socket: { loopbackPacketSize: 32 * 1024 } });
  const B = await node({ socket: { loopbackPacketSize: 32 * 1024 } });
  try {
    const size = 128 * 1024 * 1024;
    const data = pattern(size, 3);
    let xb: ReturnType<typeof exchange> | undefined;
    const accepted = new Promise<void>((res) => void B.t.listen('127.0.0.1', 0, (c) => ((xb = exchange(c, Buffer.alloc(0), size)), res())));
    const ca = await A.t.dial('127.0.0.1', B.mux.port);
    const t0 = performance.now();
    exchange(ca, data, 0);
    await accepted;
    await xb!.done;
    const ms = performance.now() - t0;
    assert.ok(xb!.bytes().equals(data));
    console.log(`# loopback uTP (32 KiB packets): 128 MiB one way in ${ms.toFixed(0)} ms = ${(size / 1048576 / (ms / 1000)).toFixed(1)} MiB/s`);
    ca.close(false);
  } finally {
    await A.close();
    await B.close();
  }
});

test('dial errors: nobody listening answers RESET (ERR_CONNECT); silence times out; abort rejects', { timeout: 30_000 }, async () => {
  const A = await node();
  const B = await node(); // bound, but not listening: it resets SYNs
  const silent = new NodeUdpMux();
  await silent.bind([{ host: '127.0.0.1', port: 0 }]);
  try {
    await assert.rejects(A.t.dial('127.0.0.1', B.mux.port), (e: unknown) => isBtError(e, 'ERR_CONNECT'));
    await assert.rejects(A.t.dial('127.0.0.1', silent.port, { timeoutMs: 1200 }), (e: unknown) => isBtError(e, 'ERR_TIMEOUT'));
    const ac = new AbortController();
    const p = A.t.dial('127.0.0.1', silent.port, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: unknown) => isBtError(e, 'ERR_ABORTED'));
    assert.equal(A.t.socket.connectionCount, 0);
  } finally {
    await A.close();
    await B.close();
    await silent.close();
  }
});

test('the UDP port is shared: datagrams uTP does not claim reach the next handler', { timeout: 10_000 }, async () => {
  const A = await node();
  const other: string[] = [];
  A.mux.addHandler((d) => (other.push(Buffer.from(d).toString()), true));
  const sender = new NodeUdpMux();
  await sender.bind([{ host: '127.0.0.1', port: 0 }]);
  try {
    sender.send(Buffer.from('d1:y1:qe'), '127.0.0.1', A.mux.port);
    const t0 = Date.now();
    while (other.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(other, ['d1:y1:qe']);
  } finally {
    await A.close();
    await sender.close();
  }
});
