/**
 * Foundation: `torrentkit seed --peer` dials aria2c (which takes peers only from trackers/DHT/LPD and
 * incoming connections) and serves it a 16 MiB multi-file torrent; aria2c exits 0 when complete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent } from '../helpers/lt.js';
import { tkSeed } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { startAria2Download } from '../helpers/aria2.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('torrentkit seeds 16 MiB multi-file; aria2c downloads it byte-identical', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['aria2c', 'libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'tk-seeds-aria2', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 16 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const a2 = await startAria2Download(h, made.torrent, h.path('out'));
    const tk = tkSeed(h, made.torrent, payload.dir, ['--port', String(await freePort()), '--peer', `127.0.0.1:${a2.port}`]);
    const secs = await tk.proc.whileRunning(a2.waitFinished(90_000), 'torrentkit seed');
    h.note(`aria2c finished after ${secs.toFixed(1)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const st = await tk.interrupt(15_000);
    assert.deepEqual(st, { code: 0, signal: null }, 'torrentkit seed exits 0 on SIGINT');
  });
});
