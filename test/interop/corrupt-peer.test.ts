/**
 * Foundation: a hostile peer that answers every request with garbage, next to a good libtorrent seeder.
 * torrentkit must still complete byte-identical, report the failed pieces (`hash-failed`), ban the
 * hostile peer (`peer-banned`) and not ban the good one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { tkDownload } from '../helpers/cli.js';
import { startBadPeer } from '../helpers/bad-peer.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';

test('corrupt data from one peer: hash failures, the peer is banned, the download completes', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'corrupt-peer', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 16 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const bad = await startBadPeer(made.infohash, made.pieces);
    h.defer(() => bad.close());
    // The good seeder is rate-limited so that the (instant) bad peer is sure to be asked for blocks.
    const good = await startLtSeed(h, made.torrent, payload.dir, { uploadLimit: 4_000_000 });
    const goodAddr = `127.0.0.1:${good.port}`;

    const tk = tkDownload(h, made.torrent, h.path('out'), ['--peer', bad.address, '--peer', goodAddr, '--listen', `127.0.0.1:${await freePort()}`]);
    await good.proc.whileRunning(tk.waitComplete(90_000), 'libtorrent seeder');
    h.note(`bad peer: ${JSON.stringify(bad.stats)}`);
    await assertSameTree(payload.root, h.path('out', payload.name));

    assert.ok(bad.stats.requests > 0, 'torrentkit requested blocks from the bad peer');
    const failed = tk.all('hash-failed');
    assert.ok(failed.length > 0, 'at least one "hash-failed" event');
    for (const f of failed) {
      assert.ok(Number.isInteger(f.piece) && Number(f.piece) >= 0 && Number(f.piece) < made.pieces, `hash-failed piece index: ${JSON.stringify(f)}`);
      assert.ok(Array.isArray(f.peers), `hash-failed lists the peers: ${JSON.stringify(f)}`);
    }
    assert.ok(
      failed.some((f) => (f.peers as string[]).includes(bad.address)),
      `some hash-failed event names the bad peer ${bad.address}: ${JSON.stringify(failed)}`,
    );
    const banned = tk.all('peer-banned');
    assert.ok(banned.some((b) => b.peer === bad.address), `the bad peer ${bad.address} is banned: ${JSON.stringify(banned)}`);
    assert.ok(!banned.some((b) => b.peer === goodAddr), `the good seeder ${goodAddr} is not banned: ${JSON.stringify(banned)}`);
  });
});
