/** MSE/PE over a Connection: negotiation helpers and the encrypting wrapper on the in-memory transport pair. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BtError, FakeClock, SeededRandom } from '../../../src/core/index.js';
import { memoryPair } from '../../../src/transport/memory/memory-transport.js';
import type { Connection } from '../../../src/transport/types.js';
import {
  MSE_PREFER_PLAINTEXT,
  MSE_PREFER_RC4,
  SkeyIndex,
  classifyFirstBytes,
  detectIncoming,
  looksLikePlaintextHandshake,
  mseIncoming,
  mseOutgoing,
} from '../../../src/mse/index.js';
import type { MsePolicy } from '../../../src/mse/index.js';
import { ih } from './helpers.js';

const BT_HANDSHAKE = Uint8Array.from('\x13BitTorrent protocol' + '\0'.repeat(8) + 'I'.repeat(20) + 'P'.repeat(20), (c) => c.charCodeAt(0));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Record what one end writes on the wire. */
function tap(c: Connection): Uint8Array[] {
  const seen: Uint8Array[] = [];
  const write = c.write.bind(c);
  c.write = (d: Uint8Array) => (seen.push(d.slice()), write(d));
  return seen;
}

/** Collect everything a connection delivers; resolves once `n` bytes arrived. */
function collect(c: Connection, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    c.setHandlers({
      onData: (d) => {
        parts.push(d.slice());
        got += d.length;
        if (got >= n) resolve(new Uint8Array(Buffer.concat(parts)));
      },
      onDrain: () => {},
      onClose: (e) => (got < n ? reject(e ?? new Error(`closed after ${got} of ${n} bytes`)) : undefined),
    });
  });
}

/** Write `data` in random-sized chunks (including odd alignments via subarray). */
function writeChunked(c: Connection, data: Uint8Array, rnd: SeededRandom): void {
  for (let o = 0; o < data.length; ) {
    const n = Math.min(data.length - o, 1 + rnd.int(20_000));
    c.write(data.subarray(o, o + n));
    o += n;
  }
}

async function negotiate(initPolicy: MsePolicy, recvPolicy: MsePolicy) {
  const [a, b] = memoryPair();
  const wireA = tap(a);
  const wireB = tap(b);
  const clock = new FakeClock();
  const common = { clock, timeoutMs: 30_000 };
  const [out, inc] = await Promise.all([
    mseOutgoing(a, { ...common, infoHash: ih(2), policy: initPolicy, random: new SeededRandom(1), initialPayload: BT_HANDSHAKE }),
    mseIncoming(b, { ...common, resolveSkey: new SkeyIndex([ih(1), ih(2), ih(3)]).resolve, policy: recvPolicy, random: new SeededRandom(2) }),
  ]);
  assert.equal(clock.pending(), 0, 'handshake timers are cancelled');
  return { out, inc, wireA, wireB, a, b };
}

for (const [initPolicy, recvPolicy, method] of [
  [MSE_PREFER_RC4, MSE_PREFER_RC4, 'rc4'],
  [MSE_PREFER_RC4, MSE_PREFER_PLAINTEXT, 'plaintext'],
] as const) {
  test(`negotiated ${method} connection carries 1 MiB each way byte-identical`, async () => {
    const { out, inc, wireA, wireB } = await negotiate(initPolicy, recvPolicy);
    assert.equal(out.method, method);
    assert.equal(inc.method, method);
    assert.deepEqual(inc.infoHash, ih(2));
    assert.deepEqual(inc.initialPayload, BT_HANDSHAKE);
    assert.equal(out.conn.kind, 'memory');
    assert.equal(out.conn.outgoing, true);
    assert.equal(inc.conn.outgoing, false);

    const rnd = new SeededRandom(8);
    const ab = rnd.bytes(1 << 20);
    const ba = rnd.bytes((1 << 20) + 13);
    const handshakeWritesA = wireA.length;
    const handshakeWritesB = wireB.length;
    const gotB = collect(inc.conn, ab.length);
    const gotA = collect(out.conn, ba.length);
    const abCopy = ab.slice();
    writeChunked(out.conn, ab, rnd);
    writeChunked(inc.conn, ba, rnd);
    assert.deepEqual(ab, abCopy, 'the caller’s buffers are not modified');
    assert.deepEqual(await gotB, ab);
    assert.deepEqual(await gotA, ba);

    const onWire = new Uint8Array(Buffer.concat(wireA.slice(handshakeWritesA)));
    assert.equal(onWire.length, ab.length);
    if (method === 'rc4') assert.notDeepEqual(onWire.subarray(0, 4096), ab.subarray(0, 4096));
    else assert.deepEqual(onWire, ab);
    assert.ok(Buffer.concat(wireB.slice(handshakeWritesB)).length === ba.length);
  });
}

test('payload the receiver sends right after its handshake reaches the initiator first and intact', async () => {
  const [a, b] = memoryPair();
  const clock = new FakeClock();
  const first = new SeededRandom(4).bytes(300);
  const outP = mseOutgoing(a, { clock, timeoutMs: 5000, infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1) });
  const inc = await mseIncoming(b, { clock, timeoutMs: 5000, resolveSkey: new SkeyIndex([ih(1)]).resolve, policy: MSE_PREFER_RC4, random: new SeededRandom(2) });
  // written before the initiator has even seen step 4: travels with it
  inc.conn.write(first);
  inc.conn.write(first.subarray(1, 2));
  const out = await outP;
  assert.deepEqual(await collect(out.conn, 301), new Uint8Array([...first, first[1]!]));
});

test('a stalled peer is dropped at timeoutMs (FakeClock), with ERR_TIMEOUT, and the connection closed', async () => {
  const [a, b] = memoryPair();
  const clock = new FakeClock();
  b.setHandlers({ onData: () => {}, onDrain: () => {}, onClose: () => {} }); // swallows Ya, never answers
  const p = mseOutgoing(a, { clock, timeoutMs: 10_000, infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1) });
  await tick();
  clock.advance(9_999);
  await tick();
  let settled = false;
  void p.then(() => (settled = true), () => (settled = true));
  await tick();
  assert.equal(settled, false);
  clock.advance(1);
  await assert.rejects(p, (e: unknown) => e instanceof BtError && e.code === 'ERR_TIMEOUT' && e.op === 'handshake');
  assert.ok(a.closed);
});

test('incoming: a peer that sends half a handshake then stalls times out', async () => {
  const [a, b] = memoryPair();
  const clock = new FakeClock();
  const p = mseIncoming(b, { clock, timeoutMs: 2000, resolveSkey: () => undefined, policy: MSE_PREFER_RC4, random: new SeededRandom(2) });
  a.setHandlers({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
  a.write(new SeededRandom(1).bytes(150)); // a Ya and part of a padding
  await tick();
  clock.advance(2000);
  await assert.rejects(p, (e: unknown) => e instanceof BtError && e.code === 'ERR_TIMEOUT');
  assert.ok(b.closed);
});

test('incoming: garbage is refused with ERR_MSE within the sync window, connection closed', async () => {
  const [a, b] = memoryPair();
  const clock = new FakeClock();
  const p = mseIncoming(b, { clock, timeoutMs: 2000, resolveSkey: () => undefined, policy: MSE_PREFER_RC4, random: new SeededRandom(2) });
  a.setHandlers({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
  a.write(new SeededRandom(1).bytes(96 + 512 + 20));
  await assert.rejects(p, (e: unknown) => e instanceof BtError && e.code === 'ERR_MSE');
  assert.ok(b.closed);
  assert.equal(clock.pending(), 0);
});

test('outgoing: a peer that hangs up mid-handshake gives ERR_CLOSED (caller may retry in plaintext)', async () => {
  const [a, b] = memoryPair();
  const clock = new FakeClock();
  b.setHandlers({ onData: () => b.close(), onDrain: () => {}, onClose: () => {} });
  const p = mseOutgoing(a, { clock, timeoutMs: 5000, infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1) });
  await assert.rejects(p, (e: unknown) => e instanceof BtError && e.code === 'ERR_CLOSED' && e.op === 'handshake');
  assert.equal(clock.pending(), 0);
});

test('abort signal ends the handshake with ERR_ABORTED', async () => {
  const [a] = memoryPair();
  const ac = new AbortController();
  const p = mseOutgoing(a, { clock: new FakeClock(), timeoutMs: 5000, signal: ac.signal, infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1) });
  ac.abort();
  await assert.rejects(p, (e: unknown) => e instanceof BtError && e.code === 'ERR_ABORTED');
  assert.ok(a.closed);
});

test('detector: plaintext handshake header vs anything else', () => {
  assert.equal(looksLikePlaintextHandshake(BT_HANDSHAKE), true);
  assert.equal(looksLikePlaintextHandshake(BT_HANDSHAKE.subarray(0, 20)), true);
  assert.equal(looksLikePlaintextHandshake(BT_HANDSHAKE.subarray(0, 19)), false);
  assert.equal(classifyFirstBytes(BT_HANDSHAKE.subarray(0, 19)), undefined, 'not decided yet');
  assert.equal(classifyFirstBytes(new Uint8Array(0)), undefined);
  assert.equal(classifyFirstBytes(new Uint8Array([19, 66, 0])), 'encrypted', 'decided at the first wrong byte');
  assert.equal(classifyFirstBytes(new SeededRandom(1).bytes(96)), 'encrypted');
  assert.equal(looksLikePlaintextHandshake(new SeededRandom(1).bytes(96)), false);
});

test('detectIncoming replays what it read: plaintext handshake, and MSE followed by mseIncoming', async () => {
  const clock = new FakeClock();
  {
    const [a, b] = memoryPair();
    for (const byte of BT_HANDSHAKE.subarray(0, 10)) a.write(new Uint8Array([byte])); // trickled
    a.write(BT_HANDSHAKE.subarray(10));
    const d = await detectIncoming(b, { clock, timeoutMs: 1000 });
    assert.equal(d.encrypted, false);
    assert.deepEqual(await collect(d.conn, 68), BT_HANDSHAKE);
  }
  {
    const [a, b] = memoryPair();
    const outP = mseOutgoing(a, { clock, timeoutMs: 1000, infoHash: ih(3), policy: MSE_PREFER_RC4, random: new SeededRandom(1), initialPayload: BT_HANDSHAKE });
    const d = await detectIncoming(b, { clock, timeoutMs: 1000 });
    assert.equal(d.encrypted, true);
    const inc = await mseIncoming(d.conn, { clock, timeoutMs: 1000, resolveSkey: new SkeyIndex([ih(3)]).resolve, policy: MSE_PREFER_RC4, random: new SeededRandom(2) });
    const out = await outP;
    assert.deepEqual(inc.initialPayload, BT_HANDSHAKE);
    const got = collect(out.conn, 5);
    inc.conn.write(new Uint8Array([1, 2, 3, 4, 5]));
    assert.deepEqual(await got, new Uint8Array([1, 2, 3, 4, 5]));
  }
  assert.equal(clock.pending(), 0);
});

test('wrapper: pause holds delivery, resume releases it in order; close is reported once after the data', async () => {
  const { out, inc } = await negotiate(MSE_PREFER_RC4, MSE_PREFER_RC4);
  const got: number[] = [];
  let closes = 0;
  inc.conn.setHandlers({ onData: (d) => got.push(...d), onDrain: () => {}, onClose: () => closes++ });
  inc.conn.pause();
  out.conn.write(new Uint8Array([1, 2, 3]));
  out.conn.write(new Uint8Array([4]));
  await tick();
  assert.deepEqual(got, []);
  inc.conn.resume();
  await tick();
  assert.deepEqual(got, [1, 2, 3, 4]);
  out.conn.close();
  await tick();
  await tick();
  assert.equal(closes, 1);
  assert.ok(inc.conn.closed);
  assert.equal(out.conn.write(new Uint8Array([9])), false);
});
