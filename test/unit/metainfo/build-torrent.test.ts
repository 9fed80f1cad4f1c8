/** BEP 3 torrent building: output shape, round trip through parseTorrent, validation, autoPieceLength. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bdecode } from '../../../src/bencode/index.js';
import type { BDict } from '../../../src/bencode/index.js';
import { autoPieceLength, buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { BtError } from '../../../src/core/errors.js';

const hashes = (n: number): Uint8Array => new Uint8Array(n * 20).fill(1);
const keys = (d: unknown): string[] => Object.keys(d as BDict);

test('single-file build: mktorrent-shaped info dict, parse round trip', () => {
  const t = buildTorrent({ name: 'a.bin', files: null, length: 100, pieceLength: 32, pieceHashes: hashes(4), creationDate: 1700000000, createdBy: 'tk', comment: 'c' });
  const top = bdecode(t) as BDict;
  assert.deepEqual(keys(top), ['comment', 'created by', 'creation date', 'info']);
  assert.deepEqual(keys(top['info']), ['length', 'name', 'piece length', 'pieces']);
  const m = parseTorrent(t);
  assert.equal(m.info.totalLength, 100);
  assert.equal(m.creationDate, 1700000000);
  assert.deepEqual(m.announceList, []);
});

test('multi-file build with trackers, private, web seeds', () => {
  const t = buildTorrent({
    name: 'root',
    files: [{ path: ['x', 'y'], length: 10 }, { path: ['z'], length: 0 }, { path: ['w'], length: 30 }],
    pieceLength: 16,
    pieceHashes: hashes(3),
    trackers: [['http://a/', 'http://b/'], [], ['udp://c:1']],
    private: true,
    urlList: ['http://ws/'],
  });
  const top = bdecode(t) as BDict;
  assert.deepEqual(keys(top['info']), ['files', 'name', 'piece length', 'pieces', 'private']);
  const m = parseTorrent(t);
  assert.equal(m.announce, 'http://a/');
  assert.deepEqual(m.announceList, [['http://a/', 'http://b/'], ['udp://c:1']]);
  assert.equal(m.info.private, true);
  assert.deepEqual(m.urlList, ['http://ws/']);
  assert.deepEqual(m.info.files.map((f) => [f.path.join('/'), f.offset]), [['root/x/y', 0], ['root/z', 10], ['root/w', 10]]);
  // a single tracker writes announce only (as mktorrent does)
  const one = bdecode(buildTorrent({ name: 'n', files: null, length: 1, pieceLength: 16, pieceHashes: hashes(1), trackers: [['http://a/']] })) as BDict;
  assert.deepEqual(keys(one), ['announce', 'info']);
});

test('build validation', () => {
  const base = { name: 'n', files: null, length: 100, pieceLength: 32, pieceHashes: hashes(4) };
  const cases: [Partial<Parameters<typeof buildTorrent>[0]>, string, string][] = [
    [{ name: '..' }, 'ERR_UNSAFE_PATH', 'name'],
    [{ pieceLength: 0 }, 'ERR_METAINFO', 'pieceLength'],
    [{ pieceLength: 1.5 }, 'ERR_METAINFO', 'pieceLength'],
    [{ length: -1 }, 'ERR_METAINFO', 'length'],
    [{ length: 0, pieceHashes: hashes(0) }, 'ERR_METAINFO', 'length'],
    [{ pieceHashes: hashes(3) }, 'ERR_METAINFO', 'pieceHashes'],
    [{ files: [] }, 'ERR_METAINFO', 'files'],
    [{ files: [{ path: [], length: 100 }] }, 'ERR_METAINFO', 'files[0].path'],
    [{ files: [{ path: ['a', '/'], length: 100 }] }, 'ERR_UNSAFE_PATH', 'files[0].path'],
    [{ files: [{ path: ['a'], length: -2 }] }, 'ERR_METAINFO', 'files[0].length'],
  ];
  for (const [o, code, field] of cases) {
    assert.throws(
      () => buildTorrent({ ...base, ...o }),
      (e: unknown) => e instanceof BtError && e.code === code && e.field === field,
      JSON.stringify(o),
    );
  }
});

test('autoPieceLength: power of two, ~1000-2000 pieces, clamped 16 KiB..16 MiB', () => {
  assert.equal(autoPieceLength(0), 16384);
  assert.equal(autoPieceLength(1), 16384);
  assert.equal(autoPieceLength(1e15), 16 * 1024 * 1024);
  for (const size of [5e7, 7e8, 4.3e9, 2 ** 30, 2 ** 34 + 1]) {
    const p = autoPieceLength(size);
    assert.equal(p & (p - 1), 0);
    const n = Math.ceil(size / p);
    assert.ok(n > 1000 && n <= 2000, `${size}: ${n} pieces of ${p}`);
  }
});
