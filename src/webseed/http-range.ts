/**
 * HTTP(S) byte-range GET for web seeds (BEP 19): `Range: bytes=a-b`, keep-alive connections per origin, redirects
 * followed (5 at most), a deadline for the whole request, and a body that must be exactly the bytes asked for
 * (a server that ignores Range is accepted only when the range starts at 0: the first bytes are read and the rest
 * dropped). Everything else is a BtError with the reason.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Clock, Timer } from '../core/index.js';
import { BtError } from '../core/index.js';

export interface RangeFetchOptions {
  /** Deadline for the whole request (ms). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What a torrent needs to fetch web seed data: `length` bytes of `url` from byte `start`. */
export type RangeFetch = (url: string, start: number, length: number, opts: RangeFetchOptions) => Promise<Uint8Array>;

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface NodeRangeFetcher {
  fetch: RangeFetch;
  /** Close the idle keep-alive connections. */
  close(): void;
}

/** `agents`: replace the default keep-alive agents (a SOCKS5 proxy's, say). */
export function createNodeRangeFetcher(clock: Clock, userAgent = 'torrentkit', agents?: { http: http.Agent; https: http.Agent }): NodeRangeFetcher {
  agents ??= {
    http: new http.Agent({ keepAlive: true, maxSockets: 4 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 4 }),
  };
  const a = agents;
  const fetch: RangeFetch = (url, start, length, opts) =>
    new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      const deadline: { timer?: Timer } = {};
      const finish = (err: BtError | undefined, body?: Uint8Array): void => {
        if (settled) return;
        settled = true;
        deadline.timer?.cancel();
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) {
          req?.destroy();
          reject(err);
        } else resolve(body!);
      };
      const onAbort = (): void => finish(new BtError('ERR_ABORTED', 'web seed request aborted', { op: 'read' }));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      deadline.timer = clock.setTimeout(() => finish(new BtError('ERR_TIMEOUT', `web seed request timed out after ${opts.timeoutMs} ms`, { op: 'read' })), opts.timeoutMs);

      const get = (target: URL, redirects: number): void => {
        const tls = target.protocol === 'https:';
        if (!tls && target.protocol !== 'http:') return finish(new BtError('ERR_CONNECT', `unsupported web seed URL ${target.protocol}`, { op: 'connect' }));
        let r: http.ClientRequest;
        try {
          r = (tls ? https : http).request(target, {
            method: 'GET',
            agent: tls ? a.https : a.http,
            headers: { 'user-agent': userAgent, 'accept-encoding': 'identity', range: `bytes=${start}-${start + length - 1}` },
          });
        } catch (e) {
          return finish(new BtError('ERR_CONNECT', `cannot request ${target.origin}: ${(e as Error).message}`, { op: 'connect', cause: e }));
        }
        req = r;
        r.on('error', (e) => req === r && finish(new BtError('ERR_CONNECT', `web seed connection failed: ${e.message}`, { op: 'connect', cause: e })));
        r.on('response', (res) => {
          res.on('error', (e) => req === r && finish(new BtError('ERR_CONNECT', `web seed connection broke: ${e.message}`, { op: 'read', cause: e })));
          if (settled || req !== r) return void res.destroy();
          const status = res.statusCode ?? 0;
          if (REDIRECTS.has(status) && res.headers.location) {
            res.resume();
            if (redirects >= MAX_REDIRECTS) return finish(new BtError('ERR_CONNECT', `web seed: more than ${MAX_REDIRECTS} redirects`, { op: 'connect' }));
            let next: URL;
            try {
              next = new URL(res.headers.location, target);
            } catch {
              return finish(new BtError('ERR_CONNECT', `web seed: bad redirect ${res.headers.location}`, { op: 'connect' }));
            }
            return get(next, redirects + 1);
          }
          if (status === 206) {
            const cr = /^bytes (\d+)-(\d+)\//.exec(String(res.headers['content-range'] ?? ''));
            if (cr && (Number(cr[1]) !== start || Number(cr[2]) !== start + length - 1)) {
              res.destroy();
              return finish(new BtError('ERR_PROTOCOL', `web seed answered range ${cr[1]}-${cr[2]}, not ${start}-${start + length - 1}`, { op: 'read' }));
            }
          } else if (status !== 200 || start !== 0) {
            res.destroy();
            const why = status === 200 ? 'ignores Range requests' : `answered HTTP ${status}${status === 404 ? ' (not found)' : status === 416 ? ' (file shorter than the torrent says)' : ''}`;
            return finish(new BtError('ERR_PROTOCOL', `web seed ${why}`, { op: 'read' }));
          }
          // 206 with the range asked for, or a 200 whose first `length` bytes are the range.
          const body = new Uint8Array(length);
          let got = 0;
          res.on('data', (chunk: Buffer) => {
            if (settled) return;
            if (got + chunk.length > length) {
              if (status === 200) {
                body.set(chunk.subarray(0, length - got), got);
                got = length;
                res.destroy();
                return finish(undefined, body);
              }
              return finish(new BtError('ERR_PROTOCOL', `web seed sent more than the ${length} bytes asked for`, { op: 'read' }));
            }
            body.set(chunk, got);
            got += chunk.length;
          });
          res.on('end', () => {
            if (got !== length) finish(new BtError('ERR_PROTOCOL', `web seed sent ${got} of ${length} bytes`, { op: 'read' }));
            else finish(undefined, body);
          });
        });
        r.end();
      };
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return finish(new BtError('ERR_CONNECT', `bad web seed URL ${url}`, { op: 'connect' }));
      }
      get(target, 0);
    });
  return {
    fetch,
    close: () => {
      a.http.destroy();
      a.https.destroy();
    },
  };
}
