/**
 * Issue 14 items 4 and 5, through the CLI against a libtorrent seeder: (a) plain downloads print no "resume data
 * not saved" warning; (c) SIGKILLs (and one Ctrl-C) part-way through a rate-limited download: each restart uses the resume data
 * saved periodically during the download (trusting the files untouched since, re-hashing the rest) and loses no
 * verified piece; (b) a restart after the completed download trusts everything (0 re-checked); (d) a file
 * modified and one truncated after that clean stop are detected. The figures of each restart are test notes
 * (TK_TEST_VERBOSE=1 prints them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, truncate } from 'node:fs/promises';
import path from 'node:path';
import { withHarness } from '../helpers/harness.js';
import type { Harness } from '../helpers/harness.js';
import { KiB, MiB, writeDeterministicFile } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { tkDownload } from '../helpers/cli.js';
import type { TkEvent, TkRun } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';
import { piecesOnDisk, resumeLine } from '../helpers/resume-check.js';

const FILES = 16;
const FILE_SIZE = 4 * MiB - 3 * KiB; // unaligned: pieces span files
const PIECE = 256 * KiB;
const RATE = '4M'; // the leecher's download limit during the kill runs

async function checkedEvent(run: TkRun): Promise<TkEvent> {
  return run.waitForEvent((e) => e.event === 'checked', 60_000, '"checked" event');
}

function noResumeWarning(run: TkRun, what: string): void {
  assert.doesNotMatch(run.proc.stderr, /resume data not saved/, `${what}: ${run.proc.stderr.slice(0, 2000)}`);
}

async function payload(h: Harness): Promise<string> {
  const root = h.path('src', 'many');
  for (let i = 0; i < FILES; i++) {
    const name = `f${String(i).padStart(2, '0')}.bin`;
    await writeDeterministicFile(path.join(root, name), FILE_SIZE, 'resume-trust', name);
  }
  return root;
}

test('resume data: no false warning, saved during the download, trusted after SIGKILL and after a clean stop, changes still found', { timeout: 150_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'resume-trust', async (h) => {
    const root = await payload(h);
    const made = ltMakeTorrent(root, h.path('t.torrent'), PIECE);
    const seed = await startLtSeed(h, made.torrent, h.path('src'));
    const peer = ['--peer', `127.0.0.1:${seed.port}`];
    const listen = async (): Promise<string[]> => ['--listen', `127.0.0.1:${await freePort()}`];

    // (a) plain downloads in a row: exit 0, no warning about resume data (TK_RESUME_PLAIN=20 for the count).
    const plain = Number(process.env.TK_RESUME_PLAIN ?? 3);
    for (let i = 0; i < plain; i++) {
      const run = tkDownload(h, made.torrent, h.path(`plain-${i}`), [...peer, ...(await listen())], `tk-plain-${i}`);
      await seed.proc.whileRunning(run.waitComplete(60_000), 'libtorrent seeder');
      noResumeWarning(run, `plain download ${i}`);
    }

    // (c) SIGKILL part-way, several times; each restart must use the periodic resume data.
    const out = h.path('out');
    const args = async (): Promise<string[]> => [...peer, ...(await listen()), '--max-download-rate', RATE, '--resume-interval', '1', '--sequential', '-v', '--progress-interval', '200'];
    const targets = [0.4, 0.62, 0.82]; // + up to 0.1; files written in the 3 s before a periodic save are racy (re-checked)
    let verifiedBeforeKill = 0;
    let onDisk = 0;
    for (let k = 0; k <= targets.length; k++) {
      const run = tkDownload(h, made.torrent, out, await args(), `tk-run-${k}`);
      const checked = await checkedEvent(run);
      const line = await resumeLine(run);
      if (k > 0) {
        assert.ok(line, `restart ${k}: resume data was used (stderr: ${run.proc.stderr.slice(0, 1500)})`);
        h.note(`restart after ${k === 2 ? 'Ctrl-C' : 'SIGKILL'} ${k}: ${line.trusted} trusted, ${line.rechecked} re-checked, ${line.present} present; have ${checked.have} of ${made.pieces}; ${verifiedBeforeKill} verified before the kill (last progress line), ${onDisk} correct on disk`);
        assert.equal(Number(checked.have), line.trusted + line.present);
        assert.equal(Number(checked.have), onDisk, `restart ${k}: every piece written before the kill is found, nothing more`);
        assert.ok(Number(checked.have) >= verifiedBeforeKill, `restart ${k}: ${checked.have} pieces found, ${verifiedBeforeKill} were verified before the kill`);
        assert.ok(line.trusted > 0, `restart ${k}: the files finished before the last periodic save are trusted`);
        if (k === 2) assert.equal(line.rechecked, 0, 'after a Ctrl-C (clean stop) nothing is re-checked');
        assert.ok(line.rechecked < made.pieces / 2, `restart ${k}: only the files written since the save (or just before it) are re-hashed`);
      }
      if (k === targets.length) {
        await seed.proc.whileRunning(run.waitComplete(90_000), 'libtorrent seeder');
        noResumeWarning(run, 'the last run');
        break;
      }
      const target = targets[k]! + Math.random() * 0.1;
      await run.waitForEvent((e) => e.event === 'progress' && Number(e.progress) >= target, 60_000, `progress >= ${target.toFixed(2)}`);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      verifiedBeforeKill = Math.max(...run.all('progress').map((e) => Number(e.have)), Number(checked.have));
      if (k === 1) {
        // Once a Ctrl-C instead: a clean stop, so the next start trusts everything on disk.
        const st = await run.interrupt(20_000);
        assert.equal(st.code, 130, 'SIGINT: exit code 130');
        noResumeWarning(run, 'after Ctrl-C');
      } else {
        await run.proc.stop(0, 'SIGKILL');
      }
      assert.ok(verifiedBeforeKill < made.pieces, 'killed before the end');
      onDisk = await piecesOnDisk(made.torrent, out);
    }
    await assertSameTree(root, path.join(out, 'many'));

    // (b) a restart right after the completed download (a clean stop): nothing re-checked.
    const again = tkDownload(h, made.torrent, out, [...(await listen()), '-v'], 'tk-after-complete');
    await checkedEvent(again);
    await again.waitComplete(30_000);
    const b = await resumeLine(again);
    h.note(`restart after completion: ${JSON.stringify(b)}`);
    assert.deepEqual(b, { trusted: made.pieces, rechecked: 0, present: 0 });

    // (d) behind the engine's back: one byte of f03 changed (same size), f09 truncated.
    const fh = await open(path.join(out, 'many', 'f03.bin'), 'r+');
    const [byte] = (await fh.read(Buffer.alloc(1), 0, 1, 1000)).buffer;
    await fh.write(Buffer.from([byte! ^ 0xff]), 0, 1, 1000);
    await fh.close();
    await truncate(path.join(out, 'many', 'f09.bin'), 100 * KiB);
    const changed = tkDownload(h, made.torrent, out, [...peer, ...(await listen()), '-v'], 'tk-after-change');
    const c = await checkedEvent(changed);
    const d = await resumeLine(changed);
    h.note(`restart after changing two files: ${JSON.stringify(d)}, have ${c.have}`);
    assert.ok(d);
    const perFile = Math.ceil(FILE_SIZE / PIECE) + 1;
    assert.ok(d.rechecked >= 2 && d.rechecked <= 2 * perFile, `only the two files' pieces are re-checked (${d.rechecked})`);
    assert.ok(Number(c.have) < made.pieces, 'the damage is found');
    await seed.proc.whileRunning(changed.waitComplete(60_000), 'libtorrent seeder');
    await assertSameTree(root, path.join(out, 'many'));
  });
});
