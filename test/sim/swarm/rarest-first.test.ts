/**
 * Rarest-first spreads pieces: the distributed-copies curve rises, and the leechers hold every piece between them
 * much sooner than when they all pick pieces in order (the sequential baseline, which asks the seed for the same
 * pieces again and again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCurve, runSwarm } from './swarm.js';
import { SMALL, summary } from './scenarios.js';

test('swarm simulation: rarest-first spreads pieces (copies curve rises; faster than in-order picking)', { timeout: 60_000 }, async (t) => {
  const rarest = await runSwarm({ ...SMALL, seed: 31 });
  const inOrder = await runSwarm({ ...SMALL, seed: 31, sequential: true });
  t.diagnostic(`rarest-first: ${summary(rarest)}`);
  t.diagnostic(`in order:     ${summary(inOrder)}`);
  for (const line of formatCurve(rarest)) t.diagnostic(line);
  for (const r of [rarest, inOrder]) {
    assert.deepEqual(r.errors, []);
    assert.equal(r.complete, r.leechers);
  }
  const curve = rarest.curve;
  // No one leaves: copies only ever grow, from the seed's one to everyone's.
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i]!.avg >= curve[i - 1]!.avg, `avg copies fell at ${curve[i]!.t} s`);
  assert.equal(curve[0]!.min, 1);
  assert.equal(curve.at(-1)!.min, rarest.leechers + 1);
  assert.ok(curve.at(-1)!.dc > curve[0]!.dc);
  const allR = rarest.swarmHasAllAtMs!;
  const allS = inOrder.swarmHasAllAtMs!;
  t.diagnostic(
    `leechers held every piece at ${(allR / 1000).toFixed(1)} s (rarest-first) vs ${(allS / 1000).toFixed(1)} s (in order); ` +
      `seed uploaded ${(rarest.seedUploaded / rarest.sizeBytes).toFixed(2)}x vs ${(inOrder.seedUploaded / inOrder.sizeBytes).toFixed(2)}x`,
  );
  assert.ok(allR < allS, 'rarest-first gets every piece into the swarm sooner');
});
