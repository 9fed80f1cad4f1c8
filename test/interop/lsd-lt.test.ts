/**
 * BEP 14 LSD against libtorrent: our LsdService on a node:dgram multicast socket pinned to 127.0.0.1, and a
 * libtorrent seeder with LSD on (announce interval 2 s, no subnet broadcast), both on port 6771 of lo.
 * - we hear libtorrent's announce for its info-hash (host 127.0.0.1, its listen port);
 * - libtorrent reports an lsd_peer for our announce (our Port header);
 * - our own announces (which lo loops back to us) are not reported as peers.
 * Multicast must stay on lo: the test runs only in a loopback-only network namespace (scripts/test.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NodeClock, NodeRandom } from '../../src/core/index.js';
import { LsdService, createNodeMulticastSocket } from '../../src/lsd/index.js';
import { pollUntil, withHarness } from '../helpers/harness.js';
import { KiB, makePayload } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { freePort } from '../helpers/ports.js';
import { inCi, requireTools } from '../helpers/tools.js';

/** Interfaces other than lo in this network namespace (multicast could leave the machine through them). */
function otherInterfaces(): string[] {
  const lines = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2);
  return lines.map((l) => l.split(':')[0]!.trim()).filter((n) => n.length > 0 && n !== 'lo');
}

test('LSD: torrentkit and libtorrent discover each other on 127.0.0.1', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent'])) return;
  const others = otherInterfaces();
  if (others.length > 0) {
    const why = `needs a loopback-only network namespace (run it through scripts/test.sh); visible: ${others.join(', ')}`;
    if (inCi()) throw new Error(why);
    t.skip(why);
    return;
  }
  await withHarness(t, 'lsd-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 256 * KiB, layout: 'single' });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 16 * KiB);
    const ourPort = await freePort();

    const peers: { infoHash: string; host: string; port: number }[] = [];
    const errors: unknown[] = [];
    const svc = new LsdService({
      clock: new NodeClock(),
      random: new NodeRandom(),
      socketFactory: () => createNodeMulticastSocket({ interfaceAddress: '127.0.0.1', onError: (e) => errors.push(e) }),
      port: ourPort,
      hasTorrent: (ih) => ih === made.infohash,
      onPeer: (infoHash, host, port) => peers.push({ infoHash, host, port }),
      onError: (e) => errors.push(e),
    });
    h.defer(() => svc.stop());
    await svc.start();
    svc.add(made.infohash);

    const lt = await startLtSeed(h, made.torrent, payload.dir, { lsd: true, lsdIntervalSec: 2 });
    h.note(`libtorrent listening on ${lt.port}, we announce port ${ourPort}, cookie ${svc.cookie}`);

    // 1. We hear libtorrent (it announces when the torrent starts, then every 2 s).
    const heard = await lt.proc.whileRunning(
      pollUntil(() => peers.find((p) => p.port === lt.port), 20_000, "libtorrent's LSD announce"),
      'libtorrent',
    );
    assert.equal(heard.infoHash, made.infohash);
    assert.equal(heard.host, '127.0.0.1');

    // 2. libtorrent hears us. Our first announce may have gone out before libtorrent joined the group:
    //    re-announce (setPort to the same value is a no-op, so remove + add) until it reports the peer.
    const got = await lt.proc.whileRunning(
      (async () => {
        const want = (e: { event: string; ip?: unknown }): boolean => e.event === 'lsd_peer' && String(e.ip).endsWith(`:${ourPort}`);
        for (let i = 0; i < 15; i++) {
          const ev = lt.events.find(want);
          if (ev) return ev;
          svc.remove(made.infohash);
          svc.add(made.infohash);
          await new Promise((r) => setTimeout(r, 1000));
        }
        return lt.waitForEvent(want, 5000, 'libtorrent lsd_peer for our announce');
      })(),
      'libtorrent',
    );
    h.note(`libtorrent: ${JSON.stringify(got)}`);
    assert.equal(String(got.ip), `127.0.0.1:${ourPort}`);
    assert.equal(got.infohash, made.infohash);

    // 3. Our own announces came back over lo and were filtered by cookie.
    assert.ok(!peers.some((p) => p.port === ourPort), 'our own announce must not be reported as a peer');
    assert.ok(svc.stats.ignored > 0, 'our looped-back announces were seen and ignored');
    assert.ok(svc.stats.sent >= 1);
    assert.deepEqual(errors, []);
  });
});
