/**
 * `npm run sim -- --seed N [--peers K] [--size MiB] [--piece KiB] [--churn] [--seed-leaves] [--corrupt I]
 * [--trace FILE] [--quiet]`: a deterministic whole-swarm simulation (see NOTES.md). Progress goes to stderr; stdout
 * gets the copies curve, one line per peer and, last, `swarm: K/K complete, virtual Xs, wall Ys, trace HEX`.
 */
import { writeFileSync } from 'node:fs';
import { formatCurve, runSwarm } from './swarm.js';
import type { SwarmOptions } from './swarm.js';

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npm run sim -- --seed N [--peers K] [--size MiB] [--piece KiB] [--churn] [--seed-leaves] [--corrupt I] [--trace FILE] [--quiet] [--log debug|info|warn]\n`);
  process.exit(2);
}

function int(v: string | undefined, name: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 0) usage(`${name} needs a whole number, got ${v ?? 'nothing'}`);
  return n;
}

const args = process.argv.slice(2);
const o: SwarmOptions = { seed: 1 };
let traceFile: string | undefined;
let quiet = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  switch (a) {
    case '--seed':
      o.seed = int(args[++i], a);
      break;
    case '--peers':
      o.leechers = int(args[++i], a);
      if (o.leechers < 1) usage('--peers must be at least 1');
      break;
    case '--size':
      o.sizeBytes = Math.round(Number(args[++i]) * 1024 * 1024);
      if (!(o.sizeBytes > 0)) usage('--size needs MiB > 0');
      break;
    case '--piece':
      o.pieceLength = int(args[++i], a) * 1024;
      if (o.pieceLength < 16 * 1024) usage('--piece must be at least 16 (KiB)');
      break;
    case '--churn':
      o.churn = true;
      break;
    case '--seed-leaves':
      o.seedLeaves = true;
      break;
    case '--corrupt':
      (o.corrupt ??= []).push(int(args[++i], a));
      break;
    case '--trace':
      traceFile = args[++i];
      o.keepTrace = true;
      break;
    case '--quiet':
      quiet = true;
      break;
    case '--log': {
      const l = args[++i];
      if (l !== 'debug' && l !== 'info' && l !== 'warn') usage('--log takes debug, info or warn');
      o.logLevel = l;
      break;
    }
    case '-h':
    case '--help':
      usage('deterministic whole-swarm simulation');
      break;
    default:
      usage(`unknown argument ${a}`);
  }
}
if (!quiet) o.progress = (l) => process.stderr.write(`${l}\n`);

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
const leechers = o.leechers ?? 20;
const r = await runSwarm(o);
const out: string[] = [];
out.push(
  `sim: seed ${o.seed}, 1 seed + ${leechers} leechers, ${mib(r.sizeBytes)} MiB in ${r.pieceCount} pieces; ` +
    `${r.steps} timer events, ${r.net.segments} segments (${r.net.lost} lost), ${r.net.connections} connections, ${r.tracker.announces} announces, ${r.traceEvents} trace events`,
);
out.push(...formatCurve(r));
for (const p of r.peers) {
  const done = p.name === 'seed' ? 'seed' : p.completeAtMs === undefined ? (p.gone ? 'left' : 'INCOMPLETE') : `complete at ${(p.completeAtMs / 1000).toFixed(3)}s`;
  out.push(
    `peer ${p.name} ${p.address.padEnd(11)} ${done.padEnd(22)} up ${mib(p.uploaded).padStart(6)} MiB  down ${mib(p.downloaded).padStart(6)} MiB` +
      `${p.intact || p.gone ? '' : '  NOT INTACT'}${p.corrupt ? '  (corrupting)' : ''}${p.banned.length ? `  banned ${p.banned.join(',')}` : ''}${p.hashFailures ? `  ${p.hashFailures} hash failures` : ''}`,
  );
}
if (r.swarmHasAllAtMs !== undefined) out.push(`leechers held every piece between them at ${(r.swarmHasAllAtMs / 1000).toFixed(3)}s; first leecher complete at ${((r.firstCompleteAtMs ?? NaN) / 1000).toFixed(3)}s; seed uploaded ${(r.seedUploaded / r.sizeBytes).toFixed(2)}x${r.seedLeftAtMs !== undefined ? ` (left at ${(r.seedLeftAtMs / 1000).toFixed(3)}s)` : ''}`);
const leaks = Object.entries(r.leaks).map(([k, n]) => `${k} x${n}`);
out.push(`real timers, clocks and random numbers used during the run: ${leaks.length ? leaks.join(', ') : 'none'}`);
for (const e of r.errors) out.push(`error: ${e}`);
if (r.endReason !== 'done') out.push(`ended: ${r.endReason}`);
out.push(`swarm: ${r.complete}/${r.leechers} complete, virtual ${(r.virtualMs / 1000).toFixed(3)}s, wall ${(r.wallMs / 1000).toFixed(3)}s, trace ${r.trace}`);
if (traceFile && r.traceLines) writeFileSync(traceFile, r.traceLines.join(''));
process.stdout.write(`${out.join('\n')}\n`);
process.exitCode = r.complete === r.leechers && r.errors.length === 0 ? 0 : 1;
