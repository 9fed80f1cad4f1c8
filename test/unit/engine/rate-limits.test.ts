/**
 * Rate limits (EngineSettings.maxDownloadRate / maxUploadRate, per-torrent options, engine.setRateLimits): two
 * engines over loopback TCP; the transfer takes as long as the limit says, and lifting a limit on the running
 * engine lets it finish at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine } from '../../../src/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import type { AddTorrentOptions } from '../../../src/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { MemoryStorage } from '../../../src/storage/index.js';

const MiB = 1024 * 1024;
const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };

function makeTorrent(size: number): { meta: Metainfo; data: Uint8Array } {
  const pieceLength = 64 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const hashes: Buffer[] = [];
  for (let o = 0; o < size; o += pieceLength) hashes.push(createHash('sha1').update(data.subarray(o, o + pieceLength)).digest());
  const meta = parseTorrent(buildTorrent({ name: 'payload', files: [{ path: ['p.bin'], length: size }], pieceLength, pieceHashes: Buffer.concat(hashes) }));
  return { meta, data };
}

async function seeded(meta: Metainfo, data: Uint8Array): Promise<MemoryStorage> {
  const s = new MemoryStorage(meta.info);
  for (let i = 0; i < meta.info.pieceCount; i++) await s.write(i, 0, data.subarray(i * meta.info.pieceLength, (i + 1) * meta.info.pieceLength));
  await s.ensureFiles();
  return s;
}

/** Seed `size` bytes from one engine to another; the seconds the download took. */
async function transfer(
  size: number,
  o: { seeder?: Partial<EngineSettings>; leecher?: Partial<EngineSettings>; torrent?: Partial<AddTorrentOptions>; during?: (leecher: ClientEngine) => void },
): Promise<number> {
  const { meta, data } = makeTorrent(size);
  const seedStore = await seeded(meta, data);
  const leechStore = new MemoryStorage(meta.info);
  const seeder = new ClientEngine({ ...quiet, ...o.seeder }, { transport: new MemoryTransport(), createStorage: () => seedStore });
  const leecher = new ClientEngine({ ...quiet, ...o.leecher }, { transport: new MemoryTransport(), createStorage: () => leechStore });
  try {
    const st = await seeder.addTorrent(meta, { downloadDir: '/nonexistent-seed' });
    await st.start();
    const lt = await leecher.addTorrent(meta, { downloadDir: '/nonexistent-leech', ...o.torrent });
    const t0 = Date.now();
    lt.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await lt.start();
    o.during?.(leecher);
    await lt.waitForCompletion();
    const secs = (Date.now() - t0) / 1000;
    assert.deepEqual(await leechStore.read(0, 0, 1024), data.subarray(0, 1024));
    return secs;
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
}

test('an engine-wide upload limit paces the seeder', { timeout: 30_000 }, async () => {
  const secs = await transfer(3 * MiB, { seeder: { maxUploadRate: 1 * MiB } });
  // 3 MiB at 1 MiB/s, less the quarter-second burst: ~2.75 s.
  assert.ok(secs >= 2.3 && secs <= 6, `3 MiB at 1 MiB/s took ${secs.toFixed(2)} s`);
});

test('an engine-wide download limit paces the leecher', { timeout: 30_000 }, async () => {
  const secs = await transfer(3 * MiB, { leecher: { maxDownloadRate: 1 * MiB } });
  assert.ok(secs >= 2.3 && secs <= 6, `3 MiB at 1 MiB/s took ${secs.toFixed(2)} s`);
});

test('a per-torrent download limit applies; the tighter of it and the engine limit wins', { timeout: 30_000 }, async () => {
  const secs = await transfer(2 * MiB, { leecher: { maxDownloadRate: 8 * MiB }, torrent: { maxDownloadRate: 1 * MiB } });
  assert.ok(secs >= 1.4 && secs <= 5, `2 MiB at 1 MiB/s took ${secs.toFixed(2)} s`);
});

test('lifting the limit on the running engine lets the download finish at once', { timeout: 30_000 }, async () => {
  // 8 MiB at 64 KiB/s would take two minutes; after 0.5 s the limit goes.
  const secs = await transfer(8 * MiB, {
    leecher: { maxDownloadRate: 64 * 1024 },
    during: (leecher) => {
      assert.deepEqual(leecher.rateLimits, { download: 64 * 1024, upload: 0 });
      setTimeout(() => leecher.setRateLimits({ download: 0 }), 500);
    },
  });
  assert.ok(secs < 10, `took ${secs.toFixed(2)} s`);
});

test('bad limits are refused with ERR_SETTINGS', () => {
  assert.throws(() => new ClientEngine({ ...quiet, maxUploadRate: -1 }), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS');
  const engine = new ClientEngine(quiet);
  assert.throws(() => engine.setRateLimits({ download: Number.NaN }), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS');
  void engine.dispose();
});
