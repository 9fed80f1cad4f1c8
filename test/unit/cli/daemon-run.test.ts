/**
 * runDaemon's wiring with a fake session and a fake RPC handler over the real HTTP server (127.0.0.1:0):
 * settings.json's password hashed, the handler's options, the start line, session-close shutting everything
 * down, the watch dir, and the refusals (non-loopback without auth, port taken).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPasswordHash } from '../../../src/index.js';
import type { RpcHandler, SessionApi } from '../../../src/index.js';
import { runDaemon } from '../../../src/cli/commands/daemon.js';
import { CliExit, EXIT } from '../../../src/cli/exit.js';

function post(port: number, body: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/transmission/rpc', headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
    });
    r.on('error', reject);
    r.setTimeout(5000, () => r.destroy(new Error('timeout')));
    r.end(body);
  });
}

function fakeSession(): SessionApi & { closed: number; added: number } {
  const s = {
    closed: 0,
    added: 0,
    engine: { setIpFilter: () => {} },
    async add() {
      s.added++;
      return { torrent: {}, duplicate: false };
    },
    async close() {
      s.closed++;
    },
  };
  return s as unknown as SessionApi & { closed: number; added: number };
}

test('runDaemon: wiring, the start line, session-close over RPC shuts down and exits 0', async () => {
  const base = mkdtempSync(join(tmpdir(), 'tk-daemon-'));
  try {
    const configDir = join(base, 'cfg');
    const watchDir = join(base, 'watch');
    mkdirSync(configDir);
    mkdirSync(watchDir);
    writeFileSync(join(configDir, 'settings.json'), JSON.stringify({ 'rpc-username': 'alice', 'rpc-password': 'pw', 'speed-limit-up': 7 }));
    writeFileSync(join(watchDir, 'bad.torrent'), 'not a torrent');
    // Older than the watch dir's settle time: handled by the first scan.
    utimesSync(join(watchDir, 'bad.torrent'), new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    const session = fakeSession();
    // As the real session does: settings.json rewritten with its own keys only.
    const close = session.close.bind(session);
    session.close = async () => {
      writeFileSync(join(configDir, 'settings.json'), JSON.stringify({ speedLimitUp: 7 }));
      await close();
    };
    let seenOpts: Record<string, unknown> = {};
    let openOpts: Record<string, unknown> = {};
    const lines: string[] = [];
    let errText = '';
    let started!: () => void;
    const up = new Promise<void>((r) => (started = r));
    const run = runDaemon(
      { configDir, downloadDir: join(base, 'dl'), rpcPort: 0, watchDir, webUi: join(base, 'no-web') },
      {
        env: {},
        openSession: async (o) => {
          openOpts = o as unknown as Record<string, unknown>;
          return session;
        },
        createRpcHandler: (sess, o): RpcHandler => {
          seenOpts = o as Record<string, unknown>;
          return {
            async handle(body) {
              if (Buffer.from(body).toString() === 'close') await sess.close();
              return { status: 200, body: '{"result":"success"}', contentType: 'application/json' };
            },
          };
        },
        out: (line) => {
          lines.push(line);
          started();
        },
        err: (t) => (errText += t),
      },
    );
    await Promise.race([up, run.then(() => assert.fail(`daemon ended early: ${errText}`))]);
    assert.equal(lines.length, 1);
    const m = /^torrentkit daemon: RPC on http:\/\/127\.0\.0\.1:(\d+)\/transmission\/rpc, web UI .*, config (.*), watching (.*)$/.exec(lines[0]);
    assert.ok(m, lines[0]);
    const port = Number(m[1]);
    assert.equal(m[2], configDir);
    assert.equal(openOpts.configDir, configDir);
    assert.deepEqual(openOpts.defaults, { downloadDir: join(base, 'dl') });
    assert.equal(seenOpts.configDir, configDir);
    assert.equal(typeof seenOpts.version, 'string');
    assert.equal(typeof seenOpts.fetchUrl, 'function');
    // The plaintext password was replaced by its hash; other keys kept.
    const saved = JSON.parse(readFileSync(join(configDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.ok(isPasswordHash(String(saved['rpc-password'])));
    assert.equal(saved['speed-limit-up'], 7);
    // The watch dir marked the bad file.
    const t0 = Date.now();
    while (!existsSync(join(watchDir, 'bad.torrent.invalid')) && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(existsSync(join(watchDir, 'bad.torrent.invalid')));
    assert.equal(session.added, 0);
    assert.match(errText, /bad\.torrent is not a valid torrent/);
    // Auth, CSRF, then session-close.
    const auth = { Authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };
    const first = await post(port, 'x', auth);
    assert.equal(first.status, 409);
    const id = String(first.headers['x-transmission-session-id']);
    const reply = await post(port, 'close', { ...auth, 'X-Transmission-Session-Id': id });
    assert.equal(reply.status, 200, 'the reply goes out before the shutdown');
    assert.equal(await run, EXIT.OK);
    assert.equal(session.closed, 1);
    assert.match(errText, /session-close requested over RPC: shutting down/);
    const after = JSON.parse(readFileSync(join(configDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(after.speedLimitUp, 7, "the session's keys kept");
    assert.equal(after['rpc-username'], 'alice', 'the RPC keys put back');
    assert.equal(after['rpc-password'], saved['rpc-password'], 'as the hash');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('runDaemon: non-loopback without a password is a usage error; a taken port a failure with a hint', async () => {
  const base = mkdtempSync(join(tmpdir(), 'tk-daemon-'));
  const blocker = createServer();
  try {
    const s1 = fakeSession();
    const deps = { env: {}, openSession: async () => s1, createRpcHandler: (): RpcHandler => ({ handle: async () => ({ status: 200, body: '', contentType: 'text/plain' }) }), out: () => {}, err: () => {} };
    await assert.rejects(
      runDaemon({ configDir: join(base, 'a'), rpcBind: '0.0.0.0', rpcPort: 0 }, deps),
      (e: unknown) => e instanceof CliExit && e.code === EXIT.USAGE && /without a password/.test(e.message),
    );
    assert.equal(s1.closed, 1, 'the session is closed again');
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    await assert.rejects(
      runDaemon({ configDir: join(base, 'b'), rpcPort: port }, deps),
      (e: unknown) => e instanceof CliExit && e.code === EXIT.FAILURE && /--rpc-port/.test(e.message),
    );
  } finally {
    blocker.close();
    rmSync(base, { recursive: true, force: true });
  }
});
