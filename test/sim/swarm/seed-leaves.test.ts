/** The seed leaves as soon as the leechers hold every piece between them; they finish among themselves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSwarm } from './swarm.js';
import { SMALL, summary } from './scenarios.js';

test('swarm simulation: the seed leaves once each piece is out, the leechers finish without it', { timeout: 60_000 }, async (t) => {
  const r = await runSwarm({ ...SMALL, seed: 21, seedLeaves: true });
  t.diagnostic(summary(r));
  assert.deepEqual(r.errors, []);
  assert.ok(r.seedLeftAtMs !== undefined, 'the seed left');
  t.diagnostic(`seed left at ${(r.seedLeftAtMs / 1000).toFixed(1)} s having uploaded ${(r.seedUploaded / r.sizeBytes).toFixed(2)}x the torrent`);
  assert.ok(r.seedUploaded >= r.sizeBytes, 'every piece left the seed at least once');
  // It left before anyone completed: the rest of the download happened among the leechers alone.
  assert.ok(r.firstCompleteAtMs === undefined || r.firstCompleteAtMs >= r.seedLeftAtMs);
  const last = r.curve.at(-1)!;
  assert.equal(last.online, r.leechers, 'only the leechers are left');
  assert.equal(r.complete, r.leechers);
  for (const p of r.peers) if (p.name !== 'seed') assert.ok(p.intact, `${p.name} holds exactly the source bytes`);
});
