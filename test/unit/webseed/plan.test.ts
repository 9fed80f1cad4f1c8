/** BEP 19 URL building and range planning (src/webseed/plan.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { planRanges, usableWebSeed, webSeedFileUrl } from '../../../src/webseed/plan.js';

const multi = parseTorrent(
  buildTorrent({
    name: 'My Files',
    files: [
      { path: ['a b.txt'], length: 100 },
      { path: ['sub', 'ü#?.bin'], length: 50 },
      { path: ['c'], length: 0 },
      { path: ['d'], length: 30 },
    ],
    pieceLength: 64,
    pieceHashes: new Uint8Array(20 * 3),
  }),
).info;
const single = parseTorrent(buildTorrent({ name: 'x.iso', files: null, length: 1000, pieceLength: 256, pieceHashes: new Uint8Array(20 * 4) })).info;

test('file URLs: multi-file appends name and path (percent-encoded); single-file only when the URL ends in /', () => {
  assert.equal(webSeedFileUrl('http://h/pub/', multi, 0), 'http://h/pub/My%20Files/a%20b.txt');
  assert.equal(webSeedFileUrl('http://h/pub', multi, 1), 'http://h/pub/My%20Files/sub/%C3%BC%23%3F.bin');
  assert.equal(webSeedFileUrl('http://h/dl/', single, 0), 'http://h/dl/x.iso');
  assert.equal(webSeedFileUrl('http://h/dl/x.iso', single, 0), 'http://h/dl/x.iso');
});

test('a torrent byte range becomes per-file range requests, skipping empty files', () => {
  assert.deepEqual(planRanges('http://h/', multi, 90, 70), [
    { url: 'http://h/My%20Files/a%20b.txt', start: 90, length: 10 },
    { url: 'http://h/My%20Files/sub/%C3%BC%23%3F.bin', start: 0, length: 50 },
    { url: 'http://h/My%20Files/d', start: 0, length: 10 },
  ]);
  assert.deepEqual(planRanges('http://h/dl/', single, 256, 256), [{ url: 'http://h/dl/x.iso', start: 256, length: 256 }]);
});

test('only http and https web seeds are used', () => {
  assert.equal(usableWebSeed('http://a/'), true);
  assert.equal(usableWebSeed('https://a/b'), true);
  assert.equal(usableWebSeed('ftp://a/'), false);
  assert.equal(usableWebSeed('not a url'), false);
});
