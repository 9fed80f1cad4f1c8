/**
 * Deterministic DHT simulation (BEP 5): thousands of DhtNodes in one process on a virtual network and clock,
 * all randomness from one seed. Checks lookup accuracy, announce / get_peers, and exact replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idKey } from '../../src/dht/index.js';
import type { PeerAddress } from '../../src/dht/index.js';
import { SimNet, buildNetwork, median, percentile } from './dht-net.js';
import type { SimNode } from './dht-net.js';

const N = 2000;
const LOOKUPS = 200;
const GETTERS = 100;
// Long enough for the 15-minute bucket refresh to run once after the last node joined.
const SETTLE_MS = 16 * 60_000;

function lookupAccuracy(net: SimNet, count: number): { ok: number; queries: number[] } {
  let ok = 0;
  let done = 0;
  const queries: number[] = [];
  for (let i = 0; i < count; i++) {
    const target = net.rnd.bytes(20);
    const from = net.pick();
    from.node.startLookup({
      target,
      kind: 'find_node',
      onDone: (r) => {
        done++;
        queries.push(r.queries);
        const truth = new Set(net.trueClosest(target, 9).filter((s) => s !== from).slice(0, 8).map((s) => idKey(s.id)));
        if (r.closest.length === 8 && r.closest.every((c) => truth.has(idKey(c.node.id)))) ok++;
      },
    });
  }
  net.clock.run(() => done === count, 10 * 60_000);
  assert.equal(done, count, 'every lookup finishes');
  return { ok, queries };
}

function announceAndFind(net: SimNet, announcer: SimNode, port: number, getters: number): { found: number; acked: number; queries: number[] } {
  const infoHash = net.rnd.bytes(20);
  let acked = -1;
  announcer.node.startAnnounce({ infoHash, port, onDone: (r) => (acked = r.acked) });
  net.clock.run(() => acked >= 0, 60_000);
  let found = 0;
  let done = 0;
  const queries: number[] = [];
  const others = net.nodes.filter((s) => s !== announcer);
  for (let i = 0; i < getters; i++) {
    const from = others[net.rnd.int(others.length)]!;
    let hit = false;
    from.node.startLookup({
      target: infoHash,
      kind: 'get_peers',
      onPeers: (ps: PeerAddress[]) => {
        if (ps.some((p) => p.host === announcer.host && p.port === port)) hit = true;
      },
      onDone: (r) => {
        done++;
        queries.push(r.queries);
        if (hit) found++;
      },
    });
  }
  net.clock.run(() => done === getters, 10 * 60_000);
  assert.equal(done, getters);
  return { found, acked, queries };
}

test(`DHT simulation: ${N} nodes bootstrapped from one; lookups find the true 8 closest; announces are found`, { timeout: 180_000 }, (t) => {
  const t0 = performance.now();
  const net = new SimNet({ seed: 20240601 });
  buildNetwork(net, N, 20, SETTLE_MS);
  const built = performance.now();
  const sizes = net.nodes.map((s) => s.node.stats().nodes);
  t.diagnostic(`built ${N} nodes in ${((built - t0) / 1000).toFixed(1)} s real, ${net.delivered} datagrams; table size median ${median(sizes)}, min ${Math.min(...sizes)}`);
  assert.ok(Math.min(...sizes) >= 8, 'every node knows at least K nodes');

  const { ok, queries } = lookupAccuracy(net, LOOKUPS);
  const rate = ok / LOOKUPS;
  t.diagnostic(`find_node: ${ok}/${LOOKUPS} lookups found the true 8 closest (${(rate * 100).toFixed(1)}%); queries per lookup median ${median(queries)}, p90 ${percentile(queries, 90)}, max ${Math.max(...queries)}`);
  assert.ok(rate >= 0.99, `lookup accuracy ${rate}`);

  const announcer = net.pick();
  const a = announceAndFind(net, announcer, 51413, GETTERS);
  const frate = a.found / GETTERS;
  t.diagnostic(`announce acked by ${a.acked} nodes; get_peers from ${GETTERS} others found it in ${a.found} (${(frate * 100).toFixed(1)}%); queries per get_peers median ${median(a.queries)}`);
  assert.ok(a.acked >= 6, `announce acked by ${a.acked}`);
  assert.ok(frate >= 0.99, `get_peers success ${frate}`);

  const totals = net.nodes.reduce((acc, s) => acc + s.node.stats().rateLimited, 0);
  t.diagnostic(`rate-limited queries in the whole run: ${totals}; real time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});

test('DHT simulation with 2% loss still converges', { timeout: 120_000 }, (t) => {
  const net = new SimNet({ seed: 7, loss: 0.02 });
  buildNetwork(net, 400, 20, SETTLE_MS);
  const { ok, queries } = lookupAccuracy(net, 100);
  t.diagnostic(`400 nodes, 2% loss: ${ok}/100 exact, median queries ${median(queries)}, dropped ${net.dropped}`);
  assert.ok(ok >= 95, `accuracy under loss ${ok}`);
  const a = announceAndFind(net, net.pick(), 6881, 50);
  assert.ok(a.found >= 48, `found ${a.found}/50 under loss`);
});

test('the same seed replays identically (every datagram hashed)', { timeout: 120_000 }, () => {
  const run = (seed: number): string => {
    const net = new SimNet({ seed, digest: true, loss: 0.01 });
    buildNetwork(net, 250, 20, 60_000);
    lookupAccuracy(net, 30);
    announceAndFind(net, net.pick(), 1234, 20);
    const stats = net.nodes.map((s) => JSON.stringify(s.node.stats())).join('\n');
    return `${net.digest()} ${net.delivered} ${stats.length} ${JSON.stringify(net.nodes[5]!.node.saveState()).length}`;
  };
  const a = run(99);
  const b = run(99);
  assert.equal(a, b);
  assert.notEqual(run(100), a, 'another seed differs');
});
