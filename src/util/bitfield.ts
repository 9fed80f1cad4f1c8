/** A fixed-length bitfield in BitTorrent order: bit 0 is the high bit of byte 0. */
export class Bitfield {
  readonly length: number;
  readonly bytes: Uint8Array;
  private setCount = 0;

  constructor(length: number, bytes?: Uint8Array) {
    this.length = length;
    const n = Math.ceil(length / 8);
    this.bytes = new Uint8Array(n);
    if (bytes) {
      this.bytes.set(bytes.subarray(0, n));
      const spare = n * 8 - length;
      if (n > 0 && spare > 0) this.bytes[n - 1]! &= 0xff << spare;
      this.setCount = 0;
      for (let i = 0; i < n; i++) this.setCount += POPCOUNT[this.bytes[i]!]!;
    }
  }

  get(i: number): boolean {
    return (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  set(i: number, v = true): void {
    if (i < 0 || i >= this.length) throw new RangeError(`bit ${i} outside 0..${this.length - 1}`);
    const mask = 0x80 >> (i & 7);
    const had = (this.bytes[i >> 3]! & mask) !== 0;
    if (v && !had) {
      this.bytes[i >> 3]! |= mask;
      this.setCount++;
    } else if (!v && had) {
      this.bytes[i >> 3]! &= ~mask;
      this.setCount--;
    }
  }

  setAll(): void {
    for (let i = 0; i < this.length; i++) this.set(i, true);
  }

  get count(): number {
    return this.setCount;
  }

  get complete(): boolean {
    return this.setCount === this.length;
  }

  get empty(): boolean {
    return this.setCount === 0;
  }

  clone(): Bitfield {
    return new Bitfield(this.length, this.bytes);
  }

  /** True when the spare bits past `length` in the raw bytes are zero (BEP 3 requires it). */
  static spareBitsClear(length: number, raw: Uint8Array): boolean {
    const n = Math.ceil(length / 8);
    if (raw.length !== n) return false;
    const spare = n * 8 - length;
    return spare === 0 || n === 0 || (raw[n - 1]! & ((1 << spare) - 1)) === 0;
  }
}

const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();
