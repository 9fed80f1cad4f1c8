// Issue 14 item 9: incoming connections in their handshake are bounded (in total and per address), the oldest is
// shed for a newcomer, and the whole incoming handshake (MSE included) has one deadline from the accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, NullLogger, SeededRandom } from '../../../src/core/index.js';
import { HalfOpenTable, ListenManager } from '../../../src/peer/index.js';
import type { DialTarget } from '../../../src/peer/index.js';
import { MemoryNetwork, MemoryTransport } from '../../../src/transport/index.js';
import type { Connection } from '../../../src/transport/index.js';
import { encodeHandshake } from '../../../src/wire/index.js';

const limits = { maxHalfOpen: 4, maxPerIp: 2, timeoutMs: 10_000 };

test('a newcomer when the table is full sheds the oldest, not itself', () => {
  const clock = new FakeClock();
  const t = new HalfOpenTable<string>(limits);
  for (const [i, ip] of ['a', 'b', 'c', 'd'].entries()) {
    assert.deepEqual(t.add(`10.0.0.${i}`, ip, clock.now()).shed, []);
    clock.advance(10);
  }
  assert.equal(t.size, 4);
  const r = t.add('10.0.0.9', 'e', clock.now());
  assert.deepEqual(r.shed, ['a']);
  assert.equal(t.size, 4);
  assert.equal(t.shedCount, 1);
  // A completed handshake leaves the table; the next newcomer then needs no room.
  assert.ok(t.remove(r.id));
  assert.ok(!t.remove(r.id));
  assert.deepEqual(t.add('10.0.0.8', 'f', clock.now()).shed, []);
  assert.deepEqual(t.clear().sort(), ['b', 'c', 'd', 'f']);
  assert.equal(t.size, 0);
});

test('per address: a newcomer over the limit sheds that address\'s oldest; others and established peers are not counted', () => {
  const clock = new FakeClock();
  const t = new HalfOpenTable<string>({ ...limits, maxHalfOpen: 100 });
  const a1 = t.add('1.1.1.1', 'a1', clock.now());
  t.add('2.2.2.2', 'b1', clock.now());
  t.add('1.1.1.1', 'a2', clock.now());
  assert.equal(t.countFor('1.1.1.1'), 2);
  assert.deepEqual(t.add('1.1.1.1', 'a3', clock.now()).shed, ['a1']);
  assert.ok(!t.remove(a1.id), 'already shed');
  assert.equal(t.countFor('1.1.1.1'), 2);
  assert.equal(t.countFor('2.2.2.2'), 1);
  // Handshakes that complete free their address's slots: 50 peers from one address, one after another, all fit.
  for (let i = 0; i < 50; i++) {
    const r = t.add('127.0.0.1', `p${i}`, clock.now());
    assert.deepEqual(r.shed, []);
    t.remove(r.id);
  }
  assert.equal(t.countFor('127.0.0.1'), 0);
});

test('entries expire at the timeout from their accept, oldest first; nextDeadline follows the oldest', () => {
  const clock = new FakeClock();
  const t = new HalfOpenTable<string>({ ...limits, maxPerIp: 10 });
  assert.equal(t.nextDeadline(), undefined);
  const t0 = clock.now();
  t.add('x', 'a', clock.now());
  clock.advance(3_000);
  const b = t.add('x', 'b', clock.now());
  clock.advance(3_000);
  t.add('x', 'c', clock.now());
  assert.equal(t.nextDeadline(), t0 + 10_000);
  assert.deepEqual(t.expire(t0 + 9_999), []);
  assert.deepEqual(t.expire(t0 + 10_000), ['a']);
  t.remove(b.id);
  assert.equal(t.nextDeadline(), t0 + 16_000);
  assert.deepEqual(t.expire(t0 + 20_000), ['c']);
  assert.equal(t.size, 0);
  assert.throws(() => new HalfOpenTable({ ...limits, maxPerIp: 0 }), /maxPerIp/);
});

test('slow loris: 1,500 idle connections from 50 addresses; real peers that handshake within a few arrivals all survive', () => {
  const clock = new FakeClock();
  const t = new HalfOpenTable<string>({ maxHalfOpen: 64, maxPerIp: 8, timeoutMs: 10_000 });
  const shed = new Set<string>();
  const real: { id: number; name: string; doneAt: number }[] = [];
  let realDone = 0;
  for (let i = 0; i < 1500; i++) {
    clock.advance(1);
    for (const s of t.add(`127.0.0.${(i % 50) + 1}`, `idle${i}`, clock.now()).shed) shed.add(s);
    if (i % 100 === 0) {
      // A real peer on the busiest address; its handshake completes 5 arrivals later.
      const r = t.add('127.0.0.1', `real${i}`, clock.now());
      for (const s of r.shed) shed.add(s);
      real.push({ id: r.id, name: `real${i}`, doneAt: i + 5 });
    }
    for (const p of real.filter((p) => p.doneAt === i)) {
      assert.ok(!shed.has(p.name), `${p.name} was shed before its handshake completed`);
      assert.ok(t.remove(p.id));
      realDone++;
    }
    assert.ok(t.size <= 64);
    assert.ok(t.countFor('127.0.0.1') <= 8);
  }
  assert.equal(realDone, 15);
  assert.ok(shed.size >= 1500 - 64);
});

// ---- ListenManager over memory connections, FakeClock --------------------------------------------------------

const infoHash = new Uint8Array(20).fill(5);

function setup(o: { maxHalfOpenIncoming?: number; maxIncomingPerIp?: number } = {}) {
  const clock = new FakeClock();
  const network = new MemoryNetwork();
  const attached: Connection[] = [];
  const target = {
    infoHash,
    pieceCount: 8,
    openSlots: 10,
    takeCandidate: () => undefined,
    dialFailed: () => {},
    attachPeer: (c: Connection) => void attached.push(c),
    acceptsPeer: () => true,
  } satisfies DialTarget & { acceptsPeer(): boolean };
  const lm = new ListenManager({
    clock,
    random: new SeededRandom(3),
    logger: new NullLogger(),
    transport: new MemoryTransport(network, '127.0.0.1'),
    encryption: ['rc4-full', 'rc4-header', 'plaintext'],
    resolveSkey: () => undefined,
    peerId: new Uint8Array(20).fill(1),
    reserved: new Uint8Array(8),
    handshakeTimeoutMs: 10_000,
    maxHalfOpenIncoming: o.maxHalfOpenIncoming ?? 64,
    maxIncomingPerIp: o.maxIncomingPerIp ?? 8,
    route: () => target,
    accepting: () => true,
  });
  const dial = async (from: string): Promise<Connection> => {
    const c = await new MemoryTransport(network, from).dial('127.0.0.1', 6881);
    c.setHandlers({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
    await new Promise((r) => setImmediate(r));
    return c;
  };
  return { clock, lm, attached, dial };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('ListenManager: 200 idle connections keep at most 64 open, a real peer after them is accepted, idle ones time out', async () => {
  const { clock, lm, attached, dial } = setup();
  await lm.start(['127.0.0.1:6881']);
  const idle: Connection[] = [];
  for (let i = 0; i < 200; i++) idle.push(await dial(`10.0.${i % 100}.1`));
  await tick();
  assert.equal(idle.filter((c) => !c.closed).length, 64);
  assert.equal(lm.halfOpenIncoming.count, 64);
  assert.equal(lm.halfOpenIncoming.shed, 136);
  assert.ok(idle.slice(0, 136).every((c) => c.closed), 'the oldest were shed');
  const real = await dial('127.0.0.1');
  real.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId: new Uint8Array(20).fill(2) }));
  await tick();
  await tick();
  assert.equal(attached.length, 1);
  assert.ok(!real.closed);
  assert.equal(lm.halfOpenIncoming.count, 63, 'the shed one made room; the real peer left the table');
  clock.advance(10_000);
  await tick();
  assert.ok(idle.every((c) => c.closed), 'every idle connection timed out');
  assert.equal(lm.halfOpenIncoming.count, 0);
  assert.ok(!real.closed, 'established peers are not timed out by the table');
  await lm.stop();
});

test('ListenManager: per address, the 9th connection from one address sheds its oldest', async () => {
  const { lm, dial } = setup();
  await lm.start(['127.0.0.1:6881']);
  const same: Connection[] = [];
  for (let i = 0; i < 9; i++) same.push(await dial('10.9.9.9'));
  const other = await dial('10.8.8.8');
  await tick();
  assert.ok(same[0]!.closed);
  assert.ok(same.slice(1).every((c) => !c.closed));
  assert.ok(!other.closed);
  await lm.stop();
  await tick();
  assert.ok(same.every((c) => c.closed) && other.closed, 'stop closes every half-open connection');
});

test('ListenManager: one deadline for the whole incoming handshake, MSE included (a trickle does not extend it)', async () => {
  const { clock, lm, dial } = setup();
  await lm.start(['127.0.0.1:6881']);
  const mse = await dial('10.1.1.1');
  // 96 bytes of a would-be DH key: an MSE start; then one byte a second.
  mse.write(new Uint8Array(96).fill(0xab));
  // Silent for 9 s, then the start of a plaintext handshake (which used to start a fresh 10 s handshake timer).
  const plain = await dial('10.1.1.2');
  const hs = encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId: new Uint8Array(20).fill(2) });
  for (let s = 0; s < 9; s++) {
    clock.advance(1_000);
    mse.write(new Uint8Array([s]));
    if (s === 8) plain.write(hs.subarray(0, 30));
    await tick();
  }
  assert.ok(!mse.closed && !plain.closed);
  clock.advance(1_000);
  await tick();
  assert.ok(mse.closed, 'MSE connection closed at the deadline');
  assert.ok(plain.closed, 'plaintext connection closed at the deadline');
  await lm.stop();
});
