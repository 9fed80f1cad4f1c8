/**
 * Scale benchmark (issue 15 item 7): N single-file torrents of 64 KiB with 16 KiB pieces, data present in a temp
 * dir, added to one ClientEngine (real files, loopback listener, DHT/LSD/port forwarding/uTP off, no trackers) and
 * started. Reports: time until all are seeding, the event loop's longest stall, idle CPU % over SCALE_IDLE_S
 * seconds, RSS, the time of a stats()+files walk over all torrents; then disposes the engine, opens a new one on
 * the same files (fast resume) and reports the time until all are seeding again and the pieces hashed.
 * Run: npm run build && node dist/bench/scale.js   (SCALE_N=1000, SCALE_IDLE_S=10)
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ClientEngine } from '../src/index.js';
import type { TorrentManager } from '../src/index.js';
import { buildTorrent, parseTorrent } from '../src/metainfo/index.js';
import type { Metainfo } from '../src/metainfo/index.js';
import type { EngineSettings } from '../src/engine/settings.js';

const N = Number(process.env['SCALE_N'] ?? 1000);
const IDLE_S = Number(process.env['SCALE_IDLE_S'] ?? 10);
const SIZE = 64 * 1024;
const PIECE = 16 * 1024;
const settings: Partial<EngineSettings> = {
  listenEndpoints: ['127.0.0.1:0'],
  dhtEnabled: false,
  lsdEnabled: false,
  portForwarding: false,
  enableUtp: false,
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function make(dir: string): Promise<Metainfo[]> {
  const metas: Metainfo[] = [];
  for (let i = 0; i < N; i++) {
    const name = `f-${String(i).padStart(4, '0')}.bin`;
    const seed = createHash('sha256').update(String(i)).digest();
    const data = Buffer.alloc(SIZE);
    for (let o = 0; o < SIZE; o += seed.length) seed.copy(data, o);
    await writeFile(path.join(dir, name), data);
    const hashes: Buffer[] = [];
    for (let o = 0; o < SIZE; o += PIECE) hashes.push(createHash('sha1').update(data.subarray(o, o + PIECE)).digest());
    metas.push(parseTorrent(buildTorrent({ name, files: null, length: SIZE, pieceLength: PIECE, pieceHashes: Buffer.concat(hashes) })));
  }
  return metas;
}

/** Add and start every torrent (one by one, as an RPC client would), then wait until all are seeding. */
async function addAll(engine: ClientEngine, metas: Metainfo[], dir: string): Promise<{ seconds: number; list: TorrentManager[] }> {
  const t0 = performance.now();
  const list: TorrentManager[] = [];
  for (const m of metas) {
    const t = await engine.addTorrent(m, { downloadDir: dir });
    void t.start();
    list.push(t);
    // One add per event-loop turn, as adds over RPC come (a tight loop would be one long task of the bench's own).
    await new Promise((r) => setImmediate(r));
  }
  const deadline = t0 + 300_000;
  while (list.some((t) => t.state !== 'seeding') && performance.now() < deadline) await sleep(20);
  const seeding = list.filter((t) => t.state === 'seeding').length;
  if (seeding !== list.length) throw new Error(`only ${seeding} of ${list.length} seeding after 300 s`);
  return { seconds: (performance.now() - t0) / 1000, list };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-bench-scale-'));
  const out: Record<string, number> = { n: N };
  try {
    const metas = await make(dir);
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    let engine = new ClientEngine(settings);
    const first = await addAll(engine, metas, dir);
    out['all_seeding_s'] = +first.seconds.toFixed(2);
    out['add_max_stall_ms'] = +(h.max / 1e6).toFixed(1);
    h.reset();

    // Idle: no peers, nothing to do (the histogram's own 10 ms timer is off meanwhile: it is not the engine's cost).
    h.disable();
    const c0 = cpuSeconds();
    const w0 = performance.now();
    const perSecond: number[] = [];
    for (let k = 0; k < IDLE_S; k++) {
      const a = cpuSeconds();
      await sleep(1000);
      perSecond.push(Math.round((cpuSeconds() - a) * 100));
    }
    if (process.env['SCALE_VERBOSE']) {
      const kinds = new Map<string, number>();
      for (const r of process.getActiveResourcesInfo()) kinds.set(r, (kinds.get(r) ?? 0) + 1);
      console.log(`idle CPU % per second: ${perSecond.join(' ')}; active resources: ${JSON.stringify(Object.fromEntries(kinds))}`);
    }
    out['idle_cpu_pct'] = +(((cpuSeconds() - c0) / ((performance.now() - w0) / 1000)) * 100).toFixed(1);
    h.enable();
    await sleep(2000);
    out['idle_max_stall_ms'] = +(h.max / 1e6).toFixed(1);
    out['rss_mb'] = +(process.memoryUsage().rss / 1024 / 1024).toFixed(1);
    out['heap_mb'] = +(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1);

    // A full walk (what torrent-get of every torrent reads), median of 7.
    const walks: number[] = [];
    for (let k = 0; k < 7; k++) {
      const a = performance.now();
      let sum = 0;
      for (const t of engine.torrentList) {
        const s = t.stats();
        sum += s.uploaded + t.files.length + t.connectedPeers + t.trackers.length;
      }
      walks.push(performance.now() - a);
      if (sum < 0) throw new Error('unreachable');
    }
    walks.sort((a, b) => a - b);
    out['walk_ms'] = +walks[3]!.toFixed(1);

    // Restart with fast resume.
    const d0 = performance.now();
    await engine.dispose();
    out['dispose_s'] = +((performance.now() - d0) / 1000).toFixed(2);
    engine = new ClientEngine(settings);
    h.reset();
    const second = await addAll(engine, metas, dir);
    out['restart_seeding_s'] = +second.seconds.toFixed(2);
    out['restart_max_stall_ms'] = +(h.max / 1e6).toFixed(1);
    await engine.dispose();
    h.disable();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
