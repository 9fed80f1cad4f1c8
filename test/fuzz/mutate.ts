import { concatBytes } from '../../src/util/index.js';
/**
 * A simple, seeded byte mutator for the fuzzing harness (no coverage feedback): bit flips, byte
 * insert / delete / duplicate, splices of valid samples, length-field tweaks (bencode `N:` prefixes,
 * `i…e` integers and big-endian u16 / u32 fields) and deep nesting. Deterministic for a given seed.
 */

/** Mulberry32: a tiny deterministic PRNG (not for crypto). */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 .. n-1 (n ≥ 1). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 255;
    return b;
  }
}

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x4001, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const INTERESTING_DEC = ['0', '1', '-1', '00', '-0', '255', '256', '65535', '65536', '2147483647', '2147483648', '4294967296', '9007199254740991', '9007199254740993', '99999999999999999999', ''];

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);

/** Runs of ASCII digits (candidate bencode lengths / integers, decimal text fields). */
function digitRuns(b: Uint8Array): [number, number][] {
  const runs: [number, number][] = [];
  for (let i = 0; i < b.length && runs.length < 64; i++) {
    if (b[i]! >= 0x30 && b[i]! <= 0x39) {
      let j = i;
      while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
      runs.push([i, j]);
      i = j;
    }
  }
  return runs;
}

export type MutationKind = 'bitflip' | 'byte' | 'insert' | 'delete' | 'duplicate' | 'splice' | 'decimal' | 'u16' | 'u32' | 'nest' | 'truncate' | 'repeat';
export const MUTATIONS: readonly MutationKind[] = ['bitflip', 'byte', 'insert', 'delete', 'duplicate', 'splice', 'decimal', 'u16', 'u32', 'nest', 'truncate', 'repeat'];

/** Apply one mutation of `kind` (the input is not modified). `others` are valid samples to splice from. */
export function mutateOnce(rng: Prng, input: Uint8Array, kind: MutationKind, others: readonly Uint8Array[], maxLen: number): Uint8Array {
  const b = input;
  const n = b.length;
  const at = (): number => rng.int(n + 1);
  switch (kind) {
    case 'bitflip': {
      if (n === 0) return rng.bytes(1);
      const out = b.slice();
      const k = 1 + rng.int(4);
      for (let i = 0; i < k; i++) out[rng.int(n)]! ^= 1 << rng.int(8);
      return out;
    }
    case 'byte': {
      if (n === 0) return rng.bytes(1);
      const out = b.slice();
      out[rng.int(n)] = rng.pick([0, 0xff, 0x7f, 0x80, 0x30, 0x3a, 0x65, 0x69, 0x6c, 0x64, rng.u32() & 255]); // 0 : e i l d …
      return out;
    }
    case 'insert': {
      const i = at();
      return concat(b.subarray(0, i), rng.chance(0.5) ? rng.bytes(1 + rng.int(8)) : ascii(rng.pick(['e', 'l', 'd', 'i', '0:', '1:a', 'i0e', 'le', 'de', '<', '>', '</a>', '\r\n', ':', '&', '%', '=', '?'])), b.subarray(i));
    }
    case 'delete': {
      if (n === 0) return b;
      const i = rng.int(n);
      const len = 1 + rng.int(Math.min(16, n - i));
      return concat(b.subarray(0, i), b.subarray(i + len));
    }
    case 'duplicate': {
      if (n === 0) return b;
      const i = rng.int(n);
      const len = 1 + rng.int(Math.min(64, n - i));
      const j = at();
      return concat(b.subarray(0, j), b.subarray(i, i + len), b.subarray(j));
    }
    case 'splice': {
      const o = others.length > 0 ? rng.pick(others) : rng.bytes(16);
      const i = at();
      const s = rng.int(o.length + 1);
      const e = s + rng.int(o.length - s + 1);
      return rng.chance(0.5) ? concat(b.subarray(0, i), o.subarray(s, e)) : concat(b.subarray(0, i), o.subarray(s, e), b.subarray(i));
    }
    case 'decimal': {
      const runs = digitRuns(b);
      if (runs.length === 0) return mutateOnce(rng, b, 'byte', others, maxLen);
      const [s, e] = rng.pick(runs);
      return concat(b.subarray(0, s), ascii(rng.pick(INTERESTING_DEC)), b.subarray(e));
    }
    case 'u16':
    case 'u32': {
      const w = kind === 'u16' ? 2 : 4;
      if (n < w) return mutateOnce(rng, b, 'insert', others, maxLen);
      const out = b.slice();
      const o = rng.int(n - w + 1);
      let v = rng.pick(INTERESTING_U32);
      if (rng.chance(0.3)) {
        const cur = kind === 'u16' ? (out[o]! << 8) | out[o + 1]! : ((out[o]! << 24) | (out[o + 1]! << 16) | (out[o + 2]! << 8) | out[o + 3]!) >>> 0;
        v = cur + rng.pick([-1, 1, -2, 2, 16, -16]);
      }
      if (w === 2) {
        out[o] = (v >>> 8) & 255;
        out[o + 1] = v & 255;
      } else {
        out[o] = (v >>> 24) & 255;
        out[o + 1] = (v >>> 16) & 255;
        out[o + 2] = (v >>> 8) & 255;
        out[o + 3] = v & 255;
      }
      return out;
    }
    case 'nest': {
      // Deep nesting: wrap a slice in many list/dict/XML openers (bounded by maxLen).
      const depth = 1 + rng.int(Math.max(1, Math.min(4096, (maxLen - n) >> 1)));
      const style = rng.int(3);
      const open = style === 0 ? ascii('l') : style === 1 ? ascii('d1:a') : ascii('<a>');
      const close = style === 2 ? ascii('</a>') : ascii('e');
      const k = Math.max(0, Math.min(depth, Math.floor((maxLen - n) / (open.length + close.length))));
      const i = at();
      return concat(b.subarray(0, i), repeat(open, k), b.subarray(i), repeat(close, rng.chance(0.8) ? k : rng.int(k + 1)));
    }
    case 'truncate':
      return b.subarray(0, rng.int(n + 1));
    case 'repeat': {
      // Many copies of one piece (many list items, many entries).
      if (n === 0) return b;
      const i = rng.int(n);
      const len = 1 + rng.int(Math.min(32, n - i));
      const k = Math.max(1, Math.min(1 + rng.int(1000), Math.floor((maxLen - n) / len)));
      const j = at();
      return concat(b.subarray(0, j), repeat(b.subarray(i, i + len), k), b.subarray(j));
    }
  }
}

export function repeat(p: Uint8Array, k: number): Uint8Array {
  const out = new Uint8Array(p.length * k);
  for (let i = 0; i < k; i++) out.set(p, i * p.length);
  return out;
}

/** 1–4 stacked mutations, the result capped at maxLen bytes. */
export function mutate(rng: Prng, input: Uint8Array, others: readonly Uint8Array[], maxLen: number): Uint8Array {
  let b = input;
  const k = 1 + rng.int(rng.chance(0.7) ? 2 : 4);
  for (let i = 0; i < k; i++) {
    b = mutateOnce(rng, b, rng.pick(MUTATIONS), others, maxLen);
    if (b.length > maxLen) b = b.subarray(0, maxLen);
  }
  return b;
}

export { concat, ascii };
