/**
 * CLI: `torrentkit seed --seed-ratio 1` serves a libtorrent downloader and then exits 0 by itself; `torrentkit
 * verify` checks data without the network (exit 0 when complete, 1 naming the damaged file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload } from '../helpers/lt.js';
import { tkSeed } from '../helpers/cli.js';
import { freePort, waitForListen } from '../helpers/ports.js';
import { requireTools, tkCliCommand } from '../helpers/tools.js';

test('torrentkit seed --seed-ratio 1 exits 0 once libtorrent has the whole torrent', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'seed-ratio', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const port = await freePort();
    const tk = tkSeed(h, made.torrent, payload.dir, ['--port', String(port), '--seed-ratio', '1']);
    await waitForListen(port, 30_000, () => tk.proc.running, 'torrentkit seed');
    const lt = await startLtDownload(h, made.torrent, h.path('out'), { peers: [`127.0.0.1:${port}`] });
    await tk.proc.whileRunning(lt.waitFinished(60_000), 'torrentkit seed');
    const st = await tk.waitForExit(30_000);
    assert.deepEqual(st, { code: 0, signal: null }, 'the seeder stops by itself');
    const ev = tk.last('seed-limit');
    assert.ok(ev, 'a seed-limit event');
    h.note(`seed-limit: ${String(ev.reason)}`);
  });
});

test('torrentkit verify: exit 0 on complete data, 1 naming the file with a damaged piece', { timeout: 60_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'verify', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const [cmd, args] = tkCliCommand();
    const verify = () => spawnSync(cmd, [...args, 'verify', made.torrent, '--data', payload.dir, '--json'], { encoding: 'utf8' });
    const ok = verify();
    assert.equal(ok.status, 0, ok.stderr);
    const good = JSON.parse(ok.stdout) as { have: number; pieces: number; complete: boolean };
    assert.equal(good.complete, true);
    assert.equal(good.have, made.pieces);
    const victim = payload.files[0]!;
    const fh = await open(join(payload.root, ...victim.path.split('/')), 'r+');
    // In the middle of the file: a piece that no other file shares.
    await fh.write(Buffer.from('torrentkit was here'), 0, 19, Math.floor(victim.size / 2));
    await fh.close();
    const bad = verify();
    assert.equal(bad.status, 1);
    const r = JSON.parse(bad.stdout) as { have: number; files: { path: string; complete: boolean }[] };
    assert.equal(r.have, made.pieces - 1);
    assert.deepEqual(r.files.filter((f) => !f.complete).map((f) => f.path), [`${payload.name}/${victim.path}`]);
  });
});

test('torrentkit seed --blocklist refuses libtorrent on a blocked address; without it libtorrent completes', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'blocklist', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 4 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    await writeFile(h.path('block.txt'), '# loopback\nLocal:127.0.0.0-127.255.255.255\n');
    const port = await freePort();
    const tk = tkSeed(h, made.torrent, payload.dir, ['--port', String(port), '--blocklist', h.path('block.txt')]);
    await waitForListen(port, 30_000, () => tk.proc.running, 'torrentkit seed');
    const lt = await startLtDownload(h, made.torrent, h.path('out'), { peers: [`127.0.0.1:${port}`], name: 'lt-blocked' });
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(lt.events.some((e) => e.event === 'finished'), false, 'nothing from a seeder that refuses it');
    const progress = tk.all('progress').pop();
    assert.equal(Number(progress?.uploaded ?? 0), 0, 'nothing uploaded');
    assert.deepEqual(await tk.interrupt(15_000), { code: 0, signal: null });
    await lt.proc.stop();
    // The same without the blocklist: it completes.
    const port2 = await freePort();
    const open = tkSeed(h, made.torrent, payload.dir, ['--port', String(port2)], 'tk-open');
    await waitForListen(port2, 30_000, () => open.proc.running, 'torrentkit seed');
    const lt2 = await startLtDownload(h, made.torrent, h.path('out2'), { peers: [`127.0.0.1:${port2}`], name: 'lt-open' });
    await open.proc.whileRunning(lt2.waitFinished(60_000), 'torrentkit seed');
    assert.deepEqual(await open.interrupt(15_000), { code: 0, signal: null });
  });
});
