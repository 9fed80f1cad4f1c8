/**
 * Trackers (issue 3) against two real tracker servers, opentracker (Debian) and bittorrent-tracker (npm), over
 * HTTP and over UDP: a libtorrent peer and the torrentkit CLI that know each other ONLY through the tracker (no
 * --peer on either side) complete a download both ways, byte-identical. Also tier failover: the torrent's first
 * tiers do not answer (a UDP port nobody serves, an HTTP server that never replies), the last does; the
 * download completes and the CLI's --json status shows the failed trackers' errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { withHarness } from '../helpers/harness.js';
import type { Harness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtDownload, startLtSeed } from '../helpers/lt.js';
import { tkDownload, tkSeed } from '../helpers/cli.js';
import type { TkEvent } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';
import type { Tool } from '../helpers/tools.js';
import { startBtTracker, startOpentracker } from '../helpers/trackers.js';
import type { TrackerServer } from '../helpers/trackers.js';

type ServerKind = 'opentracker' | 'bittorrent-tracker';

function toolsFor(kind: ServerKind): Tool[] {
  return kind === 'opentracker' ? ['libtorrent', 'torrentkit', 'opentracker', 'root'] : ['libtorrent', 'torrentkit', 'bittorrent-tracker'];
}

function startTracker(h: Harness, kind: ServerKind, infoHashes: string[]): Promise<TrackerServer> {
  return kind === 'opentracker' ? startOpentracker(h, infoHashes) : startBtTracker(h);
}

const isWorking = (url: string) => (e: TkEvent): boolean => e.event === 'tracker' && e.url === url && e.state === 'working';

for (const kind of ['opentracker', 'bittorrent-tracker'] as const) {
  for (const proto of ['http', 'udp'] as const) {
    test(`${kind} over ${proto.toUpperCase()}: libtorrent and torrentkit find each other only through it, both ways`, { timeout: 180_000 }, async (t) => {
      if (!requireTools(t, toolsFor(kind))) return;
      await withHarness(t, `trackers-${kind}-${proto}`, async (h) => {
        // Two torrents: A seeded by libtorrent, B seeded by torrentkit (so a peer from direction 1 can't serve 2).
        const a = await makePayload(h.path('a'), { totalSize: 4 * MiB + 777, seed: `${kind}-${proto}-a` });
        const b = await makePayload(h.path('b'), { totalSize: 4 * MiB + 333, seed: `${kind}-${proto}-b` });
        // Make the torrents first (opentracker must whitelist their hashes), then point them at the tracker.
        const probeA = ltMakeTorrent(a.root, h.path('probe-a.torrent'), 64 * KiB);
        const probeB = ltMakeTorrent(b.root, h.path('probe-b.torrent'), 64 * KiB);
        const tracker = await startTracker(h, kind, [probeA.infohash, probeB.infohash]);
        const url = proto === 'http' ? tracker.http : tracker.udp;
        const ta = ltMakeTorrent(a.root, h.path('a.torrent'), 64 * KiB, [url]);
        const tb = ltMakeTorrent(b.root, h.path('b.torrent'), 64 * KiB, [url]);
        assert.equal(ta.infohash, probeA.infohash);

        // 1. libtorrent seeds A, announces; torrentkit downloads A with no --peer.
        const ltSeed = await startLtSeed(h, ta.torrent, a.dir, { name: 'lt-seed-a' });
        await ltSeed.waitForEvent((e) => e.event === 'tracker_reply', 30_000, 'libtorrent tracker_reply');
        const dl = tkDownload(h, ta.torrent, h.path('out-a'), ['--listen', `127.0.0.1:${await freePort()}`]);
        await ltSeed.proc.whileRunning(dl.waitComplete(60_000), 'libtorrent seeder');
        await assertSameTree(a.root, h.path('out-a', a.name));
        const tr = dl.events.find(isWorking(url));
        assert.ok(tr, `a "tracker" event with state working for ${url}`);
        assert.ok(Number(tr.totalPeers) >= 1, `the tracker gave peers: ${JSON.stringify(tr)}`);
        await ltSeed.stop();

        // 2. torrentkit seeds B, announces; libtorrent downloads B with no peer given.
        const seed = tkSeed(h, tb.torrent, b.dir, ['--listen', `127.0.0.1:${await freePort()}`, '--progress-interval', '200']);
        await seed.waitForEvent(isWorking(url), 30_000, `announce to ${url}`);
        const ltDl = await startLtDownload(h, tb.torrent, h.path('out-b'), { name: 'lt-download-b', timeoutSec: 90 });
        await seed.proc.whileRunning(ltDl.waitFinished(60_000), 'torrentkit seeder');
        await ltDl.proc.waitForExit(10_000);
        await assertSameTree(b.root, h.path('out-b', b.name));
        const st = await seed.interrupt();
        assert.equal(st.code, 0, 'torrentkit seed exits 0 on SIGINT');
        if (kind === 'bittorrent-tracker') {
          // The tracker heard torrentkit's `stopped` on shutdown.
          const stops = tracker.events().filter((e) => e.event === 'stop');
          assert.ok(stops.length >= 1, `bittorrent-tracker saw a stop: ${JSON.stringify(tracker.events())}`);
        }
      });
    });
  }
}

test('tier failover: dead first tiers (silent UDP, HTTP that never answers), a working last tier', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, toolsFor('opentracker'))) return;
  await withHarness(t, 'trackers-failover', async (h) => {
    const p = await makePayload(h.path('p'), { totalSize: 4 * MiB, seed: 'failover' });
    const probe = ltMakeTorrent(p.root, h.path('probe.torrent'), 64 * KiB);
    const ot = await startOpentracker(h, [probe.infohash]);
    // An HTTP "tracker" that accepts connections and never says a word.
    const silent: Socket[] = [];
    const blackhole = createServer((s) => silent.push(s));
    const bhPort = await freePort();
    await new Promise<void>((resolve) => blackhole.listen(bhPort, '127.0.0.1', resolve));
    h.defer(() => {
      for (const s of silent) s.destroy();
      blackhole.close();
    });
    const deadUdp = `udp://127.0.0.1:${await freePort()}/announce`;
    const hung = `http://127.0.0.1:${bhPort}/announce`;
    // libtorrent seeds with the good tracker only; torrentkit's torrent lists the dead ones first (same info-hash).
    const seedTorrent = ltMakeTorrent(p.root, h.path('seed.torrent'), 64 * KiB, [ot.http]);
    const dlTorrent = ltMakeTorrent(p.root, h.path('dl.torrent'), 64 * KiB, [deadUdp, hung, ot.http]);
    const ltSeed = await startLtSeed(h, seedTorrent.torrent, p.dir);
    await ltSeed.waitForEvent((e) => e.event === 'tracker_reply', 30_000, 'libtorrent tracker_reply');
    const t0 = Date.now();
    const dl = tkDownload(h, dlTorrent.torrent, h.path('out'), ['--listen', `127.0.0.1:${await freePort()}`, '--tracker-timeout', '1500', '--progress-interval', '200']);
    await ltSeed.proc.whileRunning(dl.waitComplete(60_000), 'libtorrent seeder');
    h.note(`completed through the third tier in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await assertSameTree(p.root, h.path('out', p.name));
    const failed = (url: string): TkEvent | undefined => dl.events.find((e) => e.event === 'tracker' && e.url === url && e.state === 'failed');
    const f1 = failed(deadUdp);
    const f2 = failed(hung);
    assert.ok(f1 && typeof f1.error === 'string' && f1.error.length > 0, `the silent UDP tracker's error is reported: ${JSON.stringify(f1)}`);
    assert.ok(f2 && typeof f2.error === 'string' && /answer|time|abort/i.test(String(f2.error)), `the hung HTTP tracker's timeout is reported: ${JSON.stringify(f2)}`);
    assert.ok(dl.events.some(isWorking(ot.http)), 'the third tier answered');
    const prog = dl.last('progress');
    assert.ok(prog && Array.isArray(prog.trackers) && prog.trackers.length === 3, `progress lists the 3 trackers: ${JSON.stringify(prog)}`);
  });
});
