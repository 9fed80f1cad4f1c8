/** SeedingMode on the rig: a scripted leecher is unchoked when interested and its requests are answered. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptedPeer, TorrentRig, pieceBytes } from '../../../helpers/torrent-rig.js';

describe('SeedingMode', () => {
  it('unchokes an interested leecher and answers its requests from storage', async () => {
    const rig = new TorrentRig({ pieces: 3, pieceLength: 32 * 1024, lastPieceShort: 5000, seeded: true });
    await rig.start();
    assert.equal(rig.torrent.state, 'seeding');
    const l = await rig.connect({ extended: true });
    assert.deepEqual(l.types, ['extended', 'bitfield']);
    assert.equal(l.theirExtendedHandshake()!.upload_only, 1, 'BEP 21: a seed says upload_only');
    assert.deepEqual([...l.received('bitfield')[0]!.bits], [0b1110_0000]);
    // Requests before an unchoke are dropped (no fast extension: no reject either).
    l.send({ type: 'request', index: 0, begin: 0, length: 16384 });
    await rig.settle();
    assert.equal(l.received('piece').length, 0);
    l.send({ type: 'interested' });
    await l.next('unchoke');
    l.send(
      { type: 'request', index: 0, begin: 0, length: 16384 },
      { type: 'request', index: 2, begin: 16384, length: 16384 - 5000 },
      { type: 'request', index: 1, begin: 100, length: 1000 },
    );
    const a = await l.next('piece');
    const b = await l.next('piece');
    const c = await l.next('piece');
    assert.deepEqual([a.index, a.begin, a.block], [0, 0, pieceBytes(rig, 0).slice(0, 16384)]);
    assert.deepEqual([b.index, b.begin, b.block], [2, 16384, pieceBytes(rig, 2).slice(16384)]);
    assert.deepEqual([c.index, c.begin, c.block], [1, 100, pieceBytes(rig, 1).slice(100, 1100)]);
    assert.equal(rig.torrent.stats().uploaded, 16384 + 16384 - 5000 + 1000);
    assert.equal(rig.torrent.peerList()[0]!.amChoking, false);
  });

  it('a fast leecher hears have-all; a request we cannot serve is rejected; a bad one closes it', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true });
    await rig.start();
    const l = await rig.connect({ fast: true });
    assert.deepEqual(l.types, ['have-all']);
    l.send({ type: 'request', index: 1, begin: 0, length: 16384 });
    assert.deepEqual(await l.next('reject'), { type: 'reject', index: 1, begin: 0, length: 16384 });
    l.send({ type: 'request', index: 1, begin: 16000, length: 16384 }); // past the end of the piece
    await rig.settle();
    assert.ok(l.closed);
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[l.address, 'invalid request 1:16000+16384']]);
  });

  it('a leecher that becomes a seed is let go', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true });
    await rig.start();
    const l = await rig.connect();
    l.send({ type: 'have', index: 0 });
    await rig.settle();
    assert.equal(l.closed, false);
    l.send({ type: 'have', index: 1 });
    await rig.settle();
    assert.ok(l.closed);
    assert.equal(rig.eventsOf('peer-disconnected')[0]![1], 'both are seeds');
    const s = await rig.connect();
    s.send({ type: 'bitfield', bits: ScriptedPeer.bits(2) });
    await rig.settle();
    assert.ok(s.closed);
  });

  it('seedTimeLimitMs: seeding stops once the time is up (seed-limit, then stopped)', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true, torrentOptions: { seedTimeLimitMs: 30_000 } });
    await rig.start();
    await rig.advance(29_000);
    assert.equal(rig.torrent.state, 'seeding');
    await rig.advance(2_000);
    assert.equal(rig.eventsOf('seed-limit').length, 1);
    assert.match(rig.eventsOf('seed-limit')[0]![0], /seeded for 30 s \(limit 30 s\)/);
    assert.equal(rig.torrent.state, 'stopped');
  });

  it('seedRatioLimit: seeding stops once the torrent has been uploaded that many times', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true, torrentOptions: { seedRatioLimit: 1 } });
    await rig.start();
    const l = await rig.connect();
    l.send({ type: 'interested' });
    await l.next('unchoke');
    l.send({ type: 'request', index: 0, begin: 0, length: 16384 });
    await l.next('piece');
    await rig.advance(1000);
    assert.equal(rig.torrent.state, 'seeding', 'half the size uploaded');
    l.send({ type: 'request', index: 1, begin: 0, length: 16384 });
    await l.next('piece');
    await rig.advance(1000);
    assert.equal(rig.eventsOf('seed-limit').length, 1);
    assert.equal(rig.torrent.state, 'stopped');
    assert.ok(l.closed);
  });

  it('the choke round every chokeIntervalMs unchokes the interested and chokes the rest', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true, settings: { uploadSlots: 1 } });
    await rig.start();
    const a = await rig.connect();
    const b = await rig.connect();
    a.send({ type: 'interested' });
    await a.next('unchoke');
    b.send({ type: 'interested' });
    await rig.settle();
    assert.equal(b.received('unchoke').length, 0, 'the only slot is taken');
    a.send({ type: 'not-interested' });
    await rig.advance(rig.settings.chokeIntervalMs);
    assert.equal(a.received('choke').length, 1);
    assert.equal(b.received('unchoke').length, 1);
  });
});
