/** The DHT routing table is saved on dispose and loaded on the next start (settings.dhtStateFile). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientEngine } from '../../../src/index.js';
import { MemoryStateFiles } from '../../../src/storage/index.js';

const base = { listenEndpoints: ['127.0.0.1:0'], lsdEnabled: false, portForwarding: false };

test('DHT routing table survives a restart', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tk-dht-state-'));
  const file = join(dir, 'state', 'dht.json');
  const b = new ClientEngine({ ...base, dhtBootstrap: [] });
  try {
    await b.start();
    for (let i = 0; i < 100 && !b.dht; i++) await sleep(20);
    const a = new ClientEngine({ ...base, dhtBootstrap: [`127.0.0.1:${b.udpPort}`], dhtStateFile: file });
    await a.start();
    for (let i = 0; i < 200 && (a.dht?.stats().nodes ?? 0) < 1; i++) await sleep(25);
    assert.ok((a.dht?.stats().nodes ?? 0) >= 1, `A learned B: ${JSON.stringify(a.dht?.stats())}`);
    await a.dispose();
    const saved = JSON.parse(await readFile(file, 'utf8')) as { id: string; nodes: { port: number }[] };
    assert.ok(saved.nodes.some((n) => n.port === b.udpPort), `B is in the saved table: ${JSON.stringify(saved)}`);
    // A restart with no bootstrap at all finds B from the saved table, with the same node id.
    const c = new ClientEngine({ ...base, dhtBootstrap: [], dhtStateFile: file });
    try {
      await c.start();
      for (let i = 0; i < 200 && (c.dht?.stats().nodes ?? 0) < 1; i++) await sleep(25);
      assert.ok((c.dht?.stats().nodes ?? 0) >= 1, `C knows B from the file: ${JSON.stringify(c.dht?.stats())}`);
      assert.equal(c.dht?.saveState().id, saved.id);
    } finally {
      await c.dispose();
    }
  } finally {
    await b.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('DHT state goes through deps.stateFiles: saved on dispose, loaded on the next start', async () => {
  const files = new MemoryStateFiles();
  const settings = { listenEndpoints: ['127.0.0.1:0'], lsdEnabled: false, portForwarding: false, dhtBootstrap: [], dhtStateFile: '/state/dht.json' };
  const a = new ClientEngine(settings, { stateFiles: files });
  await a.start();
  for (let i = 0; i < 100 && !a.dht; i++) await new Promise((r) => setTimeout(r, 10));
  const id = a.dht?.saveState().id;
  await a.dispose();
  const saved = JSON.parse(new TextDecoder().decode((await files.read('/state/dht.json'))!)) as { id: string };
  assert.equal(saved.id, id);
  const b = new ClientEngine(settings, { stateFiles: files });
  try {
    await b.start();
    // The node exists a moment before its state is loaded.
    for (let i = 0; i < 100 && b.dht?.saveState().id !== id; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(b.dht?.saveState().id, id);
  } finally {
    await b.dispose();
  }
});
