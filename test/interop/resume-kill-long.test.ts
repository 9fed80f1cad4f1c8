/**
 * The issue 14 acceptance run (long; skipped unless TK_RESUME_LONG=1, run by scripts/resume-kill.sh): a 256 MiB
 * download from a libtorrent seeder SIGKILLed at 10 random moments, restarted each time. Before each restart the
 * pieces really on disk are counted by a full hash; the restart must find exactly those (no verified piece lost,
 * nothing trusted that is not there) and must have used the resume data saved during the download. Prints one
 * line per kill: pieces trusted / re-checked / found, and what the last progress line said before the kill.
 *
 *   TK_RESUME_LONG=1 TK_RESUME_ORDER=sequential|rarest TK_RESUME_RATE=8M TK_RESUME_INTERVAL=5 scripts/test.sh interop resume-kill-long
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { withHarness } from '../helpers/harness.js';
import { KiB, MiB, writeDeterministicFile } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { tkDownload } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';
import { piecesOnDisk, resumeLine } from '../helpers/resume-check.js';

const FILES = 64;
const FILE_SIZE = 4 * MiB - 3 * KiB; // ~256 MiB in all, pieces spanning files
const PIECE = 256 * KiB;
const KILLS = 10;

test('256 MiB, 10 SIGKILLs at random moments: each restart trusts the periodic resume data and loses no verified piece', { timeout: 900_000 }, async (t) => {
  if (process.env.TK_RESUME_LONG !== '1') {
    t.skip('long run: TK_RESUME_LONG=1 (scripts/resume-kill.sh)');
    return;
  }
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  const order = process.env.TK_RESUME_ORDER ?? 'sequential';
  const rate = process.env.TK_RESUME_RATE ?? '8M';
  const interval = process.env.TK_RESUME_INTERVAL ?? '5';
  await withHarness(t, 'resume-kill-long', async (h) => {
    const root = h.path('src', 'big');
    for (let i = 0; i < FILES; i++) {
      const name = `f${String(i).padStart(2, '0')}.bin`;
      await writeDeterministicFile(path.join(root, name), FILE_SIZE, 'resume-kill-long', name);
    }
    const made = ltMakeTorrent(root, h.path('t.torrent'), PIECE);
    const seed = await startLtSeed(h, made.torrent, h.path('src'));
    const out = h.path('out');
    const targets = Array.from({ length: KILLS }, () => 0.03 + Math.random() * 0.87).sort((a, b) => a - b);
    const rows: string[] = [];
    let onDisk = 0;
    let lostTotal = 0;
    for (let k = 0; k <= KILLS; k++) {
      const args = ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--max-download-rate', rate, '--resume-interval', interval, '-v', '--progress-interval', '250'];
      if (order === 'sequential') args.push('--sequential');
      const run = tkDownload(h, made.torrent, out, args, `tk-${k}`);
      const checked = await run.waitForEvent((e) => e.event === 'checked', 120_000, '"checked" event');
      const m = await resumeLine(run);
      if (k > 0) {
        assert.ok(m, `restart ${k} used resume data`);
        const have = Number(checked.have);
        const lost = onDisk - have;
        lostTotal += Math.max(0, lost);
        rows.push(`kill ${k}: ${m.trusted} trusted, ${m.rechecked} re-checked (${m.present} found); have ${have} of ${made.pieces}, correct on disk before the restart ${onDisk}, lost ${lost}`);
        h.note(rows.at(-1)!);
        assert.equal(have, onDisk, `restart ${k}: found exactly the pieces on disk`);
      }
      if (k === KILLS) {
        await seed.proc.whileRunning(run.waitComplete(600_000), 'libtorrent seeder');
        assert.doesNotMatch(run.proc.stderr, /resume data not saved/);
        break;
      }
      // At least a few pieces past the restart's start, but never so close to the end that the run completes first.
      const target = Math.min(Math.max(targets[k]!, (Number(checked.have) + 8) / made.pieces), 0.95);
      await run.waitForEvent((e) => e.event === 'progress' && Number(e.progress) >= target, 300_000, `progress >= ${target.toFixed(3)}`);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1000)));
      await run.proc.stop(0, 'SIGKILL');
      onDisk = await piecesOnDisk(made.torrent, out);
    }
    await assertSameTree(root, path.join(out, 'big'));
    const again = tkDownload(h, made.torrent, out, ['--listen', `127.0.0.1:${await freePort()}`, '-v'], 'tk-after');
    const m = await resumeLine(again);
    await again.waitComplete(120_000);
    rows.push(`restart after completion: ${m?.trusted} trusted, ${m?.rechecked} re-checked`);
    const summary = `order ${order}, rate ${rate}/s, resume interval ${interval} s, ${made.pieces} pieces\n${rows.join('\n')}\nverified pieces lost: ${lostTotal}`;
    process.stderr.write(`\n${summary}\n`);
    assert.equal(lostTotal, 0);
    assert.equal(m?.rechecked, 0);
  });
});
