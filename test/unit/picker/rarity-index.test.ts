/** RarityIndex: availability buckets stay consistent under random insert/remove/increment/decrement. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '../../../src/core/node-random.js';
import { RarityIndex } from '../../../src/picker/rarity-index.js';

describe('RarityIndex', () => {
  it('build sorts by availability', () => {
    const avail = Uint32Array.from([3, 0, 1, 3, 1, 0, 2]);
    const idx = new RarityIndex(7, avail);
    idx.build([0, 1, 2, 3, 4, 5, 6], new SeededRandom(1));
    idx.checkInvariants();
    assert.equal(idx.size, 7);
    assert.equal(idx.available, 5);
    assert.deepEqual([...idx.order].map((p) => avail[p]), [0, 0, 1, 1, 2, 3, 3]);
  });

  it('random operations keep the invariants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.constantFrom('ins', 'rem', 'inc', 'dec'), fc.nat()), { maxLength: 300 }),
        fc.integer(),
        (n, ops, seed) => {
          const avail = new Uint32Array(n);
          const idx = new RarityIndex(n, avail);
          const rnd = new SeededRandom(seed);
          const half = [];
          for (let i = 0; i < n; i += 2) half.push(i);
          idx.build(half, rnd);
          for (const [op, x] of ops) {
            const p = x % n;
            if (op === 'ins') idx.insert(p, rnd);
            else if (op === 'rem') idx.remove(p);
            else if (op === 'inc') {
              avail[p]!++;
              idx.incremented(p);
            } else if (avail[p]! > 0) {
              avail[p]!--;
              idx.decremented(p);
            }
            idx.checkInvariants();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
