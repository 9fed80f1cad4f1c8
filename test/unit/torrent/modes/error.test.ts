/**
 * ErrorMode on the rig: storage failures put the torrent in 'error' (ERR_STORAGE); an exception of our own inside
 * message handling closes only that peer ('internal error'), never blaming it as a protocol error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BtError } from '../../../../src/core/errors.js';
import { MemoryStorage } from '../../../../src/storage/memory-storage.js';
import type { PieceStorage } from '../../../../src/storage/types.js';
import { Download } from '../../../../src/torrent/download.js';
import { ScriptedPeer, TorrentRig } from '../../../helpers/torrent-rig.js';

/** A MemoryStorage whose `op` throws (a plain Error, as fs would) while `broken()` says so. */
function failing(inner: MemoryStorage, op: 'read' | 'write' | 'hasData', broken: () => boolean): PieceStorage {
  return {
    read: (p, b, l) => (op === 'read' && broken() ? Promise.reject(new Error('EIO: read failed')) : inner.read(p, b, l)),
    write: (p, b, d) => (op === 'write' && broken() ? Promise.reject(new Error('ENOSPC: no space left')) : inner.write(p, b, d)),
    hasData: (p) => (op === 'hasData' && broken() ? Promise.reject(new Error('EACCES: denied')) : inner.hasData(p)),
    ensureFiles: (w) => inner.ensureFiles(w),
    close: () => inner.close(),
  };
}

describe('ErrorMode', () => {
  it('a write that throws puts the torrent in error with ERR_STORAGE; peers go; start begins afresh', async () => {
    let broken = true;
    const rig = new TorrentRig({ pieces: 3, storage: (meta) => failing(new MemoryStorage(meta.info), 'write', () => broken) });
    await rig.start();
    const p = await rig.connect();
    p.servePieces(rig.content, rig.meta.info.pieceLength);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(3) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'error');
    const err = rig.torrent.error!;
    assert.ok(err instanceof BtError);
    assert.equal(err.code, 'ERR_STORAGE');
    assert.match(err.message, /ENOSPC/);
    assert.deepEqual(rig.eventsOf('error').map(([e]) => e), [err], 'one failure, one error event (not one per piece in flight)');
    assert.ok(p.closed);
    assert.deepEqual(rig.eventsOf('peer-disconnected'), [[p.address, 'torrent error']]);
    assert.equal(rig.torrent.acceptsPeer(), false);
    assert.equal(rig.eventsOf('piece-verified').length, 0, 'nothing verified without the write');
    // Time passing does nothing in error mode (the ticker is stopped).
    const wanted = rig.calls.wantPeers;
    await rig.advance(10_000);
    assert.equal(rig.calls.wantPeers, wanted);
    // Starting again: a fresh check (the failed storage is kept: stop() was not called).
    broken = false;
    await rig.start();
    assert.equal(rig.torrent.error, undefined);
    assert.equal(rig.torrent.state, 'downloading');
    assert.deepEqual(rig.states, ['checking', 'downloading', 'error', 'checking', 'downloading']);
  });

  it('a write still under way when the torrent fails cannot fail it again after a restart', async () => {
    // Piece 0's write fails at once; piece 1's hangs until we let it fail, after the torrent was started again.
    let release: (e: Error) => void = () => {};
    let writes = 0;
    const rig = new TorrentRig({
      pieces: 2,
      storage: (meta) => {
        const inner = new MemoryStorage(meta.info);
        return {
          ...failing(inner, 'hasData', () => false),
          write: (p, b, d) => {
            writes++;
            if (writes === 1) return Promise.reject(new Error('EIO: first write'));
            if (writes === 2) return new Promise<void>((_, reject) => (release = reject));
            return inner.write(p, b, d);
          },
        };
      },
    });
    await rig.start();
    const p = await rig.connect();
    p.servePieces(rig.content, rig.meta.info.pieceLength);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(2) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'error');
    assert.equal(writes, 2);
    await rig.start();
    assert.equal(rig.torrent.state, 'downloading');
    release(new Error('EIO: late write'));
    await rig.settle();
    assert.equal(rig.torrent.state, 'downloading', 'the old download is gone: its late failure is nobody\'s');
    assert.equal(rig.eventsOf('error').length, 1);
  });

  it('a read that throws while checking puts the torrent in error with ERR_STORAGE', async () => {
    const rig = new TorrentRig({ pieces: 2, seeded: true, storage: (meta, content) => failing(new MemoryStorage(meta.info, { content }), 'read', () => true) });
    await rig.torrent.start();
    assert.equal(rig.torrent.state, 'error');
    assert.equal(rig.torrent.error?.code, 'ERR_STORAGE');
    assert.match(rig.torrent.error!.message, /EIO/);
    assert.deepEqual(rig.states, ['checking', 'error']);
  });

  it('a read that throws while serving an upload is a warning (a reject to a fast peer), not an error', async () => {
    let broken = false;
    const rig = new TorrentRig({ pieces: 2, seeded: true, storage: (meta, content) => failing(new MemoryStorage(meta.info, { content }), 'read', () => broken) });
    await rig.start();
    broken = true;
    const l = await rig.connect({ fast: true });
    l.send({ type: 'interested' });
    await l.next('unchoke');
    l.send({ type: 'request', index: 0, begin: 0, length: 16384 });
    assert.deepEqual(await l.next('reject'), { type: 'reject', index: 0, begin: 0, length: 16384 });
    assert.equal(rig.torrent.state, 'seeding');
    assert.ok(rig.eventsOf('warning').some(([w]) => /cannot read piece 0: EIO/.test(w)));
  });

  it("an exception in our own message handling closes only that peer, as 'internal error'", async () => {
    const rig = new TorrentRig({ pieces: 3 });
    await rig.start();
    const victim = await rig.connect();
    const bystander = await rig.connect();
    const original = Download.prototype.onHave;
    Download.prototype.onHave = function () {
      throw new Error('boom');
    };
    try {
      victim.send({ type: 'have', index: 1 });
      await rig.settle();
    } finally {
      Download.prototype.onHave = original;
    }
    assert.ok(victim.closed);
    const [[addr, reason]] = rig.eventsOf('peer-disconnected');
    assert.equal(addr, victim.address);
    assert.equal(reason, 'internal error: boom');
    assert.doesNotMatch(reason, /protocol error/);
    assert.ok(rig.eventsOf('warning').some(([w]) => w.includes(`internal error handling have from ${victim.address}: boom`)));
    assert.equal(rig.eventsOf('peer-banned').length, 0, 'nobody is blamed for our bug');
    assert.equal(bystander.closed, false);
    assert.equal(rig.torrent.state, 'downloading');
    assert.equal(rig.torrent.connectedPeers, 1);
    // The bystander goes on as usual; the victim's address may come back (not banned).
    bystander.servePieces(rig.content, rig.meta.info.pieceLength);
    bystander.send({ type: 'bitfield', bits: ScriptedPeer.bits(3) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
  });

  it("a malformed message is the peer's protocol error", async () => {
    const rig = new TorrentRig({ pieces: 3 });
    await rig.start();
    const p = await rig.connect();
    // A request message (id 6) whose payload is 5 bytes instead of 12.
    p.sendRaw(Uint8Array.from([0, 0, 0, 6, 6, 0, 0, 0, 0, 1]));
    await rig.settle();
    assert.ok(p.closed);
    assert.match(rig.eventsOf('peer-disconnected')[0]![1], /^protocol error: /);
    const q = await rig.connect();
    q.send({ type: 'have', index: 3 }); // out of range
    await rig.settle();
    assert.ok(q.closed);
    assert.equal(rig.eventsOf('peer-disconnected')[1]![1], 'have for piece 3 out of range');
    assert.equal(rig.torrent.state, 'downloading');
  });
});
