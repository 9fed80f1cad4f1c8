/** RC4 in a worker thread (src/mse/offload.ts) and EncryptedConnection on top of it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/core/index.js';
import { EncryptedConnection, Rc4 } from '../../../src/mse/index.js';
import { Rc4Offload, acquireRc4Offload, currentRc4Offload } from '../../../src/mse/offload.js';
import { setRc4Wasm } from '../../../src/mse/rc4.js';
import { memoryPair } from '../../../src/transport/memory/memory-transport.js';
import type { Connection } from '../../../src/transport/types.js';

const key = (n: number): Uint8Array => new SeededRandom(n).bytes(20);

/** A chunk that owns its ArrayBuffer (transferred), or a view into a bigger one (copied). */
function chunkOf(src: Uint8Array, rnd: SeededRandom): Uint8Array {
  if (rnd.int(2) === 0) return src.slice();
  const off = rnd.int(8);
  const big = new Uint8Array(src.length + off + 3);
  big.set(src, off);
  return big.subarray(off, off + src.length);
}

test('RC4 WebAssembly kernel and JavaScript loop produce the same stream, across odd chunks and alignments', () => {
  const rnd = new SeededRandom(5);
  const data = rnd.bytes(300_000);
  const viaWasm = data.slice();
  const viaJs = data.slice();
  const a = new Rc4(key(1));
  const b = new Rc4(key(1));
  for (let o = 0; o < data.length; ) {
    const n = Math.min(data.length - o, [1, 7, 511, 512, 513, 4099, 65536, 140_000][rnd.int(8)]!);
    setRc4Wasm(true);
    a.process(viaWasm.subarray(o, o + n));
    setRc4Wasm(false);
    b.process(viaJs.subarray(o, o + n));
    o += n;
  }
  setRc4Wasm(true);
  assert.deepEqual(viaWasm, viaJs);
  assert.notDeepEqual(viaWasm, data);
});

test('Rc4Channel: many chunks, mixed sizes (inline and in the worker), come back in order and match inline RC4', async () => {
  const off = new Rc4Offload({ inlineMax: 1024 });
  try {
    const rnd = new SeededRandom(9);
    const data = rnd.bytes(3 << 20);
    const expect = data.slice();
    new Rc4(key(2)).process(expect);
    const ch = off.open(new Rc4(key(2)));
    const got: Uint8Array[] = [];
    let order = 0;
    const done = new Promise<void>((resolve, reject) => {
      let o = 0;
      let k = 0;
      const pump = (): void => {
        // bursts, so that sometimes nothing is in flight (inline path) and sometimes a lot is
        for (let burst = 1 + rnd.int(40); burst > 0 && o < data.length; burst--) {
          const n = Math.min(data.length - o, [10, 900, 1500, 16_384, 65_536, 100_000][rnd.int(6)]!);
          const seq = k++;
          const last = o + n >= data.length;
          ch.push(chunkOf(data.subarray(o, o + n), rnd), (out, err) => {
            if (!out) return reject(err);
            if (seq !== order++) return reject(new Error(`chunk ${seq} came back as #${order - 1}`));
            got.push(out.slice());
            if (last) resolve();
          });
          o += n;
        }
        if (o < data.length) setTimeout(pump, rnd.int(3));
      };
      pump();
    });
    await done;
    assert.equal(ch.pending, 0);
    assert.equal(off.pending, 0);
    assert.deepEqual(new Uint8Array(Buffer.concat(got)), expect);
  } finally {
    await off.destroy();
  }
});

test('Rc4Offload: destroy fails chunks in flight; a destroyed offload processes inline', async () => {
  const off = new Rc4Offload({ inlineMax: 0 });
  const ch = off.open(new Rc4(key(3)));
  const errs: unknown[] = [];
  ch.push(new Uint8Array(100_000), (out, err) => errs.push(out ?? err));
  ch.push(new Uint8Array(100_000), (out, err) => errs.push(out ?? err));
  await off.destroy();
  assert.equal(errs.length, 2);
  assert.ok(errs.every((e) => e instanceof Error));
  const ch2 = off.open(new Rc4(key(3)));
  const z = new Uint8Array(10_000);
  let got: Uint8Array | undefined;
  ch2.push(z, (out) => (got = out));
  const ref = new Uint8Array(10_000);
  new Rc4(key(3)).process(ref);
  assert.deepEqual(got, ref, 'processed inline, synchronously');
});

test('shared offload: leases are counted; the last release destroys it', async () => {
  const before = currentRc4Offload();
  const a = acquireRc4Offload();
  const b = acquireRc4Offload();
  assert.equal(a.offload, b.offload);
  await a.release();
  await a.release(); // idempotent
  assert.equal(currentRc4Offload(), b.offload);
  await b.release();
  assert.equal(currentRc4Offload(), before);
});

/** Two EncryptedConnections over a memory pair, RC4 both ways through `off`. */
function rc4Pair(off: Rc4Offload): [EncryptedConnection, EncryptedConnection, Connection, Connection] {
  const [a, b] = memoryPair();
  const ea = new EncryptedConnection(a, { method: 'rc4', encryptor: new Rc4(key(10)), decryptor: new Rc4(key(11)), offload: off });
  const eb = new EncryptedConnection(b, { method: 'rc4', encryptor: new Rc4(key(11)), decryptor: new Rc4(key(10)), offload: off });
  return [ea, eb, a, b];
}

test('offloaded EncryptedConnection: 8 MiB in random chunks arrive in order; the caller’s bytes are untouched; backlog and drain', async () => {
  const off = new Rc4Offload({ inlineMax: 4096 });
  try {
    const [ea, eb] = rc4Pair(off);
    const rnd = new SeededRandom(21);
    const data = rnd.bytes(8 << 20);
    const copy = data.slice();
    const parts: Uint8Array[] = [];
    let got = 0;
    let drains = 0;
    ea.setHandlers({ onData: () => {}, onDrain: () => drains++, onClose: () => {} });
    const received = new Promise<void>((resolve, reject) => {
      eb.setHandlers({
        onData: (d) => {
          parts.push(d.slice());
          got += d.length;
          if (got === data.length) resolve();
        },
        onDrain: () => {},
        onClose: (e) => reject(e ?? new Error('closed early')),
      });
    });
    let falses = 0;
    for (let o = 0; o < data.length; ) {
      const n = Math.min(data.length - o, 1 + rnd.int(70_000));
      if (!ea.write(data.subarray(o, o + n))) falses++;
      o += n;
    }
    assert.ok(ea.writableLength > 0, 'bytes being encrypted count as backlog');
    await received;
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), data);
    assert.deepEqual(data, copy);
    assert.ok(falses > 0);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(drains >= 1, 'a write that returned false is followed by onDrain');
    assert.equal(ea.writableLength, 0);
  } finally {
    await off.destroy();
  }
});

test('offloaded EncryptedConnection: close(true) right after big writes delivers everything, then the close', async () => {
  const off = new Rc4Offload({ inlineMax: 0 });
  try {
    const [ea, eb] = rc4Pair(off);
    const data = new SeededRandom(3).bytes(2 << 20);
    for (let o = 0; o < data.length; o += 50_000) ea.write(data.subarray(o, o + 50_000));
    ea.close(true);
    assert.equal(ea.closed, true);
    assert.equal(ea.write(new Uint8Array(10)), false, 'no writes after close');
    const parts: Uint8Array[] = [];
    const closedWith = await new Promise<Error | undefined | 'early'>((resolve) => {
      let got = 0;
      eb.setHandlers({
        onData: (d) => {
          parts.push(d.slice());
          got += d.length;
        },
        onDrain: () => {},
        onClose: (e) => resolve(got === data.length ? e : 'early'),
      });
    });
    assert.equal(closedWith, undefined);
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), data);
  } finally {
    await off.destroy();
  }
});

test('offloaded EncryptedConnection: a peer close is reported only after the data before it is decrypted and delivered', async () => {
  const off = new Rc4Offload({ inlineMax: 0 });
  try {
    const [a, b] = memoryPair();
    const enc = new Rc4(key(30));
    const eb = new EncryptedConnection(b, { method: 'rc4', encryptor: new Rc4(key(31)), decryptor: new Rc4(key(30)), offload: off });
    const data = new SeededRandom(4).bytes(1 << 20);
    const wire = data.slice();
    enc.process(wire);
    for (let o = 0; o < wire.length; o += 32_768) a.write(wire.slice(o, o + 32_768));
    a.close();
    const events: string[] = [];
    const parts: Uint8Array[] = [];
    await new Promise<void>((resolve) => {
      eb.setHandlers({
        onData: (d) => {
          parts.push(d.slice());
          if (events.at(-1) !== 'data') events.push('data');
        },
        onDrain: () => {},
        onClose: () => {
          events.push('close');
          resolve();
        },
      });
    });
    assert.deepEqual(events, ['data', 'close']);
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), data);
  } finally {
    await off.destroy();
  }
});

test('offloaded EncryptedConnection: pause holds decrypted data back, resume delivers it in order', async () => {
  const off = new Rc4Offload({ inlineMax: 0 });
  try {
    const [ea, eb] = rc4Pair(off);
    const data = new SeededRandom(6).bytes(1 << 20);
    const parts: Uint8Array[] = [];
    let got = 0;
    let whilePaused = 0;
    let paused = false;
    const all = new Promise<void>((resolve) => {
      eb.setHandlers({
        onData: (d) => {
          if (paused) whilePaused++;
          parts.push(d.slice());
          got += d.length;
          if (got === 100_000) {
            eb.pause();
            paused = true;
          }
          if (got === data.length) resolve();
        },
        onDrain: () => {},
        onClose: () => {},
      });
    });
    ea.write(data.subarray(0, 100_000));
    for (let o = 100_000; o < data.length; o += 40_000) ea.write(data.subarray(o, Math.min(data.length, o + 40_000)));
    // The first 100 KB travel through the worker first (slow on a loaded machine: wait for them, up to 10 s),
    // then nothing more may arrive while paused.
    for (let i = 0; i < 1000 && got < 100_000; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got, 100_000, 'nothing delivered while paused');
    paused = false;
    eb.resume();
    await all;
    assert.equal(whilePaused, 0);
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), data);
  } finally {
    await off.destroy();
  }
});
