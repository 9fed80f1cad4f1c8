/**
 * `torrentkit stream`: download a torrent with streaming priority and serve its files over HTTP while they
 * download (issue 16). Prints `stream: URL` per file (the --file one, or every file); `--player CMD` runs
 * `CMD URL` (through the shell) and shuts down when the player exits; SIGINT/SIGTERM shut down cleanly.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { StreamManager, createStreamServer } from '../../index.js';
import type { Metainfo, StreamServer, TorrentManager } from '../../index.js';
import { CliExit, EXIT } from '../exit.js';
import { fmtBytes } from '../format.js';
import { loadTorrent, parseMagnetOrExit } from '../load.js';
import { engineSettings, loadBlocklists, seedLimits } from '../options.js';
import type { RunOpts } from '../options.js';
import { Reporter, progressMode } from '../reporter.js';
import { disposeEngine, onSignal, reportEvents, reportNat, startEngine } from '../session.js';

export interface StreamOpts extends RunOpts {
  output: string;
  /** --file, numbered from 1 as `info` lists them. */
  file?: number;
  httpPort?: number;
  httpHost?: string;
  player?: string;
  /** --window, bytes of high priority ahead of each reader. */
  window?: number;
}

const MEDIA = /\.(mp4|m4v|mkv|webm|avi|mov|ts|m2ts|mpg|mpeg|ogv|flv|wmv|3gp|mp3|m4a|aac|flac|ogg|oga|opus|wav)$/i;

export async function runStream(file: string, opts: StreamOpts): Promise<number> {
  let source: string | Metainfo;
  if (file.startsWith('magnet:')) {
    parseMagnetOrExit(file);
    source = file;
  } else {
    source = loadTorrent(file);
  }
  const pick = opts.file !== undefined ? opts.file - 1 : undefined;
  if (pick !== undefined && typeof source !== 'string' && pick >= source.info.files.length) {
    throw new CliExit(EXIT.USAGE, `--file ${opts.file}: the torrent has ${source.info.files.length} file(s)`);
  }
  const blocklist = loadBlocklists(opts.blocklist);
  const engine = await startEngine(engineSettings(opts), opts.verbose);
  if (blocklist) engine.setIpFilter(blocklist);
  const streams = new StreamManager(opts.window !== undefined ? { windowBytes: opts.window } : {});
  let server: StreamServer | undefined;
  let player: ChildProcess | undefined;
  const r0 = { closed: false };
  const shutdown = async (r: Reporter | undefined): Promise<void> => {
    if (r0.closed) return;
    r0.closed = true;
    if (player && player.exitCode === null && player.pid) {
      try {
        process.kill(player.pid, 'SIGTERM');
      } catch {
        /* gone already */
      }
    }
    await server?.close();
    if (r) await disposeEngine(engine, r);
    else await engine.dispose();
  };
  try {
    server = await createStreamServer(engine, streams, { host: opts.httpHost ?? '127.0.0.1', port: opts.httpPort ?? 0,
      ...(opts.verbose || process.env.TORRENTKIT_STREAM_LOG ? { log: (l: string) => void process.stderr.write(`${new Date().toISOString()} ${l}\n`) } : {}),
    });
  } catch (e) {
    await shutdown(undefined);
    throw new CliExit(EXIT.FAILURE, (e as Error).message);
  }
  let t: TorrentManager;
  try {
    t = await engine.add(source, {
      downloadDir: opts.output,
      peers: opts.peer,
      trackers: opts.tracker.map((u) => [u]),
      ...(pick !== undefined ? { selectOnly: [pick] } : {}),
      ...seedLimits(opts),
    });
  } catch (e) {
    await shutdown(undefined);
    throw e;
  }
  const srv = server;
  const r = new Reporter(progressMode(opts.json), t, opts.progressInterval);
  reportEvents(t, r);
  reportNat(engine, r);
  if (process.env.TORRENTKIT_STREAM_LOG) t.on('piece-verified', (i) => void process.stderr.write(`${new Date().toISOString()} piece ${i} verified\n`));
  let failed: CliExit | undefined;
  const ended: { resolve: (why: string) => void } = { resolve: () => {} };
  const end = new Promise<string>((resolve) => (ended.resolve = resolve));
  const announce = (meta: Metainfo): void => {
    const files = meta.info.files;
    if (pick !== undefined && pick >= files.length) {
      failed = new CliExit(EXIT.USAGE, `--file ${opts.file}: the torrent has ${files.length} file(s)`);
      ended.resolve('bad --file');
      return;
    }
    r.line(`streaming ${meta.info.name} (${fmtBytes(meta.info.totalLength)}, ${meta.info.pieceCount} pieces) to ${opts.output}, listening on port ${engine.listenPort}`);
    const which = pick !== undefined ? [pick] : files.map((_, i) => i).filter((i) => !files[i]!.pad);
    // The chosen file's (or the media files') first and last pieces come first, before any player asks.
    const warm = pick !== undefined ? [pick] : which.filter((i) => MEDIA.test(files[i]!.path[files[i]!.path.length - 1]!)).slice(0, 8);
    for (const i of warm) streams.prefetch(t, i);
    for (const i of which) {
      const url = srv.url(t, i);
      r.json({ event: 'stream', file: i + 1, path: files[i]!.path.join('/'), size: files[i]!.length, url });
      r.line(`stream: ${url}`);
    }
    const playlist = `http://${srv.host.includes(':') ? `[${srv.host}]` : srv.host}:${srv.port}/${t.infoHashHex}.m3u`;
    r.json({ event: 'playlist', url: playlist });
    r.line(`playlist: ${playlist}`);
    if (opts.player) {
      const url = srv.url(t, which[0]!);
      player = spawn('/bin/sh', ['-c', `${opts.player} "$1"`, 'sh', url], { stdio: 'ignore' });
      player.on('error', (e) => r.line(`player: ${e.message}`));
      player.on('exit', (code) => ended.resolve(`player exited (${code ?? 'signal'})`));
    }
  };
  if (t.hasMetadata) announce(t.meta);
  else {
    r.line(`fetching metadata for ${t.infoHashHex} from peers, listening on port ${engine.listenPort}`);
    t.once('metadata', announce);
  }
  t.on('complete', () => {
    r.json({ event: 'complete', downloaded: t.stats().downloaded, seconds: Number(r.elapsed().toFixed(3)) });
    r.line(`complete: ${t.name}; still serving (Ctrl-C to stop)`);
  });
  r.begin();
  const sig = onSignal();
  try {
    await t.start();
    const why = await Promise.race([sig, end]);
    r.end();
    if (failed) throw failed;
    r.line(`${why}: shutting down`);
    await shutdown(r);
    return EXIT.OK;
  } catch (e) {
    r.end();
    await shutdown(undefined);
    throw e;
  }
}
