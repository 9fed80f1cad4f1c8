/** StreamManager on the torrent rig: read streams, the stream window in the picker, seeks, magnets. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { ScriptedPeer, TorrentRig } from '../../helpers/torrent-rig.js';
import { StreamManager } from '../../../src/stream/index.js';
import { BtError } from '../../../src/core/index.js';
import { METADATA_PIECE_SIZE } from '../../../src/wire/index.js';

const KiB = 1024;

/** Collect a Readable's bytes; `done` resolves with them at its end (rejects on error). */
function collect(s: Readable): { bytes: () => Uint8Array; done: Promise<Uint8Array> } {
  const chunks: Buffer[] = [];
  const bytes = (): Uint8Array => new Uint8Array(Buffer.concat(chunks));
  const done = new Promise<Uint8Array>((resolve, reject) => {
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(bytes()));
    s.on('error', reject);
  });
  return { bytes, done };
}

/** Settle the rig until `p` settles (bounded). */
async function until<T>(rig: TorrentRig, p: Promise<T>, rounds = 200): Promise<T> {
  let state: 'pending' | 'done' = 'pending';
  void p.then(
    () => (state = 'done'),
    () => (state = 'done'),
  );
  for (let i = 0; i < rounds && state === 'pending'; i++) await rig.settle();
  assert.equal(state, 'done', 'did not finish in time');
  return p;
}

function requestedPieces(p: ScriptedPeer): number[] {
  return [...new Set(p.takeAll('request').map((m) => (m as { index: number }).index))];
}

describe('StreamManager', () => {
  it('three concurrent streams of different files are byte-identical to the files', async () => {
    const lens = [40 * KiB + 5, 70 * KiB, 33 * KiB + 100];
    const rig = new TorrentRig({ files: lens });
    await rig.start();
    const sm = new StreamManager({ windowBytes: 64 * KiB });
    const offs = rig.meta.info.files.map((f) => f.offset);
    const reads = [0, 1, 2].map((i) => collect(sm.createReadStream(rig.torrent, i)));
    const part = collect(sm.createReadStream(rig.torrent, 1, { start: 1000, end: 50 * KiB }));
    assert.equal(sm.stats(rig.torrent).readers, 4);
    const seed = await rig.connect({ fast: true });
    seed.servePieces(rig.content, rig.meta.info.pieceLength);
    seed.send({ type: 'have-all' }, { type: 'unchoke' });
    const got = await until(rig, Promise.all(reads.map((r) => r.done)));
    got.forEach((b, i) => assert.deepEqual(b, rig.content.subarray(offs[i], offs[i]! + lens[i]!), `file ${i}`));
    assert.deepEqual(await until(rig, part.done), rig.content.subarray(offs[1]! + 1000, offs[1]! + 50 * KiB + 1));
    await rig.settle();
    assert.equal(sm.stats(rig.torrent).readers, 0, 'ended streams release their windows');
    assert.equal(sm.stats(rig.torrent).windowPieces, 0);
  });

  it('the window is requested first, nearest first, with the file head and tail; a seek cancels outside it (counted)', async () => {
    const rig = new TorrentRig({ pieces: 40 });
    await rig.start();
    const sm = new StreamManager({ windowBytes: 4 * 16 * KiB, urgentPieces: 2, tailBytes: 16 * KiB });
    const peer = await rig.connect({ fast: true });
    peer.send({ type: 'have-all' }, { type: 'unchoke' }); // answers nothing: requests stay outstanding
    await rig.settle();
    const before = requestedPieces(peer);
    assert.ok(before.length > 0, 'rarest-first requests before any reader');
    const s1 = sm.createReadStream(rig.torrent, 0, { start: 10 * 16 * KiB });
    await rig.settle();
    const c1 = peer.takeAll('cancel').map((m) => (m as { index: number }).index);
    const window1 = new Set([0, 10, 11, 12, 13, 39]);
    assert.ok(c1.every((i) => !window1.has(i)), `cancels only outside the window: ${c1}`);
    assert.equal(sm.stats(rig.torrent).cancels, c1.length);
    assert.equal(c1.length, before.filter((i) => !window1.has(i)).length, 'one cancel per request outside (one block per piece here)');
    const after = requestedPieces(peer);
    // Head (0), the reader's piece (10) and the tail (39) rank first; then the window in order.
    const expected = [0, 10, 39, 11, 12, 13].filter((i) => !before.includes(i));
    assert.deepEqual(after.slice(0, expected.length), expected);
    for (const i of window1) if (!before.includes(i)) assert.ok(after.includes(i), `window piece ${i} requested`);
    // Seek: a new reader at piece 30 after the first is gone; requests outside its window are cancelled.
    s1.destroy();
    await rig.settle();
    const cancelsBefore = sm.stats(rig.torrent).cancels;
    const s2 = sm.createReadStream(rig.torrent, 0, { start: 30 * 16 * KiB });
    await rig.settle();
    const c2 = peer.takeAll('cancel').map((m) => (m as { index: number }).index);
    const window2 = new Set([0, 30, 31, 32, 33, 39]);
    assert.ok(c2.length > 0, 'the seek cancelled something');
    assert.ok(c2.every((i) => !window2.has(i)));
    assert.equal(sm.stats(rig.torrent).cancels - cancelsBefore, c2.length);
    assert.ok(c2.includes(11) || c2.includes(12) || c2.includes(13), 'the old window is cancelled');
    s2.destroy();
    await rig.settle();
    assert.deepEqual(sm.stats(rig.torrent).windowPieces, 0, 'a destroyed stream releases its window');
  });

  it('a destroyed stream releases its window (normal picking resumes)', async () => {
    const rig = new TorrentRig({ pieces: 20 });
    await rig.start();
    const sm = new StreamManager({ windowBytes: 3 * 16 * KiB, tailBytes: 0 });
    const s = sm.createReadStream(rig.torrent, 0, { start: 5 * 16 * KiB });
    assert.ok(sm.stats(rig.torrent).windowPieces >= 3);
    const ac = new AbortController();
    const s2 = sm.createReadStream(rig.torrent, 0, { signal: ac.signal });
    const err = new Promise<unknown>((resolve) => s2.on('error', resolve));
    ac.abort();
    assert.ok((await err) instanceof BtError);
    s.destroy();
    await rig.settle();
    assert.equal(sm.stats(rig.torrent).readers, 0);
    assert.equal(sm.stats(rig.torrent).windowPieces, 0);
  });

  it('streams from a magnet link: waits for the metadata, then reads', async () => {
    const rig = new TorrentRig({ pieces: 6, magnet: true });
    await rig.start();
    const sm = new StreamManager();
    const r = collect(sm.createReadStream(rig.torrent, 0, { start: 100, end: 40_000 }));
    const bad = sm.createReadStream(rig.torrent, 3);
    const badErr = new Promise<unknown>((resolve) => bad.on('error', resolve));
    const p = await rig.connect({ extended: true, fast: true });
    const info = rig.meta.infoBytes;
    assert.ok(info.length < METADATA_PIECE_SIZE);
    p.extendedHandshake({ metadata_size: info.length });
    await rig.settle();
    p.utMetadata({ type: 'data', piece: 0, totalSize: info.length, data: info });
    await rig.settle();
    assert.equal(rig.torrent.hasMetadata, true);
    const e = (await badErr) as BtError;
    assert.equal(e.code, 'ERR_RANGE', 'file 3 of a one-file torrent');
    const seed = await rig.connect();
    seed.servePieces(rig.content, rig.meta.info.pieceLength);
    seed.send({ type: 'bitfield', bits: ScriptedPeer.bits(6) }, { type: 'unchoke' });
    assert.deepEqual(await until(rig, r.done), rig.content.subarray(100, 40_001));
  });

  it('bad file indexes and ranges are ERR_RANGE at once', async () => {
    const rig = new TorrentRig({ pieces: 2 });
    await rig.start();
    const sm = new StreamManager();
    const len = rig.meta.info.totalLength;
    for (const [f, o] of [
      [1, {}],
      [-1, {}],
      [0, { start: len + 1 }],
      [0, { end: len }],
      [0, { start: 10, end: 5 }],
      [0, { start: 1.5 }],
    ] as const) {
      assert.throws(() => sm.createReadStream(rig.torrent, f, o), (e: unknown) => e instanceof BtError && e.code === 'ERR_RANGE', JSON.stringify([f, o]));
    }
    // An empty range at the end is fine: it just ends.
    assert.deepEqual(await until(rig, collect(sm.createReadStream(rig.torrent, 0, { start: len })).done), new Uint8Array(0));
    assert.throws(() => new StreamManager({ windowBytes: -1 }), (e: unknown) => e instanceof BtError && e.code === 'ERR_SETTINGS');
  });
});
