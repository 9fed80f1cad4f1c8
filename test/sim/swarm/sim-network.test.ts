/** The simulated stream network on its own: rates, latency, ordering, backpressure, close and refusal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { Connection } from '../../../src/transport/index.js';
import { runUntil } from './driver.js';
import { SimNetwork } from './sim-network.js';

function pair(opts: { up: number; down: number; latencyMs: number }): { clock: FakeClock; net: SimNetwork } {
  const clock = new FakeClock(0);
  const net = new SimNetwork(clock, 1, { latencyMs: [opts.latencyMs, opts.latencyMs], loss: [0, 0], upBps: [opts.up, opts.up], downBps: [opts.down, opts.down] });
  net.addHost('10.0.0.1');
  net.addHost('10.0.0.2');
  return { clock, net };
}

test('sim network: bytes arrive in order at the bottleneck rate after the latency; backpressure and orderly close', { timeout: 30_000 }, async () => {
  const { clock, net } = pair({ up: 1_000_000, down: 4_000_000, latencyMs: 40 });
  let server: Connection | undefined;
  const got: Uint8Array[] = [];
  let closedAt = -1;
  await net.transport('10.0.0.2').listen('10.0.0.2', 6881, (c) => {
    server = c;
    c.setHandlers({ onData: (d) => got.push(d), onDrain: () => {}, onClose: () => (closedAt = clock.now()) });
  });
  let conn: Connection | undefined;
  void net.transport('10.0.0.1').dial('10.0.0.2', 6881).then((c) => (conn = c));
  await runUntil(clock, () => conn !== undefined, 10_000, net);
  assert.equal(clock.now(), 80, 'connected after one round trip');
  assert.ok(server);
  let drains = 0;
  conn!.setHandlers({ onData: () => {}, onDrain: () => drains++, onClose: () => {} });
  const total = 1_000_000;
  let wrote = 0;
  let full = false;
  for (let i = 0; wrote < total; i++) {
    const n = Math.min(10_000, total - wrote);
    const chunk = new Uint8Array(n).fill(i & 255);
    full = !conn!.write(chunk) || full;
    wrote += n;
  }
  assert.ok(full, 'write() said wait past the high-water mark');
  assert.equal(conn!.writableLength, total);
  const t0 = clock.now();
  await runUntil(clock, () => drains > 0, 60_000, net);
  assert.equal(conn!.writableLength, 0, 'drain comes when the send buffer is empty');
  conn!.close(true);
  await runUntil(clock, () => closedAt >= 0, 60_000, net);
  const bytes = Buffer.concat(got);
  assert.equal(bytes.length, total);
  for (let i = 0, o = 0; o < total; i++, o += 10_000) assert.equal(bytes[o], i & 255, `chunk ${i} in order`);
  assert.equal(drains, 1);
  // ~1 s at 1 MB/s (plus headers) and the 40 ms latency; the 4 MB/s downlink is not the bottleneck.
  const took = closedAt - t0;
  assert.ok(took > 1000 && took < 1150, `took ${took} ms`);
});

test('sim network: a dial to a closed port is refused after a round trip, to a missing host times out', { timeout: 30_000 }, async () => {
  const { clock, net } = pair({ up: 1_000_000, down: 1_000_000, latencyMs: 25 });
  const t = net.transport('10.0.0.1');
  let refused: Error | undefined;
  let timedOut: Error | undefined;
  t.dial('10.0.0.2', 1234).catch((e: Error) => (refused = e));
  t.dial('10.9.9.9', 1234, { timeoutMs: 3000 }).catch((e: Error) => (timedOut = e));
  await runUntil(clock, () => refused !== undefined && timedOut !== undefined, 10_000, net);
  assert.match(refused!.message, /ECONNREFUSED/);
  assert.match(timedOut!.message, /timed out/);
  assert.equal(clock.now(), 3000);
});
