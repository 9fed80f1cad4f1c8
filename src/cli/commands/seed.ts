/** `torrentkit seed`: serve the data under DIR until SIGINT/SIGTERM or a seeding limit. */
import { EXIT } from '../exit.js';
import { loadTorrent } from '../load.js';
import { engineSettings, loadBlocklists, seedLimits } from '../options.js';
import type { RunOpts } from '../options.js';
import { Reporter, progressMode } from '../reporter.js';
import { disposeEngine, onSignal, reportEvents, reportNat, seedLimitReached, startEngine } from '../session.js';

export async function runSeed(file: string, opts: RunOpts & { data: string }): Promise<number> {
  const meta = loadTorrent(file);
  const blocklist = loadBlocklists(opts.blocklist);
  const engine = await startEngine(engineSettings(opts), opts.verbose);
  if (blocklist) engine.setIpFilter(blocklist);
  const t = await engine.addTorrent(meta, { downloadDir: opts.data, peers: opts.peer, trackers: opts.tracker.map((u) => [u]), ...seedLimits(opts) });
  const r = new Reporter(progressMode(opts.json), t, opts.progressInterval);
  reportEvents(t, r);
  reportNat(engine, r);
  const sig = onSignal();
  await t.start();
  if (t.state === 'error') {
    await engine.dispose();
    throw t.error ?? new Error('torrent failed');
  }
  if (!t.complete) {
    const s = t.stats();
    r.line(`warning: only ${s.piecesHave}/${s.pieceCount} pieces found under ${opts.data}; seeding what is there and downloading the rest`);
  }
  r.line(`seeding ${meta.info.name} on port ${engine.listenPort}; press Ctrl-C to stop`);
  r.begin();
  const got = await Promise.race([sig, seedLimitReached(t, r)]);
  r.end();
  r.line(`${got}: shutting down`);
  await disposeEngine(engine, r);
  return EXIT.OK;
}
