/** FsStorage: multi-file round trips, lazy creation, ensureFiles, path safety (incl. symlinks), handle cache, close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FsStorage, PieceLayout } from '../../../src/storage/index.js';
import { BtError } from '../../../src/core/errors.js';
import type { BtErrorCode } from '../../../src/core/errors.js';
import { makeInfo, multiFile, pattern, pieceOf, tempDir } from './helpers.js';

const rejectsWith = (p: Promise<unknown>, code: BtErrorCode, op?: string): Promise<void> =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BtError, `expected BtError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (op) assert.equal(e.op, op);
    return true;
  });

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        await walk(path.join(d, e.name), r);
      } else out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

// 7 files, unaligned sizes, empty files at the start, middle and end; piece length 16.
const LENGTHS = [0, 7, 0, 33, 1, 0, 50, 13, 0];

test('unaligned multi-file round trip in odd-sized blocks, files on disk match', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = multiFile('root', LENGTHS, 16);
  const st = new FsStorage(info, dir);
  t.after(() => st.close());
  // Write pieces in a scrambled order, each in 5-byte blocks (last block short).
  const order = Array.from({ length: info.pieceCount }, (_, i) => (i * 5) % info.pieceCount);
  assert.equal(new Set(order).size, info.pieceCount);
  for (const p of order) {
    const piece = pieceOf(content, info, p);
    for (let b = 0; b < piece.length; b += 5) await st.write(p, b, piece.subarray(b, b + 5));
  }
  for (let p = 0; p < info.pieceCount; p++) {
    assert.deepEqual(await st.read(p, 0, piece(p).length), piece(p));
    assert.equal(await st.hasData(p), true);
  }
  // Unaligned sub-ranges.
  assert.deepEqual(await st.read(1, 3, 11), content.subarray(16 + 3, 16 + 14));
  for (const [i, f] of info.files.entries()) {
    const p = path.join(dir, ...f.path);
    if (f.length === 0) assert.equal(existsSync(p), false, `empty file ${i} not created by writes`);
    else assert.deepEqual(new Uint8Array(await readFile(p)), content.subarray(f.offset, f.offset + f.length));
  }
  function piece(p: number): Uint8Array {
    return pieceOf(content, info, p);
  }
});

test('concurrent whole-piece writes and reads over shared files', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = multiFile('c', [100_000, 3, 250_001, 77_777], 32 * 1024);
  const st = new FsStorage(info, dir, { maxOpenFiles: 2 });
  t.after(() => st.close());
  await Promise.all(Array.from({ length: info.pieceCount }, (_, p) => st.write(p, 0, pieceOf(content, info, p))));
  const got = await Promise.all(Array.from({ length: info.pieceCount }, (_, p) => st.read(p, 0, pieceOf(content, info, p).length)));
  got.forEach((g, p) => assert.deepEqual(g, pieceOf(content, info, p)));
  assert.ok(st.openFileCount <= 2, `open handles ${st.openFileCount}`);
});

test('read result owns its ArrayBuffer', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = multiFile('o', [10, 10], 8);
  const st = new FsStorage(info, dir);
  t.after(() => st.close());
  await st.write(1, 0, pieceOf(content, info, 1));
  const r = await st.read(1, 0, 8);
  assert.equal(r.byteOffset, 0);
  assert.equal(r.buffer.byteLength, 8);
  assert.ok(!Buffer.isBuffer(r), 'a plain Uint8Array (slice() copies)');
});

test('lazy creation: nothing exists before the first write; a write creates only the files it touches', async (t) => {
  const dir = await tempDir(t);
  const dl = path.join(dir, 'dl');
  const { info, content } = multiFile('lazy', [10, 0, 10, 10], 8);
  const st = new FsStorage(info, dl);
  t.after(() => st.close());
  assert.equal(await st.hasData(0), false);
  await rejectsWith(st.read(0, 0, 8), 'ERR_STORAGE', 'read');
  assert.equal(existsSync(dl), false, 'download dir not created by reads/hasData');
  await st.write(3, 0, pieceOf(content, info, 3)); // torrent bytes 24..30 = f3[4..10)
  assert.deepEqual(await listTree(dl), ['lazy/', 'lazy/f3']);
  assert.equal((await stat(path.join(dl, 'lazy', 'f3'))).size, 10);
  assert.equal(await st.hasData(3), true);
  assert.equal(await st.hasData(2), false, 'f2 is missing');
  await rejectsWith(st.read(2, 0, 8), 'ERR_STORAGE', 'read');
  // A short file: reading past its end is missing data.
  await st.write(0, 0, pieceOf(content, info, 0).subarray(0, 4));
  assert.equal(await st.hasData(0), false);
  await rejectsWith(st.read(0, 0, 8), 'ERR_STORAGE', 'read');
  assert.deepEqual(await st.read(0, 0, 4), content.subarray(0, 4));
});

test('existing files are opened without truncation', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = makeInfo([{ path: ['single.bin'], length: 40 }], 16);
  await writeFile(path.join(dir, 'single.bin'), content);
  const st = new FsStorage(info, dir);
  t.after(() => st.close());
  for (let p = 0; p < info.pieceCount; p++) assert.equal(await st.hasData(p), true);
  await st.write(1, 0, new Uint8Array(4).fill(0xaa));
  const disk = await readFile(path.join(dir, 'single.bin'));
  assert.equal(disk.length, 40);
  assert.deepEqual(new Uint8Array(disk.subarray(20)), content.subarray(20));
  assert.deepEqual([...disk.subarray(16, 20)], [0xaa, 0xaa, 0xaa, 0xaa]);
});

test('ensureFiles creates missing files (zero-length included) at full length and leaves existing ones', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = makeInfo(
    [
      { path: ['e', 'a'], length: 10 },
      { path: ['e', 'empty'], length: 0 },
      { path: ['e', 'sub', 'deep', 'b'], length: 20 },
      { path: ['e', 'sub', 'empty2'], length: 0 },
    ],
    16,
  );
  const st = new FsStorage(info, dir);
  t.after(() => st.close());
  await st.write(0, 0, pieceOf(content, info, 0).subarray(0, 10)); // f0 complete, f2 absent
  await st.ensureFiles();
  assert.deepEqual(await listTree(dir), ['e/', 'e/a', 'e/empty', 'e/sub/', 'e/sub/deep/', 'e/sub/deep/b', 'e/sub/empty2']);
  assert.deepEqual(new Uint8Array(await readFile(path.join(dir, 'e', 'a'))), content.subarray(0, 10));
  assert.equal((await stat(path.join(dir, 'e', 'empty'))).size, 0);
  assert.equal((await stat(path.join(dir, 'e', 'sub', 'deep', 'b'))).size, 20);
  await st.ensureFiles(); // idempotent
  assert.deepEqual(new Uint8Array(await readFile(path.join(dir, 'e', 'a'))), content.subarray(0, 10));
});

test('hostile path components are refused with ERR_UNSAFE_PATH before any I/O', async (t) => {
  const dir = await tempDir(t);
  const dl = path.join(dir, 'dl');
  const bad: string[][] = [['t', '..', 'x'], ['..'], ['/etc', 'passwd'], ['t', '/abs'], ['t', ''], ['t', '.'], ['t', 'a/b'], ['t', 'a\\b'], ['t', 'nul\0'], []];
  for (const p of bad) {
    const { info } = makeInfo([{ path: ['t', 'ok'], length: 5 }, { path: p, length: 5 }], 4);
    assert.throws(
      () => new FsStorage(info, dl),
      (e: unknown) => e instanceof BtError && e.code === 'ERR_UNSAFE_PATH' && e.field === 'files[1].path',
      JSON.stringify(p),
    );
  }
  assert.deepEqual(await readdir(dir), [], 'nothing created');
});

test('a symlinked subdirectory pointing outside the download dir is refused; nothing written outside', async (t) => {
  const dir = await tempDir(t);
  const dl = path.join(dir, 'dl');
  const outside = path.join(dir, 'outside');
  await mkdir(path.join(dl, 't'), { recursive: true });
  await mkdir(outside);
  await symlink(outside, path.join(dl, 't', 'sub'));
  const { info, content } = makeInfo([{ path: ['t', 'ok'], length: 8 }, { path: ['t', 'sub', 'evil'], length: 8 }, { path: ['t', 'sub', 'deeper', 'evil2'], length: 8 }], 8);
  const st = new FsStorage(info, dl);
  t.after(() => st.close());
  await st.write(0, 0, pieceOf(content, info, 0)); // the safe file is fine
  await rejectsWith(st.write(1, 0, pieceOf(content, info, 1)), 'ERR_UNSAFE_PATH', 'write');
  await rejectsWith(st.write(2, 0, pieceOf(content, info, 2)), 'ERR_UNSAFE_PATH', 'write');
  await rejectsWith(st.ensureFiles(), 'ERR_UNSAFE_PATH', 'write');
  await writeFile(path.join(outside, 'evil'), 'secret!!');
  await rejectsWith(st.read(1, 0, 8), 'ERR_UNSAFE_PATH', 'read');
  assert.deepEqual(await readdir(outside), ['evil']);
  assert.equal(await readFile(path.join(outside, 'evil'), 'utf8'), 'secret!!');
});

test('a symlinked file (or dangling symlink) pointing outside is refused', async (t) => {
  const dir = await tempDir(t);
  const dl = path.join(dir, 'dl');
  const outside = path.join(dir, 'outside');
  await mkdir(path.join(dl, 't'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(outside, 'target'), 'original');
  await symlink(path.join(outside, 'target'), path.join(dl, 't', 'a'));
  await symlink(path.join(outside, 'dangling'), path.join(dl, 't', 'b'));
  const { info, content } = makeInfo([{ path: ['t', 'a'], length: 8 }, { path: ['t', 'b'], length: 8 }], 8);
  const st = new FsStorage(info, dl);
  t.after(() => st.close());
  await rejectsWith(st.write(0, 0, pieceOf(content, info, 0)), 'ERR_UNSAFE_PATH', 'write');
  await rejectsWith(st.write(1, 0, pieceOf(content, info, 1)), 'ERR_UNSAFE_PATH', 'write');
  await rejectsWith(st.ensureFiles(), 'ERR_UNSAFE_PATH');
  assert.deepEqual(await readdir(outside), ['target']);
  assert.equal(await readFile(path.join(outside, 'target'), 'utf8'), 'original');
});

test('symlinks that stay inside the download dir are allowed', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 't', 'real'), { recursive: true });
  await symlink(path.join(dir, 't', 'real'), path.join(dir, 't', 'link'));
  const { info, content } = makeInfo([{ path: ['t', 'link', 'f'], length: 8 }], 8);
  const st = new FsStorage(info, dir);
  t.after(() => st.close());
  await st.write(0, 0, content);
  assert.deepEqual(new Uint8Array(await readFile(path.join(dir, 't', 'real', 'f'))), content);
  assert.ok((await lstat(path.join(dir, 't', 'link'))).isSymbolicLink());
});

test('a file where a directory is needed is ERR_STORAGE', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 't'));
  await writeFile(path.join(dir, 't', 'sub'), 'x');
  const { info, content } = makeInfo([{ path: ['t', 'sub', 'f'], length: 8 }], 8);
  const st = new FsStorage(info, dir);
  t.after(() => st.close());
  await rejectsWith(st.write(0, 0, content), 'ERR_STORAGE', 'write');
});

test('read-only files can still be read (seeding from read-only data)', { skip: process.getuid?.() === 0 ? 'root ignores file modes' : false }, async (t) => {
  const dir = await tempDir(t);
  const { info, content } = makeInfo([{ path: ['ro.bin'], length: 20 }], 8);
  await writeFile(path.join(dir, 'ro.bin'), content);
  await chmod(path.join(dir, 'ro.bin'), 0o444);
  const st = new FsStorage(info, dir);
  t.after(() => st.close());
  assert.deepEqual(await st.read(2, 0, 4), content.subarray(16));
  await rejectsWith(st.write(0, 0, content.subarray(0, 8)), 'ERR_STORAGE', 'write');
});

test('close(): waits for in-flight writes, is idempotent, later operations reject ERR_CLOSED', async (t) => {
  const dir = await tempDir(t);
  const { info, content } = multiFile('cl', [300_000, 200_000], 64 * 1024);
  const st = new FsStorage(info, dir);
  const writes = Array.from({ length: info.pieceCount }, (_, p) => st.write(p, 0, pieceOf(content, info, p)));
  const closing = st.close();
  await Promise.all(writes);
  await closing;
  await st.close();
  assert.equal(st.openFileCount, 0);
  await rejectsWith(st.read(0, 0, 10), 'ERR_CLOSED', 'read');
  await rejectsWith(st.write(0, 0, new Uint8Array(1)), 'ERR_CLOSED', 'write');
  await rejectsWith(st.hasData(0), 'ERR_CLOSED');
  await rejectsWith(st.ensureFiles(), 'ERR_CLOSED');
  const disk = await readFile(path.join(dir, 'cl', 'f0'));
  assert.deepEqual(new Uint8Array(disk), content.subarray(0, 300_000));
});

test('LRU handle cache stays within maxOpenFiles across many files', async (t) => {
  const dir = await tempDir(t);
  const lengths = Array.from({ length: 20 }, (_, i) => 1000 + i * 37);
  const { info, content } = multiFile('many', lengths, 4096);
  const st = new FsStorage(info, dir, { maxOpenFiles: 3 });
  t.after(() => st.close());
  const layout = new PieceLayout(info);
  for (let p = 0; p < info.pieceCount; p++) {
    await st.write(p, 0, pieceOf(content, info, p));
    assert.ok(st.openFileCount <= 3);
  }
  for (let p = info.pieceCount - 1; p >= 0; p--) assert.deepEqual(await st.read(p, 0, layout.pieceSize(p)), pieceOf(content, info, p));
  assert.ok(st.openFileCount <= 3);
});

test('pattern helper is deterministic', () => {
  assert.deepEqual(pattern(16, 3), pattern(16, 3));
});

test('BEP 47 padding files read as zeros and are never created', async (t) => {
  const dir = await tempDir(t);
  const info = {
    name: 'root',
    pieceLength: 16,
    pieces: new Uint8Array(40),
    pieceCount: 2,
    totalLength: 32,
    private: false,
    singleFile: false,
    files: [
      { path: ['root', 'a'], length: 10, offset: 0 },
      { path: ['root', '.pad', '6'], length: 6, offset: 10, pad: true },
      { path: ['root', 'b'], length: 16, offset: 16 },
    ],
  };
  const s = new FsStorage(info, dir);
  const data = new Uint8Array(16).fill(7);
  await s.write(0, 0, data);
  await s.write(1, 0, data);
  assert.deepEqual([...(await s.read(0, 0, 16))], [...new Uint8Array(10).fill(7), ...new Uint8Array(6)]);
  assert.equal(await s.hasData(0), true);
  await s.ensureFiles();
  assert.deepEqual((await readdir(path.join(dir, 'root'))).sort(), ['a', 'b']);
  await s.close();
});
