/** BEP 3 .torrent parsing: parseTorrent never throws anything but BtError on mutated valid torrents. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { bencode, bdecode } from '../../../src/bencode/index.js';
import type { BDict, BValue } from '../../../src/bencode/index.js';
import { BtError } from '../../../src/core/errors.js';

const seeds = [
  buildTorrent({ name: 'single.bin', files: null, length: 100, pieceLength: 32, pieceHashes: new Uint8Array(80), trackers: [['http://a/'], ['udp://b:1']], comment: 'x', creationDate: 1 }),
  buildTorrent({
    name: 'multi',
    files: [{ path: ['d', 'a'], length: 7 }, { path: ['b'], length: 0 }, { path: ['c'], length: 40 }],
    pieceLength: 16,
    pieceHashes: new Uint8Array(60),
    private: true,
    urlList: ['http://w1/', 'http://w2/'],
  }),
];

function onlyBtError(bytes: Uint8Array): void {
  try {
    const m = parseTorrent(bytes);
    assert.equal(m.info.pieceCount, Math.ceil(m.info.totalLength / m.info.pieceLength));
  } catch (e) {
    if (!(e instanceof BtError)) throw e;
    assert.ok(['ERR_BENCODE', 'ERR_METAINFO', 'ERR_UNSAFE_PATH'].includes(e.code), e.code);
  }
}

test('byte-level mutations', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (seed, muts, cut) => {
        const b = seed.slice();
        for (const [i, v] of muts) b[i % b.length] = v;
        onlyBtError(b);
        onlyBtError(b.subarray(0, cut % (b.length + 1)));
      },
    ),
    { numRuns: 3000 },
  );
});

// Structural mutations: replace a random node of the decoded tree by a random value, re-encode.
const anyValue: fc.Arbitrary<BValue> = fc.oneof(
  fc.integer({ min: -5, max: 1 << 20 }),
  fc.constantFrom<BValue>(new Uint8Array(0), new TextEncoder().encode('..'), new TextEncoder().encode('a/b'), new Uint8Array(20), []),
  fc.uint8Array({ maxLength: 45 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant(Object.create(null) as BDict),
);

function nodes(v: BValue, out: { parent: BDict | BValue[]; key: string | number }[]): void {
  if (Array.isArray(v)) v.forEach((c, i) => { out.push({ parent: v, key: i }); nodes(c, out); });
  else if (typeof v === 'object' && !(v instanceof Uint8Array)) for (const k of Object.keys(v)) { out.push({ parent: v, key: k }); nodes(v[k]!, out); }
}

test('structural mutations', () => {
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.nat(), anyValue, fc.boolean(), (seed, pick, repl, del) => {
      const tree = bdecode(seed);
      const all: { parent: BDict | BValue[]; key: string | number }[] = [];
      nodes(tree, all);
      const n = all[pick % all.length]!;
      if (Array.isArray(n.parent)) {
        if (del) n.parent.splice(n.key as number, 1);
        else n.parent[n.key as number] = repl;
      } else if (del) delete n.parent[n.key as string];
      else n.parent[n.key as string] = repl;
      onlyBtError(bencode(tree));
    }),
    { numRuns: 3000 },
  );
});
