/**
 * BEP 47 padding files: libtorrent 2.x makes v1+v2 hybrid torrents by default, with `.pad/N` files between the
 * real files. libtorrent seeds one; torrentkit downloads it over v1, byte-identical, and creates no pad files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { tkDownload } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('libtorrent seeds a hybrid torrent with pad files; torrentkit downloads it without creating them', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'lt-hybrid-pad-files', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 16 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB, [], true);
    const seed = await startLtSeed(h, made.torrent, payload.dir);
    const tk = tkDownload(h, made.torrent, h.path('out'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`]);
    await seed.proc.whileRunning(tk.waitComplete(90_000), 'libtorrent seeder');
    await assertSameTree(payload.root, h.path('out', payload.name));
    assert.equal(existsSync(h.path('out', payload.name, '.pad')), false, 'no .pad directory is created');
  });
});
