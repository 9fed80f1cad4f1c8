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
