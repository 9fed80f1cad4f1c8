/**
 * BEP 14 in the engine: two torrentkit CLIs on 127.0.0.1 (LSD pinned to loopback with --lsd-interface),
 * no tracker, no --peer: the downloader finds the seeder by Local Peer Discovery and completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent } from '../helpers/lt.js';
import { tkDownload, tkSeed } from '../helpers/cli.js';
import { freePort, waitForListen } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('LSD: a torrentkit downloader finds a torrentkit seeder on 127.0.0.1 with no tracker or --peer', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'lsd-tk', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 4 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB);
    const port = await freePort();
    const seed = tkSeed(h, made.torrent, payload.dir, ['--listen', `127.0.0.1:${port}`, '--lsd-interface', '127.0.0.1']);
    await waitForListen(port, 20_000);
    const t0 = Date.now();
    const tk = tkDownload(h, made.torrent, h.path('out'), ['--listen', `127.0.0.1:${await freePort()}`, '--lsd-interface', '127.0.0.1']);
    await seed.proc.whileRunning(tk.waitComplete(60_000), 'torrentkit seeder');
    h.note(`found by LSD and downloaded in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const peers = tk.all('peer');
    assert.ok(peers.some((p) => p.source === 'lsd' || p.source === 'incoming'), JSON.stringify(peers));
  });
});
