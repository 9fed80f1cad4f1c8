/** MemoryTransport: dial / listen over an in-process registry of "host:port" listeners. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryNetwork, MemoryTransport } from '../../../src/transport/index.js';
import type { Connection } from '../../../src/transport/index.js';
import { isBtError } from '../../../src/core/errors.js';

function collect(c: Connection): { data: Uint8Array[]; closed: Promise<void> } {
  const data: Uint8Array[] = [];
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  c.setHandlers({ onData: (d) => data.push(d), onDrain: () => {}, onClose: () => done() });
  return { data, closed };
}

test('dial reaches the listener at host:port; bytes flow both ways; addresses are the two sides', async () => {
  const net = new MemoryNetwork();
  const server = new MemoryTransport(net, '10.0.0.1');
  const client = new MemoryTransport(net, '10.0.0.2');
  const accepted: Connection[] = [];
  const l = await server.listen('10.0.0.1', 0, (c) => accepted.push(c));
  assert.ok(l.port > 0);
  const a = await client.dial('10.0.0.1', l.port);
  await new Promise((r) => setImmediate(r));
  assert.equal(accepted.length, 1);
  const b = accepted[0]!;
  assert.equal(a.kind, 'memory');
  assert.equal(a.outgoing, true);
  assert.equal(b.outgoing, false);
  assert.equal(a.remoteAddress, '10.0.0.1');
  assert.equal(a.remotePort, l.port);
  assert.equal(b.remoteAddress, '10.0.0.2');
  assert.equal(b.remotePort, a.localPort);
  assert.equal(b.localPort, l.port);
  const ra = collect(a);
  const rb = collect(b);
  a.write(new Uint8Array([1, 2, 3]));
  b.write(new Uint8Array([4]));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(rb.data, [new Uint8Array([1, 2, 3])]);
  assert.deepEqual(ra.data, [new Uint8Array([4])]);
  a.close();
  await Promise.all([ra.closed, rb.closed]);
  assert.equal(b.closed, true);
  await l.close();
});

test('refused: nobody listening, a closed listener, another host; a wildcard listener answers for any host', async () => {
  const net = new MemoryNetwork();
  const t = new MemoryTransport(net);
  const refused = async (host: string, port: number): Promise<void> => {
    await assert.rejects(t.dial(host, port), (e: unknown) => isBtError(e) && e.code === 'ERR_CONNECT');
  };
  await refused('127.0.0.1', 6881);
  const l = await t.listen('127.0.0.1', 6881, () => {});
  await t.dial('127.0.0.1', 6881);
  await refused('127.0.0.2', 6881);
  await l.close();
  await refused('127.0.0.1', 6881);
  const any = await t.listen('0.0.0.0', 7000, () => {});
  await t.dial('192.168.1.9', 7000);
  await any.close();
});

test('a taken address cannot be listened on again; port 0 gives distinct ports; an aborted dial rejects', async () => {
  const net = new MemoryNetwork();
  const t = new MemoryTransport(net);
  const l = await t.listen('127.0.0.1', 6881, () => {});
  await assert.rejects(t.listen('127.0.0.1', 6881, () => {}), (e: unknown) => isBtError(e) && e.code === 'ERR_LISTEN');
  const x = await t.listen('127.0.0.1', 0, () => {});
  const y = await t.listen('127.0.0.1', 0, () => {});
  assert.notEqual(x.port, y.port);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(t.dial('127.0.0.1', 6881, { signal: ac.signal }), (e: unknown) => isBtError(e) && e.code === 'ERR_ABORTED');
  await Promise.all([l.close(), x.close(), y.close()]);
});
