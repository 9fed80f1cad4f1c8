/**
 * Bad tracker answers (issue 3), from real local servers on loopback: truncated bencode, an HTML page, a
 * `failure reason`, a reply over the size limit, an HTTP tracker that never answers, a UDP tracker that answers
 * with the wrong transaction id, and one that never answers. Each gives a clear per-tracker error; the torrent
 * goes on and completes from a peer it has anyway; nothing crashes or stalls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import * as dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientEngine } from '../../../src/index.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStorage } from '../../../src/storage/index.js';

async function until<T>(f: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test('bad tracker answers give per-tracker errors and never stall the torrent', { timeout: 60_000 }, async () => {
  const sockets: Socket[] = [];
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/truncated/announce') res.end('d8:intervali1800e5:peers12:abc');
    else if (path === '/html/announce') res.end('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>');
    else if (path === '/failure/announce') res.end('d14:failure reason22:torrent not registerede');
    else if (path === '/huge/announce') res.end('d5:peers' + `${200_000}:` + 'x'.repeat(200_000) + 'e');
    // /hung/announce: never answers
  });
  http.on('connection', (s) => sockets.push(s));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const hp = (http.address() as { port: number }).port;

  // UDP: one replies to connect with a transaction id off by one; the other never replies.
  const wrongTid = dgram.createSocket('udp4');
  wrongTid.on('message', (msg, rinfo) => {
    if (msg.length < 16) return;
    const out = Buffer.alloc(16);
    out.writeUInt32BE(0, 0);
    out.writeUInt32BE((msg.readUInt32BE(12) + 1) >>> 0, 4);
    out.writeBigUInt64BE(0x1234n, 8);
    wrongTid.send(out, rinfo.port, rinfo.address);
  });
  const silent = dgram.createSocket('udp4');
  await Promise.all([wrongTid, silent].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  const up = (s: dgram.Socket): number => s.address().port;

  const urls = {
    truncated: `http://127.0.0.1:${hp}/truncated/announce`,
    html: `http://127.0.0.1:${hp}/html/announce`,
    failure: `http://127.0.0.1:${hp}/failure/announce`,
    huge: `http://127.0.0.1:${hp}/huge/announce`,
    hung: `http://127.0.0.1:${hp}/hung/announce`,
    wrongTid: `udp://127.0.0.1:${up(wrongTid)}/announce`,
    silent: `udp://127.0.0.1:${up(silent)}`,
    unknown: `wss://127.0.0.1:1/announce`,
  };
  const size = 1024 * 1024 + 17;
  const pl = 32 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const hashes = new Uint8Array(Math.ceil(size / pl) * 20);
  for (let i = 0; i * pl < size; i++) hashes.set(createHash('sha1').update(data.subarray(i * pl, (i + 1) * pl)).digest(), i * 20);
  const meta = parseTorrent(
    buildTorrent({ name: 'x.bin', files: null, length: size, pieceLength: pl, pieceHashes: hashes, trackers: Object.values(urls).map((u) => [u]) }),
  );
  const seedStore = new MemoryStorage(meta.info);
  for (let i = 0; i * pl < size; i++) await seedStore.write(i, 0, data.subarray(i * pl, (i + 1) * pl));
  const settings = {
    listenEndpoints: ['127.0.0.1:0'],
    trackerHttpTimeoutMs: 800,
    trackerRequestTimeoutMs: 1500,
    trackerMaxResponseBytes: 64 * 1024,
    udpTrackerBaseTimeoutMs: 150,
    udpTrackerMaxRetries: 1,
    trackerRetryBaseMs: 60_000,
  };
  const seeder = new ClientEngine(settings, { createStorage: () => seedStore });
  const leecher = new ClientEngine(settings, { createStorage: () => new MemoryStorage(meta.info) });
  const warnings: string[] = [];
  try {
    await seeder.start();
    const st = await seeder.addTorrent(meta, { downloadDir: '/nonexistent' });
    await st.start();
    const t = await leecher.addTorrent(meta, { downloadDir: '/nonexistent' });
    t.on('warning', (w) => warnings.push(w));
    await t.start();
    t.addPeer(`127.0.0.1:${seeder.listenPort}`);
    await t.waitForCompletion();
    const byUrl = await until(
      () => {
        const m = new Map(t.trackers.map((s) => [s.url, s]));
        return [...m.values()].every((s) => s.lastError !== undefined) ? m : undefined;
      },
      20_000,
      'every tracker to report an error',
    );
    const err = (k: keyof typeof urls): string => byUrl.get(urls[k])!.lastError!;
    assert.match(err('truncated'), /not valid bencode \(truncated\)/);
    assert.match(err('html'), /HTML/);
    assert.match(err('failure'), /^tracker failure: torrent not registered$/);
    assert.match(err('huge'), /larger than|limit|too (big|large)/i);
    assert.match(err('hung'), /time|did not answer/i);
    assert.match(err('wrongTid'), /time|did not answer|no answer/i);
    assert.match(err('silent'), /time|did not answer|no answer/i);
    assert.equal(byUrl.get(urls.unknown)!.state, 'unsupported');
    assert.match(err('unknown'), /unsupported tracker scheme/);
    assert.equal(warnings.filter((w) => w.includes('wss:')).length, 1, `the unknown scheme is reported once: ${warnings.join(' | ')}`);
    for (const [k, u] of Object.entries(urls)) if (k !== 'unknown') assert.equal(byUrl.get(u)!.state, 'failed', k);
    assert.equal(t.state, 'seeding');
  } finally {
    await leecher.dispose();
    await seeder.dispose();
    for (const s of sockets) s.destroy();
    http.close();
    wrongTid.close();
    silent.close();
  }
});
