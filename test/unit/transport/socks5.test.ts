/** SOCKS5 client handshake (src/transport/socks5.ts): byte vectors, authentication, replies, leftovers, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socks5Client, encodeConnect, parseSocks5Url } from '../../../src/transport/socks5.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const code = (e: unknown): string => (e as { code?: string }).code ?? '';

test('CONNECT requests for IPv4, IPv6 and host names (RFC 1928)', () => {
  assert.deepEqual(encodeConnect({ host: '10.1.2.3', port: 6881 }), bytes(5, 1, 0, 1, 10, 1, 2, 3, 0x1a, 0xe1));
  assert.deepEqual(encodeConnect({ host: '[::1]', port: 80 }), bytes(5, 1, 0, 4, ...Array<number>(15).fill(0), 1, 0, 80));
  assert.deepEqual(encodeConnect({ host: '2001:db8::7', port: 1 }).subarray(4, 8), bytes(0x20, 0x01, 0x0d, 0xb8));
  assert.deepEqual(encodeConnect({ host: 'tr.example', port: 443 }), bytes(5, 1, 0, 3, 10, ...new TextEncoder().encode('tr.example'), 1, 187));
  assert.throws(() => encodeConnect({ host: 'x', port: 0 }), (e) => code(e) === 'ERR_PROXY');
});

test('no-auth handshake; bytes after the reply belong to the tunnel', () => {
  const c = new Socks5Client({ host: '1.2.3.4', port: 80 });
  assert.deepEqual(c.start(), bytes(5, 1, 0));
  assert.deepEqual(c.receive(bytes(5)), { need: true });
  assert.deepEqual(c.receive(bytes(0)), { send: encodeConnect({ host: '1.2.3.4', port: 80 }) });
  // Reply with a bound IPv4 address, delivered in two pieces, followed by 3 bytes of the peer's stream.
  assert.deepEqual(c.receive(bytes(5, 0, 0, 1, 127)), { need: true });
  assert.deepEqual(c.receive(bytes(0, 0, 1, 0x04, 0x38, 19, 66, 105)), { connected: true, leftover: bytes(19, 66, 105) });
});

test('username/password (RFC 1929), and every refusal is a clear ERR_PROXY', () => {
  const c = new Socks5Client({ host: 'h', port: 1 }, { username: 'u', password: 'pw' });
  assert.deepEqual(c.start(), bytes(5, 2, 0, 2));
  assert.deepEqual(c.receive(bytes(5, 2)), { send: bytes(1, 1, 117, 2, 112, 119) });
  assert.deepEqual(c.receive(bytes(1, 0)), { send: encodeConnect({ host: 'h', port: 1 }) });
  const refusals: [Uint8Array[], RegExp][] = [
    [[bytes(4, 0)], /not a SOCKS5 server/],
    [[bytes(5, 0xff)], /no acceptable authentication/],
    [[bytes(5, 0), bytes(5, 5, 0, 1, 0, 0, 0, 0, 0, 0)], /connection refused/],
    [[bytes(5, 0), bytes(5, 0, 0, 9, 0)], /bad address type/],
  ];
  for (const [steps, re] of refusals) {
    const k = new Socks5Client({ host: '1.1.1.1', port: 2 });
    k.start();
    assert.throws(
      () => {
        for (const s of steps) k.receive(s);
      },
      (e: Error) => code(e) === 'ERR_PROXY' && re.test(e.message),
      re.source,
    );
  }
  const auth = new Socks5Client({ host: 'h', port: 1 }, { username: 'u', password: 'p' });
  auth.start();
  auth.receive(bytes(5, 2));
  assert.throws(() => auth.receive(bytes(1, 1)), /rejected/);
});

test('proxy URLs', () => {
  assert.deepEqual(parseSocks5Url('socks5://127.0.0.1:1080'), { host: '127.0.0.1', port: 1080 });
  assert.deepEqual(parseSocks5Url('socks5://a%40b:p%3Aw@[::1]:9050'), { host: '::1', port: 9050, credentials: { username: 'a@b', password: 'p:w' } });
  assert.deepEqual(parseSocks5Url('socks5://proxy'), { host: 'proxy', port: 1080 });
  assert.throws(() => parseSocks5Url('http://x:1'), (e) => code(e) === 'ERR_PROXY');
});
