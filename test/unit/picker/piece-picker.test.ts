/** PiecePicker: selection policy, request bookkeeping, endgame, failures, geometry. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/core/node-random.js';
import { PiecePicker } from '../../../src/picker/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { bits, join, KB16, key, makePicker, peer, range } from './helpers.js';

describe('PiecePicker: availability', () => {
  it('counts bitfields, haves and departures', () => {
    const pk = makePicker({ pieceCount: 10 });
    const a = bits(10, [1, 2, 3]);
    const b = bits(10, 'all');
    pk.addPeerBitfield(a);
    pk.addPeerBitfield(b);
    assert.equal(pk.availability(1), 2);
    assert.equal(pk.availability(0), 1);
    a.set(0);
    pk.addPeerHave(0);
    assert.equal(pk.availability(0), 2);
    pk.removePeerBitfield(a);
    assert.deepEqual(range(0, 10).map((i) => pk.availability(i)), new Array(10).fill(1));
    assert.equal(pk.peerCount, 1);
    pk.checkInvariants();
  });

  it('isInteresting: the peer has a wanted piece we lack', () => {
    const pk = makePicker({ pieceCount: 12, have: [0, 1, 2] });
    assert.equal(pk.isInteresting(bits(12, [0, 1, 2])), false);
    assert.equal(pk.isInteresting(bits(12, [2, 11])), true);
    pk.setPiecePriority(11, 0);
    assert.equal(pk.isInteresting(bits(12, [2, 11])), false);
    assert.equal(pk.isInteresting(bits(12, 'none')), false);
  });
});

describe('PiecePicker: selection', () => {
  it('rarest first among the pieces the peer has', () => {
    // availability: 0,1 -> 3 peers; 2..4 -> 2; 5..9 -> 1
    const pk = makePicker({ pieceCount: 10, randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(10, 'all')));
    join(pk, peer('b', bits(10, range(0, 5))));
    join(pk, peer('c', bits(10, [0, 1])));
    const d = peer('d', bits(10, range(0, 5))); // not registered: does not change availability
    const first = pk.pick(a, 2, 0);
    assert.equal(first.length, 2);
    assert.equal(first[0]!.index, first[1]!.index, 'both blocks of one piece');
    assert.ok(first[0]!.index >= 5, `picked ${first[0]!.index}, expected a piece seen by 1 peer`);
    const second = pk.pick(d, 2, 0);
    assert.ok(second[0]!.index >= 2 && second[0]!.index <= 4, `picked ${second[0]!.index}, expected 2..4`);
    pk.checkInvariants();
  });

  it('walks all rare pieces before common ones', () => {
    const pk = makePicker({ pieceCount: 40, randomFirstPieces: 0 });
    const seed = join(pk, peer('seed', bits(40, 'all')));
    join(pk, peer('half', bits(40, range(0, 20))));
    const reqs = pk.pick(seed, 80, 0);
    const order = reqs.filter((_, i) => i % 2 === 0).map((r) => r.index);
    assert.equal(order.length, 40);
    assert.ok(order.slice(0, 20).every((i) => i >= 20), 'the 20 pieces only the seed has come first');
  });

  it('breaks ties at random, deterministically per seed', () => {
    const firstPicks = (seed: number): number[] => {
      const pk = makePicker({ pieceCount: 64, randomFirstPieces: 0, seed });
      const p = join(pk, peer('p', bits(64, 'all')));
      return pk.pick(p, 10, 0).map((r) => r.index);
    };
    assert.deepEqual(firstPicks(7), firstPicks(7));
    const seen = new Set<number>();
    for (let s = 1; s <= 30; s++) seen.add(firstPicks(s)[0]!);
    assert.ok(seen.size >= 10, `only ${seen.size} distinct first pieces over 30 seeds`);
  });

  it('random first pieces until we have randomFirstPieces, then rarest', () => {
    // piece 0 is the rarest; the rest are common.
    const setup = (seed: number, have: number[]): { pk: PiecePicker; p: ReturnType<typeof peer> } => {
      const pk = makePicker({ pieceCount: 50, seed, have });
      const p = join(pk, peer('p', bits(50, 'all')));
      join(pk, peer('q', bits(50, range(1, 50))));
      return { pk, p };
    };
    let rarest = 0;
    for (let s = 1; s <= 20; s++) {
      const { pk, p } = setup(s, []);
      if (pk.pick(p, 1, 0)[0]!.index === 0) rarest++;
    }
    assert.ok(rarest < 5, `random-first picked the rarest piece ${rarest}/20 times`);
    for (let s = 1; s <= 5; s++) {
      const { pk, p } = setup(s, [10, 11, 12, 13]);
      assert.equal(pk.pick(p, 1, 0)[0]!.index, 0, 'with 4 pieces: rarest first');
    }
  });

  it('finishes started pieces first, preferring the peer\'s own', () => {
    const pk = makePicker({ pieceCount: 20, pieceLength: 4 * KB16, randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(20, 'all')));
    const b = join(pk, peer('b', bits(20, 'all')));
    const ra = pk.pick(a, 2, 0);
    assert.deepEqual(ra.map((r) => r.begin), [0, KB16]);
    const x = ra[0]!.index;
    // b gets the rest of a's piece before anything new
    const rb = pk.pick(b, 3, 0);
    assert.deepEqual(rb.slice(0, 2), [
      { index: x, begin: 2 * KB16, length: KB16 },
      { index: x, begin: 3 * KB16, length: KB16 },
    ]);
    assert.notEqual(rb[2]!.index, x);
    const y = rb[2]!.index;
    // a continues its own piece before b's; here x is fully requested, so it joins y (b's partial piece)
    const ra2 = pk.pick(a, 1, 0);
    assert.deepEqual(ra2, [{ index: y, begin: KB16, length: KB16 }]);
    assert.equal(pk.stats().partialPieces, 2);
    pk.checkInvariants();
  });

  it('prefers the partial piece closest to completion', () => {
    const pk = makePicker({ pieceCount: 10, pieceLength: 8 * KB16, randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(10, 'all')));
    const b = join(pk, peer('b', bits(10, 'all')));
    const r1 = pk.pick(a, 2, 0); // piece X: 6 blocks left
    const r2 = pk.pick(b, 6, 0); // piece X finished by b
    assert.ok(r2.every((r) => r.index === r1[0]!.index));
    const r3 = pk.pick(b, 7, 0); // piece Y: 1 left
    const r4 = pk.pick(b, 3, 0); // b continues Y first... then a new piece Z with 6 left
    assert.equal(r4[0]!.index, r3[0]!.index);
    const c = join(pk, peer('c', bits(10, 'all')));
    // partial pieces: Z (6 missing). No other; c takes from Z
    const z = r4[1]!.index;
    assert.equal(pk.pick(c, 1, 0)[0]!.index, z);
    pk.checkInvariants();
  });

  it('never requests a block twice from the same peer and never the same block from two peers', () => {
    const pk = makePicker({ pieceCount: 30, pieceLength: 3 * KB16, totalLength: 29 * 3 * KB16 + 100, endgameDuplicates: 1 });
    const ps = ['a', 'b', 'c'].map((id) => join(pk, peer(id, bits(30, 'all'))));
    const seen = new Set<string>();
    for (let round = 0; round < 40; round++) {
      for (const p of ps) {
        for (const r of pk.pick(p, 1 + (round % 3), 0)) {
          assert.equal(seen.has(key(r)), false, `block ${key(r)} requested twice`);
          seen.add(key(r));
        }
      }
    }
    assert.equal(seen.size, 29 * 3 + 1);
    assert.equal(ps.reduce((s, p) => s + pk.outstanding(p.id), 0), seen.size);
    pk.checkInvariants();
  });

  it('while choked, requests only allowed-fast pieces', () => {
    const pk = makePicker({ pieceCount: 20, randomFirstPieces: 0 });
    const p = join(pk, peer('p', bits(20, 'all'), { choking: true }));
    assert.deepEqual(pk.pick(p, 10, 0), []);
    p.allowedFast.add(3).add(7).add(25);
    const reqs = pk.pick(p, 10, 0);
    assert.deepEqual([...new Set(reqs.map((r) => r.index))].sort((x, y) => x - y), [3, 7]);
    assert.equal(reqs.length, 4);
    // Another choked peer with the same allowed-fast set gets nothing new (all requested, not endgame).
    const q = join(pk, peer('q', bits(20, 'all'), { choking: true, allowedFast: [3] }));
    assert.deepEqual(pk.pick(q, 10, 0), []);
    q.choking = false;
    assert.equal(pk.pick(q, 4, 0).length, 4);
    pk.checkInvariants();
  });

  it('higher piece priority first; priority 0 skipped; finished vs complete', () => {
    const pk = makePicker({ pieceCount: 6, randomFirstPieces: 0 });
    const p = join(pk, peer('p', bits(6, 'all')));
    pk.setPiecePriority(4, 7);
    pk.setPiecePriorities([0, 0, 4, 4, 7, 0]);
    assert.equal(pk.pick(p, 1, 0)[0]!.index, 4);
    const rest = pk.pick(p, 100, 0);
    assert.deepEqual([...new Set(rest.map((r) => r.index))].sort(), [2, 3, 4]);
    for (const r of [...rest, { index: 4, begin: 0, length: KB16 }]) pk.onBlock('p', r.index, r.begin, r.length);
    for (const i of [2, 3, 4]) pk.onPieceVerified(i);
    assert.equal(pk.finished, true);
    assert.equal(pk.complete, false);
    assert.deepEqual(pk.pick(p, 10, 0), []);
    pk.setWanted(bits(6, [0]));
    assert.equal(pk.finished, false);
    assert.equal(pk.pick(p, 10, 0).length, 2);
    pk.checkInvariants();
  });
});

describe('PiecePicker: answers', () => {
  it('onBlock accepts requested blocks once and reports piece completion', () => {
    const pk = makePicker({ pieceCount: 3, randomFirstPieces: 0 });
    const p = join(pk, peer('p', bits(3, [1])));
    const reqs = pk.pick(p, 10, 0);
    assert.deepEqual(reqs, [
      { index: 1, begin: 0, length: KB16 },
      { index: 1, begin: KB16, length: KB16 },
    ]);
    assert.equal(pk.outstanding('p'), 2);
    assert.deepEqual(pk.onBlock('p', 1, 0, KB16), { accepted: true, pieceComplete: false, cancels: [] });
    assert.deepEqual(pk.onBlock('p', 1, 0, KB16), { accepted: false, pieceComplete: false, cancels: [] }, 'duplicate');
    assert.equal(pk.onBlock('p', 1, KB16, 100).accepted, false, 'wrong length');
    assert.equal(pk.onBlock('p', 1, 100, KB16).accepted, false, 'unaligned');
    assert.equal(pk.onBlock('p', 0, 0, KB16).accepted, false, 'piece not requested');
    assert.equal(pk.onBlock('p', 9, 0, KB16).accepted, false, 'out of range');
    assert.deepEqual(pk.onBlock('p', 1, KB16, KB16), { accepted: true, pieceComplete: true, cancels: [] });
    assert.equal(pk.outstanding('p'), 0);
    assert.deepEqual(pk.stats(), { partialPieces: 0, requestedBlocks: 0, outstandingRequests: 0, awaitingHash: 1 });
    pk.onPieceVerified(1);
    assert.equal(pk.have.get(1), true);
    assert.equal(pk.onBlock('p', 1, 0, KB16).accepted, false, 'already have');
    assert.deepEqual(pk.stats(), { partialPieces: 0, requestedBlocks: 0, outstandingRequests: 0, awaitingHash: 0 });
    pk.checkInvariants();
  });

  it('releasePeer returns the outstanding requests and makes them requestable again', () => {
    const pk = makePicker({ pieceCount: 4, pieceLength: 4 * KB16, randomFirstPieces: 0, endgameDuplicates: 1 });
    const a = join(pk, peer('a', bits(4, [2])));
    const b = join(pk, peer('b', bits(4, [2])));
    const ra = pk.pick(a, 3, 0);
    pk.onBlock('a', 2, 0, KB16);
    assert.deepEqual(pk.pick(b, 10, 0), [{ index: 2, begin: 3 * KB16, length: KB16 }]);
    const released = pk.releasePeer('a');
    assert.deepEqual(released.map(key).sort(), ra.slice(1).map(key).sort());
    assert.equal(pk.outstanding('a'), 0);
    assert.deepEqual(pk.pick(b, 10, 0).map(key).sort(), released.map(key).sort());
    // A late block from a (sent before its choke) is still welcome, and b's duplicate request is cancelled.
    const late = pk.onBlock('a', 2, KB16, KB16);
    assert.deepEqual(late, { accepted: true, pieceComplete: false, cancels: [{ peerId: 'b', req: { index: 2, begin: KB16, length: KB16 } }] });
    assert.equal(pk.contributors(2).sort().join(), 'a');
    pk.checkInvariants();
  });

  it('a released piece with nothing received goes back to the pool', () => {
    const pk = makePicker({ pieceCount: 4, randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(4, 'all')));
    pk.pick(a, 2, 0);
    assert.equal(pk.stats().partialPieces, 1);
    pk.releasePeer('a');
    assert.equal(pk.stats().partialPieces, 0);
    pk.checkInvariants();
  });

  it('onRequestFailed: the block goes to others; the same peer waits for the cool-down or an unchoke', () => {
    const pk = makePicker({ pieceCount: 1, pieceLength: 2 * KB16, randomFirstPieces: 0, rejectCooldownMs: 1000, endgameDuplicates: 1 });
    const a = join(pk, peer('a', bits(1, 'all')));
    const b = join(pk, peer('b', bits(1, 'all')));
    const [r0, r1] = pk.pick(a, 2, 100);
    pk.onRequestFailed('a', r0!);
    pk.onRequestFailed('a', r0!); // twice: ignored
    pk.onRequestFailed('b', r1!); // not b's: ignored
    assert.equal(pk.outstanding('a'), 1);
    assert.deepEqual(pk.pick(a, 5, 200), [], 'not asked of a again right away');
    assert.deepEqual(pk.pick(b, 5, 200), [r0]);
    pk.onRequestFailed('b', r0!);
    // both rejected it; after the cool-down a may ask again
    assert.deepEqual(pk.pick(a, 5, 500), []);
    assert.deepEqual(pk.pick(a, 5, 1100), [r0]);
    pk.checkInvariants();
    // choke / unchoke clears the marks
    pk.onRequestFailed('a', r0!);
    a.choking = true;
    assert.deepEqual(pk.pick(a, 5, 1200), []);
    a.choking = false;
    assert.deepEqual(pk.pick(a, 5, 1300), [r0]);
    // onUnchoke clears them too (for callers that do not call pick() while choked)
    pk.onRequestFailed('a', r0!);
    assert.deepEqual(pk.pick(a, 5, 1400), []);
    pk.onUnchoke('a');
    assert.deepEqual(pk.pick(a, 5, 1500), [r0]);
    pk.checkInvariants();
  });

  it('hash failure: contributors, then every block is missing again', () => {
    const pk = makePicker({ pieceCount: 2, pieceLength: 4 * KB16, randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(2, [0])));
    const b = join(pk, peer('b', bits(2, [0])));
    const ra = pk.pick(a, 2, 0);
    const rb = pk.pick(b, 2, 0);
    let done = false;
    for (const r of ra) done = pk.onBlock('a', r.index, r.begin, r.length).pieceComplete;
    for (const r of rb) done = pk.onBlock('b', r.index, r.begin, r.length).pieceComplete;
    assert.equal(done, true);
    assert.deepEqual(pk.contributors(0).sort(), ['a', 'b']);
    assert.deepEqual(pk.onPieceFailed(0).sort(), ['a', 'b']);
    assert.deepEqual(pk.contributors(0), []);
    assert.equal(pk.have.get(0), false);
    assert.deepEqual(pk.pick(b, 10, 0).map((r) => r.begin), [0, KB16, 2 * KB16, 3 * KB16]);
    pk.checkInvariants();
  });

  it('onPieceVerified for a piece never downloaded (e.g. found on disk) and for an in-flight one', () => {
    const pk = makePicker({ pieceCount: 3, randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(3, 'all')));
    assert.deepEqual(pk.onPieceVerified(0), []);
    const r = pk.pick(a, 1, 0);
    const dropped = pk.onPieceVerified(r[0]!.index);
    assert.deepEqual(dropped, [{ peerId: 'a', req: r[0] }]);
    assert.equal(pk.outstanding('a'), 0);
    pk.checkInvariants();
  });
});

describe('PiecePicker: endgame', () => {
  it('duplicates in-flight blocks to other peers and cancels them on arrival', () => {
    const pk = makePicker({ pieceCount: 2, pieceLength: 2 * KB16, have: [0], randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(2, 'all')));
    const b = join(pk, peer('b', bits(2, 'all')));
    const c = join(pk, peer('c', bits(2, 'all')));
    assert.equal(pk.inEndgame, false);
    const ra = pk.pick(a, 10, 0);
    assert.equal(ra.length, 2);
    assert.equal(pk.inEndgame, true);
    assert.deepEqual(pk.pick(a, 10, 0), [], 'never the same block twice to one peer');
    const rb = pk.pick(b, 10, 0);
    assert.deepEqual(rb, ra);
    assert.deepEqual(pk.pick(c, 10, 0), [], 'at most endgameDuplicates (2) per block');
    const res = pk.onBlock('b', 1, 0, KB16);
    assert.deepEqual(res, { accepted: true, pieceComplete: false, cancels: [{ peerId: 'a', req: ra[0] }] });
    assert.equal(pk.outstanding('a'), 1);
    assert.equal(pk.outstanding('b'), 1);
    assert.equal(pk.onBlock('a', 1, 0, KB16).accepted, false, 'the cancelled copy arrives anyway');
    // c may now take the second block: it has 2 requesters, so no.
    assert.deepEqual(pk.pick(c, 10, 0), []);
    pk.releasePeer('a');
    assert.deepEqual(pk.pick(c, 10, 0), [{ index: 1, begin: KB16, length: KB16 }]);
    const last = pk.onBlock('c', 1, KB16, KB16);
    assert.deepEqual(last, { accepted: true, pieceComplete: true, cancels: [{ peerId: 'b', req: { index: 1, begin: KB16, length: KB16 } }] });
    pk.onPieceVerified(1);
    assert.equal(pk.complete, true);
    assert.equal(pk.inEndgame, false);
    pk.checkInvariants();
  });

  it('endgameDuplicates = 3 allows a third requester; 1 disables endgame', () => {
    for (const [dups, expectC] of [
      [3, 1],
      [1, 0],
    ] as const) {
      const pk = makePicker({ pieceCount: 1, pieceLength: KB16, randomFirstPieces: 0, endgameDuplicates: dups });
      const ps = ['a', 'b', 'c'].map((id) => join(pk, peer(id, bits(1, 'all'))));
      pk.pick(ps[0]!, 5, 0);
      assert.equal(pk.pick(ps[1]!, 5, 0).length, expectC);
      assert.equal(pk.pick(ps[2]!, 5, 0).length, expectC);
    }
  });

  it('is not endgame while an unrequested piece is available from someone', () => {
    const pk = makePicker({ pieceCount: 3, randomFirstPieces: 0 });
    const a = join(pk, peer('a', bits(3, [0, 1])));
    join(pk, peer('b', bits(3, [2])));
    pk.pick(a, 10, 0);
    assert.equal(pk.inEndgame, false);
    assert.deepEqual(pk.pick(a, 10, 0), []);
  });
});

describe('PiecePicker: geometry', () => {
  it('last short piece and last short block', () => {
    const total = 2 * 2 * KB16 + KB16 + 3616; // 3 pieces: 32 KiB, 32 KiB, 16 KiB + 3616
    const pk = makePicker({ pieceCount: 3, pieceLength: 2 * KB16, totalLength: total, randomFirstPieces: 0 });
    assert.equal(pk.pieceBytes(2), KB16 + 3616);
    assert.equal(pk.blockCount(2), 2);
    assert.equal(pk.blockLength(2, 1), 3616);
    const p = join(pk, peer('p', bits(3, [2])));
    const reqs = pk.pick(p, 10, 0);
    assert.deepEqual(reqs, [
      { index: 2, begin: 0, length: KB16 },
      { index: 2, begin: KB16, length: 3616 },
    ]);
    assert.equal(pk.onBlock('p', 2, KB16, KB16).accepted, false, 'full-size block where a short one belongs');
    assert.equal(pk.onBlock('p', 2, 0, KB16).accepted, true);
    assert.equal(pk.onBlock('p', 2, KB16, 3616).pieceComplete, true);
  });

  it('a tiny single-piece torrent and a piece length that is not a multiple of the block size', () => {
    const tiny = makePicker({ pieceCount: 1, pieceLength: KB16, totalLength: 5 });
    assert.deepEqual(tiny.pick(join(tiny, peer('p', bits(1, 'all'))), 4, 0), [{ index: 0, begin: 0, length: 5 }]);
    const odd = makePicker({ pieceCount: 2, pieceLength: KB16 + 10, totalLength: KB16 + 10 + 7, randomFirstPieces: 0 });
    const p = join(odd, peer('p', bits(2, 'all')));
    const reqs = odd.pick(p, 10, 0).sort((x, y) => x.index - y.index || x.begin - y.begin);
    assert.deepEqual(reqs, [
      { index: 0, begin: 0, length: KB16 },
      { index: 0, begin: KB16, length: 10 },
      { index: 1, begin: 0, length: 7 },
    ]);
    odd.checkInvariants();
  });

  it('rejects inconsistent geometry', () => {
    const mk = (pieceCount: number, pieceLength: number, totalLength: number, haveBits = pieceCount): PiecePicker =>
      new PiecePicker({ pieceCount, pieceLength, totalLength, have: bits(haveBits), random: new SeededRandom(1) });
    assert.throws(() => mk(2, KB16, 3 * KB16), RangeError);
    assert.throws(() => mk(2, KB16, KB16), RangeError);
    assert.throws(() => mk(2, KB16, 2 * KB16, 3), RangeError);
    assert.equal(mk(0, KB16, 0).complete, true);
  });

  it('have / complete tracking from a partly verified start', () => {
    const pk = makePicker({ pieceCount: 5, have: [0, 1, 2, 3] });
    assert.equal(pk.complete, false);
    const p = join(pk, peer('p', bits(5, 'all')));
    const reqs = pk.pick(p, 10, 0);
    assert.ok(reqs.every((r) => r.index === 4));
    for (const r of reqs) pk.onBlock('p', r.index, r.begin, r.length);
    pk.onPieceVerified(4);
    assert.equal(pk.complete, true);
    assert.equal(pk.finished, true);
    assert.equal(pk.isInteresting(p.have), false);
    assert.deepEqual(pk.pick(p, 10, 0), []);
  });
});

describe('PiecePicker: scale', () => {
  it('100k pieces, 50 peers: registration and picks stay fast', () => {
    const n = 100_000;
    const rnd = new SeededRandom(3);
    const pk = new PiecePicker({ pieceCount: n, pieceLength: 256 * 1024, totalLength: n * 256 * 1024, have: bits(n), random: rnd });
    const peers = [];
    for (let i = 0; i < 50; i++) {
      const raw = rnd.bytes(Math.ceil(n / 8));
      const p = peer(`p${i}`, new Bitfield(n, raw));
      join(pk, p);
      peers.push(p);
    }
    const t0 = performance.now();
    let got = 0;
    for (let round = 0; round < 20; round++) for (const p of peers) got += pk.pick(p, 16, round).length;
    const ms = performance.now() - t0;
    assert.equal(got, 20 * 50 * 16);
    assert.ok(ms < 2000, `1000 picks took ${ms.toFixed(0)} ms`);
    pk.checkInvariants();
  });
});

describe('sequential mode', () => {
  it('starts pieces in index order, skipping what we have, what is started and what the peer lacks', () => {
    const picker = makePicker({ pieceCount: 40, have: [0, 1, 5] });
    picker.sequential = true;
    const seed = join(picker, peer('seed', bits(40, 'all')));
    const got = picker.pick(seed, 8, 0).map((r) => r.index);
    assert.deepEqual([...new Set(got)], [2, 3, 4, 6], 'two blocks per piece, in order, 5 skipped');
    // Another peer without piece 7: it gets 8, 9 ...
    const partial = join(picker, peer('p', bits(40, range(0, 40).filter((i) => i !== 7))));
    assert.deepEqual([...new Set(picker.pick(partial, 4, 0).map((r) => r.index))], [8, 9]);
  });

  it('follows priorities: the higher level first, each in order', () => {
    const picker = makePicker({ pieceCount: 20 });
    picker.sequential = true;
    for (const i of [15, 16, 17]) picker.setPiecePriority(i, 7);
    picker.setPiecePriority(0, 0);
    const seed = join(picker, peer('seed', bits(20, 'all')));
    assert.deepEqual([...new Set(picker.pick(seed, 10, 0).map((r) => r.index))], [15, 16, 17, 1, 2]);
  });

  it('off again: rarest-first', () => {
    const picker = makePicker({ pieceCount: 8, randomFirstPieces: 0 });
    const a = join(picker, peer('a', bits(8, 'all')));
    join(picker, peer('b', bits(8, range(0, 7))));
    // Piece 7 is the rarest (only a has it).
    assert.equal(picker.pick(a, 1, 0)[0]!.index, 7);
  });
});
