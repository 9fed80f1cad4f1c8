/**
 * The session layer at scale (issue 15 item 7): N small seeding torrents (data present) are added to a session on
 * real files, the session is closed and opened again; prints the times to add, to all seeding, to close, to list
 * after a reopen, to all seeding again, and the pieces hashed on the restart (fast resume: 0).
 *
 *   node dist/bench/session-restore.js [N=1000]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTorrent } from '../src/metainfo/index.js';
import { InlineHasher } from '../src/storage/index.js';
import type { Hasher } from '../src/storage/index.js';
import { MemoryTransport } from '../src/transport/index.js';
import { openSession } from '../src/session/index.js';
import type { Session } from '../src/session/index.js';

const N = Number(process.argv[2] ?? 1000);
const PIECE = 16 * 1024;

function counting(): { hasher: Hasher; n: () => number } {
  const inner = new InlineHasher();
  let n = 0;
  return { n: () => n, hasher: { sha1: (d) => (n++, inner.sha1(d)), hashPiece: (d) => (n++, inner.hashPiece(d)), destroy: () => inner.destroy() } };
}

async function waitAll(s: Session, limitMs: number): Promise<number> {
  const t0 = performance.now();
  while (!s.list().every((t) => t.torrent.state === 'seeding')) {
    if (performance.now() - t0 > limitMs) {
      const states = new Map<string, number>();
      for (const t of s.list()) states.set(t.torrent.state, (states.get(t.torrent.state) ?? 0) + 1);
      throw new Error(`not all seeding after ${limitMs} ms: ${JSON.stringify(Object.fromEntries(states))}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'tk-bench-session-'));
  const cfg = path.join(root, 'cfg');
  const dl = path.join(root, 'dl');
  await mkdir(dl, { recursive: true });
  const torrents: Uint8Array[] = [];
  const old = new Date(Date.now() - 3600_000);
  for (let i = 0; i < N; i++) {
    const data = randomBytes(2 * PIECE + 100);
    const hashes: Buffer[] = [];
    for (let o = 0; o < data.length; o += PIECE) hashes.push(createHash('sha1').update(data.subarray(o, o + PIECE)).digest());
    const name = `t${i}.bin`;
    await writeFile(path.join(dl, name), data);
    await utimes(path.join(dl, name), old, old);
    torrents.push(buildTorrent({ name, files: null, length: data.length, pieceLength: PIECE, pieceHashes: Buffer.concat(hashes) }));
  }
  const opts = (h: Hasher): Parameters<typeof openSession>[0] => ({
    configDir: cfg,
    defaults: { downloadDir: dl, peerLimitGlobal: 500 },
    engineSettings: { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false },
    deps: { transport: new MemoryTransport(), createHasher: () => h },
    restoreConcurrency: Number(process.env.BENCH_CONCURRENCY ?? 8),
  });
  try {
    const h1 = counting();
    const s = await openSession(opts(h1.hasher));
    let t0 = performance.now();
    for (const b of torrents) await s.add(b);
    const addMs = performance.now() - t0;
    const seed1 = await waitAll(s, 120_000);
    t0 = performance.now();
    await s.close();
    const closeMs = performance.now() - t0;
    const h2 = counting();
    t0 = performance.now();
    const s2 = await openSession(opts(h2.hasher));
    const listMs = performance.now() - t0;
    const listed = s2.list().length;
    const seed2 = await waitAll(s2, Number(process.env.BENCH_LIMIT_MS ?? 60_000)).finally(() => s2.close());
    console.log(JSON.stringify({ torrents: N, addMs: Math.round(addMs), firstAllSeedingMs: Math.round(seed1), closeMs: Math.round(closeMs), reopenListedMs: Math.round(listMs), listed, restartAllSeedingMs: Math.round(listMs + seed2), hashedOnRestart: h2.n(), hashedFirst: h1.n() }));
  } catch (e) {
    console.error(e);
    process.exitCode = 1;
  } finally {
    await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
  }
}

await main();
