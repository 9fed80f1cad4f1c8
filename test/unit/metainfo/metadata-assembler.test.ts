/** BEP 9 metadata download state machine and metainfoFromInfoBytes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../../../src/core/index.js';
import { isBtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import {
  DEFAULT_MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  MetadataAssembler,
  infoHashOf,
  metainfoFromInfoBytes,
  parseTorrent,
} from '../../../src/metainfo/index.js';
import { decodeUtMetadata, serveMetadata } from '../../../src/wire/index.js';

/** A valid single-file info dict of ~`pieces * 20` bytes. */
function makeInfo(pieces: number, name = 'payload.bin'): Uint8Array {
  const h = new Uint8Array(20 * pieces);
  for (let i = 0; i < h.length; i++) h[i] = (i * 31 + 7) & 0xff;
  return bencode({ length: pieces * 16384 - 5, name, 'piece length': 16384, pieces: h });
}

function pieceOf(info: Uint8Array, i: number): Uint8Array {
  return info.subarray(i * METADATA_PIECE_SIZE, Math.min(info.length, (i + 1) * METADATA_PIECE_SIZE));
}

function throwsCode(fn: () => unknown, code: Parameters<typeof isBtError>[1], re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBtError(e, code), `expected ${code}, got ${String(e)}`);
    if (re) assert.match((e as Error).message, re);
    return true;
  });
}

const INFO = makeInfo(2000); // ~40 KB: 3 metadata pieces
const HASH = infoHashOf(INFO);

function assembler(clock = new FakeClock(), extra: Partial<ConstructorParameters<typeof MetadataAssembler>[0]> = {}): MetadataAssembler<string> {
  return new MetadataAssembler<string>({ infoHash: HASH, metadataSize: INFO.length, clock, ...extra });
}

describe('MetadataAssembler (BEP 9)', () => {
  it('spreads requests over peers and completes with the verified info dict', () => {
    const a = assembler();
    assert.equal(a.pieceCount, 3);
    const asked = new Map<string, number[]>();
    for (const p of ['A', 'B', 'C']) asked.set(p, [a.request(p)!]);
    assert.deepEqual([...asked.values()].flat().sort(), [0, 1, 2], 'each peer gets a different piece');
    assert.equal(a.outstanding(), 3);
    const r1 = a.onData('A', asked.get('A')![0]!, pieceOf(INFO, asked.get('A')![0]!));
    assert.deepEqual(r1, { status: 'progress', have: 1, total: 3 });
    a.onData('B', asked.get('B')![0]!, pieceOf(INFO, asked.get('B')![0]!));
    const r3 = a.onData('C', asked.get('C')![0]!, pieceOf(INFO, asked.get('C')![0]!));
    assert.equal(r3.status, 'complete');
    assert.ok(r3.status === 'complete');
    assert.deepEqual(r3.infoBytes, INFO);
    assert.ok(a.complete);
    assert.equal(a.request('D'), undefined);
    assert.deepEqual(a.onData('A', 0, pieceOf(INFO, 0)), { status: 'ignored', reason: 'complete' });
    assert.equal(metainfoFromInfoBytes(r3.infoBytes, { infoHash: HASH }).info.pieceCount, 2000);
  });

  it('goes through the wire codec end to end (serveMetadata → decode → assembler)', () => {
    const a = assembler();
    for (;;) {
      const piece = a.request('seed');
      if (piece === undefined) break;
      const msg = decodeUtMetadata(serveMetadata(INFO, piece), { metadataSize: a.metadataSize });
      assert.equal(msg.type, 'data');
      if (msg.type !== 'data') return;
      const r = a.onData('seed', msg.piece, msg.data);
      if (r.status === 'complete') break;
    }
    assert.ok(a.complete);
    assert.deepEqual(a.infoBytes, INFO);
  });

  it('limits requests per peer, and lets a second peer race for pieces already asked', () => {
    const a = assembler(new FakeClock(), { maxRequestsPerPeer: 2, maxRequestersPerPiece: 2 });
    assert.equal(a.request('A'), 0);
    assert.equal(a.request('A'), 1);
    assert.equal(a.request('A'), undefined, 'A has 2 in flight');
    assert.equal(a.request('B'), 2);
    assert.equal(a.request('B'), 0, 'nothing unasked left: B doubles up on 0');
    assert.equal(a.request('C'), 1);
    assert.equal(a.request('C'), 2);
    assert.equal(a.request('D'), undefined, 'every piece has 2 requesters');
    // B answers piece 0 first; A's late answer is ignored.
    assert.equal(a.onData('B', 0, pieceOf(INFO, 0)).status, 'progress');
    assert.deepEqual(a.onData('A', 0, pieceOf(INFO, 0)), { status: 'ignored', reason: 'have' });
    assert.equal(a.outstanding('A'), 1);
  });

  it('ignores data nobody asked this peer for', () => {
    const a = assembler();
    assert.deepEqual(a.onData('X', 1, pieceOf(INFO, 1)), { status: 'ignored', reason: 'not-requested' });
    assert.equal(a.piecesHave, 0);
  });

  it('re-asks another peer after a reject, and tells when a peer rejected everything', () => {
    const a = assembler(new FakeClock(), { maxRequestsPerPeer: 5 });
    assert.equal(a.request('A'), 0);
    a.onReject('A', 0);
    assert.equal(a.outstanding('A'), 0);
    assert.equal(a.request('A'), 1, 'A is not asked for 0 again');
    assert.equal(a.request('B'), 0, 'B is');
    a.onReject('A', 1);
    assert.equal(a.request('A'), 2);
    a.onReject('A', 2);
    assert.equal(a.request('A'), undefined);
    assert.ok(a.exhausted('A'));
    assert.ok(!a.exhausted('B'));
    a.onReject('A', 999); // out of range: ignored
  });

  it('frees timed-out requests (injected clock) so the piece goes to another peer', () => {
    const clock = new FakeClock();
    const a = assembler(clock, { requestTimeoutMs: 10_000, maxRequestersPerPiece: 1, maxRequestsPerPeer: 3 });
    assert.equal(a.msUntilTimeout(), undefined);
    assert.equal(a.request('slow'), 0);
    clock.advance(4000);
    assert.equal(a.request('slow'), 1);
    assert.equal(a.msUntilTimeout(), 6000);
    clock.advance(5999);
    assert.deepEqual(a.expire(), []);
    clock.advance(1);
    assert.deepEqual(a.expire(), [{ peer: 'slow', piece: 0 }]);
    assert.equal(a.request('fast'), 0, 'the freed piece is asked again');
    clock.advance(4000);
    assert.deepEqual(a.expire(), [{ peer: 'slow', piece: 1 }]);
    // The late answer from 'slow' is not accepted any more (not requested).
    assert.equal(a.onData('slow', 1, pieceOf(INFO, 1)).status, 'ignored');
  });

  it('removePeer frees its requests', () => {
    const a = assembler();
    assert.equal(a.request('A'), 0);
    a.removePeer('A');
    assert.equal(a.outstanding(), 0);
    assert.equal(a.request('B'), 0);
  });

  it('metadata that does not hash to the info-hash names the contributors, bans them, and restarts', () => {
    const a = assembler(new FakeClock(), { maxRequestsPerPeer: 3 });
    const bad = pieceOf(INFO, 1).slice();
    bad[10] ^= 0xff;
    const p0 = a.request('good')!;
    const p1 = a.request('evil')!;
    const p2 = a.request('good')!;
    assert.deepEqual([p0, p1, p2], [0, 1, 2]);
    a.onData('good', 0, pieceOf(INFO, 0));
    a.onData('evil', 1, bad);
    const r = a.onData('good', 2, pieceOf(INFO, 2));
    assert.equal(r.status, 'hash-failed');
    assert.ok(r.status === 'hash-failed');
    assert.deepEqual(r.peers.sort(), ['evil', 'good']);
    assert.ok(a.isBanned('evil') && a.isBanned('good'));
    assert.equal(a.request('evil'), undefined);
    assert.equal(a.piecesHave, 0);
    assert.equal(a.outstanding(), 0);
    // A fresh peer starts again from piece 0 and can complete.
    const b = ['n1', 'n2', 'n3'].map((p) => [p, a.request(p)!] as const);
    let last;
    for (const [p, i] of b) last = a.onData(p, i, pieceOf(INFO, i));
    assert.equal(last?.status, 'complete');
  });

  it('refuses a metadata size beyond the limit, a bad info-hash, and wrong data lengths', () => {
    const clock = new FakeClock();
    throwsCode(() => new MetadataAssembler({ infoHash: HASH, metadataSize: DEFAULT_MAX_METADATA_SIZE + 1, clock }), 'ERR_METADATA', /exceeds the limit/);
    throwsCode(() => new MetadataAssembler({ infoHash: HASH, metadataSize: 1 << 20, clock, maxMetadataSize: 1 << 19 }), 'ERR_METADATA');
    throwsCode(() => new MetadataAssembler({ infoHash: HASH, metadataSize: 0, clock }), 'ERR_METADATA');
    throwsCode(() => new MetadataAssembler({ infoHash: HASH, metadataSize: 1.5, clock }), 'ERR_METADATA');
    throwsCode(() => new MetadataAssembler({ infoHash: HASH.subarray(0, 19), metadataSize: 100, clock }), 'ERR_METADATA');
    const a = assembler(clock);
    a.request('A');
    throwsCode(() => a.onData('A', 0, new Uint8Array(100)), 'ERR_METADATA', /expected 16384/);
    throwsCode(() => a.onData('A', 7, new Uint8Array(100)), 'ERR_METADATA', /out of range/);
    assert.ok(a.agrees(INFO.length));
    assert.ok(!a.agrees(INFO.length + 1));
    assert.ok(!a.agrees(undefined));
  });

  it('completes whatever the order of requests, replies, rejects and timeouts (property)', () => {
    const info = makeInfo(3300); // 5 pieces
    const hash = infoHashOf(info);
    const peers = ['p0', 'p1', 'p2', 'p3'];
    const step = fc.oneof(
      fc.record({ k: fc.constant('req' as const), p: fc.constantFrom(...peers) }),
      fc.record({ k: fc.constant('reply' as const), n: fc.nat() }),
      fc.record({ k: fc.constant('reject' as const), n: fc.nat() }),
      fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
      fc.record({ k: fc.constant('gone' as const), p: fc.constantFrom(...peers) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const clock = new FakeClock();
        const a = new MetadataAssembler<string>({ infoHash: hash, metadataSize: info.length, clock });
        const inflight: [string, number][] = [];
        for (const s of steps) {
          if (s.k === 'req') {
            const i = a.request(s.p);
            if (i !== undefined) inflight.push([s.p, i]);
          } else if ((s.k === 'reply' || s.k === 'reject') && inflight.length > 0) {
            const [p, i] = inflight.splice(s.n % inflight.length, 1)[0]!;
            if (s.k === 'reply') a.onData(p, i, pieceOf(info, i));
            else a.onReject(p, i);
          } else if (s.k === 'tick') {
            clock.advance(s.ms);
            a.expire();
          } else if (s.k === 'gone') {
            a.removePeer(s.p);
          }
        }
        // Then a fresh, honest peer finishes the job.
        for (let guard = 0; !a.complete && guard < 20; guard++) {
          const i = a.request('fresh');
          if (i === undefined) {
            clock.advance(60_000);
            a.expire();
            continue;
          }
          a.onData('fresh', i, pieceOf(info, i));
        }
        assert.ok(a.complete);
        assert.deepEqual(a.infoBytes, info);
      }),
      { numRuns: 200 },
    );
  });
});

describe('metainfoFromInfoBytes', () => {
  it('builds the same Metainfo as parsing the .torrent, with magnet trackers as tiers', () => {
    const full = new Uint8Array([...new TextEncoder().encode('d4:info'), ...INFO, ...new TextEncoder().encode('e')]);
    const parsed = parseTorrent(full);
    const mi = metainfoFromInfoBytes(INFO, { trackers: ['http://t1/announce', ' udp://t2:80 ', 'http://t1/announce', ''], infoHash: HASH });
    assert.deepEqual(mi.info, parsed.info);
    assert.deepEqual(mi.infoHash, parsed.infoHash);
    assert.equal(mi.infoHashHex, parsed.infoHashHex);
    assert.deepEqual(mi.infoBytes, INFO);
    assert.deepEqual(mi.announceList, [['http://t1/announce'], ['udp://t2:80']]);
    assert.equal(mi.announce, 'http://t1/announce');
    assert.deepEqual(metainfoFromInfoBytes(INFO).announceList, []);
    assert.deepEqual(metainfoFromInfoBytes(INFO, { urlList: ['http://ws/'] }).urlList, ['http://ws/']);
  });

  it('refuses a hash mismatch, non-dictionaries and invalid info dicts', () => {
    const other = new Uint8Array(20).fill(1);
    throwsCode(() => metainfoFromInfoBytes(INFO, { infoHash: other }), 'ERR_HASH');
    throwsCode(() => metainfoFromInfoBytes(new TextEncoder().encode('li1ee')), 'ERR_METAINFO');
    throwsCode(() => metainfoFromInfoBytes(new Uint8Array(0)), 'ERR_METAINFO');
    throwsCode(() => metainfoFromInfoBytes(new TextEncoder().encode('d4:name')), 'ERR_BENCODE');
    throwsCode(() => metainfoFromInfoBytes(bencode({ name: 'x', 'piece length': 16384 })), 'ERR_METAINFO');
    throwsCode(() => metainfoFromInfoBytes(bencode({ name: '../x', 'piece length': 16384, length: 1, pieces: new Uint8Array(20) })), 'ERR_UNSAFE_PATH');
  });
});
