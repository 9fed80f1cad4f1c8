/** Choker: slot counts, optimistic rotation, seeding order, uninterested peers, determinism. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/core/node-random.js';
import type { ChokeCandidate } from '../../../src/torrent/choker.js';
import { Choker } from '../../../src/torrent/choker.js';

const OLD = 0; // connected long ago
const NOW = 1_000_000;

function cand(id: string, o: Partial<ChokeCandidate> = {}): ChokeCandidate {
  return { id, interested: true, amChoking: true, downloadRate: 0, uploadRate: 0, isSeed: false, connectedAtMs: OLD, ...o };
}

/** Apply a round's result to the candidates' amChoking, as the torrent would. */
function apply(peers: ChokeCandidate[], unchoke: Set<string>): void {
  for (const p of peers) p.amChoking = !unchoke.has(p.id);
}

describe('Choker: downloading', () => {
  it('unchokes the fastest uploaders to us plus one optimistic', () => {
    const ch = new Choker({ random: new SeededRandom(1) });
    const peers = Array.from({ length: 10 }, (_, i) => cand(`p${i}`, { downloadRate: i * 1000 }));
    const { unchoke, optimistic } = ch.round(peers, { seeding: false, nowMs: NOW });
    assert.equal(unchoke.size, 4);
    for (const id of ['p9', 'p8', 'p7']) assert.ok(unchoke.has(id));
    assert.ok(optimistic !== undefined && unchoke.has(optimistic) && !['p9', 'p8', 'p7'].includes(optimistic));
  });

  it('honours uploadSlots and never unchokes uninterested peers or seeds', () => {
    const ch = new Choker({ uploadSlots: 3, random: new SeededRandom(2) });
    const peers = [
      cand('fast-but-uninterested', { interested: false, downloadRate: 1e9 }),
      cand('seed', { isSeed: true, interested: true, downloadRate: 1e9 }),
      ...Array.from({ length: 6 }, (_, i) => cand(`p${i}`, { downloadRate: i })),
    ];
    for (let r = 0; r < 20; r++) {
      const { unchoke } = ch.round(peers, { seeding: false, nowMs: NOW + r * 10_000 });
      assert.equal(unchoke.size, 3);
      assert.ok(!unchoke.has('fast-but-uninterested'));
      assert.ok(!unchoke.has('seed'));
      assert.ok(unchoke.has('p5') && unchoke.has('p4'));
      apply(peers, unchoke);
    }
  });

  it('with fewer interested peers than slots, unchokes exactly those', () => {
    const ch = new Choker({ uploadSlots: 4, random: new SeededRandom(3) });
    const peers = [cand('a'), cand('b', { interested: false }), cand('c')];
    assert.deepEqual([...ch.round(peers, { seeding: false, nowMs: NOW }).unchoke].sort(), ['a', 'c']);
    assert.equal(ch.round([], { seeding: false, nowMs: NOW }).unchoke.size, 0);
    assert.deepEqual([...new Choker({ uploadSlots: Infinity, random: new SeededRandom(1) }).round(peers, { seeding: false, nowMs: NOW }).unchoke].sort(), ['a', 'c']);
    assert.equal(new Choker({ uploadSlots: 0, random: new SeededRandom(1) }).round(peers, { seeding: false, nowMs: NOW }).unchoke.size, 0);
  });

  it('rotates the optimistic unchoke every optimisticEveryRounds rounds', () => {
    const ch = new Choker({ uploadSlots: 2, optimisticEveryRounds: 3, random: new SeededRandom(4) });
    const peers = [cand('top', { downloadRate: 1e6 }), ...Array.from({ length: 8 }, (_, i) => cand(`p${i}`))];
    const opts: string[] = [];
    for (let r = 0; r < 30; r++) {
      const res = ch.round(peers, { seeding: false, nowMs: NOW + r * 10_000 });
      assert.equal(res.unchoke.size, 2);
      assert.ok(res.unchoke.has('top'));
      opts.push(res.optimistic!);
      apply(peers, res.unchoke);
    }
    for (let r = 0; r < 30; r++) {
      if (r % 3 !== 0) assert.equal(opts[r], opts[r - 1], `round ${r}: optimistic changed mid-period`);
      else if (r > 0) assert.notEqual(opts[r], opts[r - 1], `round ${r}: optimistic not rotated`);
    }
    assert.ok(new Set(opts).size >= 5, `only ${new Set(opts).size} distinct optimistic peers`);
  });

  it('replaces an optimistic peer that left, lost interest or earned a regular slot', () => {
    const ch = new Choker({ uploadSlots: 2, optimisticEveryRounds: 100, random: new SeededRandom(5) });
    const peers = [cand('top', { downloadRate: 10 }), cand('a'), cand('b'), cand('c')];
    const first = ch.round(peers, { seeding: false, nowMs: NOW }).optimistic!;
    const o = peers.find((p) => p.id === first)!;
    o.interested = false;
    const second = ch.round(peers, { seeding: false, nowMs: NOW }).optimistic!;
    assert.notEqual(second, first);
    const o2 = peers.find((p) => p.id === second)!;
    o2.downloadRate = 1000; // now the best: takes the regular slot
    const res = ch.round(peers, { seeding: false, nowMs: NOW });
    assert.ok(res.unchoke.has(second));
    assert.equal(res.unchoke.size, 2);
    assert.notEqual(res.optimistic, second);
  });

  it('new peers are about 3x as likely to be the optimistic unchoke', () => {
    let newWins = 0;
    const trials = 3000;
    const random = new SeededRandom(6);
    // one new peer among 4 old ones: P(new) = 3 / (3 + 4) ~ 0.43 (vs 0.2 unweighted)
    const peers = [cand('new', { connectedAtMs: NOW - 5_000 }), cand('o1'), cand('o2'), cand('o3'), cand('o4')];
    for (let t = 0; t < trials; t++) {
      const ch = new Choker({ uploadSlots: 1, random });
      if (ch.round(peers, { seeding: false, nowMs: NOW }).optimistic === 'new') newWins++;
    }
    const share = newWins / trials;
    assert.ok(share > 0.35 && share < 0.52, `new peer share ${share.toFixed(3)}`);
  });

  it('is deterministic per seed and independent of input order', () => {
    const play = (seed: number, reverse: boolean): string[] => {
      const ch = new Choker({ random: new SeededRandom(seed) });
      const peers = Array.from({ length: 12 }, (_, i) => cand(`p${i}`, { downloadRate: i % 3, connectedAtMs: i * 10_000 }));
      const out: string[] = [];
      for (let r = 0; r < 12; r++) {
        const list = reverse ? [...peers].reverse() : peers;
        const res = ch.round(list, { seeding: r % 2 === 0, nowMs: NOW + r * 10_000 });
        out.push([...res.unchoke].sort().join());
        apply(peers, res.unchoke);
      }
      return out;
    };
    assert.deepEqual(play(9, false), play(9, false));
    assert.deepEqual(play(9, false), play(9, true));
  });
});

describe('Choker: seeding', () => {
  it('ranks by upload rate to the peer', () => {
    const ch = new Choker({ uploadSlots: 4, random: new SeededRandom(7) });
    const peers = Array.from({ length: 8 }, (_, i) => cand(`p${i}`, { uploadRate: (8 - i) * 100, downloadRate: i * 1e6 }));
    const { unchoke, optimistic } = ch.round(peers, { seeding: true, nowMs: NOW });
    for (const id of ['p0', 'p1', 'p2']) assert.ok(unchoke.has(id), `${id} (fast upload) should be unchoked`);
    assert.ok(!['p0', 'p1', 'p2'].includes(optimistic!));
    assert.equal(unchoke.size, 4);
  });

  it('rotates ties so every peer gets a turn', () => {
    const ch = new Choker({ uploadSlots: 3, optimisticEveryRounds: 1000, random: new SeededRandom(8) });
    const peers = Array.from({ length: 9 }, (_, i) => cand(`p${i}`));
    const served = new Set<string>();
    const sizes: number[] = [];
    for (let r = 0; r < 6; r++) {
      const res = ch.round(peers, { seeding: true, nowMs: NOW + r * 10_000 });
      sizes.push(res.unchoke.size);
      for (const id of res.unchoke) served.add(id);
      apply(peers, res.unchoke);
    }
    assert.deepEqual(sizes, [3, 3, 3, 3, 3, 3]);
    assert.equal(served.size, 9, 'every interested peer unchoked at some point');
  });
});
