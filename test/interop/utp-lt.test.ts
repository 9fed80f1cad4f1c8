/**
 * uTP (issue 6) against libtorrent configured uTP-only (TCP off on both sides): torrentkit downloads a 64 MiB
 * torrent from it and seeds one to it, byte-identical, and reports the connections as uTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload, startLtSeed } from '../helpers/lt.js';
import { tkDownload, tkSeed } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

// Both directions should take a few seconds on loopback; the bounds only catch a stall.
test('uTP only: torrentkit downloads 64 MiB from libtorrent and seeds it back', { timeout: 420_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'utp-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 64 * MiB, seed: 'utp' });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const seed = await startLtSeed(h, made.torrent, payload.dir, { transport: 'utp' });
    const t0 = Date.now();
    const dl = tkDownload(h, made.torrent, h.path('out'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--transport', 'utp']);
    await seed.proc.whileRunning(dl.waitComplete(180_000), 'libtorrent seeder');
    const secs = (Date.now() - t0) / 1000;
    h.note(`uTP download of 64 MiB from libtorrent: ${secs.toFixed(1)} s (${(made.totalSize / 1e6 / secs).toFixed(1)} MB/s incl. start-up)`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const peers = dl.events.filter((e) => e.event === 'peer');
    assert.ok(peers.length >= 1 && peers.every((e) => e.transport === 'utp'), `uTP connections: ${JSON.stringify(peers)}`);
    await seed.stop();

    const ltDl = await startLtDownload(h, made.torrent, h.path('out-lt'), { transport: 'utp', timeoutSec: 200 });
    const tk = tkSeed(h, made.torrent, payload.dir, ['--listen', `127.0.0.1:${await freePort()}`, '--peer', `127.0.0.1:${ltDl.port}`, '--transport', 'utp']);
    const t1 = Date.now();
    await tk.proc.whileRunning(ltDl.waitFinished(180_000), 'torrentkit seeder');
    const secs2 = (Date.now() - t1) / 1000;
    h.note(`uTP upload of 64 MiB to libtorrent: ${secs2.toFixed(1)} s (${(made.totalSize / 1e6 / secs2).toFixed(1)} MB/s incl. start-up)`);
    await assertSameTree(payload.root, h.path('out-lt', payload.name));
    assert.equal((await tk.interrupt()).code, 0);
  });
});
