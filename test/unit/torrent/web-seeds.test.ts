/** Web seeds: contiguousRuns and webSeedBackoffMs (pure), and WebSeedSet over a fake fetchRange and a FakeClock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { PiecePicker } from '../../../src/picker/index.js';
import type { BlockRequest } from '../../../src/picker/index.js';
import { InlineHasher } from '../../../src/storage/hasher.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { PieceAssembler } from '../../../src/torrent/piece-assembler.js';
import { TorrentRate } from '../../../src/torrent/torrent-rate.js';
import { WebSeedSet, contiguousRuns, webSeedBackoffMs } from '../../../src/torrent/web-seeds.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import type { RangeFetch } from '../../../src/webseed/http-range.js';
import { makeTestTorrent, settle } from '../../helpers/torrent-rig.js';
import type { TestTorrent } from '../../helpers/torrent-rig.js';

const B = 16384;
const req = (index: number, begin: number, length = B): BlockRequest => ({ index, begin, length });

describe('contiguousRuns', () => {
  it('sorts blocks and joins the ones that follow each other in the torrent, across pieces', () => {
    const info = { pieceLength: 2 * B };
    const runs = contiguousRuns(info, [req(1, B), req(0, B), req(3, 0), req(1, 0), req(3, B, 100)]);
    assert.deepEqual(
      runs.map((r) => [r.offset, r.length, r.reqs.map((q) => `${q.index}:${q.begin}`)]),
      [
        [B, 3 * B, ['0:16384', '1:0', '1:16384']],
        [6 * B, B + 100, ['3:0', '3:16384']],
      ],
    );
    assert.deepEqual(contiguousRuns(info, []), []);
  });

  it('a gap starts a new run', () => {
    const runs = contiguousRuns({ pieceLength: B }, [req(0, 0, 100), req(0, 200, 100)]);
    assert.deepEqual(runs.map((r) => [r.offset, r.length]), [[0, 100], [200, 100]]);
  });
});

describe('webSeedBackoffMs', () => {
  it('5 s doubling per failure, at most 10 min', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map(webSeedBackoffMs), [5000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000]);
  });
});

interface Setup {
  t: TestTorrent;
  clock: FakeClock;
  picker: PiecePicker;
  set: WebSeedSet;
  calls: { url: string; start: number; length: number }[];
  log: string[];
  storage: MemoryStorage;
}

/** One (or more) web seeds over a fresh download of `t`; `fetch` answers from the payload unless `fail()` says no. */
function setup(urls: string[], t: TestTorrent, fail: (call: number) => boolean = () => false): Setup {
  const clock = new FakeClock();
  const info = t.meta.info;
  const picker = new PiecePicker({ pieceCount: info.pieceCount, pieceLength: info.pieceLength, totalLength: info.totalLength, have: new Bitfield(info.pieceCount), random: new SeededRandom(3) });
  const storage = new MemoryStorage(info);
  const log: string[] = [];
  const assembler = new PieceAssembler(info, storage, new InlineHasher(), {
    verified: (i) => {
      picker.onPieceVerified(i);
      log.push(`verified ${i}`);
    },
    failed: (i) => log.push(`failed ${i}`),
    error: (e) => log.push(`error ${(e as Error).message}`),
    unblocked: () => {},
  });
  const calls: Setup['calls'] = [];
  const fetch: RangeFetch = async (url, start, length) => {
    calls.push({ url, start, length });
    if (fail(calls.length)) throw new Error('HTTP 503');
    const file = info.files.find((f) => url.endsWith(encodeURIComponent(f.path[f.path.length - 1]!)) || info.singleFile)!;
    return t.content.slice(file.offset + start, file.offset + start + length);
  };
  const rate = new TorrentRate(clock, undefined, () => {});
  const set = new WebSeedSet(urls, info, picker, fetch, rate, assembler, {
    now: () => clock.now(),
    downloading: () => true,
    received: (n) => log.push(`received ${n}`),
    cancel: () => {},
    warning: (m) => log.push(`warning ${m}`),
    refill: () => log.push('refill'),
  }, undefined);
  return { t, clock, picker, set, calls, log, storage };
}

describe('WebSeedSet', () => {
  it('fetches runs of blocks as range requests per file and feeds them to the assembler', async () => {
    const t = makeTestTorrent({ files: [40_000, 30_000, 28_304], pieceLength: 2 * B });
    const s = setup(['http://ws.example/base'], t);
    assert.equal(s.set.size, 1);
    assert.equal(s.picker.availability(0), 1, 'the web seed has every piece');
    s.set.fill();
    await settle();
    // Every byte of every file asked for exactly once, each request inside one file.
    const byUrl = new Map<string, [number, number][]>();
    for (const c of s.calls) byUrl.set(c.url, [...(byUrl.get(c.url) ?? []), [c.start, c.length]]);
    assert.deepEqual([...byUrl.keys()].sort(), ['http://ws.example/base/rig/f0.bin', 'http://ws.example/base/rig/f1.bin', 'http://ws.example/base/rig/f2.bin']);
    t.meta.info.files.forEach((f) => {
      const ranges = byUrl.get(`http://ws.example/base/rig/${f.path[1]}`)!.sort((a, b) => a[0] - b[0]);
      let at = 0;
      for (const [start, len] of ranges) {
        assert.equal(start, at);
        at += len;
      }
      assert.equal(at, f.length);
    });
    assert.ok(s.picker.complete, s.log.join('\n'));
    assert.deepEqual(s.storage.fileContent(1), t.content.slice(40_000, 70_000));
    assert.deepEqual(s.set.status(s.clock.now()), [{ url: 'http://ws.example/base', state: 'active', downloaded: t.meta.info.totalLength }]);
  });

  it('a failed request releases its blocks and backs off 5 s doubling; success resets it', async () => {
    const t = makeTestTorrent({ pieces: 4 });
    let failing = true;
    const s = setup(['http://ws.example/f'], t, () => failing);
    s.set.fill();
    await settle();
    const first = s.calls.length;
    assert.ok(first >= 1);
    assert.equal(s.log.filter((l) => l.startsWith('warning')).length, 1, 'the same error is said once');
    assert.match(s.log.find((l) => l.startsWith('warning'))!, /web seed http:\/\/ws.example\/f: HTTP 503/);
    const t0 = s.clock.now();
    let st = s.set.status(t0)[0]!;
    assert.equal(st.state, 'waiting');
    assert.equal(st.retryAt, t0 + 5000);
    assert.equal(st.error, 'HTTP 503');
    assert.equal(s.picker.outstanding('web:http://ws.example/f'), 0, 'its blocks went back');
    s.clock.advance(4999);
    s.set.fill();
    await settle();
    assert.equal(s.calls.length, first, 'nothing before the back-off ends');
    s.clock.advance(1);
    s.set.fill();
    await settle();
    assert.ok(s.calls.length > first);
    st = s.set.status(s.clock.now())[0]!;
    assert.equal(st.retryAt, s.clock.now() + 10_000, 'second failure: 10 s');
    failing = false;
    s.clock.advance(10_000);
    s.set.fill();
    await settle();
    assert.ok(s.picker.complete);
    st = s.set.status(s.clock.now())[0]!;
    assert.equal(st.state, 'active');
    assert.equal(st.error, undefined);
  });

  it('hash-failure blame disables a seed at the threshold and hands its blocks back', async () => {
    const t = makeTestTorrent({ pieces: 2 });
    const s = setup(['http://a.example/f', 'http://b.example/f'], t);
    assert.equal(s.set.blame('peer:1', 2, 3), false, 'not a web seed');
    assert.equal(s.set.blame('web:http://a.example/f', 2, 3), true);
    assert.deepEqual(s.set.status(0).map((w) => w.state), ['active', 'active']);
    assert.equal(s.picker.availability(0), 2);
    s.set.blame('web:http://a.example/f', 2, 3);
    assert.deepEqual(s.set.status(0).map((w) => w.state), ['disabled', 'active']);
    assert.equal(s.set.status(0)[0]!.error, 'its data failed the hash check');
    assert.ok(s.log.includes('warning web seed http://a.example/f disabled: its data failed the hash check'));
    assert.ok(s.log.includes('refill'));
    assert.equal(s.picker.availability(0), 1, 'its bitfield left the picker');
    s.set.blame('web:http://a.example/f', 2, 3);
    assert.equal(s.log.filter((l) => l === 'refill').length, 1, 'disabled once');
    s.set.fill();
    await settle();
    assert.ok(s.calls.every((c) => c.url.startsWith('http://b.example')), 'only the other seed is asked');
    assert.ok(s.picker.complete);
  });

  it('dispose: fetches under way deliver nothing, and nothing new is asked', async () => {
    const t = makeTestTorrent({ pieces: 2 });
    const s = setup(['http://a.example/f'], t);
    s.set.fill();
    s.set.dispose();
    await settle();
    assert.equal(s.log.filter((l) => l.startsWith('received')).length, 0);
    const n = s.calls.length;
    s.set.fill();
    await settle();
    assert.equal(s.calls.length, n);
  });
});
