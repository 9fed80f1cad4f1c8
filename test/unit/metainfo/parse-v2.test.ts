/** BEP 52 v2-only and hybrid .torrent parsing: file tree, piece layers, v2 layout, hybrid consistency, refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bencode, bdecode } from '../../../src/bencode/index.js';
import type { BDict, BEncodable } from '../../../src/bencode/index.js';
import { buildTorrentV2, fileMerkle, hybridV1Files, metainfoFromInfoBytes, parseTorrent, sortV2Files } from '../../../src/metainfo/index.js';
import type { BuildV2File } from '../../../src/metainfo/index.js';
import { BtError } from '../../../src/core/errors.js';
import type { BtErrorCode } from '../../../src/core/errors.js';
import { toHex } from '../../../src/util/bytes.js';

const data = (n: number, seed = 1): Uint8Array => {
  const b = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
};

function v2Files(specs: { path: string[]; length: number }[], pl: number): { files: BuildV2File[]; contents: Uint8Array[] } {
  const sorted = sortV2Files(specs);
  const contents = sorted.map((f, i) => data(f.length, i + 7));
  const files = sorted.map((f, i) => {
    if (f.length === 0) return { path: f.path, length: 0 };
    const m = fileMerkle(contents[i]!, pl);
    return { path: f.path, length: f.length, piecesRoot: m.root, pieceLayer: m.pieceLayer };
  });
  return { files, contents };
}

function sha1Pieces(files: { length: number; pad?: boolean }[], contents: Uint8Array[], pl: number): Uint8Array {
  const all: number[] = [];
  let c = 0;
  for (const f of files) {
    if (f.pad === true) for (let i = 0; i < f.length; i++) all.push(0);
    else all.push(...contents[c++]!);
  }
  const bytes = Uint8Array.from(all);
  const out = new Uint8Array(Math.ceil(bytes.length / pl) * 20);
  for (let p = 0; p * pl < bytes.length; p++) out.set(createHash('sha1').update(bytes.subarray(p * pl, (p + 1) * pl)).digest(), p * 20);
  return out;
}

const PL = 32768;
const SPECS = [
  { path: ['b', 'two'], length: 40000 },
  { path: ['a.txt'], length: 100 },
  { path: ['b', 'empty'], length: 0 },
  { path: ['c'], length: 3 * PL + 5 },
];

function build(version: 2 | 'hybrid', specs = SPECS, pl = PL): { bytes: Uint8Array; files: BuildV2File[]; contents: Uint8Array[] } {
  const { files, contents } = v2Files(specs, pl);
  const singleFile = specs.length === 1 && specs[0]!.path.length === 1;
  const pieceHashes = version === 'hybrid' ? sha1Pieces(hybridV1Files(files, pl, singleFile), contents, pl) : undefined;
  const bytes = buildTorrentV2({ name: 'root', version, files, singleFile, pieceLength: pl, pieceHashes, trackers: [['http://t/a']] });
  return { bytes, files, contents };
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

/** Decode, change, re-encode a torrent. */
function edit(bytes: Uint8Array, f: (top: BDict, info: BDict) => void): Uint8Array {
  const top = bdecode(bytes) as BDict;
  f(top, top['info'] as BDict);
  return bencode(top as unknown as BEncodable);
}

test('v2-only: files in tree order aligned to pieces, pad entries between, v2 info-hash, verified piece layers', () => {
  const { bytes, files } = build(2);
  const m = parseTorrent(bytes);
  assert.equal(m.version, 2);
  assert.equal(m.info.version, 2);
  const infoBytes = bencode((bdecode(bytes) as BDict)['info']!);
  const v2 = createHash('sha256').update(infoBytes).digest('hex');
  assert.equal(m.infoHashV2Hex, v2);
  assert.equal(m.infoHashHex, v2.slice(0, 40), 'the 20-byte swarm id is the truncated v2 hash');
  assert.equal(m.info.pieces.length, 0);
  assert.deepEqual(
    m.info.files.map((f) => [f.path.join('/'), f.length, f.offset, f.pad === true]),
    [
      ['root/a.txt', 100, 0, false],
      ['root/.pad/32668', 32668, 100, true],
      ['root/b/empty', 0, PL, false],
      ['root/b/two', 40000, PL, false],
      ['root/.pad/25536', 25536, PL + 40000, true],
      ['root/c', 3 * PL + 5, 3 * PL, false],
    ],
  );
  assert.equal(m.info.totalLength, 6 * PL + 5);
  assert.equal(m.info.pieceCount, 7);
  assert.equal(toHex(m.info.files[5]!.piecesRoot!), toHex(files[3]!.piecesRoot!));
  assert.equal(m.info.files[2]!.piecesRoot, undefined);
  assert.deepEqual([...m.pieceLayers!.keys()].sort(), [toHex(files[2]!.piecesRoot!), toHex(files[3]!.piecesRoot!)].sort());
});

test('hybrid: v1 list with pad files, both hashes, roots attached to the v1 files; v1 fields unchanged', () => {
  const { bytes } = build('hybrid');
  const m = parseTorrent(bytes);
  assert.equal(m.version, 'hybrid');
  const infoBytes = bencode((bdecode(bytes) as BDict)['info']!);
  assert.equal(m.infoHashHex, createHash('sha1').update(infoBytes).digest('hex'));
  assert.equal(m.infoHashV2Hex, createHash('sha256').update(infoBytes).digest('hex'));
  assert.equal(m.info.pieces.length, m.info.pieceCount * 20);
  assert.deepEqual(
    m.info.files.filter((f) => f.pad !== true).map((f) => [f.path.join('/'), f.offset, f.piecesRoot === undefined]),
    [
      ['root/a.txt', 0, false],
      ['root/b/empty', PL, true],
      ['root/b/two', PL, false],
      ['root/c', 3 * PL, false],
    ],
  );
  // without the tail pad file (older libtorrent) it is the same data
  const noTail = edit(bytes, (_t, info) => {
    const files = info['files'] as BDict[];
    files.pop();
  });
  const n = parseTorrent(noTail);
  assert.equal(n.info.totalLength, 6 * PL + 5);
  // single file hybrid: `length`
  const one = parseTorrent(build('hybrid', [{ path: ['root'], length: 70000 }]).bytes);
  assert.equal(one.info.singleFile, true);
  assert.deepEqual(one.info.files.map((f) => f.path), [['root']]);
});

test('hybrid whose v1 and v2 halves disagree is refused, naming the problem', () => {
  const { bytes } = build('hybrid');
  rejects(
    edit(bytes, (_t, info) => {
      (info['files'] as BDict[])[1]!['length'] = 32667; // a pad one byte short
    }),
    'ERR_METAINFO',
    undefined,
  );
  rejects(
    edit(bytes, (_t, info) => {
      (info['files'] as BDict[])[0]!['path'] = [new TextEncoder().encode('other.txt')];
    }),
    'ERR_METAINFO',
    'info.files',
    /v1 and v2 file lists do not match: v1 file 0 is "other.txt", the file tree has "a.txt"/,
  );
  rejects(
    edit(bytes, (_t, info) => {
      const files = info['files'] as BDict[];
      files.splice(2, 1); // b/empty
    }),
    'ERR_METAINFO',
    'info.files',
    /v1 and v2 file lists do not match/,
  );
});

test('refusals: piece length, tree shape, roots, pad attribute, piece layers, meta version', () => {
  const { bytes, files } = build(2);
  const tree = (f: (t: BDict) => void): Uint8Array => edit(bytes, (_top, info) => f(info['file tree'] as BDict));
  rejects(edit(bytes, (_t, i) => (i['piece length'] = 3 * 16384)), 'ERR_METAINFO', 'info.piece length', /power of two/);
  rejects(edit(bytes, (_t, i) => (i['piece length'] = 8192)), 'ERR_METAINFO', 'info.piece length', /at least 16 KiB/);
  rejects(edit(bytes, (_t, i) => delete i['file tree']), 'ERR_METAINFO', 'info.file tree', /missing/);
  rejects(edit(bytes, (_t, i) => (i['file tree'] = {})), 'ERR_METAINFO', 'info.file tree', /empty/);
  rejects(tree((t) => (t['..'] = t['a.txt']!)), 'ERR_UNSAFE_PATH', 'info.file tree');
  rejects(tree((t) => ((t['a.txt'] as BDict)['x'] = 1)), 'ERR_METAINFO', 'info.file tree', /both a file and a directory/);
  rejects(tree((t) => delete ((t['a.txt'] as BDict)[''] as BDict)['pieces root']), 'ERR_METAINFO', 'info.file tree', /pieces root missing/);
  rejects(tree((t) => (((t['a.txt'] as BDict)[''] as BDict)['pieces root'] = new Uint8Array(32))), 'ERR_METAINFO', 'info.file tree', /all zeros/);
  rejects(tree((t) => (((t['a.txt'] as BDict)[''] as BDict)['attr'] = new TextEncoder().encode('p'))), 'ERR_METAINFO', 'info.file tree', /pad attribute/);
  rejects(tree((t) => (((t['a.txt'] as BDict)[''] as BDict)['length'] = -1)), 'ERR_METAINFO', 'info.file tree', /non-negative/);
  const layerKey = String.fromCharCode(...files[3]!.piecesRoot!);
  rejects(edit(bytes, (top) => (((top['piece layers'] as BDict)[layerKey] as Uint8Array)[0]! ^= 1)), 'ERR_METAINFO', 'piece layers', /does not hash to the pieces root/);
  rejects(edit(bytes, (top) => ((top['piece layers'] as BDict)[layerKey] = new Uint8Array(33))), 'ERR_METAINFO', 'piece layers', /not a multiple of 32/);
  rejects(edit(bytes, (top) => ((top['piece layers'] as BDict)['x'.repeat(32)] = new Uint8Array(32))), 'ERR_METAINFO', 'piece layers', /not the pieces root of any file/);
  rejects(edit(bytes, (top) => (top['piece layers'] = 5)), 'ERR_METAINFO', 'piece layers', /expected a dictionary/);
  rejects(edit(bytes, (_t, i) => (i['meta version'] = 3)), 'ERR_METAINFO', 'info.meta version');
  // a missing piece layer is fine: peers supply it
  const m = parseTorrent(edit(bytes, (top) => delete (top['piece layers'] as BDict)[layerKey]));
  assert.equal(m.pieceLayers!.size, 1);
});

test('a deep or wide file tree parses in linear time; too many pieces are refused', () => {
  const wide: BDict = {};
  const root = new Uint8Array(32).fill(7);
  for (let i = 0; i < 20000; i++) wide[`f${String(i).padStart(6, '0')}`] = { '': { length: 1, 'pieces root': root } };
  const t0 = performance.now();
  const m = parseTorrent(bencode({ info: { 'file tree': wide, 'meta version': 2, name: 'w', 'piece length': 16384 } }));
  assert.equal(m.info.files.filter((f) => f.pad !== true).length, 20000);
  assert.ok(performance.now() - t0 < 5000);
  let deep: BDict = { '': { length: 1, 'pieces root': root } };
  for (let i = 0; i < 25; i++) deep = { [`d${i}`]: deep };
  assert.equal(parseTorrent(bencode({ info: { 'file tree': deep, 'meta version': 2, name: 'w', 'piece length': 16384 } })).info.files[0]!.path.length, 26);
  const huge = { x: { '': { length: 2 ** 22 * 16384 + 1, 'pieces root': root } } };
  rejects(bencode({ info: { 'file tree': huge, 'meta version': 2, name: 'w', 'piece length': 16384 } }), 'ERR_METAINFO', 'info.file tree', /too many pieces/);
});

test('metainfoFromInfoBytes: v2 info dictionaries check the (truncated) v2 hash', () => {
  const { bytes } = build(2);
  const infoBytes = bencode((bdecode(bytes) as BDict)['info']!);
  const v2 = new Uint8Array(createHash('sha256').update(infoBytes).digest());
  const m = metainfoFromInfoBytes(infoBytes, { infoHash: v2.slice(0, 20), infoHashV2: v2 });
  assert.equal(m.version, 2);
  assert.equal(m.pieceLayers!.size, 0);
  assert.throws(() => metainfoFromInfoBytes(infoBytes, { infoHashV2: new Uint8Array(32) }), (e: unknown) => e instanceof BtError && e.code === 'ERR_HASH');
});

test('tolerated: bytes after the top-level dictionary, a pad file without a path, a symlink without a length', () => {
  const { bytes } = build('hybrid');
  const trailing = new Uint8Array([...bytes, 0x0a, 0x00]);
  assert.equal(parseTorrent(trailing).infoHashHex, parseTorrent(bytes).infoHashHex);
  const noPath = edit(bytes, (_t, info) => delete (info['files'] as BDict[])[1]!['path']);
  const m = parseTorrent(noPath);
  assert.deepEqual(m.info.files[1]!.path, ['root', '.pad', '32668']);
  const v1 = bencode({
    info: {
      files: [
        { length: 5, path: ['a'] },
        { attr: 'l', path: ['b'], 'symlink path': ['a'] },
      ],
      name: 'n',
      'piece length': 16384,
      pieces: new Uint8Array(20),
    },
  });
  assert.equal(parseTorrent(v1).info.files[1]!.length, 0);
});
