/** Seeding limits (addTorrent seedRatioLimit / seedTimeLimitMs): reached → 'seed-limit' event, then 'stopped'. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine } from '../../../src/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStorage } from '../../../src/storage/index.js';

const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };

function torrent(size: number) {
  const pl = 32 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const hashes: Buffer[] = [];
  for (let o = 0; o < size; o += pl) hashes.push(createHash('sha1').update(data.subarray(o, o + pl)).digest());
  return { meta: parseTorrent(buildTorrent({ name: 's.bin', files: null, length: size, pieceLength: pl, pieceHashes: Buffer.concat(hashes) })), data };
}

test('a seeder with seedRatioLimit 1 stops once it has uploaded the torrent once', { timeout: 30_000 }, async () => {
  const { meta, data } = torrent(1024 * 1024);
  const seeder = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info, { content: data }) });
  const leecher = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info) });
  try {
    const s = await seeder.addTorrent(meta, { downloadDir: '/x', seedRatioLimit: 1 });
    const reasons: string[] = [];
    s.on('seed-limit', (r) => reasons.push(r));
    await s.start();
    const l = await leecher.addTorrent(meta, { downloadDir: '/y' });
    l.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await l.start();
    await l.waitForCompletion();
    const t0 = Date.now();
    while (s.state !== 'stopped' && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.state, 'stopped');
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /uploaded 1\.\d\dx/);
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});

test('seedTimeLimitMs stops a seeding torrent after that long; bad limits are refused', { timeout: 30_000 }, async () => {
  const { meta, data } = torrent(64 * 1024);
  const engine = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info, { content: data }) });
  try {
    await assert.rejects(engine.addTorrent(meta, { downloadDir: '/x', seedRatioLimit: -1 }), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS');
    const t = await engine.addTorrent(meta, { downloadDir: '/x', seedTimeLimitMs: 1200 });
    const limit = new Promise<string>((r) => t.once('seed-limit', r));
    const t0 = Date.now();
    await t.start();
    assert.equal(t.state, 'seeding');
    assert.match(await limit, /seeded for \d+ s/);
    const secs = (Date.now() - t0) / 1000;
    assert.ok(secs >= 1.1 && secs < 4, `stopped after ${secs} s`);
  } finally {
    await engine.dispose();
  }
});
