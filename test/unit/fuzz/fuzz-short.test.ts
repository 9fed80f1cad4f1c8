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
  // Empty: the metainfo path-prefix check (issue 14 item 1) and url-list de-duplication (item 2) are linear now;
  // their families guard against a regression.
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

test('the harness bites: a TypeError is a crash, a BtError is not, a quadratic family measures ≈2', async () => {
  const { BtError } = await import('../../../src/core/index.js');
  const quadratic = (b: Uint8Array): number => {
    let x = 0;
    for (let i = 0; i < b.length; i++) for (let j = 0; j < b.length; j++) x += b[i]! ^ b[j]!;
    return x;
  };
  const r = await runTarget(
    {
      name: 'self-test',
      entry: 'a fake decoder',
      maxLen: 256,
      samples: () => [Uint8Array.of(1, 2, 3)],
      run(b) {
        if (b.includes(0xee)) throw new TypeError('boom');
        if (b.length > 5) throw new BtError('ERR_PROTOCOL', 'too long');
      },
      families: [],
    },
    { inputs: 3000, seed: 1, noGrowth: true, outDir: undefined },
  );
  assert.ok(r.crashes > 0, 'a TypeError must count as a crash');
  assert.ok(r.crashSamples.every((c) => c.message.includes('TypeError: boom')));
  const { measureFamily } = await import('../../fuzz/harness.js');
  const f = await measureFamily({ name: 'q', entry: '', maxLen: 1 << 20, samples: () => [], run: (b) => void quadratic(b), families: [] }, { name: 'n² loop', n0: 1000, make: (n) => new Uint8Array(n) }, 15);
  assert.ok(f.exponent > 1.7 && f.exponent < 2.3, `quadratic loop measured ${f.exponent}`);
});

test('the MSE targets\' memoised DH key pair gives the same outcomes as a real DhKeyPair (same bytes sent, same end)', async () => {
  const { mseRun, targetByName } = await import('../../fuzz/targets.js');
  const { mutate, Prng } = await import('../../fuzz/mutate.js');
  const outcome = (role: 'receiver' | 'initiator', b: Uint8Array, memo: boolean): string => {
    try {
      return mseRun(role, b, memo);
    } catch (e) {
      return `threw ${e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ''} ${e.message}` : String(e)}`;
    }
  };
  const rng = new Prng(5);
  for (const role of ['receiver', 'initiator'] as const) {
    const t = targetByName(`mse-${role}`)!;
    const corpus = t.samples();
    const ends = new Set<string>();
    for (let i = 0; i < 150; i++) {
      // The transcript as is, then mutations of it; each input twice (the second hits the memo).
      const b = i < 2 ? corpus[i]! : mutate(rng, rng.pick(corpus), corpus, t.maxLen);
      const real = outcome(role, b, false);
      assert.equal(outcome(role, b, true), real, `${role} input ${i}`);
      assert.equal(outcome(role, b, true), real, `${role} input ${i}, memoised`);
      ends.add(real.split(' ')[0]!);
    }
    assert.ok(ends.has('done') && ends.size > 1, `${role}: the inputs reach both a completed and a refused handshake (${[...ends].join(', ')})`);
  }
});
