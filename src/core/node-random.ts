import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from './random.js';

export class NodeRandom implements Random {
  bytes(n: number): Uint8Array {
    return new Uint8Array(randomBytes(n));
  }
  int(max: number): number {
    return max <= 1 ? 0 : randomInt(max);
  }
}

/** Seeded PRNG (xorshift128+ style, deterministic) for tests and simulations. */
export class SeededRandom implements Random {
  private s0: number;
  private s1: number;
  constructor(seed = 1) {
    this.s0 = (seed | 0) || 0x9e3779b9;
    this.s1 = Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) || 0x85ebca6b;
  }
  private next(): number {
    let a = this.s0;
    const b = this.s1;
    this.s0 = b;
    a ^= a << 23;
    a ^= a >>> 17;
    a ^= b ^ (b >>> 26);
    this.s1 = a;
    return ((this.s0 + this.s1) >>> 0) / 0x1_0000_0000;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
}
