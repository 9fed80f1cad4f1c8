/**
 * Micro-benchmark (MSE/PE): RC4 throughput of src/mse/rc4.ts, in place and into a second buffer, over
 * 16 KiB (piece-block-sized), 64 KiB (TCP-read-sized) and 1460-byte (MSS-sized) chunks. Prints MB/s
 * (10^6 bytes per second), with the WebAssembly kernel (rc4-wasm.ts; used from 512 bytes on) and with the
 * pure-JavaScript loop. Run: npx tsx bench/rc4.ts
 */
import { performance } from 'node:perf_hooks';
import { Rc4, setRc4Wasm } from '../src/mse/rc4.js';

const TOTAL = 64 * 1024 * 1024;
const data = new Uint8Array(TOTAL).map((_, i) => (i * 31 + 7) & 255);
const out = new Uint8Array(TOTAL);
const key = new Uint8Array(20).map((_, i) => i * 13 + 1);

function run(chunk: number, inPlace: boolean): number {
  const rc4 = new Rc4(key);
  rc4.skip(1024);
  const t0 = performance.now();
  for (let o = 0; o < TOTAL; o += chunk) {
    const src = data.subarray(o, Math.min(TOTAL, o + chunk));
    if (inPlace) rc4.process(src);
    else rc4.processTo(src, out.subarray(o, o + src.length));
  }
  const ms = performance.now() - t0;
  return TOTAL / 1e6 / (ms / 1000);
}

for (const [chunk, inPlace, wasm] of [
  [16384, true, true],
  [16384, false, true],
  [65536, true, true],
  [1460, true, true],
  [16384, true, false],
  [65536, true, false],
  [1460, true, false],
] as const) {
  setRc4Wasm(wasm);
  for (let i = 0; i < 2; i++) run(chunk, inPlace); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < 7; i++) rates.push(run(chunk, inPlace));
  rates.sort((a, b) => a - b);
  console.log(
    `rc4 (${wasm ? 'wasm' : 'js'}): ${chunk}-byte chunks, ${inPlace ? 'in place' : 'processTo'}: median ${rates[3]!.toFixed(0)} MB/s (min ${rates[0]!.toFixed(0)}, max ${rates[6]!.toFixed(0)})`,
  );
}
