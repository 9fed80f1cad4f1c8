/** MSE/PE Diffie-Hellman: 768-bit prime, G = 2, 96-byte keys; checked against OpenSSL through node:crypto. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDiffieHellman } from 'node:crypto';
import { BtError, SeededRandom } from '../../../src/core/index.js';
import { DH_KEY_BYTES, DhKeyPair, MSE_PRIME, bigIntToBytes, bytesToBigInt, parsePublicKey } from '../../../src/mse/index.js';

const isMse = (e: unknown): boolean => e instanceof BtError && e.code === 'ERR_MSE' && e.op === 'handshake';

test('the prime is the 768-bit MSE prime and round-trips through 96 bytes', () => {
  assert.equal(MSE_PRIME.toString(2).length, 768);
  const b = bigIntToBytes(MSE_PRIME);
  assert.equal(b.length, DH_KEY_BYTES);
  assert.equal(bytesToBigInt(b), MSE_PRIME);
  assert.deepEqual(bigIntToBytes(5n, 4), new Uint8Array([0, 0, 0, 5]));
  assert.throws(() => bigIntToBytes(1n << 32n, 4), RangeError);
});

test('two key pairs agree on S; keys are 96 bytes with leading zeros kept', () => {
  const rnd = new SeededRandom(7);
  for (let i = 0; i < 5; i++) {
    const a = new DhKeyPair(rnd);
    const b = new DhKeyPair(rnd);
    assert.equal(a.publicKey.length, 96);
    const s1 = a.computeSecret(b.publicKey);
    const s2 = b.computeSecret(a.publicKey);
    assert.equal(s1.length, 96);
    assert.deepEqual(s1, s2);
  }
});

test('agrees with OpenSSL (node:crypto createDiffieHellman) on the shared secret', () => {
  const ossl = createDiffieHellman(Buffer.from(bigIntToBytes(MSE_PRIME)), Buffer.from([2]));
  ossl.generateKeys();
  const ours = new DhKeyPair(new SeededRandom(99));
  const sOurs = ours.computeSecret(new Uint8Array(ossl.getPublicKey()));
  const sOssl = ossl.computeSecret(Buffer.from(ours.publicKey));
  assert.equal(bytesToBigInt(sOurs), bytesToBigInt(new Uint8Array(sOssl)));
});

test('the private key is 160 bits from the injected Random (deterministic under a seed)', () => {
  assert.deepEqual(new DhKeyPair(new SeededRandom(3)).publicKey, new DhKeyPair(new SeededRandom(3)).publicKey);
  let asked = 0;
  const counting = { bytes: (n: number) => ((asked = n), new SeededRandom(1).bytes(n)), int: () => 0 };
  new DhKeyPair(counting);
  assert.equal(asked, 20);
  // an all-zero random source cannot produce a usable key
  assert.throws(() => new DhKeyPair({ bytes: (n) => new Uint8Array(n), int: () => 0 }), isMse);
});

test('peer public keys outside 1 < Y < P-1, or not 96 bytes, are refused with ERR_MSE', () => {
  const bad = [0n, 1n, MSE_PRIME - 1n, MSE_PRIME, (1n << 768n) - 1n];
  const kp = new DhKeyPair(new SeededRandom(5));
  for (const y of bad) assert.throws(() => kp.computeSecret(bigIntToBytes(y)), isMse, `Y = ${y.toString(16).slice(0, 8)}`);
  assert.throws(() => parsePublicKey(new Uint8Array(95)), isMse);
  assert.throws(() => parsePublicKey(new Uint8Array(97)), isMse);
  assert.equal(parsePublicKey(bigIntToBytes(2n)), 2n);
  assert.equal(parsePublicKey(bigIntToBytes(MSE_PRIME - 2n)), MSE_PRIME - 2n);
});
