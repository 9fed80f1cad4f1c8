/**
 * session.json cut short or garbled: the session falls back to the previous generation (session.json.prev) with a
 * warning naming the file; when both are bad, openSession refuses with ERR_STATE_FILE and changes neither file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBtError } from '../../../src/core/index.js';
import { MemoryStateFiles, NodeStateFiles } from '../../../src/storage/index.js';
import { openSession } from '../../../src/session/index.js';
import { makeTorrent, memOptions, memSession } from './helpers.js';

/** A config with two generations: .prev holds torrent 1, session.json torrents 1 and 2. */
async function twoGenerations(files: MemoryStateFiles): Promise<void> {
  const s = await memSession(files);
  await s.add(makeTorrent('first').bytes, { paused: true });
  await s.close();
  const s2 = await memSession(files);
  await s2.add(makeTorrent('second').bytes, { paused: true });
  await s2.close();
}

const MAIN = '/cfg/session.json';
const PREV = '/cfg/session.json.prev';

for (const [what, damage] of [
  ['cut short', (b: Uint8Array) => b.subarray(0, Math.floor(b.length / 2))],
  ['garbled bytes', (b: Uint8Array) => b.map((x, i) => (i % 7 === 3 ? 0xff : x))],
  ['a wrong shape', () => new TextEncoder().encode('{"version":1,"nextId":"x","torrents":[]}')],
  ['empty', () => new Uint8Array(0)],
] as const) {
  test(`session.json ${what}: falls back to session.json.prev with a warning`, { timeout: 5000 }, async () => {
    const files = new MemoryStateFiles();
    await twoGenerations(files);
    const bad = damage(files.files.get(MAIN)!);
    files.files.set(MAIN, bad);
    const warnings: string[] = [];
    const s = await memSession(files, { onWarning: (m) => warnings.push(m) });
    try {
      assert.ok(warnings.some((w) => w.includes(MAIN) && w.includes(PREV)), `warning names both files: ${warnings.join(' | ')}`);
      assert.ok(s.list().length >= 1, 'the previous good state is there');
      assert.equal(s.list()[0].name, 'first');
      assert.deepEqual(files.files.get(`${MAIN}.corrupt`), bad, 'the bad file is kept for a look');
      const next = await s.add(makeTorrent('third').bytes, { paused: true });
      assert.ok(next.torrent.id >= 2);
    } finally {
      await s.close();
    }
  });
}

test('both generations bad: openSession refuses with ERR_STATE_FILE and touches neither file', { timeout: 5000 }, async () => {
  const files = new MemoryStateFiles();
  await twoGenerations(files);
  const main = files.files.get(MAIN)!.subarray(0, 10);
  const prev = new TextEncoder().encode('{"version": 99}');
  files.files.set(MAIN, main);
  files.files.set(PREV, prev);
  const names = [...files.files.keys()].sort();
  await assert.rejects(memSession(files), (e) => {
    assert.ok(isBtError(e, 'ERR_STATE_FILE'), String(e));
    assert.match(e.message, /session\.json is cut short or garbled/);
    assert.match(e.message, /session\.json\.prev/);
    assert.match(e.message, /refusing/);
    return true;
  });
  assert.deepEqual(files.files.get(MAIN), main);
  assert.deepEqual(files.files.get(PREV), prev);
  assert.deepEqual([...files.files.keys()].sort(), names, 'no file written');
});

test('settings.json garbled with no previous generation: a clear refusal naming it', { timeout: 5000 }, async () => {
  const files = new MemoryStateFiles();
  files.files.set('/cfg/settings.json', new TextEncoder().encode('{"speedLimitDown": 5,'));
  await assert.rejects(memSession(files), (e) => isBtError(e, 'ERR_STATE_FILE') && e.message.includes('/cfg/settings.json'));
  files.files.set('/cfg/settings.json', new TextEncoder().encode('{"speedLimitDown": "fast"}'));
  await assert.rejects(memSession(files), (e) => isBtError(e) && e.message.includes('speedLimitDown'));
});

test('on disk (NodeStateFiles): a truncated session.json falls back to .prev, both bad refuses, nothing rewritten', { timeout: 5000 }, async () => {
  const cfg = await mkdtemp(path.join(tmpdir(), 'tk-session-'));
  const opts = (files = new NodeStateFiles()): ReturnType<typeof memOptions> => {
    const o = memOptions(undefined, { configDir: cfg });
    return { ...o, deps: { ...o.deps, stateFiles: files } };
  };
  try {
    const s = await openSession(opts());
    await s.add(makeTorrent('disk1').bytes, { paused: true });
    await s.close();
    const s1 = await openSession(opts());
    await s1.add(makeTorrent('disk2').bytes, { paused: true });
    await s1.close();
    const main = path.join(cfg, 'session.json');
    const full = await readFile(main);
    await writeFile(main, full.subarray(0, full.length - 20));
    const warnings: string[] = [];
    const s2 = await openSession({ ...opts(), onWarning: (m) => warnings.push(m) });
    assert.ok(s2.list().some((t) => t.name === 'disk1'));
    assert.ok(warnings.some((w) => w.includes(main)));
    await s2.close();
    // Both bad now.
    await writeFile(main, 'garbage');
    await writeFile(`${main}.prev`, '{');
    await assert.rejects(openSession(opts()), (e) => isBtError(e, 'ERR_STATE_FILE'));
    assert.equal(await readFile(main, 'utf8'), 'garbage');
    assert.equal(await readFile(`${main}.prev`, 'utf8'), '{');
  } finally {
    await rm(cfg, { recursive: true, force: true });
  }
});
