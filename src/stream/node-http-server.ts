/**
 * The streaming HTTP server (issue 16): the files of an engine's torrents over HTTP with Range, while they download.
 *
 *   GET|HEAD <prefix>/                          index page: torrents and files, with links
 *   GET|HEAD <prefix>/<info-hash>.m3u           M3U playlist of the torrent's audio/video files (all files if none)
 *   GET|HEAD <prefix>/<info-hash>/<index>[/<name>]   file <index> (0-based); <name> is ignored (players like it)
 *
 * Range: one range (`bytes=N-M`, `bytes=N-`, suffix `bytes=-N`) answers 206 with `Content-Range: bytes N-M/total`;
 * an unsatisfiable one (or N-M with M < N) 416 with `Content-Range: bytes * /total`; a suffix longer than the
 * file is the whole file (206); a malformed header is ignored (200, whole file, as
 * RFC 9110 allows). Several ranges: overlapping or adjacent ones are merged and the FIRST is answered (206) — a
 * player asks for one at a time; multipart/byteranges is not produced. Every file answer has `Accept-Ranges:
 * bytes`, a Content-Type from the extension and Content-Disposition (RFC 5987 `filename*` for non-ASCII names).
 *
 * createStreamHandler gives the request handler alone (for the daemon's RpcServerOptions.routes: it returns false
 * for paths that are not its own); createStreamServer listens on its own port, loopback only by default.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import rangeParser from 'range-parser';
import { BtError } from '../core/index.js';
import type { TorrentManager } from '../torrent/index.js';
import { contentDisposition, contentType, filePath, html, isMedia } from './content.js';
import type { StreamManager } from './stream-manager.js';

/** Where the handler finds torrents (a ClientEngine fits). */
export interface TorrentSource {
  readonly torrentList: TorrentManager[];
  getTorrent(infoHash: string): TorrentManager | undefined;
}

export interface StreamHandlerOptions {
  /** URL path prefix, e.g. '/stream' inside the daemon (default '': the server's root). No trailing slash. */
  prefix?: string;
  /** Answer only loopback clients (403 otherwise). Default false for the handler (the daemon checks clients itself). */
  loopbackOnly?: boolean;
  /** Told of each file request (method, path, Range) and when its answer ends: for a verbose log. */
  log?: (line: string) => void;
}

export type StreamRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

const HASH = /^[0-9a-f]{40}$/;

function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || a.startsWith('127.');
}

function fileName(t: TorrentManager, i: number): string {
  const p = t.meta.info.files[i]!.path;
  return p[p.length - 1]!;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(buf.length), 'Cache-Control': 'no-store', ...extra });
  res.end(head ? undefined : buf);
}

/** Resolves when `t` has its metadata; rejects if the request closes first. */
function metadataOf(t: TorrentManager, req: IncomingMessage): Promise<void> {
  if (t.hasMetadata) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      t.off('metadata', done);
      req.off('close', gone);
      resolve();
    };
    const gone = (): void => {
      t.off('metadata', done);
      reject(new BtError('ERR_ABORTED', 'client went away', { op: 'read' }));
    };
    t.on('metadata', done);
    req.on('close', gone);
  });
}

/** The request handler: true when it answered (or is answering) the request, false to let others try. */
export function createStreamHandler(source: TorrentSource, streams: StreamManager, opts: StreamHandlerOptions = {}): StreamRoute {
  const prefix = opts.prefix ?? '';
  return async (req, res) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      return false;
    }
    if (prefix && path !== prefix && !path.startsWith(`${prefix}/`)) return false;
    const rest = path.slice(prefix.length);
    const parts = rest.split('/').filter((p) => p.length > 0);
    const isIndex = parts.length === 0;
    const m3u = parts.length === 1 && /^[0-9a-fA-F]{40}\.m3u$/.test(parts[0]!);
    const isFile = parts.length >= 2 && parts.length <= 3 && HASH.test(parts[0]!.toLowerCase()) && /^\d{1,9}$/.test(parts[1]!);
    if (!isIndex && !m3u && !isFile) return false;
    const head = req.method === 'HEAD';
    if (!head && req.method !== 'GET') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false, { Allow: 'GET, HEAD' });
      return true;
    }
    if (opts.loopbackOnly && !isLoopback(req.socket.remoteAddress)) {
      send(res, 403, 'text/plain; charset=utf-8', 'loopback clients only\n', head);
      return true;
    }
    const base = `http://${req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`}${prefix}`;
    if (isIndex) {
      send(res, 200, 'text/html; charset=utf-8', indexPage(source.torrentList, prefix), head);
      return true;
    }
    const hash = parts[0]!.slice(0, 40).toLowerCase();
    const t = source.getTorrent(hash);
    if (!t) {
      send(res, 404, 'text/plain; charset=utf-8', 'no such torrent\n', head);
      return true;
    }
    try {
      await metadataOf(t, req);
    } catch {
      return true;
    }
    if (m3u) {
      send(res, 200, 'audio/x-mpegurl; charset=utf-8', playlist(t, base), head, { 'Content-Disposition': contentDisposition(`${t.name}.m3u`) });
      return true;
    }
    const index = Number(parts[1]);
    const files = t.meta.info.files;
    if (index >= files.length || files[index]!.pad) {
      send(res, 404, 'text/plain; charset=utf-8', `no file ${index} (the torrent has ${files.length})\n`, head);
      return true;
    }
    const log = opts.log;
    if (log) {
      log(`http ${req.method} ${path} range=${req.headers.range ?? '-'} from ${req.socket.remotePort}`);
      res.on('close', () => log(`http ${req.method} ${path} range=${req.headers.range ?? '-'} ended (${res.statusCode}, ${res.writableFinished ? 'complete' : 'closed by the client'})`));
    }
    serveFile(req, res, t, index, streams, head);
    return true;
  };
}

/** RFC 9110 14.1.2: a suffix longer than the file means the whole file (range-parser calls it unsatisfiable). */
function clampSuffixes(header: string, size: number): string {
  if (size === 0) return header;
  return header.replace(/([=,]\s*)-(\d+)(?=\s*(,|$))/g, (m, pre: string, n: string) => (Number(n) > size ? `${pre}0-` : m));
}

function serveFile(req: IncomingMessage, res: ServerResponse, t: TorrentManager, index: number, streams: StreamManager, head: boolean): void {
  const size = t.meta.info.files[index]!.length;
  const name = fileName(t, index);
  const headers: Record<string, string> = {
    'Accept-Ranges': 'bytes',
    'Content-Type': contentType(name),
    'Content-Disposition': contentDisposition(name),
    'Cache-Control': 'no-store',
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = req.headers.range;
  if (range !== undefined) {
    const r = rangeParser(size, clampSuffixes(range, size), { combine: true });
    if (r === -1) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    if (r !== -2 && r.type === 'bytes' && r.length > 0) {
      start = r[0]!.start;
      end = r[0]!.end;
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
  }
  headers['Content-Length'] = String(end - start + 1);
  res.writeHead(status, headers);
  if (head || end < start) {
    res.end();
    return;
  }
  const s = streams.createReadStream(t, index, { start, end });
  const stop = (): void => void s.destroy();
  res.on('close', stop);
  s.on('error', () => res.destroy());
  s.pipe(res);
}

function indexPage(torrents: readonly TorrentManager[], prefix: string): string {
  const rows = torrents.map((t) => {
    const head = `<h2>${html(t.name)}</h2><p>${t.infoHashHex} · ${t.state} · <a href="${prefix}/${t.infoHashHex}.m3u">playlist (M3U)</a></p>`;
    if (!t.hasMetadata) return `${head}<p>waiting for metadata…</p>`;
    const items = t.meta.info.files
      .map((f, i) => ({ f, i }))
      .filter(({ f }) => !f.pad)
      .map(({ f, i }) => {
        const name = f.path[f.path.length - 1]!;
        return `<li><a href="${html(filePath(prefix, t.infoHashHex, i, name))}">${html(f.path.join('/'))}</a> (${f.length} bytes)</li>`;
      });
    return `${head}<ul>${items.join('')}</ul>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>torrentkit streams</title></head><body><h1>torrentkit streams</h1>${rows.join('') || '<p>no torrents</p>'}</body></html>\n`;
}

function playlist(t: TorrentManager, base: string): string {
  const files = t.meta.info.files.map((f, i) => ({ f, i })).filter(({ f }) => !f.pad);
  const media = files.filter(({ f }) => isMedia(f.path[f.path.length - 1]!));
  const lines = ['#EXTM3U'];
  for (const { f, i } of media.length > 0 ? media : files) {
    const name = f.path[f.path.length - 1]!;
    lines.push(`#EXTINF:-1,${f.path.join('/').replace(/[\r\n]/g, ' ')}`, `${base}${filePath('', t.infoHashHex, i, name)}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface StreamServerOptions extends StreamHandlerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
}

export interface StreamServer {
  readonly host: string;
  readonly port: number;
  /** The URL of a file (0-based index), for this server. */
  url(t: TorrentManager, fileIndex: number): string;
  close(): Promise<void>;
}

/** An HTTP server of the streaming routes on its own port (loopback by default: only loopback clients answered). */
export async function createStreamServer(source: TorrentSource, streams: StreamManager, opts: StreamServerOptions = {}): Promise<StreamServer> {
  const host = opts.host ?? '127.0.0.1';
  const prefix = opts.prefix ?? '';
  const handler = createStreamHandler(source, streams, { ...opts, prefix, loopbackOnly: opts.loopbackOnly ?? isLoopback(host) });
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res))
      .then((handled) => {
        if (!handled) send(res, 404, 'text/plain; charset=utf-8', 'not found\n', req.method === 'HEAD');
      })
      .catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new BtError('ERR_LISTEN', `stream server: cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`, { op: 'listen', cause: e })));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    host,
    port,
    url: (t, i) => `http://${hostPart}:${port}${filePath(prefix, t.infoHashHex, i, t.hasMetadata ? fileName(t, i) : String(i))}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
