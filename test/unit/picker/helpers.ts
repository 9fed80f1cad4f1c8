/** Shared helpers for the picker tests. */
import { SeededRandom } from '../../../src/core/node-random.js';
import type { PickerPeer, PiecePickerOptions } from '../../../src/picker/index.js';
import { PiecePicker } from '../../../src/picker/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';

export const KB16 = 16384;

export function bits(n: number, pieces: Iterable<number> | 'all' | 'none' = 'none'): Bitfield {
  const b = new Bitfield(n);
  if (pieces === 'all') b.setAll();
  else if (pieces !== 'none') for (const i of pieces) b.set(i);
  return b;
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

export interface TestPeer extends PickerPeer {
  have: Bitfield;
  allowedFast: Set<number>;
  choking: boolean;
  isSeed: boolean;
}

export function peer(id: string, have: Bitfield, opts: { choking?: boolean; allowedFast?: number[] } = {}): TestPeer {
  return { id, have, isSeed: have.complete, choking: opts.choking ?? false, allowedFast: new Set(opts.allowedFast ?? []) };
}

/** A picker with `pieceCount` pieces of `pieceLength` (default 2 blocks), and the given pieces already had. */
export function makePicker(
  o: Partial<Omit<PiecePickerOptions, 'have' | 'random'>> & { pieceCount: number; have?: number[]; seed?: number },
): PiecePicker {
  const pieceLength = o.pieceLength ?? 2 * KB16;
  return new PiecePicker({
    ...o,
    pieceCount: o.pieceCount,
    pieceLength,
    totalLength: o.totalLength ?? o.pieceCount * pieceLength,
    have: bits(o.pieceCount, o.have ?? []),
    random: new SeededRandom(o.seed ?? 1),
  });
}

/** Register a peer's bitfield with the picker and return the peer. */
export function join(picker: PiecePicker, p: TestPeer): TestPeer {
  picker.addPeerBitfield(p.have);
  return p;
}

export const key = (r: { index: number; begin: number }): string => `${r.index}:${r.begin}`;
