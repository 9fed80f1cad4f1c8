/**
 * RC4's inner loop as a tiny WebAssembly module, assembled here byte by byte (no toolchain, no dependency).
 *
 * Memory: 2 pages, exported as `m` (layout below). The function `x(len)` XORs the keystream over
 * data[0..len) in place and advances i, j and S: 4 steps produce one 32-bit little-endian keystream word
 * (WebAssembly memory always is little-endian) XORed over the data with one load and one store, two words
 * per iteration, then a byte loop for the tail. `ld()` / `sv()` move the state in / out.
 *
 * `RC4_WASM_BYTES` is plain data, so the same module can be compiled in a worker thread (see offload.ts).
 */

/**
 * Memory layout: S as 256 i32 slots at 0..1023, each holding 4 * S[k] (so the values are the slots'
 * byte addresses: no shifts on the dependency chain); i and j (also times 4) inside `x` only; the
 * state in its exchange format (RC4_STATE_BYTES: S, i, j) at STATE_OFFSET, which `ld()` expands into the
 * slots and `sv()` compacts back; the data at DATA_OFFSET.
 */
export const STATE_OFFSET = 1024;
export const DATA_OFFSET = 2048;
const PAGES = 2;
export const DATA_CAPACITY = PAGES * 65536 - DATA_OFFSET;
const I_ADDR = 1536;
const J_ADDR = 1540;

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
const I32_SUB = 0x6b;
const I32_AND = 0x71;
const I32_OR = 0x72;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
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

// Locals of x: 0 len (param), then i, j (times 4), a, b (slot values), p (data pointer), end, wend (end of
// the 8-byte part), k (keystream word).
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

/** One RC4 step on the slots; leaves 4 * (keystream byte) on the stack. */
const step: number[] = [
  ...get(I), ...c32(4), I32_ADD, ...c32(1020), I32_AND, ...tee(I),
  ...mem(I32_LOAD, 2), ...tee(A), // a = S[i]
  ...get(J), I32_ADD, ...c32(1020), I32_AND, ...tee(J),
  ...mem(I32_LOAD, 2), ...set(B), // b = S[j]
  ...get(I), ...get(B), ...mem(I32_STORE, 2), // S[i] = b
  ...get(J), ...get(A), ...mem(I32_STORE, 2), // S[j] = a
  ...get(A), ...get(B), I32_ADD, ...c32(1020), I32_AND, ...mem(I32_LOAD, 2), // S[(a + b) & 255]
];

/** k = 4 keystream bytes, little-endian; then data word at p + offset ^= k. */
function word(offset: number): number[] {
  return [
    ...step, ...c32(2), I32_SHR_U, ...set(K),
    ...step, ...c32(6), I32_SHL, ...get(K), I32_OR, ...set(K),
    ...step, ...c32(14), I32_SHL, ...get(K), I32_OR, ...set(K),
    ...step, ...c32(22), I32_SHL, ...get(K), I32_OR, ...set(K),
    ...get(P), ...get(P), ...mem(I32_LOAD, 0, offset), ...get(K), I32_XOR, ...mem(I32_STORE, 0, offset),
  ];
}

const xBody: number[] = [
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
  ...get(P), ...get(P), ...mem(I32_LOAD8_U, 0), ...step, ...c32(2), I32_SHR_U, I32_XOR, ...mem(I32_STORE8, 0),
  ...get(P), ...c32(1), I32_ADD, ...tee(P), ...get(E), I32_LT_U, BR_IF, 0,
  END,
  END,
  // i, j back to memory
  ...c32(0), ...get(I), ...mem(I32_STORE, 2, I_ADDR),
  ...c32(0), ...get(J), ...mem(I32_STORE, 2, J_ADDR),
  END,
];

// ld(): the exchange-format state at STATE_OFFSET into the slots (local 0: byte index k, counting down).
const ldBody: number[] = [
  ...c32(256), ...set(0),
  LOOP, VOID,
  ...get(0), ...c32(1), I32_SUB, ...tee(0), ...c32(2), I32_SHL,
  ...get(0), ...mem(I32_LOAD8_U, 0, STATE_OFFSET), ...c32(2), I32_SHL,
  ...mem(I32_STORE, 2),
  ...get(0), BR_IF, 0,
  END,
  ...c32(0), ...c32(0), ...mem(I32_LOAD8_U, 0, STATE_OFFSET + 256), ...c32(2), I32_SHL, ...mem(I32_STORE, 2, I_ADDR),
  ...c32(0), ...c32(0), ...mem(I32_LOAD8_U, 0, STATE_OFFSET + 257), ...c32(2), I32_SHL, ...mem(I32_STORE, 2, J_ADDR),
  END,
];

// sv(): the slots back into the exchange format at STATE_OFFSET.
const svBody: number[] = [
  ...c32(256), ...set(0),
  LOOP, VOID,
  ...get(0), ...c32(1), I32_SUB, ...tee(0),
  ...get(0), ...c32(2), I32_SHL, ...mem(I32_LOAD, 2), ...c32(2), I32_SHR_U,
  ...mem(I32_STORE8, 0, STATE_OFFSET),
  ...get(0), BR_IF, 0,
  END,
  ...c32(0), ...c32(0), ...mem(I32_LOAD, 2, I_ADDR), ...c32(2), I32_SHR_U, ...mem(I32_STORE8, 0, STATE_OFFSET + 256),
  ...c32(0), ...c32(0), ...mem(I32_LOAD, 2, J_ADDR), ...c32(2), I32_SHR_U, ...mem(I32_STORE8, 0, STATE_OFFSET + 257),
  END,
];

const fn = (locals: number, body: number[]): number[] => {
  const code = [...vec(locals > 0 ? [[locals, I32]] : []), ...body];
  return [...uleb(code.length), ...code];
};

/** The module: (memory (export "m") 2) (func (export "x") (param i32)) (func (export "ld")) (func (export "sv")). */
export const RC4_WASM_BYTES: Uint8Array = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([[I32]]), ...vec([])], [0x60, ...vec([]), ...vec([])]])), // type 0: (i32) -> (); type 1: () -> ()
  ...section(3, vec([[0], [1], [1]])),
  ...section(5, vec([[0x00, ...uleb(PAGES)]])), // memory 0: min PAGES
  ...section(7, vec([[...str('m'), 0x02, 0], [...str('x'), 0x00, 0], [...str('ld'), 0x00, 1], [...str('sv'), 0x00, 2]])),
  ...section(10, [...uleb(3), ...fn(8, xBody), ...fn(1, ldBody), ...fn(1, svBody)]),
]);

export interface Rc4Kernel {
  /** The module's memory as bytes (state at STATE_OFFSET, data at DATA_OFFSET). */
  readonly heap: Uint8Array;
  /** XOR the keystream over heap[DATA_OFFSET .. DATA_OFFSET + len). */
  run(len: number): void;
  /** Take the state (RC4_STATE_BYTES: S, i, j) written at heap[STATE_OFFSET ..]. */
  load(): void;
  /** Write the current state to heap[STATE_OFFSET ..]. */
  save(): void;
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
    const load = inst.exports.ld as () => void;
    const save = inst.exports.sv as () => void;
    shared = { heap: new Uint8Array(memory.buffer), run, load, save };
  } catch {
    shared = null;
  }
  return shared;
}
