/** FakeClock: heap order (due time, then creation order), intervals, cancellation, step/nextDue. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';

test('timers fire in due order, ties in creation order; intervals keep their place', () => {
  const c = new FakeClock(0);
  const log: string[] = [];
  c.setTimeout(() => log.push('b@20'), 20);
  c.setTimeout(() => log.push('a@10'), 10);
  const iv = c.setInterval(() => log.push(`i@${c.now()}`), 10);
  c.setTimeout(() => log.push('c@10'), 10);
  c.setTimeout(() => log.push('z@0'), 0);
  c.advance(30);
  assert.deepEqual(log, ['z@0', 'a@10', 'i@10', 'c@10', 'b@20', 'i@20', 'i@30']);
  assert.equal(c.now(), 30);
  iv.cancel();
  assert.equal(c.pending(), 0);
});

test('timers set while firing run in the same advance when due; cancel before and during firing', () => {
  const c = new FakeClock(100);
  const log: number[] = [];
  const t = c.setTimeout(() => log.push(-1), 5);
  t.cancel();
  t.cancel();
  c.setTimeout(() => {
    log.push(c.now());
    c.setTimeout(() => log.push(c.now()), 0);
    c.setTimeout(() => log.push(c.now()), 50);
  }, 10);
  let n = 0;
  const iv = c.setInterval(() => {
    log.push(1000 + ++n);
    if (n === 2) iv.cancel();
  }, 4);
  c.advance(20);
  assert.deepEqual(log, [1001, 1002, 110, 110]);
  assert.equal(c.pending(), 1);
  assert.equal(c.nextDue(), 160);
  assert.equal(c.step(), true);
  assert.deepEqual(log.at(-1), 160);
  assert.equal(c.step(), false);
  assert.equal(c.nextDue(), undefined);
});

test('many random timers with cancellations fire exactly in (due, creation) order', () => {
  const c = new FakeClock(0);
  const r = new SeededRandom(42);
  const fired: [number, number][] = [];
  const expected: [number, number][] = [];
  for (let i = 0; i < 20_000; i++) {
    const due = r.int(10_000);
    const timer = c.setTimeout(() => fired.push([c.now(), i]), due);
    if (r.int(3) === 0) timer.cancel();
    else expected.push([due, i]);
  }
  assert.equal(c.pending(), expected.length);
  expected.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  c.advance(10_000);
  assert.deepEqual(fired, expected);
  assert.equal(c.pending(), 0);
});
