/**
 * Foundation: `torrentkit seed --peer` dials transmission-cli (which cannot be told about a peer and
 * ignores loopback peers from trackers) and serves it a 16 MiB multi-file torrent to completion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent } from '../helpers/lt.js';
import { tkSeed } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { startTransmissionDownload } from '../helpers/transmission.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('torrentkit seeds 16 MiB multi-file; transmission-cli downloads it byte-identical', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['transmission-cli', 'libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'tk-seeds-transmission', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 16 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const tr = await startTransmissionDownload(h, made.torrent, h.path('out'));
    const tk = tkSeed(h, made.torrent, payload.dir, ['--port', String(await freePort()), '--peer', `127.0.0.1:${tr.port}`]);
    // transmission waits ~14 s before its first request, then runs at ~32 MB/s
    const secs = await tk.proc.whileRunning(tr.waitFinished(90_000), 'torrentkit seed');
    h.note(`transmission-cli finished after ${secs.toFixed(1)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const st = await tk.interrupt(15_000);
    assert.deepEqual(st, { code: 0, signal: null }, 'torrentkit seed exits 0 on SIGINT');
  });
});
