/**
 * Selective download against libtorrent: `torrentkit download --select-files N` from a libtorrent seeder fetches
 * that file byte-identical and little else (the pieces it shares with its neighbours), exits 0, and a second
 * run without --select-files completes the rest, reusing what is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { tkDownload } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools, tkCliCommand } from '../helpers/tools.js';

test('torrentkit download --select-files fetches one file of a libtorrent seed, then the rest', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'select-files-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 16 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    // The torrent's own file order (libtorrent may sort), as `info` numbers it.
    const [cmd, args] = tkCliCommand();
    const info = spawnSync(cmd, [...args, 'info', made.torrent, '--json'], { encoding: 'utf8' });
    assert.equal(info.status, 0, info.stderr);
    const files = (JSON.parse(info.stdout) as { files: { path: string; length: number }[] }).files;
    // The largest file that is not the first: it has neighbours on both sides or at least one.
    const pick = files.reduce((best, f, i) => (i > 0 && f.length > files[best]!.length ? i : best), 1);
    const chosen = files[pick]!;
    h.note(`selecting file ${pick + 1} of ${files.length}: ${chosen.path} (${chosen.length} bytes)`);

    const seed = await startLtSeed(h, made.torrent, payload.dir);
    const out = h.path('out');
    const peerArgs = ['--peer', `127.0.0.1:${seed.port}`];
    const first = tkDownload(h, made.torrent, out, [...peerArgs, '--listen', `127.0.0.1:${await freePort()}`, '--select-files', String(pick + 1)], 'tk-select');
    const done = await seed.proc.whileRunning(first.waitComplete(60_000), 'libtorrent seeder');
    assert.deepEqual(await first.waitForExit(15_000), { code: 0, signal: null });
    // chosen.path is "<name>/..." in `info --json`: compare that one file.
    const rel = chosen.path.split('/').slice(1);
    assert.deepEqual(await readFile(join(out, payload.name, ...rel)), await readFile(join(payload.root, ...rel)), 'the selected file is byte-identical');
    const downloaded = Number(done.downloaded);
    h.note(`downloaded ${downloaded} bytes for a ${chosen.length}-byte file (torrent ${made.totalSize})`);
    assert.ok(downloaded <= chosen.length + 2 * made.pieceSize, `downloaded ${downloaded}: more than the file and its two boundary pieces`);

    // Without --select-files: the rest, keeping what the first run verified.
    const second = tkDownload(h, made.torrent, out, [...peerArgs, '--listen', `127.0.0.1:${await freePort()}`], 'tk-rest');
    const rest = await seed.proc.whileRunning(second.waitComplete(60_000), 'libtorrent seeder');
    const checked = second.first('checked');
    assert.ok(checked && Number(checked.have) > 0, 'the second run finds the first run\'s pieces');
    assert.ok(Number(rest.downloaded) <= made.totalSize - chosen.length + made.pieceSize, `second run downloaded ${rest.downloaded}`);
    await assertSameTree(payload.root, join(out, payload.name));
  });
});
