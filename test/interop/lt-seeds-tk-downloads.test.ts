/**
 * Foundation: libtorrent seeds a 64 MiB multi-file torrent (256 KiB pieces, file boundaries not on piece
 * boundaries) over TCP on loopback; `torrentkit download --peer` completes and the files are byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { tkDownload } from '../helpers/cli.js';
import type { TkProgress } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('libtorrent seeds 64 MiB multi-file; torrentkit downloads it byte-identical', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'lt-seeds-tk-downloads', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 64 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    assert.equal(made.pieces, 256);
    const seed = await startLtSeed(h, made.torrent, payload.dir);

    const t0 = Date.now();
    const tk = tkDownload(h, made.torrent, h.path('out'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`]);
    const complete = await seed.proc.whileRunning(tk.waitComplete(90_000), 'libtorrent seeder');
    const secs = (Date.now() - t0) / 1000;
    h.note(`torrentkit downloaded ${made.totalSize} bytes in ${secs.toFixed(2)} s (${(made.totalSize / 1e6 / secs).toFixed(1)} MB/s incl. start-up)`);

    await assertSameTree(payload.root, h.path('out', payload.name));
    const checked = tk.first('checked');
    assert.ok(checked, 'a "checked" event after the start-up check');
    assert.equal(checked.have, 0);
    assert.equal(checked.pieces, made.pieces);
    assert.ok(Number(complete.downloaded) >= made.totalSize, `complete.downloaded ${complete.downloaded} >= ${made.totalSize}`);
    // one seeder: no endgame duplicates, so hardly anything beyond the payload
    assert.ok(Number(complete.downloaded) <= made.totalSize + 4 * made.pieceSize, `complete.downloaded ${complete.downloaded}: too much for ${made.totalSize}`);
    const progress = tk.all<TkProgress>('progress');
    for (const p of progress) {
      assert.ok(p.progress >= 0 && p.progress <= 1, `progress in [0,1]: ${JSON.stringify(p)}`);
      assert.equal(p.pieces, made.pieces);
    }
  });
});
