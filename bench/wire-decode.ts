/**
 * Micro-benchmark (BEP 3 framing): FrameDecoder throughput on 16 KiB piece messages, fed in
 * 1460-byte (MSS-sized: every frame spans chunks and is copied once), 64 KiB (TCP-read-sized) and 1 MiB chunks. Prints MB/s of input.
 * Run: npx tsx bench/wire-decode.ts
 */
import { performance } from 'node:perf_hooks';
import { encodeMessage, FrameDecoder } from '../src/wire/index.js';

const BLOCK = 16384;
const FRAMES = 4096; // 64 MiB of input per pass
const block = new Uint8Array(BLOCK).fill(0x5a);
const one = encodeMessage({ type: 'piece', index: 0, begin: 0, block });
const stream = new Uint8Array(one.length * FRAMES);
for (let i = 0; i < FRAMES; i++) stream.set(one, i * one.length);

function run(chunkSize: number): number {
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < stream.length; o += chunkSize) chunks.push(stream.subarray(o, o + chunkSize));
  const d = new FrameDecoder({ maxMessageLength: BLOCK + 9 });
  let bytes = 0;
  const t0 = performance.now();
  for (const c of chunks) {
    d.push(c);
    for (let m = d.nextMessage(); m !== null; m = d.nextMessage()) if (m.type === 'piece') bytes += m.block.length;
  }
  const ms = performance.now() - t0;
  if (bytes !== BLOCK * FRAMES) throw new Error(`decoded ${bytes} bytes, expected ${BLOCK * FRAMES}`);
  return stream.length / 1e6 / (ms / 1000);
}

for (const chunkSize of [1460, 64 * 1024, 1024 * 1024]) {
  for (let i = 0; i < 5; i++) run(chunkSize); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < 10; i++) rates.push(run(chunkSize));
  rates.sort((a, b) => a - b);
  console.log(`wire-decode: 16 KiB pieces, ${chunkSize}-byte chunks: median ${rates[5]!.toFixed(0)} MB/s (min ${rates[0]!.toFixed(0)}, max ${rates[9]!.toFixed(0)})`);
}
