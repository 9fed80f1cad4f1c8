// Regression tests for the two quadratic parsers (issue 14, items 1 and 2), at the sizes that hung the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bencode } from '../../../src/bencode/index.js';
import { MAX_TORRENT_VALUES, MAX_TRACKERS, MAX_WEB_SEEDS, describeTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { BtError } from '../../../src/core/errors.js';

function torrent(files: { path: string[]; length: number }[], extra: Record<string, unknown> = {}): Uint8Array {
  const pieceLength = 16384;
  const total = files.reduce((n, f) => n + f.length, 0);
  const pieces = new Uint8Array(20 * Math.max(1, Math.ceil(total / pieceLength)));
  return bencode({ announce: 'http://t/announce', ...extra, info: { name: 'x', 'piece length': pieceLength, pieces, files } } as never);
}

/**
 * CPU milliseconds of f (user + system of this process): the bounds below are about the work a parser does, so they
 * must not count time the shared machine gave to other processes (wall time under load failed them in CI).
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
function timed<T>(f: () => T): [T | Error, number] {
  const t0 = cpuMs();
  try {
    return [f(), cpuMs() - t0];
  } catch (e) {
    return [e as Error, cpuMs() - t0];
  }
}

test('deep paths: a path deeper than PATH_MAX allows is refused by its component count, before its strings are built', () => {
  const deep = Array.from({ length: 8000 }, () => 'a');
  const files = Array.from({ length: 40 }, (_, i) => ({ path: [...deep.slice(0, 7999), `f${i}`], length: 1 }));
  const [r, ms] = timed(() => parseTorrent(torrent(files)));
  assert.ok(r instanceof BtError && r.code === 'ERR_METAINFO', String(r));
  assert.match(r.message, /info\.files\[0\]\.path.*8000 components/);
  assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
});

test('deep paths within PATH_MAX: 400 files x 1,500 components parse in linear time (the prefix check was quadratic)', () => {
  const mid = Array.from({ length: 1500 }, () => 'b');
  const files = Array.from({ length: 400 }, (_, i) => ({ path: [...mid.slice(0, 1499), `f${i}`], length: 1 }));
  const bytes = torrent(files);
  const [r, ms] = timed(() => parseTorrent(bytes));
  assert.ok(!(r instanceof Error), String(r));
  assert.equal(r.info.files.length, 400);
  // The old prefix-string check built 400 x 1,500^2 / 2 characters (450 M): tens of seconds.
  assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
});

test('a deep path inside a file is refused with a short message', () => {
  const deep = Array.from({ length: 2000 }, () => 'a');
  const [r, ms] = timed(() => parseTorrent(torrent([{ path: ['a'], length: 1 }, { path: deep, length: 1 }])));
  assert.ok(r instanceof BtError && r.code === 'ERR_METAINFO', String(r));
  assert.match(r.message, /is inside file "a"/);
  assert.ok(r.message.length < 600, `${r.message.length} characters`);
  assert.ok(ms < 1000);
});

test('duplicate and file-in-file paths are still refused', () => {
  assert.throws(() => parseTorrent(torrent([{ path: ['a', 'b'], length: 1 }, { path: ['a', 'b'], length: 1 }])), /duplicate path "a\/b"/);
  assert.throws(() => parseTorrent(torrent([{ path: ['a', 'b'], length: 1 }, { path: ['a'], length: 1 }])), /duplicate path "a"/);
  assert.throws(() => parseTorrent(torrent([{ path: ['a'], length: 1 }, { path: ['a', 'b'], length: 1 }])), /"a\/b" is inside file "a"/);
});

test('100,000 web seeds de-duplicate in well under a second (was 141 s); the first MAX_WEB_SEEDS are kept', () => {
  const urls = Array.from({ length: 100_000 }, (_, i) => `http://seed${i % 50_000}.example/x`);
  const bytes = torrent([{ path: ['a'], length: 1 }], { 'url-list': urls });
  const [r, ms] = timed(() => parseTorrent(bytes));
  assert.ok(!(r instanceof Error), String(r));
  assert.equal(r.urlList.length, MAX_WEB_SEEDS);
  assert.equal(r.urlList[0], 'http://seed0.example/x');
  assert.deepEqual(r.ignored, { trackers: 0, webSeeds: 50_000 - MAX_WEB_SEEDS });
  assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
});

test('100,000 tracker tiers: the first MAX_TRACKERS URLs are kept, the rest counted and shown as ignored', () => {
  const tiers = Array.from({ length: 100_000 }, (_, i) => [`http://t${i}.example/announce`]);
  const bytes = torrent([{ path: ['a'], length: 1 }], { 'announce-list': tiers });
  const [r, ms] = timed(() => parseTorrent(bytes));
  assert.ok(!(r instanceof Error), String(r));
  assert.equal(r.announceList.flat().length, MAX_TRACKERS);
  assert.equal(r.ignored?.trackers, 100_000 - MAX_TRACKERS);
  assert.ok(describeTorrent(r).some((l) => l.startsWith('trackers ignored: 99800')));
  assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
});

test('a torrent of more than MAX_TORRENT_VALUES values is refused by a scan, before any value is built', () => {
  const files = Array.from({ length: 420_000 }, (_, i) => ({ path: [`f${i}`], length: 1 }));
  const bytes = torrent(files);
  const [r, ms] = timed(() => parseTorrent(bytes));
  assert.ok(r instanceof BtError && r.code === 'ERR_BENCODE', String(r));
  assert.match(r.message, new RegExp(`more than ${MAX_TORRENT_VALUES} values`));
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});
