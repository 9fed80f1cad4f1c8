/**
 * Message Stream Encryption (issue 4) against real clients started by the test:
 * - libtorrent with encryption forced (RC4 only, in and out): torrentkit downloads from it and seeds to it,
 *   and both ends report the connection as encrypted;
 * - libtorrent with encryption disabled: torrentkit on `prefer` falls back to plaintext and completes; on
 *   `require` it refuses with a clear reason;
 * - transmission-cli with encryption required downloads from a torrentkit seeder;
 * - one torrentkit engine seeding two torrents gets encrypted connections for both and routes each by SKEY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ClientEngine } from '../../src/index.js';
import { pollUntil, withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload, startLtSeed } from '../helpers/lt.js';
import { tkDownload, tkSeed } from '../helpers/cli.js';
import type { TkEvent } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';
import { startTransmissionDownload } from '../helpers/transmission.js';

const peerEvents = (run: { events: TkEvent[] }): TkEvent[] => run.events.filter((e) => e.event === 'peer');

test('libtorrent forcing RC4: torrentkit downloads from it and seeds to it, encrypted', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'mse-forced-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB, seed: 'mse-forced' });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 128 * KiB);
    // 1. libtorrent (forced) seeds, torrentkit (default: prefer encryption) downloads.
    const seed = await startLtSeed(h, made.torrent, payload.dir, { encryption: 'forced' });
    const dl = tkDownload(h, made.torrent, h.path('out'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`]);
    await seed.proc.whileRunning(dl.waitComplete(60_000), 'libtorrent seeder');
    await assertSameTree(payload.root, h.path('out', payload.name));
    const pe = peerEvents(dl);
    assert.ok(pe.length >= 1 && pe.every((e) => e.encryption === 'rc4'), `connections were RC4: ${JSON.stringify(pe)}`);
    await seed.stop();

    // 2. torrentkit (require, full RC4) seeds, libtorrent (forced) downloads; torrentkit dials it.
    const ltDl = await startLtDownload(h, made.torrent, h.path('out-lt'), { encryption: 'forced', timeoutSec: 90 });
    const tk = tkSeed(h, made.torrent, payload.dir, ['--listen', `127.0.0.1:${await freePort()}`, '--peer', `127.0.0.1:${ltDl.port}`, '--encryption', 'require', '--encryption-level', 'full']);
    await tk.proc.whileRunning(ltDl.waitFinished(60_000), 'torrentkit seeder');
    await assertSameTree(payload.root, h.path('out-lt', payload.name));
    const pe2 = peerEvents(tk);
    assert.ok(pe2.length >= 1 && pe2.every((e) => e.encryption === 'rc4'), `connections were RC4: ${JSON.stringify(pe2)}`);
    assert.equal((await tk.interrupt()).code, 0);
  });
});

test('libtorrent with encryption disabled: prefer falls back to plaintext; require refuses', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'mse-disabled-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 4 * MiB, seed: 'mse-disabled' });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB);
    const seed = await startLtSeed(h, made.torrent, payload.dir, { encryption: 'disabled' });
    const dl = tkDownload(h, made.torrent, h.path('out'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--encryption', 'prefer']);
    await seed.proc.whileRunning(dl.waitComplete(60_000), 'libtorrent seeder');
    await assertSameTree(payload.root, h.path('out', payload.name));
    const pe = peerEvents(dl);
    assert.ok(pe.length >= 1 && pe.every((e) => e.encryption === 'none'), `fell back to plaintext: ${JSON.stringify(pe)}`);

    // require: no connection; the reason says the peer refused the encrypted kinds.
    const req = tkDownload(h, made.torrent, h.path('out-req'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--encryption', 'require', '--progress-interval', '200']);
    const w = await req.waitForEvent((e) => e.event === 'warning' && /refused every allowed connection kind/.test(String(e.message)), 30_000, 'a refusal reason');
    h.note(`require against a plaintext-only peer: ${String(w.message)}`);
    const before = req.all('progress').length;
    const prog = await pollUntil(() => (req.all('progress').length > before ? req.last('progress') : undefined), 10_000, 'a progress report');
    assert.equal(prog.peers, 0, `no peer connected on require: ${JSON.stringify(prog)}`);
    assert.equal(peerEvents(req).length, 0);
    await req.interrupt();
  });
});

test('transmission-cli requiring encryption downloads from a torrentkit seeder', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['transmission-cli', 'libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'mse-transmission', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 4 * MiB, seed: 'mse-transmission' });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB);
    const tr = await startTransmissionDownload(h, made.torrent, h.path('out'), { encryption: 'required' });
    const tk = tkSeed(h, made.torrent, payload.dir, ['--listen', `127.0.0.1:${await freePort()}`, '--peer', `127.0.0.1:${tr.port}`]);
    const secs = await tk.proc.whileRunning(tr.waitFinished(120_000), 'torrentkit seed');
    h.note(`transmission-cli (encryption required) finished after ${secs.toFixed(1)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const pe = peerEvents(tk);
    assert.ok(pe.length >= 1 && pe.every((e) => e.encryption === 'rc4' || e.encryption === 'header'), `encrypted: ${JSON.stringify(pe)}`);
    assert.equal((await tk.interrupt(15_000)).code, 0);
  });
});

test('one torrentkit engine seeding two torrents routes encrypted connections for both by SKEY', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent'])) return;
  await withHarness(t, 'mse-two-torrents', async (h) => {
    const a = await makePayload(h.path('a'), { totalSize: 4 * MiB, seed: 'skey-a', name: 'alpha' });
    const b = await makePayload(h.path('b'), { totalSize: 4 * MiB + 99, seed: 'skey-b', name: 'beta' });
    const ta = ltMakeTorrent(a.root, h.path('a.torrent'), 64 * KiB);
    const tb = ltMakeTorrent(b.root, h.path('b.torrent'), 64 * KiB);
    const engine = new ClientEngine({ listenEndpoints: [`127.0.0.1:${await freePort()}`], encryption: ['rc4-full'] });
    h.defer(() => engine.dispose());
    await engine.start();
    const sa = await engine.addTorrent(await readFile(ta.torrent), { downloadDir: a.dir });
    const sb = await engine.addTorrent(await readFile(tb.torrent), { downloadDir: b.dir });
    await sa.start();
    await sb.start();
    assert.equal(sa.state, 'seeding');
    assert.equal(sb.state, 'seeding');
    // libtorrent (forced RC4) dials us for each torrent: the SKEY in each MSE handshake names the torrent.
    const la = await startLtDownload(h, ta.torrent, h.path('out-a'), { encryption: 'forced', peers: [`127.0.0.1:${engine.listenPort}`], name: 'lt-a' });
    const lb = await startLtDownload(h, tb.torrent, h.path('out-b'), { encryption: 'forced', peers: [`127.0.0.1:${engine.listenPort}`], name: 'lt-b' });
    await Promise.all([la.waitFinished(60_000), lb.waitFinished(60_000)]);
    await assertSameTree(a.root, h.path('out-a', a.name));
    await assertSameTree(b.root, h.path('out-b', b.name));
    assert.ok(sa.stats().uploaded >= ta.totalSize && sb.stats().uploaded >= tb.totalSize, 'each torrent served its own data');
  });
});
