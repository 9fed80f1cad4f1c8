/** Queueing (EngineSettings.maxActiveDownloads / maxActiveSeeds): the torrents over the limit wait in 'queued'. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine } from '../../../src/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStorage } from '../../../src/storage/index.js';
import type { PieceStorage } from '../../../src/storage/types.js';
import type { TorrentState } from '../../../src/torrent/torrent-manager.js';
import { mayActivate, torrentsToPromote } from '../../../src/engine/queue.js';

const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };

function torrent(name: string, size: number): { meta: Metainfo; data: Uint8Array } {
  const pl = 32 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const hashes: Buffer[] = [];
  for (let o = 0; o < size; o += pl) hashes.push(createHash('sha1').update(data.subarray(o, o + pl)).digest());
  return { meta: parseTorrent(buildTorrent({ name, files: null, length: size, pieceLength: pl, pieceHashes: Buffer.concat(hashes) })), data };
}

test('maxActiveDownloads 1: the second download waits queued until the first completes', { timeout: 60_000 }, async () => {
  const one = torrent('one.bin', 1024 * 1024);
  const two = torrent('two.bin', 1024 * 1024);
  const stores = new Map<string, PieceStorage>();
  const seeder = new ClientEngine(quiet, {
    transport: new MemoryTransport(),
    createStorage: (m) => new MemoryStorage(m.info, { content: m.infoHashHex === one.meta.infoHashHex ? one.data : two.data }),
  });
  const leecher = new ClientEngine({ ...quiet, maxActiveDownloads: 1, maxDownloadRate: 2 * 1024 * 1024 }, {
    transport: new MemoryTransport(),
    createStorage: (m) => {
      const s = new MemoryStorage(m.info);
      stores.set(m.infoHashHex, s);
      return s;
    },
  });
  try {
    for (const x of [one, two]) await (await seeder.addTorrent(x.meta, { downloadDir: '/s' })).start();
    const a = await leecher.addTorrent(one.meta, { downloadDir: '/l' });
    const b = await leecher.addTorrent(two.meta, { downloadDir: '/l' });
    const states: string[] = [];
    b.on('state', (s) => states.push(s));
    for (const t of [a, b]) t.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await a.start();
    await b.start();
    assert.equal(a.state, 'downloading');
    assert.equal(b.state, 'queued');
    await a.waitForCompletion();
    await b.waitForCompletion();
    assert.deepEqual(states, ['checking', 'queued', 'downloading', 'seeding']);
    assert.deepEqual(await stores.get(two.meta.infoHashHex)!.read(0, 0, 1000), two.data.subarray(0, 1000));
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});

test('maxActiveSeeds 1: a second complete torrent waits until the first stops', { timeout: 30_000 }, async () => {
  const one = torrent('one.bin', 64 * 1024);
  const two = torrent('two.bin', 64 * 1024);
  const engine = new ClientEngine({ ...quiet, maxActiveSeeds: 1 }, {
    transport: new MemoryTransport(),
    createStorage: (m) => new MemoryStorage(m.info, { content: m.infoHashHex === one.meta.infoHashHex ? one.data : two.data }),
  });
  try {
    const a = await engine.addTorrent(one.meta, { downloadDir: '/s' });
    const b = await engine.addTorrent(two.meta, { downloadDir: '/s' });
    await a.start();
    await b.start();
    assert.equal(a.state, 'seeding');
    assert.equal(b.state, 'queued');
    await a.stop();
    const state = (): string => b.state; // re-read: the narrowing above does not see the queue move
    for (let i = 0; i < 100 && state() !== 'seeding'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(state(), 'seeding');
    assert.throws(() => new ClientEngine({ ...quiet, maxActiveDownloads: -1 }), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS');
  } finally {
    await engine.dispose();
  }
});

// ---- the queue policy alone (src/engine/queue.ts): pure functions of the torrents' states ----

type Q = { name: string; state: TorrentState; queueKind: 'download' | 'seed' };
const q = (name: string, state: TorrentState, queueKind: 'download' | 'seed' = 'download'): Q => ({ name, state, queueKind });
const names = (ts: Q[]): string[] => ts.map((t) => t.name);

test('mayActivate: no limit, or fewer others holding a slot of the kind than the limit', () => {
  const a = q('a', 'downloading');
  const m = q('m', 'metadata');
  const s = q('s', 'seeding', 'seed');
  const x = q('x', 'queued');
  const all = [a, m, s, x, q('p', 'paused'), q('c', 'checking'), q('e', 'error'), q('st', 'stopped')];
  assert.equal(mayActivate({ maxActiveDownloads: 0, maxActiveSeeds: 0 }, all, x, 'download'), true);
  // 'downloading' and 'metadata' hold download slots; checking, paused, queued, stopped and error do not.
  assert.equal(mayActivate({ maxActiveDownloads: 2, maxActiveSeeds: 0 }, all, x, 'download'), false);
  assert.equal(mayActivate({ maxActiveDownloads: 3, maxActiveSeeds: 0 }, all, x, 'download'), true);
  // The torrent's own slot does not count against it.
  assert.equal(mayActivate({ maxActiveDownloads: 2, maxActiveSeeds: 0 }, all, a, 'download'), true);
  assert.equal(mayActivate({ maxActiveDownloads: 0, maxActiveSeeds: 1 }, all, x, 'seed'), false);
  assert.equal(mayActivate({ maxActiveDownloads: 0, maxActiveSeeds: 1 }, all, s, 'seed'), true);
  assert.equal(mayActivate({ maxActiveDownloads: 0, maxActiveSeeds: 2 }, all, x, 'seed'), true);
});

test('torrentsToPromote: queued torrents in add order while slots allow, each kind on its own', () => {
  const limits = { maxActiveDownloads: 2, maxActiveSeeds: 1 };
  assert.deepEqual(names(torrentsToPromote(limits, [q('a', 'downloading'), q('b', 'queued'), q('c', 'queued'), q('d', 'queued')])), ['b']);
  assert.deepEqual(names(torrentsToPromote(limits, [q('a', 'stopped'), q('b', 'queued'), q('c', 'queued'), q('d', 'queued')])), ['b', 'c']);
  assert.deepEqual(
    names(torrentsToPromote(limits, [q('s1', 'queued', 'seed'), q('d1', 'queued'), q('s2', 'queued', 'seed'), q('d2', 'metadata')])),
    ['s1', 'd1'],
  );
  assert.deepEqual(names(torrentsToPromote(limits, [q('s', 'seeding', 'seed'), q('t', 'queued', 'seed')])), []);
  assert.deepEqual(names(torrentsToPromote({ maxActiveDownloads: 0, maxActiveSeeds: 0 }, [q('a', 'queued'), q('b', 'queued', 'seed')])), ['a', 'b']);
  assert.deepEqual(names(torrentsToPromote(limits, [q('a', 'downloading'), q('b', 'seeding', 'seed')])), []);
});
