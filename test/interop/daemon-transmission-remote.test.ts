/**
 * The daemon (issue 15) driven by Debian's transmission-remote over Transmission RPC: add a .torrent, download it
 * from a libtorrent seeder (which dials the daemon's peer port), list it at 100% byte-identical, stop/start it,
 * the info commands (-si, -st, -i, -f, -pi), a SIGTERM + restart that restores it at 100% without the seeder,
 * --remove-and-delete. Then a SIGKILL mid-download (rate-limited seeders): the restart lists every torrent,
 * completes them, and fetches no verified piece again. Then the watch directory.
 *
 * Runs against `torrentkit daemon`, or against transmission-daemon with TK_DAEMON_STANDIN=transmission (to prove
 * the tests themselves): see test/helpers/daemon.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from '../helpers/harness.js';
import { pollUntil, withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import type { LtPeer, TorrentMade } from '../helpers/lt.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { assertSameTree, diffTrees } from '../helpers/files.js';
import type { Daemon, ListRow } from '../helpers/daemon.js';
import { requireDaemon, startDaemon, TR_STATUS } from '../helpers/daemon.js';

const TOOLS = ['transmission-remote', 'libtorrent'] as const;

async function rowOf(d: Daemon, name: string): Promise<ListRow | undefined> {
  return (await d.list()).find((r) => r.name === name);
}

/** Poll `-l` until the torrent's row passes `ok`; fails with the last listing. */
async function waitRow(d: Daemon, name: string, ok: (r: ListRow) => boolean, timeoutMs: number, what: string): Promise<ListRow> {
  let last = '';
  try {
    return await pollUntil(
      async () => {
        if (!d.proc.running) throw new Error(`${d.name} exited\n${d.proc.tail()}`);
        const rows = await d.list();
        last = rows.map((r) => r.line).join('\n');
        const r = rows.find((x) => x.name === name);
        return r && ok(r) ? r : undefined;
      },
      timeoutMs,
      what,
      500,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last -l rows:\n${last || '(none)'}`);
  }
}

/** Seeder's uploaded payload bytes as of its latest status line. */
function seederUp(seed: LtPeer): number {
  return Number(seed.lastStatus()?.up ?? 0);
}

test('transmission-remote: add, download from libtorrent, stop/start, info, restart restores it, remove-and-delete', { timeout: 180_000 }, async (t) => {
  if (!requireDaemon(t, TOOLS)) return;
  await withHarness(t, 'daemon-tr-remote', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const dl = h.path('dl');
    let d = await startDaemon(h, { configDir: h.path('cfg'), downloadDir: dl });

    const added = await d.remoteOk(['-a', made.torrent]);
    assert.match(added, /success/i, `-a: ${added}`);
    const seed = await startLtSeed(h, made.torrent, payload.dir, { peers: [`127.0.0.1:${d.peerPort}`] });
    const t0 = Date.now();
    await seed.proc.whileRunning(waitRow(d, payload.name, (r) => r.done === 100, 60_000, '-l at 100%'), 'libtorrent seeder');
    h.note(`-l shows 100% after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await pollUntil(async () => (await diffTrees(payload.root, `${dl}/${payload.name}`)).length === 0, 10_000, 'files byte-identical', 250).catch(() => undefined);
    await assertSameTree(payload.root, `${dl}/${payload.name}`);

    await d.remoteOk(['-t', '1', '-S']);
    await waitRow(d, payload.name, (r) => r.status === 'Stopped', 10_000, 'Stopped after -S');
    const [stopped] = await d.torrents(['status', 'percentDone'], [1]);
    assert.equal(stopped?.status, TR_STATUS.stopped, 'RPC status after -S');
    await d.remoteOk(['-t', '1', '-s']);
    const started = await waitRow(d, payload.name, (r) => r.status === 'Seeding' || r.status === 'Idle', 10_000, 'Seeding/Idle after -s');
    h.note(`after -s: ${started.line.trim()}`);

    const si = await d.remoteOk(['-si']);
    assert.match(si, /RPC version/i, `-si: ${si}`);
    assert.ok(si.includes(dl), `-si names the download dir ${dl}:\n${si}`);
    const st = await d.remoteOk(['-st']);
    assert.match(st, /Downloaded:\s+\d/, `-st: ${st}`);
    const info = await d.remoteOk(['-t', '1', '-i']);
    assert.match(info, new RegExp(`Name: ${payload.name}\\b`), `-i: ${info}`);
    assert.match(info, new RegExp(`Hash: ${made.infohash}`, 'i'), `-i hash: ${info}`);
    assert.match(info, /Percent Done: 100(\.0)?%/, `-i percent: ${info}`);
    const files = await d.remoteOk(['-t', '1', '-f']);
    assert.match(files, new RegExp(`\\(${payload.files.length} files\\)`), `-f count: ${files}`);
    for (const f of payload.files) {
      const line = files.split('\n').find((l) => l.trimEnd().endsWith(`${payload.name}/${f.path}`));
      assert.ok(line, `-f lists ${f.path}:\n${files}`);
      assert.match(line, /^\s*\d+:\s+100%/, `-f: ${f.path} at 100%: ${line}`);
    }
    const peers = await d.remoteOk(['-t', '1', '-pi']);
    assert.match(peers, /Address\s+Flags\s+Done\s+Down\s+Up\s+Client/, `-pi header: ${peers}`);

    await seed.stop();
    const term = await d.terminate(20_000);
    h.note(`SIGTERM: exited in ${term.seconds.toFixed(1)} s (${JSON.stringify(term.status)})`);
    assert.deepEqual(term.status, { code: 0, signal: null }, 'clean exit on SIGTERM');
    const r0 = Date.now();
    d = await d.restart();
    await waitRow(d, payload.name, (r) => r.done === 100, 30_000, 'restored at 100% after the restart (no seeder)');
    h.note(`restart: listed at 100% ${((Date.now() - r0) / 1000).toFixed(1)} s after launch`);
    await assertSameTree(payload.root, `${dl}/${payload.name}`);

    await d.remoteOk(['-t', '1', '--remove-and-delete']);
    await pollUntil(async () => (await rowOf(d, payload.name)) === undefined && !existsSync(`${dl}/${payload.name}`), 15_000, 'torrent gone and its data deleted', 250);
    assert.deepEqual(await d.torrents(['id', 'name']), [], 'no torrents left');
    assert.deepEqual(await d.terminate(20_000).then((x) => x.status), { code: 0, signal: null });
  });
});

const KILL_SIZE = 6 * MiB;
const KILL_PIECE = 256 * KiB;
const KILL_RATE = 1 * MiB; // per seeder: each torrent takes ~6 s

for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
  test(`${sig} mid-download: the restart lists every torrent, completes them, fetches no verified piece again`, { timeout: 180_000 }, async (t) => {
    if (!requireDaemon(t, TOOLS)) return;
    await withHarness(t, `daemon-${sig.toLowerCase()}`, async (h) => {
      const names = ['alpha', 'beta'];
      const made: TorrentMade[] = [];
      const seeds: LtPeer[] = [];
      for (const name of names) {
        const p = await makePayload(h.path('src'), { name, totalSize: KILL_SIZE, seed: name });
        made.push(ltMakeTorrent(p.root, h.path(`${name}.torrent`), KILL_PIECE));
      }
      const dl = h.path('dl');
      let d = await startDaemon(h, { configDir: h.path('cfg'), downloadDir: dl });
      for (const m of made) await d.remoteOk(['-a', m.torrent]);
      for (const [i, m] of made.entries()) {
        seeds.push(await startLtSeed(h, m.torrent, h.path('src'), {
          name: `lt-seed-${names[i]}`, peers: [`127.0.0.1:${d.peerPort}`], uploadLimit: KILL_RATE, limitLocal: true,
        }));
      }
      // Kill once the first torrent is between 35 % and 80 % verified.
      const fields = ['name', 'haveValid', 'percentDone', 'status'];
      const atKill = await pollUntil(
        async () => {
          if (!d.proc.running) throw new Error(`${d.name} exited\n${d.proc.tail()}`);
          const ts = await d.torrents(fields);
          const a = ts.find((x) => x.name === names[0]);
          const v = Number(a?.haveValid ?? 0);
          if (v >= KILL_SIZE * 0.8) throw new Error(`${names[0]} went from <35 % to ${v} bytes between two polls: the seeder is not rate-limited`);
          return v >= KILL_SIZE * 0.35 ? ts : undefined;
        },
        60_000,
        `${names[0]} 35 % verified`,
        100,
      );
      if (sig === 'SIGKILL') await d.kill();
      else assert.equal((await d.terminate(20_000)).status.code, 0, 'clean exit on SIGTERM mid-download');
      const valid = new Map(atKill.map((x) => [String(x.name), Number(x.haveValid)]));
      h.note(`${sig} at ${[...valid].map(([n, v]) => `${n} ${(v / MiB).toFixed(2)} MiB verified`).join(', ')}`);
      // The seeders' counters settle once the connection is gone (status lines come every second).
      await sleep(2500);
      const upAtKill = seeds.map(seederUp);

      const r0 = Date.now();
      d = await d.restart();
      let listed: string[] = [];
      await pollUntil(
        async () => {
          listed = (await d.torrents(['name'])).map((x) => String(x.name)).sort();
          return listed.length >= names.length;
        },
        15_000,
        'the torrents listed after the restart',
        200,
      ).catch(() => undefined);
      assert.deepEqual(listed, [...names].sort(), 'every torrent listed after the restart');
      h.note(`restart: both listed ${((Date.now() - r0) / 1000).toFixed(1)} s after launch`);
      for (const name of names) {
        await waitRow(d, name, (r) => r.done === 100, 60_000, `${name} complete after the restart`);
      }
      h.note(`both complete ${((Date.now() - r0) / 1000).toFixed(1)} s after the restart`);
      for (const name of names) await assertSameTree(h.path('src', name), `${dl}/${name}`);

      // Bytes each seeder sent after the restart: at most what was not verified at the kill, plus slack for
      // blocks in flight (two pieces). A daemon that forgot its verified pieces fetches them all again.
      await sleep(1500);
      for (const [i, seed] of seeds.entries()) {
        const name = names[i]!;
        const after = seederUp(seed) - upAtKill[i]!;
        const need = KILL_SIZE - (valid.get(name) ?? 0);
        h.note(`${name}: seeder sent ${(upAtKill[i]! / MiB).toFixed(2)} MiB before the kill, ${(after / MiB).toFixed(2)} MiB after (missing at the kill: ${(need / MiB).toFixed(2)} MiB)`);
        const ok = after <= need + 2 * KILL_PIECE;
        const msg = `${name}: fetched ${after} bytes after the restart, but only ${need} were not verified at the ${sig}`;
        if (!ok && sig === 'SIGKILL' && d.kind === 'transmission') {
          // transmission-daemon 3.00 saves its resume files only every few minutes and on a clean exit: after a
          // SIGKILL it starts the torrents from zero and fetches everything again (seen here). The bound is
          // torrentkit's requirement (issue 15); the SIGTERM variant proves this accounting against the stand-in.
          t.todo(`stand-in shortfall, not a harness fault: ${msg}`);
          continue;
        }
        assert.ok(ok, msg);
      }
      await d.terminate(20_000);
    });
  });
}

async function dropTorrent(h: Harness, src: string, watchDir: string, name: string): Promise<string> {
  // Written under another name and renamed, so the daemon never sees half a file.
  const tmp = h.path(`${name}.partial`);
  await copyFile(src, tmp);
  const dest = `${watchDir}/${name}`;
  await rename(tmp, dest);
  return dest;
}

test('watch dir: a .torrent dropped there is added and renamed .added', { timeout: 90_000 }, async (t) => {
  if (!requireDaemon(t, TOOLS)) return;
  await withHarness(t, 'daemon-watch', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 4 * MiB, layout: 'single', name: 'watched.bin' });
    const made = ltMakeTorrent(payload.root, h.path('w.torrent'), 256 * KiB);
    const watch = h.path('watch');
    const d = await startDaemon(h, { configDir: h.path('cfg'), downloadDir: h.path('dl'), watchDir: watch });
    const t0 = Date.now();
    const dest = await dropTorrent(h, made.torrent, watch, 'w.torrent');
    const got = await pollUntil(
      async () => (await d.torrents(['name', 'hashString'])).find((x) => x.name === payload.name),
      20_000,
      'the watched torrent added',
      250,
    );
    assert.equal(String(got.hashString).toLowerCase(), made.infohash.toLowerCase());
    await pollUntil(() => existsSync(`${dest}.added`) && !existsSync(dest), 10_000, `${dest} renamed .added`, 250).catch(async (e: Error) => {
      throw new Error(`${e.message}; watch dir holds: ${(await readdir(watch)).join(', ')}`);
    });
    h.note(`watch dir: added and renamed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.ok((await rowOf(d, payload.name)) !== undefined, '-l lists it');
    await d.terminate(20_000);
  });
});
