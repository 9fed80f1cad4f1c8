/** Two engines in one process over real loopback TCP: one seeds, one downloads (library API end to end). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine, TextLogger } from '../../../src/index.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { MemoryStorage } from '../../../src/storage/index.js';
import type { PieceStorage } from '../../../src/storage/types.js';

function makeTorrent(size: number, pieceLength: number): { meta: Metainfo; data: Uint8Array } {
  const data = new Uint8Array(randomBytes(size));
  const n = Math.ceil(size / pieceLength);
  const hashes = new Uint8Array(n * 20);
  for (let i = 0; i < n; i++) {
    hashes.set(createHash('sha1').update(data.subarray(i * pieceLength, (i + 1) * pieceLength)).digest(), i * 20);
  }
  const files = [
    { path: ['a.bin'], length: Math.floor(size / 3) + 1 },
    { path: ['sub', 'b.bin'], length: 0 },
    { path: ['c.bin'], length: size - (Math.floor(size / 3) + 1) },
  ];
  const bytes = buildTorrent({ name: 'payload', files, pieceLength, pieceHashes: hashes });
  return { meta: parseTorrent(bytes), data };
}

async function seededStorage(meta: Metainfo, data: Uint8Array): Promise<MemoryStorage> {
  const s = new MemoryStorage(meta.info);
  const pl = meta.info.pieceLength;
  for (let i = 0; i < meta.info.pieceCount; i++) await s.write(i, 0, data.subarray(i * pl, (i + 1) * pl));
  await s.ensureFiles();
  return s;
}

test('one engine seeds, another downloads, over loopback TCP', { timeout: 60_000 }, async () => {
  const { meta, data } = makeTorrent(3 * 1024 * 1024 + 12345, 64 * 1024);
  const seedStore = await seededStorage(meta, data);
  const leechStore = new MemoryStorage(meta.info);
  const logger = process.env.TK_DEBUG ? new TextLogger("debug", (l) => console.error(l)) : undefined;
  const seeder = new ClientEngine({ listenEndpoints: ["127.0.0.1:0"] }, { logger, createStorage: (): PieceStorage => seedStore });
  const leecher = new ClientEngine({ listenEndpoints: ["127.0.0.1:0"] }, { logger, createStorage: (): PieceStorage => leechStore });
  try {
    const st = await seeder.addTorrent(meta, { downloadDir: '/nonexistent-seed' });
    await st.start();
    assert.equal(st.state, 'seeding');
    const lt = await leecher.addTorrent(meta, { downloadDir: '/nonexistent-leech' });
    lt.addPeer(`127.0.0.1:${seeder.listenPort}`);
    const verified: number[] = [];
    lt.on('piece-verified', (i) => verified.push(i));
    await lt.start();
    await lt.waitForCompletion();
    assert.equal(lt.state, 'seeding');
    assert.equal(verified.length, meta.info.pieceCount);
    const pl = meta.info.pieceLength;
    for (let i = 0; i < meta.info.pieceCount; i++) {
      const got = await leechStore.read(i, 0, Math.min(pl, data.length - i * pl));
      assert.deepEqual(got, data.subarray(i * pl, (i + 1) * pl), `piece ${i}`);
    }
    assert.ok(lt.stats().downloaded >= data.length);
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});
