/** Until the BEP 52 download path exists, the engine refuses v2-only torrents and btmh-only magnets clearly; hybrids are added (as v1). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientEngine } from '../../../src/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { buildTorrentV2, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStateFiles, MemoryStorage } from '../../../src/storage/index.js';
import { BtError } from '../../../src/core/errors.js';

const quiet: Partial<EngineSettings> = { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false };

test('v2-only torrents and btmh-only magnets: ERR_UNSUPPORTED; a hybrid is added', { timeout: 30_000 }, async () => {
  const root = new Uint8Array(32).fill(3);
  const v2 = buildTorrentV2({ name: 'x', version: 2, singleFile: true, pieceLength: 16384, files: [{ path: ['x'], length: 10, piecesRoot: root }] });
  const hybrid = buildTorrentV2({ name: 'x', version: 'hybrid', singleFile: true, pieceLength: 16384, pieceHashes: new Uint8Array(20), files: [{ path: ['x'], length: 10, piecesRoot: root }] });
  const engine = new ClientEngine(quiet, { transport: new MemoryTransport(), createStorage: (meta) => new MemoryStorage(meta.info), stateFiles: new MemoryStateFiles() });
  try {
    const unsupported = (e: unknown): boolean => e instanceof BtError && e.code === 'ERR_UNSUPPORTED' && /v2-only/.test(e.message);
    await assert.rejects(engine.addTorrent(v2, { downloadDir: '/x' }), unsupported);
    await assert.rejects(engine.addTorrent(parseTorrent(v2), { downloadDir: '/x' }), unsupported);
    await assert.rejects(engine.addTorrent(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}`, { downloadDir: '/x' }), unsupported);
    const t = await engine.addTorrent(hybrid, { downloadDir: '/x' });
    assert.equal(t.infoHashHex, parseTorrent(hybrid).infoHashHex);
  } finally {
    await engine.dispose();
  }
});
