/**
 * node:http implementation of the NatHttp seam: one request, whole-request deadline (Clock-driven), body
 * cap enforced while streaming, aborts; no redirects (an IGD has no reason to redirect).
 */
import * as http from 'node:http';
import type { Clock } from '../core/index.js';
import { BtError } from '../core/index.js';
import type { NatHttp, NatHttpResponse } from './types.js';

export function nodeNatHttp(clock: Clock): NatHttp {
  return (req) =>
    new Promise<NatHttpResponse>((resolve, reject) => {
      let settled = false;
      let r: http.ClientRequest | undefined = undefined;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        req.signal?.removeEventListener('abort', onAbort);
        r?.destroy();
        reject(e);
      };
      const onAbort = (): void => fail(new BtError('ERR_ABORTED', 'UPnP request aborted', { op: 'message', cause: req.signal?.reason }));
      const timer = clock.setTimeout(() => fail(new BtError('ERR_TIMEOUT', `no answer from ${req.url} within ${req.timeoutMs} ms`, { op: 'message' })), req.timeoutMs);
      if (req.signal?.aborted) return onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      let url: URL;
      try {
        url = new URL(req.url);
        if (url.protocol !== 'http:') throw new Error(`not an http: URL: ${req.url}`);
      } catch (e) {
        return fail(new BtError('ERR_CONNECT', (e as Error).message, { op: 'connect', cause: e }));
      }
      const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
      const headers: Record<string, string> = { connection: 'close', 'user-agent': 'Node/20 UPnP/1.1 torrentkit/0.1', ...req.headers };
      if (body) headers['content-length'] = String(body.length);
      r = http.request(url, { method: req.method, agent: false, headers });
      r.on('error', (e) => fail(new BtError('ERR_CONNECT', `${req.url}: ${e.message}`, { op: 'connect', cause: e })));
      r.on('response', (res) => {
        const localAddress = res.socket?.localAddress ?? r?.socket?.localAddress ?? '';
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > req.maxBytes) {
          res.destroy();
          return fail(new BtError('ERR_LIMIT', `${req.url}: reply of ${declared} bytes is over the ${req.maxBytes}-byte limit`, { op: 'read' }));
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          total += c.length;
          if (total > req.maxBytes) {
            res.destroy();
            return fail(new BtError('ERR_LIMIT', `${req.url}: reply is over the ${req.maxBytes}-byte limit`, { op: 'read' }));
          }
          chunks.push(c);
        });
        res.on('error', (e) => fail(new BtError('ERR_CONNECT', `${req.url}: ${e.message}`, { op: 'read', cause: e })));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          timer.cancel();
          req.signal?.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), localAddress });
        });
        res.on('close', () => {
          if (!res.complete) fail(new BtError('ERR_CONNECT', `${req.url}: connection closed mid-reply`, { op: 'read' }));
        });
      });
      r.end(body);
    });
}
