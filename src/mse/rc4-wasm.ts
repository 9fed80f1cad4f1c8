/**
 * RC4's inner loop as a tiny WebAssembly module, assembled here byte by byte (no toolchain, no dependency).
 *
 * Memory layout (2 pages, exported as `m`): the S-box at 0..255, i as an i32 at 256, j as an i32 at 260,
 * the data at DATA_OFFSET (at most DATA_CAPACITY bytes per call). The function `x(len)` XORs the keystream
 * over data[0..len) in place and advances i, j and S. 8 bytes per iteration (two 32-bit little-endian words,
 * as WebAssembly memory always is), then a byte loop for the tail.
 *
 * `RC4_WASM_BYTES` is plain data, so the same module can be compiled in a worker thread (see offload.ts).
 */

/** Where the data goes in the module's memory, and how much fits per call. */
export const DATA_OFFSET = 1024;
const PAGES = 2;
export const DATA_CAPACITY = PAGES * 65536 - DATA_OFFSET;
export const I_ADDR = 256;
export const J_ADDR = 260;

// Opcodes used below.
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_LOAD = 0x28;
const I32_LOAD8_U = 0x2d;
const I32_STORE = 0x36;
const I32_STORE8 = 0x3a;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const I32_OR = 0x72;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const I32 = 0x7f;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

// Locals: 0 len (param), then i, j, a, b, p (data pointer), end, wend (end of the 8-byte part), k.
const LEN = 0;
const I = 1;
const J = 2;
const A = 3;
const B = 4;
const P = 5;
const E = 6;
const WE = 7;
const K = 8;

const get = (l: number): number[] => [LOCAL_GET, l];
const set = (l: number): number[] => [LOCAL_SET, l];
const tee = (l: number): number[] => [LOCAL_TEE, l];
const c32 = (v: number): number[] => [I32_CONST, ...sleb(v)];
/** memarg: alignment exponent, offset. */
const mem = (op: number, align: number, offset = 0): number[] => [op, align, ...uleb(offset)];

/** One RC4 step; leaves the keystream byte on the stack. */
const step: number[] = [
  ...get(I), ...c32(1), I32_ADD, ...c32(255), I32_AND, ...tee(I),
  ...mem(I32_LOAD8_U, 0), ...tee(A), // a = S[i]
  ...get(J), I32_ADD, ...c32(255), I32_AND, ...tee(J),
  ...mem(I32_LOAD8_U, 0), ...set(B), // b = S[j]
  ...get(I), ...get(B), ...mem(I32_STORE8, 0), // S[i] = b
  ...get(J), ...get(A), ...mem(I32_STORE8, 0), // S[j] = a
  ...get(A), ...get(B), I32_ADD, ...c32(255), I32_AND, ...mem(I32_LOAD8_U, 0), // S[(a + b) & 255]
];

/** k = 4 keystream bytes, little-endian; then data word at p + offset ^= k. */
function word(offset: number): number[] {
  return [
    ...step, ...set(K),
    ...step, ...c32(8), I32_SHL, ...get(K), I32_OR, ...set(K),
    ...step, ...c32(16), I32_SHL, ...get(K), I32_OR, ...set(K),
    ...step, ...c32(24), I32_SHL, ...get(K), I32_OR, ...set(K),
    ...get(P), ...get(P), ...mem(I32_LOAD, 0, offset), ...get(K), I32_XOR, ...mem(I32_STORE, 0, offset),
  ];
}

const body: number[] = [
  // i, j from memory; p = DATA_OFFSET; end = p + len; wend = p + (len & ~7)
  ...c32(0), ...mem(I32_LOAD, 2, I_ADDR), ...set(I),
  ...c32(0), ...mem(I32_LOAD, 2, J_ADDR), ...set(J),
  ...c32(DATA_OFFSET), ...set(P),
  ...get(P), ...get(LEN), I32_ADD, ...set(E),
  ...get(P), ...get(LEN), ...c32(-8), I32_AND, I32_ADD, ...set(WE),
  // 8 bytes per iteration
  BLOCK, VOID,
  ...get(P), ...get(WE), I32_GE_U, BR_IF, 0,
  LOOP, VOID,
  ...word(0),
  ...word(4),
  ...get(P), ...c32(8), I32_ADD, ...tee(P), ...get(WE), I32_LT_U, BR_IF, 0,
  END,
  END,
  // the tail, a byte at a time
  BLOCK, VOID,
  ...get(P), ...get(E), I32_GE_U, BR_IF, 0,
  LOOP, VOID,
  ...get(P), ...get(P), ...mem(I32_LOAD8_U, 0), ...step, I32_XOR, ...mem(I32_STORE8, 0),
  ...get(P), ...c32(1), I32_ADD, ...tee(P), ...get(E), I32_LT_U, BR_IF, 0,
  END,
  END,
  // i, j back to memory
  ...c32(0), ...get(I), ...mem(I32_STORE, 2, I_ADDR),
  ...c32(0), ...get(J), ...mem(I32_STORE, 2, J_ADDR),
  END,
];

const code = [...vec([[8, I32]]), ...body];

/** The module: (memory (export "m") 2) (func (export "x") (param i32) ...). */
export const RC4_WASM_BYTES: Uint8Array = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([[I32]]), ...vec([])]])), // type 0: (i32) -> ()
  ...section(3, vec([[0]])), // func 0 has type 0
  ...section(5, vec([[0x00, ...uleb(PAGES)]])), // memory 0: min PAGES
  ...section(7, vec([[...str('m'), 0x02, 0], [...str('x'), 0x00, 0]])),
  ...section(10, vec([[...uleb(code.length), ...code]])),
]);

export interface Rc4Kernel {
  /** The module's memory as bytes (S-box, i/j, data). */
  readonly heap: Uint8Array;
  readonly i32: Int32Array;
  /** XOR the keystream over heap[DATA_OFFSET .. DATA_OFFSET + len). */
  run(len: number): void;
}

// The few WebAssembly JS-API names used here (the project's lib settings do not declare them).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let shared: Rc4Kernel | null | undefined;

/** This thread's instance of the module, or null where WebAssembly is unavailable. */
export function rc4Kernel(): Rc4Kernel | null {
  if (shared !== undefined) return shared;
  try {
    if (!wasmApi) throw new Error('no WebAssembly');
    const inst = new wasmApi.Instance(new wasmApi.Module(RC4_WASM_BYTES), {});
    const memory = inst.exports.m as { buffer: ArrayBuffer };
    const run = inst.exports.x as (len: number) => void;
    shared = { heap: new Uint8Array(memory.buffer), i32: new Int32Array(memory.buffer), run };
  } catch {
    shared = null;
  }
  return shared;
}
