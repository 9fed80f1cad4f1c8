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

  it('a choke without the fast extension drops our requests; they are asked again after the next unchoke', async () => {
    const rig = new TorrentRig({ pieces: 2 });
    await rig.start();
    const p = await rig.connect();
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(2) }, { type: 'unchoke' });
    await rig.settle();
    const before = p.takeAll('request').map((r) => r.index).sort();
    assert.deepEqual(before, [0, 1]);
    p.send({ type: 'choke' });
    await rig.settle();
    p.send({ type: 'unchoke' });
    await rig.settle();
    assert.deepEqual(p.takeAll('request').map((r) => r.index).sort(), [0, 1]);
  });

  it('a peer that sends nothing for requestTimeoutMs is snubbed: its blocks go to another peer, the connection stays', async () => {
    // 100 pieces of 2 blocks: far from endgame, so only the snub can move the slow peer's blocks.
    const rig = new TorrentRig({ pieces: 100, pieceLength: 32 * 1024 });
    await rig.start();
    const slow = await rig.connect();
    slow.send({ type: 'bitfield', bits: ScriptedPeer.bits(100) }, { type: 'unchoke' });
    await rig.settle();
    const held = slow.takeAll('request');
    assert.equal(held.length, 32, 'the slow-start pipeline');
    const heldPieces = new Set(held.map((r) => r.index));
    await rig.advance(15_000);
    const other = await rig.connect();
    other.send({ type: 'bitfield', bits: ScriptedPeer.bits(100) }, { type: 'unchoke' });
    await rig.settle();
    const first = other.takeAll('request');
    assert.equal(first.length, 32);
    assert.ok(first.every((r) => !heldPieces.has(r.index)));
    // t = 21 s: the slow peer has sent nothing for requestTimeoutMs (the other one joined 6 s ago).
    await rig.advance(6_000);
    assert.equal(slow.closed, false, 'snubbed, not disconnected');
    const probe = slow.takeAll('request');
    assert.ok(probe.length <= 1, `a snubbed peer is not handed back the blocks it was relieved of (${probe.length} requests)`);
    // A block from it (the one probe request) ends the snub: its pipeline grows again.
    if (probe[0]) {
      const r0 = probe[0];
      slow.send({ type: 'piece', index: r0.index, begin: r0.begin, block: pieceBytes(rig, r0.index).slice(r0.begin, r0.begin + r0.length) });
      await rig.settle();
      assert.ok(slow.takeAll('request').length > 1, 'no longer snubbed');
      slow.send({ type: 'choke' }); // and out of the way (its requests are dropped)
      await rig.settle();
    }
    // The other peer serves the rest, the slow peer's former blocks included, without waiting for endgame
    // duplicates of blocks the slow peer still holds: nothing needs cancelling at the slow peer.
    other.servePieces(rig.content, rig.meta.info.pieceLength);
    other.send(...first.map((r) => ({ type: 'piece' as const, index: r.index, begin: r.begin, block: pieceBytes(rig, r.index).slice(r.begin, r.begin + r.length) })));
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
    assert.deepEqual(slow.received('cancel'), []);
  });

  it('the request timeout counts from our first request, not from when the peer connected', async () => {
    // Unchoked only after 30 s.
    const rig = new TorrentRig({ pieces: 100, pieceLength: 32 * 1024 });
    await rig.start();
    const late = await rig.connect();
    late.send({ type: 'bitfield', bits: ScriptedPeer.bits(100) });
    await rig.advance(30_000);
    late.send({ type: 'unchoke' });
    await rig.settle();
    assert.equal(late.takeAll('request').length, 32);
    await rig.advance(2_000);
    assert.deepEqual(late.takeAll('request'), [], 'not snubbed: nothing withdrawn and handed out again');
    // Silent for requestTimeoutMs after its requests: snubbed now (one request at a time from here).
    await rig.advance(rig.settings.requestTimeoutMs);
    assert.ok(late.takeAll('request').length <= 1);

    // Interesting only after 30 s (it had nothing for us until then).
    const rig2 = new TorrentRig({ pieces: 100, pieceLength: 32 * 1024 });
    await rig2.start();
    const quiet = await rig2.connect();
    quiet.send({ type: 'unchoke' });
    await rig2.advance(30_000);
    quiet.send({ type: 'have', index: 99 });
    await rig2.settle();
    assert.equal(quiet.takeAll('request').length, 2);
    await rig2.advance(2_000);
    assert.deepEqual(quiet.takeAll('request'), []);
  });

  it('endgame: a block asked of two peers is cancelled at the one that did not send it', async () => {
    const rig = new TorrentRig({ pieces: 1 });
    await rig.start();
    const a = await rig.connect();
    const b = await rig.connect();
    a.send({ type: 'bitfield', bits: ScriptedPeer.bits(1) }, { type: 'unchoke' });
    await rig.settle();
    const r = await a.next('request');
    b.send({ type: 'bitfield', bits: ScriptedPeer.bits(1) }, { type: 'unchoke' });
    await rig.settle();
    assert.deepEqual(await b.next('request'), r, 'the last block is asked twice');
    b.send({ type: 'piece', index: 0, begin: 0, block: pieceBytes(rig, 0) });
    await rig.settle();
    assert.deepEqual(a.received('cancel'), [{ type: 'cancel', index: 0, begin: 0, length: r.length }]);
    assert.deepEqual(b.received('cancel'), []);
    assert.equal(rig.torrent.state, 'seeding');
  });

  it('a silent peer is closed after peerIdleTimeoutMs; a quiet one gets keep-alives', async () => {
    const rig = new TorrentRig({ pieces: 2, settings: { keepAliveIntervalMs: 30_000, peerIdleTimeoutMs: 120_000 } });
    await rig.start();
    const p = await rig.connect();
    await rig.advance(65_000);
    assert.equal(p.received('keep-alive').length, 2);
    assert.equal(p.closed, false);
    await rig.advance(60_000);
    assert.ok(p.closed);
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[p.address, 'idle timeout']]);
  });

  it('a download limit paces the requests by the clock', async () => {
    const rig = new TorrentRig({ pieces: 8, torrentOptions: { maxDownloadRate: 32 * 1024 } });
    await rig.start();
    const p = await rig.connect();
    p.servePieces(rig.content, rig.meta.info.pieceLength);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(8) }, { type: 'unchoke' });
    await rig.settle();
    const first = p.received('request').length;
    assert.ok(first >= 1 && first < 8, `a burst, not everything (${first})`);
    let elapsed = 0;
    while (rig.torrent.state !== 'seeding' && elapsed < 10_000) {
      await rig.advance(250);
      elapsed += 250;
    }
    assert.equal(rig.torrent.state, 'seeding');
    // 8 blocks of 16 KiB at 32 KiB/s, less the first burst: about 3 s of clock.
    assert.ok(elapsed >= 2000 && elapsed <= 4000, `took ${elapsed} ms`);
  });

  it('skipped files: only the wanted pieces are downloaded, then it seeds; wanting a file again downloads it', async () => {
    // Three files over 4 pieces of 16 KiB: f0 in piece 0, f1 in pieces 1-2, f2 in piece 3.
    const rig = new TorrentRig({ files: [16384, 32768, 10000], torrentOptions: { filePriorities: [4, 0, 4] } });
    await rig.start();
    assert.deepEqual(rig.torrent.files.map((f) => f.priority), [4, 0, 4]);
    const p = await rig.connect({ fast: true });
    p.servePieces(rig.content, rig.meta.info.pieceLength);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(4, [0, 1, 2]) }, { type: 'unchoke' });
    await rig.settle();
    assert.deepEqual(p.received('request').map((r) => r.index), [0], 'piece 3 is not there, pieces 1-2 not wanted');
    p.send({ type: 'have', index: 3 });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
    assert.equal(rig.eventsOf('complete').length, 1);
    assert.equal(rig.torrent.stats().progress, 1);
    assert.equal(rig.torrent.complete, false);
    assert.deepEqual(rig.torrent.files.map((f) => f.have), [16384, 0, 10000]);
    assert.ok(p.closed, 'a seed is left once we want nothing more');
    assert.equal(rig.eventsOf('peer-disconnected')[0]![1], 'neither wants anything more');
    rig.torrent.setFilePriority(1, 7);
    await rig.settle();
    assert.equal(rig.torrent.state, 'downloading');
    const q = await rig.connect();
    assert.equal(q.received('bitfield').length, 1);
    q.servePieces(rig.content, rig.meta.info.pieceLength);
    q.send({ type: 'bitfield', bits: ScriptedPeer.bits(4) }, { type: 'unchoke' });
    await rig.settle();
    assert.deepEqual(q.received('request').map((r) => r.index).sort(), [1, 2], 'only the pieces of the file wanted again');
    assert.equal(rig.torrent.state, 'seeding', rig.states.join());
    assert.equal(rig.torrent.complete, true);
    assert.deepEqual(rig.states, ['checking', 'downloading', 'seeding', 'downloading', 'seeding']);
    assert.deepEqual((rig.storage as MemoryStorage).fileContent(1), rig.content.slice(16384, 49152));
  });
});
