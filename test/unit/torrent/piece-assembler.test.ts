/** PieceAssembler with MemoryStorage + InlineHasher: hash first, write only good data, the verify budget, dispose. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InlineHasher } from '../../../src/storage/hasher.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import type { Hasher } from '../../../src/storage/types.js';
import type { TorrentInfo } from '../../../src/metainfo/types.js';
import { PieceAssembler } from '../../../src/torrent/piece-assembler.js';
import type { AssemblerEvents } from '../../../src/torrent/piece-assembler.js';
import { makeTestTorrent, pieceBytes, settle } from '../../helpers/torrent-rig.js';

function recorder(): AssemblerEvents & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    verified: (i) => log.push(`verified ${i}`),
    failed: (i) => log.push(`failed ${i}`),
    error: (e) => log.push(`error ${(e as Error).message}`),
    unblocked: () => log.push('unblocked'),
  };
}

/** A hasher whose results wait until release() (then it hashes for real). */
function gatedHasher(): Hasher & { release(): void; waiting: number } {
  const inner = new InlineHasher();
  let gates: (() => void)[] = [];
  return {
    get waiting() {
      return gates.length;
    },
    release() {
      const g = gates;
      gates = [];
      for (const f of g) f();
    },
    sha1: (d) => inner.sha1(d),
    hashPiece: (d) => new Promise<void>((r) => gates.push(r)).then(() => inner.hashPiece(d)),
    destroy: () => inner.destroy(),
  };
}

describe('PieceAssembler', () => {
  it('writes a piece only once its hash matches; block by block, any order', async () => {
    const t = makeTestTorrent({ pieces: 3, pieceLength: 32 * 1024, lastPieceShort: 100 });
    const storage = new MemoryStorage(t.meta.info);
    const ev = recorder();
    const asm = new PieceAssembler(t.meta.info, storage, new InlineHasher(), ev);
    const p1 = pieceBytes(t, 1);
    asm.prepare(1);
    assert.equal(asm.store(1, 16384, p1.slice(16384), false), true);
    await settle();
    assert.deepEqual(ev.log, []);
    assert.equal(await storage.hasData(1), false, 'nothing written before the piece is complete');
    asm.store(1, 0, p1.slice(0, 16384), true);
    await settle();
    assert.deepEqual(ev.log, ['verified 1']);
    assert.deepEqual(await storage.read(1, 0, p1.length), p1);
    // The short last piece, without prepare().
    const p2 = pieceBytes(t, 2);
    asm.store(2, 0, p2, true);
    await settle();
    assert.deepEqual(ev.log, ['verified 1', 'verified 2']);
  });

  it('a piece that fails its hash is reported as failed and nothing of it is written', async () => {
    const t = makeTestTorrent({ pieces: 2 });
    const storage = new MemoryStorage(t.meta.info);
    const ev = recorder();
    const asm = new PieceAssembler(t.meta.info, storage, new InlineHasher(), ev);
    const bad = pieceBytes(t, 0);
    bad[5] ^= 1;
    asm.store(0, 0, bad, true);
    await settle();
    assert.deepEqual(ev.log, ['failed 0']);
    assert.equal(await storage.hasData(0), false);
    assert.equal(storage.exists(0), false, 'not even the file was created');
    // The piece can be downloaded again.
    asm.store(0, 0, pieceBytes(t, 0), true);
    await settle();
    assert.deepEqual(ev.log, ['failed 0', 'verified 0']);
  });

  it('refuses a block past the end of its piece', () => {
    const t = makeTestTorrent({ pieces: 2, lastPieceShort: 1000 });
    const asm = new PieceAssembler(t.meta.info, new MemoryStorage(t.meta.info), new InlineHasher(), recorder());
    assert.equal(asm.store(0, 16384 - 10, new Uint8Array(11), false), false);
    assert.equal(asm.store(1, 0, new Uint8Array(16384), false), false, 'the short last piece');
    assert.equal(asm.store(1, 0, new Uint8Array(16384 - 1000), false), true);
  });

  it('a write that throws is an error event', async () => {
    const t = makeTestTorrent({ pieces: 1 });
    const storage = new MemoryStorage(t.meta.info);
    await storage.close();
    const ev = recorder();
    const asm = new PieceAssembler(t.meta.info, storage, new InlineHasher(), ev);
    asm.store(0, 0, pieceBytes(t, 0), true);
    await settle();
    assert.deepEqual(ev.log, ['error storage is closed']);
  });

  it('is over budget while more than max(16 MiB, 4 pieces) is being verified, and says when it is not', async () => {
    // Five 4 MiB pieces of zeros (the budget is 16 MiB: the fifth in flight tips it over).
    const pl = 4 * 1024 * 1024;
    const zeros = new Uint8Array(pl);
    const digest = await new InlineHasher().sha1(zeros);
    const pieces = new Uint8Array(5 * 20);
    for (let i = 0; i < 5; i++) pieces.set(digest, i * 20);
    const info: TorrentInfo = { name: 'z', pieceLength: pl, pieces, pieceCount: 5, files: [{ path: ['z'], length: 5 * pl, offset: 0 }], totalLength: 5 * pl, private: false, singleFile: true };
    const hasher = gatedHasher();
    const ev = recorder();
    const asm = new PieceAssembler(info, new MemoryStorage(info), hasher, ev);
    for (let i = 0; i < 4; i++) asm.store(i, 0, new Uint8Array(pl), true);
    await settle();
    assert.equal(hasher.waiting, 4);
    assert.equal(asm.overBudget, false, 'exactly at the budget is not over it');
    asm.store(4, 0, new Uint8Array(pl), true);
    await settle();
    assert.equal(asm.overBudget, true);
    hasher.release();
    await settle();
    assert.equal(asm.overBudget, false);
    assert.equal(ev.log.filter((l) => l === 'unblocked').length, 1, 'unblocked once, when it went under');
    assert.equal(ev.log.filter((l) => l.startsWith('verified')).length, 5);
    assert.ok(ev.log.indexOf('unblocked') > ev.log.indexOf('verified 0'));
  });

  it('after dispose, verifications under way report nothing (and write nothing)', async () => {
    const t = makeTestTorrent({ pieces: 2 });
    const storage = new MemoryStorage(t.meta.info);
    const hasher = gatedHasher();
    const ev = recorder();
    const asm = new PieceAssembler(t.meta.info, storage, hasher, ev);
    asm.store(0, 0, pieceBytes(t, 0), true);
    const bad = pieceBytes(t, 1);
    bad[0] ^= 1;
    asm.store(1, 0, bad, true);
    await settle();
    asm.dispose();
    hasher.release();
    await settle();
    assert.deepEqual(ev.log, []);
    assert.equal(await storage.hasData(0), false);
  });
});
