/**
 * Scale (issue 15 item 7): every per-tick and per-event cost follows the work being done, not the number of
 * torrents. These tests count (callbacks, pump visits, connections), never time: 1,000 seeding torrents in memory
 * with a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ClientEngine } from '../../../src/index.js';
import type { TorrentManager } from '../../../src/index.js';
import { FakeClock } from '../../../src/core/index.js';
import type { Clock, Timer } from '../../../src/core/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { QueueBook, mayActivate, torrentsToPromote } from '../../../src/engine/queue.js';
import type { QueuedTorrent } from '../../../src/engine/queue.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/index.js';
import type { ConnectionManager } from '../../../src/peer/index.js';
import { InlineHasher, MemoryStorage } from '../../../src/storage/index.js';
import { CheckSlots, TickScheduler } from '../../../src/torrent/index.js';
import type { TorrentState } from '../../../src/torrent/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';

const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };
const PIECE = 16 * 1024;

/** A FakeClock that counts the timer callbacks it runs. */
class CountingClock implements Clock {
  readonly inner = new FakeClock();
  fired = 0;
  now(): number {
    return this.inner.now();
  }
  setTimeout(fn: () => void, ms: number): Timer {
    return this.inner.setTimeout(() => {
      this.fired++;
      fn();
    }, ms);
  }
  setInterval(fn: () => void, ms: number): Timer {
    return this.inner.setInterval(() => {
      this.fired++;
      fn();
    }, ms);
  }
}

function makeTorrents(n: number): { meta: Metainfo; data: Uint8Array }[] {
  const out: { meta: Metainfo; data: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(PIECE).fill(i & 0xff);
    data[0] = i >> 8;
    const hash = createHash('sha1').update(data).digest();
    out.push({ meta: parseTorrent(buildTorrent({ name: `t${i}.bin`, files: null, length: PIECE, pieceLength: PIECE, pieceHashes: hash })), data });
  }
  return out;
}

/** The engine's private parts these tests count with. */
interface Inside {
  connections: ConnectionManager;
  ticks: TickScheduler;
  peerCount: number;
}
const inside = (e: ClientEngine): Inside => e as unknown as Inside;

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
}

test('1,000 seeding torrents with no peers: an idle second costs O(1) timer callbacks, a pump visits only the torrents wanting peers', { timeout: 60_000 }, async () => {
  const N = 1000;
  const ts = makeTorrents(N);
  const content = new Map(ts.map((t) => [t.meta.infoHashHex, t.data]));
  const clock = new CountingClock();
  const engine = new ClientEngine(quiet, {
    clock,
    transport: new MemoryTransport(),
    createHasher: () => new InlineHasher(),
    createStorage: (m) => new MemoryStorage(m.info, { content: content.get(m.infoHashHex)! }),
  });
  try {
    const list: TorrentManager[] = [];
    for (const t of ts) {
      const tm = await engine.addTorrent(t.meta, { downloadDir: '/d' });
      void tm.start();
      list.push(tm);
    }
    await until(() => list.every((t) => t.state === 'seeding'), 'all seeding');
    const cm = inside(engine).connections;
    const ticks = inside(engine).ticks;
    assert.equal(ticks.size, 0, 'no seed without peers is in the ticker');
    assert.equal(cm.wantingCount, 0, 'no torrent without candidates waits for a dial');

    // Ten idle seconds: the engine's own pump timer, nothing per torrent.
    const fired0 = clock.fired;
    const visits0 = cm.visits;
    for (let s = 0; s < 10; s++) clock.inner.advance(1000);
    const perSecond = (clock.fired - fired0) / 10;
    assert.ok(perSecond <= 2, `idle: ${perSecond} timer callbacks per second with ${N} torrents`);
    assert.equal(cm.visits - visits0, 0, 'an idle pump visits no torrent');
    assert.equal(ticks.calls, 0);

    // One torrent gets a candidate nobody answers at: the pumps visit that torrent, not the 999 others.
    list[500]!.addPeer('10.9.9.9:6881');
    await new Promise((r) => setImmediate(r));
    assert.equal(cm.wantingCount <= 1, true);
    const v1 = cm.visits;
    for (let s = 0; s < 5; s++) clock.inner.advance(1000);
    assert.ok(cm.visits - v1 <= 5 * 2, `5 pumps visited ${cm.visits - v1} torrents`);
  } finally {
    await engine.dispose();
  }
});

test('the connection count follows attach and close (a counter, checked against the torrents), and a seed with peers ticks until they leave', { timeout: 60_000 }, async () => {
  const ts = makeTorrents(20);
  const content = new Map(ts.map((t) => [t.meta.infoHashHex, t.data]));
  const net = new MemoryTransport();
  const seeder = new ClientEngine(quiet, {
    transport: net,
    createHasher: () => new InlineHasher(),
    createStorage: (m) => new MemoryStorage(m.info, { content: content.get(m.infoHashHex)! }),
  });
  // Slow enough that the leechers stay connected (two seeds would part at once).
  const leecher = new ClientEngine({ ...quiet, maxDownloadRate: 1024 }, { transport: net, createHasher: () => new InlineHasher(), createStorage: (m) => new MemoryStorage(m.info) });
  try {
    const seeds: TorrentManager[] = [];
    for (const t of ts) {
      const tm = await seeder.addTorrent(t.meta, { downloadDir: '/s' });
      await tm.start();
      seeds.push(tm);
    }
    const sum = (e: ClientEngine): number => e.torrentList.reduce((n, t) => n + t.connectedPeers, 0);
    assert.equal(inside(seeder).ticks.size, 0);
    const leeches: TorrentManager[] = [];
    for (const t of ts.slice(0, 3)) {
      const tm = await leecher.addTorrent(t.meta, { downloadDir: '/l' });
      tm.addPeer(`127.0.0.1:${seeder.listenPort}`);
      await tm.start();
      leeches.push(tm);
    }
    await until(() => inside(seeder).peerCount === 3 && sum(seeder) === 3, `3 connections (count ${inside(seeder).peerCount}, sum ${sum(seeder)})`);
    assert.equal(inside(leecher).peerCount, sum(leecher));
    // Seeds with a peer are in the ticker (choker, keep-alives); the 17 others are not.
    assert.ok(inside(seeder).ticks.size <= 3, `ticker holds ${inside(seeder).ticks.size}`);
    for (const l of leeches.slice(0, 2)) await l.stop();
    await until(() => inside(seeder).peerCount === 1 && sum(seeder) === 1, `1 connection left (count ${inside(seeder).peerCount}, sum ${sum(seeder)})`);
    await leeches[2]!.stop();
    await until(() => inside(seeder).peerCount === 0 && sum(seeder) === 0, 'no connection left');
    // The next tick finds no peers: the seeds leave the ticker.
    await until(() => inside(seeder).ticks.size === 0, 'seeds without peers leave the ticker');
    assert.equal(inside(leecher).peerCount, 0);
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});

test('QueueBook answers as the scans over every torrent do, through random state changes', () => {
  const states: TorrentState[] = ['stopped', 'metadata', 'checking', 'queued', 'downloading', 'seeding', 'paused', 'error'];
  type Q = QueuedTorrent & { state: TorrentState; queueKind: 'download' | 'seed'; name: string };
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const all: Q[] = [];
  const book = new QueueBook<Q>();
  for (let step = 0; step < 3000; step++) {
    const r = rnd(10);
    if (r === 0 || all.length === 0) {
      const t: Q = { state: 'stopped', queueKind: rnd(2) ? 'seed' : 'download', name: `t${step}` };
      all.push(t);
      book.add(t);
    } else if (r === 1 && all.length > 5) {
      const t = all.splice(rnd(all.length), 1)[0]!;
      book.remove(t);
    } else {
      const t = all[rnd(all.length)]!;
      t.state = states[rnd(states.length)]!;
      book.moved(t, t.state);
    }
    const limits = { maxActiveDownloads: rnd(4), maxActiveSeeds: rnd(4) };
    const t = all[rnd(all.length)]!;
    for (const kind of ['download', 'seed'] as const) assert.equal(book.mayActivate(limits, t, kind), mayActivate(limits, all, t, kind), `step ${step}`);
    assert.deepEqual(book.toPromote(limits), torrentsToPromote(limits, all), `step ${step}`);
  }
});

test('TickScheduler: one timer while something has work, none when nothing has; a tick saying "done" leaves', () => {
  const clock = new FakeClock();
  const s = new TickScheduler(clock);
  let aTicks = 0;
  let bLeft = 2;
  const a = { tick: () => (aTicks++, true) };
  const b = { tick: () => --bLeft > 0 };
  assert.equal(clock.pending(), 0);
  s.add(a);
  s.add(b);
  s.add(a);
  assert.equal(clock.pending(), 1, 'one timer for every tickable');
  clock.advance(3000);
  assert.equal(aTicks, 3);
  assert.equal(s.has(b), false, 'b said done after its second tick');
  s.delete(a);
  assert.equal(clock.pending(), 0, 'no timer left when nothing ticks');
  clock.advance(5000);
  assert.equal(aTicks, 3);
});

test('CheckSlots: at most max at once, first come first served, an aborted waiter holds nothing', async () => {
  const slots = new CheckSlots(2);
  const order: number[] = [];
  assert.equal(await slots.acquire(), true);
  assert.equal(await slots.acquire(), true);
  const ac = new AbortController();
  const w3 = slots.acquire().then((h) => void order.push(h ? 3 : -3));
  const w4 = slots.acquire(ac.signal).then((h) => void order.push(h ? 4 : -4));
  const w5 = slots.acquire().then((h) => void order.push(h ? 5 : -5));
  assert.equal(slots.queued, 3);
  ac.abort();
  await w4;
  slots.release();
  await w3;
  slots.release();
  await w5;
  assert.deepEqual(order, [-4, 3, 5]);
  assert.equal(slots.running, 2);
  slots.release();
  slots.release();
  assert.equal(slots.running, 0);
});
