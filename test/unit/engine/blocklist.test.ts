/** The engine's IP blocklist: a blocked peer is neither dialed nor accepted, and setting it drops connected ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine, IpFilter } from '../../../src/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStorage } from '../../../src/storage/index.js';

const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('blocked addresses are not dialed, not accepted, and dropped when the list changes', { timeout: 30_000 }, async () => {
  const size = 4 * 1024 * 1024;
  const pl = 64 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const hashes: Buffer[] = [];
  for (let o = 0; o < size; o += pl) hashes.push(createHash('sha1').update(data.subarray(o, o + pl)).digest());
  const meta = parseTorrent(buildTorrent({ name: 'b.bin', files: null, length: size, pieceLength: pl, pieceHashes: Buffer.concat(hashes) }));
  const loopback = IpFilter.parse('127.0.0.0/8').filter;
  const seeder = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info, { content: data }) });
  const leecher = new ClientEngine({ ...quiet, maxDownloadRate: 512 * 1024 }, { transport: new MemoryTransport(), createStorage: () => new MemoryStorage(meta.info) });
  try {
    const s = await seeder.addTorrent(meta, { downloadDir: '/x' });
    await s.start();
    const l = await leecher.addTorrent(meta, { downloadDir: '/y' });
    await l.start();

    // 1. The leecher blocks loopback: it does not dial the seeder.
    leecher.setIpFilter(loopback);
    l.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await sleep(700);
    assert.equal(l.connectedPeers, 0, 'not dialed');

    // 2. The seeder blocks loopback, the leecher does not: the seeder refuses the connection.
    leecher.setIpFilter(undefined);
    seeder.setIpFilter(loopback);
    l.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await sleep(700);
    assert.equal(s.connectedPeers, 0, 'not accepted');
    assert.equal(l.stats().piecesHave, 0);

    // 3. No blocklist: they connect (the leecher is rate-limited, so it is still downloading), then the seeder's
    //    new blocklist disconnects it.
    seeder.setIpFilter(undefined);
    l.addPeer(`127.0.0.1:${seeder.listenPort}`);
    const t0 = Date.now();
    while (s.connectedPeers === 0 && Date.now() - t0 < 10_000) await sleep(50);
    assert.equal(s.connectedPeers, 1, 'connected without a blocklist');
    assert.equal(seeder.setIpFilter(loopback), 1, 'one peer dropped');
    await sleep(200);
    assert.equal(s.connectedPeers, 0);
  } finally {
    await leecher.dispose();
    await seeder.dispose();
  }
});
