/**
 * BEP 14 end to end (issue 5): libtorrent with LSD on and torrentkit find each other by Local Peer Discovery
 * alone (no tracker, no DHT, no --peer) and complete a download, both ways. Everything is on 127.0.0.1 inside
 * the loopback-only network namespace scripts/test.sh creates, so the multicast cannot leave it; torrentkit's
 * LSD is pinned to 127.0.0.1 with --lsd-interface.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload, startLtSeed } from '../helpers/lt.js';
import { tkDownload, tkSeed } from '../helpers/cli.js';
import { freePort, listeningPorts } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

/** True when this process sees no network interface but lo (scripts/test.sh's namespace). */
function loopbackOnly(): boolean {
  return Object.keys(networkInterfaces()).every((n) => n === 'lo');
}

test('LSD: libtorrent and torrentkit discover each other with no tracker, DHT or --peer, both ways', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  if (!loopbackOnly()) {
    // Multicast on a host with a LAN would follow the default route: this test runs only in a lo-only namespace.
    if (process.env.CI) throw new Error('LSD interop must run inside a loopback-only namespace (scripts/test.sh)');
    t.skip('needs a loopback-only network namespace (run through scripts/test.sh)');
    return;
  }
  await withHarness(t, 'lsd-engine-lt', async (h) => {
    const a = await makePayload(h.path('a'), { totalSize: 4 * MiB, seed: 'lsd-a' });
    const b = await makePayload(h.path('b'), { totalSize: 4 * MiB + 5, seed: 'lsd-b' });
    const ta = ltMakeTorrent(a.root, h.path('a.torrent'), 64 * KiB);
    const tb = ltMakeTorrent(b.root, h.path('b.torrent'), 64 * KiB);
    const noOthers = ['--no-dht', '--lsd-interface', '127.0.0.1'];

    // 1. libtorrent seeds A with LSD; torrentkit downloads A knowing nothing but the torrent.
    const ltSeed = await startLtSeed(h, ta.torrent, a.dir, { lsd: true, lsdIntervalSec: 2, name: 'lt-seed-lsd' });
    let t0 = Date.now();
    const dl = tkDownload(h, ta.torrent, h.path('out-a'), ['--listen', `127.0.0.1:${await freePort()}`, ...noOthers]);
    await ltSeed.proc.whileRunning(dl.waitComplete(60_000), 'libtorrent seeder');
    h.note(`torrentkit found libtorrent by LSD and downloaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await assertSameTree(a.root, h.path('out-a', a.name));
    const peers = dl.all('peer');
    assert.ok(peers.some((p) => p.source === 'lsd' || p.source === 'incoming'), `peer found by LSD: ${JSON.stringify(peers)}`);
    await ltSeed.stop();

    // 2. torrentkit seeds B and announces it by LSD; libtorrent (LSD on, no peers given) downloads it.
    const port = await freePort();
    const seed = tkSeed(h, tb.torrent, b.dir, ['--listen', `127.0.0.1:${port}`, ...noOthers]);
    for (let i = 0; i < 100 && !listeningPorts().has(port); i++) await new Promise((r) => setTimeout(r, 100));
    t0 = Date.now();
    const ltDl = await startLtDownload(h, tb.torrent, h.path('out-b'), { lsd: true, lsdIntervalSec: 2, name: 'lt-download-lsd', timeoutSec: 90 });
    await seed.proc.whileRunning(ltDl.waitFinished(60_000), 'torrentkit seeder');
    h.note(`libtorrent found torrentkit by LSD and downloaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await assertSameTree(b.root, h.path('out-b', b.name));
    assert.equal((await seed.interrupt()).code, 0);
  });
});
