/** BEP 3 bencoding: vectors, strictness, limits, accessors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bdecode,
  bdecodePrefix,
  bdecodeTorrent,
  bencode,
  getBytes,
  getDict,
  getInt,
  getList,
  getStr,
  isDict,
  bytesToLatin1,
} from '../../../src/bencode/index.js';
import type { BDict, BValue } from '../../../src/bencode/index.js';
import { BtError } from '../../../src/core/errors.js';

const te = new TextEncoder();
const b = (s: string): Uint8Array => te.encode(s);
const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const str = (v: BValue): string => new TextDecoder().decode(v as Uint8Array);

function rejects(input: string | Uint8Array, re?: RegExp, opts?: { maxDepth?: number; maxLength?: number }): void {
  const buf = typeof input === 'string' ? latin1(input) : input;
  assert.throws(
    () => bdecode(buf, opts),
    (e: unknown) => {
      assert.ok(e instanceof BtError, `expected BtError, got ${String(e)}`);
      assert.equal(e.code, 'ERR_BENCODE');
      assert.match(e.message, /at offset \d+/);
      if (re) assert.match(e.message, re);
      return true;
    },
  );
}

test('BEP 3 vectors decode', () => {
  assert.equal(str(bdecode(b('4:spam'))), 'spam');
  assert.equal(bdecode(b('i3e')), 3);
  assert.equal(bdecode(b('i-3e')), -3);
  assert.equal(bdecode(b('i0e')), 0);
  assert.deepEqual((bdecode(b('l4:spam4:eggse')) as BValue[]).map(str), ['spam', 'eggs']);
  const d = bdecode(b('d3:cow3:moo4:spam4:eggse')) as BDict;
  assert.equal(str(d['cow']!), 'moo');
  assert.equal(str(d['spam']!), 'eggs');
  const d2 = bdecode(b('d4:spaml1:a1:bee')) as BDict;
  assert.deepEqual((d2['spam'] as BValue[]).map(str), ['a', 'b']);
  assert.equal((bdecode(b('0:')) as Uint8Array).length, 0);
  assert.deepEqual(bdecode(b('le')), []);
  assert.equal(Object.keys(bdecode(b('de')) as BDict).length, 0);
});

test('BEP 3 vectors encode', () => {
  const s = (v: Parameters<typeof bencode>[0]): string => new TextDecoder().decode(bencode(v));
  assert.equal(s('spam'), '4:spam');
  assert.equal(s(3), 'i3e');
  assert.equal(s(-3), 'i-3e');
  assert.equal(s(0), 'i0e');
  assert.equal(s(['spam', 'eggs']), 'l4:spam4:eggse');
  assert.equal(s({ spam: 'eggs', cow: 'moo' }), 'd3:cow3:moo4:spam4:eggse');
  assert.equal(s({ spam: ['a', 'b'] }), 'd4:spaml1:a1:bee');
  assert.equal(s({ a: undefined, b: 1 }), 'd1:bi1ee');
  assert.equal(s('é'), '2:é');
  assert.equal(s(Number.MAX_SAFE_INTEGER), `i${Number.MAX_SAFE_INTEGER}e`);
  assert.equal(s(-Number.MAX_SAFE_INTEGER), `i-${Number.MAX_SAFE_INTEGER}e`);
});

test('encoder sorts keys by raw bytes', () => {
  // latin1 key '\xff' sorts after 'z'; 'B' (0x42) before 'a' (0x61)
  const out = bencode({ z: 1, '\u00ff': 2, a: 3, B: 4, aa: 5 });
  assert.deepEqual(out, latin1('d1:Bi4e1:ai3e2:aai5e1:zi1e1:\xffi2ee'));
});

test('encoder rejects what bencoding cannot express', () => {
  for (const v of [true, null, undefined, 1.5, NaN, Infinity, 2 ** 53, Symbol('x'), 10n, [undefined], new Uint16Array(2)]) {
    assert.throws(() => bencode(v as never), (e: unknown) => e instanceof BtError && e.code === 'ERR_BENCODE', String(v));
  }
  const cyc: Record<string, unknown> = {};
  cyc['self'] = cyc;
  assert.throws(() => bencode(cyc as never), /cyclic/);
  // a non-latin1 key colliding with a latin1 key of the same bytes
  assert.throws(() => bencode({ '\u0100': 1, '\u00c4\u0080': 2 }), /same bytes/);
});

test('decoder rejects malformed input', () => {
  rejects('i03e', /leading zero/);
  rejects('i00e', /leading zero/);
  rejects('i-03e', /leading zero/);
  rejects('i-0e', /negative zero/);
  rejects('ie', /empty integer/);
  rejects('i-e', /empty integer/);
  rejects('i--1e');
  rejects('i1.5e');
  rejects('i 1e');
  rejects('i12', /end of input/);
  rejects('i', /end of input/);
  rejects('03:abc', /leading zero/);
  rejects('00:', /leading zero/);
  rejects('-1:a');
  rejects('4:abc', /exceeds remaining/);
  rejects('4', /end of input/);
  rejects('4x', /invalid character/);
  rejects('', /empty input/);
  rejects('l', /end of input/);
  rejects('li1e', /end of input/);
  rejects('d', /end of input/);
  rejects('d1:a', /end of input/);
  rejects('d1:ae', /missing value/);
  rejects('di1ei2ee', /key must be a byte string/);
  rejects('dli1eei2ee', /key must be a byte string/);
  rejects('d1:ai1e1:ai2ee', /duplicate/);
  rejects('i1ei2e', /trailing/);
  rejects('4:spamx', /trailing/);
  rejects('e', /unexpected byte/);
  rejects('x', /unexpected byte/);
  rejects('i9007199254740992e', /safe range/);
  rejects('i-9007199254740992e', /safe range/);
  rejects('i99999999999999999999999e', /safe range/);
  rejects('99999999999999999999:a', /out of range/);
});

test('integer range boundaries', () => {
  assert.equal(bdecode(b(`i${Number.MAX_SAFE_INTEGER}e`)), Number.MAX_SAFE_INTEGER);
  assert.equal(bdecode(b(`i-${Number.MAX_SAFE_INTEGER}e`)), -Number.MAX_SAFE_INTEGER);
});

test('oversize string length is rejected before allocating', () => {
  rejects('9007199254740991:abc', /exceeds remaining/);
  rejects('d1:a999999999:xe', /exceeds remaining/);
});

test('depth limit: deep nesting throws BtError, no stack overflow', () => {
  const deep = 'l'.repeat(100_000) + 'e'.repeat(100_000);
  rejects(deep, /maxDepth 64/);
  rejects('l'.repeat(1_000_000), /maxDepth/);
  // an iterative decoder handles a huge explicit depth without recursion
  const v = bdecode(latin1(deep), { maxDepth: 200_000 });
  assert.ok(Array.isArray(v));
  assert.deepEqual(bdecode(latin1('l'.repeat(64) + 'e'.repeat(64))), bdecode(latin1('l'.repeat(64) + 'e'.repeat(64))));
  rejects('l'.repeat(65) + 'e'.repeat(65), /maxDepth/);
  rejects('lle' + 'e', /maxDepth 1/, { maxDepth: 1 });
  assert.equal(bdecode(b('i1e'), { maxDepth: 0 }), 1);
});

test('maxLength limit', () => {
  rejects('4:spam', /maxLength/, { maxLength: 5 });
  assert.equal(str(bdecode(b('4:spam'), { maxLength: 6 })), 'spam');
});

test('byte strings are subarrays of the input, keys any bytes', () => {
  const input = latin1('d3:\x00\xff\x80l3:abcee');
  const d = bdecode(input) as BDict;
  const key = Object.keys(d)[0]!;
  assert.equal(key, '\x00\xff\x80');
  const s = (d[key] as BValue[])[0] as Uint8Array;
  assert.equal(s.buffer, input.buffer);
  assert.deepEqual(bencode(d), input);
  assert.equal(Object.getPrototypeOf(d), null);
});

test('__proto__ and constructor keys are plain data', () => {
  const input = b('d9:__proto__i1e11:constructori2ee');
  const d = bdecode(input) as BDict;
  assert.equal(d['__proto__'], 1);
  assert.equal(d['constructor'], 2);
  assert.equal(Object.getPrototypeOf(d), null);
  assert.deepEqual(bencode(d), input);
});

test('unsorted keys are accepted and preserved in infoBytes', () => {
  const input = b('d4:infod6:lengthi5e4:name1:xe8:announce3:urle');
  const { value, infoBytes } = bdecodeTorrent(input);
  assert.equal(str(value['announce']!), 'url');
  assert.equal(new TextDecoder().decode(infoBytes), 'd6:lengthi5e4:name1:xe');
  // unsorted inside info: the span is the original bytes, not a re-encoding
  const input2 = b('d4:infod4:name1:x6:lengthi5eee');
  const r2 = bdecodeTorrent(input2);
  assert.equal(new TextDecoder().decode(r2.infoBytes), 'd4:name1:x6:lengthi5ee');
  assert.notDeepEqual(bencode(r2.value['info']!), r2.infoBytes);
  assert.equal(r2.infoBytes!.buffer, input2.buffer);
});

test('bdecodeTorrent: nested info keys are not captured; missing info gives undefined', () => {
  const { infoBytes } = bdecodeTorrent(b('d1:ad4:infoi1eee'));
  assert.equal(infoBytes, undefined);
  assert.throws(() => bdecodeTorrent(b('li1ee')), (e: unknown) => e instanceof BtError && e.code === 'ERR_BENCODE');
  assert.throws(() => bdecodeTorrent(b('d4:infodeee')), /trailing/);
});

test('bdecodePrefix returns bytes consumed', () => {
  const msg = b('d8:msg_typei1e5:piecei0eexxxxPAYLOAD');
  const { value, used } = bdecodePrefix(msg);
  assert.equal(used, 'd8:msg_typei1e5:piecei0ee'.length);
  assert.equal((value as BDict)['msg_type'], 1);
  assert.throws(() => bdecodePrefix(b('d1:a')), /end of input/);
  assert.throws(() => bdecodePrefix(b('d1:ai1eexxxx'), { maxLength: 5 }), /maxLength/);
  assert.equal(bdecodePrefix(b('d1:ai1eexxxx'), { maxLength: 8 }).used, 8);
  assert.throws(() => bdecodePrefix(new Uint8Array(0)), /empty/);
});

test('accessors', () => {
  const d = bdecode(latin1('d1:ai1e1:b3:abc1:cde1:dle1:e2:\xc3\xa9e')) as BDict;
  assert.equal(getStr(d, 'e'), 'é');
  assert.equal(getInt(d, 'a'), 1);
  assert.equal(getInt(d, 'zz'), undefined);
  assert.equal(new TextDecoder().decode(getBytes(d, 'b')), 'abc');
  assert.equal(getStr(d, 'b'), 'abc');
  assert.ok(isDict(getDict(d, 'c')));
  assert.deepEqual(getList(d, 'd'), []);
  assert.throws(
    () => getInt(d, 'b', 'info.length', 'ERR_METAINFO'),
    (e: unknown) => e instanceof BtError && e.code === 'ERR_METAINFO' && e.field === 'info.length',
  );
  assert.throws(() => getBytes(d, 'a'), (e: unknown) => e instanceof BtError && e.code === 'ERR_BENCODE' && e.field === 'a');
  assert.throws(() => getDict(d, 'd'), (e: unknown) => e instanceof BtError && e.field === 'd');
  assert.throws(() => getList(d, 'c'), (e: unknown) => e instanceof BtError && e.field === 'c');
  assert.equal(bytesToLatin1(new Uint8Array([0x41, 0xff])), 'A\u00ff');
});

test('decoding a 100k-piece torrent is fast', () => {
  const pieces = new Uint8Array(100_000 * 20).fill(7);
  const files = Array.from({ length: 10_000 }, (_, i) => ({ length: 1000 + i, path: ['dir', `file-${i}.bin`] }));
  const torrent = bencode({ announce: 'http://t/a', info: { files, name: 'big', 'piece length': 262144, pieces } });
  const t0 = performance.now();
  const { value, infoBytes } = bdecodeTorrent(torrent);
  const ms = performance.now() - t0;
  assert.equal(((value['info'] as BDict)['pieces'] as Uint8Array).length, 2_000_000);
  assert.ok(infoBytes);
  assert.deepEqual(bencode(value), torrent);
  assert.ok(ms < 500, `decode took ${ms} ms`);
});
