/** StateFiles: MemoryStateFiles, and NodeStateFiles writing crash-safe in a temp dir. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStateFiles, NodeStateFiles } from '../../../src/storage/index.js';
import type { StateFiles } from '../../../src/storage/index.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

async function roundTrip(files: StateFiles, dir: string): Promise<void> {
  const f = join(dir, 'sub', 'deeper', 'state.json');
  assert.equal(await files.read(f), undefined, 'a missing file reads as undefined');
  await files.writeAtomic(f, bytes('one'));
  assert.equal(text(await files.read(f)), 'one');
  const b = bytes('two, longer');
  await files.writeAtomic(f, b);
  b[0] = 0; // the caller's buffer is not kept
  assert.equal(text(await files.read(f)), 'two, longer');
  await files.writeAtomic(f, new Uint8Array(0));
  assert.equal(text(await files.read(f)), '');
}

test('MemoryStateFiles: missing is undefined; writes replace; bytes are copied', async () => {
  const m = new MemoryStateFiles();
  await roundTrip(m, '/state');
  const got = (await m.read('/state/sub/deeper/state.json'))!;
  got.fill(1);
  assert.equal(text(await m.read('/state/sub/deeper/state.json')), '');
});

test('NodeStateFiles: directories made as needed; missing is undefined; the content is replaced; no temp files left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tk-state-files-'));
  try {
    await roundTrip(new NodeStateFiles(), dir);
    assert.deepEqual(await readdir(join(dir, 'sub', 'deeper')), ['state.json']);
    // Other read failures are errors, not "missing".
    await assert.rejects(new NodeStateFiles().read(join(dir, 'sub')), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('NodeStateFiles: a failed write leaves the old content and no temp file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tk-state-files-'));
  const f = join(dir, 'dht.json');
  try {
    await writeFile(f, 'old');
    // The rename over the target fails (a full disk, a crash between the steps): the old file stays whole.
    const failing = new NodeStateFiles({
      rename: () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })),
    });
    await assert.rejects(failing.writeAtomic(f, bytes('new content')), /no space left/);
    assert.equal(await readFile(f, 'utf8'), 'old');
    assert.deepEqual(await readdir(dir), ['dht.json']);
    // The temp file cannot be made (its directory is a file): nothing changes either.
    await assert.rejects(new NodeStateFiles().writeAtomic(join(f, 'inner.json'), bytes('x')));
    assert.equal(await readFile(f, 'utf8'), 'old');
    // And a good write replaces it.
    await new NodeStateFiles().writeAtomic(f, bytes('new'));
    assert.equal(await readFile(f, 'utf8'), 'new');
    assert.deepEqual(await readdir(dir), ['dht.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
