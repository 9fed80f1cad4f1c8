/**
 * SOCKS5 proxy (EngineSettings.proxy, CLI --proxy) through a real proxy, microsocks, whose outgoing connections come
 * from 127.0.0.2: `torrentkit download --proxy` reaches a libtorrent seeder only through it (libtorrent sees the peer
 * at 127.0.0.2), wrong credentials get no peer at all, and HTTP requests (trackers, web seeds) go through it too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { tkDownload } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { requireTools } from '../helpers/tools.js';
import { startMicrosocks } from '../helpers/socks.js';
import { NodeClock } from '../../src/core/node-clock.js';
import { nodeHttpGet } from '../../src/tracker/http/http-get.js';
import { socks5Agent } from '../../src/transport/socks5-connect.js';
import { parseSocks5Url } from '../../src/transport/socks5.js';

const noise = ['--transport', 'tcp', '--no-dht', '--no-lsd', '--no-port-forwarding'];

test('torrentkit download --proxy socks5://...: libtorrent sees the peer at the proxy\'s address; wrong credentials: no peer', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit', 'microsocks'])) return;
  await withHarness(t, 'socks5-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const seed = await startLtSeed(h, made.torrent, payload.dir);
    const proxy = await startMicrosocks(h, { user: 'tk', password: 's3cret' });
    const tk = tkDownload(h, made.torrent, h.path('out'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--proxy', proxy.url, ...noise]);
    await seed.proc.whileRunning(tk.waitComplete(60_000), 'libtorrent seeder');
    await assertSameTree(payload.root, h.path('out', payload.name));
    const incoming = seed.events.filter((e) => e.event === 'incoming_connection').map((e) => String(e.msg));
    h.note(`libtorrent saw: ${JSON.stringify(incoming)}`);
    assert.ok(incoming.length > 0 && incoming.every((m) => m.includes('127.0.0.2')), 'every connection came through the proxy');

    // The same proxy with a wrong password: no connection reaches libtorrent.
    const bad = proxy.url.replace('s3cret', 'wrong');
    const before = seed.events.filter((e) => e.event === 'incoming_connection').length;
    const tk2 = tkDownload(h, made.torrent, h.path('out2'), ['--peer', `127.0.0.1:${seed.port}`, '--listen', `127.0.0.1:${await freePort()}`, '--proxy', bad, ...noise], 'tk-badauth');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(seed.events.filter((e) => e.event === 'incoming_connection').length, before, 'nothing got through');
    assert.equal(tk2.all('peer').length, 0);
    await tk2.interrupt(15_000);
  });
});

test('HTTP(S) requests (trackers, web seeds) go through the proxy too', { timeout: 60_000 }, async (t) => {
  if (!requireTools(t, ['microsocks'])) return;
  await withHarness(t, 'socks5-http', async (h) => {
    const proxy = await startMicrosocks(h);
    const seen: string[] = [];
    const srv = http.createServer((req, res) => {
      seen.push(req.socket.remoteAddress ?? '');
      res.end('d8:intervali60e5:peers0:e');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (srv.address() as AddressInfo).port;
      const p = parseSocks5Url(proxy.url);
      const r = await nodeHttpGet(`http://127.0.0.1:${port}/announce?x=1`, { clock: new NodeClock(), timeoutMs: 10_000, agentFor: (s) => socks5Agent(p, s) });
      assert.equal(r.status, 200);
      assert.equal(new TextDecoder().decode(r.body), 'd8:intervali60e5:peers0:e');
      assert.deepEqual(seen, ['127.0.0.2'], 'the server saw the proxy\'s outgoing address');
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
