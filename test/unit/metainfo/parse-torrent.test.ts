/** BEP 3 / 12 / 5 / 19 / 27 .torrent parsing: vectors and every rejection case. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bencode, bdecode } from '../../../src/bencode/index.js';
import type { BDict, BEncodable } from '../../../src/bencode/index.js';
import { parseTorrent, pieceSize, pieceHash } from '../../../src/metainfo/index.js';
import { BtError } from '../../../src/core/errors.js';
import type { BtErrorCode } from '../../../src/core/errors.js';
import { toHex } from '../../../src/util/bytes.js';

type Obj = { [k: string]: BEncodable | undefined };
const te = new TextEncoder();
const hashes = (n: number): Uint8Array => new Uint8Array(n * 20).fill(0xab);

function single(info: Obj = {}, top: Obj = {}): Uint8Array {
  return bencode({ announce: 'http://tracker/announce', ...top, info: { length: 100, name: 'file.bin', 'piece length': 32, pieces: hashes(4), ...info } });
}
function multi(files: BEncodable[], info: Obj = {}, top: Obj = {}, pieceCount?: number): Uint8Array {
  const total = (files as { length?: number }[]).reduce((n, f) => n + (typeof f.length === 'number' ? f.length : 0), 0);
  return bencode({ ...top, info: { files, name: 'root', 'piece length': 16, pieces: hashes(pieceCount ?? Math.ceil(total / 16)), ...info } });
}

function rejects(bytes: Uint8Array, code: BtErrorCode, field: string | undefined, re?: RegExp): void {
  assert.throws(
    () => parseTorrent(bytes),
    (e: unknown) => {
      assert.ok(e instanceof BtError, `expected BtError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      if (field !== undefined) assert.equal(e.field, field, e.message);
      if (re) assert.match(e.message, re);
      return true;
    },
  );
}

test('single-file torrent', () => {
  const bytes = single({ private: 1 }, { comment: 'hello', 'created by': 'tk', 'creation date': 1700000000 });
  const m = parseTorrent(bytes);
  const infoBytes = bencode((bdecode(bytes) as BDict)['info']!);
  assert.deepEqual(m.infoBytes, infoBytes);
  assert.equal(m.infoHashHex, createHash('sha1').update(infoBytes).digest('hex'));
  assert.equal(toHex(m.infoHash), m.infoHashHex);
  assert.equal(m.info.name, 'file.bin');
  assert.equal(m.info.singleFile, true);
  assert.equal(m.info.private, true);
  assert.equal(m.info.totalLength, 100);
  assert.equal(m.info.pieceCount, 4);
  assert.deepEqual(m.info.files, [{ path: ['file.bin'], length: 100, offset: 0 }]);
  assert.equal(m.announce, 'http://tracker/announce');
  assert.deepEqual(m.announceList, [['http://tracker/announce']]);
  assert.equal(m.comment, 'hello');
  assert.equal(m.createdBy, 'tk');
  assert.equal(m.creationDate, 1700000000);
  assert.equal(pieceSize(m.info, 0), 32);
  assert.equal(pieceSize(m.info, 3), 4);
  assert.equal(pieceHash(m.info, 3).length, 20);
});

test('multi-file torrent: paths prefixed with name, offsets computed', () => {
  const m = parseTorrent(multi([{ length: 10, path: ['a', 'b.txt'] }, { length: 0, path: ['empty'] }, { length: 30, path: ['c'] }]));
  assert.equal(m.info.singleFile, false);
  assert.deepEqual(m.info.files, [
    { path: ['root', 'a', 'b.txt'], length: 10, offset: 0 },
    { path: ['root', 'empty'], length: 0, offset: 10 },
    { path: ['root', 'c'], length: 30, offset: 10 },
  ]);
  assert.equal(m.info.totalLength, 40);
  assert.equal(m.info.pieceCount, 3);
  assert.equal(m.info.private, false);
  assert.deepEqual(m.announceList, []);
  assert.equal(m.announce, undefined);
});

test('info-hash is over the original bytes even with unsorted keys', () => {
  const info = 'd4:name1:x6:lengthi5e12:piece lengthi16e6:pieces20:' + 'a'.repeat(20) + 'e';
  const bytes = te.encode(`d4:info${info}e`);
  const m = parseTorrent(bytes);
  assert.equal(m.infoHashHex, createHash('sha1').update(info).digest('hex'));
});

test('name.utf-8 and path.utf-8 are preferred when valid', () => {
  const m = parseTorrent(multi([{ length: 16, path: ['raw'], 'path.utf-8': ['nice'] }], { name: 'r', 'name.utf-8': 'Réseau' }));
  assert.equal(m.info.name, 'Réseau');
  assert.deepEqual(m.info.files[0]!.path, ['Réseau', 'nice']);
  // invalid UTF-8 in name.utf-8: fall back to name
  const bad = multi([{ length: 16, path: ['p'], 'path.utf-8': [new Uint8Array([0xff])] }], { name: 'r', 'name.utf-8': new Uint8Array([0xc3]) });
  const m2 = parseTorrent(bad);
  assert.equal(m2.info.name, 'r');
  assert.deepEqual(m2.info.files[0]!.path, ['r', 'p']);
});

test('BEP 12 announce-list: tiers kept, garbage and empty tiers skipped', () => {
  const m = parseTorrent(
    single({}, { 'announce-list': [['udp://a', 'udp://b'], [], [5, ''], 'http://c', [['x']], ['udp://a', 'http://d']] }),
  );
  assert.deepEqual(m.announceList, [['udp://a', 'udp://b'], ['http://c'], ['http://d']]);
  assert.equal(m.announce, 'http://tracker/announce');
  const m2 = parseTorrent(single({}, { 'announce-list': [[], [3]] }));
  assert.deepEqual(m2.announceList, [['http://tracker/announce']]);
  const m3 = parseTorrent(single({}, { 'announce-list': 7, announce: 5 }));
  assert.deepEqual(m3.announceList, []);
  assert.equal(m3.announce, undefined);
});

test('BEP 5 nodes, BEP 19 url-list, garbage-tolerant optional fields', () => {
  const m = parseTorrent(
    single({}, { nodes: [['router.example', 6881], ['1.2.3.4', 70000], 'junk', [5, 5], ['::1', 6882]], 'url-list': 'http://ws/' }),
  );
  assert.deepEqual(m.nodes, [{ host: 'router.example', port: 6881 }, { host: '::1', port: 6882 }]);
  assert.deepEqual(m.urlList, ['http://ws/']);
  const m2 = parseTorrent(single({}, { 'url-list': ['http://a/', 3, '', 'http://b/'], 'creation date': 'yesterday', comment: 4 }));
  assert.deepEqual(m2.urlList, ['http://a/', 'http://b/']);
  assert.equal(m2.creationDate, undefined);
  assert.equal(m2.comment, undefined);
});

test('meta version 2 is parsed as BEP 52 (parse-v2.test.ts has the details); other versions are refused', () => {
  const v2 = bencode({ info: { name: 'x', 'piece length': 16384, 'meta version': 2, 'file tree': { x: { '': { length: 5, 'pieces root': new Uint8Array(32).fill(1) } } } } });
  assert.equal(parseTorrent(v2).version, 2);
  rejects(single({ 'meta version': 3 }), 'ERR_METAINFO', 'info.meta version', /unsupported version 3/);
  assert.equal(parseTorrent(single({ 'meta version': 1 })).version, 1);
});

test('rejects: structure', () => {
  rejects(te.encode('d4:infoi1ee'), 'ERR_METAINFO', 'info');
  rejects(bencode({ announce: 'x' }), 'ERR_METAINFO', 'info', /missing/);
  rejects(te.encode('le'), 'ERR_BENCODE', undefined);
  rejects(te.encode('d4:infod'), 'ERR_BENCODE', undefined);
  rejects(single({ files: [{ length: 1, path: ['a'] }] }), 'ERR_METAINFO', 'info', /both/);
  rejects(bencode({ info: { name: 'x', 'piece length': 16, pieces: hashes(1) } }), 'ERR_METAINFO', 'info', /neither/);
});

test('rejects: pieces and piece length', () => {
  rejects(single({ pieces: new Uint8Array(79) }), 'ERR_METAINFO', 'info.pieces', /multiple of 20/);
  rejects(single({ pieces: hashes(3) }), 'ERR_METAINFO', 'info.pieces', /expected 4/);
  rejects(single({ pieces: hashes(5) }), 'ERR_METAINFO', 'info.pieces', /expected 4/);
  rejects(single({ pieces: undefined }), 'ERR_METAINFO', 'info.pieces', /missing/);
  rejects(single({ pieces: 5 }), 'ERR_METAINFO', 'info.pieces');
  rejects(single({ 'piece length': 0 }), 'ERR_METAINFO', 'info.piece length');
  rejects(single({ 'piece length': -16 }), 'ERR_METAINFO', 'info.piece length');
  rejects(single({ 'piece length': 128 * 1024 * 1024 + 1 }), 'ERR_METAINFO', 'info.piece length');
  rejects(single({ 'piece length': undefined }), 'ERR_METAINFO', 'info.piece length');
  rejects(single({ 'piece length': '16' }), 'ERR_METAINFO', 'info.piece length');
  // 128 MiB itself is fine; non-power-of-two is fine
  assert.equal(parseTorrent(single({ 'piece length': 128 * 1024 * 1024, pieces: hashes(1) })).info.pieceCount, 1);
  assert.equal(parseTorrent(single({ 'piece length': 30, pieces: hashes(4) })).info.pieceLength, 30);
});

test('rejects: lengths', () => {
  rejects(single({ length: -1 }), 'ERR_METAINFO', 'info.length');
  rejects(single({ length: 0, pieces: hashes(0) }), 'ERR_METAINFO', 'info.length', /empty/);
  rejects(single({ length: 'x' }), 'ERR_METAINFO', 'info.length');
  rejects(multi([{ length: 1, path: ['a'] }, { length: -5, path: ['b'] }], {}, {}, 1), 'ERR_METAINFO', 'info.files[1].length');
  rejects(multi([{ path: ['a'] }], {}, {}, 1), 'ERR_METAINFO', 'info.files[0].length', /missing/);
  rejects(multi([{ length: 0, path: ['a'] }], {}, {}, 0), 'ERR_METAINFO', 'info.files', /empty/);
  rejects(multi([]), 'ERR_METAINFO', 'info.files', /empty/);
  rejects(multi([5]), 'ERR_METAINFO', 'info.files[0]');
  rejects(single({ files: undefined, length: undefined }, {}), 'ERR_METAINFO', 'info');
  rejects(
    multi([{ length: Number.MAX_SAFE_INTEGER, path: ['a'] }, { length: 1, path: ['b'] }], { 'piece length': 1 << 20 }, {}, 1),
    'ERR_METAINFO',
    'info.files[1].length',
    /out of range/,
  );
});

test('rejects: paths', () => {
  rejects(multi([{ length: 16, path: [] }]), 'ERR_METAINFO', 'info.files[0].path', /empty path/);
  rejects(multi([{ length: 16 }]), 'ERR_METAINFO', 'info.files[0].path', /missing/);
  rejects(multi([{ length: 16, path: 'a/b' }]), 'ERR_METAINFO', 'info.files[0].path');
  rejects(multi([{ length: 16, path: ['a', 5] }]), 'ERR_METAINFO', 'info.files[0].path[1]');
  rejects(multi([{ length: 8, path: ['a'] }, { length: 8, path: ['a'] }]), 'ERR_METAINFO', 'info.files[1].path', /duplicate/);
  rejects(multi([{ length: 8, path: ['a'] }, { length: 8, path: ['a', 'b'] }]), 'ERR_METAINFO', 'info.files[1].path', /inside file/);
  rejects(multi([{ length: 8, path: ['a', 'b'] }, { length: 8, path: ['a'] }]), 'ERR_METAINFO', 'info.files[1].path', /duplicate/);
  const unsafe = ['', '.', '..', 'a/b', '/etc', 'a\\b', '\\x', 'nul\0byte', 'C:', 'c:evil', 'Z:\\x', 'a:b'];
  for (const c of unsafe) {
    rejects(multi([{ length: 16, path: ['ok', c] }]), 'ERR_UNSAFE_PATH', 'info.files[0].path');
    rejects(multi([{ length: 16, path: ['ok'], 'path.utf-8': ['ok', c] }]), 'ERR_UNSAFE_PATH', 'info.files[0].path.utf-8');
    rejects(single({ name: c }), 'ERR_UNSAFE_PATH', 'info.name');
    rejects(single({ 'name.utf-8': c }), 'ERR_UNSAFE_PATH', 'info.name.utf-8');
  }
  rejects(single({ name: undefined }), 'ERR_METAINFO', 'info.name', /missing/);
  rejects(single({ name: 3 }), 'ERR_METAINFO', 'info.name');
  // these are fine
  for (const c of ['...', '.hidden', 'ab:c', 'x..y', 'C', 'Movie: Sequel', '..a']) {
    assert.deepEqual(parseTorrent(multi([{ length: 16, path: [c] }])).info.files[0]!.path, ['root', c]);
  }
});

test('BEP 47 padding files are kept in the layout and marked as padding', () => {
  const m = parseTorrent(
    multi([{ length: 10, path: ['a'] }, { length: 6, path: ['.pad', '6'], attr: 'p' }, { length: 16, path: ['b'] }]),
  );
  assert.deepEqual(m.info.files.map((f) => f.path.join('/')), ['root/a', 'root/.pad/6', 'root/b']);
  assert.equal(m.info.files[2]!.offset, 16);
  assert.deepEqual(m.info.files.map((f) => f.pad === true), [false, true, false]);
  // libtorrent (hybrid torrents) names pad files `.pad/<size>`: the same path may repeat
  const m2 = parseTorrent(
    multi([
      { length: 10, path: ['a'] },
      { length: 6, path: ['.pad', '6'], attr: 'p' },
      { length: 10, path: ['b'] },
      { length: 6, path: ['.pad', '6'], attr: 'p' },
      { length: 16, path: ['c'] },
    ]),
  );
  assert.equal(m2.info.files.length, 5);
  assert.equal(m2.info.totalLength, 48);
  // ...but a non-pad duplicate is still refused, and pad paths are still safety-checked
  rejects(multi([{ length: 8, path: ['x'], attr: 'x' }, { length: 8, path: ['x'] }]), 'ERR_METAINFO', 'info.files[1].path', /duplicate/);
  rejects(multi([{ length: 16, path: ['..', 'x'], attr: 'p' }]), 'ERR_UNSAFE_PATH', 'info.files[0].path');
});
