/**
 * Simulated swarm (property test): random peers with random bitfields, chokes, allowed-fast sets,
 * rejections, disconnects and hash failures drive the picker to completion. Checked on every step:
 * the picker's own invariants; no block requested twice from one peer; a block requested from two peers
 * only in endgame; cancels name exactly the other peers with the block in flight; every delivery of a
 * live request is accepted (so outside endgame every block arrives exactly once).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '../../../src/core/node-random.js';
import { PiecePicker } from '../../../src/picker/index.js';
import type { BlockRequest } from '../../../src/picker/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import type { TestPeer } from './helpers.js';
import { KB16, key, peer } from './helpers.js';

interface Scenario {
  pieceCount: number;
  blocksPerPiece: number;
  lastPieceBytes: number;
  peers: { have: number[]; allowedFast: number[] }[];
  seed: number;
  endgameDuplicates: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    pieceCount: fc.integer({ min: 1, max: 30 }),
    blocksPerPiece: fc.integer({ min: 1, max: 4 }),
    lastFrac: fc.double({ min: 0.0001, max: 1, noNaN: true }),
    peerCount: fc.integer({ min: 1, max: 6 }),
    seed: fc.integer(),
    endgameDuplicates: fc.integer({ min: 1, max: 3 }),
    density: fc.double({ min: 0.05, max: 1, noNaN: true }),
  })
  .chain((s) =>
    fc
      .array(
        fc.record({
          have: fc.array(fc.boolean(), { minLength: s.pieceCount, maxLength: s.pieceCount }),
          allowedFast: fc.array(fc.nat(s.pieceCount - 1), { maxLength: 3 }),
        }),
        { minLength: s.peerCount, maxLength: s.peerCount },
      )
      .map((peers) => {
        const pieceBytes = s.blocksPerPiece * KB16;
        const lastPieceBytes = Math.max(1, Math.ceil(s.lastFrac * pieceBytes));
        const hv = peers.map((p) => p.have.map((b, i) => (b ? i : -1)).filter((i) => i >= 0));
        // every piece is somewhere
        for (let i = 0; i < s.pieceCount; i++) if (!hv.some((h) => h.includes(i))) hv[i % hv.length]!.push(i);
        return {
          pieceCount: s.pieceCount,
          blocksPerPiece: s.blocksPerPiece,
          lastPieceBytes,
          seed: s.seed,
          endgameDuplicates: s.endgameDuplicates,
          peers: hv.map((have, k) => ({ have, allowedFast: peers[k]!.allowedFast })),
        };
      }),
  );

function run(sc: Scenario): void {
  const n = sc.pieceCount;
  const pieceLength = sc.blocksPerPiece * KB16;
  const totalLength = (n - 1) * pieceLength + sc.lastPieceBytes;
  const rnd = new SeededRandom(sc.seed);
  const picker = new PiecePicker({
    pieceCount: n,
    pieceLength,
    totalLength,
    have: new Bitfield(n),
    random: new SeededRandom(sc.seed ^ 0x5555),
    endgameDuplicates: sc.endgameDuplicates,
    rejectCooldownMs: 500,
  });
  const peers: TestPeer[] = sc.peers.map((p, k) => {
    const b = new Bitfield(n);
    for (const i of p.have) b.set(i);
    return peer(`p${k}`, b, { choking: rnd.int(2) === 0, allowedFast: p.allowedFast });
  });
  for (const p of peers) picker.addPeerBitfield(p.have);
  const connected = new Set(peers.map((p) => p.id));
  /** Our model of the requests in flight: peer -> block key -> request. */
  const inflight = new Map<string, Map<string, BlockRequest>>(peers.map((p) => [p.id, new Map()]));
  const received = new Set<string>();
  let hashFailuresLeft = 3;
  let now = 0;

  const holders = (k: string): string[] => [...inflight].filter(([, m]) => m.has(k)).map(([id]) => id);

  for (let step = 0; step < 20_000 && !picker.complete; step++) {
    now += 50;
    const p = peers[rnd.int(peers.length)]!;
    const mine = inflight.get(p.id)!;
    const action = rnd.int(100);
    if (!connected.has(p.id)) {
      if (action < 20) {
        connected.add(p.id);
        picker.addPeerBitfield(p.have);
      }
      continue;
    }
    if (action < 40) {
      const reqs = picker.pick(p, 1 + rnd.int(6), now);
      const endgame = picker.inEndgame;
      for (const r of reqs) {
        const k = key(r);
        assert.ok(p.have.get(r.index), 'requested a piece the peer lacks');
        if (p.choking) assert.ok(p.allowedFast.has(r.index), 'requested a non-allowed-fast piece while choked');
        assert.ok(!mine.has(k), `block ${k} requested twice from ${p.id}`);
        assert.ok(!received.has(k), `block ${k} requested after it arrived`);
        const others = holders(k);
        if (others.length > 0) {
          assert.ok(endgame, `block ${k} requested from ${p.id} and ${others.join()} outside endgame`);
          assert.ok(others.length < sc.endgameDuplicates, 'more than endgameDuplicates requests for a block');
        }
        mine.set(k, r);
      }
    } else if (action < 75) {
      if (p.choking && mine.size > 0 && rnd.int(3) === 0) continue; // a choked peer may still serve allowed-fast
      const list = [...mine.values()];
      if (list.length === 0) continue;
      const r = list[rnd.int(list.length)]!;
      const k = key(r);
      const expectCancel = holders(k).filter((id) => id !== p.id).sort();
      const res = picker.onBlock(p.id, r.index, r.begin, r.length);
      assert.equal(res.accepted, true, `live request ${k} from ${p.id} not accepted`);
      assert.deepEqual(res.cancels.map((c) => c.peerId).sort(), expectCancel);
      for (const c of res.cancels) {
        assert.deepEqual(c.req, r);
        inflight.get(c.peerId)!.delete(k);
      }
      mine.delete(k);
      received.add(k);
      if (res.pieceComplete) {
        for (let b = 0; b * KB16 < picker.pieceBytes(r.index); b++) assert.ok(received.has(`${r.index}:${b * KB16}`));
        if (hashFailuresLeft > 0 && rnd.int(10) === 0) {
          hashFailuresLeft--;
          const blamed = picker.contributors(r.index);
          assert.ok(blamed.includes(p.id));
          assert.deepEqual(picker.onPieceFailed(r.index), blamed);
          for (const k2 of [...received]) if (k2.startsWith(`${r.index}:`)) received.delete(k2);
        } else {
          assert.deepEqual(picker.onPieceVerified(r.index), []);
        }
      }
    } else if (action < 82) {
      const list = [...mine.values()];
      if (list.length === 0) continue;
      const r = list[rnd.int(list.length)]!;
      picker.onRequestFailed(p.id, r);
      mine.delete(key(r));
    } else if (action < 92) {
      // choke / unchoke (without the fast extension a choke drops every request)
      p.choking = !p.choking;
      if (p.choking) {
        const released = picker.releasePeer(p.id).map(key).sort();
        assert.deepEqual(released, [...mine.keys()].sort());
        mine.clear();
      }
    } else if (action < 95 && connected.size > 1) {
      const released = picker.releasePeer(p.id).map(key).sort();
      assert.deepEqual(released, [...mine.keys()].sort());
      mine.clear();
      picker.removePeerBitfield(p.have);
      connected.delete(p.id);
    } else if (action < 97) {
      // announce a new piece
      const i = rnd.int(n);
      if (!p.have.get(i)) {
        p.have.set(i);
        picker.addPeerHave(i);
      }
    }
    assert.equal(picker.outstanding(p.id), mine.size);
    picker.checkInvariants();
  }
  assert.equal(picker.complete, true, `not complete: ${JSON.stringify(picker.stats())}`);
  assert.equal(received.size, (n - 1) * sc.blocksPerPiece + Math.ceil(sc.lastPieceBytes / KB16));
  for (const m of inflight.values()) assert.equal(m.size, 0, 'requests left in flight after completion');
}

describe('PiecePicker: simulated swarm', () => {
  it('drives random swarms to completion with exactly-once delivery outside endgame', () => {
    fc.assert(fc.property(scenarioArb, run), { numRuns: 150 });
  });
});
