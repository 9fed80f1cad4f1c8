/**
 * Issue 5 in the engine, over real loopback TCP: a magnet link fetched from another engine (BEP 9), and
 * hostile peers — metadata_size over the limit, metadata that does not hash to the info-hash, bad and huge
 * ut_pex messages — lose their connection (or are ignored) without a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { ClientEngine } from '../../../src/index.js';
import { bencode } from '../../../src/bencode/index.js';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { MemoryStorage } from '../../../src/storage/index.js';
import type { PieceStorage } from '../../../src/storage/types.js';
import { decodeExtendedHandshake, decodeUtMetadata, encodeHandshake, encodeUtMetadata, makeReserved } from '../../../src/wire/index.js';

function makeTorrent(size: number, pieceLength: number): { meta: Metainfo; data: Uint8Array } {
  const data = new Uint8Array(randomBytes(size));
  const n = Math.ceil(size / pieceLength);
  const hashes = new Uint8Array(n * 20);
  for (let i = 0; i < n; i++) hashes.set(createHash('sha1').update(data.subarray(i * pieceLength, (i + 1) * pieceLength)).digest(), i * 20);
  return { meta: parseTorrent(buildTorrent({ name: 'm.bin', files: null, length: size, pieceLength, pieceHashes: hashes })), data };
}

const noLsd = { lsdEnabled: false } as const;

function frame(id: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(0, 1 + payload.length);
  out[4] = id;
  out.set(payload, 5);
  return out;
}
const ext = (extId: number, payload: Uint8Array): Uint8Array => frame(20, Uint8Array.from([extId, ...payload]));

/**
 * A raw peer listening on loopback: answers the handshake, sends `extHandshake`, then hands every
 * extended message it receives to `onExt`. Resolves `closed` when the engine hangs up.
 */
function rawPeer(infoHash: Uint8Array, extHandshake: Record<string, unknown>, onExt: (id: number, payload: Uint8Array, send: (b: Uint8Array) => void) => void) {
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    let shook = false;
    s.on('error', () => {});
    s.on('close', () => resolveClosed());
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!shook) {
        if (buf.length < 68) return;
        buf = buf.subarray(68);
        shook = true;
        s.write(encodeHandshake({ reserved: makeReserved({ extended: true }), infoHash, peerId: randomBytes(20) }));
        s.write(ext(0, bencode(extHandshake as never)));
      }
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) break;
        const m = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (len >= 2 && m[0] === 20) onExt(m[1]!, new Uint8Array(m.subarray(2)), (b) => s.write(b));
      }
    });
  });
  return {
    closed,
    listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('a magnet link is fetched from another engine (BEP 9), cached, then downloaded', { timeout: 60_000 }, async () => {
  const { meta, data } = makeTorrent(17 * 1024 * 1024 + 777, 16 * 1024); // 1089 pieces: a 2-piece info dictionary
  assert.ok(meta.infoBytes.length > 16 * 1024);
  const seedStore = new MemoryStorage(meta.info, { content: data });
  const dir = mkdtempSync(join(tmpdir(), 'tk-magnet-'));
  const seeder = new ClientEngine({ ...noLsd, listenEndpoints: ['127.0.0.1:0'] }, { createStorage: (): PieceStorage => seedStore });
  let leechStore: MemoryStorage | undefined;
  const leecher = new ClientEngine({ ...noLsd, listenEndpoints: ['127.0.0.1:0'] }, {
    createStorage: (m): PieceStorage => (leechStore = new MemoryStorage(m.info)),
  });
  try {
    const st = await seeder.addTorrent(meta, { downloadDir: '/unused' });
    await st.start();
    const t = await leecher.add(`magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=127.0.0.1:${seeder.listenPort}`, { downloadDir: dir });
    assert.equal(t.hasMetadata, false);
    const got = new Promise<Metainfo>((r) => t.once('metadata', r));
    await t.start();
    assert.equal(t.state, 'metadata');
    const m = await got;
    assert.deepEqual(m.infoBytes, meta.infoBytes);
    await t.waitForCompletion();
    assert.deepEqual(await leechStore!.read(5, 0, 16 * 1024), data.subarray(5 * 16 * 1024, 6 * 16 * 1024));
    // cached for a restart
    for (let i = 0; i < 50 && !existsSync(join(dir, '.torrentkit', `${meta.infoHashHex}.torrent`)); i++) await new Promise((r) => setTimeout(r, 20));
    const again = new ClientEngine({ ...noLsd, listenEndpoints: ['127.0.0.1:0'] });
    try {
      const t2 = await again.add(`magnet:?xt=urn:btih:${meta.infoHashHex}`, { downloadDir: dir });
      assert.equal(t2.hasMetadata, true);
      assert.equal(t2.meta.info.pieceCount, meta.info.pieceCount);
    } finally {
      await again.dispose();
    }
  } finally {
    await leecher.dispose();
    await seeder.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile metadata: a size over the limit closes the peer; metadata not hashing to the info-hash bans it', { timeout: 30_000 }, async () => {
  const { meta } = makeTorrent(1024 * 1024, 16 * 1024);
  const dir = mkdtempSync(join(tmpdir(), 'tk-magnet-'));
  const engine = new ClientEngine({ ...noLsd, listenEndpoints: ['127.0.0.1:0'], encryption: ['plaintext'], maxMetadataSize: 64 * 1024 });
  try {
    // 1. metadata_size far over the limit
    const big = rawPeer(meta.infoHash, { m: { ut_metadata: 3 }, metadata_size: 100 * 1024 * 1024 }, () => {});
    const p1 = await big.listen();
    const t = await engine.add(`magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=127.0.0.1:${p1}`, { downloadDir: dir });
    const reasons: string[] = [];
    t.on('peer-disconnected', (_a, why) => reasons.push(why));
    await t.start();
    await big.closed;
    await big.close();
    assert.ok(reasons.some((r) => /metadata_size|metadata size/.test(r)), reasons.join('; '));
    assert.equal(t.state, 'metadata');

    // 2. the right size, the wrong bytes
    const size = meta.infoBytes.length;
    const liar = rawPeer(meta.infoHash, { m: { ut_metadata: 3 }, metadata_size: size }, (id, payload, send) => {
      if (id !== 3) return; // requests come on the id this peer advertised
      const req = decodeUtMetadata(payload);
      if (req.type !== 'request') return;
      const len = Math.min(16 * 1024, size - req.piece * 16 * 1024);
      send(ext(1, encodeUtMetadata({ type: 'data', piece: req.piece, totalSize: size, data: new Uint8Array(randomBytes(len)) })));
    });
    const banned = new Promise<string>((r) => t.once('peer-banned', (_a, why) => r(why)));
    t.addPeer(`127.0.0.1:${await liar.listen()}`);
    assert.match(await banned, /info-hash/);
    await liar.closed;
    await liar.close();
    assert.equal(t.state, 'metadata');
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile ut_pex: bad lengths close the peer; thousands of peers are capped, not a crash', { timeout: 30_000 }, async () => {
  const { meta, data } = makeTorrent(256 * 1024, 16 * 1024);
  const store = new MemoryStorage(meta.info, { content: data });
  const engine = new ClientEngine({ ...noLsd, listenEndpoints: ['127.0.0.1:0'], encryption: ['plaintext'] }, { createStorage: (): PieceStorage => store });
  try {
    const t = await engine.addTorrent(meta, { downloadDir: '/unused' });
    await t.start();
    const reasons: string[] = [];
    t.on('peer-disconnected', (_a, why) => reasons.push(why));
    // 1. thousands of peers in one message: read up to the cap, the connection stays.
    const many = Buffer.alloc(6 * 5000);
    for (let i = 0; i < 5000; i++) {
      many.writeUInt32BE(0x0a000000 + i + 1, i * 6);
      many.writeUInt16BE(6881, i * 6 + 4);
    }

    // Incoming raw connection: handshake, ext handshake, then the PEX messages.
    const sendAll = (msgs: Uint8Array[]): Promise<boolean> =>
      new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: engine.listenPort });
        const timer = setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 3000);
        s.on('connect', () => {
          s.write(encodeHandshake({ reserved: makeReserved({ extended: true }), infoHash: meta.infoHash, peerId: randomBytes(20) }));
          s.write(ext(0, bencode({ m: { ut_pex: 5 } })));
          for (const m of msgs) s.write(m);
        });
        s.on('data', () => {});
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    const closedOnFlood = await sendAll([ext(2, bencode({ added: new Uint8Array(many) }))]);
    assert.equal(closedOnFlood, false, 'a big PEX message is capped, not a reason to hang up');
    const closedOnBad = await sendAll([ext(2, bencode({ added: new Uint8Array(7) }))]);
    assert.equal(closedOnBad, true, 'a PEX list whose length is not a multiple of 6 closes the connection');
    assert.ok(reasons.some((r) => /ut_pex/.test(r)), reasons.join('; '));
    assert.equal(t.state, 'seeding');
  } finally {
    await engine.dispose();
  }
});

test('a flood of ut_metadata requests gets a bounded number of answers, then rejects', { timeout: 30_000 }, async () => {
  const { meta, data } = makeTorrent(256 * 1024, 32 * 1024);
  const store = new MemoryStorage(meta.info, { content: data });
  const engine = new ClientEngine(
    { listenEndpoints: ['127.0.0.1:0'], ...noLsd, dhtEnabled: false, portForwarding: false, encryption: ['plaintext'] },
    { createStorage: (): PieceStorage => store },
  );
  let served = 0;
  let rejected = 0;
  let sent = false;
  const peer = rawPeer(meta.infoHash, { m: { ut_metadata: 3 } }, (id, payload, send) => {
    if (id === 0 && !sent) {
      // The engine's extended handshake: ask for metadata piece 0, 300 times.
      sent = true;
      const ours = decodeExtendedHandshake(payload).m;
      const req = ext(ours['ut_metadata']!, encodeUtMetadata({ type: 'request', piece: 0 }));
      const all = new Uint8Array(req.length * 300);
      for (let i = 0; i < 300; i++) all.set(req, i * req.length);
      send(all);
    } else if (id === 3) {
      const m = decodeUtMetadata(payload, { maxMetadataSize: 1 << 20 });
      if (m.type === 'data') served++;
      else if (m.type === 'reject') rejected++;
    }
  });
  try {
    const t = await engine.addTorrent(meta, { downloadDir: '/unused' });
    await t.start();
    t.addPeer(`127.0.0.1:${await peer.listen()}`);
    const t0 = Date.now();
    while (served + rejected < 300 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(served + rejected, 300, `every request answered (${served} data, ${rejected} rejects)`);
    // The info dictionary fits one piece: about two answers at once, then one per second.
    const secs = (Date.now() - t0) / 1000;
    assert.ok(served >= 1 && served <= 3 + Math.ceil(secs), `served ${served} in ${secs.toFixed(2)} s`);
    assert.equal(t.state, 'seeding');
  } finally {
    await engine.dispose();
    await peer.close();
  }
});
