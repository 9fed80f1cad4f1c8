/** requestDepth / requestBatch / nextSlowStart (pure), and the Requester filling a pipeline within its budgets. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PiecePicker } from '../../../src/picker/index.js';
import { InlineHasher } from '../../../src/storage/hasher.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { PeerSession } from '../../../src/torrent/peer-session.js';
import { PieceAssembler } from '../../../src/torrent/piece-assembler.js';
import { Requester, nextSlowStart, requestBatch, requestDepth } from '../../../src/torrent/requester.js';
import { resolveSettings } from '../../../src/engine/settings.js';
import { TorrentRate } from '../../../src/torrent/torrent-rate.js';
import { memoryPair } from '../../../src/transport/memory/memory-transport.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { FrameDecoder } from '../../../src/wire/index.js';
import type { Message } from '../../../src/wire/index.js';
import { makeTestTorrent, settle } from '../../helpers/torrent-rig.js';

const S = { requestQueueSeconds: 3, maxOutstandingRequests: 1000 };
const BLOCK = 16384;

describe('requestDepth', () => {
  it('keeps requestQueueSeconds of data at the peer rate, at least 16', () => {
    assert.equal(requestDepth(0, S, 250, 0), 16);
    assert.equal(requestDepth(BLOCK, S, 250, 0), 16, '3 blocks: the floor');
    assert.equal(requestDepth(10 * BLOCK, S, 250, 0), 30);
    assert.equal(requestDepth(10 * BLOCK + 1, S, 250, 0), 31, 'rounded up');
    assert.equal(requestDepth(10 * BLOCK, { ...S, requestQueueSeconds: 6 }, 250, 0), 60);
  });

  it('is capped by the peer (reqq) and by maxOutstandingRequests', () => {
    assert.equal(requestDepth(1e9, S, 250, 0), 250);
    assert.equal(requestDepth(1e9, { ...S, maxOutstandingRequests: 100 }, 250, 0), 100);
    assert.equal(requestDepth(1e9, S, 5, 0), 16, 'never below 16, even for a tiny reqq');
  });

  it('slow start sets a floor while the rate is young', () => {
    assert.equal(requestDepth(0, S, 250, 32), 32);
    assert.equal(requestDepth(20 * BLOCK, S, 250, 32), 60, 'the rate wins once it is higher');
    assert.equal(requestDepth(0, S, 40, 100), 40, 'capped like the rest');
  });

  it('grows with the rate (monotone)', () => {
    let prev = 0;
    for (let r = 0; r < 400 * BLOCK; r += 7919) {
      const d = requestDepth(r, S, 250, 0);
      assert.ok(d >= prev);
      prev = d;
    }
  });
});

describe('requestBatch', () => {
  it('tops the pipeline up only once an eighth of it is free', () => {
    assert.equal(requestBatch(0, 32), 32);
    assert.equal(requestBatch(28, 32), 4, 'exactly an eighth free');
    assert.equal(requestBatch(29, 32), 0);
    assert.equal(requestBatch(32, 32), 0);
    assert.equal(requestBatch(40, 32), 0, 'over the target: nothing');
    assert.equal(requestBatch(15, 16), 0, 'one block free of 16 is not enough (16 >> 3 = 2)');
    assert.equal(requestBatch(14, 16), 2);
    assert.equal(requestBatch(7, 8), 1, 'a small target batches by at least one block');
  });
});

describe('nextSlowStart', () => {
  it('grows by one per block in the first 10 s, then ends for good', () => {
    assert.equal(nextSlowStart(32, 0), 33);
    assert.equal(nextSlowStart(33, 9_999), 34);
    assert.equal(nextSlowStart(34, 10_000), 0);
    assert.equal(nextSlowStart(0, 5), 0, 'ended stays ended');
  });
});

describe('Requester.fill', () => {
  function setup(o: { limit?: number; snubbed?: boolean; choking?: boolean; interested?: boolean } = {}) {
    const t = makeTestTorrent({ pieces: 64 });
    const info = t.meta.info;
    const clock = new FakeClock();
    const settings = resolveSettings();
    const [local, remote] = memoryPair();
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
    const peer = new PeerConnection({ conn: local, peerId: new Uint8Array(20), reserved: new Uint8Array(8), decoder: new FrameDecoder({ maxMessageLength: 1 << 16 }), pieceCount: 64, clock, handler: { onMessage: () => {}, onClose: () => {}, onDrain: () => {} } });
    const st = new PeerSession({ peer, pieceCount: 64, source: 'manual', encryption: 'none', dht: false });
    st.have.setAll();
    st.choking = o.choking ?? false;
    st.amInterested = o.interested ?? true;
    st.snubbed = o.snubbed ?? false;
    const picker = new PiecePicker({ pieceCount: 64, pieceLength: info.pieceLength, totalLength: info.totalLength, have: new Bitfield(64), random: new SeededRandom(1) });
    picker.addPeerBitfield(st.have);
    const rate = new TorrentRate(clock, undefined, () => {});
    if (o.limit) rate.setLimits({ download: o.limit });
    const asm = new PieceAssembler(info, new MemoryStorage(info), new InlineHasher(), { verified: () => {}, failed: () => {}, error: () => {}, unblocked: () => {} });
    const rq = new Requester(settings, rate, asm);
    return { rq, picker, st, sent, clock };
  }

  it('fills a fresh peer to its slow-start depth, then only in batches', async () => {
    const s = setup();
    s.rq.fill(s.picker, s.st, s.clock.now());
    await settle();
    assert.equal(s.sent.length, 32);
    s.rq.fill(s.picker, s.st, s.clock.now());
    await settle();
    assert.equal(s.sent.length, 32, 'a full pipeline asks for nothing more');
  });

  it('nothing while choked (without allowed-fast pieces) or not interested', async () => {
    for (const o of [{ choking: true }, { interested: false }]) {
      const s = setup(o);
      s.rq.fill(s.picker, s.st, s.clock.now());
      await settle();
      assert.equal(s.sent.length, 0);
    }
  });

  it('a snubbed peer gets one request at a time', async () => {
    const s = setup({ snubbed: true });
    s.rq.fill(s.picker, s.st, s.clock.now());
    s.rq.fill(s.picker, s.st, s.clock.now());
    await settle();
    assert.equal(s.sent.length, 1);
  });

  it('a download limit bounds what is requested by the bytes it allows', async () => {
    const s = setup({ limit: 64 * 1024 });
    s.rq.fill(s.picker, s.st, s.clock.now());
    await settle();
    const n = s.sent.length;
    assert.ok(n >= 1 && n < 32, `${n} requests`);
  });
});
