/** Hash blame (pure): weights, the ban threshold, the reason. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { banReason, blameWeight, shouldBan } from '../../../src/torrent/hash-blame.js';

describe('hash blame', () => {
  it('a lone contributor counts double, several count one each', () => {
    assert.equal(blameWeight(['a']), 2);
    assert.equal(blameWeight(['a', 'b']), 1);
    assert.equal(blameWeight(['a', 'b', 'c']), 1);
    assert.equal(blameWeight([]), 1);
  });

  it('bans at the threshold', () => {
    assert.equal(shouldBan(2, 3), false);
    assert.equal(shouldBan(3, 3), true);
    assert.equal(shouldBan(4, 3), true);
    // A lone sender reaches 3 on its second bad piece (2 + 2); a shared one on its third (1 + 1 + 1).
    assert.equal(shouldBan(blameWeight(['a']) * 2, 3), true);
    assert.equal(shouldBan(blameWeight(['a', 'b']) * 2, 3), false);
  });

  it('the reason counts pieces, not weights', () => {
    assert.equal(banReason(4, 2), 'sent data for 2 pieces that failed their hash check');
    assert.equal(banReason(3, 1), 'sent data for 3 pieces that failed their hash check');
    assert.equal(banReason(3, 2), 'sent data for 2 pieces that failed their hash check', 'mixed weights round up');
  });
});
