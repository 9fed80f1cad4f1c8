/** Peers in and out of an active torrent on the rig: admission, candidates, PEX, BEP 21, blocklists. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PexTracker, decodeUtPex, encodeUtPex } from '../../../../src/wire/index.js';
import { FakeClock } from '../../../../src/core/fake-clock.js';
import { ScriptedPeer, TorrentRig } from '../../../helpers/torrent-rig.js';

describe('admission', () => {
  it('refuses ourselves (and bans the address we dialed), duplicate peer ids and peers over the limit', async () => {
    const rig = new TorrentRig({ pieces: 2, settings: { maxConnectionsPerTorrent: 2 } });
    await rig.start();
    const self = await rig.connect({ peerId: rig.peerId, port: 41000 });
    assert.ok(self.closed);
    rig.torrent.addPeer('127.0.0.1:41000');
    assert.equal(rig.torrent.takeCandidate(rig.clock.now()), undefined, 'ourselves is never dialed again');
    const a = await rig.connect();
    const dup = await rig.connect({ peerId: a.peerId });
    assert.ok(dup.closed, 'duplicate peer id');
    const b = await rig.connect();
    assert.equal(rig.torrent.connectedPeers, 2);
    assert.equal(rig.torrent.acceptsPeer(), false);
    assert.equal(rig.torrent.openSlots, 0);
    const c = await rig.connect();
    assert.ok(c.closed, 'over maxConnectionsPerTorrent');
    assert.ok(!a.closed && !b.closed);
    assert.deepEqual(rig.eventsOf('peer-connected').map(([x]) => x), [a.address, b.address]);
  });

  it('addPeer makes a candidate and asks for peers; a failed dial of a manual peer is a warning once', async () => {
    const rig = new TorrentRig({ pieces: 2 });
    await rig.start();
    const before = rig.calls.wantPeers;
    rig.torrent.addPeer('10.1.2.3:4567');
    assert.equal(rig.calls.wantPeers, before + 1);
    const now = rig.clock.now();
    assert.deepEqual(rig.torrent.takeCandidate(now), { host: '10.1.2.3', port: 4567 });
    assert.equal(rig.torrent.openSlots, rig.settings.maxConnectionsPerTorrent - 1, 'a dial under way takes a slot');
    rig.torrent.dialFailed('10.1.2.3', 4567, 'connection refused');
    rig.torrent.dialFailed('10.1.2.3', 4567, 'connection refused');
    assert.deepEqual(rig.eventsOf('warning'), [['peer 10.1.2.3:4567: connection refused']]);
    assert.equal(rig.torrent.takeCandidate(now), undefined, 'backing off');
  });

  it('dropBlocked closes blocked peers', async () => {
    const rig = new TorrentRig({ pieces: 2 });
    await rig.start();
    const p = await rig.connect();
    assert.equal(rig.torrent.dropBlocked((a) => a === '10.0.0.1'), 0);
    assert.equal(rig.torrent.dropBlocked((a) => a === '127.0.0.1'), 1);
    await rig.settle();
    assert.ok(p.closed);
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[p.address, 'address is on the blocklist']]);
  });

  it('a second bitfield (aria2) is merged as haves', async () => {
    const rig = new TorrentRig({ pieces: 4 });
    await rig.start();
    const p = await rig.connect();
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(4, [0]) });
    await rig.settle();
    assert.equal(rig.torrent.peerList()[0]!.progress, 0.25);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(4, [0, 2, 3]) });
    await rig.settle();
    assert.equal(rig.torrent.peerList()[0]!.progress, 0.75);
    assert.equal(p.received('interested').length, 1);
  });
});

describe('BEP 21 upload_only', () => {
  it('once every wanted piece is there, a peer that says upload_only is left', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true });
    await rig.start();
    const p = await rig.connect({ extended: true });
    p.extendedHandshake({ upload_only: 1 });
    await rig.settle();
    assert.ok(p.closed);
    assert.equal(rig.eventsOf('peer-disconnected')[0]![1], 'neither wants anything more');
  });

  it('once every wanted piece is there (files skipped), a seed that connects is left', async () => {
    const rig = new TorrentRig({ files: [16384, 16384], torrentOptions: { filePriorities: [4, 0] } });
    await rig.start();
    const p = await rig.connect();
    p.servePieces(rig.content, rig.meta.info.pieceLength);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(2, [0]) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
    assert.equal(p.closed, false, 'a leecher may still want piece 0 from us');
    const seed = await rig.connect();
    seed.send({ type: 'bitfield', bits: ScriptedPeer.bits(2) });
    await rig.settle();
    assert.ok(seed.closed);
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[seed.address, 'neither wants anything more']]);
    // The same once a peer completes by a have.
    p.send({ type: 'have', index: 1 });
    await rig.settle();
    assert.ok(p.closed);
  });

  it('while downloading, an upload_only peer is kept (it has what we want)', async () => {
    const rig = new TorrentRig({ pieces: 2 });
    await rig.start();
    const p = await rig.connect({ extended: true });
    p.extendedHandshake({ upload_only: 1 });
    await rig.settle();
    assert.equal(p.closed, false);
  });
});

describe('BEP 11 ut_pex', () => {
  it('peers from a PEX message become candidates; we send ours once a minute', async () => {
    const rig = new TorrentRig({ pieces: 2, settings: { pexEnabled: true } });
    await rig.start();
    const p = await rig.connect({ extended: true });
    const q = await rig.connect({ extended: true });
    assert.equal(p.theirExtensions()['ut_pex'], 2);
    p.extendedHandshake();
    q.extendedHandshake({ p: 5555 });
    await rig.settle();
    const before = rig.calls.wantPeers;
    const msg = new PexTracker({ clock: new FakeClock() }).next([{ host: '10.9.9.9', port: 9999, flags: 0 }])!;
    p.send({ type: 'extended', id: 2, payload: encodeUtPex(msg) });
    await rig.settle();
    assert.ok(rig.calls.wantPeers > before);
    assert.deepEqual(rig.torrent.takeCandidate(rig.clock.now()), { host: '10.9.9.9', port: 9999 });
    await rig.advance(61_000);
    const pex = p.log.filter((m) => m.type === 'extended' && m.id === p.ourExtensions['ut_pex']);
    assert.ok(pex.length >= 1, 'our PEX message');
    const added = decodeUtPex((pex[0] as { payload: Uint8Array }).payload).added.map((a) => `${a.host}:${a.port}`);
    assert.ok(added.includes(q.address), `the other peer, at the address we dialed: ${added.join(', ')}`);
  });

  it('never for a torrent with PEX off', async () => {
    const rig = new TorrentRig({ pieces: 2 });
    await rig.start();
    const p = await rig.connect({ extended: true });
    assert.equal(p.theirExtensions()['ut_pex'], undefined);
  });
});
