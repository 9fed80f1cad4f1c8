/** A peer that sends garbage after a valid handshake loses its connection; the engine keeps serving others. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { ClientEngine } from '../../../src/index.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { MemoryStorage } from '../../../src/storage/index.js';
import type { PieceStorage } from '../../../src/storage/types.js';
import { encodeHandshake, makeReserved } from '../../../src/wire/index.js';

function rawPeer(port: number, infoHash: Uint8Array, then: Uint8Array): Promise<{ closed: boolean; got: number }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = 0;
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ closed, got });
    };
    const timer = setTimeout(() => done(false), 5000);
    s.on('connect', () => {
      s.write(encodeHandshake({ reserved: makeReserved({ fast: true, extended: true }), infoHash, peerId: randomBytes(20) }));
      s.write(then);
    });
    s.on('data', (d) => (got += d.length));
    s.on('error', () => {});
    s.on('close', () => done(true));
  });
}

test('garbage after the handshake closes that connection only', { timeout: 30_000 }, async () => {
  const data = new Uint8Array(randomBytes(256 * 1024));
  const pl = 32 * 1024;
  const hashes = new Uint8Array((data.length / pl) * 20);
  for (let i = 0; i < data.length / pl; i++) hashes.set(createHash('sha1').update(data.subarray(i * pl, (i + 1) * pl)).digest(), i * 20);
  const meta = parseTorrent(buildTorrent({ name: 'x.bin', files: null, length: data.length, pieceLength: pl, pieceHashes: hashes }));
  const store = new MemoryStorage(meta.info, { content: data });
  const engine = new ClientEngine({ listenEndpoints: ['127.0.0.1:0'] }, { createStorage: (): PieceStorage => store });
  try {
    const t = await engine.addTorrent(meta, { downloadDir: '/unused' });
    await t.start();
    assert.equal(t.state, 'seeding');
    const port = engine.listenPort;
    const hostile = [
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 7]), // a 4 GiB length prefix
      Uint8Array.from([0, 0, 0, 3, 6, 0, 0]), // a request with a 2-byte payload
      Uint8Array.from([0, 0, 0, 13, 6, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 64, 0]), // request for piece 99 of 8
      Uint8Array.from([0, 0, 0, 2, 5, 0xff]), // bitfield with spare bits set / wrong length
    ];
    for (const h of hostile) {
      const r = await rawPeer(port, meta.infoHash, h);
      assert.equal(r.closed, true, `connection closed after ${Buffer.from(h).toString('hex')}`);
    }
    assert.equal(t.state, 'seeding');
    // A well-behaved downloader still completes from the same engine.
    const leechStore = new MemoryStorage(meta.info);
    const leecher = new ClientEngine({ listenEndpoints: ['127.0.0.1:0'] }, { createStorage: (): PieceStorage => leechStore });
    try {
      const lt = await leecher.addTorrent(meta, { downloadDir: '/unused' });
      lt.addPeer(`127.0.0.1:${port}`);
      await lt.start();
      await lt.waitForCompletion();
      assert.deepEqual(await leechStore.read(0, 0, pl), data.subarray(0, pl));
    } finally {
      await leecher.dispose();
    }
  } finally {
    await engine.dispose();
  }
});
