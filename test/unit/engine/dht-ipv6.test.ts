/**
 * BEP 32 in the engine: two IPv6-only engines (listening on [::1] alone, no IPv4 socket) bootstrap their DHT from
 * each other, one announces its torrent in the IPv6 table, the other finds it there and downloads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientEngine } from '../../../src/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStorage } from '../../../src/storage/index.js';

const v6only: Partial<EngineSettings> = { listenEndpoints: ['[::1]:0'], lsdEnabled: false, portForwarding: false, pexEnabled: false };

test('IPv6-only engines find each other through the DHT (BEP 32) and transfer a torrent', { timeout: 60_000 }, async () => {
  const size = 2 * 1024 * 1024;
  const pl = 64 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const hashes: Buffer[] = [];
  for (let o = 0; o < size; o += pl) hashes.push(createHash('sha1').update(data.subarray(o, o + pl)).digest());
  const meta = parseTorrent(buildTorrent({ name: 'v6.bin', files: null, length: size, pieceLength: pl, pieceHashes: Buffer.concat(hashes) }));
  const leechStore = new MemoryStorage(meta.info);
  // C: a plain DHT node both bootstrap from (with two nodes alone, each would only ask the other, which stores
  // nothing about itself).
  const c = new ClientEngine({ ...v6only, dhtBootstrap: [] });
  let a: ClientEngine | undefined;
  let b: ClientEngine | undefined;
  try {
    await c.start();
    for (let i = 0; i < 100 && !c.dht; i++) await sleep(20);
    assert.ok(c.dht, 'C runs a DHT node');
    const boot = [`[::1]:${c.udpPort}`];
    a = new ClientEngine({ ...v6only, dhtBootstrap: boot }, { createStorage: () => new MemoryStorage(meta.info, { content: data }) });
    const seed = await a.addTorrent(meta, { downloadDir: '/x' });
    await seed.start();
    b = new ClientEngine({ ...v6only, dhtBootstrap: boot }, { createStorage: () => leechStore });
    const t = await b.addTorrent(meta, { downloadDir: '/y' });
    await t.start();
    for (let i = 0; i < 200 && (b.dht?.stats().nodes6 ?? 0) < 1; i++) await sleep(25);
    const st = b.dht!.stats();
    assert.ok(st.nodes6 >= 1 && st.nodes === 0, `B's IPv6 table holds nodes, its IPv4 table none: ${JSON.stringify(st)}`);
    // A announces in the IPv6 table; B's get_peers lookups find it there.
    const t0 = Date.now();
    await t.waitForCompletion();
    assert.deepEqual(await leechStore.read(0, 0, 4096), data.subarray(0, 4096));
    assert.ok((c.dht?.stats().peersStored ?? 0) >= 1, 'C stored the announce');
    process.stdout.write(`# found and downloaded over IPv6 in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } finally {
    await b?.dispose();
    await a?.dispose();
    await c.dispose();
  }
});
