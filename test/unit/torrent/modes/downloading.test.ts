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
});
