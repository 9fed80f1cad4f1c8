/** The magnet metadata cache (src/engine/metadata-cache.ts) through StateFiles, and the engine using it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ClientEngine } from '../../../src/index.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStateFiles } from '../../../src/storage/index.js';
import { encodeCachedMetadata, loadCachedMetadata, metadataCachePath, saveCachedMetadata } from '../../../src/engine/metadata-cache.js';

function meta(name: string, announceList?: string[][]): ReturnType<typeof parseTorrent> {
  const data = new Uint8Array(randomBytes(40_000));
  const pl = 16 * 1024;
  const hashes: Buffer[] = [];
  for (let o = 0; o < data.length; o += pl) hashes.push(createHash('sha1').update(data.subarray(o, o + pl)).digest());
  const t = parseTorrent(buildTorrent({ name, files: null, length: data.length, pieceLength: pl, pieceHashes: Buffer.concat(hashes) }));
  return announceList ? { ...t, announceList } : t;
}

test('metadata cache: saved under <dir>/.torrentkit/<info-hash>.torrent, loaded back with its trackers', async () => {
  const files = new MemoryStateFiles();
  const m = meta('a.bin', [['http://t1/announce'], ['udp://t2:80', 'udp://t3:80']]);
  const warnings: string[] = [];
  assert.equal(await loadCachedMetadata(files, '/dl', m.infoHashHex, (w) => warnings.push(w)), undefined);
  await saveCachedMetadata(files, '/dl', m);
  assert.deepEqual([...files.files.keys()], [metadataCachePath('/dl', m.infoHashHex)]);
  assert.ok(metadataCachePath('/dl', m.infoHashHex).endsWith(`/dl/.torrentkit/${m.infoHashHex}.torrent`));
  const back = await loadCachedMetadata(files, '/dl', m.infoHashHex, (w) => warnings.push(w));
  assert.ok(back);
  assert.equal(back.infoHashHex, m.infoHashHex);
  assert.deepEqual(back.infoBytes, m.infoBytes);
  assert.deepEqual(back.announceList, m.announceList);
  assert.deepEqual(warnings, []);
  // Without trackers the file is just the info dictionary.
  const bare = meta('b.bin');
  assert.equal(new TextDecoder().decode(encodeCachedMetadata(bare).subarray(0, 7)), 'd4:info');
});

test('metadata cache: a corrupt file is a warning and ignored; another torrent\'s file is ignored; read errors are "none"', async () => {
  const files = new MemoryStateFiles();
  const m = meta('a.bin');
  const other = meta('b.bin');
  const warnings: string[] = [];
  await files.writeAtomic(metadataCachePath('/dl', m.infoHashHex), new TextEncoder().encode('d4:infoi1e'));
  assert.equal(await loadCachedMetadata(files, '/dl', m.infoHashHex, (w) => warnings.push(w)), undefined);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`ignoring the cached metadata of ${m.infoHashHex}`));
  await files.writeAtomic(metadataCachePath('/dl', m.infoHashHex), encodeCachedMetadata(other));
  assert.equal(await loadCachedMetadata(files, '/dl', m.infoHashHex, (w) => warnings.push(w)), undefined);
  assert.equal(warnings.length, 1);
  const broken = { read: () => Promise.reject(new Error('EIO')), writeAtomic: () => Promise.resolve() };
  assert.equal(await loadCachedMetadata(broken, '/dl', m.infoHashHex, (w) => warnings.push(w)), undefined);
});

test('the engine finds a magnet\'s cached metadata through deps.stateFiles (nothing on disk)', async () => {
  const files = new MemoryStateFiles();
  const m = meta('cached.bin', [['http://tracker.invalid/announce']]);
  await saveCachedMetadata(files, '/nowhere', m);
  const engine = new ClientEngine({ listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false }, { stateFiles: files });
  try {
    const t = await engine.add(`magnet:?xt=urn:btih:${m.infoHashHex}&tr=udp%3A%2F%2Fmagnet.invalid%3A80`, { downloadDir: '/nowhere' });
    assert.equal(t.hasMetadata, true);
    assert.equal(t.meta.info.name, 'cached.bin');
  } finally {
    await engine.dispose();
  }
});
