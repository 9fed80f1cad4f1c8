/** A tiny client for the handler tests: one call in either format, answers read back under legacy names. */
import assert from 'node:assert/strict';
import type { RpcHandler } from '../../../src/rpc/index.js';
import { toSnake } from '../../../src/rpc/names.js';

export type Format = 'legacy' | 'jsonrpc';
export const FORMATS: Format[] = ['legacy', 'jsonrpc'];

export interface Answer {
  status: number;
  ok: boolean;
  /** Legacy `arguments` / JSON-RPC `result` (on success), or the error's `arguments` / data.result. */
  args: Record<string, unknown>;
  /** Legacy `result` string on failure; JSON-RPC error.data.error_string ?? error.message. */
  error?: string;
  code?: number;
  raw: Record<string, unknown>;
}

/** Request args are written with legacy names; JSON-RPC requests get them in snake_case. */
export async function call(h: RpcHandler, fmt: Format, method: string, args?: Record<string, unknown>): Promise<Answer> {
  let body: Record<string, unknown>;
  if (fmt === 'legacy') {
    body = { method, tag: 7 };
    if (args) body.arguments = args;
  } else {
    body = { jsonrpc: '2.0', method: method.replace(/-/g, '_'), id: 42 };
    if (args) body.params = Object.fromEntries(Object.entries(args).map(([k, v]) => [toSnake(k), v]));
  }
  const r = await h.handle(new TextEncoder().encode(JSON.stringify(body)));
  assert.equal(r.contentType.startsWith('application/json'), true);
  const raw = JSON.parse(r.body) as Record<string, unknown>;
  if (fmt === 'legacy') {
    assert.equal(raw.tag, 7, 'legacy answers echo the tag');
    const ok = raw.result === 'success';
    return { status: r.status, ok, args: raw.arguments as Record<string, unknown>, error: ok ? undefined : (raw.result as string), raw };
  }
  assert.equal(raw.jsonrpc, '2.0');
  assert.equal(raw.id, 42);
  if ('error' in raw) {
    const e = raw.error as { code: number; message: string; data?: { error_string?: string; result?: Record<string, unknown> } };
    return { status: r.status, ok: false, args: e.data?.result ?? {}, error: e.data?.error_string ?? e.message, code: e.code, raw };
  }
  return { status: r.status, ok: true, args: raw.result as Record<string, unknown>, raw };
}

/** `o[name]` where name is the legacy spelling (snake_case in JSON-RPC answers). */
export function pick(fmt: Format, o: unknown, name: string): unknown {
  const rec = o as Record<string, unknown>;
  return fmt === 'legacy' ? rec[name] : rec[toSnake(name)];
}
