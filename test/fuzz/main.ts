/**
 * npm run fuzz [-- --long] [--target NAME[,NAME…]] [--inputs N] [--seed N] [--out DIR] [--no-growth] [--retimes N] [--json FILE]
 *              [--replay FILE --target NAME] [--list]
 *
 * Drives every parser and decoder (test/fuzz/targets.ts) and prints per target: inputs run, crashes,
 * inputs slower than 100 ms (first run, and re-timed: min of 3 after a GC), the slowest input, peak heap / RSS, and the worst input family's cost-growth
 * exponent. Exit 1 when any target crashed. See NOTES.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isBtError } from '../../src/core/index.js';
import { formatTable, replay, reportDir, runTarget } from './harness.js';
import type { TargetResult } from './harness.js';
import { TARGETS, targetByName } from './targets.js';

const DEFAULT_INPUTS = 5_000;
const LONG_INPUTS = 1_000_000;

function usage(msg?: string): never {
  if (msg) process.stderr.write(`fuzz: ${msg}\n`);
  process.stderr.write('usage: npm run fuzz -- [--long] [--target NAME[,NAME…]] [--inputs N] [--seed N] [--out DIR] [--no-growth] [--retimes N] [--json FILE] [--replay FILE] [--list]\n');
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let inputs: number | undefined;
  let long = false;
  let seed = 1;
  let names: string[] | undefined;
  let outDir: string | undefined;
  let json: string | undefined;
  let replayFile: string | undefined;
  let noGrowth = false;
  let retimes = 3;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => argv[++i] ?? usage(`${a} needs a value`);
    const num = (): number => {
      const n = Number(val());
      if (!Number.isSafeInteger(n) || n < 0) usage(`${a} needs a non-negative integer`);
      return n;
    };
    if (a === '--long') long = true;
    else if (a === '--inputs') inputs = num();
    else if (a === '--seed') seed = num();
    else if (a === '--target') names = val().split(',');
    else if (a === '--out') outDir = val();
    else if (a === '--json') json = val();
    else if (a === '--replay') replayFile = val();
    else if (a === '--no-growth') noGrowth = true;
    else if (a === '--retimes') retimes = num();
    else if (a === '--list') {
      for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(20)} ${t.entry}\n`);
      return;
    } else usage(`unknown argument ${a}`);
  }
  const targets = (names ?? TARGETS.map((t) => t.name)).map((n) => targetByName(n) ?? usage(`no target ${n} (see --list)`));

  if (replayFile) {
    if (targets.length !== 1 || !names) usage('--replay needs exactly one --target');
    const r = await replay(targets[0]!, new Uint8Array(readFileSync(replayFile)));
    const e = r.error;
    const verdict = e === undefined ? 'accepted' : isBtError(e) ? `refused: ${e.code} ${e.message}` : `CRASH: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    process.stdout.write(`${targets[0]!.name}: ${verdict} (${r.ms.toFixed(2)} ms)\n`);
    process.exitCode = e !== undefined && !isBtError(e) ? 1 : 0;
    return;
  }

  const perTarget = inputs ?? (long ? LONG_INPUTS : DEFAULT_INPUTS);
  const dir = reportDir({ outDir });
  process.stdout.write(`fuzz: ${targets.length} targets, ${perTarget} inputs each${long ? ' (--long)' : ''}, seed ${seed}, reports in ${dir}\n`);
  const results: TargetResult[] = [];
  for (const t of targets) {
    const n = long || inputs !== undefined ? perTarget : Math.ceil(perTarget / (t.costly ?? 1));
    const r = await runTarget(t, { inputs: n, seed, outDir: dir, noGrowth, retimes, growthBudgetMs: long ? 40 : 15, log: (l) => process.stdout.write(`${l}\n`) });
    results.push(r);
    const fam = r.families.map((f) => `${f.name} ${Number.isNaN(f.exponent) ? 'CRASH' : f.exponent.toFixed(2)} [${f.ms.map((m) => m.toFixed(3)).join(', ')} ms @ n=${f.sizes.join('/')}]`).join('; ');
    process.stdout.write(
      `${t.name}: ${r.inputs} inputs, ${r.crashes} crashes, ${r.slow} slow on the first run, ${r.slowRetimed} slow re-timed (min of ${r.retimes} after a GC; ${r.slowRetimedCpu} of them over the limit in CPU time too), slowest ${r.slowestMs.toFixed(2)} ms first run (${r.slowestSize} bytes), ${r.slowestRetimedMs.toFixed(2)} ms re-timed (${r.slowestRetimedSize} bytes), peak heap ${r.peakHeapMB.toFixed(0)} MB, RSS ${r.peakRssMB.toFixed(0)} MB, ${(r.elapsedMs / 1000).toFixed(1)} s (inputs and growth), ${(r.inputs / (r.inputsMs / 1000)).toFixed(0)} inputs/s\n    growth: ${fam || 'none'}\n`,
    );
  }
  process.stdout.write(`\n${formatTable(results)}\n`);
  if (json) writeFileSync(json, JSON.stringify(results, null, 2));
  const crashes = results.reduce((a, r) => a + r.crashes, 0);
  if (crashes > 0) {
    process.stdout.write(`\n${crashes} crashes; reports in ${dir}\n`);
    for (const r of results) for (const c of r.crashSamples) process.stdout.write(`  ${r.name}: ${c.kind} ${c.message}${c.file ? ` (${c.file})` : ''}\n`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`fuzz: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
