/**
 * Trackers (issue 3), library level, against opentracker and bittorrent-tracker over HTTP and UDP: two engines
 * in this process (a seeder and a leecher) meet only through the tracker, and the test checks what a tracker
 * must see: scrape counts that match (2 seeders once the leecher completes), `completed` exactly once,
 * `stopped` on stop (a scrape afterwards no longer counts the peer), and that an engine never dials itself
 * although both trackers list the announcing peer in its own peer list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine } from '../../src/index.js';
import type { TorrentManager } from '../../src/index.js';
import { buildTorrent, parseTorrent } from '../../src/metainfo/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { TcpTransport } from '../../src/transport/index.js';
import type { Connection, DialOptions, Transport } from '../../src/transport/index.js';
import { pollUntil, withHarness } from '../helpers/harness.js';
import { requireTools } from '../helpers/tools.js';
import type { Tool } from '../helpers/tools.js';
import { startBtTracker, startOpentracker } from '../helpers/trackers.js';

/** TCP, recording every address dialed. */
class RecordingTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly dialed: string[] = [];
  private readonly tcp = new TcpTransport();
  dial(host: string, port: number, opts?: DialOptions): Promise<Connection> {
    this.dialed.push(`${host}:${port}`);
    return this.tcp.dial(host, port, opts);
  }
  listen(host: string, port: number, on: (c: Connection) => void): ReturnType<Transport['listen']> {
    return this.tcp.listen(host, port, on);
  }
}

const FAST = { listenEndpoints: ['127.0.0.1:0'], trackerMinIntervalMs: 1000, trackerRetryBaseMs: 1000, udpTrackerBaseTimeoutMs: 2000 };

for (const kind of ['opentracker', 'bittorrent-tracker'] as const) {
  for (const proto of ['http', 'udp'] as const) {
    test(`${kind} over ${proto.toUpperCase()}: scrape counts, completed once, stopped on stop, never dialing itself`, { timeout: 120_000 }, async (t) => {
      const tools: Tool[] = kind === 'opentracker' ? ['opentracker', 'root'] : ['bittorrent-tracker'];
      if (!requireTools(t, tools)) return;
      await withHarness(t, `trackers-engine-${kind}-${proto}`, async (h) => {
        // The tracker URL is in the torrent, but outside the info dict: make the hash first for opentracker's whitelist.
        const size = 3 * 1024 * 1024 + 4321;
        const pieceLength = 64 * 1024;
        const data = new Uint8Array(randomBytes(size));
        const hashes = new Uint8Array(Math.ceil(size / pieceLength) * 20);
        for (let i = 0; i * pieceLength < size; i++) hashes.set(createHash('sha1').update(data.subarray(i * pieceLength, (i + 1) * pieceLength)).digest(), i * 20);
        const infoHashHex = parseTorrent(buildTorrent({ name: 'payload.bin', files: null, length: size, pieceLength, pieceHashes: hashes })).infoHashHex;
        const server = kind === 'opentracker' ? await startOpentracker(h, [infoHashHex]) : await startBtTracker(h);
        const url = proto === 'http' ? server.http : server.udp;
        const meta = parseTorrent(buildTorrent({ name: 'payload.bin', files: null, length: size, pieceLength, pieceHashes: hashes, trackers: [[url]] }));
        assert.equal(meta.infoHashHex, infoHashHex);

        const seedStore = new MemoryStorage(meta.info);
        for (let i = 0; i < meta.info.pieceCount; i++) await seedStore.write(i, 0, data.subarray(i * pieceLength, (i + 1) * pieceLength));
        const seedNet = new RecordingTransport();
        const leechNet = new RecordingTransport();
        const seeder = new ClientEngine(FAST, { transport: seedNet, createStorage: () => seedStore });
        const leecher = new ClientEngine(FAST, { transport: leechNet, createStorage: () => new MemoryStorage(meta.info) });
        h.defer(() => leecher.dispose());
        h.defer(() => seeder.dispose());
        await seeder.start();
        await leecher.start();

        const st = await seeder.addTorrent(meta, { downloadDir: '/nonexistent' });
        await st.start();
        assert.equal(st.state, 'seeding');
        const working = (tm: TorrentManager) => () => (tm.trackers[0]?.state === 'working' ? tm.trackers[0] : undefined);
        const s0 = await pollUntil(working(st), 20_000, 'seeder announced');
        h.note(`seeder's first announce: ${JSON.stringify(s0)}`);
        // Both trackers return the announcing peer itself (FINDINGS): it was listed, and never dialed.
        assert.ok(s0.peersReceived >= 1, `the tracker listed the seeder to itself (${s0.peersReceived} peers)`);

        const lt = await leecher.addTorrent(meta, { downloadDir: '/nonexistent' });
        await lt.start();
        await lt.waitForCompletion();
        const completed = await pollUntil(() => (lt.trackers[0]?.events.includes('completed') ? lt.trackers[0] : undefined), 20_000, 'leecher announced completed');
        h.note(`leecher tracker status: ${JSON.stringify(completed)}`);

        // Scrape from the seeder: both peers are seeders now.
        const sc = await pollUntil(async () => {
          const r = await st.scrape();
          return r.seeders === 2 ? r : undefined;
        }, 10_000, 'scrape shows 2 seeders');
        assert.equal(sc.leechers, 0, `no leechers: ${JSON.stringify(sc)}`);
        if (kind === 'bittorrent-tracker' || proto === 'udp') assert.ok(sc.completed >= 1, `completed counted: ${JSON.stringify(sc)}`);

        // Ask for more announces (where the tracker's min interval allows it soon: opentracker's HTTP says ~15
        // minutes): `completed` is still sent exactly once.
        const minInterval = lt.trackers[0]!.minInterval ?? 0;
        for (let i = 0; i < (minInterval <= 5 ? 2 : 0); i++) {
          const before = lt.trackers[0]!.events.length;
          lt.announce();
          await pollUntil(() => lt.trackers[0]!.events.length > before, 10_000, 'a further announce');
        }
        assert.deepEqual(lt.trackers[0]!.events.filter((e) => e === 'completed'), ['completed'], `events: ${lt.trackers[0]!.events.join(',')}`);
        if (kind === 'bittorrent-tracker') {
          const completes = server.events().filter((e) => e.event === 'complete');
          assert.equal(completes.length, 1, `the tracker heard one complete: ${JSON.stringify(completes)}`);
        }

        // Stop the leecher: `stopped` reaches the tracker, and a scrape no longer counts it.
        await lt.stop();
        assert.ok(lt.trackers[0]!.events.includes('stopped'), `events: ${lt.trackers[0]!.events.join(',')}`);
        const after = await pollUntil(async () => {
          const r = await st.scrape();
          return r.seeders === 1 ? r : undefined;
        }, 10_000, 'scrape shows 1 seeder after stop');
        assert.equal(after.leechers, 0);

        // Never dialed itself, although the tracker listed it.
        assert.ok(!seedNet.dialed.includes(`127.0.0.1:${seeder.listenPort}`), `seeder dialed ${seedNet.dialed.join(', ')}`);
        assert.ok(!leechNet.dialed.includes(`127.0.0.1:${leecher.listenPort}`), `leecher dialed ${leechNet.dialed.join(', ')}`);
        assert.ok(leechNet.dialed.includes(`127.0.0.1:${seeder.listenPort}`), `leecher dialed the seeder: ${leechNet.dialed.join(', ')}`);
      });
    });
  }
}
