/** BEP 3 torrent creation from disk (src/storage/create-torrent.ts): walking rules, hashing, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrentFromPath, listSourceFiles } from '../../../src/storage/create-torrent.js';
import { pieceHash } from '../../../src/metainfo/index.js';
import { BtError } from '../../../src/core/errors.js';
import { toHex } from '../../../src/util/bytes.js';

function withTmp(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-create-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const isErr = (code: string) => (e: unknown) => e instanceof BtError && e.code === code;

test('piece hashes span file boundaries; metadata options land in the torrent', withTmp(async (tmp) => {
  const root = join(tmp, 'r');
  mkdirSync(join(root, 'd'), { recursive: true });
  const a = new Uint8Array(10).fill(1);
  const b = new Uint8Array(25).fill(2);
  writeFileSync(join(root, 'a'), a);
  writeFileSync(join(root, 'd', 'b'), b);
  const all = new Uint8Array([...a, ...b]);
  const seen: number[] = [];
  const { meta } = await createTorrentFromPath(root, {
    pieceLength: 16,
    trackers: ['http://t1/', 'http://t2/'],
    private: true,
    comment: 'c',
    createdBy: 'tk',
    creationDate: 42,
    urlList: ['http://ws/'],
    onProgress: (n) => seen.push(n),
  });
  assert.equal(meta.info.pieceCount, 3);
  for (let i = 0; i < 3; i++) {
    assert.equal(toHex(pieceHash(meta.info, i)), createHash('sha1').update(all.subarray(i * 16, i * 16 + 16)).digest('hex'));
  }
  assert.deepEqual(meta.announceList, [['http://t1/'], ['http://t2/']]);
  assert.equal(meta.info.private, true);
  assert.equal(meta.comment, 'c');
  assert.equal(meta.createdBy, 'tk');
  assert.equal(meta.creationDate, 42);
  assert.deepEqual(meta.urlList, ['http://ws/']);
  assert.equal(seen[seen.length - 1], 35);
}));

test('single file, automatic piece length', withTmp(async (tmp) => {
  const f = join(tmp, 'one.bin');
  writeFileSync(f, new Uint8Array(100_000).fill(9));
  const { meta, torrent } = await createTorrentFromPath(f);
  assert.equal(meta.info.singleFile, true);
  assert.equal(meta.info.name, 'one.bin');
  assert.equal(meta.info.pieceLength, 16384);
  assert.ok(torrent.length > 0);
}));

test('walk rules: hidden and empty files kept, empty dirs and fifos skipped, symlinks followed', withTmp(async (tmp) => {
  const root = join(tmp, 'r');
  mkdirSync(join(root, 'empty-dir'), { recursive: true });
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, '.h'), 'h');
  writeFileSync(join(root, 'e'), '');
  writeFileSync(join(root, 'sub', 'x'), 'x');
  writeFileSync(join(root, 'sub.txt'), 's');
  symlinkSync('sub', join(root, 'lnk'));
  if (spawnSync('mkfifo', [join(root, 'fifo')]).status !== 0) writeFileSync(join(root, 'fifo'), 'f'); // fallback keeps the test portable
  const { files } = await listSourceFiles(root);
  const paths = files.map((f) => f.path.join('/'));
  for (const p of ['.h', 'e', 'lnk/x', 'sub.txt', 'sub/x']) assert.ok(paths.includes(p), p);
  assert.ok(!paths.some((p) => p.startsWith('empty-dir')));
  assert.deepEqual([...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))), paths);
  assert.ok(paths.indexOf('sub.txt') < paths.indexOf('sub/x'));
}));

test('errors: empty content, dangling symlink, symlink loop, missing path, abort', withTmp(async (tmp) => {
  const empty = join(tmp, 'empty');
  mkdirSync(join(empty, 'x'), { recursive: true });
  writeFileSync(join(empty, 'zero'), '');
  await assert.rejects(createTorrentFromPath(empty), (e: unknown) => isErr('ERR_METAINFO')(e) && (e as BtError).field === 'files');

  const dangling = join(tmp, 'dangling');
  mkdirSync(dangling);
  writeFileSync(join(dangling, 'ok'), 'ok');
  symlinkSync('nowhere', join(dangling, 'bad'));
  await assert.rejects(createTorrentFromPath(dangling), isErr('ERR_STORAGE'));

  const loop = join(tmp, 'loop');
  mkdirSync(loop);
  writeFileSync(join(loop, 'f'), 'f');
  symlinkSync('.', join(loop, 'self'));
  await assert.rejects(createTorrentFromPath(loop), (e: unknown) => isErr('ERR_STORAGE')(e) && /loop/.test((e as Error).message));

  await assert.rejects(createTorrentFromPath(join(tmp, 'missing')), isErr('ERR_STORAGE'));

  const f = join(tmp, 'f.bin');
  writeFileSync(f, new Uint8Array(1000));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(createTorrentFromPath(f, { signal: ac.signal }), isErr('ERR_ABORTED'));
  await assert.rejects(createTorrentFromPath(f, { pieceLength: 0 }), isErr('ERR_METAINFO'));
}));
