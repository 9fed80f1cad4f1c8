/**
 * Micro-benchmark (picker/): PiecePicker with 100k pieces and 50 peers. Measures registering bitfields and
 * the cost of pick() + onBlock() while downloading (40 % of the torrent, 16-block picks per peer per round),
 * for peers holding ~50 % of the pieces, for seeds, and for sparse peers (1 % of the pieces).
 * Run: npx tsx bench/picker.ts
 */
import { performance } from 'node:perf_hooks';
import { SeededRandom } from '../src/core/node-random.js';
import type { PickerPeer } from '../src/picker/index.js';
import { PiecePicker } from '../src/picker/index.js';
import { Bitfield } from '../src/util/bitfield.js';

const PIECES = 100_000;
const PIECE_LENGTH = 256 * 1024; // 16 blocks
const PEERS = 50;
const PICK = 16;

function randomBits(rnd: SeededRandom, density: number): Bitfield {
  const b = new Bitfield(PIECES);
  if (density >= 1) b.setAll();
  else for (let i = 0; i < PIECES; i++) if (rnd.int(1_000_000) < density * 1_000_000) b.set(i);
  return b;
}

function run(kind: 'half' | 'seed' | 'sparse', seed: number): { register: number; pickUs: number; picks: number } {
  const rnd = new SeededRandom(seed);
  const picker = new PiecePicker({
    pieceCount: PIECES,
    pieceLength: PIECE_LENGTH,
    totalLength: PIECES * PIECE_LENGTH,
    have: new Bitfield(PIECES),
    random: new SeededRandom(seed + 1),
  });
  const density = kind === 'half' ? 0.5 : kind === 'seed' ? 1 : 0.01;
  const peers: PickerPeer[] = [];
  for (let i = 0; i < PEERS; i++) {
    const have = randomBits(rnd, density);
    peers.push({ id: `peer${i}`, have, isSeed: have.complete, choking: false, allowedFast: new Set() });
  }
  // a seed so every piece is available
  peers.push({ id: 'seed', have: randomBits(rnd, 1), isSeed: true, choking: false, allowedFast: new Set() });
  const t0 = performance.now();
  for (const p of peers) picker.addPeerBitfield(p.have);
  const register = performance.now() - t0;

  let picks = 0;
  let ms = 0;
  const target = Math.floor(PIECES * 0.4);
  while (picker.have.count < target) {
    for (const p of peers) {
      const s = performance.now();
      const reqs = picker.pick(p, PICK, picks);
      for (const r of reqs) {
        const res = picker.onBlock(p.id, r.index, r.begin, r.length);
        if (res.pieceComplete) picker.onPieceVerified(r.index);
      }
      ms += performance.now() - s;
      picks++;
    }
  }
  return { register, pickUs: (ms * 1000) / picks, picks };
}

for (const kind of ['half', 'seed', 'sparse'] as const) {
  run(kind, 99); // warm-up
  const r = run(kind, 7);
  console.log(
    `picker: ${PIECES} pieces, ${PEERS + 1} peers (${kind}): register all bitfields ${r.register.toFixed(1)} ms; ` +
      `pick(${PICK}) + onBlock x${PICK}: ${r.pickUs.toFixed(1)} us per call over ${r.picks} calls`,
  );
}
