/**
 * The web seed HTTP range fetcher (src/webseed/http-range.ts) against hostile or broken servers on loopback:
 * each failure is a clear BtError within the deadline, never a hang or an oversized buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeClock } from '../../../src/core/node-clock.js';
import { createNodeRangeFetcher } from '../../../src/webseed/http-range.js';

const FILE = Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff));

/** A server whose handler decides per path how to misbehave. */
async function server(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

function range(req: http.IncomingMessage): [number, number] {
  const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!;
  return [Number(m[1]), Number(m[2])];
}

test('good ranges, and every kind of bad answer as a clear error', { timeout: 30_000 }, async () => {
  const srv = await server((req, res) => {
    const [a, b] = range(req);
    switch (req.url) {
      case '/good':
        res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${FILE.length}` });
        return res.end(FILE.subarray(a, b + 1));
      case '/redirect':
        res.writeHead(302, { location: '/good' });
        return res.end();
      case '/loop':
        res.writeHead(302, { location: '/loop' });
        return res.end();
      case '/wrong-range':
        res.writeHead(206, { 'content-range': `bytes 0-${b - a}/${FILE.length}` });
        return res.end(FILE.subarray(0, b - a + 1));
      case '/too-long':
        res.writeHead(206);
        return res.end(FILE);
      case '/short':
        res.writeHead(206);
        return res.end(FILE.subarray(a, a + 10));
      case '/no-range':
        res.writeHead(200);
        return res.end(FILE);
      case '/stall':
        res.writeHead(206);
        return res.write(FILE.subarray(0, 5)); // and nothing more
      default:
        res.writeHead(404);
        return res.end('not found');
    }
  });
  const f = createNodeRangeFetcher(new NodeClock());
  const get = (path: string, start: number, length: number, timeoutMs = 5000): Promise<Uint8Array> => f.fetch(`${srv.url}${path}`, start, length, { timeoutMs });
  const code = (e: unknown): string => (e as { code?: string }).code ?? '';
  try {
    assert.deepEqual(Buffer.from(await get('/good', 100, 900)), FILE.subarray(100, 1000));
    assert.deepEqual(Buffer.from(await get('/redirect', 4000, 1000)), FILE.subarray(4000, 5000));
    // A server ignoring Range is fine for a range starting at 0: the first bytes are used.
    assert.deepEqual(Buffer.from(await get('/no-range', 0, 300)), FILE.subarray(0, 300));
    await assert.rejects(get('/no-range', 10, 300), (e: Error) => /ignores Range/.test(e.message) && code(e) === 'ERR_PROTOCOL');
    await assert.rejects(get('/loop', 0, 10), /redirects/);
    await assert.rejects(get('/wrong-range', 1000, 100), /answered range 0-99, not 1000-1099/);
    await assert.rejects(get('/too-long', 0, 100), /more than the 100 bytes/);
    await assert.rejects(get('/short', 0, 100), /sent 10 of 100 bytes/);
    await assert.rejects(get('/missing', 0, 100), /HTTP 404/);
    const t0 = Date.now();
    await assert.rejects(get('/stall', 0, 100, 500), (e: Error) => code(e) === 'ERR_TIMEOUT');
    assert.ok(Date.now() - t0 < 3000, 'the deadline holds');
    const ac = new AbortController();
    const p = f.fetch(`${srv.url}/stall`, 0, 100, { timeoutMs: 10_000, signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: Error) => code(e) === 'ERR_ABORTED');
  } finally {
    f.close();
    await srv.close();
  }
  // Nothing listening: a connection error.
  const f2 = createNodeRangeFetcher(new NodeClock());
  await assert.rejects(f2.fetch(srv.url + '/good', 0, 10, { timeoutMs: 5000 }), /connection failed/);
  f2.close();
});
