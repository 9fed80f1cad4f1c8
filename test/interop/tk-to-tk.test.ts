/**
 * Foundation: `torrentkit create` makes the torrent, one `torrentkit seed` serves it, another
 * `torrentkit download` fetches it byte-identical. No third-party program involved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { runTk, tkDownload, tkSeed } from '../helpers/cli.js';
import { freePort, waitForListen } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('torrentkit seeds, another torrentkit downloads 32 MiB byte-identical', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['torrentkit'])) return;
  await withHarness(t, 'tk-to-tk', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 32 * MiB });
    const torrent = h.path('t.torrent');
    const create = runTk(h, ['create', payload.root, '-o', torrent, '--piece-length', String(256 * KiB)], 'tk-create');
    const cst = await create.waitForExit(60_000);
    assert.equal(cst.code, 0, `torrentkit create exits 0\n${create.proc.tail()}`);

    const seedPort = await freePort();
    const seed = tkSeed(h, torrent, payload.dir, ['--port', String(seedPort)]);
    await waitForListen(seedPort, 30_000, () => seed.proc.running, 'torrentkit seed');
    const t0 = Date.now();
    const dl = tkDownload(h, torrent, h.path('out'), ['--peer', `127.0.0.1:${seedPort}`, '--port', String(await freePort())]);
    const complete = await seed.proc.whileRunning(dl.waitComplete(90_000), 'torrentkit seed');
    h.note(`downloaded in ${((Date.now() - t0) / 1000).toFixed(2)} s (complete event: ${JSON.stringify(complete)})`);
    await assertSameTree(payload.root, h.path('out', payload.name));

    const st = await seed.interrupt(15_000);
    assert.deepEqual(st, { code: 0, signal: null }, 'torrentkit seed exits 0 on SIGINT');
    const up = seed.last('progress');
    if (up) h.note(`seeder's last progress line: ${JSON.stringify(up)}`);
  });
});
