/** TrackerManager under a FakeClock with scripted trackers: BEP 12 tiers, intervals, events, back-off, stop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { BtError } from '../../../src/core/errors.js';
import { TrackerFactory } from '../../../src/tracker/factory.js';
import { TrackerManager } from '../../../src/tracker/tracker-manager.js';
import type { TrackerManagerOptions } from '../../../src/tracker/tracker-manager.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeResponse, Tracker, TrackerPeer } from '../../../src/tracker/types.js';

type Behaviour = 'ok' | 'fail' | 'hang';

class ScriptedTracker implements Tracker {
  readonly canScrape = true;
  readonly calls: AnnounceRequest[] = [];
  behaviour: Behaviour = 'ok';
  response: AnnounceResponse = { interval: 1800, minInterval: 60, seeders: 3, leechers: 4, peers: [{ host: '10.0.0.1', port: 1 }] };
  disposed = false;
  constructor(readonly url: string) {}
  announce(req: AnnounceRequest, opts: { signal?: AbortSignal } = {}): Promise<AnnounceResponse> {
    this.calls.push(req);
    if (this.behaviour === 'fail') return Promise.reject(new BtError('ERR_TRACKER', `${this.url} refused`));
    if (this.behaviour === 'hang') {
      return new Promise((_, reject) => opts.signal?.addEventListener('abort', () => reject(new BtError('ERR_ABORTED', 'aborted'))));
    }
    return Promise.resolve(this.response);
  }
  scrape(): Promise<ScrapeResponse> {
    return Promise.resolve({ seeders: 5, leechers: 6, completed: 7 });
  }
  dispose(): void {
    this.disposed = true;
  }
  get events(): string[] {
    return this.calls.map((c) => c.event);
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function setup(tiers: string[][], over: Partial<TrackerManagerOptions> = {}) {
  const clock = new FakeClock();
  const trackers = new Map<string, ScriptedTracker>();
  const factory = new TrackerFactory().register('http', (url) => {
    const t = new ScriptedTracker(url);
    trackers.set(url, t);
    return t;
  });
  factory.register('udp', (url) => {
    const t = new ScriptedTracker(url);
    trackers.set(url, t);
    return t;
  });
  const peers: TrackerPeer[] = [];
  const warnings: string[] = [];
  const stats = { port: 6881, uploaded: 0, downloaded: 0, left: 1000 };
  const m = new TrackerManager({
    tiers,
    clock,
    random: new SeededRandom(7),
    createTracker: (u) => factory.create(u),
    infoHash: new Uint8Array(20).fill(1),
    peerId: new Uint8Array(20).fill(2),
    key: 0x1234,
    stats: () => stats,
    onPeers: (p) => peers.push(...p),
    onWarning: (w) => warnings.push(w),
    retryBaseMs: 10_000,
    requestTimeoutMs: 5_000,
    stopTimeoutMs: 2_000,
    ...over,
  });
  // Time moves in 1 s steps with the microtask queue drained in between, as it would in a real event loop.
  const step = async (ms: number): Promise<void> => {
    await flush();
    let left = ms;
    do {
      clock.advance(Math.min(1000, left));
      left -= 1000;
      await flush();
    } while (left > 0);
  };
  return { clock, trackers, m, peers, warnings, stats, step, t: (u: string) => trackers.get(u)! };
}

test('first tier answers: started once, peers delivered, next announce after the interval', async () => {
  const s = setup([['http://a/announce']]);
  s.m.start();
  await s.step(0);
  const a = s.t('http://a/announce');
  assert.deepEqual(a.events, ['started']);
  assert.equal(s.peers.length, 1);
  const st = s.m.status[0]!;
  assert.equal(st.state, 'working');
  assert.equal(st.seeders, 3);
  assert.equal(st.leechers, 4);
  assert.equal(st.peersReceived, 1);
  assert.equal(st.nextAnnounce, s.clock.now() + 1800_000);
  await s.step(1799_000);
  assert.equal(a.calls.length, 1);
  await s.step(1000);
  assert.deepEqual(a.events, ['started', 'none']);
});

test('tier failover: dead first tier, working second; the failed tracker shows its error and backs off', async () => {
  const s = setup([['http://dead1/announce', 'http://dead2/announce'], ['http://live/announce']]);
  s.t('http://dead1/announce').behaviour = 'fail';
  s.t('http://dead2/announce').behaviour = 'hang';
  s.m.start();
  await s.step(0);
  await s.step(5_000); // the hanging tracker hits the request timeout
  const live = s.t('http://live/announce');
  assert.deepEqual(live.events, ['started']);
  const byUrl = new Map(s.m.status.map((x) => [x.url, x]));
  assert.equal(byUrl.get('http://dead1/announce')!.state, 'failed');
  assert.match(byUrl.get('http://dead1/announce')!.lastError!, /refused/);
  assert.match(byUrl.get('http://dead2/announce')!.lastError!, /did not answer/);
  assert.equal(byUrl.get('http://live/announce')!.state, 'working');
  // The next round, after the interval, tries the first tier again (its back-off has passed) and falls over again.
  s.t('http://dead1/announce').behaviour = 'ok';
  await s.step(1800_000);
  await s.step(5_000);
  const dead1 = s.t('http://dead1/announce');
  assert.equal(dead1.calls.length, 2);
  assert.equal(s.m.status.find((x) => x.url === 'http://dead1/announce')!.state, 'working');
});

test('a tracker that answers moves to the front of its tier', async () => {
  const urls = ['http://t1/announce', 'http://t2/announce', 'http://t3/announce'];
  const s = setup([urls]);
  const order0 = s.m.status.map((x) => x.url);
  s.t(order0[0]!).behaviour = 'fail';
  s.t(order0[1]!).behaviour = 'fail';
  s.m.start();
  await s.step(0);
  assert.deepEqual(s.m.status.map((x) => x.url), [order0[2], order0[0], order0[1]]);
});

test('min interval: a manual announce waits for it', async () => {
  const s = setup([['http://a/announce']]);
  s.m.start();
  await s.step(0);
  const a = s.t('http://a/announce');
  s.m.announce();
  await s.step(30_000);
  assert.equal(a.calls.length, 1, 'not before min interval');
  await s.step(30_000);
  assert.equal(a.calls.length, 2, 'right at min interval');
});

test('interval below the floor is raised to it', async () => {
  const s = setup([['http://a/announce']], { minIntervalMs: 60_000 });
  s.t('http://a/announce').response = { interval: 1, peers: [] };
  s.m.start();
  await s.step(0);
  await s.step(59_000);
  assert.equal(s.t('http://a/announce').calls.length, 1);
  await s.step(1_000);
  assert.equal(s.t('http://a/announce').calls.length, 2);
});

test('completed is sent exactly once, immediately; never when complete at start', async () => {
  const s = setup([['http://a/announce']]);
  s.m.start();
  await s.step(0);
  s.stats.left = 0;
  s.m.complete();
  s.m.complete();
  await s.step(0);
  await s.step(1800_000);
  const a = s.t('http://a/announce');
  assert.deepEqual(a.events, ['started', 'completed', 'none']);

  const seed = setup([['http://a/announce']]);
  seed.stats.left = 0;
  seed.m.start({ complete: true });
  seed.m.complete();
  await seed.step(0);
  await seed.step(1800_000);
  assert.deepEqual(seed.t('http://a/announce').events, ['started', 'none']);
});

test('completed survives a failure and goes to the next tracker that answers', async () => {
  const s = setup([['http://a/announce'], ['http://b/announce']]);
  s.m.start();
  await s.step(0);
  s.t('http://a/announce').behaviour = 'fail';
  s.stats.left = 0;
  s.m.complete();
  await s.step(0);
  assert.deepEqual(s.t('http://a/announce').events, ['started', 'completed']);
  // b never got `started`: it gets that (with left 0, which counts us as a seeder), and completed is not repeated.
  assert.deepEqual(s.t('http://b/announce').events, ['started']);
  await s.step(1800_000);
  assert.deepEqual(s.t('http://b/announce').events, ['started', 'none']);
});

test('back-off doubles per failure; all failing retries when the first back-off ends', async () => {
  const s = setup([['http://a/announce']]);
  const a = s.t('http://a/announce');
  a.behaviour = 'fail';
  s.m.start();
  await s.step(0);
  assert.equal(a.calls.length, 1);
  await s.step(10_000);
  assert.equal(a.calls.length, 2);
  await s.step(10_000);
  assert.equal(a.calls.length, 2, 'second back-off is 20 s');
  await s.step(10_000);
  assert.equal(a.calls.length, 3);
  assert.equal(s.m.status[0]!.failures, 3);
});

test('stop sends stopped to trackers that got started, bounded in time, then nothing more', async () => {
  const s = setup([['http://a/announce'], ['http://b/announce']]);
  s.m.start();
  await s.step(0);
  const a = s.t('http://a/announce');
  a.behaviour = 'hang';
  const done = s.m.stop();
  let finished = false;
  void done.then(() => (finished = true));
  await s.step(1_999);
  assert.equal(finished, false);
  await s.step(1);
  assert.equal(finished, true);
  assert.deepEqual(a.events, ['started', 'stopped']);
  assert.equal(s.t('http://b/announce').calls.length, 0, 'b never got started, so no stopped either');
  await s.step(3600_000);
  assert.equal(a.calls.length, 2);
});

test('stop during a hanging announce returns promptly', async () => {
  const s = setup([['http://a/announce']], { requestTimeoutMs: 600_000 });
  s.t('http://a/announce').behaviour = 'hang';
  s.m.start();
  await s.step(0);
  let finished = false;
  void s.m.stop().then(() => (finished = true));
  await s.step(0);
  assert.equal(finished, true);
});

test('unknown scheme is reported once and skipped; the others still work', async () => {
  const s = setup([['wss://x/announce', 'http://a/announce']]);
  assert.equal(s.warnings.length, 0, 'reported at start, when the torrent has listeners');
  s.m.start();
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0]!, /unsupported tracker scheme "wss:"/);
  await s.step(0);
  await s.m.stop();
  s.m.start();
  await s.step(3600_000);
  const st = new Map(s.m.status.map((x) => [x.url, x]));
  assert.equal(st.get('wss://x/announce')!.state, 'unsupported');
  assert.equal(st.get("http://a/announce")!.state, "working", JSON.stringify(s.m.status));
  assert.equal(s.warnings.length, 1);
});

test('scrape uses the working tracker and records counts', async () => {
  const s = setup([['http://a/announce']]);
  s.m.start();
  await s.step(0);
  const r = await s.m.scrape();
  assert.deepEqual({ ...r }, { seeders: 5, leechers: 6, completed: 7, url: 'http://a/announce' });
  assert.equal(s.m.status[0]!.completed, 7);
});

test('dispose releases trackers and timers', async () => {
  const s = setup([['http://a/announce', 'udp://b:1/announce']]);
  s.m.start();
  await s.step(0);
  s.m.dispose();
  assert.equal(s.clock.pending(), 0);
  for (const t of s.trackers.values()) assert.equal(t.disposed, true);
});
