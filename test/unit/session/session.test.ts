/**
 * The session layer (src/session): ids, records and their round trip through a restart, settings persistence,
 * queue moves, rename-path checks, counters, seed limits by mode. Memory state files, memory storage, memory
 * transport: no disk, no sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStateFiles, MemoryStorage } from '../../../src/storage/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import { isBtError } from '../../../src/core/index.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { makeTorrent, memOptions, memSession, until } from './helpers.js';
import { openSession } from '../../../src/session/index.js';

const hashOf = (b: Uint8Array): string => parseTorrent(b).infoHashHex;

test('add, duplicate, remove: ids from 1, never reused (also across a restart)', { timeout: 5000 }, async () => {
  const files = new MemoryStateFiles();
  const s = await memSession(files);
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => makeTorrent(n));
  try {
    const ra = await s.add(a.bytes, { paused: true });
    assert.equal(ra.duplicate, false);
    assert.equal(ra.torrent.id, 1);
    assert.ok(files.files.has(`/cfg/torrents/${hashOf(a.bytes)}.torrent`), 'metainfo saved at add');
    const dup = await s.add(a.bytes);
    assert.equal(dup.duplicate, true);
    assert.equal(dup.torrent, ra.torrent);
    const rb = await s.add(b.bytes, { paused: true });
    assert.equal(rb.torrent.id, 2);
    assert.equal(s.get(hashOf(b.bytes).toUpperCase()), rb.torrent, 'get by hash, any case');
    assert.equal(s.get(2), rb.torrent);
    await s.remove(ra.torrent);
    assert.equal(s.get(1), undefined);
    assert.ok(!files.files.has(`/cfg/torrents/${hashOf(a.bytes)}.torrent`), 'metainfo file removed');
    assert.equal(s.engine.getTorrent(hashOf(a.bytes)), undefined, 'gone from the engine');
    assert.deepEqual(s.removedSince(0), [1]);
    const rc = await s.add(c.bytes, { paused: true });
    assert.equal(rc.torrent.id, 3);
    const again = await s.add(a.bytes, { paused: true });
    assert.equal(again.torrent.id, 4, 'a re-added torrent gets a new id');
    assert.deepEqual(s.list().map((t) => t.id), [2, 3, 4]);
  } finally {
    await s.close();
  }
  const s2 = await memSession(files);
  try {
    assert.deepEqual(s2.list().map((t) => t.id), [2, 3, 4]);
    assert.deepEqual(s2.removedSince(0), [1], 'removed ids persist');
    const rd = await s2.add(d.bytes, { paused: true });
    assert.equal(rd.torrent.id, 5, 'next id persisted');
    await assert.rejects(s2.add(new Uint8Array([1, 2, 3])), (e) => isBtError(e));
    await assert.rejects(s2.add('magnet:?xt=urn:btih:nothex'), (e) => isBtError(e));
  } finally {
    await s2.close();
  }
});

test('a restart restores every field of every record, and the live torrents follow them', { timeout: 5000 }, async () => {
  const files = new MemoryStateFiles();
  const a = makeTorrent('alpha', { trackers: ['http://127.0.0.1:9/announce', 'http://127.0.0.1:10/announce'] });
  const b = makeTorrent('beta', { single: true });
  const magnet = 'magnet:?xt=urn:btih:' + 'ab'.repeat(20) + '&dn=gamma';
  const s = await memSession(files);
  let before: string;
  try {
    const ta = (await s.add(a.bytes, { paused: true, downloadDir: '/x', labels: ['one', 'two'], filesUnwanted: [1], priorityHigh: [0], peerLimit: 9, bandwidthPriority: -1 })).torrent;
    await s.set(ta, {
      downloadLimit: 50,
      downloadLimited: true,
      uploadLimit: 20,
      uploadLimited: true,
      seedRatioLimit: 1.5,
      seedRatioMode: 1,
      seedIdleLimit: 10,
      seedIdleMode: 1,
      peerLimit: 7,
      sequential: true,
      honorsSessionLimits: false,
      labels: ['three'],
      trackerAdd: ['udp://127.0.0.1:11/announce'],
      trackerRemove: [0],
    });
    await s.renamePath(ta, 'alpha', 'renamed');
    const tb = (await s.add(b.bytes)).torrent;
    const tc = (await s.add(magnet, { paused: true })).torrent;
    assert.equal(tc.torrent.hasMetadata, false);
    await until(() => tb.torrent.state === 'downloading', 1500, 'beta downloading');
    assert.equal(ta.name, 'renamed');
    before = JSON.stringify(s.list().map((t) => t.record));
  } finally {
    await s.close();
  }
  const s2 = await memSession(files);
  try {
    assert.equal(JSON.stringify(s2.list().map((t) => t.record)), before, 'records identical after the restart');
    const [ta, tb, tc] = s2.list();
    const r = ta.record;
    assert.equal(r.downloadDir, '/x');
    assert.deepEqual(r.labels, ['three']);
    assert.deepEqual(r.wanted, [true, false]);
    assert.deepEqual(r.priorities, [1, 0]);
    assert.equal(r.started, false);
    assert.equal(ta.torrent.state, 'stopped');
    assert.equal(ta.name, 'renamed');
    assert.deepEqual(ta.torrent.meta.info.files.map((f) => f.path.join('/')), ['renamed/a.bin', 'renamed/sub/b.bin']);
    assert.deepEqual(ta.torrent.rateLimits, { download: 50_000, upload: 20_000 });
    assert.equal(ta.torrent.peerLimit, 7);
    assert.equal(ta.torrent.sequential, true);
    assert.deepEqual(ta.torrent.files.map((f) => f.priority), [7, 0]);
    assert.deepEqual(ta.torrent.trackers.map((t) => t.url), ['http://127.0.0.1:10/announce', 'udp://127.0.0.1:11/announce']);
    assert.ok(Math.abs(ta.torrent.seedLimits.ratio - 1.5) < 1e-6);
    assert.equal(tb.record.started, true);
    await until(() => tb.torrent.state === 'downloading', 1500, 'beta started again');
    assert.equal(tc.torrent.hasMetadata, false);
    assert.equal(tc.record.magnet?.startsWith('magnet:'), true);
    assert.equal(tc.name, 'gamma');
  } finally {
    await s2.close();
  }
});

test('settings: session-set persists to settings.json and applies live; defaults fill gaps; the command line overrides for the run', { timeout: 5000 }, async () => {
  const files = new MemoryStateFiles();
  const s = await memSession(files);
  try {
    assert.ok(files.files.has('/cfg/settings.json'), 'written on the first open');
    await s.updateSettings({ speedLimitDown: 300, speedLimitDownEnabled: true, downloadQueueSize: 2, seedQueueEnabled: true, seedQueueSize: 4, extra: { 'script-torrent-done-enabled': false } });
    assert.equal(s.engine.rateLimits.download, 300_000);
    assert.deepEqual(s.engine.queueSizes, { maxActiveDownloads: 2, maxActiveSeeds: 4 });
    await s.updateSettings({ altSpeedEnabled: true, altSpeedDown: 7 });
    assert.equal(s.engine.rateLimits.download, 7000, 'alt speed wins while on');
    await assert.rejects(s.updateSettings({ peerLimitGlobal: -1 }), (e) => isBtError(e, 'ERR_SETTINGS') && e.field === 'peerLimitGlobal');
    await assert.rejects(s.updateSettings({ nonsense: 1 } as never), (e) => isBtError(e, 'ERR_SETTINGS'));
    await assert.rejects(s.updateSettings({ downloadDir: 'relative' }), (e) => isBtError(e, 'ERR_SETTINGS'));
  } finally {
    await s.close();
  }
  const saved = files.files.get('/cfg/settings.json')!;
  const s2 = await openSession({ ...memOptions(files), defaults: { downloadDir: '/other', speedLimitUp: 77 }, engineSettings: { ...memOptions().engineSettings, maxDownloadRate: 1234 } });
  try {
    assert.equal(s2.settings.speedLimitDown, 300, 'the file wins over defaults');
    assert.equal(s2.settings.downloadDir, '/dl');
    assert.equal(s2.settings.altSpeedEnabled, true);
    assert.deepEqual(s2.settings.extra, { 'script-torrent-done-enabled': false });
    assert.equal(s2.engine.rateLimits.download, 1234, 'command line overrides for this run');
    assert.deepEqual(files.files.get('/cfg/settings.json'), saved, 'and is not written back');
  } finally {
    await s2.close();
  }
});

test('queue moves renumber positions 0..n-1; torrent-set queuePosition and remove keep them dense', { timeout: 5000 }, async () => {
  const files = new MemoryStateFiles();
  const s = await memSession(files);
  try {
    const ts = [];
    for (const n of ['q0', 'q1', 'q2', 'q3']) ts.push((await s.add(makeTorrent(n).bytes, { paused: true })).torrent);
    const order = (): number[] => [...s.list()].sort((x, y) => x.record.queuePosition - y.record.queuePosition).map((t) => t.id);
    assert.deepEqual(order(), [1, 2, 3, 4]);
    s.queueMove([ts[2]], 'top');
    assert.deepEqual(order(), [3, 1, 2, 4]);
    s.queueMove([ts[3]], 'up');
    assert.deepEqual(order(), [3, 1, 4, 2]);
    s.queueMove([ts[2]], 'down');
    assert.deepEqual(order(), [1, 3, 4, 2]);
    s.queueMove([ts[0], ts[2]], 'bottom');
    assert.deepEqual(order(), [4, 2, 1, 3]);
    await s.set(ts[2], { queuePosition: 0 });
    assert.deepEqual(order(), [3, 4, 2, 1]);
    await s.remove(ts[3]);
    assert.deepEqual(order(), [3, 2, 1]);
    assert.deepEqual([...s.list()].map((t) => t.record.queuePosition).sort(), [0, 1, 2]);
  } finally {
    await s.close();
  }
  const s2 = await memSession(files);
  try {
    assert.deepEqual([...s2.list()].sort((x, y) => x.record.queuePosition - y.record.queuePosition).map((t) => t.id), [3, 2, 1]);
  } finally {
    await s2.close();
  }
});

test('rename-path never leaves the torrent: bad names and paths are refused', { timeout: 5000 }, async () => {
  const s = await memSession();
  try {
    const t = (await s.add(makeTorrent('top').bytes, { paused: true })).torrent;
    for (const name of ['', '.', '..', 'a/b', 'a\\b', 'x\0y', '/']) {
      await assert.rejects(s.renamePath(t, 'top/a.bin', name), (e) => isBtError(e, 'ERR_UNSAFE_PATH'), `name ${JSON.stringify(name)}`);
    }
    for (const p of ['', '/top', '../top', 'top/../..', 'top//a.bin', 'elsewhere', 'top/nope', 'top\0']) {
      await assert.rejects(s.renamePath(t, p, 'ok'), (e) => isBtError(e, 'ERR_UNSAFE_PATH'), `path ${JSON.stringify(p)}`);
    }
    await assert.rejects(s.renamePath(t, 'top/a.bin', 'sub'), (e) => isBtError(e, 'ERR_UNSAFE_PATH'), 'onto an existing path');
    assert.deepEqual(await s.renamePath(t, 'top/sub', 'folder'), { path: 'top/sub', name: 'folder' });
    assert.deepEqual(t.torrent.meta.info.files.map((f) => f.path.join('/')), ['top/a.bin', 'top/folder/b.bin']);
    await s.renamePath(t, 'top', 'newtop');
    assert.equal(t.name, 'newtop');
    assert.equal(t.record.name, 'newtop');
    assert.deepEqual(t.record.renames, [['top/sub', 'folder'], ['top', 'newtop']]);
  } finally {
    await s.close();
  }
});

test('counters: sessionCount per open, files added, current run vs all time', { timeout: 5000 }, async () => {
  const files = new MemoryStateFiles();
  const s = await memSession(files);
  try {
    await s.add(makeTorrent('c1').bytes, { paused: true });
    await s.add(makeTorrent('c2').bytes, { paused: true });
    const c = s.counters();
    assert.equal(c.current.filesAdded, 2);
    assert.equal(c.current.sessionCount, 1);
    assert.equal(c.cumulative.sessionCount, 1);
  } finally {
    await s.close();
  }
  const s2 = await memSession(files);
  try {
    await s2.add(makeTorrent('c3').bytes, { paused: true });
    const c = s2.counters();
    assert.equal(c.current.filesAdded, 1);
    assert.equal(c.cumulative.filesAdded, 3);
    assert.equal(c.cumulative.sessionCount, 2);
  } finally {
    await s2.close();
  }
});

test('seed limits: mode 0 follows the session setting, 1 the torrent, 2 none; bytes move into the record', { timeout: 5000 }, async () => {
  const a = makeTorrent('seedme', { single: true });
  const files = new MemoryStateFiles();
  const s = await openSession({
    ...memOptions(files),
    deps: { stateFiles: files, transport: new MemoryTransport(), createStorage: (m) => new MemoryStorage(m.info, { content: a.data }) },
  });
  try {
    const t = (await s.add(a.bytes)).torrent;
    await until(() => t.torrent.state === 'seeding', 1500, 'seeding');
    assert.equal(t.torrent.seedLimits.ratio, 0, 'no limit by default');
    await s.updateSettings({ seedRatioLimited: true, seedRatioLimit: 2 });
    assert.ok(Math.abs(t.torrent.seedLimits.ratio - 2) < 1e-9, 'session limit for mode 0');
    await s.set(t, { seedRatioMode: 1, seedRatioLimit: 0.5 });
    assert.ok(Math.abs(t.torrent.seedLimits.ratio - 0.5) < 1e-9);
    await s.set(t, { seedRatioMode: 2 });
    assert.equal(t.torrent.seedLimits.ratio, 0);
    assert.ok(t.record.doneDate > 0 || t.torrent.complete);
    await assert.rejects(s.set(t, { seedRatioMode: 3 as never }), (e) => isBtError(e, 'ERR_SETTINGS'));
    await assert.rejects(s.set(t, { filesWanted: [5] }), (e) => isBtError(e, 'ERR_SETTINGS'));
    await s.stop(t);
    assert.equal(t.torrent.state, 'stopped');
    assert.equal(t.record.started, false);
    await s.start(t);
    await until(() => t.torrent.state === 'seeding', 1500, 'seeding again');
  } finally {
    await s.close();
  }
});
