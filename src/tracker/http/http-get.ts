/**
 * HTTP(S) tracker transport: one GET with a whole-request deadline, a body size cap enforced while the body
 * streams, bounded redirects and aborts. `HttpGet` is the seam HttpTracker uses; `nodeHttpGet` is the thin
 * node:http / node:https adapter (no connection reuse: one announce every few minutes gains nothing from it).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Clock, Timer } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import { utf8Lossy } from '../../bencode/index.js';

export interface HttpGetOptions {
  clock: Clock;
  /** Deadline for the whole request: connect, redirects, headers and body (default 30 s). */
  timeoutMs?: number;
  /** Largest body accepted (default 1 MiB); a larger one fails with ERR_LIMIT as soon as it is seen. */
  maxBytes?: number;
  /** Redirects followed before failing with ERR_TRACKER (default 5). */
  maxRedirects?: number;
  signal?: AbortSignal;
  userAgent?: string;
  /** The agent for a request (a SOCKS5 proxy's); default none (a fresh connection each time). */
  agentFor?: (secure: boolean) => http.Agent;
}

export interface HttpGetResult {
  status: number;
  body: Uint8Array;
}

export type HttpGet = (url: string, opts: HttpGetOptions) => Promise<HttpGetResult>;

export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
export const DEFAULT_HTTP_MAX_BYTES = 1024 * 1024;
export const DEFAULT_HTTP_MAX_REDIRECTS = 5;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** How much of an error page is read for the message before the connection is dropped. */
const ERROR_SNIPPET_BYTES = 512;

/** A short single-line excerpt of a body when it is text; '' when it looks binary. */
export function textSnippet(body: Uint8Array, max = 120): string {
  const s = utf8Lossy(body.subarray(0, max * 4));
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(s)) return '';
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** GET `url` with node:http / node:https. Non-2xx statuses reject with ERR_TRACKER; see HttpGetOptions. */
export const nodeHttpGet: HttpGet = (url, opts) => {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_HTTP_MAX_BYTES;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_HTTP_MAX_REDIRECTS;
  const { signal, clock } = opts;

  return new Promise<HttpGetResult>((resolve, reject) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    let timer: Timer | undefined = undefined;
    let redirects = 0;

    const cleanup = (): void => {
      settled = true;
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (e: BtError): void => {
      if (settled) return;
      cleanup();
      req?.destroy();
      reject(e);
    };
    const onAbort = (): void => fail(new BtError('ERR_ABORTED', 'tracker request aborted', { op: 'message', cause: signal?.reason }));

    const get = (target: URL): void => {
      const mod = target.protocol === 'https:' ? https : http;
      let r: http.ClientRequest;
      try {
        r = mod.request(target, {
          method: 'GET',
          agent: opts.agentFor ? opts.agentFor(target.protocol === 'https:') : false,
          headers: {
            'user-agent': opts.userAgent ?? 'torrentkit',
            'accept-encoding': 'identity',
            connection: 'close',
          },
        });
      } catch (e) {
        fail(new BtError('ERR_CONNECT', `cannot request ${target.origin}: ${(e as Error).message}`, { op: 'connect', cause: e }));
        return;
      }
      req = r;
      // An 'error' after we gave up or moved on (we destroyed the request) is ignored; the listener stays for good.
      r.on('error', (e) => req === r && fail(new BtError('ERR_CONNECT', `tracker connection failed: ${e.message}`, { op: 'connect', cause: e })));
      r.on('response', (res) => {
        res.on('error', (e) => req === r && fail(new BtError('ERR_CONNECT', `tracker connection broke while reading: ${e.message}`, { op: 'read', cause: e })));
        if (settled || req !== r) {
          res.destroy();
          return;
        }
        const status = res.statusCode ?? 0;
        if (REDIRECTS.has(status)) {
          res.destroy();
          r.destroy();
          const loc = res.headers.location;
          if (!loc) return fail(new BtError('ERR_TRACKER', `tracker redirected (HTTP ${status}) without a Location`, { op: 'message' }));
          if (++redirects > maxRedirects) return fail(new BtError('ERR_TRACKER', `too many redirects (more than ${maxRedirects})`, { op: 'message' }));
          let next: URL;
          try {
            next = new URL(loc, target);
          } catch (e) {
            return fail(new BtError('ERR_TRACKER', `tracker redirected to a bad URL ${JSON.stringify(loc.slice(0, 200))}`, { op: 'message', cause: e }));
          }
          if (next.protocol !== 'http:' && next.protocol !== 'https:') {
            return fail(new BtError('ERR_TRACKER', `tracker redirected to a ${next.protocol} URL; only http: and https: are followed`, { op: 'message' }));
          }
          return get(next);
        }
        const ok = status >= 200 && status < 300;
        const failStatus = (body: Uint8Array): void => {
          const snippet = textSnippet(body);
          const reason = res.statusMessage ? ` ${res.statusMessage}` : '';
          fail(new BtError('ERR_TRACKER', `tracker answered HTTP ${status}${reason}${snippet ? `: ${snippet}` : ''}`, { op: 'message' }));
        };
        const declared = Number(res.headers['content-length']);
        if (ok && Number.isFinite(declared) && declared > maxBytes) {
          return fail(new BtError('ERR_LIMIT', `tracker reply of ${declared} bytes is over the ${maxBytes}-byte limit`, { op: 'read' }));
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          chunks.push(chunk);
          total += chunk.length;
          if (!ok && total >= ERROR_SNIPPET_BYTES) return failStatus(Buffer.concat(chunks));
          if (total > maxBytes) fail(new BtError('ERR_LIMIT', `tracker reply is over the ${maxBytes}-byte limit`, { op: 'read' }));
        });
        res.on('end', () => {
          if (settled) return;
          const body = new Uint8Array(Buffer.concat(chunks));
          if (!ok) return failStatus(body);
          cleanup();
          resolve({ status, body });
        });
        // A connection closed before 'end' (a reset mid-body) without an 'error' event.
        res.on('close', () => {
          if (!settled && req === r && !res.complete) fail(new BtError('ERR_CONNECT', 'tracker closed the connection mid-reply', { op: 'read' }));
        });
      });
      r.end();
    };

    let first: URL;
    try {
      first = new URL(url);
    } catch (e) {
      return reject(new BtError('ERR_TRACKER', `bad tracker URL ${JSON.stringify(url.slice(0, 200))}`, { op: 'validate', field: 'url', cause: e }));
    }
    if (first.protocol !== 'http:' && first.protocol !== 'https:') {
      return reject(new BtError('ERR_TRACKER', `not an http: or https: URL: ${first.protocol}`, { op: 'validate', field: 'url' }));
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = clock.setTimeout(
      () => fail(new BtError('ERR_TIMEOUT', `tracker did not answer within ${timeoutMs} ms`, { op: 'message' })),
      timeoutMs,
    );
    get(first);
  });
};
