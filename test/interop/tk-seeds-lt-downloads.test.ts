/**
 * Foundation: `torrentkit seed` serves a 64 MiB multi-file torrent; libtorrent dials it and downloads
 * everything byte-identical; SIGINT then stops the seeder cleanly (exit 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload } from '../helpers/lt.js';
import { tkSeed } from '../helpers/cli.js';
import { freePort, waitForListen } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('torrentkit seeds 64 MiB multi-file; libtorrent downloads it byte-identical', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'tk-seeds-lt-downloads', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 64 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const port = await freePort();
    const tk = tkSeed(h, made.torrent, payload.dir, ['--port', String(port)]);
    await waitForListen(port, 30_000, () => tk.proc.running, 'torrentkit seed');
    const checked = await tk.waitForEvent((e) => e.event === 'checked', 60_000, '"checked" event');
    assert.equal(checked.have, made.pieces, 'the seeder finds every piece of its data');

    const lt = await startLtDownload(h, made.torrent, h.path('out'), { peers: [`127.0.0.1:${port}`] });
    const fin = await tk.proc.whileRunning(lt.waitFinished(90_000), 'torrentkit seed');
    h.note(`libtorrent downloaded from torrentkit in ${fin.seconds} s`);
    await lt.proc.waitForExit(15_000);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const up = await tk.waitForEvent((e) => e.event === 'progress' && Number(e.uploaded) >= made.totalSize, 10_000, 'progress with uploaded >= payload size');
    h.note(`seeder reports ${JSON.stringify(up)}`);

    const st = await tk.interrupt(15_000);
    assert.deepEqual(st, { code: 0, signal: null }, 'torrentkit seed exits 0 on SIGINT');
  });
});
