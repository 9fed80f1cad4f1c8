/**
 * Selective download (file priorities): two engines over loopback TCP. Skipping files downloads only the pieces
 * of the wanted ones (and those shared with them), completes into 'seeding' with progress 1, leaves the skipped
 * files' pieces alone; wanting a skipped file again resumes the download to the whole torrent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine } from '../../../src/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrent, filePieceRange, parseTorrent } from '../../../src/metainfo/index.js';
import { InlineHasher, MemoryStorage } from '../../../src/storage/index.js';

const PIECE = 32 * 1024;
const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };
const FILES = [
  { path: ['one.bin'], length: 10 * PIECE + 1000 },
  { path: ['two.bin'], length: 6 * PIECE },
  { path: ['three.bin'], length: 9 * PIECE + 5 },
];

test('only the wanted file is fetched; wanting another file later resumes the download', { timeout: 60_000 }, async () => {
  const total = FILES.reduce((n, f) => n + f.length, 0);
  const data = new Uint8Array(randomBytes(total));
  const hashes: Buffer[] = [];
  for (let o = 0; o < total; o += PIECE) hashes.push(createHash('sha1').update(data.subarray(o, o + PIECE)).digest());
  const meta = parseTorrent(buildTorrent({ name: 'sel', files: FILES, pieceLength: PIECE, pieceHashes: Buffer.concat(hashes) }));
  const seedStore = new MemoryStorage(meta.info);
  for (let i = 0; i < meta.info.pieceCount; i++) await seedStore.write(i, 0, data.subarray(i * PIECE, (i + 1) * PIECE));
  await seedStore.ensureFiles();
  const leechStore = new MemoryStorage(meta.info);
  const seeder = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => seedStore });
  const leecher = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => leechStore });
  try {
    await (await seeder.addTorrent(meta, { downloadDir: '/nonexistent-seed' })).start();
    // Only two.bin (index 1).
    const t = await leecher.addTorrent(meta, { downloadDir: '/nonexistent-leech', filePriorities: [0, 4, 0] });
    const verified = new Set<number>();
    t.on('piece-verified', (i) => verified.add(i));
    const closed: string[] = [];
    t.on('peer-disconnected', (_a, reason) => closed.push(reason));
    t.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await t.start();
    await t.waitForCompletion();
    assert.equal(t.state, 'seeding');
    assert.equal(t.stats().progress, 1);
    assert.equal(t.complete, false, 'not the whole torrent');
    // BEP 21: finished (upload_only sent) with a seed on the other end: neither wants anything, so we part.
    for (let i = 0; i < 50 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(closed, ['neither wants anything more']);
    const two = filePieceRange(meta.info, 1);
    assert.deepEqual([...verified].sort((a, b) => a - b), Array.from({ length: two.last - two.first + 1 }, (_, k) => two.first + k), 'exactly the pieces of two.bin');
    const files = t.files;
    assert.deepEqual(files.map((f) => f.priority), [0, 4, 0]);
    assert.equal(files[1]!.have, FILES[1]!.length);
    assert.ok(files[0]!.have < FILES[0]!.length && files[2]!.have < FILES[2]!.length);
    const got = await leechStore.read(two.first + 1, 0, PIECE);
    assert.deepEqual(got, data.subarray((two.first + 1) * PIECE, (two.first + 2) * PIECE));

    // Now want three.bin as well: back to downloading, then seeding with both.
    const states: string[] = [];
    t.on('state', (s) => states.push(s));
    t.setFilePriority(2, 7);
    assert.equal(t.state, 'downloading');
    await t.waitForCompletion();
    assert.deepEqual(states, ['downloading', 'seeding']);
    assert.equal(t.files[2]!.have, FILES[2]!.length);
    assert.equal(t.files[0]!.have < FILES[0]!.length, true, 'one.bin still skipped');
    // And the rest: the whole torrent.
    t.setFilePriority(0, 1);
    await t.waitForCompletion();
    assert.equal(t.complete, true);
    for (let i = 0; i < meta.info.pieceCount; i++) {
      assert.deepEqual(await leechStore.read(i, 0, Math.min(PIECE, total - i * PIECE)), data.subarray(i * PIECE, (i + 1) * PIECE), `piece ${i}`);
    }
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});

test('bad file priorities are refused with ERR_SETTINGS', async () => {
  const meta = parseTorrent(buildTorrent({ name: 'x', files: FILES, pieceLength: PIECE, pieceHashes: new Uint8Array(20 * 26) }));
  const engine = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info) });
  try {
    const t = await engine.addTorrent(meta, { downloadDir: '/nonexistent' });
    assert.throws(() => t.setFilePriority(3, 4), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS');
    assert.throws(() => t.setFilePriority(0, 8), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS');
    assert.throws(() => t.setFilePriority(0, 1.5), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS');
  } finally {
    await engine.dispose();
  }
});

test('sequential: pieces are verified in about index order', { timeout: 60_000 }, async () => {
  const size = 8 * 1024 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const hashes: Buffer[] = [];
  for (let o = 0; o < size; o += PIECE) hashes.push(createHash('sha1').update(data.subarray(o, o + PIECE)).digest());
  const meta = parseTorrent(buildTorrent({ name: 'seq.bin', files: null, length: size, pieceLength: PIECE, pieceHashes: Buffer.concat(hashes) }));
  const seedStore = new MemoryStorage(meta.info, { content: data });
  const seeder = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => seedStore });
  // Hashing inline: with worker threads, pieces verify in the order the workers finish (a second worker starting
  // up delays every other piece), not the order they arrived in.
  const leecher = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info), createHasher: () => new InlineHasher() });
  try {
    await (await seeder.addTorrent(meta, { downloadDir: '/nonexistent-seed' })).start();
    const t = await leecher.addTorrent(meta, { downloadDir: '/nonexistent-leech', sequential: true });
    assert.equal(t.sequential, true);
    const order: number[] = [];
    t.on('piece-verified', (i) => order.push(i));
    t.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await t.start();
    await t.waitForCompletion();
    assert.equal(order.length, meta.info.pieceCount);
    // Requests in flight (a pipeline of a few pieces) can finish out of order, but never far ahead.
    const worst = Math.max(...order.map((p, k) => p - k));
    assert.ok(worst <= 32, `a piece ${worst} places ahead of its turn: ${order.slice(0, 40).join(',')}`);
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});

test('a magnet with so= (BEP 53) downloads only the files it lists', { timeout: 60_000 }, async () => {
  const total = FILES.reduce((n, f) => n + f.length, 0);
  const data = new Uint8Array(randomBytes(total));
  const hashes: Buffer[] = [];
  for (let o = 0; o < total; o += PIECE) hashes.push(createHash('sha1').update(data.subarray(o, o + PIECE)).digest());
  const meta = parseTorrent(buildTorrent({ name: 'so', files: FILES, pieceLength: PIECE, pieceHashes: Buffer.concat(hashes) }));
  const seeder = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info, { content: data }) });
  const leecher = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info) });
  try {
    await (await seeder.addTorrent(meta, { downloadDir: '/nonexistent-seed' })).start();
    const t = await leecher.addTorrent(`magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=127.0.0.1:${seeder.listenPort}&so=2`, { downloadDir: '/nonexistent-leech' });
    await t.start();
    await t.waitForCompletion();
    assert.deepEqual(t.files.map((f) => f.priority), [0, 0, 4]);
    assert.equal(t.files[2]!.have, FILES[2]!.length);
    assert.equal(t.complete, false);
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});
