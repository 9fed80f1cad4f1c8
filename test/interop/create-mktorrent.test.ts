/**
 * BEP 3 torrent creation interop: torrentkit's info-hash (and exact info bytes) must equal mktorrent's for the
 * same content and piece length, for a directory with nested, unaligned files and for a single file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTorrentFromPath } from '../../src/storage/create-torrent.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { toHex } from '../../src/util/bytes.js';

const run = promisify(execFile);

function hasMktorrent(): boolean {
  const r = spawnSync('mktorrent', ['-h'], { stdio: 'ignore' });
  return r.error === undefined;
}

/** Deterministic filler bytes (xorshift32). */
function content(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const LOG2 = [15, 18, 20];

test('info-hash matches mktorrent', { timeout: 120_000 }, async (t) => {
  if (!hasMktorrent()) {
    if (process.env['CI']) assert.fail('mktorrent missing in CI');
    t.skip('mktorrent not installed (apt-get install mktorrent)');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'tk-mktorrent-'));
  try {
    const dir = join(tmp, 'payload');
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(dir, 'empty-dir'));
    mkdirSync(join(dir, 'Z-upper'));
    writeFileSync(join(dir, 'big.bin'), content(3_000_001, 1));
    writeFileSync(join(dir, 'sub', 'small.txt'), content(777, 2));
    writeFileSync(join(dir, 'sub', 'deeper', 'mib.bin'), content(1 << 20, 3));
    // ordering edge cases: strcmp on the full path puts 'sub-x' < 'sub.txt' < 'sub/...'
    writeFileSync(join(dir, 'sub-x'), content(5, 4));
    writeFileSync(join(dir, 'sub.txt'), content(12345, 5));
    writeFileSync(join(dir, 'Z-upper', 'f'), content(99, 6));
    writeFileSync(join(dir, '.hidden'), content(3, 7));
    writeFileSync(join(dir, 'empty.bin'), new Uint8Array(0));
    writeFileSync(join(dir, 'été.txt'), content(10, 8));
    symlinkSync('big.bin', join(dir, 'link-to-big'));
    const single = join(tmp, 'single.dat');
    writeFileSync(single, content(3_000_001, 9));

    for (const target of [dir, single]) {
      for (const l of LOG2) {
        await t.test(`${target === dir ? 'directory' : 'single file'} at 2^${l}`, async () => {
          const out = join(tmp, `m-${l}-${target === dir ? 'dir' : 'file'}.torrent`);
          await run('mktorrent', ['-d', '-l', String(l), '-o', out, target]);
          const theirs = parseTorrent(new Uint8Array(readFileSync(out)));
          const ours = await createTorrentFromPath(target, { pieceLength: 2 ** l });
          assert.deepEqual(
            ours.meta.info.files.map((f) => f.path.join('/')),
            theirs.info.files.map((f) => f.path.join('/')),
          );
          assert.equal(toHex(ours.meta.infoBytes), toHex(theirs.infoBytes));
          assert.equal(ours.meta.infoHashHex, theirs.infoHashHex);
        });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
