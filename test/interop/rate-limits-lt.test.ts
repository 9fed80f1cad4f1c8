/**
 * Rate limits against libtorrent: `torrentkit download --max-download-rate 2M` from a libtorrent seeder and
 * `torrentkit seed --max-upload-rate 2M` to a libtorrent downloader each move 8 MiB in about 4 s (not the
 * fraction of a second loopback allows), byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload, startLtSeed } from '../helpers/lt.js';
import { tkDownload, tkSeed } from '../helpers/cli.js';
import { freePort, waitForListen } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

const SIZE = 8 * MiB;
const RATE = 2 * MiB;
/** SIZE at RATE, less the quarter-second burst the limiter allows after a quiet period. */
const EXPECTED = SIZE / RATE - 0.25;

test('torrentkit download --max-download-rate 2M from libtorrent takes ~4 s for 8 MiB', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'rate-download-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: SIZE });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const seed = await startLtSeed(h, made.torrent, payload.dir);
    const tk = tkDownload(h, made.torrent, h.path('out'), [
      '--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--max-download-rate', '2M',
    ]);
    const complete = await seed.proc.whileRunning(tk.waitComplete(60_000), 'libtorrent seeder');
    const secs = Number(complete.seconds);
    h.note(`8 MiB at --max-download-rate 2M: ${secs.toFixed(2)} s (${(SIZE / MiB / secs).toFixed(2)} MiB/s)`);
    assert.ok(secs >= EXPECTED * 0.9 && secs <= EXPECTED * 2, `took ${secs} s, expected about ${EXPECTED} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
  });
});

test('torrentkit seed --max-upload-rate 2M to libtorrent takes ~4 s for 8 MiB', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'rate-upload-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: SIZE });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const port = await freePort();
    const tk = tkSeed(h, made.torrent, payload.dir, ['--port', String(port), '--max-upload-rate', '2M']);
    await waitForListen(port, 30_000, () => tk.proc.running, 'torrentkit seed');
    await tk.waitForEvent((e) => e.event === 'checked', 30_000, '"checked" event');
    const lt = await startLtDownload(h, made.torrent, h.path('out'), { peers: [`127.0.0.1:${port}`] });
    const fin = await tk.proc.whileRunning(lt.waitFinished(60_000), 'torrentkit seed');
    const secs = Number(fin.seconds);
    h.note(`8 MiB at --max-upload-rate 2M: libtorrent finished in ${secs.toFixed(2)} s`);
    assert.ok(secs >= EXPECTED * 0.9 && secs <= EXPECTED * 2, `took ${secs} s, expected about ${EXPECTED} s`);
    await lt.proc.waitForExit(15_000);
    await assertSameTree(payload.root, h.path('out', payload.name));
    assert.deepEqual(await tk.interrupt(15_000), { code: 0, signal: null });
  });
});
