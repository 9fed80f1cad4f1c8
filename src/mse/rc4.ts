/**
 * RC4 (ARCFOUR) stream cipher, as used by MSE/PE (Message Stream Encryption, the Vuze/Azureus spec).
 *
 * Speed matters here: with RC4 selected every payload byte passes through `processTo` once on each
 * side. The inner loop keeps the state in a Uint8Array (measured faster than Int32Array or Uint16Array
 * in V8), i/j in locals, and XORs 8 bytes per iteration through Int32Array views when the source and
 * destination share their alignment (always true in place); bench/rc4.ts measures it. No allocation
 * per byte; one pair of typed-array views per call on the word path.
 */

import { DATA_CAPACITY, DATA_OFFSET, STATE_OFFSET, rc4Kernel } from './rc4-wasm.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** From this many bytes on, the WebAssembly kernel (rc4-wasm.ts) does the work: below, moving the state in and out (ld/sv) is not worth it. */
export const WASM_MIN = 512;
/** Bytes in an exported state: S (256), i, j. */
export const RC4_STATE_BYTES = 258;
/** Below this many bytes the word path's view allocation is not worth it. */
const WORD_MIN = 64;

let useWasm = true;

/** Turn the WebAssembly kernel off / on (benchmarks and tests compare the two paths). */
export function setRc4Wasm(on: boolean): void {
  useWasm = on;
}

export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) throw new RangeError(`RC4 key must be 1..256 bytes, got ${key.length}`);
    const s = this.s;
    for (let i = 0; i < 256; i++) s[i] = i;
    const n = key.length;
    let j = 0;
    for (let i = 0; i < 256; i++) {
      const a = s[i]!;
      j = (j + a + key[i % n]!) & 255;
      s[i] = s[j]!;
      s[j] = a;
    }
  }

  /** Encrypt / decrypt `data` in place. */
  process(data: Uint8Array): void {
    this.processTo(data, data);
  }

  /**
   * XOR the keystream over `src` into `dst` (`dst.length >= src.length`; `dst` may be `src` itself, but
   * must not otherwise overlap it).
   */
  processTo(src: Uint8Array, dst: Uint8Array): void {
    const n = src.length;
    if (dst.length < n) throw new RangeError(`RC4 destination too small: ${dst.length} < ${n}`);
    if (n >= WASM_MIN && useWasm) {
      const kernel = rc4Kernel();
      if (kernel) return this.processWasm(kernel, src, dst);
    }
    this.processJs(src, dst);
  }

  /** The state (S, then i and j) as RC4_STATE_BYTES bytes: to carry this stream to another thread. */
  exportState(out: Uint8Array = new Uint8Array(RC4_STATE_BYTES)): Uint8Array {
    out.set(this.s);
    out[256] = this.i;
    out[257] = this.j;
    return out;
  }

  /** Continue from a state exportState produced (here or in another thread). */
  importState(state: Uint8Array): void {
    if (state.length < RC4_STATE_BYTES) throw new RangeError(`RC4 state must be ${RC4_STATE_BYTES} bytes, got ${state.length}`);
    this.s.set(state.subarray(0, 256));
    this.i = state[256]!;
    this.j = state[257]!;
  }

  private processWasm(kernel: NonNullable<ReturnType<typeof rc4Kernel>>, src: Uint8Array, dst: Uint8Array): void {
    const heap = kernel.heap;
    heap.set(this.s, STATE_OFFSET);
    heap[STATE_OFFSET + 256] = this.i;
    heap[STATE_OFFSET + 257] = this.j;
    kernel.load();
    const n = src.length;
    for (let o = 0; o < n; o += DATA_CAPACITY) {
      const len = Math.min(DATA_CAPACITY, n - o);
      heap.set(o === 0 && len === n ? src : src.subarray(o, o + len), DATA_OFFSET);
      kernel.run(len);
      dst.set(heap.subarray(DATA_OFFSET, DATA_OFFSET + len), o);
    }
    kernel.save();
    this.s.set(heap.subarray(STATE_OFFSET, STATE_OFFSET + 256));
    this.i = heap[STATE_OFFSET + 256]!;
    this.j = heap[STATE_OFFSET + 257]!;
  }

  /** The pure-JavaScript loop (short inputs, and where WebAssembly is unavailable). */
  processJs(src: Uint8Array, dst: Uint8Array): void {
    const n = src.length;
    if (dst.length < n) throw new RangeError(`RC4 destination too small: ${dst.length} < ${n}`);
    const s = this.s;
    let i = this.i;
    let j = this.j;
    let k = 0;
    if (LITTLE_ENDIAN && n >= WORD_MIN && ((src.byteOffset ^ dst.byteOffset) & 3) === 0) {
      // Bytes up to the first 4-byte boundary, then 8 bytes per iteration as two 32-bit words.
      const head = (4 - (src.byteOffset & 3)) & 3;
      for (; k < head; k++) {
        i = (i + 1) & 255;
        const a = s[i]!;
        j = (j + a) & 255;
        const b = s[j]!;
        s[i] = b;
        s[j] = a;
        dst[k] = src[k]! ^ s[(a + b) & 255]!;
      }
      const words = ((n - head) >> 3) << 1;
      const sw = new Int32Array(src.buffer, src.byteOffset + head, words);
      const dw = new Int32Array(dst.buffer, dst.byteOffset + head, words);
      for (let w = 0; w < words; w += 2) {
        let a: number;
        let b: number;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        let k0 = s[(a + b) & 255]!;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        k0 |= s[(a + b) & 255]! << 8;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        k0 |= s[(a + b) & 255]! << 16;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        k0 |= s[(a + b) & 255]! << 24;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        let k1 = s[(a + b) & 255]!;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        k1 |= s[(a + b) & 255]! << 8;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        k1 |= s[(a + b) & 255]! << 16;
        i = (i + 1) & 255; a = s[i]!; j = (j + a) & 255; b = s[j]!; s[i] = b; s[j] = a;
        k1 |= s[(a + b) & 255]! << 24;
        dw[w] = sw[w]! ^ k0;
        dw[w + 1] = sw[w + 1]! ^ k1;
      }
      k = head + (words << 2);
    }
    for (; k < n; k++) {
      i = (i + 1) & 255;
      const a = s[i]!;
      j = (j + a) & 255;
      const b = s[j]!;
      s[i] = b;
      s[j] = a;
      dst[k] = src[k]! ^ s[(a + b) & 255]!;
    }
    this.i = i;
    this.j = j;
  }

  /** Advance the keystream by `n` bytes without output (MSE discards the first 1024). */
  skip(n: number): void {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 255;
      const a = s[i]!;
      j = (j + a) & 255;
      s[i] = s[j]!;
      s[j] = a;
    }
    this.i = i;
    this.j = j;
  }
}
