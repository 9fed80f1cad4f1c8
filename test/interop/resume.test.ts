/**
 * Foundation: an interrupted download resumes. libtorrent seeds with an upload limit so the transfer is
 * slow; `torrentkit download --json` is SIGKILLed part-way; the restart's start-up check finds the
 * verified pieces (have > 0), the restart downloads only what is missing, and the result is byte-identical.
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

const RATE = 4_000_000; // bytes/s the seeder may upload

test('SIGKILLed download resumes from verified pieces and fetches only the rest', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'resume', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 40 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const seed = await startLtSeed(h, made.torrent, payload.dir, { uploadLimit: RATE });
    const peerArgs = ['--peer', `127.0.0.1:${seed.port}`];
    const out = h.path('out');

    // Run 1: kill -9 once 30 % is verified.
    const run1 = tkDownload(h, made.torrent, out, [...peerArgs, '--listen', `127.0.0.1:${await freePort()}`], 'tk-download-1');
    const at = await run1.waitForEvent<TkProgress>((e) => e.event === 'progress' && Number(e.progress) >= 0.3, 60_000, 'progress >= 30 %');
    await run1.proc.stop(0, 'SIGKILL');
    h.note(`run 1 killed at ${JSON.stringify(at)}`);
    assert.ok(at.progress < 0.95, `run 1 should still be downloading when killed (progress ${at.progress}); is the seeder's upload limit working?`);

    // Run 2: same output directory.
    const run2 = tkDownload(h, made.torrent, out, [...peerArgs, '--listen', `127.0.0.1:${await freePort()}`], 'tk-download-2');
    const checked = await run2.waitForEvent((e) => e.event === 'checked', 60_000, '"checked" event of run 2');
    const haveAtStart = Number(checked.have);
    h.note(`run 2 start-up check: ${JSON.stringify(checked)} (run 1 reported have=${at.have} when killed)`);
    assert.equal(checked.pieces, made.pieces);
    assert.ok(haveAtStart > 0, 'the restart finds the pieces verified before the kill');
    const complete = await seed.proc.whileRunning(run2.waitComplete(90_000), 'libtorrent seeder');

    const missing = made.pieces - haveAtStart;
    const slack = 4 * made.pieceSize; // blocks in flight / endgame duplicates
    const bound = missing * made.pieceSize + slack;
    h.note(`run 2 downloaded ${complete.downloaded} bytes; ${missing} pieces were missing; bound ${bound}`);
    assert.ok(Number(complete.downloaded) <= bound, `run 2 downloaded ${complete.downloaded} bytes, more than the ${missing} missing pieces (+ slack) = ${bound}`);
    assert.ok(Number(complete.downloaded) >= (missing - 1) * made.pieceSize, `run 2 downloaded ${complete.downloaded} bytes, too few for ${missing} missing pieces`);
    await assertSameTree(payload.root, h.path('out', payload.name));
  });
});
