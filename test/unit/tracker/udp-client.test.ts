/** BEP 15 client state machine under a FakeClock, against a scripted tracker (deterministic simulation). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { BtError } from '../../../src/core/errors.js';
import { UdpTrackerClient } from '../../../src/tracker/index.js';
import type { AnnounceParams } from '../../../src/tracker/index.js';

const params: AnnounceParams = {
  infoHash: new Uint8Array(20).fill(1), peerId: new Uint8Array(20).fill(2), downloaded: 0, left: 100, uploaded: 0,
  event: 'started', key: 1, numWant: 50, port: 6881,
};

/** A tracker that answers connect and announce; `drop(n)` loses the next n packets. */
function tracker() {
  const sent: Uint8Array[] = [];
  let dropping = 0;
  let connects = 0;
  const cid = 0x0abcdef012345678n;
  let client!: UdpTrackerClient;
  const reply = (pkt: Uint8Array): void => {
    sent.push(pkt);
    if (dropping > 0) {
      dropping--;
      return;
    }
    const v = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
    const action = v.getUint32(8);
    const tid = v.getUint32(12);
    const out = new DataView(new ArrayBuffer(action === 0 ? 16 : 26));
    if (action === 0) {
      connects++;
      out.setUint32(0, 0);
      out.setUint32(4, tid);
      out.setBigUint64(8, cid);
    } else {
      assert.equal(v.getBigUint64(0), cid, 'announce carries the connection id');
      out.setUint32(0, 1);
      out.setUint32(4, tid);
      out.setUint32(8, 900);
      out.setUint32(12, 1);
      out.setUint32(16, 2);
      out.setUint32(20, 0x7f000001);
      out.setUint16(24, 51413);
    }
    queueMicrotask(() => client.handlePacket(new Uint8Array(out.buffer)));
  };
  return {
    sent,
    drop: (n: number) => (dropping = n),
    connects: () => connects,
    attach: (c: UdpTrackerClient) => (client = c),
    send: reply,
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('connect, announce, and reuse of the connection id for a minute', async () => {
  const clock = new FakeClock();
  const tr = tracker();
  const c = new UdpTrackerClient({ clock, random: new SeededRandom(1), send: tr.send });
  tr.attach(c);
  const r = await c.announce(params);
  assert.deepEqual(r.peers, [{ host: '127.0.0.1', port: 51413 }]);
  assert.equal(r.interval, 900);
  await c.announce(params);
  assert.equal(tr.connects(), 1, 'connection id reused');
  clock.advance(61_000);
  await c.announce(params);
  assert.equal(tr.connects(), 2, 'reconnects after 60 s');
});

test('lost packets are retransmitted after 15 * 2^n s, then the request times out', async () => {
  const clock = new FakeClock();
  const tr = tracker();
  const c = new UdpTrackerClient({ clock, random: new SeededRandom(2), send: tr.send, maxRetries: 2 });
  tr.attach(c);
  tr.drop(2);
  const p = c.announce(params);
  await settle();
  assert.equal(tr.sent.length, 1);
  clock.advance(15_000);
  await settle();
  assert.equal(tr.sent.length, 2);
  clock.advance(30_000);
  await settle();
  await p;
  assert.equal(tr.sent.length, 4, 'connect x3, announce x1');

  const tr2 = tracker();
  const c2 = new UdpTrackerClient({ clock, random: new SeededRandom(3), send: tr2.send, maxRetries: 1 });
  tr2.attach(c2);
  tr2.drop(100);
  const q = c2.announce(params);
  const failed = assert.rejects(q, (e: unknown) => e instanceof BtError && e.code === 'ERR_TIMEOUT');
  clock.advance(15_000);
  await settle();
  clock.advance(30_000);
  await failed;
  assert.equal(tr2.sent.length, 2);
});

test('error replies, stray packets and aborts', async () => {
  const clock = new FakeClock();
  const c: UdpTrackerClient = new UdpTrackerClient({
    clock,
    random: new SeededRandom(4),
    send: (pkt) => {
      const tid = new DataView(pkt.buffer, pkt.byteOffset).getUint32(12);
      queueMicrotask(() => {
        c.handlePacket(new Uint8Array([1, 2, 3])); // garbage is ignored
        c.handlePacket(new Uint8Array([0, 0, 0, 3, 0, 0, 0, 0, 120])); // wrong transaction id: ignored
        const err = new Uint8Array(8 + 6);
        new DataView(err.buffer).setUint32(0, 3);
        new DataView(err.buffer).setUint32(4, tid);
        err.set(new TextEncoder().encode('denied'), 8);
        c.handlePacket(err);
      });
    },
  });
  await assert.rejects(c.announce(params), (e: unknown) => e instanceof BtError && e.code === 'ERR_TRACKER' && /denied/.test(e.message));
  const ac = new AbortController();
  const silent = new UdpTrackerClient({ clock, random: new SeededRandom(5), send: () => {} });
  const p = silent.announce(params, { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, (e: unknown) => e instanceof BtError && e.code === 'ERR_ABORTED');
  assert.equal(clock.pending(), 0, 'no timers left behind');
});
