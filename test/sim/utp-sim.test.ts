/**
 * uTP (BEP 29) under a deterministic virtual network (FakeClock + SeededRandom): bulk transfer both ways through
 * loss, reordering, duplication and delay; sequence-number wrap-around; LEDBAT backing off when queueing delay
 * rises; a dead peer timing out and freeing state; replay by seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isBtError } from '../../src/core/errors.js';
import { SimNet, patternBytes, type LinkProfile } from './utp-sim-net.js';
import { attach, newSide, transferBothWays } from './utp-transfer-helpers.js';

const MiB = 1024 * 1024;
const LOSSY = { delayMs: 50, loss: 0.05, dup: 0.02, reorder: 0.05, jitterMs: 30 };

function pair(seed: number, profile: LinkProfile = LOSSY, extra: Parameters<SimNet['addNode']>[4] = {}) {
  const net = new SimNet(seed);
  const a = net.addNode('10.0.0.1', 6881, seed * 3 + 1, {}, extra);
  const b = net.addNode('10.0.0.2', 6882, seed * 3 + 2, {}, extra);
  net.link(a.host, b.host, profile);
  net.link(b.host, a.host, profile);
  return { net, a, b };
}

test('16 MiB both ways over 5% loss, reordering, duplication and 50 ms delay arrive byte-identical; then an orderly close frees everything', () => {
  const { net, a, b } = pair(1);
  const t0 = performance.now();
  const r = transferBothWays(net, a, b, 16 * MiB, 1_800_000);
  const realMs = performance.now() - t0;
  assert.equal(r.a.received, 16 * MiB);
  assert.equal(r.b.received, 16 * MiB);
  assert.ok(net.stats.dropped > 1000 && net.stats.duplicated > 100 && net.stats.reordered > 1000, JSON.stringify(net.stats));
  const ca = r.a.conn!;
  assert.ok(ca.stats.retransmits > 0);
  // Graceful close from a: FIN both ways, both sides report an orderly close and release their state.
  ca.close(true);
  net.run(() => a.socket.connectionCount === 0 && b.socket.connectionCount === 0, 60_000);
  assert.equal(a.socket.connectionCount, 0);
  assert.equal(b.socket.connectionCount, 0);
  assert.equal(r.b.closed, true);
  assert.equal(r.b.closeErr, undefined);
  assert.equal(r.a.closed, true);
  assert.equal(r.a.closeErr, undefined);
  assert.equal(net.clock.pending(), 0, 'no timers left behind');
  const mbps = (2 * 16 * MiB) / MiB / (realMs / 1000);
  console.log(`# sim: 2 x 16 MiB in ${(r.virtualMs / 1000).toFixed(1)} virtual s, ${(realMs / 1000).toFixed(2)} real s (${mbps.toFixed(1)} MiB/s simulated), ${net.stats.delivered} datagrams, ${ca.stats.retransmits} + ${r.b.conn!.stats.retransmits} retransmits`);
});

test('sequence numbers wrap around mid-transfer (both directions) without loss of data', () => {
  const { net, a, b } = pair(2, LOSSY, { initialSeq: () => 0xffff - 300 });
  const r = transferBothWays(net, a, b, 2 * MiB, 600_000);
  for (const c of [r.a.conn!, r.b.conn!]) {
    // ~1,550 packets each way from 0xffff - 300: the 16-bit counter wrapped.
    assert.ok(c.nextSeq > 1000 && c.nextSeq < 0x8000, `next seq ${c.nextSeq} wrapped`);
  }
  assert.equal(r.a.received, 2 * MiB);
  assert.equal(r.b.received, 2 * MiB);
});

test('batched receive (one chunk and one ACK per datagram batch, as over NodeUdpMux): 4 MiB both ways over loss, reordering, duplication and wrap-around arrive byte-identical; orderly close', () => {
  const { net, a, b } = pair(5, LOSSY, { batched: true, initialSeq: () => 0xffff - 500 });
  const r = transferBothWays(net, a, b, 4 * MiB, 1_200_000);
  assert.equal(r.a.received, 4 * MiB);
  assert.equal(r.b.received, 4 * MiB);
  assert.ok(net.stats.dropped > 100 && net.stats.reordered > 100, JSON.stringify(net.stats));
  const ca = r.a.conn!;
  assert.ok(ca.nextSeq < 0x8000, 'sequence numbers wrapped');
  assert.ok(ca.stats.retransmits > 0);
  ca.close(true);
  net.run(() => a.socket.connectionCount === 0 && b.socket.connectionCount === 0, 60_000);
  assert.equal(a.socket.connectionCount, 0);
  assert.equal(b.socket.connectionCount, 0);
  assert.equal(r.a.closed, true);
  assert.equal(r.a.closeErr, undefined);
  assert.equal(r.b.closed, true);
  assert.equal(r.b.closeErr, undefined);
  assert.equal(net.clock.pending(), 0, 'no timers left behind');
});

test('LEDBAT: rising queueing delay (a competing flow\'s standing queue) makes cwnd back off', () => {
  // A 2 MB/s bottleneck with 25 ms one-way delay and a deep buffer; a -> b bulk only.
  const net = new SimNet(3);
  const a = net.addNode('10.0.0.1', 6881, 10);
  const b = net.addNode('10.0.0.2', 6882, 11);
  const ab = net.link(a.host, b.host, { delayMs: 25, rateBps: 2_000_000, maxQueueMs: 2000 });
  net.link(b.host, a.host, { delayMs: 25 });
  const payload = patternBytes(200 * MiB, 5);
  const sa = newSide();
  const sb = newSide();
  b.socket.onAccept = (c) => attach(sb, c, new Uint8Array(0), payload);
  const ca = a.socket.connect(b.host, b.port);
  attach(sa, ca, payload, new Uint8Array(0));
  // Phase 1: LEDBAT fills the pipe but holds the queue near the 100 ms target (not the 2 s buffer).
  net.run(() => false, 20_000);
  const delays: number[] = [];
  let cwndSum = 0;
  for (let i = 0; i < 50; i++) {
    net.run(() => false, 100);
    delays.push(ca.ledbat.ourDelayUs);
    cwndSum += ca.cwnd;
  }
  const cwndBefore = cwndSum / 50;
  const meanDelay = delays.reduce((x, y) => x + y, 0) / delays.length;
  assert.ok(meanDelay > 30_000 && meanDelay < 200_000, `queueing delay ${meanDelay} µs stays near the 100 ms target`);
  const rate1 = sb.received / 25; // bytes per virtual ms so far
  assert.ok(rate1 > 1000, `uses the bottleneck (${rate1.toFixed(0)} B/ms of 2000)`);
  // Phase 2: a competing flow adds a 400 ms standing queue: LEDBAT must yield, RTT after RTT.
  ab.extraDelayMs = 400;
  const trend: number[] = [];
  for (let i = 0; i < 4; i++) {
    net.run(() => false, 5_000);
    trend.push(Math.round(ca.cwnd));
  }
  for (let i = 1; i < trend.length; i++) assert.ok(trend[i]! <= trend[i - 1]!, `cwnd keeps shrinking: ${trend.join(' ')}`);
  const cwndAfter = ca.cwnd;
  assert.ok(ca.ledbat.ourDelayUs > ca.ledbat.targetUs, 'measured delay is above target');
  assert.ok(cwndAfter < cwndBefore / 4, `cwnd backs off: ${cwndBefore.toFixed(0)} -> ${cwndAfter.toFixed(0)}`);
  // Phase 3: the competing queue drains: the window grows again.
  ab.extraDelayMs = 0;
  net.run(() => false, 10_000);
  assert.ok(ca.cwnd > cwndAfter * 2, `cwnd recovers: ${cwndAfter.toFixed(0)} -> ${ca.cwnd.toFixed(0)}`);
  ca.close(false);
});

test('a peer that vanishes mid-transfer times out on both ends and all state is freed', () => {
  const { net, a, b } = pair(4, { delayMs: 20 });
  const payload = patternBytes(8 * MiB, 9);
  const sa = newSide();
  const sb = newSide();
  b.socket.onAccept = (c) => attach(sb, c, new Uint8Array(0), payload);
  attach(sa, a.socket.connect(b.host, b.port), payload, new Uint8Array(0));
  net.run(() => sb.received > MiB, 60_000);
  assert.ok(sb.received > MiB);
  // Cut the wire both ways.
  net.linkProfile(a.host, b.host).loss = 1;
  net.linkProfile(b.host, a.host).loss = 1;
  net.run(() => a.socket.connectionCount === 0 && b.socket.connectionCount === 0, 300_000);
  assert.equal(a.socket.connectionCount, 0, 'sender gave up after repeated timeouts');
  assert.equal(b.socket.connectionCount, 0, 'receiver gave up after the idle timeout');
  assert.ok(sa.closed && isBtError(sa.closeErr, 'ERR_TIMEOUT'), String(sa.closeErr));
  assert.ok(sb.closed && isBtError(sb.closeErr, 'ERR_TIMEOUT'), String(sb.closeErr));
  assert.equal(net.clock.pending(), 0, 'no timers left behind');
});

test('the same seed replays the same run datagram for datagram; another seed differs', () => {
  const trace = (seed: number): string => {
    const { net, a, b } = pair(seed);
    const h = createHash('sha256');
    net.onSend = (from, to, data, at) => {
      h.update(`${from}>${to}@${at}:`);
      h.update(data);
    };
    const r = transferBothWays(net, a, b, 512 * 1024, 300_000);
    assert.equal(r.a.received, 512 * 1024);
    return h.digest('hex');
  };
  const x = trace(77);
  assert.equal(trace(77), x);
  assert.notEqual(trace(78), x);
});

