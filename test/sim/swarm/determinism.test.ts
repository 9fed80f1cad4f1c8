/** Same seed, same run: the trace (every connection, piece and state change with its virtual time) repeats exactly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSwarm } from './swarm.js';
import { SMALL, summary } from './scenarios.js';

test('swarm simulation: the same seed gives the same trace, another seed another', { timeout: 60_000 }, async (t) => {
  const opts = { ...SMALL, leechers: 6, sizeBytes: 2 * 1024 * 1024 };
  const a = await runSwarm({ ...opts, seed: 3, keepTrace: true });
  const b = await runSwarm({ ...opts, seed: 3, keepTrace: true });
  const c = await runSwarm({ ...opts, seed: 4 });
  t.diagnostic(`seed 3: ${summary(a)}`);
  t.diagnostic(`seed 4: ${summary(c)}`);
  for (const r of [a, b, c]) {
    assert.deepEqual(r.errors, []);
    assert.equal(r.complete, r.leechers);
    assert.ok(r.peers.every((p) => p.intact), 'every peer holds the source bytes');
    // No real timer, clock or random number was touched while the engines ran.
    assert.deepEqual(r.leaks, {});
  }
  assert.ok(a.traceEvents > 100, 'the trace records the run');
  // Compare the lines first: a difference then shows where the runs diverged.
  assert.deepEqual(b.traceLines, a.traceLines);
  assert.equal(b.trace, a.trace);
  assert.equal(b.virtualMs, a.virtualMs);
  assert.deepEqual(b.curve, a.curve);
  assert.notEqual(c.trace, a.trace);
});
