/**
 * Issue 5 against libtorrent on loopback: magnet links (BEP 9 metadata exchange over BEP 10) both ways,
 * and peer exchange (BEP 11): torrentkit learns a peer it was never told about from libtorrent's ut_pex.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload, startLtMagnet, startLtSeed } from '../helpers/lt.js';
import { runTk, tkDownload, tkSeed } from '../helpers/cli.js';
import { freePort, waitForListen } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('libtorrent seeds; torrentkit downloads from a magnet link (metadata, then content), and a restart uses the cached metadata', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'magnet-lt-seeds', async (h) => {
    // Many files: an info dictionary of several 16 KiB metadata pieces.
    const payload = await makePayload(h.path('src'), { totalSize: 24 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 16 * KiB);
    const seed = await startLtSeed(h, made.torrent, payload.dir);
    const magnet = `magnet:?xt=urn:btih:${made.infohash}&dn=x&x.pe=127.0.0.1:${seed.port}`;
    const t0 = Date.now();
    const tk = tkDownload(h, magnet, h.path('out'), ['--listen', `127.0.0.1:${await freePort()}`, '--no-lsd']);
    const complete = await seed.proc.whileRunning(tk.waitComplete(120_000), 'libtorrent seeder');
    h.note(`magnet download of ${made.totalSize} bytes in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const meta = tk.first('metadata');
    assert.ok(meta, 'a "metadata" event');
    assert.equal(meta.infoHash, made.infohash);
    assert.equal(meta.pieces, made.pieces);
    assert.ok(Number(complete.downloaded) >= made.totalSize);
    const cache = join(h.path('out'), '.torrentkit', `${made.infohash}.torrent`);
    assert.ok(existsSync(cache), `metadata cached at ${cache}`);

    // Restart with no peers at all: the cached metadata is used, the data checks complete.
    const again = tkDownload(h, `magnet:?xt=urn:btih:${made.infohash}`, h.path('out'), ['--listen', `127.0.0.1:${await freePort()}`, '--no-lsd'], 'tk-again');
    await again.waitComplete(60_000);
    assert.equal(again.first('metadata'), undefined, 'no metadata fetched the second time');
    assert.equal(again.first('checked')?.have, made.pieces);
  });
});

test('torrentkit seeds; libtorrent given only a magnet link with torrentkit\'s address completes', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'magnet-tk-seeds', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 16 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 32 * KiB);
    const port = await freePort();
    const seed = tkSeed(h, made.torrent, payload.dir, ['--listen', `127.0.0.1:${port}`, '--no-lsd']);
    await waitForListen(port, 20_000);
    const magnet = `magnet:?xt=urn:btih:${made.infohash}&x.pe=127.0.0.1:${port}`;
    const t0 = Date.now();
    const lt = await startLtMagnet(h, magnet, h.path('lt-out'), { peers: [`127.0.0.1:${port}`], timeoutSec: 150 });
    const fin = await seed.proc.whileRunning(lt.waitFinished(120_000), 'torrentkit seeder');
    h.note(`libtorrent (magnet) finished in ${((Date.now() - t0) / 1000).toFixed(2)} s (its own count ${String(fin.seconds)} s)`);
    await assertSameTree(payload.root, h.path('lt-out', payload.name));
  });
});

test('PEX: torrentkit connected only to libtorrent B learns libtorrent C through B and connects to it', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'pex-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB);
    const c = await startLtSeed(h, made.torrent, payload.dir, { name: 'lt-C', pex: true });
    // B downloads slowly from C, so the two stay connected.
    const b = await startLtDownload(h, made.torrent, h.path('b-out'), {
      name: 'lt-B',
      pex: true,
      peers: [`127.0.0.1:${c.port}`],
      downloadLimit: 100_000,
      until: 'never',
    });
    await b.waitForEvent((e) => e.event === 'status' && Array.isArray(e.peer_list) && (e.peer_list as string[]).length > 0, 30_000, 'B connected to C');
    const tk = tkDownload(h, made.torrent, h.path('out'), ['--peer', `127.0.0.1:${b.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--no-lsd']);
    const t0 = Date.now();
    const viaPex = await tk.waitForEvent((e) => e.event === 'peer' && e.source === 'pex' && String(e.address).endsWith(`:${c.port}`), 120_000, `a PEX peer at port ${c.port}`);
    h.note(`torrentkit connected to C (${String(viaPex.address)}) from PEX after ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    await tk.waitComplete(120_000);
    await assertSameTree(payload.root, h.path('out', payload.name));
    // And with --no-pex nothing is learned that way (checked on the events of a second, short run).
    const none = runTk(h, ['download', made.torrent, '-o', h.path('out2'), '--json', '--no-pex', '--no-lsd', '--peer', `127.0.0.1:${b.port}`, '--listen', `127.0.0.1:${await freePort()}`], 'tk-no-pex');
    await none.waitForEvent((e) => e.event === 'peer', 30_000, 'connected to B');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(none.all('peer').filter((e) => e.source === 'pex').length, 0, 'no PEX peers with --no-pex');
    await none.interrupt();
  });
});
