/**
 * Time-driven parts of the session on a FakeClock: coalesced saves (at most one per SAVE_DELAY_MS, at once on add
 * and remove), the idle seeding limit, and a magnet whose metadata arrives (here from the engine's metadata cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/index.js';
import { metadataCachePath } from '../../../src/engine/index.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStateFiles, MemoryStorage } from '../../../src/storage/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import { SAMPLE_INTERVAL_MS, SAVE_DELAY_MS, openSession } from '../../../src/session/index.js';
import { makeTorrent, memOptions, until } from './helpers.js';

/** MemoryStateFiles that counts writes per path. */
class CountingFiles extends MemoryStateFiles {
  readonly writes = new Map<string, number>();
  override writeAtomic(p: string, bytes: Uint8Array): Promise<void> {
    this.writes.set(p, (this.writes.get(p) ?? 0) + 1);
    return super.writeAtomic(p, bytes);
  }
}

const flushMicrotasks = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

test('saves are coalesced: add/remove save at once, other changes at most once per SAVE_DELAY_MS', { timeout: 5000 }, async () => {
  const files = new CountingFiles();
  const clock = new FakeClock();
  const o = memOptions(files);
  const s = await openSession({ ...o, deps: { ...o.deps, clock } });
  try {
    const main = '/cfg/session.json';
    const n0 = files.writes.get(main) ?? 0;
    const t = (await s.add(makeTorrent('co').bytes, { paused: true })).torrent;
    await until(() => files.writes.get(main) === n0 + 1, 1000, 'add saves at once');
    for (let i = 0; i < 50; i++) await s.set(t, { labels: [`l${i}`] });
    s.queueMove([t], 'top');
    await flushMicrotasks();
    assert.equal(files.writes.get(main), n0 + 1, 'no save yet');
    clock.advance(SAVE_DELAY_MS);
    await until(() => files.writes.get(main) === n0 + 2, 1000, 'one coalesced save');
    const saved = JSON.parse(new TextDecoder().decode(files.files.get(main)));
    assert.deepEqual(saved.torrents[0].labels, ['l49']);
    clock.advance(SAVE_DELAY_MS * 3);
    await flushMicrotasks();
    assert.equal(files.writes.get(main), n0 + 2, 'nothing changed: no more saves');
  } finally {
    await s.close();
  }
});

test('idle seeding limit: a seed with no upload for N minutes is stopped (mode 1 own, mode 0 the session)', { timeout: 5000 }, async () => {
  const a = makeTorrent('idle', { single: true });
  const files = new MemoryStateFiles();
  const clock = new FakeClock();
  const o = memOptions(files);
  const s = await openSession({
    ...o,
    deps: { ...o.deps, clock, transport: new MemoryTransport(), createStorage: (m) => new MemoryStorage(m.info, { content: a.data }) },
  });
  try {
    const t = (await s.add(a.bytes)).torrent;
    await until(() => t.torrent.state === 'seeding', 1500, 'seeding');
    await s.set(t, { seedIdleMode: 1, seedIdleLimit: 1 });
    for (let ms = 0; ms < 55_000; ms += SAMPLE_INTERVAL_MS) clock.advance(SAMPLE_INTERVAL_MS);
    assert.equal(t.torrent.state, 'seeding', 'not idle for a minute yet');
    for (let ms = 0; ms < 10_000; ms += SAMPLE_INTERVAL_MS) clock.advance(SAMPLE_INTERVAL_MS);
    await until(() => t.torrent.state === 'stopped', 1500, 'stopped by the idle limit');
    assert.equal(t.record.started, false);
    assert.ok(t.record.secondsSeeding >= 55, `seconds seeding counted: ${t.record.secondsSeeding}`);
    // Mode 0: the session's limit.
    await s.set(t, { seedIdleMode: 0 });
    await s.updateSettings({ idleSeedingLimitEnabled: true, idleSeedingLimit: 2 });
    await s.start(t);
    await until(() => t.torrent.state === 'seeding', 1500, 'seeding again');
    for (let ms = 0; ms < 125_000; ms += SAMPLE_INTERVAL_MS) clock.advance(SAMPLE_INTERVAL_MS);
    await until(() => t.torrent.state === 'stopped', 1500, 'stopped by the session idle limit');
  } finally {
    await s.close();
  }
});

test('a magnet whose metadata arrives: the metainfo is saved, the record gets its files, a restart needs no magnet', { timeout: 5000 }, async () => {
  const a = makeTorrent('mag');
  const hex = parseTorrent(a.bytes).infoHashHex;
  const files = new MemoryStateFiles();
  // The engine finds the metadata in its cache under the download dir (as if fetched from peers before).
  files.files.set(metadataCachePath('/dl', hex), a.bytes);
  const s = await openSession(memOptions(files));
  try {
    const t = (await s.add(`magnet:?xt=urn:btih:${hex}`, { paused: true, filesUnwanted: [0] })).torrent;
    assert.equal(t.torrent.hasMetadata, true);
    await until(() => files.files.has(`/cfg/torrents/${hex}.torrent`), 1000, 'metainfo saved');
    assert.equal(t.record.magnet, undefined);
    assert.deepEqual(t.record.wanted, [false, true], 'add-time file choices applied');
    assert.equal(t.name, 'mag');
  } finally {
    await s.close();
  }
  files.files.delete(metadataCachePath('/dl', hex));
  const s2 = await openSession(memOptions(files));
  try {
    const t = s2.list()[0];
    assert.equal(t.torrent.hasMetadata, true, 'restored from the saved metainfo');
    assert.deepEqual(t.torrent.files.map((f) => f.priority), [0, 4]);
  } finally {
    await s2.close();
  }
});
