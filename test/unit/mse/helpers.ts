/** Shared helpers for the MSE tests: drive an initiator and a receiver against each other in memory. */
import { SeededRandom } from '../../../src/core/index.js';
import { MseInitiator, MseReceiver, SkeyIndex } from '../../../src/mse/index.js';
import type { MsePolicy, MseResult } from '../../../src/mse/index.js';

export const ih = (n: number): Uint8Array => new Uint8Array(20).fill(n);

/** Splits a chunk into pieces for delivery. */
export type Splitter = (b: Uint8Array) => Uint8Array[];
export const whole: Splitter = (b) => [b];
export const byteByByte: Splitter = (b) => Array.from(b, (_, i) => b.subarray(i, i + 1));
export function sizes(list: number[]): Splitter {
  let k = 0;
  return (b) => {
    const out: Uint8Array[] = [];
    for (let o = 0; o < b.length; ) {
      const n = Math.max(1, list[k++ % list.length]!);
      out.push(b.subarray(o, o + n));
      o += n;
    }
    return out;
  };
}

export interface PairOptions {
  seed?: number;
  initPolicy: MsePolicy;
  recvPolicy: MsePolicy;
  want?: Uint8Array;
  served?: Uint8Array[];
  ia?: Uint8Array;
  split?: Splitter;
  /** Bytes the receiver's application sends right after its handshake (encrypted per the result). */
  payloadFromB?: Uint8Array;
  initMaxPadding?: number;
  recvMaxPadding?: number;
}

export interface PairOutcome {
  a: MseInitiator;
  b: MseReceiver;
  ra: MseResult;
  rb: MseResult;
  /** Everything B received after A's step 3, i.e. A's wire output from the end of the handshake. */
  wireAB: Uint8Array[];
  wireBA: Uint8Array[];
}

/**
 * Run a full handshake: A starts, bytes go across in `split` pieces, B's application writes `payloadFromB`
 * right after its handshake so it reaches A together with step 4 (A's leftover).
 */
export function runPair(o: PairOptions): PairOutcome {
  const seed = o.seed ?? 1;
  const split = o.split ?? whole;
  const toB: Uint8Array[] = [];
  const toA: Uint8Array[] = [];
  const wireAB: Uint8Array[] = [];
  const wireBA: Uint8Array[] = [];
  const served = o.served ?? [ih(1)];
  const a = new MseInitiator({
    infoHash: o.want ?? served[0]!,
    policy: o.initPolicy,
    random: new SeededRandom(seed),
    send: (x) => (toB.push(x), wireAB.push(x)),
    ...(o.ia ? { initialPayload: o.ia } : {}),
    ...(o.initMaxPadding !== undefined ? { maxPadding: o.initMaxPadding } : {}),
  });
  const b = new MseReceiver({
    resolveSkey: new SkeyIndex(served).resolve,
    policy: o.recvPolicy,
    random: new SeededRandom(seed + 1000),
    send: (x) => (toA.push(x), wireBA.push(x)),
    ...(o.recvMaxPadding !== undefined ? { maxPadding: o.recvMaxPadding } : {}),
  });
  a.start();
  let bPayloadSent = false;
  for (let rounds = 0; rounds < 10 && !(a.done && b.done); rounds++) {
    while (toB.length > 0 && !b.done) for (const p of split(toB.shift()!)) if (!b.done) b.receive(p);
    if (b.done && !bPayloadSent && o.payloadFromB) {
      bPayloadSent = true;
      const p = o.payloadFromB.slice();
      b.result!.encryptor?.process(p);
      toA.push(p);
    }
    // deliver everything B sent (step 2, or step 4 + payload) as one stream, split as asked
    if (toA.length > 0 && !a.done) {
      const all = Buffer.concat(toA.splice(0));
      const pieces = split(all);
      for (let i = 0; i < pieces.length; i++) {
        if (a.done) {
          // after A is done the rest belongs to the application: decrypt it as the wrapper would
          const rest = Buffer.concat(pieces.slice(i));
          const res = a.result!;
          const tail = new Uint8Array(rest);
          res.decryptor?.process(tail);
          (res as { leftover: Uint8Array }).leftover = new Uint8Array(Buffer.concat([res.leftover, tail]));
          break;
        }
        a.receive(pieces[i]!);
      }
    }
  }
  if (!a.done || !b.done) throw new Error(`handshake did not complete (a ${a.done}, b ${b.done})`);
  return { a, b, ra: a.result!, rb: b.result!, wireAB, wireBA };
}
