/**
 * The RPC server (node:http adapter): Transmission's HTTP interface over an RpcHandler.
 *
 *   POST /transmission/rpc   CSRF handshake (409 + X-Transmission-Session-Id), body (bounded) -> handler
 *   GET  /transmission/web/  the web UI's static files from webUiDir (read-only, no way out of the directory)
 *   /, /transmission, /transmission/web   301 -> /transmission/web/
 *
 * Every request first passes the client IP whitelist (403), the Host check against DNS rebinding (421; skipped
 * when a password is required, as Transmission does) and basic auth when set (401, with a growing delay per
 * client address and 429 after repeated failures). Slow clients are cut off by the headers and request timeouts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sep } from 'node:path';
import { BtError, NodeClock, NodeRandom } from '../core/index.js';
import type { Timer } from '../core/index.js';
import { verifyPassword } from './password.js';
import { LoginBackoff, defaultIpWhitelist, hostAllowed, ipAllowed, isLoopbackAddress, newSessionId, parseBasicAuth } from './security.js';
import { AUTH_BODY, CSRF_BODY, HOST_BODY, IP_BODY, NO_WEB_UI_BODY, contentTypeFor, safeSegments } from './static-files.js';
import type { RpcServer, RpcServerOptions } from './types.js';

const RPC_PATH = '/transmission/rpc';
const WEB_PREFIX = '/transmission/web/';
const REDIRECTS = new Set(['/', '/transmission', '/transmission/', '/transmission/web']);
const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
const HTML = 'text/html; charset=utf-8';

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, contentType = HTML): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(bytes.length), 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

async function realDir(dir: string | undefined, warn: (m: string) => void): Promise<string | undefined> {
  if (dir === undefined) return undefined;
  try {
    const real = await fsp.realpath(dir);
    if (!(await fsp.stat(real)).isDirectory()) throw new Error('not a directory');
    return real;
  } catch (e) {
    warn(`web UI directory ${dir} is not usable (${(e as Error).message}); /transmission/web/ will answer 404`);
    return undefined;
  }
}

export async function startRpcServer(opts: RpcServerOptions): Promise<RpcServer> {
  const host = opts.host ?? '127.0.0.1';
  const warn = opts.onWarning ?? (() => {});
  if (!isLoopbackAddress(host) && !opts.auth) {
    throw new BtError(
      'ERR_SETTINGS',
      `refusing to serve RPC on ${host} without a password: set a username and password (--rpc-username/--rpc-password), or bind 127.0.0.1`,
      { op: 'listen' },
    );
  }
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const clock = opts.clock ?? new NodeClock();
  const sessionId = newSessionId(opts.random ?? new NodeRandom());
  const ipWhitelist = opts.ipWhitelist ?? defaultIpWhitelist(host);
  const hostWhitelist = opts.hostWhitelist ?? [];
  const backoff = new LoginBackoff(clock, opts.loginBackoff);
  const webRoot = await realDir(opts.webUiDir, warn);
  const routes = opts.routes ?? [];
  const pending = new Set<Timer>();
  // Authorization headers already verified (sha256 of the header): scrypt is slow by design, and clients send
  // the header with every request. Bounded.
  const verified = new Set<string>();

  async function authorized(req: IncomingMessage, res: ServerResponse, client: string): Promise<boolean> {
    const auth = opts.auth;
    if (!auth) return true;
    const header = req.headers.authorization;
    const challenge = { 'WWW-Authenticate': 'Basic realm="Transmission"' };
    const locked = backoff.lockedFor(client);
    if (locked > 0) {
      send(res, 429, `<h1>429: Too Many Requests</h1><p>Too many failed logins; try again in ${Math.ceil(locked / 1000)} s.</p>`, {
        'Retry-After': String(Math.ceil(locked / 1000)),
      });
      return false;
    }
    const digest = header ? createHash('sha256').update(header).digest('hex') : '';
    if (header && verified.has(digest)) return true;
    const creds = parseBasicAuth(header);
    // Both compared every time (no early exit on the username).
    const passOk = creds ? await verifyPassword(creds.password, auth.passwordHash) : false;
    if (creds && passOk && creds.username === auth.username) {
      backoff.succeed(client);
      if (verified.size >= 16) verified.clear();
      verified.add(digest);
      return true;
    }
    if (!header) {
      // No credentials at all: the browser's first request before it asks the user. Not a failed login.
      send(res, 401, AUTH_BODY, challenge);
      return false;
    }
    const delay = backoff.fail(client);
    await new Promise<void>((resolve) => {
      const t = clock.setTimeout(() => {
        pending.delete(t);
        resolve();
      }, delay);
      pending.add(t);
    });
    send(res, 401, AUTH_BODY, challenge);
    return false;
  }

  /** The body, or undefined when it was refused (413 already sent). */
  function readBody(req: IncomingMessage, res: ServerResponse): Promise<Uint8Array | undefined> {
    const tooLarge = (): void =>
      send(res, 413, `<h1>413: Payload Too Large</h1><p>The request body is larger than the limit of ${maxBody} bytes.</p>`, { Connection: 'close' });
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBody) {
      tooLarge();
      req.resume();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (chunk: Buffer) => {
        if (refused) return;
        size += chunk.length;
        if (size > maxBody) {
          refused = true;
          chunks.length = 0;
          tooLarge();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (!refused) resolve(new Uint8Array(Buffer.concat(chunks, size)));
      });
      req.on('error', () => {
        if (!refused) resolve(undefined);
        refused = true;
      });
      req.on('close', () => {
        if (!refused && !req.complete) {
          refused = true;
          resolve(undefined);
        }
      });
    });
  }

  async function handleRpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const idHeader = { 'X-Transmission-Session-Id': sessionId };
    if (req.headers['x-transmission-session-id'] !== sessionId) {
      send(res, 409, CSRF_BODY(sessionId), idHeader);
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, '<h1>405: Method Not Allowed</h1><p>RPC requests are POSTed to /transmission/rpc.</p>', { ...idHeader, Allow: 'POST' });
      req.resume();
      return;
    }
    const body = await readBody(req, res);
    if (body === undefined) return;
    let reply;
    try {
      reply = await opts.handler.handle(body);
    } catch (e) {
      warn(`RPC handler failed: ${(e as Error).message}`);
      send(res, 500, '<h1>500: Internal Server Error</h1>', idHeader);
      return;
    }
    if (res.destroyed) return;
    if (reply.status === 204) {
      res.writeHead(204, idHeader);
      res.end();
      return;
    }
    send(res, reply.status, reply.body, idHeader, reply.contentType);
  }

  async function serveWeb(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, '<h1>405: Method Not Allowed</h1>', { Allow: 'GET, HEAD' });
      req.resume();
      return;
    }
    if (!webRoot) {
      send(res, 404, NO_WEB_UI_BODY);
      return;
    }
    const notFound = (): void => send(res, 404, '<h1>404: Not Found</h1>');
    const segs = safeSegments(rest);
    if (!segs) return notFound();
    const inside = (p: string): boolean => p === webRoot || p.startsWith(webRoot.endsWith(sep) ? webRoot : webRoot + sep);
    let file: string;
    try {
      file = await fsp.realpath([webRoot, ...segs].join(sep));
      if (!inside(file)) {
        send(res, 403, '<h1>403: Forbidden</h1><p>That path leads out of the web UI directory.</p>');
        return;
      }
      let st = await fsp.stat(file);
      if (st.isDirectory()) {
        file = await fsp.realpath(file + sep + 'index.html');
        if (!inside(file)) {
          send(res, 403, '<h1>403: Forbidden</h1>');
          return;
        }
        st = await fsp.stat(file);
      }
      if (!st.isFile()) return notFound();
      const headers = {
        'Content-Type': contentTypeFor(file),
        'Content-Length': String(st.size),
        'Last-Modified': st.mtime.toUTCString(),
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      };
      if (req.method === 'HEAD') {
        res.writeHead(200, headers);
        res.end();
        return;
      }
      const stream = createReadStream(file);
      await new Promise<void>((resolve) => {
        stream.once('open', () => {
          res.writeHead(200, headers);
          stream.pipe(res);
        });
        stream.once('error', () => {
          if (!res.headersSent) notFound();
          else res.destroy();
          resolve();
        });
        stream.once('close', resolve);
        res.once('close', () => stream.destroy());
      });
    } catch {
      notFound();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const client = req.socket.remoteAddress ?? '';
    if (!ipAllowed(client, ipWhitelist)) {
      send(res, 403, IP_BODY);
      req.resume();
      return;
    }
    if (!opts.auth && !hostAllowed(req.headers.host, host, hostWhitelist)) {
      send(res, 421, HOST_BODY);
      req.resume();
      return;
    }
    if (!(await authorized(req, res, client))) {
      req.resume();
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    if (req.method === 'GET' || req.method === 'HEAD') {
      for (const route of routes) if (await route(req, res)) return;
    }
    // transmission-remote (3.x) posts to /transmission/rpc/ with the slash.
    if (path === RPC_PATH || path === `${RPC_PATH}/`) return handleRpc(req, res);
    if (path.startsWith(WEB_PREFIX)) return serveWeb(req, res, path.slice(WEB_PREFIX.length));
    if (REDIRECTS.has(path)) {
      send(res, 301, '<h1>301: Moved Permanently</h1>', { Location: WEB_PREFIX });
      req.resume();
      return;
    }
    send(res, 404, '<h1>404: Not Found</h1>');
    req.resume();
  }

  const headersTimeout = opts.headersTimeoutMs ?? 20_000;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: Math.max(headersTimeout, opts.requestTimeoutMs ?? 120_000),
      keepAliveTimeout: 5_000,
      // How often node looks for requests past those timeouts (its default, 30 s, would let them live that long).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        warn(`RPC server: ${(e as Error).message}`);
        if (!res.headersSent) send(res, 500, '<h1>500: Internal Server Error</h1>');
        else res.destroy();
      });
    },
  );
  server.maxConnections = opts.maxConnections ?? 128;
  server.maxHeadersCount = 100;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void =>
      reject(new BtError('ERR_LISTEN', `cannot listen on ${host}:${opts.port ?? 9091} for RPC: ${e.code ?? e.message}`, { op: 'listen', cause: e }));
    server.once('error', onError);
    server.listen(opts.port ?? 9091, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => warn(`RPC server: ${e.message}`));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 9091);
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    sessionId,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        for (const t of pending) t.cancel();
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
