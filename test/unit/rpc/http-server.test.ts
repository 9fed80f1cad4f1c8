/** startRpcServer (src/rpc/node-http-server.ts): a real server on 127.0.0.1:0 over a fake RpcHandler. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRpcServer } from '../../../src/rpc/node-http-server.js';
import { hashPassword } from '../../../src/rpc/password.js';
import type { RpcHandler, RpcServer, RpcServerOptions } from '../../../src/rpc/types.js';
import { isBtError } from '../../../src/core/index.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function req(
  port: number,
  o: { method?: string; path?: string; headers?: Record<string, string>; body?: Uint8Array | string; chunks?: { size: number; count: number } } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/transmission/rpc', headers: o.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    // A refused upload may see its socket closed under it after the answer arrived: that is fine.
    r.on('error', reject);
    r.setTimeout(10_000, () => r.destroy(new Error('test request timed out')));
    if (o.chunks) {
      const part = Buffer.alloc(o.chunks.size, 0x61);
      let n = 0;
      const more = (): void => {
        while (n < o.chunks!.count) {
          n++;
          if (r.destroyed) return;
          if (!r.write(part)) {
            r.once('drain', more);
            return;
          }
        }
        r.end();
      };
      more();
    } else r.end(o.body);
  });
}

function fakeHandler(): RpcHandler & { bodies: Uint8Array[] } {
  const bodies: Uint8Array[] = [];
  return {
    bodies,
    async handle(body) {
      bodies.push(body);
      return { status: 200, body: JSON.stringify({ result: 'success', arguments: { size: body.length } }), contentType: 'application/json' };
    },
  };
}

async function withServer(opts: Partial<RpcServerOptions>, fn: (s: RpcServer, h: ReturnType<typeof fakeHandler>) => Promise<void>): Promise<void> {
  const h = fakeHandler();
  const s = await startRpcServer({ host: '127.0.0.1', port: 0, handler: h, ...opts });
  try {
    await fn(s, h);
  } finally {
    await s.close();
  }
}

test('CSRF: 409 with the session id (also for GET), then the handler answers', async () => {
  await withServer({}, async (s, h) => {
    const first = await req(s.port, { method: 'POST', body: '{"method":"session-get"}' });
    assert.equal(first.status, 409);
    const id = first.headers['x-transmission-session-id'];
    assert.equal(typeof id, 'string');
    assert.equal(id, s.sessionId);
    assert.match(first.body.toString(), new RegExp(`X-Transmission-Session-Id: ${s.sessionId}`));
    assert.equal(h.bodies.length, 0, 'no handler call without the id');
    const get = await req(s.port, { method: 'GET' });
    assert.equal(get.status, 409);
    assert.equal(get.headers['x-transmission-session-id'], id);
    const wrong = await req(s.port, { method: 'POST', headers: { 'X-Transmission-Session-Id': 'nope' }, body: '{}' });
    assert.equal(wrong.status, 409);
    const ok = await req(s.port, { method: 'POST', headers: { 'X-Transmission-Session-Id': s.sessionId }, body: '{"method":"session-get"}' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(ok.body.toString()), { result: 'success', arguments: { size: 24 } });
    assert.equal(Buffer.from(h.bodies[0]).toString(), '{"method":"session-get"}');
    // transmission-remote 3.00 posts to /transmission/rpc/.
    const slash = await req(s.port, { method: 'POST', path: '/transmission/rpc/', headers: { 'X-Transmission-Session-Id': s.sessionId }, body: '{}' });
    assert.equal(slash.status, 200);
  });
});

test('body limit: 413 for a declared or a chunked body over maxBodyBytes; a 10 MB body fits the default', async () => {
  await withServer({ maxBodyBytes: 1000 }, async (s, h) => {
    const hdr = { 'X-Transmission-Session-Id': s.sessionId };
    const declared = await req(s.port, { method: 'POST', headers: hdr, body: Buffer.alloc(5000, 1) });
    assert.equal(declared.status, 413);
    assert.match(declared.body.toString(), /larger than the limit of 1000 bytes/);
    const chunked = await req(s.port, { method: 'POST', headers: hdr, chunks: { size: 64 * 1024, count: 160 } }).catch((e: Error) => e);
    if (!(chunked instanceof Error)) assert.equal(chunked.status, 413);
    else assert.match(chunked.message, /EPIPE|ECONNRESET|socket hang up/, 'only a reset after the refusal');
    assert.equal(h.bodies.length, 0);
    const small = await req(s.port, { method: 'POST', headers: hdr, body: Buffer.alloc(1000, 1) });
    assert.equal(small.status, 200);
  });
  await withServer({}, async (s, h) => {
    const big = await req(s.port, { method: 'POST', headers: { 'X-Transmission-Session-Id': s.sessionId }, chunks: { size: 1_000_000, count: 10 } });
    assert.equal(big.status, 200);
    assert.equal(h.bodies[0].length, 10_000_000);
  });
});

test('basic auth: 401 with the realm, OK with the password, growing delay then 429 after repeated failures', async () => {
  const passwordHash = await hashPassword('s3cret', { n: 1024 });
  await withServer({ auth: { username: 'alice', passwordHash }, loginBackoff: { baseDelayMs: 20, maxFailures: 3, windowMs: 60_000 } }, async (s) => {
    const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const none = await req(s.port, { path: '/transmission/web/' });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="Transmission"');
    const good = await req(s.port, { method: 'POST', headers: { ...basic('alice', 's3cret'), 'X-Transmission-Session-Id': s.sessionId }, body: '{}' });
    assert.equal(good.status, 200);
    // Any Host is fine once a password is required (as Transmission).
    const otherHost = await req(s.port, { method: 'POST', headers: { ...basic('alice', 's3cret'), Host: 'nas.example', 'X-Transmission-Session-Id': s.sessionId }, body: '{}' });
    assert.equal(otherHost.status, 200);
    const t0 = Date.now();
    assert.equal((await req(s.port, { headers: basic('alice', 'wrong') })).status, 401);
    assert.equal((await req(s.port, { headers: basic('bob', 's3cret') })).status, 401);
    assert.equal((await req(s.port, { headers: basic('alice', 'nope') })).status, 401);
    assert.ok(Date.now() - t0 >= 20 + 40 + 80 - 15, 'failures are answered later and later');
    const locked = await req(s.port, { headers: basic('alice', 's3cret') });
    assert.equal(locked.status, 429, 'locked out, even with the right password');
    assert.ok(Number(locked.headers['retry-after']) > 0);
  });
});

test('non-loopback bind without auth is refused', async () => {
  await assert.rejects(
    startRpcServer({ host: '0.0.0.0', port: 0, handler: fakeHandler() }),
    (e: unknown) => isBtError(e, 'ERR_SETTINGS') && /without a password/.test((e as Error).message),
  );
});

test('Host check: 421 for an unknown name; localhost, IPs and whitelisted names pass', async () => {
  await withServer({ hostWhitelist: ['*.lan', 'box.example'] }, async (s) => {
    const evil = await req(s.port, { headers: { Host: `evil.example:${s.port}` } });
    assert.equal(evil.status, 421);
    assert.match(evil.body.toString(), /DNS Rebinding/);
    for (const host of [`localhost:${s.port}`, `127.0.0.1:${s.port}`, `[::1]:${s.port}`, 'nas.lan', 'BOX.example:9091']) {
      assert.equal((await req(s.port, { headers: { Host: host } })).status, 409, host);
    }
  });
  await withServer({ hostWhitelist: ['*'] }, async (s) => {
    assert.equal((await req(s.port, { headers: { Host: 'anything.example' } })).status, 409);
  });
});

test('IP whitelist: 403 for a client not on it', async () => {
  await withServer({ ipWhitelist: ['10.*.*.*', '192.168.1.0/24'] }, async (s) => {
    const r = await req(s.port);
    assert.equal(r.status, 403);
    assert.match(r.body.toString(), /Unauthorized IP Address/);
  });
  await withServer({ ipWhitelist: ['127.0.0.1'] }, async (s) => {
    assert.equal((await req(s.port)).status, 409);
  });
});

test('web UI: files with content types, HEAD, index.html, redirects; no way out of the directory', async () => {
  const base = mkdtempSync(join(tmpdir(), 'tk-webui-'));
  try {
    const web = join(base, 'web');
    mkdirSync(join(web, 'javascript'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<html>ui</html>');
    writeFileSync(join(web, 'javascript', 'app.js'), 'var x = 1;');
    writeFileSync(join(web, 'style.css'), 'body{}');
    writeFileSync(join(base, 'secret.txt'), 'TOP SECRET');
    symlinkSync(join(base, 'secret.txt'), join(web, 'link.txt'));
    symlinkSync(base, join(web, 'up'));
    await withServer({ webUiDir: web }, async (s) => {
      const index = await req(s.port, { path: '/transmission/web/' });
      assert.equal(index.status, 200);
      assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(index.body.toString(), '<html>ui</html>');
      const js = await req(s.port, { path: '/transmission/web/javascript/app.js?v=3' });
      assert.equal(js.status, 200);
      assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(js.body.toString(), 'var x = 1;');
      assert.equal((await req(s.port, { path: '/transmission/web/style.css' })).headers['content-type'], 'text/css; charset=utf-8');
      const head = await req(s.port, { method: 'HEAD', path: '/transmission/web/style.css' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '6');
      assert.equal(head.body.length, 0);
      assert.equal((await req(s.port, { method: 'POST', path: '/transmission/web/index.html', body: 'x' })).status, 405);
      assert.equal((await req(s.port, { path: '/transmission/web/missing.js' })).status, 404);
      for (const p of ['/', '/transmission/web', '/transmission']) {
        const r = await req(s.port, { path: p });
        assert.equal(r.status, 301, p);
        assert.equal(r.headers.location, '/transmission/web/');
      }
      const attempts = [
        '/transmission/web/../../etc/passwd',
        '/transmission/web/../../../../../../etc/passwd',
        '/transmission/web/%2e%2e/secret.txt',
        '/transmission/web/%2E%2E%2Fsecret.txt',
        '/transmission/web/..%2f..%2fetc%2fpasswd',
        '/transmission/web/javascript/%2e%2e/%2e%2e/secret.txt',
        '/transmission/web/index.html%00.js',
        '/transmission/web/%5c..%5csecret.txt',
        '/transmission/web/link.txt',
        '/transmission/web/up/secret.txt',
        '/transmission/web/%ff%fe',
      ];
      for (const p of attempts) {
        const r = await req(s.port, { path: p });
        assert.ok(r.status === 404 || r.status === 403, `${p}: ${r.status}`);
        assert.doesNotMatch(r.body.toString(), /TOP SECRET|root:/, p);
      }
    });
    await withServer({}, async (s) => {
      const r = await req(s.port, { path: '/transmission/web/' });
      assert.equal(r.status, 404);
      assert.match(r.body.toString(), /apt install transmission-common/);
      assert.match(r.body.toString(), /--web-ui DIR/);
    });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('routes: an extra GET route is tried first; false falls through', async () => {
  const seen: string[] = [];
  await withServer(
    {
      routes: [
        (rq) => {
          seen.push(rq.url ?? '');
          return false;
        },
        (rq, res) => {
          if (!rq.url?.startsWith('/stream/')) return false;
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('streamed');
          return true;
        },
      ],
    },
    async (s) => {
      const r = await req(s.port, { path: '/stream/1/0' });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'streamed');
      assert.equal((await req(s.port)).status, 409, 'falls through to the RPC');
      assert.deepEqual(seen, ['/stream/1/0', '/transmission/rpc']);
    },
  );
});

test('slow-loris: a client that never finishes its headers loses the socket', async () => {
  await withServer({ headersTimeoutMs: 300 }, async (s) => {
    const t0 = Date.now();
    const closed = await new Promise<string>((resolve) => {
      const sock = connect(s.port, '127.0.0.1', () => sock.write('GET /transmission/rpc HTTP/1.1\r\nHost: localhost\r\nX-Slow: '));
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      sock.on('close', () => resolve(got));
      sock.on('error', () => {});
      // Bound the wait: a server that keeps the socket fails the test instead of hanging it.
      setTimeout(() => {
        sock.destroy();
        resolve('still open');
      }, 5_000).unref();
    });
    assert.notEqual(closed, 'still open');
    assert.ok(Date.now() - t0 < 4_000);
    assert.ok(closed === '' || /^HTTP\/1\.1 408/.test(closed), closed);
  });
});
