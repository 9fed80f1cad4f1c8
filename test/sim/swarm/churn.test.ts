/** Peer churn: leechers join over time, some stop and start again, two leave for good; every one that stays completes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSwarm } from './swarm.js';
import { SMALL, summary } from './scenarios.js';

test('swarm simulation: with leechers joining, stopping, restarting and leaving, all that stay complete', { timeout: 60_000 }, async (t) => {
  const r = await runSwarm({ ...SMALL, seed: 41, leechers: 10, churn: true, keepTrace: true });
  t.diagnostic(summary(r));
  assert.deepEqual(r.errors, []);
  const lines = r.traceLines!;
  const stops = lines.filter((l) => / L\d+ stops$/.test(l.trim())).length;
  const restarts = lines.filter((l) => / L\d+ start$/.test(l.trim())).length - 10;
  const leaves = lines.filter((l) => / L\d+ leaves$/.test(l.trim())).length;
  t.diagnostic(`${stops} stops, ${restarts} restarts, ${leaves} left for good`);
  assert.ok(stops >= 2 && restarts >= 2, 'leechers stopped and started again');
  assert.equal(leaves, 2);
  assert.equal(r.leechers, 8);
  assert.equal(r.complete, r.leechers);
  for (const p of r.peers) if (p.name !== 'seed' && !p.gone) assert.ok(p.intact, `${p.name} holds exactly the source bytes`);
});
