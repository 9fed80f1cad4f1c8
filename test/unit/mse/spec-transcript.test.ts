/**
 * MSE/PE wire format recomputed independently of src/mse: the peer here is written from the Vuze spec with
 * OpenSSL's DH (node:crypto), node's SHA-1 and a separate few-line RC4, and checks every field MseInitiator
 * sends, then answers with a step 4 the initiator must accept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDiffieHellman, createHash } from 'node:crypto';
import { SeededRandom } from '../../../src/core/index.js';
import { MSE_PREFER_RC4, MseInitiator } from '../../../src/mse/index.js';

const P_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563';
const sha1 = (...parts: (string | Uint8Array)[]): Buffer => {
  const h = createHash('sha1');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
  return h.digest();
};
const pad96 = (b: Buffer): Buffer => Buffer.concat([Buffer.alloc(96 - b.length), b]);

/** Plain textbook RC4 keystream generator with the MSE 1024-byte discard. */
function refRc4(key: Uint8Array): (data: Uint8Array) => Uint8Array {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 255;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  let i = 0;
  let j = 0;
  const next = (): number => {
    i = (i + 1) & 255;
    j = (j + s[i]!) & 255;
    [s[i], s[j]] = [s[j]!, s[i]!];
    return s[(s[i]! + s[j]!) & 255]!;
  };
  for (let k = 0; k < 1024; k++) next();
  return (data) => data.map((b) => b ^ next());
}

test('MseInitiator transcript matches the spec, field by field, against an independent peer', () => {
  const infoHash = Buffer.alloc(20, 0xab);
  const ia = Buffer.from('initial payload: a BitTorrent handshake would go here');
  const sent: Uint8Array[] = [];
  const a = new MseInitiator({ infoHash, policy: MSE_PREFER_RC4, random: new SeededRandom(3), send: (x) => sent.push(x.slice()), initialPayload: ia });
  a.start();
  const step1 = Buffer.from(sent.shift()!);
  assert.ok(step1.length >= 96 && step1.length <= 96 + 512, 'Ya + PadA (0..512)');

  const b = createDiffieHellman(Buffer.from(P_HEX, 'hex'), Buffer.from([2]));
  b.generateKeys();
  const yb = pad96(b.getPublicKey());
  const S = pad96(b.computeSecret(step1.subarray(0, 96)));

  const padB = Buffer.alloc(37, 0x55);
  a.receive(Buffer.concat([yb, padB]));
  const step3 = Buffer.from(sent.shift()!);
  assert.deepEqual(step3.subarray(0, 20), sha1('req1', S), "HASH('req1', S)");
  const x = sha1('req2', infoHash).map((v, k) => v ^ sha1('req3', S)[k]!);
  assert.deepEqual(step3.subarray(20, 40), Buffer.from(x), "HASH('req2', SKEY) xor HASH('req3', S)");
  const decA = refRc4(sha1('keyA', S, infoHash));
  const plain = Buffer.from(decA(step3.subarray(40)));
  assert.deepEqual(plain.subarray(0, 8), Buffer.alloc(8), 'VC');
  assert.equal(plain.readUInt32BE(8), 0x03, 'crypto_provide: plaintext | rc4');
  const lenPadC = plain.readUInt16BE(12);
  assert.ok(lenPadC <= 512);
  const lenIA = plain.readUInt16BE(14 + lenPadC);
  assert.equal(lenIA, ia.length);
  assert.deepEqual(plain.subarray(16 + lenPadC), ia, 'ENCRYPT(IA) continues the same stream');

  // step 4: ENCRYPT(VC, crypto_select = rc4, len(PadD) = 3, PadD), then ENCRYPT2 payload, in one chunk
  const encB = refRc4(sha1('keyB', S, infoHash));
  const step4 = encB(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 9, 9, 9]));
  const payloadFromB = Buffer.from('payload from B');
  a.receive(Buffer.concat([step4, encB(payloadFromB)]));
  assert.ok(a.done);
  const r = a.result!;
  assert.equal(r.method, 'rc4');
  assert.deepEqual(Buffer.from(r.leftover), payloadFromB);
  // A's payload continues keyA after the IA
  const fromA = Buffer.from('payload from A');
  const wire = Buffer.from(fromA);
  r.encryptor!.process(wire);
  assert.deepEqual(Buffer.from(decA(wire)), fromA);
});
