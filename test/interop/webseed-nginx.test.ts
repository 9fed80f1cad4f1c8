/**
 * BEP 19 web seeds against a real HTTP server (nginx): a torrent made with `torrentkit create --web-seed` is
 * downloaded from nginx alone (no peer at all), byte-identical; web seeds that answer 404 or do not answer back
 * off with their error shown, and do not hold the download up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withHarness } from '../helpers/harness.js';
import { makePayload, MiB } from '../helpers/payload.js';
import { tkDownload } from '../helpers/cli.js';
import type { TkEvent } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools, tkCliCommand } from '../helpers/tools.js';
import { startNginx } from '../helpers/nginx.js';

test('a torrent is downloaded from its web seed (nginx) alone; dead web seeds back off', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['nginx', 'torrentkit'])) return;
  await withHarness(t, 'webseed-nginx', async (h) => {
    const payload = await makePayload(h.path('www'), { totalSize: 16 * MiB });
    const web = await startNginx(h, payload.dir);
    const dead = `http://127.0.0.1:${await freePort()}/`;
    const missing = `${web.url}nothing-here/`;
    const [cmd, args] = tkCliCommand();
    const torrent = h.path('w.torrent');
    const made = spawnSync(cmd, [...args, 'create', payload.root, '-o', torrent, '--piece-length', String(256 * 1024), '--web-seed', web.url, '--web-seed', missing, '--web-seed', dead], {
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);

    const t0 = Date.now();
    const tk = tkDownload(h, torrent, h.path('out'), ['--listen', `127.0.0.1:${await freePort()}`, '--no-dht', '--no-lsd', '--no-port-forwarding', '--progress-interval', '100']);
    const complete = await web.proc.whileRunning(tk.waitComplete(60_000), 'nginx');
    h.note(`downloaded ${payload.totalSize} bytes from nginx in ${((Date.now() - t0) / 1000).toFixed(2)} s (${complete.seconds} s by torrentkit's count)`);
    await assertSameTree(payload.root, join(h.path('out'), payload.name));

    // The web seeds as the progress events showed them (every 100 ms), the last sighting of each.
    type Seed = { url: string; state: string; downloaded: number; error?: string };
    const sightings = tk.all<TkEvent & { webSeeds?: Seed[] }>('progress').flatMap((p) => p.webSeeds ?? []);
    const last = (url: string): Seed | undefined => sightings.filter((w) => w.url === url).pop();
    const everErr = (url: string): string => sightings.filter((w) => w.url === url && w.error).map((w) => w.error!).pop() ?? '';
    h.note(`web seeds at the end: ${JSON.stringify([web.url, missing, dead].map(last))}`);
    const good = last(web.url);
    assert.ok(good && good.downloaded > 0, 'nginx served data');
    // No peer was there: every byte came from the web seed.
    assert.ok(Number(complete.downloaded) >= payload.totalSize, `downloaded ${complete.downloaded}`);
    assert.match(everErr(missing), /404/);
    assert.match(everErr(dead), /connection failed|ECONNREFUSED/);
    assert.ok(sightings.some((w) => w.url === dead && w.state === 'waiting'), 'a dead web seed backs off');
  });
});

test('a web seed serving corrupt data is disabled after repeated hash failures; a good one completes the download', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['nginx', 'torrentkit'])) return;
  await withHarness(t, 'webseed-corrupt', async (h) => {
    const payload = await makePayload(h.path('good'), { totalSize: 8 * MiB, layout: 'single', name: 'one.bin' });
    // The same file with every 64 KiB block's first byte flipped: every piece fails its hash.
    const bad = await readFile(payload.root);
    for (let o = 0; o < bad.length; o += 64 * 1024) bad[o] = bad[o]! ^ 0xff;
    await mkdir(h.path('bad'), { recursive: true });
    await writeFile(h.path('bad', 'one.bin'), bad);
    const web = await startNginx(h, h.path('good'), 'nginx-good');
    const evil = await startNginx(h, h.path('bad'), 'nginx-bad');
    const [cmd, args] = tkCliCommand();
    const torrent = h.path('c.torrent');
    // Single file: URLs ending in '/' get the name appended (BEP 19).
    const made = spawnSync(cmd, [...args, 'create', payload.root, '-o', torrent, '--piece-length', String(64 * 1024), '--web-seed', evil.url, '--web-seed', web.url], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const tk = tkDownload(h, torrent, h.path('out'), ['--listen', `127.0.0.1:${await freePort()}`, '--no-dht', '--no-lsd', '--no-port-forwarding']);
    await web.proc.whileRunning(tk.waitComplete(60_000), 'nginx');
    assert.deepEqual(await readFile(h.path('out', 'one.bin')), await readFile(payload.root));
    const warnings = tk.all<TkEvent & { message: string }>('warning').map((w) => w.message);
    h.note(`warnings: ${JSON.stringify(warnings)}`);
    assert.ok(warnings.some((m) => m.includes(evil.url) && /disabled/.test(m)), 'the corrupt web seed was disabled');
    assert.ok(tk.all('hash-failed').length >= 1, 'hash failures reported');
  });
});
