/** `torrentkit download`: fetch a torrent or magnet link into DIR; exit 0 once every (selected) file is verified. */
import type { Metainfo } from '../../index.js';
import { CliExit, EXIT } from '../exit.js';
import { fmtBytes } from '../format.js';
import { loadTorrent, parseMagnetOrExit } from '../load.js';
import { engineSettings, loadBlocklists, seedLimits } from '../options.js';
import type { RunOpts } from '../options.js';
import { Reporter, progressMode } from '../reporter.js';
import { disposeEngine, onSignal, reportEvents, reportNat, seedLimitReached, startEngine } from '../session.js';

export interface DownloadOpts extends RunOpts {
  output: string;
  seed?: boolean;
  /** --select-files, 0-based. */
  selectFiles?: number[];
  sequential?: boolean;
}

/** --select-files against the file list: CliExit 2 when a number is past the last file, else the line to print. */
export function selectionLine(meta: Metainfo, select: readonly number[]): string {
  const files = meta.info.files;
  const bad = select.filter((i) => i >= files.length);
  if (bad.length > 0) throw new CliExit(EXIT.USAGE, `--select-files: the torrent has ${files.length} file(s); no file ${bad.map((i) => i + 1).join(', ')}`);
  const size = select.reduce((sum, i) => sum + files[i]!.length, 0);
  return `selected ${select.length} of ${files.length} files (${fmtBytes(size)}): ${select.map((i) => files[i]!.path.join('/')).join(', ')}`;
}

export async function runDownload(file: string, opts: DownloadOpts): Promise<number> {
  let source: string | Metainfo;
  if (file.startsWith('magnet:')) {
    parseMagnetOrExit(file);
    source = file;
  } else {
    source = loadTorrent(file);
  }
  const blocklist = loadBlocklists(opts.blocklist);
  const engine = await startEngine(engineSettings(opts), opts.verbose);
  if (blocklist) engine.setIpFilter(blocklist);
  const select = opts.selectFiles;
  const t = await engine.add(source, {
    downloadDir: opts.output,
    peers: opts.peer,
    trackers: opts.tracker.map((u) => [u]),
    sequential: opts.sequential,
    // BEP 53 select-only: the torrent skips every other file once it knows the file list.
    ...(select ? { selectOnly: select } : {}),
    ...seedLimits(opts),
  });
  const r = new Reporter(progressMode(opts.json), t, opts.progressInterval);
  reportEvents(t, r);
  reportNat(engine, r);
  /** Print what is downloaded; throws CliExit when --select-files names a file past the last one. */
  const describe = (meta: Metainfo): void => {
    r.line(`downloading ${meta.info.name} (${fmtBytes(meta.info.totalLength)}, ${meta.info.pieceCount} pieces) to ${opts.output}, listening on port ${engine.listenPort}`);
    if (select) r.line(selectionLine(meta, select));
  };
  let selectionError: CliExit | undefined;
  if (t.hasMetadata) {
    try {
      describe(t.meta);
    } catch (e) {
      await engine.dispose();
      throw e;
    }
  } else {
    r.line(`fetching metadata for ${t.infoHashHex} from peers, listening on port ${engine.listenPort}`);
    t.once('metadata', (meta) => {
      r.json({ event: 'metadata', infoHash: meta.infoHashHex, name: meta.info.name, size: meta.info.totalLength, pieces: meta.info.pieceCount });
      try {
        describe(meta);
      } catch (e) {
        selectionError = e as CliExit;
        void t.stop();
      }
    });
  }
  r.begin();
  const sig = onSignal();
  const seedLimit = seedLimitReached(t, r);
  try {
    await t.start();
    const outcome = await Promise.race([t.waitForCompletion().then(() => 'complete' as const), sig]);
    if (outcome !== 'complete') {
      r.end();
      r.line(`interrupted (${outcome}); verified data is kept and will be reused`);
      await disposeEngine(engine, r);
      return EXIT.INTERRUPTED;
    }
    const s = t.stats();
    r.end();
    r.json({ event: 'complete', downloaded: s.downloaded, seconds: Number(r.elapsed().toFixed(3)) });
    r.line(`complete: ${t.name}, ${fmtBytes(s.downloaded)} downloaded in ${r.elapsed().toFixed(1)} s`);
    if (opts.seed) {
      r.line('seeding; press Ctrl-C to stop');
      r.begin();
      const got = await Promise.race([sig, seedLimit]);
      r.end();
      if (got.startsWith('seed limit')) r.line(`${got}: shutting down`);
    }
    await disposeEngine(engine, r);
    return EXIT.OK;
  } catch (e) {
    r.end();
    await engine.dispose();
    throw selectionError ?? e;
  }
}
