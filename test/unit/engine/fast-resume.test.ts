/**
 * Fast resume (EngineSettings.fastResume) with the default file storage: a restart trusts the pieces saved as
 * verified when their files are unchanged and hashes only the pieces of files that changed; missing or garbled
 * resume data means a full check; with the setting off nothing is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientEngine, TextLogger, resumeDataPath } from '../../../src/index.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { InlineHasher } from '../../../src/storage/index.js';
import type { Hasher } from '../../../src/storage/types.js';

const PIECE = 16 * 1024;
const FILES = [
  { path: ['a.bin'], length: 5 * PIECE + 100 },
  { path: ['sub', 'b.bin'], length: 3 * PIECE },
  { path: ['c.bin'], length: 2 * PIECE - 100 },
];

/** The payload under dir/payload with mtimes an hour old (never "racy"), and its torrent. */
async function payload(dir: string): Promise<Metainfo> {
  const total = FILES.reduce((n, f) => n + f.length, 0);
  const data = randomBytes(total);
  const hashes: Buffer[] = [];
  for (let o = 0; o < total; o += PIECE) hashes.push(createHash('sha1').update(data.subarray(o, o + PIECE)).digest());
  let o = 0;
  const old = new Date(Date.now() - 3600_000);
  for (const f of FILES) {
    const p = path.join(dir, 'payload', ...f.path);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, data.subarray(o, o + f.length));
    await utimes(p, old, old);
    o += f.length;
  }
  return parseTorrent(buildTorrent({ name: 'payload', files: FILES, pieceLength: PIECE, pieceHashes: Buffer.concat(hashes) }));
}

/** An inline hasher that counts what it hashes. */
function countingHasher(): { hasher: Hasher; count: () => number } {
  const inner = new InlineHasher();
  let n = 0;
  return {
    count: () => n,
    hasher: {
      sha1: (d) => (n++, inner.sha1(d)),
      hashPiece: (d) => (n++, inner.hashPiece(d)),
      destroy: () => inner.destroy(),
    },
  };
}

const quiet = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false };

test('a restart trusts unchanged files and re-checks only the pieces of a changed one', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-resume-'));
  const h = countingHasher();
  const engine = new ClientEngine(quiet, { createHasher: () => h.hasher });
  try {
    const meta = await payload(dir);
    const pieces = meta.info.pieceCount;
    const t = await engine.addTorrent(meta, { downloadDir: dir });
    const file = resumeDataPath(dir, meta.infoHashHex);

    await t.start();
    assert.equal(t.state, 'seeding');
    assert.equal(h.count(), pieces, 'first start: a full check');
    await t.stop();
    assert.ok(existsSync(file), 'resume data saved on stop');

    let before = h.count();
    await t.start();
    assert.equal(t.state, 'seeding');
    assert.equal(h.count() - before, 0, 'unchanged files: nothing hashed');
    await t.stop();

    // Change one byte of c.bin (its mtime moves): only the pieces touching c.bin are hashed, and the changed
    // piece is found missing.
    const c = await open(path.join(dir, 'payload', 'c.bin'), 'r+');
    const [b] = (await c.read(Buffer.alloc(1), 0, 1, 10)).buffer;
    await c.write(Buffer.from([b! ^ 0xff]), 0, 1, 10);
    await c.close();
    before = h.count();
    await t.start();
    const cFirstPiece = Math.floor((FILES[0]!.length + FILES[1]!.length) / PIECE);
    assert.equal(h.count() - before, pieces - cFirstPiece, 'only the pieces of c.bin');
    assert.equal(t.state, 'downloading');
    assert.equal(t.stats().piecesHave, pieces - 1, 'the changed piece is missing');
    await t.stop();

    // Garbled resume data: a full check.
    await writeFile(file, '{"version":1,"garbage":');
    before = h.count();
    await t.start();
    assert.equal(h.count() - before, pieces, 'full check');
    await t.stop();
    assert.match(await readFile(file, 'utf8'), /"fingerprint"/, 'rewritten on stop');
  } finally {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('fastResume off: no resume data is written or read', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-resume-'));
  const h = countingHasher();
  const engine = new ClientEngine({ ...quiet, fastResume: false }, { createHasher: () => h.hasher });
  try {
    const meta = await payload(dir);
    const t = await engine.addTorrent(meta, { downloadDir: dir });
    await t.start();
    await t.stop();
    assert.equal(existsSync(resumeDataPath(dir, meta.infoHashHex)), false);
    const before = h.count();
    await t.start();
    assert.equal(h.count() - before, meta.info.pieceCount, 'a full check every start');
    await t.stop();
  } finally {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('recheck() hashes everything again, ignoring resume data that cannot see a same-size, same-mtime change', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-resume-'));
  const h = countingHasher();
  const engine = new ClientEngine(quiet, { createHasher: () => h.hasher });
  try {
    const meta = await payload(dir);
    const t = await engine.addTorrent(meta, { downloadDir: dir });
    await t.start();
    await t.stop();
    // Corrupt a byte of a.bin and put its mtime back: resume data cannot tell.
    const a = path.join(dir, 'payload', 'a.bin');
    const st = await stat(a);
    const fh = await open(a, 'r+');
    const [b] = (await fh.read(Buffer.alloc(1), 0, 1, 5)).buffer;
    await fh.write(Buffer.from([b! ^ 0xff]), 0, 1, 5);
    await fh.close();
    await utimes(a, st.atime, st.mtime);
    await t.start();
    assert.equal(t.state, 'seeding', 'resume data trusted the file');
    const before = h.count();
    await t.recheck();
    assert.equal(h.count() - before, meta.info.pieceCount, 'every piece hashed');
    assert.equal(t.state, 'downloading');
    assert.equal(t.stats().piecesHave, meta.info.pieceCount - 1);
    await t.stop();
  } finally {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a download stopped right after completing: no resume warning, and the restart hashes nothing (clean stop)', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-resume-'));
  const warnings: string[] = [];
  const logger = new TextLogger('warn', (l) => warnings.push(l));
  const h = countingHasher();
  const seeder = new ClientEngine(quiet, {});
  const leecher = new ClientEngine({ ...quiet, resumeSaveIntervalMs: 1000 }, { logger, createHasher: () => h.hasher });
  try {
    const meta = await payload(dir);
    const st = await seeder.addTorrent(meta, { downloadDir: dir });
    await st.start();
    assert.equal(st.state, 'seeding');
    const out = path.join(dir, 'out');
    for (let round = 0; round < 3; round++) {
      await rm(out, { recursive: true, force: true });
      const t = await leecher.addTorrent(meta, { downloadDir: out });
      t.addPeer(`127.0.0.1:${seeder.listenPort}`);
      await t.start();
      await t.waitForCompletion();
      await t.stop(); // the save on completion and the final one overlap: one writer, no shared temp file
      const before = h.count();
      await t.start();
      assert.equal(t.state, 'seeding');
      assert.equal(h.count() - before, 0, `round ${round}: files written seconds ago are trusted after a clean stop`);
      await t.stop();
      await leecher.removeTorrent(t);
    }
    assert.deepEqual(warnings, []);
  } finally {
    await leecher.dispose();
    await seeder.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
