/** torrentStats / peerInfo (pure). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/core/node-random.js';
import { PiecePicker } from '../../../src/picker/index.js';
import type { PeerSession } from '../../../src/torrent/peer-session.js';
import { UNKNOWN_LEFT, torrentStats } from '../../../src/torrent/stats.js';
import type { StatsInput } from '../../../src/torrent/stats.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { makeTestTorrent } from '../../helpers/torrent-rig.js';

const PL = 16384;

function input(o: Partial<StatsInput>): StatsInput {
  return { state: 'downloading', info: undefined, picker: undefined, selective: false, downloaded: 0, uploaded: 0, downloadRate: 0, uploadRate: 0, peers: [], ...o };
}

const peer = (isSeed: boolean): PeerSession => ({ isSeed }) as PeerSession;

describe('torrentStats', () => {
  it('before the metadata: unknown size, no progress', () => {
    const s = torrentStats(input({ state: 'metadata', downloaded: 5, downloadRate: 99, peers: [peer(true), peer(false)] }));
    assert.deepEqual(s, {
      state: 'metadata',
      progress: 0,
      piecesHave: 0,
      pieceCount: 0,
      downloaded: 5,
      uploaded: 0,
      downloadRate: 0,
      uploadRate: 0,
      peers: 2,
      seeds: 0,
      eta: undefined,
      left: UNKNOWN_LEFT,
    });
  });

  // 4 pieces, the last 1000 bytes short: 4 * 16384 - 1000 = 64536 bytes.
  const { meta } = makeTestTorrent({ pieces: 4, lastPieceShort: 1000 });
  const info = meta.info;
  const picker = (have: number[], prio?: number[]): PiecePicker => {
    const bits = new Bitfield(4);
    for (const i of have) bits.set(i);
    const p = new PiecePicker({ pieceCount: 4, pieceLength: PL, totalLength: info.totalLength, have: bits, random: new SeededRandom(1) });
    prio?.forEach((v, i) => p.setPiecePriority(i, v));
    return p;
  };

  it('counts bytes, the short last piece, seeds and the ETA', () => {
    const s = torrentStats(input({ info, picker: picker([0, 3]), downloadRate: 1000, peers: [peer(true), peer(false), peer(true)] }));
    assert.equal(s.piecesHave, 2);
    assert.equal(s.pieceCount, 4);
    assert.equal(s.left, 2 * PL);
    assert.equal(s.progress, (info.totalLength - 2 * PL) / info.totalLength);
    assert.equal(s.eta, (2 * PL) / 1000);
    assert.equal(s.seeds, 2);
    assert.equal(s.peers, 3);
    assert.equal(torrentStats(input({ info, picker: picker([0]) })).eta, undefined, 'no rate: unknown');
    const done = torrentStats(input({ info, picker: picker([0, 1, 2, 3]) }));
    assert.equal(done.left, 0);
    assert.equal(done.progress, 1);
    assert.equal(done.eta, 0);
  });

  it('with skipped files, progress and ETA count only the wanted pieces (and those we have); left stays the whole torrent', () => {
    // Pieces 1 and 3 skipped; piece 0 verified.
    const p = picker([0], [4, 0, 4, 0]);
    const s = torrentStats(input({ info, picker: p, selective: true, downloadRate: PL }));
    assert.equal(s.progress, 0.5, 'piece 0 of pieces 0 and 2');
    assert.equal(s.eta, 1);
    assert.equal(s.left, info.totalLength - PL);
    // Not selective: the same picker counts everything.
    assert.equal(torrentStats(input({ info, picker: p, selective: false })).progress, PL / info.totalLength);
    // A skipped piece we have counts as wanted and done.
    const q = picker([3], [4, 0, 0, 0]);
    const s2 = torrentStats(input({ info, picker: q, selective: true }));
    assert.equal(s2.progress, (PL - 1000) / (PL + PL - 1000));
    // Everything wanted is there.
    const r = picker([0], [4, 0, 0, 0]);
    const s3 = torrentStats(input({ info, picker: r, selective: true, downloadRate: 0 }));
    assert.equal(s3.progress, 1);
    assert.equal(s3.eta, 0);
    // Nothing wanted at all.
    assert.equal(torrentStats(input({ info, picker: picker([], [0, 0, 0, 0]), selective: true })).progress, 1);
  });
});
