/** RC4 as used by MSE/PE: published vectors, and agreement with an independent RC4 written in Python. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rc4 } from '../../../src/mse/index.js';
import { SeededRandom } from '../../../src/core/index.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('RC4 Wikipedia vectors (Key/Plaintext, Wiki/pedia, Secret/Attack at dawn)', () => {
  const vectors: [string, string, string][] = [
    ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
    ['Wiki', 'pedia', '1021bf0420'],
    ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
  ];
  for (const [key, plain, cipher] of vectors) {
    const data = ascii(plain);
    new Rc4(ascii(key)).process(data);
    assert.equal(hex(data), cipher, `${key}/${plain}`);
    // and back: the same keystream decrypts
    new Rc4(ascii(key)).process(data);
    assert.equal(Buffer.from(data).toString('latin1'), plain);
  }
});

test('RC4 keystreams (Wikipedia): Key, Wiki, Secret', () => {
  const ks = (key: string, n: number): string => {
    const z = new Uint8Array(n);
    new Rc4(ascii(key)).process(z);
    return hex(z);
  };
  assert.equal(ks('Key', 10), 'eb9f7781b734ca72a719');
  assert.equal(ks('Wiki', 6), '6044db6d41b7');
  assert.equal(ks('Secret', 8), '04d46b053ca87b59');
});

test('RC4 refuses empty and over-long keys, and a too-small destination', () => {
  assert.throws(() => new Rc4(new Uint8Array(0)), RangeError);
  assert.throws(() => new Rc4(new Uint8Array(257)), RangeError);
  assert.throws(() => new Rc4(new Uint8Array(5)).processTo(new Uint8Array(10), new Uint8Array(9)), RangeError);
});

/** Keystream of `key` after dropping `skip` bytes, produced through Rc4 in awkward chunks and alignments. */
function ours(key: Uint8Array, skip: number, n: number, rnd: SeededRandom): Uint8Array {
  const rc4 = new Rc4(key);
  rc4.skip(skip);
  // A backing buffer bigger than needed so chunks land at every alignment.
  const backing = new Uint8Array(n + 16);
  const off = rnd.int(8);
  const out = backing.subarray(off, off + n);
  let o = 0;
  while (o < n) {
    const len = Math.min(n - o, [1, 3, 63, 64, 65, 200, 1000, 4096][rnd.int(8)]!);
    const chunk = out.subarray(o, o + len);
    if (rnd.int(2) === 0) {
      rc4.process(chunk); // in place (word path when long enough)
    } else {
      // processTo into a destination at a different alignment (byte path) or the same (word path)
      const dstBacking = new Uint8Array(len + 8);
      const d = rnd.int(4);
      const dst = dstBacking.subarray(d, d + len);
      rc4.processTo(chunk.slice(), dst);
      chunk.set(dst);
    }
    o += len;
  }
  return out;
}

const PY_RC4 = `
import sys, json
def rc4(key, skip, n):
    S = list(range(256)); j = 0
    for i in range(256):
        j = (j + S[i] + key[i % len(key)]) & 255
        S[i], S[j] = S[j], S[i]
    i = j = 0; out = bytearray()
    for _ in range(skip + n):
        i = (i + 1) & 255; j = (j + S[i]) & 255
        S[i], S[j] = S[j], S[i]
        out.append(S[(S[i] + S[j]) & 255])
    return bytes(out[skip:])
for c in json.load(sys.stdin):
    print(rc4(bytes.fromhex(c['key']), c['skip'], c['n']).hex())
`;

const python = spawnSync('python3', ['-c', 'print(1)'], { encoding: 'utf8' });
const noPython = python.status !== 0 ? 'python3 is not available' : false;

test('RC4 agrees with an independent Python RC4 (random keys, 1024-byte discard, odd chunking)', { skip: noPython }, () => {
  const rnd = new SeededRandom(42);
  const cases: { key: string; skip: number; n: number }[] = [];
  for (let i = 0; i < 24; i++) {
    const keyLen = i < 4 ? [1, 5, 20, 256][i]! : 1 + rnd.int(64);
    cases.push({ key: hex(rnd.bytes(keyLen)), skip: [0, 1, 1024, 1027][i % 4]!, n: 1 + rnd.int(9000) });
  }
  const r = spawnSync('python3', ['-c', PY_RC4], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, cases.length);
  cases.forEach((c, i) => {
    assert.equal(hex(ours(Buffer.from(c.key, 'hex'), c.skip, c.n, rnd)), lines[i], `case ${i} (key ${c.key.length / 2} bytes, skip ${c.skip}, n ${c.n})`);
  });
});
