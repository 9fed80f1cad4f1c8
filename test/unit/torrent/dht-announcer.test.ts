/** DhtAnnouncer: nextDhtDelay (pure) and the lookup schedule on a FakeClock with a fake TorrentDht. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { NullLogger } from '../../../src/core/logger.js';
import { DHT_ANNOUNCE_INTERVAL_MS, DHT_RETRY_MIN_MS, DhtAnnouncer, nextDhtDelay } from '../../../src/torrent/dht-announcer.js';
import type { TorrentDht } from '../../../src/torrent/types.js';
import { settle } from '../../helpers/torrent-rig.js';

describe('nextDhtDelay', () => {
  it('15 min after a lookup that found peers (retry kept); else the retry, doubled for next time up to 15 min', () => {
    assert.deepEqual(nextDhtDelay(3, 20_000), { delay: DHT_ANNOUNCE_INTERVAL_MS, retryMs: 20_000 });
    assert.deepEqual(nextDhtDelay(0, 5000), { delay: 5000, retryMs: 10_000 });
    assert.deepEqual(nextDhtDelay(0, 10 * 60_000), { delay: 10 * 60_000, retryMs: DHT_ANNOUNCE_INTERVAL_MS });
    assert.deepEqual(nextDhtDelay(0, DHT_ANNOUNCE_INTERVAL_MS), { delay: DHT_ANNOUNCE_INTERVAL_MS, retryMs: DHT_ANNOUNCE_INTERVAL_MS });
  });
});

class FakeDht implements TorrentDht {
  readonly port = 6881;
  lookups: number[] = [];
  announces: number[] = [];
  nodes: string[] = [];
  peers: { host: string; port: number }[] = [];
  fail = false;
  constructor(private readonly clock: FakeClock) {}
  async *getPeers(_ih: Uint8Array, _o: { signal?: AbortSignal }): AsyncIterable<{ host: string; port: number }> {
    this.lookups.push(this.clock.now());
    if (this.fail) throw new Error('no route');
    for (const p of this.peers) yield p;
  }
  async announce(): Promise<unknown> {
    this.announces.push(this.clock.now());
    return undefined;
  }
  addNode(host: string, port: number): void {
    this.nodes.push(`${host}:${port}`);
  }
}

function setup(o: { dht?: boolean; allowed?: () => boolean } = {}) {
  const clock = new FakeClock(0);
  const dht = new FakeDht(clock);
  const found: string[] = [];
  let up = o.dht ?? true;
  const a = new DhtAnnouncer(new Uint8Array(20), clock, new NullLogger(), {
    dht: () => (up ? dht : undefined),
    allowed: o.allowed ?? (() => true),
    nodes: () => [{ host: 'router.example', port: 1 }],
    listenPort: () => 6881,
    peer: (h, p) => found.push(`${h}:${p}`),
    isSelf: (h, p) => h === '10.0.0.99' && p === 6881,
  });
  const step = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await settle();
  };
  return { clock, dht, found, a, step, setUp: (v: boolean) => (up = v) };
}

describe('DhtAnnouncer', () => {
  it('while nobody is found, looks up again after 5 s, doubling to 15 min; announces each time', async () => {
    const { dht, a, step } = setup();
    a.start();
    await step(0);
    assert.deepEqual(dht.lookups, [0]);
    assert.deepEqual(dht.announces, [0]);
    assert.deepEqual(dht.nodes, ['router.example:1'], 'the torrent nodes are pinged');
    const expected = [0];
    let at = 0;
    for (let d = DHT_RETRY_MIN_MS; expected.length < 12; d = Math.min(d * 2, DHT_ANNOUNCE_INTERVAL_MS)) {
      await step(d - 1);
      assert.equal(dht.lookups.length, expected.length, `not before ${at + d}`);
      await step(1);
      at += d;
      expected.push(at);
      assert.deepEqual(dht.lookups, expected);
    }
    assert.equal(expected[11]! - expected[10]!, DHT_ANNOUNCE_INTERVAL_MS, 'capped at 15 min');
    assert.deepEqual(dht.nodes, ['router.example:1'], 'pinged once only');
    a.stop();
  });

  it('after a lookup that finds peers, the next is 15 min later; ourselves is not a peer', async () => {
    const { dht, a, step, found } = setup();
    dht.peers = [{ host: '10.0.0.1', port: 1 }, { host: '10.0.0.99', port: 6881 }];
    a.start();
    await step(0);
    assert.deepEqual(found, ['10.0.0.1:1']);
    await step(DHT_ANNOUNCE_INTERVAL_MS - 1);
    assert.equal(dht.lookups.length, 1);
    await step(1);
    assert.equal(dht.lookups.length, 2);
    // Nobody now: back to 5 s (the retry was never doubled).
    dht.peers = [];
    await step(DHT_ANNOUNCE_INTERVAL_MS);
    assert.equal(dht.lookups.length, 3);
    await step(DHT_RETRY_MIN_MS);
    assert.equal(dht.lookups.length, 4);
    a.stop();
  });

  it('a failed lookup counts as finding nobody', async () => {
    const { dht, a, step } = setup();
    dht.fail = true;
    a.start();
    await step(0);
    assert.equal(dht.announces.length, 0);
    await step(DHT_RETRY_MIN_MS);
    assert.equal(dht.lookups.length, 2);
    a.stop();
  });

  it('waits for the engine node (5 s polls) and does nothing when not allowed; stop cancels', async () => {
    const s = setup({ dht: false });
    s.a.start();
    await s.step(0);
    await s.step(DHT_RETRY_MIN_MS * 3);
    assert.equal(s.dht.lookups.length, 0);
    s.setUp(true);
    await s.step(DHT_RETRY_MIN_MS);
    assert.equal(s.dht.lookups.length, 1);
    s.a.stop();
    await s.step(DHT_ANNOUNCE_INTERVAL_MS * 2);
    assert.equal(s.dht.lookups.length, 1);
    assert.equal(s.clock.pending(), 0);

    const no = setup({ allowed: () => false });
    no.a.start();
    await no.step(DHT_ANNOUNCE_INTERVAL_MS);
    assert.equal(no.dht.lookups.length, 0);
    assert.equal(no.clock.pending(), 0);
  });
});
