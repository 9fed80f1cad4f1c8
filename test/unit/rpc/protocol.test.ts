/** The two wire formats and hostile input: parse errors, non-objects, notifications, batches, ids, tags, 10 MB garbage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRpcHandler } from '../../../src/rpc/index.js';
import type { RpcHandler, RpcReply } from '../../../src/rpc/index.js';
import { makeTestSession } from '../../helpers/rpc-session.js';
import type { TestSession } from '../../helpers/rpc-session.js';

async function withRig(fn: (s: TestSession, h: RpcHandler) => Promise<void>): Promise<void> {
  const s = makeTestSession();
  const h = createRpcHandler(s, { clock: s.clock });
  try {
    await fn(s, h);
  } finally {
    await s.dispose();
  }
}

const send = (h: RpcHandler, body: string | Uint8Array): Promise<RpcReply> => h.handle(typeof body === 'string' ? new TextEncoder().encode(body) : body);
const json = (r: RpcReply): Record<string, unknown> => JSON.parse(r.body) as Record<string, unknown>;

test('malformed JSON: 400 with a legacy error, or a JSON-RPC parse error (-32700) when it looks like JSON-RPC', async () => {
  await withRig(async (_s, h) => {
    let r = await send(h, '{"method": "session-get", ');
    assert.equal(r.status, 400);
    assert.match(String(json(r).result), /malformed JSON/);
    r = await send(h, '{"jsonrpc": "2.0", "method": ');
    assert.equal(r.status, 400);
    assert.deepEqual((json(r).error as { code: number }).code, -32700);
    assert.equal(json(r).id, null);
    r = await send(h, '');
    assert.equal(r.status, 400);
  });
});

test('not an object (number, string, null) → 400 with a clear message', async () => {
  await withRig(async (_s, h) => {
    for (const b of ['42', '"torrent-get"', 'null', 'true']) {
      const r = await send(h, b);
      assert.equal(r.status, 400, b);
      assert.match(String(json(r).result), /JSON object/);
    }
  });
});

test('legacy: tag echoed (numbers and short strings), missing method → "no method name", no arguments is fine', async () => {
  await withRig(async (_s, h) => {
    let r = json(await send(h, JSON.stringify({ method: 'session-stats', tag: 12345 })));
    assert.equal(r.result, 'success');
    assert.equal(r.tag, 12345);
    r = json(await send(h, JSON.stringify({ tag: 'x' })));
    assert.equal(r.result, 'no method name');
    assert.equal(r.tag, 'x');
    r = json(await send(h, JSON.stringify({ method: 5 })));
    assert.match(String(r.result), /method name/);
    r = json(await send(h, JSON.stringify({ method: 'session-get', arguments: { fields: 'version' } })));
    assert.match(String(r.result), /fields/);
  });
});

test('JSON-RPC: notifications run and answer 204; bad version and id types are Invalid Request; snake or kebab method names', async () => {
  await withRig(async (s, h) => {
    let r = await send(h, JSON.stringify({ jsonrpc: '2.0', method: 'session_set', params: { speed_limit_up: 77 } }));
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(s.settings.speedLimitUp, 77, 'a notification still runs');
    r = await send(h, JSON.stringify({ jsonrpc: '2.0', method: 'no_such', params: {} }));
    assert.equal(r.status, 204, 'even a failing notification gets no answer');
    let j = json(await send(h, JSON.stringify({ jsonrpc: '1.0', method: 'session_get', id: 1 })));
    assert.equal((j.error as { code: number }).code, -32600);
    j = json(await send(h, JSON.stringify({ jsonrpc: '2.0', method: 'session_get', id: { x: 1 } })));
    assert.equal((j.error as { code: number }).code, -32600);
    assert.equal(j.id, null);
    j = json(await send(h, JSON.stringify({ jsonrpc: '2.0', method: 'session-get', params: { fields: ['rpc-version'] }, id: 'abc' })));
    assert.deepEqual(j, { jsonrpc: '2.0', result: { rpc_version: 17 }, id: 'abc' });
    j = json(await send(h, JSON.stringify({ jsonrpc: '2.0', id: 3 })));
    assert.equal((j.error as { code: number }).code, -32600);
    j = json(await send(h, JSON.stringify({ jsonrpc: '2.0', method: 'torrent_get', params: { fields: ['id'], ids: 'x'.repeat(500) }, id: 4 })));
    assert.deepEqual(j.error, { code: -32602, message: 'Invalid params', data: { error_string: "argument 'ids' holds a string that is not a hash" } });
  });
});

test('JSON-RPC batches: answers in order without the notifications; empty and all-notification batches', async () => {
  await withRig(async (_s, h) => {
    const r = await send(
      h,
      JSON.stringify([
        { jsonrpc: '2.0', method: 'session_get', params: { fields: ['rpc_version'] }, id: 1 },
        { jsonrpc: '2.0', method: 'session_stats' },
        { method: 'session-get', arguments: {} },
        5,
        { jsonrpc: '2.0', method: 'nope', id: 2 },
      ]),
    );
    assert.equal(r.status, 200);
    const a = JSON.parse(r.body) as Array<Record<string, unknown>>;
    assert.equal(a.length, 4);
    assert.deepEqual(a[0], { jsonrpc: '2.0', result: { rpc_version: 17 }, id: 1 });
    assert.equal((a[1]!.error as { code: number }).code, -32600, 'a legacy request inside a batch');
    assert.equal((a[2]!.error as { code: number }).code, -32600);
    assert.equal((a[3]!.error as { code: number }).code, -32601);
    const e = json(await send(h, '[]'));
    assert.equal((e.error as { code: number }).code, -32600);
    const n = await send(h, JSON.stringify([{ jsonrpc: '2.0', method: 'session_stats' }]));
    assert.equal(n.status, 204);
  });
});

test('hostile input: 10 MB of garbage, deep nesting, huge numbers, huge field lists, invalid UTF-8 — answers, never throws', async () => {
  await withRig(async (_s, h) => {
    const garbage = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
    const t0 = performance.now();
    let r = await h.handle(garbage);
    assert.equal(r.status, 400);
    assert.ok(performance.now() - t0 < 2000);
    r = await send(h, '['.repeat(200_000) + ']'.repeat(200_000));
    assert.ok(r.status === 400 || r.status === 200);
    r = await send(h, '{"method":"torrent-get","arguments":{"fields":["id"],"ids":[1e400]}}');
    assert.match(String(json(r).result), /ids/);
    r = await send(h, JSON.stringify({ method: 'session-set', arguments: { 'peer-port': 1e308 } }));
    assert.match(String(json(r).result), /peer_port/);
    r = await send(h, JSON.stringify({ method: 'torrent-get', arguments: { fields: Array.from({ length: 5000 }, (_, i) => `f${i}`) } }));
    assert.match(String(json(r).result), /fields/);
    r = await h.handle(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    assert.equal(r.status, 400);
    r = await send(h, JSON.stringify({ method: 'torrent-add', arguments: { metainfo: 'A'.repeat(4 * 1024 * 1024) } }));
    assert.match(String(json(r).result), /corrupt/);
    r = await send(h, JSON.stringify({ method: '__proto__', arguments: {} }));
    assert.equal(json(r).result, 'method name not recognized');
    r = await send(h, JSON.stringify({ method: 'torrent-get', arguments: { __proto__: { fields: ['id'] } } }));
    assert.match(String(json(r).result), /no fields/);
  });
});
