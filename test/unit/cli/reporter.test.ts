/** Reporter (src/cli/reporter.ts) with a fake write / clock / timer: JSON lines, plain lines, tracker de-duplication. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reporter, progressMode } from '../../../src/cli/reporter.js';
import type { ProgressSource } from '../../../src/cli/format.js';
import { progressJson, progressLine, trackerJson, trackerLine } from '../../../src/cli/format.js';
import { FakeIo, peer, stats, tracker } from './fakes.js';

const source = (over: Partial<ProgressSource> = {}): ProgressSource => ({ stats: () => stats(), trackers: [tracker()], webSeeds: [], peerList: () => [peer()], ...over });

test('progressMode: --json wins; else a bar on a terminal, lines when piped', () => {
  assert.equal(progressMode(true, true), 'json');
  assert.equal(progressMode(true, false), 'json');
  assert.equal(progressMode(undefined, true), 'bar');
  assert.equal(progressMode(false, false), 'lines');
});

test('json mode: events as JSON lines, text lines suppressed, progress on every tick until end()', () => {
  const io = new FakeIo();
  const src = source();
  const r = new Reporter('json', src, 500, io);
  r.json({ event: 'checked', have: 1, pieces: 2 });
  r.line('not in json mode');
  r.begin();
  assert.deepEqual(io.timers.map((t) => t.ms), [500]);
  io.tick(500);
  io.tick(500);
  r.end();
  io.tick(500);
  const lines = io.lines();
  assert.equal(lines.length, 3);
  assert.equal(lines[0], '{"event":"checked","have":1,"pieces":2}');
  assert.equal(lines[2], JSON.stringify(progressJson(src, io.time - 500)));
  assert.equal(r.elapsed(), 1.5);
});

test('lines mode: text lines and one progress line per tick; JSON suppressed', () => {
  const io = new FakeIo();
  const r = new Reporter('lines', source(), 1000, io);
  r.json({ event: 'x' });
  r.line('hello');
  r.begin();
  io.tick(1000);
  r.end();
  assert.deepEqual(io.lines(), ['hello', progressLine(stats())]);
});

test('elapsed() counts from begin(); now() is the injected clock', () => {
  const io = new FakeIo();
  const r = new Reporter('lines', source(), 1000, io);
  io.time += 10_000;
  r.begin();
  io.time += 2500;
  assert.equal(r.elapsed(), 2.5);
  assert.equal(r.now(), io.time);
  r.end();
});

test('tracker(): reported once per change of state, error, peers received or warning', () => {
  const io = new FakeIo();
  const r = new Reporter('json', source(), 1000, io);
  const a = tracker({ nextAnnounce: io.time + 60_000 });
  r.tracker(a);
  r.tracker({ ...a, nextAnnounce: io.time + 30_000 });
  r.tracker({ ...a, totalPeersReceived: 8 });
  r.tracker({ ...a, url: 'udp://other:1' });
  r.tracker({ ...a, state: 'failed', lastError: 'timeout' });
  r.tracker({ ...a, state: 'failed', lastError: 'timeout' });
  const events = io.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(events.length, 4);
  assert.deepEqual(events[0], { event: 'tracker', ...trackerJson(a, io.time) });
  assert.deepEqual(events.map((e) => [e.url, e.state, e.totalPeers]), [
    ['http://t.example/announce', 'working', 7],
    ['http://t.example/announce', 'working', 8],
    ['udp://other:1', 'working', 7],
    ['http://t.example/announce', 'failed', 7],
  ]);

  const text = new FakeIo();
  const rt = new Reporter('lines', source(), 1000, text);
  rt.tracker(a);
  rt.tracker(a);
  assert.deepEqual(text.lines(), [trackerLine(a, text.time)]);
});
