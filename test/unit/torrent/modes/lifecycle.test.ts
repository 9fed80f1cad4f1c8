/** StoppedMode, CheckingMode, QueuedMode and PausedMode on the rig: the transitions and what each does with peers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../../../src/storage/memory-storage.js';
import { ScriptedPeer, TorrentRig, makeTestTorrent, pieceBytes } from '../../../helpers/torrent-rig.js';

describe('StoppedMode → CheckingMode → DownloadingMode', () => {
  it('start checks the data, then downloads; the state events come in order', async () => {
    const rig = new TorrentRig({ pieces: 5 });
    assert.equal(rig.torrent.state, 'stopped');
    assert.equal(rig.torrent.acceptsPeer(), false);
    const refused = await rig.connect();
    assert.ok(refused.closed, 'a stopped torrent takes no peers');
    const started = rig.torrent.start();
    assert.equal(rig.torrent.state, 'checking');
    assert.equal(rig.torrent.acceptsPeer(), false, 'no peers while checking');
    await started;
    assert.equal(rig.torrent.state, 'downloading');
    assert.deepEqual(rig.eventsOf('state'), [
      ['checking', 'stopped'],
      ['downloading', 'checking'],
    ]);
    assert.deepEqual(rig.eventsOf('checked'), [[0, 5]]);
    assert.equal(rig.storages.length, 1);
    assert.ok(rig.calls.wantPeers > 0, 'an active torrent asks for peers');
    assert.equal(rig.torrent.acceptsPeer(), true);
    // The ticker runs once a second: a keep-alive goes out to a quiet peer after keepAliveIntervalMs.
    const p = await rig.connect();
    await rig.advance(rig.settings.keepAliveIntervalMs + 1000);
    assert.ok(p.received('keep-alive').length >= 1);
    await rig.stop();
    assert.equal(rig.torrent.state, 'stopped');
    assert.ok(p.closed);
    assert.deepEqual(rig.eventsOf('peer-disconnected').at(-1), [p.address, 'stopped']);
  });

  it('a seed checks complete and goes straight to seeding, files created', async () => {
    const rig = new TorrentRig({ files: [20_000, 0, 30_000], pieceLength: 16 * 1024, seeded: true });
    await rig.start();
    assert.deepEqual(rig.states, ['checking', 'seeding']);
    assert.deepEqual(rig.eventsOf('checked'), [[4, 4]]);
    assert.equal(rig.torrent.complete, true);
    assert.ok((rig.storage as MemoryStorage).exists(1), 'ensureFiles made the empty file');
  });

  it('data already partly there is found by the check and not asked for', async () => {
    const t = makeTestTorrent({ pieces: 4 });
    const rig = new TorrentRig({
      torrent: t,
      storage: (meta) => {
        const s = new MemoryStorage(meta.info);
        void s.write(0, 0, pieceBytes(t, 0));
        void s.write(2, 0, pieceBytes(t, 2));
        return s;
      },
    });
    await rig.start();
    assert.deepEqual(rig.eventsOf('checked'), [[2, 4]]);
    const p = await rig.connect();
    assert.deepEqual(p.received('bitfield').map((b) => [...b.bits]), [[0b1010_0000]]);
    p.send({ type: 'have-all' }); // not fast: a protocol error
    await rig.settle();
    assert.ok(p.closed);
    assert.equal(rig.eventsOf('peer-disconnected')[0]![1], 'have-all without the fast extension');
    const q = await rig.connect();
    q.send({ type: 'bitfield', bits: ScriptedPeer.bits(4) }, { type: 'unchoke' });
    await rig.settle();
    assert.deepEqual([...new Set(q.received('request').map((r) => r.index))].sort(), [1, 3]);
  });
});

describe('stop and recheck', () => {
  it('stop while checking ends in stopped, without an error; start again checks afresh', async () => {
    const rig = new TorrentRig({ pieces: 4, seeded: true });
    const started = rig.torrent.start();
    await rig.torrent.stop();
    await started;
    await rig.settle();
    assert.equal(rig.torrent.state, 'stopped');
    assert.equal(rig.torrent.error, undefined);
    assert.deepEqual(rig.states, ['checking', 'stopped']);
    assert.equal(rig.storages.length, 1);
    await assert.rejects(rig.storages[0]!.read(0, 0, 1), { code: 'ERR_CLOSED' }, 'a stopped torrent leaves no storage open');
    await rig.start();
    assert.equal(rig.torrent.state, 'seeding');
    assert.equal(rig.storages.length, 2, 'a new storage per start');
  });

  it('no peer joins a torrent while it stops, and none is left connected once stopped', async () => {
    let finishClose: () => void = () => {};
    const rig = new TorrentRig({
      pieces: 2,
      storage: (meta) => {
        const inner = new MemoryStorage(meta.info);
        return {
          read: (p, b, l) => inner.read(p, b, l),
          write: (p, b, d) => inner.write(p, b, d),
          hasData: (p) => inner.hasData(p),
          ensureFiles: (w) => inner.ensureFiles(w),
          // A slow close (an fs storage flushing): stop() waits for it.
          close: () => new Promise<void>((r) => (finishClose = () => void inner.close().then(r))),
        };
      },
    });
    await rig.start();
    const a = await rig.connect();
    const wanted = rig.calls.wantPeers;
    const stopping = rig.torrent.stop();
    await rig.settle();
    assert.ok(a.closed);
    assert.equal(rig.calls.wantPeers, wanted, 'a stopping torrent asks for no peers');
    assert.equal(rig.torrent.acceptsPeer(), false, 'nor accepts any');
    const b = await rig.connect();
    finishClose();
    await stopping;
    await rig.settle();
    assert.equal(rig.torrent.state, 'stopped');
    assert.ok(b.closed);
    assert.equal(rig.torrent.connectedPeers, 0);
  });

  it('recheck stops and checks every piece again', async () => {
    const rig = new TorrentRig({ pieces: 3, seeded: true });
    await rig.start();
    await rig.torrent.recheck();
    await rig.settle();
    assert.deepEqual(rig.states, ['checking', 'seeding', 'stopped', 'checking', 'seeding']);
    assert.deepEqual(rig.eventsOf('checked'), [[3, 3], [3, 3]]);
  });
});

describe('CheckingMode → QueuedMode', () => {
  it('waits in queued while mayActivate says no, then leaveQueue activates it', async () => {
    let slot = false;
    const rig = new TorrentRig({ pieces: 3, mayActivate: () => slot });
    await rig.start();
    assert.equal(rig.torrent.state, 'queued');
    assert.deepEqual(rig.calls.mayActivate, ['download']);
    assert.equal(rig.torrent.queueKind, 'download');
    assert.equal(rig.torrent.acceptsPeer(), false);
    const wanted = rig.calls.wantPeers;
    const p = await rig.connect();
    assert.ok(p.closed, 'no peers while queued');
    await rig.advance(5000);
    assert.equal(rig.torrent.state, 'queued');
    assert.equal(rig.calls.wantPeers, wanted, 'a queued torrent asks for no peers');
    slot = true;
    await rig.torrent.resumeFromQueue();
    assert.equal(rig.torrent.state, 'downloading');
    assert.deepEqual(rig.states, ['checking', 'queued', 'downloading']);
    assert.ok(rig.calls.wantPeers > wanted);
    assert.equal(rig.storages.length, 1, 'the check is not repeated');
  });

  it('a complete torrent queues for a seed slot and leaves the queue seeding', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true, mayActivate: () => false });
    await rig.start();
    assert.equal(rig.torrent.state, 'queued');
    assert.deepEqual(rig.calls.mayActivate, ['seed']);
    assert.equal(rig.torrent.queueKind, 'seed');
    await rig.torrent.resumeFromQueue();
    assert.equal(rig.torrent.state, 'seeding');
  });
});

describe('PausedMode', () => {
  it('pause closes the peers and keeps the data; start resumes without checking again', async () => {
    const rig = new TorrentRig({ pieces: 4 });
    await rig.start();
    const p = await rig.connect();
    p.servePieces(rig.content, rig.meta.info.pieceLength, (i, _b, block) => (i < 2 ? block : undefined));
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(4) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.eventsOf('piece-verified').length, 2);
    rig.torrent.pause();
    await rig.settle();
    assert.equal(rig.torrent.state, 'paused');
    assert.ok(p.closed);
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[p.address, 'paused']]);
    assert.equal(rig.torrent.acceptsPeer(), false);
    assert.ok((await rig.connect()).closed, 'no peers while paused');
    const wanted = rig.calls.wantPeers;
    await rig.torrent.start();
    await rig.settle();
    assert.equal(rig.torrent.state, 'downloading');
    assert.deepEqual(rig.states, ['checking', 'downloading', 'paused', 'downloading']);
    assert.equal(rig.eventsOf('checked').length, 1, 'no second check');
    assert.equal(rig.storages.length, 1);
    assert.ok(rig.calls.wantPeers > wanted);
    assert.equal(rig.torrent.stats().piecesHave, 2, 'verified pieces kept');
    const q = await rig.connect();
    assert.deepEqual(q.received('bitfield').map((b) => [...b.bits]), [[0b1100_0000]]);
    q.servePieces(rig.content, rig.meta.info.pieceLength);
    q.send({ type: 'bitfield', bits: ScriptedPeer.bits(4) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
  });

  it('a finished selective download (files skipped) resumes from pause as seeding', async () => {
    const rig = new TorrentRig({ files: [16384, 16384], torrentOptions: { filePriorities: [4, 0] } });
    await rig.start();
    const p = await rig.connect();
    p.servePieces(rig.content, rig.meta.info.pieceLength);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(2, [0]) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
    assert.equal(rig.torrent.complete, false, 'file 1 is skipped');
    rig.torrent.pause();
    await rig.torrent.start();
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding', 'nothing left to download');
    await rig.torrent.waitForCompletion();
  });

  it('pause does nothing while stopped or checking', async () => {
    const rig = new TorrentRig({ pieces: 2 });
    rig.torrent.pause();
    assert.equal(rig.torrent.state, 'stopped');
    const started = rig.torrent.start();
    rig.torrent.pause();
    await started;
    assert.equal(rig.torrent.state, 'downloading');
  });
});
