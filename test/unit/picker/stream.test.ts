/** The picker's streaming step: the stream list first, urgent duplicates on lag, cancels outside on a seek. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KB16, bits, makePicker, peer } from './helpers.js';

describe('PiecePicker streaming', () => {
  it('requests the stream list first, in its order, then picks normally; an empty list is normal picking', () => {
    const p = makePicker({ pieceCount: 20, have: [5] });
    const a = peer('a', bits(20, 'all'));
    p.addPeerBitfield(a.have);
    p.setStreamPieces([12, 5, 19, 13], 2); // 5 is had: skipped
    const reqs = p.pick(a, 8, 0);
    assert.deepEqual(reqs.map((r) => `${r.index}/${r.begin / KB16}`), ['12/0', '12/1', '19/0', '19/1', '13/0', '13/1', reqs[6]!.index + '/0', reqs[7]!.index + '/1']);
    assert.ok(![12, 13, 19, 5].includes(reqs[6]!.index), 'then a normal pick');
    assert.deepEqual(p.streamPieces, [12, 5, 19, 13]);
    p.setStreamPieces([], 0);
    assert.deepEqual(p.streamPieces, []);
    p.checkInvariants();
    assert.throws(() => p.setStreamPieces([20], 1), RangeError);
  });

  it('duplicates urgent blocks that lag to another peer, not window blocks', () => {
    const p = makePicker({ pieceCount: 10, urgentLagMs: 1000 });
    const a = peer('a', bits(10, 'all'));
    const b = peer('b', bits(10, 'all'));
    p.addPeerBitfield(a.have);
    p.addPeerBitfield(b.have);
    p.setStreamPieces([3, 4], 1);
    assert.deepEqual(p.pick(a, 4, 0).map((r) => r.index), [3, 3, 4, 4]);
    // b early: nothing of the stream is left to start; not lagging yet: no duplicates.
    assert.ok(p.pick(b, 2, 500).every((r) => r.index !== 3 && r.index !== 4));
    // After the lag: b gets piece 3's blocks again (urgent), not piece 4's.
    const dup = p.pick(b, 2, 1500);
    assert.deepEqual(dup.map((r) => r.index), [3, 3]);
    assert.equal(p.streamDuplicates, 2);
    const got = p.onBlock('b', 3, 0, KB16);
    assert.deepEqual(got.cancels.map((c) => c.peerId), ['a']);
    p.checkInvariants();
  });

  it('a seek cancels every request outside the list; the same peer is not asked for them again at once', () => {
    const p = makePicker({ pieceCount: 10 });
    const a = peer('a', bits(10, 'all'));
    p.addPeerBitfield(a.have);
    p.setStreamPieces([1, 2], 2);
    assert.deepEqual(p.pick(a, 6, 0).map((r) => r.index), [1, 1, 2, 2, p.requestsOf('a')[4]!.index, p.requestsOf('a')[5]!.index]);
    const other = p.requestsOf('a')[4]!.index;
    p.onBlock('a', other, 0, KB16); // the other piece is now partial
    assert.deepEqual(p.cancelOutsideStream().map((c) => `${c.req.index}/${c.req.begin / KB16}`), [`${other}/1`], 'only outside the list');
    p.setStreamPieces([7], 1);
    const cancels = p.cancelOutsideStream();
    assert.deepEqual(cancels.map((c) => `${c.req.index}/${c.req.begin / KB16}`).sort(), ['1/0', '1/1', '2/0', '2/1'].sort());
    p.setStreamPieces([], 0);
    assert.deepEqual(p.cancelOutsideStream(), [], 'no list: nothing is cancelled');
    p.setStreamPieces([7], 1);
    assert.equal(p.outstanding('a'), 0);
    p.checkInvariants();
    const next = p.pick(a, 10, 10);
    assert.deepEqual(next.slice(0, 2).map((r) => r.index), [7, 7]);
    assert.ok(!next.some((r) => r.index === other && r.begin === KB16), 'the cancelled block of the partial piece is not re-asked of a at once');
    p.releasePeer('a');
    p.checkInvariants();
  });
});
