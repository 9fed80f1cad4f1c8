/** MetadataMode on the rig: a magnet link's info dictionary is fetched from a scripted peer (BEP 9). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptedPeer, TorrentRig } from '../../../helpers/torrent-rig.js';
import { METADATA_PIECE_SIZE, decodeUtMetadata } from '../../../../src/wire/index.js';

describe('MetadataMode', () => {
  it('fetches the metadata from a peer, saves it, checks and downloads', async () => {
    const rig = new TorrentRig({ pieces: 6, magnet: true });
    assert.equal(rig.torrent.hasMetadata, false);
    await rig.start();
    assert.equal(rig.torrent.state, 'metadata');
    assert.equal(rig.torrent.pieceCount, 0);
    assert.ok(rig.calls.wantPeers > 0);
    const p = await rig.connect({ extended: true, fast: true });
    assert.deepEqual(p.types, ['extended', 'have-none']);
    assert.equal(p.theirExtendedHandshake()!.metadata_size, undefined, 'we have no metadata to offer');
    const info = rig.meta.infoBytes;
    assert.ok(info.length < METADATA_PIECE_SIZE);
    p.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    assert.deepEqual(p.utMetadataReceived(), [{ type: 'request', piece: 0 }]);
    p.utMetadata({ type: 'data', piece: 0, totalSize: info.length, data: info });
    await rig.settle();
    assert.equal(rig.torrent.hasMetadata, true);
    assert.equal(rig.eventsOf('metadata').length, 1);
    assert.equal(rig.calls.saveMetadata.length, 1);
    assert.deepEqual(rig.calls.saveMetadata[0]!.infoBytes, info);
    assert.ok(p.closed, 'peers are reconnected after the metadata');
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[p.address, 'metadata received; reconnecting']]);
    assert.deepEqual(rig.states, ['metadata', 'checking', 'downloading']);
    // Now an ordinary download.
    const seed = await rig.connect();
    seed.servePieces(rig.content, rig.meta.info.pieceLength);
    seed.send({ type: 'bitfield', bits: ScriptedPeer.bits(6) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
  });

  it('a peer whose metadata does not hash to the info-hash is banned; another peer then supplies it', async () => {
    const rig = new TorrentRig({ pieces: 6, magnet: true });
    await rig.start();
    const info = rig.meta.infoBytes;
    const liar = await rig.connect({ extended: true });
    liar.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    assert.deepEqual(liar.utMetadataReceived(), [{ type: 'request', piece: 0 }]);
    const bad = info.slice();
    bad[bad.length - 2] ^= 1;
    liar.utMetadata({ type: 'data', piece: 0, totalSize: info.length, data: bad });
    await rig.settle();
    assert.deepEqual(rig.eventsOf('peer-banned'), [[liar.address, 'sent metadata that does not match the info-hash']]);
    assert.ok(liar.closed);
    assert.equal(rig.torrent.state, 'metadata');
    assert.equal(rig.calls.saveMetadata.length, 0);

    const honest = await rig.connect({ extended: true });
    honest.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    assert.deepEqual(honest.utMetadataReceived(), [{ type: 'request', piece: 0 }]);
    honest.utMetadata({ type: 'data', piece: 0, totalSize: info.length, data: info });
    await rig.settle();
    assert.equal(rig.torrent.hasMetadata, true);
    assert.equal(rig.torrent.state, 'downloading');
  });

  it('a peer without ut_metadata is not asked; a reject sends the request elsewhere', async () => {
    const rig = new TorrentRig({ pieces: 6, magnet: true });
    await rig.start();
    const info = rig.meta.infoBytes;
    const none = await rig.connect({ extended: true });
    none.extendedHandshake({ m: {} });
    const shy = await rig.connect({ extended: true });
    shy.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    assert.deepEqual(none.utMetadataReceived(), []);
    assert.deepEqual(shy.utMetadataReceived(), [{ type: 'request', piece: 0 }]);
    const other = await rig.connect({ extended: true });
    other.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    shy.utMetadata({ type: 'reject', piece: 0 });
    await rig.settle();
    assert.ok(other.utMetadataReceived().length >= 1, 'the rejected piece is asked of the other peer');
    // Serving our own metadata: none yet, so a request is rejected.
    none.extendedHandshake({ m: { ut_metadata: 9 } });
    await rig.settle();
    none.utMetadata({ type: 'request', piece: 0 });
    await rig.settle();
    const reply = none.log.filter((m) => m.type === 'extended' && m.id === 9);
    assert.equal(reply.length, 1);
    assert.deepEqual(decodeUtMetadata((reply[0] as { payload: Uint8Array }).payload), { type: 'reject', piece: 0 });
  });

  it('a peer that dialed us is dialed back on its listen port once the metadata is there', async () => {
    const rig = new TorrentRig({ pieces: 6, magnet: true });
    await rig.start();
    const info = rig.meta.infoBytes;
    const p = await rig.connect({ extended: true, incoming: true });
    p.extendedHandshake({ metadata_size: info.length, p: 7777 });
    await rig.settle();
    p.utMetadata({ type: 'data', piece: 0, totalSize: info.length, data: info });
    await rig.settle();
    assert.equal(rig.torrent.state, 'downloading');
    assert.ok(p.closed);
    assert.deepEqual(rig.torrent.takeCandidate(rig.clock.now()), { host: '127.0.0.1', port: 7777 });
  });

  it('serves our metadata to a peer once we have it (BEP 9)', async () => {
    const rig = new TorrentRig({ pieces: 6, seeded: true });
    await rig.start();
    const p = await rig.connect({ extended: true });
    p.extendedHandshake();
    await rig.settle();
    assert.equal(p.theirExtendedHandshake()!.metadata_size, rig.meta.infoBytes.length);
    p.utMetadata({ type: 'request', piece: 0 });
    p.utMetadata({ type: 'request', piece: 1 });
    await rig.settle();
    assert.deepEqual(p.utMetadataReceived(), [
      { type: 'data', piece: 0, totalSize: rig.meta.infoBytes.length, data: rig.meta.infoBytes },
      { type: 'reject', piece: 1 },
    ]);
  });

  it('a peer that does not answer does not hold the fetch up: another peer is asked too and its answer completes it', async () => {
    const rig = new TorrentRig({ pieces: 6, magnet: true });
    await rig.start();
    const info = rig.meta.infoBytes;
    const mute = await rig.connect({ extended: true });
    mute.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    assert.equal(mute.utMetadataReceived().length, 1);
    const other = await rig.connect({ extended: true });
    other.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    await rig.advance(16_000);
    assert.ok(other.utMetadataReceived().length >= 1);
    other.utMetadata({ type: 'data', piece: 0, totalSize: info.length, data: info });
    await rig.settle();
    assert.equal(rig.torrent.state, 'downloading');
    assert.ok(mute.closed, 'reconnected like every peer');
  });
});
