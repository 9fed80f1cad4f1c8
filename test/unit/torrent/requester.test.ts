/** requestDepth / requestBatch / nextSlowStart (pure), and the Requester filling a pipeline within its budgets. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextSlowStart, requestBatch, requestDepth } from '../../../src/torrent/requester.js';

const S = { requestQueueSeconds: 3, maxOutstandingRequests: 1000 };
const BLOCK = 16384;

describe('requestDepth', () => {
  it('keeps requestQueueSeconds of data at the peer rate, at least 16', () => {
    assert.equal(requestDepth(0, S, 250, 0), 16);
    assert.equal(requestDepth(BLOCK, S, 250, 0), 16, '3 blocks: the floor');
    assert.equal(requestDepth(10 * BLOCK, S, 250, 0), 30);
    assert.equal(requestDepth(10 * BLOCK + 1, S, 250, 0), 31, 'rounded up');
    assert.equal(requestDepth(10 * BLOCK, { ...S, requestQueueSeconds: 6 }, 250, 0), 60);
  });

  it('is capped by the peer (reqq) and by maxOutstandingRequests', () => {
    assert.equal(requestDepth(1e9, S, 250, 0), 250);
    assert.equal(requestDepth(1e9, { ...S, maxOutstandingRequests: 100 }, 250, 0), 100);
    assert.equal(requestDepth(1e9, S, 5, 0), 16, 'never below 16, even for a tiny reqq');
  });

  it('slow start sets a floor while the rate is young', () => {
    assert.equal(requestDepth(0, S, 250, 32), 32);
    assert.equal(requestDepth(20 * BLOCK, S, 250, 32), 60, 'the rate wins once it is higher');
    assert.equal(requestDepth(0, S, 40, 100), 40, 'capped like the rest');
  });

  it('grows with the rate (monotone)', () => {
    let prev = 0;
    for (let r = 0; r < 400 * BLOCK; r += 7919) {
      const d = requestDepth(r, S, 250, 0);
      assert.ok(d >= prev);
      prev = d;
    }
  });
});

describe('requestBatch', () => {
  it('tops the pipeline up only once an eighth of it is free', () => {
    assert.equal(requestBatch(0, 32), 32);
    assert.equal(requestBatch(28, 32), 4, 'exactly an eighth free');
    assert.equal(requestBatch(29, 32), 0);
    assert.equal(requestBatch(32, 32), 0);
    assert.equal(requestBatch(40, 32), 0, 'over the target: nothing');
    assert.equal(requestBatch(15, 16), 0, 'one block free of 16 is not enough (16 >> 3 = 2)');
    assert.equal(requestBatch(14, 16), 2);
    assert.equal(requestBatch(7, 8), 1, 'a small target batches by at least one block');
  });
});

describe('nextSlowStart', () => {
  it('grows by one per block in the first 10 s, then ends for good', () => {
    assert.equal(nextSlowStart(32, 0), 33);
    assert.equal(nextSlowStart(33, 9_999), 34);
    assert.equal(nextSlowStart(34, 10_000), 0);
    assert.equal(nextSlowStart(0, 5), 0, 'ended stays ended');
  });
});
