/**
 * `torrentkit daemon`: a persistent session (openSession) driven over Transmission's RPC (createRpcHandler,
 * startRpcServer), with the web UI and a watch directory. SIGINT/SIGTERM or the RPC's session-close: close the
 * server, close the session (state saved, trackers told `stopped`, port mappings removed), exit 0; a second signal
 * exits at once.
 */
import { mkdirSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { BtError, StreamManager, createRpcHandler, createStreamHandler, isBtError, openSession, parseTorrent, startRpcServer } from '../../index.js';
import type { OpenSessionOptions, RpcHandler, RpcHandlerOptions, RpcServer, RpcServerOptions, SessionApi } from '../../index.js';
import { daemonKeys, readSettingsJson, resolveAuth, resolveDaemonConfig, restoreDaemonKeys } from '../daemon-config.js';
import type { DaemonConfig, DaemonOpts } from '../daemon-config.js';
import { CliExit, EXIT } from '../exit.js';
import { textSafe } from '../format.js';
import { loadBlocklists } from '../options.js';
import { makeLogger } from '../session.js';
import { VERSION } from '../version.js';
import { WatchDir } from '../watch-dir.js';

const MAX_FETCH_BYTES = 16 * 1024 * 1024;

/** torrent-add's `filename` when it is a URL: fetched with a size bound and a timeout. */
export async function fetchUrl(url: string, opts: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<Uint8Array> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BtError('ERR_UNSUPPORTED', `cannot fetch ${u.protocol} URLs`, { op: 'read' });
  const max = opts.maxBytes ?? MAX_FETCH_BYTES;
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000);
  const res = await fetch(u, { signal, redirect: 'follow' });
  if (!res.ok) throw new BtError('ERR_CONNECT', `${url}: HTTP ${res.status}`, { op: 'read' });
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) throw new BtError('ERR_LIMIT', `${url}: ${declared} bytes, more than ${max}`, { op: 'read' });
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > max) throw new BtError('ERR_LIMIT', `${url}: more than ${max} bytes`, { op: 'read' });
      chunks.push(chunk);
    }
  }
  return new Uint8Array(Buffer.concat(chunks, size));
}

/** torrent-add's `filename` when it is a local path (Transmission reads it on the daemon's side). */
export async function readLocalFile(path: string): Promise<Uint8Array> {
  const st = await fsp.stat(path);
  if (st.size > MAX_FETCH_BYTES) throw new BtError('ERR_LIMIT', `${path}: ${st.size} bytes, more than a torrent may have`, { op: 'read' });
  return new Uint8Array(await fsp.readFile(path));
}

/** free-space: bytes free to an unprivileged user, and the file system's size. */
export async function statfs(path: string): Promise<{ free: number; total: number }> {
  const s = await fsp.statfs(path);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

function url(host: string, port: number, path: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}${path}`;
}

/** The one line printed on start. */
export function startLine(cfg: DaemonConfig, server: { host: string; port: number }): string {
  const web = cfg.webUiDir
    ? `web UI ${url(server.host, server.port, '/transmission/web/')} (${cfg.webUiDir})`
    : 'no web UI (apt install transmission-common, or --web-ui DIR)';
  const watch = cfg.watchDir ? `, watching ${cfg.watchDir}` : '';
  return `torrentkit daemon: RPC on ${url(server.host, server.port, '/transmission/rpc')}, ${web}, streams ${url(server.host, server.port, '/stream/')}, config ${cfg.configDir}${watch}`;
}

/** What runDaemon builds on (tests replace them). */
export interface DaemonDeps {
  openSession: (opts: OpenSessionOptions) => Promise<SessionApi>;
  createRpcHandler: (session: SessionApi, opts?: RpcHandlerOptions) => RpcHandler;
  startRpcServer: (opts: RpcServerOptions) => Promise<RpcServer>;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (text: string) => void;
}

export async function runDaemon(opts: DaemonOpts, over: Partial<DaemonDeps> = {}): Promise<number> {
  const d: DaemonDeps = {
    openSession,
    createRpcHandler,
    startRpcServer,
    env: process.env,
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (text) => void process.stderr.write(text),
    ...over,
  };
  const warn = (m: string): void => d.err(`torrentkit daemon: warning: ${textSafe(m)}\n`);
  const settingsProbe = resolveDaemonConfig(opts, {}, d.env); // for the config dir only
  const configDir = settingsProbe.configDir;
  try {
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliExit(EXIT.USAGE, `cannot create the config directory ${configDir}: ${(e as Error).message}`);
  }
  const settingsFile = join(configDir, 'settings.json');
  const settings = readSettingsJson(settingsFile);
  const cfg = resolveDaemonConfig(opts, settings, d.env);
  const auth = await resolveAuth(cfg, opts, settings, settingsFile, { warn });
  const ownKeys = daemonKeys(settings, auth, opts);
  const blocklist = loadBlocklists(opts.blocklist);
  const logger = makeLogger(opts.verbose);

  const session: SessionApi = await d.openSession({
    configDir,
    defaults: { downloadDir: cfg.downloadDir },
    engineSettings: cfg.engineSettings,
    deps: { logger },
    onWarning: warn,
  });
  if (blocklist) session.engine.setIpFilter(blocklist);

  let server: RpcServer | undefined;
  let watcher: WatchDir | undefined;
  let stopping: Promise<void> | undefined;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (resolveDone = r));

  const shutdown = (why: string): Promise<void> => {
    stopping ??= (async () => {
      d.err(`torrentkit daemon: ${why}: shutting down (saving state, telling trackers)\n`);
      watcher?.close();
      try {
        await server?.close();
      } catch (e) {
        warn(`closing the RPC server: ${(e as Error).message}`);
      }
      try {
        await session.close();
      } catch (e) {
        warn(`closing the session: ${(e as Error).message}`);
        resolveDone(EXIT.FAILURE);
        return;
      }
      // The session rewrites settings.json with its own settings only: keep the RPC keys (auth!) for the next start.
      try {
        restoreDaemonKeys(settingsFile, ownKeys);
      } catch (e) {
        warn(`could not keep the rpc-* settings in ${settingsFile}: ${(e as Error).message}`);
      }
      resolveDone(EXIT.OK);
    })();
    return stopping;
  };

  // The RPC's session-close closes the session through here: let the reply go out, then shut everything down.
  const rpcSession = new Proxy(session, {
    get(target, prop) {
      if (prop === 'close') {
        return (): Promise<void> => {
          setTimeout(() => void shutdown('session-close requested over RPC'), 100);
          return Promise.resolve();
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });

  // Beyond the contract's version/configDir: what torrent-add (filename), free-space and the like need.
  const handlerOpts = {
    version: VERSION,
    configDir,
    fetchUrl,
    readFile: readLocalFile,
    statfs,
    sessionId: (): string => server?.sessionId ?? '',
    // session-close: answered first, then the daemon shuts down (the Proxy above covers a handler that calls close()).
    onClose: (): void => void rpcSession.close(),
  };
  const handler = d.createRpcHandler(rpcSession, handlerOpts);
  try {
    server = await d.startRpcServer({
      host: cfg.host,
      port: cfg.port,
      handler,
      // Every torrent's files, streamed with Range while they download (issue 16): /stream/<info-hash>/<file-index>.
      routes: [createStreamHandler(session.engine, new StreamManager(), { prefix: '/stream' })],
      ...(cfg.webUiDir !== undefined ? { webUiDir: cfg.webUiDir } : {}),
      ...(auth ? { auth } : {}),
      ...(cfg.hostWhitelist ? { hostWhitelist: cfg.hostWhitelist } : {}),
      ...(cfg.ipWhitelist ? { ipWhitelist: cfg.ipWhitelist } : {}),
      onWarning: warn,
    });
  } catch (e) {
    await session.close().catch(() => {});
    if (isBtError(e, 'ERR_SETTINGS')) throw new CliExit(EXIT.USAGE, e.message);
    if (isBtError(e, 'ERR_LISTEN')) {
      throw new CliExit(EXIT.FAILURE, `${e.message} (is another daemon, e.g. transmission-daemon, running? pick another port with --rpc-port)`);
    }
    throw e;
  }

  if (cfg.watchDir) {
    watcher = new WatchDir({
      dir: cfg.watchDir,
      add: async (bytes) => {
        parseTorrent(bytes); // a bad file fails here with ERR_METAINFO / ERR_BENCODE: renamed .invalid
        return session.add(bytes);
      },
      onWarning: warn,
      onAdded: (file) => logger.info(`watch dir: added ${file}`),
    });
    watcher.start();
  }

  let signals = 0;
  const onSig = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`torrentkit daemon: ${sig} again: exiting now\n`);
      process.exit(EXIT.INTERRUPTED);
    }
    void shutdown(sig);
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  d.out(startLine(cfg, server));
  try {
    return await done;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}
