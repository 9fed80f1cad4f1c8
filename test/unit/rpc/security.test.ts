/** The RPC server's pure checks (src/rpc/security.ts, static-files.ts) and password hashes (password.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, SeededRandom } from '../../../src/core/index.js';
import {
  LoginBackoff,
  hostAllowed,
  hostOfHeader,
  ipAllowed,
  isLoopbackAddress,
  newSessionId,
  parseBasicAuth,
  wildcardMatch,
} from '../../../src/rpc/security.js';
import { contentTypeFor, safeSegments } from '../../../src/rpc/static-files.js';
import { hashPassword, isPasswordHash, verifyPassword } from '../../../src/rpc/password.js';

test('wildcardMatch', () => {
  assert.ok(wildcardMatch('192.168.*.*', '192.168.1.20'));
  assert.ok(wildcardMatch('*.lan', 'NAS.lan'));
  assert.ok(wildcardMatch('10.0.0.?', '10.0.0.7'));
  assert.ok(!wildcardMatch('10.0.0.?', '10.0.0.17'));
  assert.ok(!wildcardMatch('*.lan', 'lan.evil'));
  assert.ok(wildcardMatch('*', ''));
  // Pathological patterns stay fast (no exponential backtracking).
  const t0 = Date.now();
  assert.ok(!wildcardMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)));
  assert.ok(Date.now() - t0 < 1000);
});

test('hostAllowed: localhost, IP literals, the bound host, whitelist; missing Host refused', () => {
  assert.equal(hostOfHeader('[::1]:9091'), '::1');
  assert.equal(hostOfHeader('Example.com:80'), 'example.com');
  for (const h of ['localhost', 'localhost:9091', 'localhost.', 'app.localhost', '127.0.0.1:9091', '[::1]:9091', '192.168.1.5']) {
    assert.ok(hostAllowed(h, '127.0.0.1'), h);
  }
  assert.ok(!hostAllowed('evil.example', '127.0.0.1'));
  assert.ok(!hostAllowed('127.0.0.1.evil.example', '127.0.0.1'));
  assert.ok(!hostAllowed(undefined, '127.0.0.1'));
  assert.ok(hostAllowed(undefined, '127.0.0.1', ['*']));
  assert.ok(hostAllowed('box.example', '127.0.0.1', ['box.example']));
  assert.ok(hostAllowed('mybox:9091', 'mybox'));
});

test('ipAllowed: wildcards, CIDR, IPv4-mapped addresses; undefined list allows all', () => {
  assert.ok(ipAllowed('::ffff:127.0.0.1', ['127.*.*.*']));
  assert.ok(ipAllowed('10.1.2.3', ['10.0.0.0/8']));
  assert.ok(!ipAllowed('11.1.2.3', ['10.0.0.0/8']));
  assert.ok(ipAllowed('::1', ['::1']));
  assert.ok(!ipAllowed('192.168.2.1', ['192.168.1.*']));
  assert.ok(ipAllowed('8.8.8.8', undefined));
  assert.ok(!ipAllowed('8.8.8.8', []));
  assert.ok(isLoopbackAddress('127.0.0.2') && isLoopbackAddress('::1') && !isLoopbackAddress('0.0.0.0'));
});

test('parseBasicAuth', () => {
  const b = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.deepEqual(parseBasicAuth(b('alice:pa:ss')), { username: 'alice', password: 'pa:ss' });
  assert.deepEqual(parseBasicAuth(b(':')), { username: '', password: '' });
  assert.equal(parseBasicAuth(undefined), undefined);
  assert.equal(parseBasicAuth(b('nocolon')), undefined);
  assert.equal(parseBasicAuth('Bearer abc'), undefined);
  assert.equal(parseBasicAuth('Basic !!!'), undefined);
});

test('LoginBackoff: growing delay, lockout in the window, forgets after it, bounded table', () => {
  const clock = new FakeClock();
  const b = new LoginBackoff(clock, { baseDelayMs: 100, maxDelayMs: 1000, maxFailures: 4, windowMs: 60_000, maxEntries: 3 });
  assert.deepEqual([b.fail('a'), b.fail('a'), b.fail('a')], [100, 200, 400]);
  assert.equal(b.lockedFor('a'), 0);
  assert.equal(b.fail('a'), 800);
  assert.ok(b.lockedFor('a') > 0);
  clock.advance(60_000);
  assert.equal(b.lockedFor('a'), 0);
  b.fail('x');
  b.succeed('x');
  assert.equal(b.lockedFor('x'), 0);
  for (let i = 0; i < 100; i++) b.fail(`10.0.0.${i}`);
  assert.ok(b.size <= 3);
});

test('newSessionId: 48 letters and digits', () => {
  const id = newSessionId(new SeededRandom(1));
  assert.match(id, /^[A-Za-z0-9]{48}$/);
  assert.notEqual(id, newSessionId(new SeededRandom(2)));
});

test('safeSegments and contentTypeFor', () => {
  assert.deepEqual(safeSegments('javascript/app.js'), ['javascript', 'app.js']);
  assert.deepEqual(safeSegments(''), []);
  assert.deepEqual(safeSegments('a%20b.html'), ['a b.html']);
  for (const bad of ['..', '../x', 'a/%2e%2e/b', '%2E%2E', 'a%2fb', 'a%5cb', 'a%00b', '%e0%a4%a', 'C:x', '.', '.git', 'a/.htpasswd']) assert.equal(safeSegments(bad), undefined, bad);
  assert.equal(contentTypeFor('x.HTML'), 'text/html; charset=utf-8');
  assert.equal(contentTypeFor('x.svg'), 'image/svg+xml');
  assert.equal(contentTypeFor('x'), 'application/octet-stream');
});

test('hashPassword / verifyPassword: salted scrypt, right and wrong passwords, malformed hashes', async () => {
  const h1 = await hashPassword('hunter2', { n: 1024 });
  const h2 = await hashPassword('hunter2', { n: 1024 });
  assert.match(h1, /^scrypt\$1024\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(h1, h2, 'random salt');
  assert.ok(isPasswordHash(h1));
  assert.ok(!isPasswordHash('hunter2'));
  assert.ok(await verifyPassword('hunter2', h1));
  assert.ok(!(await verifyPassword('hunter3', h1)));
  assert.ok(!(await verifyPassword('hunter2', 'hunter2')));
  assert.ok(!(await verifyPassword('x', 'scrypt$99999999$AAAA$AAAA')), 'absurd N refused');
  await assert.rejects(hashPassword('x', { n: 3 }));
});
