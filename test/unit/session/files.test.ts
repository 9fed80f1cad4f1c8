/**
 * The session on real files in a temp dir: a restart trusts fast resume (0 pieces hashed), remove with and without
 * the data, set-location with move, rename-path on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { NodeStateFiles } from '../../../src/storage/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import { resumeDataPath } from '../../../src/engine/index.js';
import { openSession } from '../../../src/session/index.js';
import type { OpenSessionOptions, Session, SessionTorrent } from '../../../src/session/index.js';
import { countingHasher, makeTorrent, quiet, until, writePayload } from './helpers.js';

async function withDirs(fn: (cfg: string, dl: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'tk-session-files-'));
  try {
    await fn(path.join(root, 'cfg'), path.join(root, 'dl'));
  } finally {
    if (!process.env.KEEP_TMP) await rm(root, { recursive: true, force: true });
  }
}

function options(cfg: string, dl: string, h = countingHasher()): OpenSessionOptions {
  return {
    configDir: cfg,
    defaults: { downloadDir: dl },
    engineSettings: quiet,
    deps: { stateFiles: new NodeStateFiles(), transport: new MemoryTransport(), createHasher: () => h.hasher },
  };
}

const seeding = (s: Session): boolean => s.list().every((t) => t.torrent.state === 'seeding');

test('a real-file session restarts and trusts fast resume: all seeding, 0 pieces hashed', { timeout: 10_000 }, async () => {
  await withDirs(async (cfg, dl) => {
    const payloads = [makeTorrent('one'), makeTorrent('two', { single: true }), makeTorrent('three')];
    for (const p of payloads) await writePayload(dl, p);
    const h1 = countingHasher();
    const s = await openSession(options(cfg, dl, h1));
    try {
      for (const p of payloads) await s.add(p.bytes);
      await until(() => seeding(s), 3000, 'first check');
      const pieces = s.list().reduce((n, t) => n + t.torrent.pieceCount, 0);
      assert.equal(h1.count(), pieces, 'first start: every piece hashed');
    } finally {
      await s.close();
    }
    for (const p of payloads) assert.ok(existsSync(resumeDataPath(dl, makeHash(p.bytes))));
    const h2 = countingHasher();
    const s2 = await openSession(options(cfg, dl, h2));
    try {
      assert.equal(s2.list().length, 3, 'listed at once');
      await until(() => seeding(s2), 3000, 'restart');
      assert.equal(h2.count(), 0, 'nothing hashed again');
    } finally {
      await s2.close();
    }
  });
});

test('remove: without data the files stay; with data the files, the folders it made and its resume data go, nothing else', { timeout: 10_000 }, async () => {
  await withDirs(async (cfg, dl) => {
    const keep = makeTorrent('keep');
    const multi = makeTorrent('multi');
    const single = makeTorrent('single.bin', { single: true });
    for (const p of [keep, multi, single]) await writePayload(dl, p);
    await writeFile(path.join(dl, 'multi', 'mine.txt'), 'not the torrent\'s');
    const s = await openSession(options(cfg, dl));
    try {
      const a = (await s.add(keep.bytes)).torrent;
      const b = (await s.add(multi.bytes)).torrent;
      const c = (await s.add(single.bytes)).torrent;
      await until(() => seeding(s), 3000, 'seeding');
      await s.remove(a);
      assert.ok(existsSync(path.join(dl, 'keep', 'sub', 'b.bin')), 'kept without deleteData');
      await s.remove(b, { deleteData: true });
      assert.ok(!existsSync(path.join(dl, 'multi', 'a.bin')));
      assert.ok(!existsSync(path.join(dl, 'multi', 'sub')), 'the emptied folder went');
      assert.ok(existsSync(path.join(dl, 'multi', 'mine.txt')), 'a file that is not the torrent\'s stays, and its folder');
      assert.ok(!existsSync(resumeDataPath(dl, b.record.infoHashHex)));
      await s.remove(c, { deleteData: true });
      assert.ok(!existsSync(path.join(dl, 'single.bin')));
      assert.deepEqual((await readdir(dl)).sort(), ['.torrentkit', 'keep', 'multi']);
      assert.equal(s.list().length, 0);
    } finally {
      await s.close();
    }
  });
});

test('set-location with move moves the files and its resume data (no re-hash); without move it just points there', { timeout: 10_000 }, async () => {
  await withDirs(async (cfg, dl) => {
    const p = makeTorrent('mover');
    await writePayload(dl, p);
    const h = countingHasher();
    const s = await openSession(options(cfg, dl, h));
    try {
      const t: SessionTorrent = (await s.add(p.bytes)).torrent;
      await until(() => t.torrent.state === 'seeding', 3000, 'seeding');
      const hashed = h.count();
      const to = path.join(path.dirname(dl), 'moved');
      await s.setLocation(t, to, true);
      assert.ok(existsSync(path.join(to, 'mover', 'sub', 'b.bin')));
      assert.ok(!existsSync(path.join(dl, 'mover')));
      assert.equal(t.record.downloadDir, to);
      assert.equal(t.torrent.downloadDir, to);
      await until(() => t.torrent.state === 'seeding', 3000, 'seeding after the move');
      assert.equal(h.count(), hashed, 'the moved resume data is trusted');
      await assert.rejects(s.setLocation(t, 'relative/dir', true));
      // Without move: it looks there (nothing there: it downloads).
      const empty = path.join(path.dirname(dl), 'empty');
      await mkdir(empty, { recursive: true });
      await s.setLocation(t, empty, false);
      await until(() => t.torrent.state === 'downloading', 3000, 'downloading at the new, empty place');
      assert.ok(existsSync(path.join(to, 'mover', 'a.bin')), 'the old files are left alone');
    } finally {
      await s.close();
    }
  });
});

test('rename-path renames on disk, keeps seeding without a re-hash, and survives a restart', { timeout: 10_000 }, async () => {
  await withDirs(async (cfg, dl) => {
    const p = makeTorrent('ren');
    await writePayload(dl, p);
    const h = countingHasher();
    const s = await openSession(options(cfg, dl, h));
    try {
      const t = (await s.add(p.bytes)).torrent;
      await until(() => t.torrent.state === 'seeding', 3000, 'seeding');
      const hashed = h.count();
      await s.renamePath(t, 'ren/sub', 'docs');
      await s.renamePath(t, 'ren', 'renamed');
      assert.ok(existsSync(path.join(dl, 'renamed', 'docs', 'b.bin')));
      assert.ok(!existsSync(path.join(dl, 'ren')));
      await until(() => t.torrent.state === 'seeding', 3000, 'seeding after the rename');
      assert.equal(h.count(), hashed, 'no re-hash after a rename');
    } finally {
      await s.close();
    }
    const h2 = countingHasher();
    const s2 = await openSession(options(cfg, dl, h2));
    try {
      const t = s2.list()[0];
      assert.equal(t.name, 'renamed');
      await until(() => t.torrent.state === 'seeding', 3000, 'seeding after the restart');
      assert.equal(h2.count(), 0);
    } finally {
      await s2.close();
    }
  });
});

function makeHash(bytes: Uint8Array): string {
  return parseTorrent(bytes).infoHashHex;
}
