/** Uploader: which requests are served, rejected (BEP 6) or dropped, the queue bound, choking. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerSession } from '../../../src/torrent/peer-session.js';
import { PieceReadCache } from '../../../src/torrent/read-cache.js';
import { resolveSettings } from '../../../src/engine/settings.js';
import type { EngineSettings } from '../../../src/engine/settings.js';
import { TorrentRate } from '../../../src/torrent/torrent-rate.js';
import { Uploader } from '../../../src/torrent/uploader.js';
import { memoryPair } from '../../../src/transport/memory/memory-transport.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { FrameDecoder, makeReserved } from '../../../src/wire/index.js';
import type { Message } from '../../../src/wire/index.js';
import { makeTestTorrent, pieceBytes, settle } from '../../helpers/torrent-rig.js';

const t = makeTestTorrent({ pieces: 3, lastPieceShort: 384 });
const info = t.meta.info;
let nextPort = 50100;

function setup(o: { fast?: boolean; settings?: Partial<EngineSettings>; have?: number[]; stuckReads?: boolean } = {}) {
  const clock = new FakeClock();
  const settings = resolveSettings({ uploadSlots: 2, ...o.settings });
  const [local, remote] = memoryPair(6881, nextPort++); // a distinct address (the choker's key) per session
  const sent: Message[] = [];
  const dec = new FrameDecoder({ maxMessageLength: 64 * 1024 });
  remote.setHandlers({
    onData: (c) => {
      dec.push(c);
      for (let r = dec.next(); r; r = dec.next()) if (r.kind === 'message') sent.push(r.message);
    },
    onDrain: () => {},
    onClose: () => {},
  });
  const closes: string[] = [];
  const peer = new PeerConnection({
    conn: local,
    peerId: new Uint8Array(20),
    reserved: makeReserved({ fast: o.fast === true }),
    decoder: new FrameDecoder({ maxMessageLength: 64 * 1024 }),
    pieceCount: info.pieceCount,
    clock,
    handler: { onMessage: () => {}, onClose: (_p, r) => closes.push(r), onDrain: () => {} },
  });
  const st = new PeerSession({ peer, pieceCount: info.pieceCount, source: 'incoming', encryption: 'none', dht: false });
  const have = new Bitfield(info.pieceCount);
  for (const i of o.have ?? [0, 1, 2]) have.set(i);
  const reads: number[] = [];
  const cache = new PieceReadCache(
    1 << 20,
    (i) => {
      reads.push(i);
      return o.stuckReads ? new Promise<Uint8Array>(() => {}) : Promise.resolve(pieceBytes(t, i));
    },
    () => info.pieceLength,
  );
  const uploaded: number[] = [];
  const warnings: string[] = [];
  const up = new Uploader(settings, new SeededRandom(1), clock, new TorrentRate(clock, undefined, () => {}), {
    uploaded: (n) => uploaded.push(n),
    warning: (m) => warnings.push(m),
  });
  const request = (index: number, begin: number, length: number): void => up.onRequest(st, info, have, cache, index, begin, length);
  return { clock, st, up, sent, closes, reads, uploaded, warnings, request, cache, settings };
}

describe('Uploader.onRequest', () => {
  it('serves an unchoked peer the block it asked for', async () => {
    const s = setup();
    s.up.setChoke(s.st, false);
    s.request(1, 100, 1000);
    s.request(2, 0, 16384 - 384);
    await settle();
    assert.deepEqual(s.sent[0], { type: 'unchoke' });
    const pieces = s.sent.filter((m) => m.type === 'piece');
    assert.deepEqual(pieces, [
      { type: 'piece', index: 1, begin: 100, block: pieceBytes(t, 1).slice(100, 1100) },
      { type: 'piece', index: 2, begin: 0, block: pieceBytes(t, 2) },
    ]);
    assert.deepEqual(s.uploaded, [1000, 16384 - 384]);
  });

  it('a choked peer is rejected when it has the fast extension, ignored when not', async () => {
    const fast = setup({ fast: true });
    fast.request(0, 0, 16384);
    await settle();
    assert.deepEqual(fast.sent, [{ type: 'reject', index: 0, begin: 0, length: 16384 }]);
    assert.deepEqual(fast.reads, []);
    const plain = setup();
    plain.request(0, 0, 16384);
    await settle();
    assert.deepEqual(plain.sent, []);
    assert.deepEqual(plain.closes, []);
  });

  it('a piece we lack is rejected (fast)', async () => {
    const s = setup({ fast: true, have: [0] });
    s.up.setChoke(s.st, false);
    s.request(1, 0, 16384);
    await settle();
    assert.deepEqual(s.sent, [{ type: 'unchoke' }, { type: 'reject', index: 1, begin: 0, length: 16384 }]);
  });

  it('an invalid request closes the peer', () => {
    for (const [i, b, l] of [
      [3, 0, 16384], // no such piece
      [0, 0, 0], // empty
      [0, 0, 128 * 1024 + 1], // too large
      [2, 16000, 1000], // past the end of the short last piece
    ] as const) {
      const s = setup({ fast: true });
      s.up.setChoke(s.st, false);
      s.request(i, b, l);
      assert.deepEqual(s.closes, [`invalid request ${i}:${b}+${l}`]);
    }
  });

  it('the queue is bounded by maxIncomingRequests: the rest are rejected', async () => {
    const s = setup({ fast: true, settings: { maxIncomingRequests: 2 }, stuckReads: true });
    s.up.setChoke(s.st, false);
    for (let k = 0; k < 20; k++) s.request(0, k * 100, 100);
    await settle();
    // 16 reads in flight, 2 queued behind them, 2 rejected.
    assert.equal(s.st.readsInFlight, 16);
    assert.equal(s.st.uploadQueue.length, 2);
    assert.deepEqual(s.sent.filter((m) => m.type === 'reject').map((m) => (m as { begin: number }).begin), [1800, 1900]);
    // A cancel takes a queued request out.
    s.up.onCancel(s.st, 0, 1600, 100);
    assert.deepEqual(s.st.uploadQueue.map((r) => r.begin), [1700]);
    // Choking rejects what is queued and empties the queue.
    s.up.setChoke(s.st, true);
    await settle();
    assert.equal(s.st.uploadQueue.length, 0);
    assert.deepEqual(s.sent.slice(-2), [{ type: 'choke' }, { type: 'reject', index: 0, begin: 1700, length: 100 }]);
  });

  it('a read that fails is a warning and a reject', async () => {
    const s = setup({ fast: true });
    s.up.setChoke(s.st, false);
    const failing = new PieceReadCache(1 << 20, () => Promise.reject(new Error('EIO')), () => info.pieceLength);
    s.up.onRequest(s.st, info, (() => { const b = new Bitfield(3); b.setAll(); return b; })(), failing, 0, 0, 100);
    await settle();
    assert.deepEqual(s.warnings, ['cannot read piece 0: EIO']);
    assert.deepEqual(s.sent.at(-1), { type: 'reject', index: 0, begin: 0, length: 100 });
  });
});

describe('Uploader choking', () => {
  it('an interested peer gets a free slot at once; not once the slots are taken', () => {
    const a = setup();
    const b = setup();
    const c = setup();
    // Share one uploader over three sessions (as one torrent's peers).
    const up = a.up;
    up.maybeUnchokeNow(a.st, [a.st, b.st, c.st]);
    up.maybeUnchokeNow(b.st, [a.st, b.st, c.st]);
    up.maybeUnchokeNow(c.st, [a.st, b.st, c.st]);
    assert.deepEqual([a.st.amChoking, b.st.amChoking, c.st.amChoking], [false, false, true], 'uploadSlots 2');
  });

  it('a choke round runs every chokeIntervalMs and leaves uninterested peers choked', () => {
    const a = setup();
    const b = setup();
    a.st.peerInterested = true;
    const now = a.clock.now();
    a.up.tick([a.st, b.st], true, now + a.settings.chokeIntervalMs);
    assert.equal(a.st.amChoking, false);
    assert.equal(b.st.amChoking, true);
    a.st.peerInterested = false;
    a.up.tick([a.st, b.st], true, now + a.settings.chokeIntervalMs + 1000);
    assert.equal(a.st.amChoking, false, 'not a round yet');
    a.up.tick([a.st, b.st], true, now + 2 * a.settings.chokeIntervalMs);
    assert.equal(a.st.amChoking, true);
  });
});
