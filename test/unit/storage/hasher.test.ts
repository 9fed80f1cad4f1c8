/** WorkerHasher / InlineHasher: digests match node:crypto, transfer vs copy, pooling, destroy, no lingering workers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { InlineHasher, WorkerHasher } from '../../../src/storage/index.js';
import { BtError } from '../../../src/core/errors.js';
import { pattern } from './helpers.js';

const sha1 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha1').update(b).digest());

test('WorkerHasher digests match node:crypto for assorted sizes, concurrently', async (t) => {
  const h = new WorkerHasher({ workers: 2 });
  t.after(() => h.destroy());
  const sizes = [0, 1, 20, 4095, 4096, 16 * 1024 + 3, 1024 * 1024, 4 * 1024 * 1024 + 1];
  const inputs = sizes.map((n, i) => pattern(n, i + 1));
  const expected = inputs.map(sha1);
  const got = await Promise.all(inputs.map((b) => h.sha1(b.slice())));
  assert.deepEqual(got, expected);
  assert.equal(h.pending, 0);
});

test('a view of a whole ArrayBuffer is transferred; a partial view is copied and left intact', async (t) => {
  const h = new WorkerHasher({ workers: 1 });
  t.after(() => h.destroy());
  const whole = pattern(100_000, 5);
  const expectWhole = sha1(whole);
  const p = h.sha1(whole);
  assert.equal(whole.byteLength, 0, 'transferred (detached)');
  assert.deepEqual(await p, expectWhole);

  const big = pattern(100_000, 6);
  const part = big.subarray(10, 90_000);
  assert.deepEqual(await h.sha1(part), sha1(part));
  assert.equal(big.byteLength, 100_000, 'not detached');
  assert.deepEqual(big, pattern(100_000, 6));

  const small = Buffer.from('hello world'); // Node's pooled Buffer: must be copied
  assert.deepEqual(await h.sha1(small), sha1(Buffer.from('hello world')));
  assert.equal(small.toString(), 'hello world');
});

test('many jobs spread over the pool all resolve', async (t) => {
  const h = new WorkerHasher({ workers: 3 });
  t.after(() => h.destroy());
  const inputs = Array.from({ length: 200 }, (_, i) => pattern(1000 + i, i + 1));
  const expected = inputs.map(sha1);
  assert.deepEqual(await Promise.all(inputs.map((b) => h.sha1(b))), expected);
});

test('destroy() rejects pending and later jobs with ERR_CLOSED and is idempotent', async () => {
  const h = new WorkerHasher({ workers: 1 });
  const pending = h.sha1(pattern(8 * 1024 * 1024, 9));
  const d = h.destroy();
  await assert.rejects(pending, (e: unknown) => e instanceof BtError && e.code === 'ERR_CLOSED' && e.op === 'hash');
  await d;
  await h.destroy();
  await assert.rejects(h.sha1(new Uint8Array(4)), (e: unknown) => e instanceof BtError && e.code === 'ERR_CLOSED');
});

test('InlineHasher matches node:crypto', async () => {
  const h = new InlineHasher();
  const b = pattern(12345, 3);
  assert.deepEqual(await h.sha1(b), sha1(b));
  await h.destroy();
  await assert.rejects(h.sha1(b), (e: unknown) => e instanceof BtError && e.code === 'ERR_CLOSED');
});

test('an idle pool never keeps the process alive (no destroy)', () => {
  const url = new URL('../../../src/storage/hasher.js', import.meta.url).href;
  const code = `
    const { WorkerHasher } = await import(${JSON.stringify(url)});
    const h = new WorkerHasher({ workers: 2 });
    const d = await Promise.all([h.sha1(new Uint8Array(1 << 20)), h.sha1(new Uint8Array(10))]);
    console.log(d.length === 2 && d[0].length === 20 ? 'ok' : 'bad');
  `;
  const r = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.error, undefined, `child did not exit by itself: ${String(r.error)}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});
