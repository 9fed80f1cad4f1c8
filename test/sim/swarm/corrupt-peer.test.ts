/** A leecher that uploads corrupt data (its storage flips bytes on reads) is banned; every other leecher completes intact. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSwarm } from './swarm.js';
import { SMALL, summary } from './scenarios.js';

test('swarm simulation: a corrupting peer is banned and the others complete byte-identical to the source', { timeout: 60_000 }, async (t) => {
  const r = await runSwarm({ ...SMALL, seed: 11, corrupt: [0] });
  t.diagnostic(summary(r));
  assert.deepEqual(r.errors, []);
  const bad = r.peers.find((p) => p.corrupt)!;
  const honest = r.peers.filter((p) => !p.corrupt && p.name !== 'seed');
  const banners = honest.filter((p) => p.banned.some((a) => a.startsWith(`${bad.address}:`)));
  t.diagnostic(`${bad.name} uploaded ${bad.uploaded} bytes; banned by ${banners.map((p) => p.name).join(', ')}; hash failures: ${honest.map((p) => p.hashFailures).join(' ')}`);
  assert.ok(bad.uploaded > 0, 'the corrupting peer did upload');
  assert.ok(banners.length > 0, 'someone banned the corrupting peer');
  for (const p of honest) {
    assert.ok(p.completeAtMs !== undefined, `${p.name} completed`);
    assert.ok(p.intact, `${p.name} holds exactly the source bytes`);
    // Hash failures come from the corrupting peer only: nobody honest is banned.
    assert.ok(
      p.banned.every((a) => a.startsWith(`${bad.address}:`)),
      `${p.name} banned only the corrupting peer (${p.banned.join(', ')})`,
    );
  }
});
