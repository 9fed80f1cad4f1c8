/**
 * Download benchmark: torrentkit next to libtorrent, same torrent, same libtorrent seeder, TCP on loopback.
 *
 *   npm run bench            (scripts/bench.sh: builds, then runs this inside a loopback-only namespace)
 *
 * Makes a payload (default 1 GiB, 4 files of unaligned sizes) in a temp dir and a v1 torrent of it with
 * libtorrent, starts a libtorrent seeder (seed mode, no rate limit), then downloads the torrent with
 * (a) libtorrent (test/helpers/lt-peer.py), (b) `torrentkit download` in plaintext and (c) with MSE/RC4
 * required (the seeder allows both), one after the other, each under GNU time. Prints MB/s, CPU seconds (user+sys) and peak RSS side by side, and the ratios
 * torrentkit/libtorrent. Then the uTP row (issue 6): a second libtorrent seeder with TCP disabled, downloaded from by
 * (d) libtorrent over uTP only and (e) `torrentkit download --transport utp`. The temp dir is deleted afterwards.
 *
 * Environment:
 *   BENCH_SIZE_MIB   payload size in MiB (default 1024)
 *   BENCH_PIECE      piece length in bytes, or with a k/m suffix: 262144, 256k, 1m (default 256k)
 *   BENCH_RUNS       downloads per client; the median by MB/s is reported (default 3; the order alternates per run)
 *   BENCH_CLIENTS    comma list of lt,lt-rc4,tk,tk-rc4,lt-utp,tk-utp (default all six)
 *   BENCH_VERIFY     1 (default): compare every download byte for byte with the payload; 0: skip
 *   BENCH_JSON       write the results as JSON to this file as well
 *   BENCH_TK_NODE_ARGS  extra node options for the torrentkit CLI (profiling: `--cpu-prof --cpu-prof-dir=DIR`)
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createHarness } from '../test/helpers/harness.js';
import type { Harness } from '../test/helpers/harness.js';
import { makePayload, MiB } from '../test/helpers/payload.js';
import { LtPeer, ltMakeTorrent, ltPeerScript, startLtSeed } from '../test/helpers/lt.js';
import type { TorrentMade } from '../test/helpers/lt.js';
import { TkRun } from '../test/helpers/cli.js';
import type { ExitStatus } from '../test/helpers/procs.js';
import { freePort } from '../test/helpers/ports.js';
import { diffTrees } from '../test/helpers/files.js';
import { LT_PYTHON, tkCliCommand, tkCliPath, whyMissing } from '../test/helpers/tools.js';
import { measureUdpFloor, type UdpFloor } from './udp-floor.js';

type Client = 'lt' | 'lt-rc4' | 'tk' | 'tk-rc4' | 'lt-utp' | 'tk-utp';
type TkClient = Exclude<Client, 'lt' | 'lt-rc4' | 'lt-utp'>;
/** Clients that download over uTP from the uTP-only seeder. */
const UTP_CLIENTS: readonly Client[] = ['lt-utp', 'tk-utp'];

interface RunResult {
  client: Client;
  /** Seconds from the client's own start of the transfer to completion. */
  transferSec: number;
  /** Wall seconds of the whole process (GNU time %e). */
  wallSec: number;
  userSec: number;
  sysSec: number;
  peakRssKiB: number;
  mbps: number;
  /** CPU seconds the seeder process spent during this download (all threads). */
  seederCpuSec: number;
  /** The seeder's busiest thread's CPU seconds during this download: near transferSec means the seeder is the bound. */
  seederBusiestSec: number;
  /** UDP datagrams received / sent / dropped for a full receive buffer in the namespace during the download. */
  udpIn: number;
  udpOut: number;
  udpDrops: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux everywhere that matters). */
const USER_HZ = 100;

/** utime+stime in seconds of every thread of a process, by thread id (Linux /proc); empty if it is gone. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) / USER_HZ);
    } catch {
      /* thread ended */
    }
  }
  return out;
}

/** The Udp: counters of /proc/net/snmp (this network namespace): receive-buffer overflows show up as RcvbufErrors. */
function udpCounters(): Record<string, number> {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const keys = lines[0]!.split(/\s+/).slice(1);
    const vals = lines[1]!.split(/\s+/).slice(1).map(Number);
    return Object.fromEntries(keys.map((k, i) => [k, vals[i]!]));
  } catch {
    return {};
  }
}

function cpuDelta(before: Map<string, number>, after: Map<string, number>): { total: number; busiest: number } {
  let total = 0;
  let busiest = 0;
  for (const [tid, t] of after) {
    const d = t - (before.get(tid) ?? 0);
    total += d;
    busiest = Math.max(busiest, d);
  }
  return { total, busiest };
}

const LABEL: Record<Client, string> = {
  lt: 'libtorrent',
  'lt-rc4': 'libtorrent RC4',
  tk: 'torrentkit',
  'tk-rc4': 'torrentkit RC4',
  'lt-utp': 'libtorrent uTP',
  'tk-utp': 'torrentkit uTP',
};
/** torrentkit's connection policy per client: plaintext, or MSE with RC4 throughout (required). */
const TK_ENCRYPTION: Record<TkClient, string[]> = {
  tk: ['--encryption', 'plaintext'],
  'tk-rc4': ['--encryption', 'require', '--encryption-level', 'full'],
  'tk-utp': ['--encryption', 'plaintext', '--transport', 'utp'],
};

/** The CLI command line; BENCH_TK_NODE_ARGS (space-separated) goes to node first, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`. */
function tkCommand(): string[] {
  const [cmd, args] = tkCliCommand();
  const extra = (process.env.BENCH_TK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return cmd === process.execPath ? [cmd, ...extra, ...args] : [cmd, ...args];
}

function parsePiece(s: string): number {
  const m = /^(\d+)\s*([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`BENCH_PIECE: cannot parse ${s}`);
  const mult = { '': 1, k: 1024, K: 1024, m: MiB, M: MiB }[m[2]!]!;
  const n = Number(m[1]) * mult;
  if (n < 16384 || (n & (n - 1)) !== 0) throw new Error(`BENCH_PIECE: ${n} is not a power of two >= 16 KiB`);
  return n;
}

const TIME_FMT = '%e %U %S %M';

async function readTime(file: string): Promise<{ wall: number; user: number; sys: number; rss: number }> {
  const text = (await readFile(file, 'utf8')).trim().split('\n').pop() ?? '';
  const [wall, user, sys, rss] = text.split(/\s+/).map(Number);
  if (![wall, user, sys, rss].every((x) => Number.isFinite(x))) throw new Error(`cannot parse GNU time output: ${text}`);
  return { wall: wall!, user: user!, sys: sys!, rss: rss! };
}

async function runOnce(h: Harness, client: Client, made: TorrentMade, seeder: LtPeer, n: number, verifyRoot: string | undefined): Promise<RunResult> {
  const seedPort = seeder.port;
  const seedBefore = threadCpu(seeder.proc.pid);
  const udpBefore = udpCounters();
  const out = h.path(`out-${client}-${n}`);
  const timeFile = h.path(`time-${client}-${n}.txt`);
  const peer = `127.0.0.1:${seedPort}`;
  let transferSec: number;
  let wallStatus: ExitStatus;
  if (client === 'lt' || client === 'lt-rc4' || client === 'lt-utp') {
    const proc = h.procs.spawn(
      '/usr/bin/time',
      ['-o', timeFile, '-f', TIME_FMT, LT_PYTHON, ltPeerScript(), 'run', '--download', made.torrent, '--save', out, '--peer', peer,
        '--listen', '127.0.0.1:0', '--until', 'finished', '--timeout', '900', '--transport', client === 'lt-utp' ? 'utp' : 'tcp', '--stats-interval', '5',
        // libtorrent RC4: encryption forced (RC4 only) against the same seeder, the yardstick for torrentkit's RC4 row.
        '--encryption', client === 'lt-rc4' ? 'forced' : 'enabled'],
      { name: `bench-lt-${n}` },
    );
    const lt = new LtPeer(proc);
    wallStatus = await proc.waitForExit(960_000);
    const fin = lt.events.find((e) => e.event === 'finished');
    if (wallStatus.code !== 0 || !fin) throw new Error(`libtorrent download failed (${JSON.stringify(wallStatus)})\n${proc.tail()}`);
    transferSec = Number(fin.seconds);
  } else {
    const proc = h.procs.spawn(
      '/usr/bin/time',
      ['-o', timeFile, '-f', TIME_FMT, ...tkCommand(), 'download', made.torrent, '-o', out, '--peer', peer,
        '--listen', `127.0.0.1:${await freePort()}`, '--json', ...TK_ENCRYPTION[client as TkClient]],
      { name: `bench-${client}-${n}` },
    );
    const tk = new TkRun(proc);
    wallStatus = await proc.waitForExit(960_000);
    const done = tk.last('complete');
    if (wallStatus.code !== 0 || !done) throw new Error(`torrentkit download failed (${JSON.stringify(wallStatus)})\n${proc.tail()}`);
    transferSec = Number(done.seconds);
  }
  const seedCpu = cpuDelta(seedBefore, threadCpu(seeder.proc.pid));
  const udpAfter = udpCounters();
  const udpDelta = (k: string): number => (udpAfter[k] ?? 0) - (udpBefore[k] ?? 0);
  const t = await readTime(timeFile);
  if (verifyRoot) {
    const problems = await diffTrees(verifyRoot, `${out}/${made.name}`);
    if (problems.length) throw new Error(`${LABEL[client]} download differs from the payload: ${problems.slice(0, 5).join('; ')}`);
  }
  await rm(out, { recursive: true, force: true });
  return {
    client,
    transferSec,
    wallSec: t.wall,
    userSec: t.user,
    sysSec: t.sys,
    peakRssKiB: t.rss,
    mbps: made.totalSize / 1e6 / transferSec,
    seederCpuSec: seedCpu.total,
    seederBusiestSec: seedCpu.busiest,
    udpIn: udpDelta('InDatagrams'),
    udpOut: udpDelta('OutDatagrams'),
    udpDrops: udpDelta('RcvbufErrors'),
  };
}

/**
 * What the CPU figures say about the ratios. Seeder and client share this machine's cores, so when a download keeps
 * them all busy its speed is bound by the CPU both processes spend per byte, and a ratio of two such downloads is
 * bound by the ratio of those sums. For RC4 that gives the best ratio torrentkit could reach if its decryption cost
 * nothing: the seeder's own encryption is counted in either case.
 */
function cpuNotes(med: Partial<Record<Client, RunResult>>, totalBytes: number, floor: UdpFloor | undefined): string {
  const cores = availableParallelism();
  const cpu = (r: RunResult): number => r.userSec + r.sysSec;
  const busy = (r: RunResult): number => (cpu(r) + r.seederCpuSec) / (r.transferSec * cores);
  const lines: string[] = [];
  for (const c of Object.keys(med) as Client[]) {
    const r = med[c]!;
    lines.push(`  ${LABEL[c]}: client ${cpu(r).toFixed(2)} + seeder ${r.seederCpuSec.toFixed(2)} CPU s; machine ${pct(busy(r), 1)} busy over the transfer`);
  }
  const tk = med.tk;
  const rc4 = med['tk-rc4'];
  if (tk && rc4) {
    const freeRc4 = (cpu(tk) + tk.seederCpuSec) / (cpu(tk) + rc4.seederCpuSec);
    lines.push(
      `  RC4/plaintext if torrentkit's decryption were free (CPU-bound on ${cores} cores, seeder's encryption counted): <= ${freeRc4.toFixed(2)}x`,
    );
  }
  const utp = med['tk-utp'];
  if (tk && utp && floor) {
    // A uTP download costs at least what the TCP one does minus nothing (same engine work), plus node:dgram's own
    // cost per datagram, plus the seeder's uTP sending; CPU-bound on `cores`, that bounds its speed and ratio.
    const dgramCpu = (floor.usPerDatagram * utp.udpIn) / 1e6;
    const utpCpu = cpu(tk) + dgramCpu + utp.seederCpuSec;
    lines.push(
      `  node:dgram alone: ${floor.usPerDatagram.toFixed(2)} µs CPU per datagram received (bench/udp-floor.ts, this run) x ${utp.udpIn} datagrams = ${dgramCpu.toFixed(2)} CPU s`,
      `  uTP if torrentkit's uTP code were free (TCP download's client CPU + node:dgram + the uTP seeder's CPU, on ${cores} cores): ` +
        `<= ${((totalBytes / 1e6) / (utpCpu / cores)).toFixed(0)} MB/s, uTP/TCP <= ${((cpu(tk) + tk.seederCpuSec) / utpCpu).toFixed(2)}x`,
    );
  }
  return lines.length ? `\nCPU (client user+sys incl. start-up; seeder over the same download; ${cores} cores):\n${lines.join('\n')}\n` : '';
}

/** a as a percentage of b (a thread's CPU seconds over the transfer time). */
function pct(a: number, b: number): string {
  return b > 0 ? `${Math.round((100 * a) / b)}%` : '-';
}

function median(rs: RunResult[]): RunResult {
  const s = [...rs].sort((a, b) => a.mbps - b.mbps);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('   ')).join('\n');
}

async function main(): Promise<number> {
  const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 1024);
  const piece = parsePiece(process.env.BENCH_PIECE ?? '256k');
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
  const verify = (process.env.BENCH_VERIFY ?? '1') !== '0';
  let clients = (process.env.BENCH_CLIENTS ?? 'lt,lt-rc4,tk,tk-rc4,lt-utp,tk-utp').split(',').map((s) => s.trim()) as Client[];
  if (!Number.isFinite(sizeMiB) || sizeMiB < 4) throw new Error('BENCH_SIZE_MIB must be >= 4');
  for (const c of clients) if (!(c in LABEL)) throw new Error(`BENCH_CLIENTS: unknown client ${c}`);

  for (const tool of ['libtorrent', 'gnu-time'] as const) {
    const why = whyMissing(tool);
    if (why) {
      process.stderr.write(`bench: ${why}\n`);
      return 1;
    }
  }
  if (clients.some((c) => c.startsWith('tk')) && !existsSync(tkCliPath())) {
    process.stderr.write(`bench: ${whyMissing('torrentkit')}; measuring libtorrent only\n`);
    clients = clients.filter((c) => c.startsWith('lt'));
  }

  const h = await createHarness(undefined, 'bench');
  const results: Record<string, RunResult[]> = {};
  try {
    const total = sizeMiB * MiB;
    process.stdout.write(`bench: writing a ${sizeMiB} MiB payload to ${h.dir} ...\n`);
    let t0 = Date.now();
    const payload = await makePayload(h.path('src'), { totalSize: total });
    const tPayload = (Date.now() - t0) / 1000;
    t0 = Date.now();
    const made = ltMakeTorrent(payload.root, h.path('bench.torrent'), piece);
    process.stdout.write(
      `bench: payload ${tPayload.toFixed(1)} s, torrent ${((Date.now() - t0) / 1000).toFixed(1)} s: ${made.pieces} pieces x ${piece / 1024} KiB, ${made.files} files\n`,
    );
    // node:dgram's own cost per datagram, measured before the seeders start (for the uTP bound in the CPU notes).
    const floor = clients.includes('tk-utp') ? await measureUdpFloor().catch(() => undefined) : undefined;
    const tcpClients = clients.filter((c) => !UTP_CLIENTS.includes(c));
    const utpClients = clients.filter((c) => UTP_CLIENTS.includes(c));
    // One seeder per transport: TCP-only for the TCP rows, uTP-only (TCP disabled) for the uTP row.
    const seed = tcpClients.length ? await startLtSeed(h, made.torrent, payload.dir, { name: 'bench-seed', timeoutSec: 7200 }) : undefined;
    const utpSeed = utpClients.length
      ? await startLtSeed(h, made.torrent, payload.dir, { name: 'bench-seed-utp', timeoutSec: 7200, transport: 'utp' })
      : undefined;
    const version = String((seed ?? utpSeed)?.events.find((e) => e.event === 'session')?.version ?? '?');

    for (const [group, seeder] of [[tcpClients, seed], [utpClients, utpSeed]] as const) {
      if (!seeder) continue;
      for (let n = 1; n <= runs; n++) {
        // The seeder runs in seed mode and verifies each piece on its first request, and the page cache warms
        // up: whoever goes first pays for both. Alternate the order so the median is fair to both clients.
        for (const c of n % 2 === 1 ? group : [...group].reverse()) {
          process.stdout.write(`bench: ${LABEL[c]} download ${n}/${runs} ...`);
          const r = await runOnce(h, c, made, seeder, n, verify ? payload.root : undefined);
          (results[c] ??= []).push(r);
          process.stdout.write(
            ` ${r.mbps.toFixed(1)} MB/s, ${r.transferSec.toFixed(2)} s; seeder CPU ${r.seederCpuSec.toFixed(2)} s, busiest thread ${pct(r.seederBusiestSec, r.transferSec)}` +
              (r.udpIn ? `; UDP ${r.udpIn} in, ${r.udpOut} out, ${r.udpDrops} dropped` : '') +
              '\n',
          );
        }
      }
    }

    const rows: string[][] = [['client', 'MB/s', 'transfer s', 'wall s', 'CPU s', 'user s', 'sys s', 'peak RSS MiB', 'seeder CPU s', 'seeder thread']];
    const med: Partial<Record<Client, RunResult>> = {};
    for (const c of clients) {
      const r = median(results[c]!);
      med[c] = r;
      rows.push([
        LABEL[c],
        r.mbps.toFixed(1),
        r.transferSec.toFixed(2),
        r.wallSec.toFixed(2),
        (r.userSec + r.sysSec).toFixed(2),
        r.userSec.toFixed(2),
        r.sysSec.toFixed(2),
        (r.peakRssKiB / 1024).toFixed(1),
        r.seederCpuSec.toFixed(2),
        pct(r.seederBusiestSec, r.transferSec),
      ]);
    }
    const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');
    const ratioRow = (name: string, x: RunResult | undefined, y: RunResult | undefined): void => {
      if (!x || !y) return;
      rows.push([
        name,
        ratio(x.mbps, y.mbps),
        ratio(x.transferSec, y.transferSec),
        ratio(x.wallSec, y.wallSec),
        ratio(x.userSec + x.sysSec, y.userSec + y.sysSec),
        ratio(x.userSec, y.userSec),
        ratio(x.sysSec, y.sysSec),
        ratio(x.peakRssKiB, y.peakRssKiB),
        ratio(x.seederCpuSec, y.seederCpuSec),
        '',
      ]);
    };
    ratioRow('ratio tk/lt', med.tk, med.lt);
    // Issue 4's goal: an RC4-encrypted download at >= 0.9x the plaintext one.
    ratioRow('ratio tk RC4/plaintext', med['tk-rc4'], med.tk);
    ratioRow('ratio lt RC4/plaintext', med['lt-rc4'], med.lt);
    // Issue 6's goals: uTP at >= 4x libtorrent's own uTP, and >= 0.5x torrentkit over TCP.
    ratioRow('ratio tk uTP/lt uTP', med['tk-utp'], med['lt-utp']);
    ratioRow('ratio tk uTP/tk TCP', med['tk-utp'], med.tk);
    const notes = cpuNotes(med, made.totalSize, floor);
    process.stdout.write(
      `\n${sizeMiB} MiB, ${made.pieces} x ${piece / 1024} KiB pieces, seeder libtorrent ${version} on loopback (TCP rows: TCP only; uTP rows: uTP only)` +
        `${runs > 1 ? `, median of ${runs} runs` : ''}; MB = 10^6 bytes, MB/s over the transfer time\n\n${table(rows)}\n` +
        (clients.includes('lt')
          ? `\nNote: libtorrent 2.x writes through mmap, so its peak RSS counts the mapped (page-cache) pages of the files.\n`
          : '') +
        notes,
    );
    if (process.env.BENCH_JSON) {
      await writeFile(process.env.BENCH_JSON, JSON.stringify({ sizeMiB, piece, runs, libtorrent: version, results, median: med }, null, 2));
    }
    return 0;
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${h.procs.tails(20)}\n`);
    return 1;
  } finally {
    await h.close();
    await rm(h.dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
