/** TokenBucket / Budget (src/util/token-bucket.ts): refill, debt, burst cap, unlimited, several buckets at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Budget, TokenBucket } from '../../../src/util/token-bucket.js';

test('a bucket refills at its rate, caps at its burst, and may go into debt', () => {
  const b = new TokenBucket(1000, 500);
  assert.equal(b.available(0), 500, 'starts full');
  b.spend(2000, 0);
  assert.equal(b.canSpend(0), false);
  assert.equal(b.msUntilSpendable(0), 1501, 'debt of 1500 paid back at 1000/s, then one byte');
  assert.equal(b.canSpend(1500), false);
  assert.equal(b.canSpend(1502), true);
  assert.equal(b.available(10_000), 500, 'never above the burst');
});

test('over a long run the bytes spent follow the rate', () => {
  const b = new TokenBucket(100_000);
  let spent = 0;
  for (let t = 0; t <= 10_000; t += 7) {
    while (b.canSpend(t)) {
      b.spend(16_384, t);
      spent += 16_384;
    }
  }
  // 10 s at 100 kB/s plus the initial burst (a quarter second, at least 16 KiB) plus one block of debt.
  assert.ok(spent >= 1_000_000 && spent <= 1_000_000 + 25_000 + 16_384 * 2, `spent ${spent}`);
});

test('rate 0 is unlimited; setRate changes the rate and caps the balance', () => {
  const b = new TokenBucket();
  assert.equal(b.unlimited, true);
  assert.equal(b.canSpend(0), true);
  b.spend(1e12, 0);
  assert.equal(b.canSpend(0), true);
  assert.equal(b.available(0), Infinity);
  b.setRate(64 * 1024);
  assert.equal(b.unlimited, false);
  assert.equal(b.burst, 16 * 1024);
  assert.throws(() => b.setRate(-1), RangeError);
});

test('a Budget is spendable only when all its buckets are, and spends from each', () => {
  const global = new TokenBucket(1000, 1000);
  const own = new TokenBucket(10_000, 10_000);
  const budget = new Budget([own, global]);
  assert.equal(budget.available(0), 1000);
  budget.spend(1500, 0);
  assert.equal(budget.canSpend(0), false, 'the global bucket is in debt');
  assert.equal(own.available(0), 8500);
  assert.equal(budget.msUntilSpendable(0), 501);
  assert.equal(new Budget([new TokenBucket(), new TokenBucket()]).unlimited, true);
});
