/** BEP 5 KRPC codec: the BEP's example messages, BEP 32/42 fields, strict validation, and fuzzing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import {
  KrpcDecodeError,
  decodeKrpc,
  decodeNodes,
  decodePeer,
  encodeError,
  encodeNodes,
  encodePeer,
  encodeQuery,
  encodeResponse,
  formatIPv6,
  parseIPv6,
} from '../../../src/dht/index.js';
import type { KrpcQueryMessage, KrpcResponseMessage } from '../../../src/dht/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const A = enc('abcdefghij0123456789');
const M = enc('mnopqrstuvwxyz123456');
const T = enc('aa');

test('BEP 5 example queries encode byte for byte and decode back', () => {
  const cases: [Parameters<typeof encodeQuery>[1], string][] = [
    [{ q: 'ping', id: A }, 'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe'],
    [{ q: 'find_node', id: A, target: M }, 'd1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe'],
    [{ q: 'get_peers', id: A, infoHash: M }, 'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe'],
    [
      { q: 'announce_peer', id: A, infoHash: M, port: 6881, token: enc('aoeusnth'), impliedPort: true },
      'd1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe',
    ],
  ];
  for (const [q, wire] of cases) {
    assert.equal(dec(encodeQuery(T, q)), wire);
    const m = decodeKrpc(enc(wire)) as KrpcQueryMessage;
    assert.equal(m.y, 'q');
    assert.deepEqual(m.t, T);
    assert.deepEqual(m.query, q);
  }
});

test('BEP 5 example responses and error', () => {
  const pong = 'd1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re';
  assert.equal(dec(encodeResponse(T, { id: M })), pong);
  const r = decodeKrpc(enc(pong)) as KrpcResponseMessage;
  assert.deepEqual(r.r, { id: M });

  const err = 'd1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee';
  assert.equal(dec(encodeError(T, 201, 'A Generic Error Ocurred')), err);
  assert.deepEqual(decodeKrpc(enc(err)), { y: 'e', t: T, code: 201, message: 'A Generic Error Ocurred' });

  // get_peers response with values (BEP 5 example, compact peers) and a token.
  const peers = 'd1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re';
  const pr = decodeKrpc(enc(peers)) as KrpcResponseMessage;
  assert.deepEqual(pr.r.token, enc('aoeusnth'));
  assert.deepEqual(pr.r.values, [
    { host: '97.120.106.101', port: (0x2e << 8) | 0x75 },
    { host: '105.100.104.116', port: (0x6e << 8) | 0x6d },
  ]);
});

test('compact node info: 26-byte IPv4 and 38-byte IPv6 entries round-trip; wrong lengths fail', () => {
  const n4 = [{ id: A, host: '1.2.3.4', port: 6881 }, { id: M, host: '255.0.0.1', port: 1 }];
  const b4 = encodeNodes(n4, false);
  assert.equal(b4.length, 52);
  assert.deepEqual(decodeNodes(b4, false), n4);
  const n6 = [{ id: A, host: '2001:db8::1', port: 443 }];
  const b6 = encodeNodes(n6, true);
  assert.equal(b6.length, 38);
  assert.deepEqual(decodeNodes(b6, true), n6);
  assert.throws(() => decodeNodes(b4.subarray(0, 51), false), (e) => e instanceof BtError && e.code === 'ERR_DHT');
  assert.throws(() => decodeNodes(new Uint8Array(26), true), BtError);
  assert.throws(() => encodeNodes([{ id: A, host: '::1', port: 1 }], false), BtError);
  // compact peers: 6 and 18 bytes only
  assert.deepEqual(decodePeer(encodePeer({ host: '10.0.0.1', port: 80 })), { host: '10.0.0.1', port: 80 });
  assert.deepEqual(decodePeer(encodePeer({ host: 'fe80::1:2', port: 80 })), { host: 'fe80::1:2', port: 80 });
  for (const n of [0, 5, 7, 17, 19, 26]) assert.throws(() => decodePeer(new Uint8Array(n)), BtError);
});

test('IPv6 text forms are canonical (RFC 5952)', () => {
  for (const [inp, out] of [
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ] as const) {
    assert.equal(formatIPv6(parseIPv6(inp)!), out);
  }
  for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', 'fe80::1%eth0']) assert.equal(parseIPv6(bad), undefined, bad);
});

test('BEP 32 want, BEP 42 ip and BEP 43 ro; unknown fields ignored', () => {
  const q = bencode({ t: 'xy', y: 'q', q: 'find_node', ro: 1, zz: 'extra', a: { id: A, target: M, want: ['n4', 'n6', 'n9'], other: [1, 2] } });
  const m = decodeKrpc(q) as KrpcQueryMessage;
  assert.equal(m.ro, true);
  assert.deepEqual(m.query, { q: 'find_node', id: A, target: M, want: ['n4', 'n6'] });
  const r = encodeResponse(T, { id: M, nodes: [{ id: A, host: '1.2.3.4', port: 1 }], nodes6: [{ id: A, host: '::2', port: 2 }] }, { ip: { host: '5.6.7.8', port: 9 }, v: enc('TK01') });
  const rm = decodeKrpc(r) as KrpcResponseMessage;
  assert.deepEqual(rm.ip, { host: '5.6.7.8', port: 9 });
  assert.deepEqual(rm.v, enc('TK01'));
  assert.equal(rm.r.nodes![0]!.host, '1.2.3.4');
  assert.equal(rm.r.nodes6![0]!.host, '::2');
});

test('strict validation: wrong types, lengths and ranges are BtErrors; queries carry their t for 203/204', () => {
  const bad: [unknown, number | undefined][] = [
    [{ t: 'aa', y: 'q', q: 'ping', a: { id: 'short' } }, 203],
    [{ t: 'aa', y: 'q', q: 'ping', a: { id: 5 } }, 203],
    [{ t: 'aa', y: 'q', q: 'ping' }, 203],
    [{ t: 'aa', y: 'q', q: 'frobnicate', a: { id: A } }, 204],
    [{ t: 'aa', y: 'q', q: 'find_node', a: { id: A, target: enc('x'.repeat(21)) } }, 203],
    [{ t: 'aa', y: 'q', q: 'get_peers', a: { id: A } }, 203],
    [{ t: 'aa', y: 'q', q: 'announce_peer', a: { id: A, info_hash: M, port: 70000, token: 'tok' } }, 203],
    [{ t: 'aa', y: 'q', q: 'announce_peer', a: { id: A, info_hash: M, port: 0, token: 'tok' } }, 203],
    [{ t: 'aa', y: 'q', q: 'announce_peer', a: { id: A, info_hash: M, port: 1, token: '' } }, 203],
    [{ t: 'aa', y: 'q', q: 'announce_peer', a: { id: A, info_hash: M, port: 1, token: 'x'.repeat(65) } }, 203],
    [{ t: 'aa', y: 'q', q: 'find_node', a: { id: A, target: M, want: 'n4' } }, 203],
    [{ t: 'aa', y: 'q', q: 'ping', ro: 'yes', a: { id: A } }, 203],
    [{ t: 'aa', y: 'r', r: { id: A, nodes: enc('x'.repeat(27)) } }, undefined],
    [{ t: 'aa', y: 'r', r: { id: A, nodes6: enc('x'.repeat(26)) } }, undefined],
    [{ t: 'aa', y: 'r', r: { id: A, values: [enc('x'.repeat(7))] } }, undefined],
    [{ t: 'aa', y: 'r', r: { id: A, values: 'nope' } }, undefined],
    [{ t: 'aa', y: 'r', r: { id: A }, ip: enc('12345') }, undefined],
    [{ t: 'aa', y: 'r' }, undefined],
    [{ t: 'aa', y: 'e', e: ['x', 'y'] }, undefined],
    [{ t: '', y: 'q', q: 'ping', a: { id: A } }, undefined],
    [{ t: 'x'.repeat(17), y: 'q', q: 'ping', a: { id: A } }, undefined],
    [{ t: 'aa', y: 'z' }, undefined],
    [{ y: 'q', q: 'ping', a: { id: A } }, undefined],
    [[1, 2, 3], undefined],
  ];
  for (const [msg, code] of bad) {
    const bytes = bencode(msg as never);
    assert.throws(
      () => decodeKrpc(bytes),
      (e) => {
        assert.ok(e instanceof BtError, 'a BtError');
        assert.equal((e as BtError).code, 'ERR_DHT');
        if (code !== undefined) {
          assert.ok(e instanceof KrpcDecodeError, `answerable: ${dec(bytes)}`);
          assert.equal((e as KrpcDecodeError).krpcCode, code, dec(bytes));
          assert.deepEqual((e as KrpcDecodeError).transactionId, enc('aa'));
        } else assert.ok(!(e instanceof KrpcDecodeError), dec(bytes));
        return true;
      },
      dec(bytes),
    );
  }
  // size bounds: a 3 KB packet is refused before decoding
  assert.throws(() => decodeKrpc(bencode({ t: 'aa', y: 'r', r: { id: A, pad: 'x'.repeat(3000) } })), BtError);
  // nesting bound
  assert.throws(() => decodeKrpc(enc('d1:t2:aa1:y1:r1:rd2:id20:abcdefghij01234567891:x' + 'l'.repeat(20) + 'e'.repeat(20) + 'ee')), BtError);
});

test('implied_port: port may be 0 or absent', () => {
  const m = decodeKrpc(bencode({ t: 'aa', y: 'q', q: 'announce_peer', a: { id: A, info_hash: M, implied_port: 1, token: 'tok' } })) as KrpcQueryMessage;
  assert.deepEqual(m.query, { q: 'announce_peer', id: A, infoHash: M, port: 0, token: enc('tok'), impliedPort: true });
});

test('fuzz: arbitrary bytes and mutated valid packets only ever throw BtError', () => {
  const valid = [
    encodeQuery(T, { q: 'get_peers', id: A, infoHash: M, want: ['n4', 'n6'] }),
    encodeQuery(T, { q: 'announce_peer', id: A, infoHash: M, port: 1, token: enc('tok'), impliedPort: false }),
    encodeResponse(T, { id: M, nodes: [{ id: A, host: '1.2.3.4', port: 1 }], values: [{ host: '::1', port: 5 }], token: enc('t') }, { ip: { host: '1.1.1.1', port: 1 } }),
    encodeError(T, 203, 'x'),
  ];
  const check = (b: Uint8Array): void => {
    try {
      decodeKrpc(b);
    } catch (e) {
      if (!(e instanceof BtError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => check(Uint8Array.of(0x64, ...b))), { numRuns: 3000 });
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (base, muts, cut) => {
      const b = base.slice();
      for (const [i, v] of muts) b[i % b.length] = v;
      check(b);
      check(b.subarray(0, cut % (b.length + 1)));
    }),
    { numRuns: 5000 },
  );
  // Structurally random bencoded values in the right places.
  const bval: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.uint8Array({ maxLength: 40 }), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('id', 'target', 'info_hash', 'port', 'token', 'nodes', 'values', 'want', 'x'), tie('v'), { maxKeys: 5 })),
  })).v;
  fc.assert(
    fc.property(fc.constantFrom('q', 'r', 'e', 'x'), fc.constantFrom('ping', 'find_node', 'get_peers', 'announce_peer', 'x'), bval, (y, q, body) => {
      check(bencode({ t: 'aa', y, q, a: body as never, r: body as never, e: body as never }));
    }),
    { numRuns: 3000 },
  );
});
