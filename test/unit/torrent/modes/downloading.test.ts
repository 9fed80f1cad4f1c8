/** DownloadingMode on the rig: a scripted seed serves the torrent to completion; a corrupt seed is banned. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../../../src/storage/memory-storage.js';
import { ScriptedPeer, TorrentRig, pieceBytes } from '../../../helpers/torrent-rig.js';

describe('DownloadingMode', () => {
  it('requests blocks from an unchoking seed, verifies them, sends have, completes and seeds', async () => {
    const rig = new TorrentRig({ pieces: 6, pieceLength: 32 * 1024, lastPieceShort: 1000 });
    const n = rig.meta.info.pieceCount;
    await rig.start();
    assert.equal(rig.torrent.state, 'downloading');
    const seed = await rig.connect();
    assert.deepEqual(seed.types, [], 'nothing to say to a plain peer while we have nothing');
    seed.send({ type: 'bitfield', bits: ScriptedPeer.bits(n) });
    await seed.next('interested');
    assert.equal(seed.received('request').length, 0, 'no requests while choked');
    seed.send({ type: 'unchoke' });
    const first = await seed.next('request');
    assert.equal(first.length, 16 * 1024);
    // 2 blocks per piece, the last piece short: every block asked once.
    const reqs = [first, ...seed.takeAll('request')];
    assert.equal(reqs.length, 2 * n);
    assert.equal(new Set(reqs.map((r) => `${r.index}:${r.begin}`)).size, 2 * n);
    const last = reqs.find((r) => r.index === n - 1 && r.begin === 16 * 1024)!;
    assert.equal(last.length, 16 * 1024 - 1000);

    const block = (i: number, b: number, len: number): Uint8Array => pieceBytes(rig, i).slice(b, b + len);
    seed.send(...reqs.map((r) => ({ type: 'piece' as const, index: r.index, begin: r.begin, block: block(r.index, r.begin, r.length) })));
    await rig.settle();

    assert.deepEqual(rig.eventsOf('piece-verified').map(([i]) => i).sort((a, b) => a - b), [...Array(n).keys()]);
    assert.deepEqual(seed.received('have').map((h) => h.index).sort((a, b) => a - b), [...Array(n).keys()]);
    assert.equal(rig.eventsOf('complete').length, 1);
    assert.equal(rig.torrent.state, 'seeding');
    assert.deepEqual(rig.states, ['checking', 'downloading', 'seeding']);
    assert.ok(seed.closed, 'two seeds part');
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[seed.address, 'both are seeds']]);
    const storage = rig.storage as MemoryStorage;
    assert.deepEqual(storage.fileContent(0), rig.content);
    for (let i = 0; i < n; i++) assert.deepEqual(await storage.read(i, 0, pieceBytes(rig, i).length), pieceBytes(rig, i));
    const st = rig.torrent.stats();
    assert.equal(st.progress, 1);
    assert.equal(st.left, 0);
    assert.equal(st.downloaded, rig.meta.info.totalLength);
  });

  it('a seed whose pieces fail the hash check is banned after hashFailuresToBan weighted failures', async () => {
    const rig = new TorrentRig({ pieces: 4, settings: { hashFailuresToBan: 3 } });
    await rig.start();
    const bad = await rig.connect({ fast: true });
    assert.deepEqual(bad.types, ['have-none'], 'a fast peer hears have-none');
    // Every block it sends for piece 1 is garbage: it alone sent the piece, so each failure weighs 2.
    bad.servePieces(rig.content, rig.meta.info.pieceLength, (i, _b, block) => (i === 1 ? block.map((x) => x ^ 0xff) : block));
    bad.send({ type: 'have-all' }, { type: 'unchoke' });
    await rig.settle();
    const failed = rig.eventsOf('hash-failed');
    assert.deepEqual(failed, [[1, [bad.address]], [1, [bad.address]]], 'the piece is asked again once, then the peer is gone');
    assert.deepEqual(rig.eventsOf('peer-banned'), [[bad.address, 'sent data for 2 pieces that failed their hash check']]);
    assert.ok(bad.closed);
    assert.equal(rig.eventsOf('peer-disconnected')[0]![1], 'banned: sent data for 2 pieces that failed their hash check');
    assert.deepEqual(rig.eventsOf('piece-verified').map(([i]) => i).sort(), [0, 2, 3]);
    assert.equal(rig.torrent.state, 'downloading');
    // Banned: the same address is refused when it comes back.
    const again = await rig.connect({ port: Number(bad.address.split(':')[1]) });
    assert.ok(again.closed);
    assert.equal(rig.torrent.connectedPeers, 0);
    // An honest peer finishes the job.
    const good = await rig.connect();
    good.servePieces(rig.content, rig.meta.info.pieceLength);
    good.send({ type: 'bitfield', bits: ScriptedPeer.bits(4) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
    assert.deepEqual((rig.storage as MemoryStorage).fileContent(0), rig.content);
  });

  it('an extended, fast peer gets our extended handshake then have-none; allowed-fast while choked; a rejected block is asked again', async () => {
    const rig = new TorrentRig({ pieces: 3 });
    await rig.start();
    const p = await rig.connect({ fast: true, extended: true });
    assert.deepEqual(p.types, ['extended', 'have-none']);
    const hs = p.theirExtendedHandshake()!;
    assert.equal(hs.m['ut_metadata'], 1);
    assert.equal(hs.metadata_size, rig.meta.infoBytes.length);
    assert.equal(hs.p, 6881);
    assert.equal(hs.upload_only, undefined);
    // allowed-fast lets us request while choked.
    p.send({ type: 'have-all' }, { type: 'allowed-fast', index: 2 });
    const r = await p.next('request');
    assert.equal(r.index, 2);
    assert.equal(p.received('request').length, 1, 'only the allowed piece while choked');
    // A reject sends the block back to the picker; it is asked again after an unchoke.
    p.send({ type: 'reject', index: 2, begin: 0, length: r.length });
    p.send({ type: 'unchoke' });
    await rig.settle();
    const again = p.takeAll('request');
    assert.ok(again.some((q) => q.index === 2), 'the rejected block is requested again');
    assert.equal(again.length, 3);
  });
});
