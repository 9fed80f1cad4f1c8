/** MSE/PE handshake state machines (Vuze Message_Stream_Encryption spec): both roles, both methods, any split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BtError, SeededRandom } from '../../../src/core/index.js';
import {
  DhKeyPair,
  MSE_PREFER_PLAINTEXT,
  MSE_PREFER_RC4,
  MSE_REQUIRE_RC4,
  MseInitiator,
  MseReceiver,
  SkeyIndex,
  deriveKey,
  mseCipher,
  req1Hash,
  req2Hash,
  req3Hash,
} from '../../../src/mse/index.js';
import type { MsePolicy, MseResult } from '../../../src/mse/index.js';
import { byteByByte, ih, runPair, sizes, whole } from './helpers.js';

const PLAINTEXT_ONLY: MsePolicy = { methods: ['plaintext'] };
const BT_HANDSHAKE = Uint8Array.from('\x13BitTorrent protocol' + '\0'.repeat(8) + 'I'.repeat(20) + 'P'.repeat(20), (c) => c.charCodeAt(0));
const payload = (n: number, seed = 9): Uint8Array => new SeededRandom(seed).bytes(n);

/** After a completed handshake, A->B and B->A application bytes must survive the chosen method. */
function checkStreams(ra: MseResult, rb: MseResult): void {
  for (const [from, to] of [
    [ra, rb],
    [rb, ra],
  ] as const) {
    const msg = payload(5000, 3);
    const wire = msg.slice();
    from.encryptor?.process(wire);
    if (from.method === 'rc4') assert.notDeepEqual(wire, msg, 'rc4 payload is not sent in the clear');
    else assert.deepEqual(wire, msg, 'plaintext payload is sent as is');
    to.decryptor?.process(wire);
    assert.deepEqual(wire, msg);
  }
}

for (const [name, split] of [
  ['whole chunks', whole],
  ['byte by byte', byteByByte],
  ['odd splits', sizes([7, 1, 96, 3, 500, 20])],
] as const) {
  test(`rc4 handshake, ${name}: IA delivered, info-hash matched, leftover decrypted, streams line up`, () => {
    const fromB = payload(300, 4);
    const { ra, rb } = runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4, ia: BT_HANDSHAKE, split, payloadFromB: fromB });
    assert.equal(ra.method, 'rc4');
    assert.equal(rb.method, 'rc4');
    assert.deepEqual(rb.initialPayload, BT_HANDSHAKE);
    assert.equal(ra.initialPayload.length, 0);
    assert.deepEqual(ra.infoHash, ih(1));
    assert.deepEqual(rb.infoHash, ih(1));
    assert.deepEqual(ra.leftover, fromB, 'payload that arrived with step 4 is decrypted');
    assert.equal(rb.leftover.length, 0);
    checkStreams(ra, rb);
  });

  test(`plaintext selection, ${name}: IA still decrypted, payload passes in the clear`, () => {
    const fromB = payload(100, 5);
    const { ra, rb } = runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_PLAINTEXT, ia: BT_HANDSHAKE, split, payloadFromB: fromB });
    assert.equal(ra.method, 'plaintext');
    assert.equal(rb.method, 'plaintext');
    assert.equal(ra.encryptor, undefined);
    assert.equal(rb.decryptor, undefined);
    assert.deepEqual(rb.initialPayload, BT_HANDSHAKE);
    assert.deepEqual(ra.leftover, fromB);
    checkStreams(ra, rb);
  });
}

test('selection follows the receiver preference within what the initiator provides', () => {
  const cases: [MsePolicy, MsePolicy, string][] = [
    [MSE_PREFER_RC4, MSE_PREFER_RC4, 'rc4'],
    [MSE_PREFER_PLAINTEXT, MSE_PREFER_RC4, 'rc4'],
    [MSE_PREFER_RC4, MSE_PREFER_PLAINTEXT, 'plaintext'],
    [MSE_REQUIRE_RC4, MSE_PREFER_PLAINTEXT, 'rc4'],
    [PLAINTEXT_ONLY, MSE_PREFER_RC4, 'plaintext'],
  ];
  for (const [ip, rp, want] of cases) {
    const { ra, rb } = runPair({ initPolicy: ip, recvPolicy: rp });
    assert.equal(ra.method, want, `${ip.methods} vs ${rp.methods}`);
    assert.equal(rb.method, want);
  }
});

test('no common method: the receiver refuses with ERR_MSE', () => {
  assert.throws(
    () => runPair({ initPolicy: PLAINTEXT_ONLY, recvPolicy: MSE_REQUIRE_RC4 }),
    (e: unknown) => e instanceof BtError && e.code === 'ERR_MSE' && /none of our methods/.test(e.message),
  );
});

test('IA: empty, and the largest the field allows', () => {
  const { rb } = runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4 });
  assert.equal(rb.initialPayload.length, 0);
  const big = payload(65535, 8);
  const r2 = runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4, ia: big, split: sizes([1460]) });
  assert.deepEqual(r2.rb.initialPayload, big);
  assert.throws(
    () => new MseInitiator({ infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1), send: () => {}, initialPayload: new Uint8Array(65536) }),
    BtError,
  );
});

test('padding: 0 and 512 bytes both ways synchronise; wire lengths show it', () => {
  for (const pad of [0, 512]) {
    // SeededRandom.int(513) picks the length; force it through maxPadding and a random that returns the max
    const { ra, wireAB, wireBA } = runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4, initMaxPadding: pad, recvMaxPadding: pad });
    assert.equal(ra.method, 'rc4');
    assert.ok(wireAB[0]!.length >= 96 && wireAB[0]!.length <= 96 + pad);
    assert.ok(wireBA[0]!.length >= 96 && wireBA[0]!.length <= 96 + pad);
    if (pad === 0) assert.equal(wireAB[0]!.length, 96);
  }
});

test('receiver serving several torrents resolves the one asked for', () => {
  const served = [ih(1), ih(2), ih(3), ih(4), ih(5)];
  for (const want of [ih(3), ih(5), ih(1)]) {
    const { ra, rb } = runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4, served, want });
    assert.deepEqual(rb.infoHash, want);
    assert.deepEqual(ra.infoHash, want);
    checkStreams(ra, rb);
  }
  const index = new SkeyIndex(served);
  assert.equal(index.size, 5);
  index.delete(ih(2));
  assert.equal(index.resolve(req2Hash(ih(2))), undefined);
  assert.deepEqual(index.resolve(req2Hash(ih(4))), ih(4));
});

test('unknown SKEY is refused; a resolver answering the wrong hash is refused too', () => {
  const isUnknown = (e: unknown): boolean => e instanceof BtError && e.code === 'ERR_MSE' && /unknown SKEY/.test(e.message);
  assert.throws(() => runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4, served: [ih(1), ih(2)], want: ih(9) }), isUnknown);
  // a careless resolver that returns some torrent regardless
  const toB: Uint8Array[] = [];
  const toA: Uint8Array[] = [];
  const a = new MseInitiator({ infoHash: ih(9), policy: MSE_PREFER_RC4, random: new SeededRandom(1), send: (x) => toB.push(x) });
  const b = new MseReceiver({ resolveSkey: () => ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(2), send: (x) => toA.push(x) });
  a.start();
  b.receive(toB.shift()!);
  a.receive(toA.shift()!);
  assert.throws(() => b.receive(toB.shift()!), isUnknown);
  assert.ok(b.failed);
  assert.throws(() => b.receive(new Uint8Array(1)), isUnknown, 'stays failed with the same error');
});

test('state errors: receive before start, start twice, receive after done', () => {
  const a = new MseInitiator({ infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1), send: () => {} });
  assert.throws(() => a.receive(new Uint8Array(1)), (e: unknown) => e instanceof BtError && e.code === 'ERR_STATE');
  a.start();
  assert.throws(() => a.start(), (e: unknown) => e instanceof BtError && e.code === 'ERR_STATE');
  const { a: done } = runPair({ initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4 });
  assert.throws(() => done.receive(new Uint8Array(1)), (e: unknown) => e instanceof BtError && e.code === 'ERR_STATE');
});

test('bad policies are refused up front (ERR_SETTINGS)', () => {
  const mk = (policy: MsePolicy, maxPadding?: number) => () =>
    new MseInitiator({ infoHash: ih(1), policy, random: new SeededRandom(1), send: () => {}, ...(maxPadding !== undefined ? { maxPadding } : {}) });
  for (const f of [mk({ methods: [] }), mk({ methods: ['rc4', 'rc4'] }), mk({ methods: ['aes' as 'rc4'] }), mk(MSE_PREFER_RC4, 513), mk(MSE_PREFER_RC4, -1)]) {
    assert.throws(f, (e: unknown) => e instanceof BtError && e.code === 'ERR_SETTINGS');
  }
  assert.throws(() => new MseInitiator({ infoHash: new Uint8Array(19), policy: MSE_PREFER_RC4, random: new SeededRandom(1), send: () => {} }), BtError);
});

test('property: any split of either direction, any seed, completes with the same keys', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 12 }),
      fc.boolean(),
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      (seed, cuts, preferPlain, ia) => {
        const fromB = payload(64, seed);
        const { ra, rb } = runPair({
          seed,
          initPolicy: MSE_PREFER_RC4,
          recvPolicy: preferPlain ? MSE_PREFER_PLAINTEXT : MSE_PREFER_RC4,
          ia,
          split: sizes(cuts),
          payloadFromB: fromB,
        });
        assert.equal(ra.method, rb.method);
        assert.deepEqual(rb.initialPayload, ia);
        assert.deepEqual(ra.leftover, fromB);
        checkStreams(ra, rb);
      },
    ),
    { numRuns: 60, seed: 20240601 },
  );
});

test('receiver leftover: payload arriving in the same chunk as the IA is decrypted (deterministic replay)', () => {
  // Run 1 learns what A's encryptor produces right after its step 3; run 2 (same seeds, same transcript)
  // delivers step 3 and that payload to B in one chunk.
  const msg = payload(777, 11);
  const run1 = runPair({ seed: 5, initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4, ia: BT_HANDSHAKE });
  const encrypted = msg.slice();
  run1.ra.encryptor!.process(encrypted);

  const toB: Uint8Array[] = [];
  const toA: Uint8Array[] = [];
  const a = new MseInitiator({ infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(5), send: (x) => toB.push(x), initialPayload: BT_HANDSHAKE });
  const b = new MseReceiver({ resolveSkey: new SkeyIndex([ih(1)]).resolve, policy: MSE_PREFER_RC4, random: new SeededRandom(1005), send: (x) => toA.push(x) });
  a.start();
  b.receive(toB.shift()!);
  a.receive(toA.shift()!);
  const step3 = toB.shift()!;
  b.receive(Buffer.concat([step3, encrypted]));
  assert.ok(b.done);
  assert.deepEqual(b.result!.initialPayload, BT_HANDSHAKE);
  assert.deepEqual(b.result!.leftover, msg);
});

// ---- hostile peers ----------------------------------------------------------------------------------------

const isBt = (e: unknown): boolean => e instanceof BtError;
const isMse = (re: RegExp) => (e: unknown): boolean => e instanceof BtError && e.code === 'ERR_MSE' && re.test(e.message);

function newReceiver(send: (b: Uint8Array) => void = () => {}, maxInitialPayload?: number): MseReceiver {
  return new MseReceiver({
    resolveSkey: new SkeyIndex([ih(1)]).resolve,
    policy: MSE_PREFER_RC4,
    random: new SeededRandom(77),
    send,
    ...(maxInitialPayload !== undefined ? { maxInitialPayload } : {}),
  });
}

/** Feed `bytes` one at a time; return how many were accepted before the machine threw (and the error). */
function feedUntilThrow(m: { receive(b: Uint8Array): void }, bytes: Uint8Array): { at: number; err: unknown } {
  for (let i = 0; i < bytes.length; i++) {
    try {
      m.receive(bytes.subarray(i, i + 1));
    } catch (err) {
      return { at: i + 1, err };
    }
  }
  return { at: -1, err: undefined };
}

test('receiver: garbage after a valid-looking Ya fails once 512 bytes of padding pass without req1', () => {
  const garbage = new SeededRandom(3).bytes(5000);
  const { at, err } = feedUntilThrow(newReceiver(), garbage);
  assert.ok(isMse(/no req1 hash within 512/)(err), String(err));
  assert.equal(at, 96 + 512 + 20, 'fails exactly when the sync window is exhausted');
});

test('initiator: garbage after Yb fails once 512 bytes of padding pass without ENCRYPT(VC)', () => {
  const a = new MseInitiator({ infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1), send: () => {} });
  a.start();
  const { at, err } = feedUntilThrow(a, new SeededRandom(4).bytes(5000));
  assert.ok(isMse(/no verification constant within 512/)(err), String(err));
  assert.equal(at, 96 + 512 + 8);
});

test('invalid DH public keys (0, 1, P-1, >= P) are refused by both roles', () => {
  for (const y of [new Uint8Array(96), Uint8Array.from({ length: 96 }, (_, i) => (i === 95 ? 1 : 0)), new Uint8Array(96).fill(255)]) {
    assert.throws(() => newReceiver().receive(y), isMse(/out of range/));
    const a = new MseInitiator({ infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(1), send: () => {} });
    a.start();
    assert.throws(() => a.receive(y), isMse(/out of range/));
  }
});

/** A hand-built initiator (from the exported primitives) that can break any field of step 3. */
function evilInitiator(opts: { padA?: number; vc?: Uint8Array; provide?: number; padC?: number; lenIA?: number; iaBytes?: number }): {
  err: unknown;
  received: number;
} {
  const rnd = new SeededRandom(12);
  const dh = new DhKeyPair(rnd);
  let yb: Uint8Array | undefined;
  const b = newReceiver((x) => (yb ??= x.subarray(0, 96)), 1000);
  const stream: number[] = [...dh.publicKey, ...new Uint8Array(opts.padA ?? 0)];
  const first = Uint8Array.from(stream);
  try {
    b.receive(first);
  } catch (err) {
    return { err, received: first.length };
  }
  const s = dh.computeSecret(yb!);
  const enc = mseCipher(deriveKey('keyA', s, ih(1)));
  const req2x3 = req2Hash(ih(1)).map((v, i) => v ^ req3Hash(s)[i]!);
  const provide = opts.provide ?? 2;
  const padC = opts.padC ?? 0;
  const lenIA = opts.lenIA ?? 0;
  const body = Uint8Array.from([
    ...(opts.vc ?? new Uint8Array(8)),
    (provide >>> 24) & 255, (provide >>> 16) & 255, (provide >>> 8) & 255, provide & 255,
    padC >> 8, padC & 255,
    ...new Uint8Array(Math.min(padC, 600)),
    lenIA >> 8, lenIA & 255,
    ...new Uint8Array(opts.iaBytes ?? 0),
  ]);
  enc.process(body);
  const step3 = Uint8Array.from([...req1Hash(s), ...req2x3, ...body]);
  const r = feedUntilThrow(b, step3);
  return { err: r.err, received: r.at };
}

test('receiver refuses: PadA over 512, bad VC, no method, PadC over 512, IA over its limit', () => {
  assert.equal(evilInitiator({ padA: 512 }).err, undefined, 'PadA of exactly 512 is fine');
  // PadA of 513 with the hash right after: the window ends one byte early
  const r = evilInitiator({ padA: 513 });
  assert.ok(isMse(/no req1 hash/)(r.err), String(r.err));
  assert.ok(isMse(/bad verification constant/)(evilInitiator({ vc: new Uint8Array(8).fill(1) }).err));
  assert.ok(isMse(/none of our methods/)(evilInitiator({ provide: 0 }).err));
  assert.ok(isMse(/none of our methods/)(evilInitiator({ provide: 0xfc }).err));
  assert.ok(isMse(/PadC length 513/)(evilInitiator({ padC: 513 }).err));
  assert.ok(isMse(/PadC length 65535/)(evilInitiator({ padC: 0xffff }).err));
  assert.ok(isMse(/initial payload length 1001 exceeds 1000/)(evilInitiator({ lenIA: 1001 }).err));
  assert.equal(evilInitiator({ padC: 512, lenIA: 1000, iaBytes: 1000 }).err, undefined);
  // provide with unknown extra bits set is fine: we pick from the bits we know
  assert.equal(evilInitiator({ provide: 0xffffffff }).err, undefined);
});

/** A hand-built receiver that answers a real MseInitiator with any step 4. */
function evilReceiver(opts: { padB?: number; select?: number; padD?: number; vcCorrupt?: boolean; trailing?: number }, policy: MsePolicy = MSE_PREFER_RC4): unknown {
  const rnd = new SeededRandom(13);
  const dh = new DhKeyPair(rnd);
  let ya: Uint8Array | undefined;
  const a = new MseInitiator({ infoHash: ih(1), policy, random: new SeededRandom(1), send: (x) => (ya ??= x.subarray(0, 96)) });
  a.start();
  const s = dh.computeSecret(ya!);
  const enc = mseCipher(deriveKey('keyB', s, ih(1)));
  const select = opts.select ?? 2;
  const padD = opts.padD ?? 0;
  const body = Uint8Array.from([
    ...new Uint8Array(8),
    (select >>> 24) & 255, (select >>> 16) & 255, (select >>> 8) & 255, select & 255,
    padD >> 8, padD & 255,
    ...new Uint8Array(Math.min(padD, 600)),
  ]);
  enc.process(body);
  if (opts.vcCorrupt) body[0] ^= 1;
  const all = Uint8Array.from([...dh.publicKey, ...new SeededRandom(5).bytes(opts.padB ?? 0), ...body, ...new Uint8Array(opts.trailing ?? 0)]);
  const r = feedUntilThrow(a, all);
  if (r.err === undefined) assert.ok(a.done, 'no error means the handshake completed');
  return r.err;
}

test('initiator refuses: PadB over 512, corrupted VC, bad crypto_select, PadD over 512', () => {
  assert.equal(evilReceiver({ padB: 512 }), undefined);
  assert.ok(isMse(/no verification constant/)(evilReceiver({ padB: 513 })));
  // a corrupted VC is indistinguishable from more padding until the window is exhausted
  assert.ok(isMse(/no verification constant/)(evilReceiver({ vcCorrupt: true, trailing: 600 })));
  for (const select of [0, 3, 4, 0x80000002]) assert.ok(isMse(/not exactly one known method/)(evilReceiver({ select })), `select ${select}`);
  assert.ok(isMse(/peer selected plaintext, which we did not provide/)(evilReceiver({ select: 1 }, MSE_REQUIRE_RC4)));
  assert.ok(isMse(/PadD length 513/)(evilReceiver({ padD: 513 })));
  assert.equal(evilReceiver({ padD: 512 }), undefined);
});

test('fuzz: arbitrary bytes in arbitrary splits only ever raise BtError, and buffering stays bounded', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (bytes, cuts, asInitiator) => {
        const m = asInitiator
          ? new MseInitiator({ infoHash: ih(1), policy: MSE_PREFER_RC4, random: new SeededRandom(2), send: () => {} })
          : newReceiver();
        if (m instanceof MseInitiator) m.start();
        for (const p of sizes(cuts)(bytes)) {
          try {
            m.receive(p);
          } catch (e) {
            assert.ok(isBt(e), `threw ${String(e)}`);
            return;
          }
          const held = (m as unknown as { in: { length: number } }).in.length;
          assert.ok(held <= 96 + 512 + 20, `holds ${held} bytes`);
        }
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});

test('fuzz: a valid handshake with one byte flipped fails with BtError or completes; never anything else', () => {
  const { wireAB } = runPair({ seed: 21, initPolicy: MSE_PREFER_RC4, recvPolicy: MSE_PREFER_RC4, ia: BT_HANDSHAKE });
  const fromA = Buffer.concat(wireAB);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: fromA.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, x) => {
      // Replay A's transcript against a receiver with the same seed, with one byte flipped.
      const bad = Uint8Array.from(fromA);
      bad[pos]! ^= x;
      const b = new MseReceiver({ resolveSkey: new SkeyIndex([ih(1)]).resolve, policy: MSE_PREFER_RC4, random: new SeededRandom(1021), send: () => {} });
      try {
        b.receive(bad);
      } catch (e) {
        assert.ok(isBt(e), String(e));
      }
    }),
    { numRuns: 150, seed: 3 },
  );
});
