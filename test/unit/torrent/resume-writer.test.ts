/**
 * ResumeWriter: one save in flight, requests coalesced into one follow-up that carries the newest pieces,
 * periodic saves only after progress, the final (clean) save at stop waits for the one in flight, failures warn
 * once, nothing happens after stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/index.js';
import { resolveSettings } from '../../../src/engine/settings.js';
import type { Logger, LogMsg } from '../../../src/core/index.js';
import type { TorrentInfo } from '../../../src/metainfo/index.js';
import type { ResumeResult, ResumeStore } from '../../../src/storage/index.js';
import { ResumeWriter } from '../../../src/torrent/resume-writer.js';
import { Bitfield } from '../../../src/util/index.js';

const INFO = { pieceCount: 16 } as unknown as TorrentInfo;

interface Saved {
  pieces: number[];
  clean: boolean;
}

/** A ResumeStore whose saves finish when the test says so (or at once with `auto`). */
class FakeStore implements ResumeStore {
  readonly saved: Saved[] = [];
  readonly waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  concurrent = 0;
  maxConcurrent = 0;
  auto = false;
  failNext = 0;
  load(): Promise<ResumeResult | undefined> {
    return Promise.resolve(undefined);
  }
  save(_info: TorrentInfo, have: Bitfield, opts?: { clean?: boolean }): Promise<void> {
    const pieces = Array.from({ length: have.length }, (_, i) => i).filter((i) => have.get(i));
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    const done = (): void => {
      this.concurrent--;
    };
    if (this.failNext > 0) {
      this.failNext--;
      done();
      return Promise.reject(new Error('ENOSPC: no space left on device'));
    }
    this.saved.push({ pieces, clean: opts?.clean === true });
    if (this.auto) {
      done();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({
        resolve: () => (done(), resolve()),
        reject: (e) => (done(), reject(e)),
      });
    });
  }
  /** Finish the oldest save in flight. */
  finish(): void {
    const w = this.waiting.shift();
    assert.ok(w, 'a save is in flight');
    w.resolve();
  }
}

class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  private put(level: string, m: LogMsg): void {
    this.lines.push(`${level}: ${typeof m === 'function' ? m() : m}`);
  }
  debug(m: LogMsg): void {
    this.put('debug', m);
  }
  info(m: LogMsg): void {
    this.put('info', m);
  }
  warn(m: LogMsg): void {
    this.put('warn', m);
  }
  error(m: LogMsg): void {
    this.put('error', m);
  }
  forComponent(): Logger {
    return this;
  }
  get warnings(): string[] {
    return this.lines.filter((l) => l.startsWith('warn'));
  }
}

const tick = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

function rig(intervalMs = 30_000, storeOn = true) {
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const store = new FakeStore();
  const have = new Bitfield(INFO.pieceCount);
  let flushes = 0;
  let flushFails = 0;
  const writer = new ResumeWriter({
    clock,
    log,
    intervalMs,
    store: () => (storeOn ? store : undefined),
    info: () => INFO,
    have: () => have,
    flush: () => {
      flushes++;
      if (flushFails > 0) {
        flushFails--;
        return Promise.reject(new Error('EIO: fsync failed'));
      }
      return Promise.resolve();
    },
  });
  const verify = (i: number): void => {
    have.set(i);
    writer.pieceVerified();
  };
  return {
    clock,
    log,
    store,
    have,
    writer,
    verify,
    flushes: () => flushes,
    failFlush: () => void flushFails++,
  };
}

test('one save in flight; requests meanwhile coalesce into one follow-up with the newest pieces', async () => {
  const r = rig();
  r.writer.start();
  r.verify(0);
  r.writer.request();
  await tick();
  assert.equal(r.store.saved.length, 1);
  assert.deepEqual(r.store.saved[0]!.pieces, [0]);
  r.verify(1);
  r.writer.request();
  r.verify(2);
  r.writer.request();
  r.writer.request();
  await tick();
  assert.equal(r.store.saved.length, 1, 'no second save while one is in flight');
  r.store.finish();
  await tick();
  assert.equal(r.store.saved.length, 2, 'one follow-up for three requests');
  assert.deepEqual(r.store.saved[1]!.pieces, [0, 1, 2], 'the follow-up snapshots when it begins');
  r.store.finish();
  await r.writer.idle();
  assert.equal(r.store.saved.length, 2);
  assert.equal(r.store.maxConcurrent, 1);
  assert.equal(r.flushes(), 2, 'the storage is flushed before each save');
  assert.equal(r.store.saved.every((s) => !s.clean), true, 'saves while running are not clean');
  assert.deepEqual(r.log.warnings, []);
});

test('periodic saves: every interval, only when pieces were verified since the last save', async () => {
  const r = rig(30_000);
  r.store.auto = true;
  r.writer.start();
  r.clock.advance(30_000);
  await tick();
  assert.equal(r.store.saved.length, 0, 'nothing verified: no save (no stat of every file)');
  r.verify(3);
  r.clock.advance(29_999);
  await tick();
  assert.equal(r.store.saved.length, 0, 'not before the interval');
  r.clock.advance(1);
  await tick();
  assert.equal(r.store.saved.length, 1);
  assert.deepEqual(r.store.saved[0]!.pieces, [3]);
  for (let i = 0; i < 10; i++) {
    r.clock.advance(30_000);
    await tick();
  }
  assert.equal(r.store.saved.length, 1, 'no progress, no more saves');
  // Many pieces within one interval: one save.
  for (let i = 4; i < 12; i++) {
    r.verify(i);
    r.clock.advance(1000);
  }
  r.clock.advance(30_000);
  await tick();
  assert.equal(r.store.saved.length, 2);
  assert.equal(r.store.saved[1]!.pieces.length, 9);
});

test('the final save at stop waits for the save in flight, drops pending requests, is clean, and nothing follows', async () => {
  const r = rig();
  r.writer.start();
  r.verify(0);
  r.writer.request();
  r.verify(1);
  r.writer.request(); // pending
  await tick();
  let finalDone = false;
  const fin = r.writer.final(r.have.clone()).then(() => void (finalDone = true));
  await tick();
  assert.equal(finalDone, false, 'waits for the save in flight');
  assert.equal(r.store.saved.length, 1);
  r.store.finish();
  await tick();
  assert.equal(r.store.saved.length, 2, 'the pending request was dropped; the final save came instead');
  assert.deepEqual(r.store.saved[1], { pieces: [0, 1], clean: true });
  r.store.finish();
  await fin;
  assert.equal(r.store.maxConcurrent, 1);
  // Stopped: requests and ticks do nothing.
  r.verify(2);
  r.writer.request();
  r.clock.advance(120_000);
  await tick();
  assert.equal(r.store.saved.length, 2);
  assert.equal(r.clock.nextDue(), undefined, 'no timer left behind');
});

test('quiesce (before the storage closes) waits for the save in flight; start() again resumes periodic saves', async () => {
  const r = rig(10_000);
  r.writer.start();
  r.verify(0);
  r.clock.advance(10_000);
  await tick();
  assert.equal(r.writer.busy, true);
  let quiet = false;
  const q = r.writer.quiesce().then(() => void (quiet = true));
  await tick();
  assert.equal(quiet, false);
  r.store.finish();
  await q;
  assert.equal(r.writer.busy, false);
  r.store.auto = true;
  r.writer.start();
  r.verify(1);
  r.clock.advance(10_000);
  await tick();
  assert.equal(r.store.saved.length, 2);
});

test('a failed save warns once per run of failures, retries at the next interval, and recovers', async () => {
  const r = rig(30_000);
  r.store.auto = true;
  r.writer.start();
  r.store.failNext = 3;
  r.verify(0);
  r.writer.request();
  await tick();
  r.clock.advance(30_000);
  await tick();
  r.failFlush();
  r.clock.advance(30_000);
  await tick();
  assert.equal(r.log.warnings.length, 1, `one warning: ${r.log.warnings.join(' | ')}`);
  assert.match(r.log.warnings[0]!, /resume data not saved: ENOSPC/);
  r.store.failNext = 0;
  r.clock.advance(30_000);
  await tick();
  r.clock.advance(30_000);
  await tick();
  assert.ok(r.store.saved.length >= 1, 'a later save succeeds without new pieces (the failure is retried)');
  assert.deepEqual(r.store.saved.at(-1)!.pieces, [0]);
  r.store.failNext = 1;
  r.verify(1);
  r.writer.request();
  await tick();
  assert.equal(r.log.warnings.length, 2, 'a new failure after a success warns again');
});

test('without a store (fast resume off) nothing is flushed or saved', async () => {
  const r = rig(1000, false);
  r.writer.start();
  r.verify(0);
  r.writer.request();
  await tick();
  assert.equal(r.clock.nextDue(), undefined, 'no periodic timer');
  await r.writer.final(r.have.clone());
  assert.equal(r.flushes(), 0);
  assert.equal(r.store.saved.length, 0);
});

test('interval 0: no periodic timer, requests still save', async () => {
  const r = rig(0);
  r.store.auto = true;
  r.writer.start();
  assert.equal(r.clock.nextDue(), undefined);
  r.verify(0);
  r.writer.request();
  await r.writer.idle();
  assert.equal(r.store.saved.length, 1);
});

test('resumeSaveIntervalMs: 30 s by default; 0 or at least 1000 ms, whole numbers', () => {
  assert.equal(resolveSettings().resumeSaveIntervalMs, 30_000);
  assert.equal(resolveSettings({ resumeSaveIntervalMs: 0 }).resumeSaveIntervalMs, 0);
  assert.equal(resolveSettings({ resumeSaveIntervalMs: 1000 }).resumeSaveIntervalMs, 1000);
  for (const bad of [-1, 1, 999, 1500.5, Number.NaN, Infinity]) {
    assert.throws(() => resolveSettings({ resumeSaveIntervalMs: bad }), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS' && /resumeSaveIntervalMs/.test(e.message), String(bad));
  }
});
