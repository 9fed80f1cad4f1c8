/**
 * The short fuzz run (issue 14): every target of test/fuzz for a couple of thousand inputs. Fails on any
 * crash (an exception that is not a BtError, a broken round trip, or a hang) and on any input family whose
 * cost grows with an exponent ≥ 1.7 (quadratic shows as ≈2), except the known cases in expectedQuadratic.
 * The long run: npm run fuzz -- --long (docs/reliability.md). TK_FUZZ_SEED / TK_FUZZ_INPUTS override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTarget } from '../../fuzz/harness.js';
import { TARGETS } from '../../fuzz/targets.js';

const SEED = Number(process.env['TK_FUZZ_SEED'] ?? 1);
const INPUTS = Number(process.env['TK_FUZZ_INPUTS'] ?? 2000);
const MAX_EXPONENT = 1.7;

/**
 * Families known to grow quadratically, each with the issue item that fixes it. Remove an entry when its
 * fix lands (the test then guards against a regression).
 */
export const expectedQuadratic: readonly { target: string; family: string; item: string }[] = [
  // TODO(issue 14 item 1): the metainfo path-prefix check builds every prefix string of every path.
  { target: 'metainfo', family: 'path components (item 1)', item: 'issue 14 item 1' },
  { target: 'metainfo', family: '20 files x path components (item 1)', item: 'issue 14 item 1' },
  // TODO(issue 14 item 2): url-list de-duplication with out.includes per entry.
  { target: 'metainfo', family: 'url-list entries (item 2)', item: 'issue 14 item 2' },
];

for (const t of TARGETS) {
  test(`fuzz ${t.name}: no crash, no unexpected super-linear growth`, async (ctx) => {
    const inputs = Math.ceil(INPUTS / (t.costly ?? 1));
    const r = await runTarget(t, { inputs, seed: SEED, log: (l) => ctx.diagnostic(l) });
    assert.equal(r.inputs, inputs);
    assert.equal(r.crashes, 0, `${t.name}: ${r.crashes} crashes (seed ${SEED}):\n${r.crashSamples.map((c) => `  ${c.kind}: ${c.message}${c.file ? ` (${c.file})` : ''}`).join('\n')}`);
    const steep: string[] = [];
    for (const f of r.families) {
      ctx.diagnostic(`${f.name}: exponent ${f.exponent.toFixed(2)} [${f.ms.map((m) => m.toFixed(3)).join(', ')} ms @ n=${f.sizes.join('/')}]`);
      const allowed = expectedQuadratic.find((q) => q.target === t.name && q.family === f.name);
      if (f.exponent >= MAX_EXPONENT && !allowed) steep.push(`${f.name}: ${f.exponent.toFixed(2)} (${f.ms.map((m) => m.toFixed(2)).join(', ')} ms at n=${f.sizes.join('/')})`);
      if (allowed && f.exponent < MAX_EXPONENT) ctx.diagnostic(`${f.name} is on expectedQuadratic (${allowed.item}) but measured ${f.exponent.toFixed(2)}: remove it once ${allowed.item} has landed`);
    }
    assert.deepEqual(steep, [], `${t.name}: input families growing faster than n^${MAX_EXPONENT}`);
    ctx.diagnostic(`${r.inputs} inputs, slowest ${r.slowestMs.toFixed(1)} ms (${r.slowestSize} bytes), peak RSS ${r.peakRssMB.toFixed(0)} MB, ${(r.elapsedMs / 1000).toFixed(1)} s`);
  });
}
