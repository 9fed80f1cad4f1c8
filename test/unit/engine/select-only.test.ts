/** AddTorrentOptions.selectOnly (BEP 53 select-only, what `--select-files` uses): files not listed are skipped; it overrides a magnet's so=. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientEngine, metadataCachePath } from '../../../src/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';

const PIECE = 16 * 1024;
const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };
const FILES = [
  { path: ['one.bin'], length: 3 * PIECE },
  { path: ['two.bin'], length: 2 * PIECE },
  { path: ['three.bin'], length: PIECE + 5 },
];

test('selectOnly on a .torrent and on a magnet link (overriding its so=)', async (t) => {
  const pieces = Math.ceil(FILES.reduce((n, f) => n + f.length, 0) / PIECE);
  const bytes = buildTorrent({ name: 'sel', files: FILES, pieceLength: PIECE, pieceHashes: new Uint8Array(pieces * 20) });
  const meta = parseTorrent(bytes);
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-select-only-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The metadata cached where a magnet link finds it, so the file list is known at once.
  const cache = metadataCachePath(dir, meta.infoHashHex);
  await mkdir(path.dirname(cache), { recursive: true });
  await writeFile(cache, bytes);
  const magnet = `magnet:?xt=urn:btih:${meta.infoHashHex}&so=0`;
  const priorities = async (source: Parameters<ClientEngine['addTorrent']>[0], selectOnly?: number[]): Promise<number[]> => {
    const engine = new ClientEngine(quiet);
    try {
      const tm = await engine.addTorrent(source, { downloadDir: dir, ...(selectOnly ? { selectOnly } : {}) });
      return tm.files.map((f) => f.priority);
    } finally {
      await engine.dispose();
    }
  };
  assert.deepEqual(await priorities(meta), [4, 4, 4]);
  assert.deepEqual(await priorities(meta, [1]), [0, 4, 0]);
  assert.deepEqual(await priorities(meta, [0, 2, 7]), [4, 0, 4], 'indices past the last file are ignored');
  assert.deepEqual(await priorities(magnet), [4, 0, 0], "the magnet's so=0");
  assert.deepEqual(await priorities(magnet, [2]), [0, 0, 4], 'selectOnly wins over so=');
});
