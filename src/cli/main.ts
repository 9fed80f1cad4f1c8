#!/usr/bin/env node
/**
 * torrentkit command-line client: create, info, download, seed.
 * Exit codes: 0 ok · 1 runtime failure · 2 usage error · 3 invalid or unsafe torrent · 130 interrupted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import {
  BtError,
  ClientEngine,
  TextLogger,
  createTorrentFromPath,
  describeTorrent,
  encryptionPreset,
  formatBytes,
  formatMagnet,
  parseMagnet,
  parseTorrent,
} from '../index.js';
import { FsStorage, WorkerHasher, checkPieces } from '../storage/index.js';
import { IpFilter } from '../util/ip-filter.js';
import { filePieceRange } from '../metainfo/index.js';
import type { EngineSettings, Logger, Metainfo, TorrentManager, TorrentStats, TrackerStatus } from '../index.js';
import type { PortForwardingStatus, PortMapping, ReachabilityReport } from '../index.js';

const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, BAD_TORRENT: 3, INTERRUPTED: 130 } as const;

class CliExit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function parsePositiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** A rate in bytes per second: `500000`, `500k` (KiB/s), `2M` (MiB/s), `1.5M`; 0 = no limit. */
function parseRate(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?B)?(?:\/s)?\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected bytes per second, e.g. 500000, 500k or 2M (k = KiB, M = MiB)');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('rate too large');
  return n;
}

/** `1,3-5` (file numbers from 1, as `info` lists them) → a sorted list of 0-based indices. */
function parseFileList(v: string): number[] {
  const out = new Set<number>();
  for (const part of v.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new InvalidArgumentError('expected file numbers such as 1,3-5 (from 1, as `torrentkit info` lists them)');
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (a < 1 || b < a || b - a > 1_000_000) throw new InvalidArgumentError(`bad file range ${part.trim()}`);
    for (let k = a; k <= b; k++) out.add(k - 1);
  }
  return [...out].sort((x, y) => x - y);
}

function loadTorrent(file: string): Metainfo {
  if (file.startsWith('magnet:')) {
    throw new CliExit(EXIT.USAGE, 'seeding needs the data and its .torrent file, not a magnet link');
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CliExit(EXIT.USAGE, `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseTorrentOrExit(bytes, file);
}

function parseTorrentOrExit(bytes: Uint8Array, file: string): Metainfo {
  try {
    return parseTorrent(bytes);
  } catch (e) {
    if (e instanceof BtError) {
      const field = e.field ? ` (field ${e.field})` : '';
      throw new CliExit(EXIT.BAD_TORRENT, `invalid torrent ${file}: ${e.message}${field} [${e.code}]`);
    }
    throw e;
  }
}

function defaultDhtStateFile(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'torrentkit', 'dht.json');
}

function makeLogger(verbose: boolean | undefined): Logger {
  return new TextLogger(verbose ? 'debug' : 'warn', (line) => process.stderr.write(`${line}\n`));
}

/** EngineSettings from the network options of `download` and `seed` (RunOpts). */
function engineSettings(opts: Omit<RunOpts, 'progressInterval' | 'tracker' | 'peer' | 'json' | 'verbose'>): Partial<EngineSettings> {
  const s: Partial<EngineSettings> = {};
  if (opts.transport === 'tcp') Object.assign(s, { enableTcp: true, enableUtp: false, preferredTransport: 'tcp' });
  else if (opts.transport === 'utp') Object.assign(s, { enableTcp: false, enableUtp: true, preferredTransport: 'utp' });
  else if (opts.transport === 'both') Object.assign(s, { enableTcp: true, enableUtp: true, preferredTransport: 'tcp' });
  if (opts.pex === false) s.pexEnabled = false;
  if (opts.resume === false) s.fastResume = false;
  if (opts.webSeeds === false) s.webSeedsEnabled = false;
  if (opts.proxy !== undefined) s.proxy = opts.proxy;
  if (opts.maxDownloadRate !== undefined) s.maxDownloadRate = opts.maxDownloadRate;
  if (opts.maxUploadRate !== undefined) s.maxUploadRate = opts.maxUploadRate;
  if (opts.lsd === false) s.lsdEnabled = false;
  if (opts.lsdInterface !== undefined) s.lsdInterface = opts.lsdInterface;
  if (opts.dht === false) s.dhtEnabled = false;
  if (opts.portForwarding === false) s.portForwarding = false;
  // The routing table outlives the process (unless --no-dht-state): a restart asks known nodes first.
  s.dhtStateFile = opts.dhtState === false ? '' : (opts.dhtState ?? defaultDhtStateFile());
  if (opts.dhtBootstrap !== undefined) s.dhtBootstrap = opts.dhtBootstrap.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (opts.encryption || opts.encryptionLevel) s.encryption = encryptionPreset(opts.encryption ?? 'prefer', opts.encryptionLevel ?? 'both');
  if (opts.listen && opts.listen.length > 0) s.listenEndpoints = opts.listen;
  else {
    const port = opts.port ?? 6881;
    s.listenEndpoints = [`0.0.0.0:${port}`, `[::]:${port}`];
  }
  if (opts.trackerTimeout !== undefined) {
    // One bound for any announce: HTTP's own timeout, and BEP 15's first UDP timeout scaled so its
    // retransmissions (1 + 2 + 4 x base) fit inside it.
    s.trackerRequestTimeoutMs = opts.trackerTimeout;
    s.trackerHttpTimeoutMs = opts.trackerTimeout;
    s.udpTrackerBaseTimeoutMs = Math.max(1, Math.floor(opts.trackerTimeout / 7));
  }
  return s;
}

/** A tracker's status as one JSON object (times as seconds from now). */
function trackerJson(tr: TrackerStatus, now: number): Record<string, unknown> {
  return {
    url: tr.url,
    tier: tr.tier,
    state: tr.state,
    peers: tr.peersReceived,
    totalPeers: tr.totalPeersReceived,
    seeders: tr.seeders ?? null,
    leechers: tr.leechers ?? null,
    lastAnnounce: tr.lastAnnounce === undefined ? null : Math.round((tr.lastAnnounce - now) / 1000),
    nextAnnounce: tr.nextAnnounce === undefined ? null : Math.max(0, Math.round((tr.nextAnnounce - now) / 1000)),
    error: tr.lastError ?? null,
    warning: tr.warning ?? null,
  };
}

/** A tracker's status as one line of text. */
function trackerLine(tr: TrackerStatus, now: number): string {
  const parts = [`tracker ${tr.url} (tier ${tr.tier + 1}): ${tr.state}`];
  if (tr.state === 'working') {
    parts.push(`${tr.peersReceived} peers`);
    if (tr.seeders !== undefined || tr.leechers !== undefined) parts.push(`${tr.seeders ?? '?'} seeders, ${tr.leechers ?? '?'} leechers`);
  }
  if (tr.lastError) parts.push(`error: ${tr.lastError}`);
  if (tr.warning) parts.push(`warning: ${tr.warning}`);
  if (tr.nextAnnounce !== undefined) parts.push(`next announce in ${fmtEta(Math.max(0, (tr.nextAnnounce - now) / 1000))}`);
  return parts.join(', ');
}

const fmtBytes = formatBytes;

function fmtEta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '--:--';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

type ProgressMode = 'json' | 'bar' | 'lines';

/** Progress reporting for download/seed: a live bar on a terminal, plain lines when piped, or JSON lines. */
class Reporter {
  private bar: cliProgress.SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = Date.now();
  /** Last reported state, error and peer count per tracker URL, to report each change once. */
  private readonly trackerSeen = new Map<string, string>();

  constructor(
    private readonly mode: ProgressMode,
    private readonly t: TorrentManager,
    private readonly intervalMs = 1000,
  ) {}

  json(obj: Record<string, unknown>): void {
    if (this.mode === 'json') process.stdout.write(`${JSON.stringify(obj)}\n`);
  }

  line(text: string): void {
    if (this.mode === 'json') return;
    if (this.bar) this.bar.stop();
    process.stdout.write(`${text}\n`);
    if (this.bar) this.startBar();
  }

  private startBar(): void {
    this.bar = new cliProgress.SingleBar(
      {
        format: '{bar} {percentage}% | {down}/s down {up}/s up | {peers} peers | ETA {eta_fmt} | {state}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(100, 0, this.payload(this.t.stats()));
  }

  private payload(s: TorrentStats): Record<string, string | number> {
    return {
      down: fmtBytes(s.downloadRate),
      up: fmtBytes(s.uploadRate),
      peers: s.peers,
      eta_fmt: fmtEta(s.eta),
      state: s.state,
    };
  }

  begin(): void {
    this.started = Date.now();
    if (this.mode === 'bar') this.startBar();
    const timer = setInterval(() => this.update(), this.intervalMs);
    timer.unref();
    this.timer = timer;
  }

  /** Report a tracker's new status, unless nothing worth saying changed since the last report. */
  tracker(tr: TrackerStatus): void {
    const key = `${tr.state}|${tr.lastError ?? ''}|${tr.totalPeersReceived}|${tr.warning ?? ''}`;
    if (this.trackerSeen.get(tr.url) === key) return;
    this.trackerSeen.set(tr.url, key);
    const now = Date.now();
    this.json({ event: 'tracker', ...trackerJson(tr, now) });
    this.line(trackerLine(tr, now));
  }

  update(): void {
    const s = this.t.stats();
    if (this.mode === 'json') {
      this.json({
        event: 'progress',
        state: s.state,
        progress: Number(s.progress.toFixed(4)),
        have: s.piecesHave,
        pieces: s.pieceCount,
        downloaded: s.downloaded,
        uploaded: s.uploaded,
        downRate: Math.round(s.downloadRate),
        upRate: Math.round(s.uploadRate),
        peers: s.peers,
        eta: s.eta === undefined ? null : Math.round(s.eta),
        trackers: this.t.trackers.map((tr) => trackerJson(tr, Date.now())),
        ...(this.t.webSeeds.length > 0 ? { webSeeds: this.t.webSeeds } : {}),
        peerList: this.t.peerList().slice(0, 50).map((p) => ({
          address: p.address,
          client: p.client ?? null,
          transport: p.transport,
          encryption: p.encryption,
          source: p.source,
          outgoing: p.outgoing,
        })),
      });
    } else if (this.mode === 'bar') {
      this.bar?.update(Math.floor(s.progress * 1000) / 10, this.payload(s));
    } else {
      process.stdout.write(
        `${(s.progress * 100).toFixed(1)}% ${s.state} ${s.piecesHave}/${s.pieceCount} pieces, ` +
          `${fmtBytes(s.downloadRate)}/s down, ${fmtBytes(s.uploadRate)}/s up, ${s.peers} peers, ETA ${fmtEta(s.eta)}\n`,
      );
    }
  }

  elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.bar) {
      this.update();
      this.bar.stop();
      this.bar = undefined;
    }
  }
}

function progressMode(json: boolean | undefined): ProgressMode {
  if (json) return 'json';
  return process.stdout.isTTY ? 'bar' : 'lines';
}

/** Wire a torrent's events to the reporter. */
function reportEvents(t: TorrentManager, r: Reporter): void {
  t.on('checked', (have, pieces) => {
    r.json({ event: 'checked', have, pieces });
    r.line(`checked existing data: ${have}/${pieces} pieces verified`);
  });
  t.on('hash-failed', (piece, peers) => {
    r.json({ event: 'hash-failed', piece, peers });
    r.line(`piece ${piece} failed its hash check (from ${peers.join(', ') || 'unknown peer'}); fetching it again`);
  });
  t.on('peer-banned', (peer, reason) => {
    r.json({ event: 'peer-banned', peer, reason });
    r.line(`banned peer ${peer}: ${reason}`);
  });
  t.on('warning', (message) => {
    r.json({ event: 'warning', message });
  });
  t.on('tracker', (status) => r.tracker(status));
  t.on('peer-connected', (address) => {
    const p = t.peerList().find((x) => x.address === address);
    if (!p) return;
    const info = { address, transport: p.transport, encryption: p.encryption, source: p.source, outgoing: p.outgoing, client: p.client ?? null };
    r.json({ event: 'peer', ...info });
    r.line(`peer ${address} connected (${p.outgoing ? 'out' : 'in'}, ${p.transport}, encryption ${p.encryption}, from ${p.source}${p.client ? `, ${p.client}` : ''})`);
  });
}

/** A port mapping as one JSON object (expiry as seconds from now). */
function mappingJson(m: PortMapping, now: number): Record<string, unknown> {
  return {
    protocol: m.protocol,
    internalPort: m.internalPort,
    externalPort: m.externalPort ?? null,
    method: m.method,
    gateway: m.gateway,
    state: m.state,
    error: m.error?.message ?? null,
    expiresIn: m.expiresAt === undefined ? null : Math.max(0, Math.round((m.expiresAt - now) / 1000)),
  };
}

function reachabilityLine(rep: ReachabilityReport): string {
  const parts: string[] = [];
  if (rep.gateway) parts.push(`external address ${rep.gateway.address} (gateway, ${rep.gateway.method})`);
  if (rep.tracker && rep.tracker.address !== rep.gateway?.address) parts.push(`${rep.gateway ? 'trackers see' : 'external address'} ${rep.tracker.address} (${rep.tracker.source})`);
  if (rep.doubleNat) parts.push(`double NAT: the router's WAN address is ${rep.gateway?.class ?? 'not ours'}, another NAT sits upstream`);
  if (rep.cgnat) parts.push('carrier-grade NAT (100.64/10): mapped ports are not reachable from the internet');
  return parts.join('; ');
}

/**
 * Port forwarding in the status: each mapping change (JSON: every change, renewals included; text: when
 * state or port changes), the gateway status once, and the external address with its double-NAT flags.
 * What happened before the reporter existed is replayed.
 */
function reportNat(engine: ClientEngine, r: Reporter): void {
  const seen = new Map<string, string>();
  const mapping = (m: PortMapping): void => {
    r.json({ event: 'port-mapping', ...mappingJson(m, Date.now()) });
    const key = `${m.method}/${m.protocol}/${m.internalPort}`;
    const what = `${m.state}|${m.externalPort ?? ''}|${m.error?.message ?? ''}`;
    if (seen.get(key) === what) return;
    seen.set(key, what);
    const ext = m.externalPort !== undefined ? ` -> external ${m.externalPort}` : '';
    r.line(`port mapping ${m.method} ${m.protocol.toUpperCase()} ${m.internalPort}${ext} on ${m.gateway}: ${m.state}${m.error ? ` (${m.error.message})` : ''}`);
  };
  const status = (st: PortForwardingStatus): void => {
    if (st.state === 'off' || st.state === 'disposed' || st.state === 'idle' || st.state === 'discovering') return;
    r.json({ event: 'port-forwarding', ...st });
    if (st.state === 'no-gateway') r.line(`port forwarding: ${st.message}`);
    else if (st.state === 'ready') r.line(`port forwarding: gateway found (${st.methods.join(', ')})`);
  };
  const reach = (rep: ReachabilityReport): void => {
    const address = rep.address;
    if (!address) return;
    r.json({
      event: 'external-address',
      address,
      gateway: rep.gateway?.address ?? null,
      method: rep.gateway?.method ?? null,
      class: rep.gateway?.class ?? null,
      tracker: rep.tracker?.address ?? null,
      mismatch: rep.mismatch,
      doubleNat: rep.doubleNat,
      cgnat: rep.cgnat,
    });
    r.line(reachabilityLine(rep));
  };
  status(engine.portForwardingStatus);
  for (const m of engine.portMappings) if (m.state !== 'pending') mapping(m);
  if (engine.reachability.gateway) reach(engine.reachability);
  engine.on('port-forwarding', status);
  engine.on('port-mapping', mapping);
  engine.on('reachability', reach);
}

/** Dispose the engine; report the port mappings it removed from the router, and how long that took. */
async function disposeEngine(engine: ClientEngine, r: Reporter): Promise<void> {
  const mapped = engine.portMappings.filter((m) => m.state === 'created');
  const t0 = Date.now();
  await engine.dispose();
  if (engine.settings.portForwarding) r.json({ event: 'port-forwarding', state: 'disposed', removed: mapped.map((m) => mappingJson(m, Date.now())), ms: Date.now() - t0 });
  if (mapped.length > 0) r.line(`removed ${mapped.length} port mapping${mapped.length === 1 ? '' : 's'} from the router`);
}

/** Resolve on SIGINT/SIGTERM (once). */
function onSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const h = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', h);
      process.off('SIGTERM', h);
      resolve(sig);
    };
    process.on('SIGINT', h);
    process.on('SIGTERM', h);
  });
}

async function startEngine(
  settings: Partial<EngineSettings>,
  verbose: boolean | undefined,
): Promise<ClientEngine> {
  const logger = makeLogger(verbose);
  let engine = new ClientEngine(settings, { logger });
  try {
    await engine.start();
  } catch (e) {
    await engine.dispose();
    const eps = settings.listenEndpoints ?? [];
    // The default port may be taken by another client: fall back to any free port.
    if (eps.every((ep) => ep.endsWith(':6881'))) {
      logger.warn('port 6881 is taken; listening on a free port instead');
      engine = new ClientEngine({ ...settings, listenEndpoints: eps.map((ep) => ep.replace(/:6881$/, ':0')) }, { logger });
      await engine.start();
    } else {
      throw new CliExit(EXIT.FAILURE, (e as Error).message);
    }
  }
  return engine;
}

interface RunOpts {
  progressInterval?: number;
  tracker: string[];
  trackerTimeout?: number;
  encryption?: 'plaintext' | 'prefer' | 'require';
  encryptionLevel?: 'full' | 'header' | 'both';
  transport?: 'tcp' | 'utp' | 'both';
  port?: number;
  listen?: string[];
  peer: string[];
  json?: boolean;
  verbose?: boolean;
  pex?: boolean;
  resume?: boolean;
  webSeeds?: boolean;
  maxDownloadRate?: number;
  maxUploadRate?: number;
  seedRatio?: number;
  seedTime?: number;
  blocklist?: string[];
  proxy?: string;
  lsd?: boolean;
  lsdInterface?: string;
  dht?: boolean;
  dhtBootstrap?: string;
  dhtState?: string | false;
  portForwarding?: boolean;
}

async function runDownload(file: string, opts: RunOpts & { output: string; seed?: boolean; selectFiles?: number[]; sequential?: boolean }): Promise<number> {
  let source: string | Metainfo;
  if (file.startsWith('magnet:')) {
    try {
      parseMagnet(file);
    } catch (e) {
      throw new CliExit(EXIT.BAD_TORRENT, `invalid magnet link: ${(e as Error).message}`);
    }
    source = file;
  } else {
    source = loadTorrent(file);
  }
  const blocklist = loadBlocklists(opts.blocklist);
  const engine = await startEngine(engineSettings(opts), opts.verbose);
  if (blocklist) engine.setIpFilter(blocklist);
  const t = await engine.add(source, {
    downloadDir: opts.output,
    peers: opts.peer,
    trackers: opts.tracker.map((u) => [u]),
    sequential: opts.sequential,
    ...seedLimits(opts),
  });
  const r = new Reporter(progressMode(opts.json), t, opts.progressInterval);
  reportEvents(t, r);
  reportNat(engine, r);
  const select = opts.selectFiles;
  /** --select-files: every other file is skipped. Throws CliExit when a number is past the last file. */
  const applySelection = (meta: Metainfo): void => {
    if (!select) return;
    const n = meta.info.files.length;
    const bad = select.filter((i) => i >= n);
    if (bad.length > 0) throw new CliExit(EXIT.USAGE, `--select-files: the torrent has ${n} file(s); no file ${bad.map((i) => i + 1).join(', ')}`);
    const want = new Set(select);
    t.setFilePriorities(meta.info.files.map((_, i) => (want.has(i) ? 4 : 0)));
    const size = select.reduce((sum, i) => sum + meta.info.files[i]!.length, 0);
    r.line(`selected ${select.length} of ${n} files (${fmtBytes(size)}): ${select.map((i) => meta.info.files[i]!.path.join('/')).join(', ')}`);
  };
  const describe = (meta: Metainfo): void =>
    r.line(`downloading ${meta.info.name} (${fmtBytes(meta.info.totalLength)}, ${meta.info.pieceCount} pieces) to ${opts.output}, listening on port ${engine.listenPort}`);
  let selectionError: CliExit | undefined;
  if (t.hasMetadata) {
    describe(t.meta);
    try {
      applySelection(t.meta);
    } catch (e) {
      await engine.dispose();
      throw e;
    }
  }
  else {
    r.line(`fetching metadata for ${t.infoHashHex} from peers, listening on port ${engine.listenPort}`);
    t.once('metadata', (meta) => {
      r.json({ event: 'metadata', infoHash: meta.infoHashHex, name: meta.info.name, size: meta.info.totalLength, pieces: meta.info.pieceCount });
      describe(meta);
      try {
        applySelection(meta);
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

/** --blocklist files, merged into one filter; unreadable files are a usage error, bad lines a warning. */
function loadBlocklists(files: string[] | undefined): IpFilter | undefined {
  if (!files || files.length === 0) return undefined;
  let text = '';
  for (const f of files) {
    try {
      text += `${readFileSync(f, 'utf8')}\n`;
    } catch (e) {
      throw new CliExit(EXIT.USAGE, `cannot read blocklist ${f}: ${(e as Error).message}`);
    }
  }
  const { filter, errors, badLines } = IpFilter.parse(text);
  if (errors > 0) process.stderr.write(`warning: ${errors} blocklist line(s) not understood (e.g. line ${badLines.slice(0, 5).join(', ')}); skipped\n`);
  return filter;
}

/** --seed-ratio / --seed-time as torrent options. */
function seedLimits(opts: RunOpts): { seedRatioLimit?: number; seedTimeLimitMs?: number } {
  return {
    ...(opts.seedRatio !== undefined ? { seedRatioLimit: opts.seedRatio } : {}),
    ...(opts.seedTime !== undefined ? { seedTimeLimitMs: opts.seedTime * 60_000 } : {}),
  };
}

/** Resolves (never rejects) with a line for the log once a seeding limit stops the torrent. */
function seedLimitReached(t: TorrentManager, r: Reporter): Promise<string> {
  return new Promise((resolve) =>
    t.once('seed-limit', (reason) => {
      r.json({ event: 'seed-limit', reason });
      resolve(`seed limit reached (${reason})`);
    }),
  );
}

async function runSeed(file: string, opts: RunOpts & { data: string }): Promise<number> {
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

/** `verify`: hash the data under DIR against the torrent, no network. Exit 0 when complete, 1 when not. */
async function runVerify(file: string, opts: { data: string; json?: boolean }): Promise<number> {
  const meta = loadTorrent(file);
  const info = meta.info;
  const storage = new FsStorage(info, opts.data);
  const hasher = new WorkerHasher();
  const t0 = Date.now();
  let have;
  try {
    have = await checkPieces(info, storage, hasher);
  } finally {
    await storage.close().catch(() => undefined);
    await hasher.destroy();
  }
  const files = info.files.map((f, i) => {
    const { first, last } = filePieceRange(info, i);
    let missing = 0;
    for (let p = first; p <= last; p++) if (!have.get(p)) missing++;
    return { path: f.path.join('/'), length: f.length, complete: f.length === 0 || f.pad === true || missing === 0, missingPieces: missing };
  });
  const seconds = (Date.now() - t0) / 1000;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ infoHash: meta.infoHashHex, have: have.count, pieces: info.pieceCount, complete: have.complete, seconds, files })}\n`);
  } else {
    process.stdout.write(`${info.name}: ${have.count}/${info.pieceCount} pieces verified in ${seconds.toFixed(1)} s${have.complete ? ', complete' : ''}\n`);
    for (const f of files) if (!f.complete) process.stdout.write(`  incomplete: ${f.path} (${f.missingPieces} piece(s) missing or bad)\n`);
  }
  return have.complete ? EXIT.OK : EXIT.FAILURE;
}

async function runCreate(
  path: string,
  opts: { output?: string; tracker: string[]; webSeed: string[]; pieceLength?: number; private?: boolean; comment?: string },
): Promise<number> {
  const { torrent, meta } = await createTorrentFromPath(path, {
    pieceLength: opts.pieceLength,
    trackers: opts.tracker.map((t) => [t]),
    urlList: opts.webSeed,
    private: opts.private,
    comment: opts.comment,
    createdBy: 'torrentkit/0.1.0',
    creationDate: Math.floor(Date.now() / 1000),
  });
  const out = opts.output ?? `${meta.info.name}.torrent`;
  writeFileSync(out, torrent);
  process.stdout.write(`${out}\ninfo-hash ${meta.infoHashHex}\n${formatMagnet(meta)}\n`);
  return EXIT.OK;
}

function runInfo(source: string, opts: { json?: boolean }): number {
  if (source.startsWith('magnet:')) {
    let m;
    try {
      m = parseMagnet(source);
    } catch (e) {
      throw new CliExit(EXIT.BAD_TORRENT, `invalid magnet link: ${(e as Error).message}`);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ infoHash: m.infoHashHex, name: m.displayName, trackers: m.trackers, peers: m.peers, webSeeds: m.webSeeds })}\n`);
    } else {
      process.stdout.write(
        [`info-hash: ${m.infoHashHex}`, `name: ${m.displayName ?? '(none)'}`, ...m.trackers.map((t) => `tracker: ${t}`), ...m.peers.map((p) => `peer: ${p}`), ...m.webSeeds.map((w) => `web seed: ${w}`)].join('\n') + '\n',
      );
    }
    return EXIT.OK;
  }
  const meta = loadTorrent(source);
  const i = meta.info;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({
        infoHash: meta.infoHashHex,
        name: i.name,
        totalLength: i.totalLength,
        pieceLength: i.pieceLength,
        pieces: i.pieceCount,
        private: i.private,
        files: i.files.map((f) => ({ path: f.path.join('/'), length: f.length })),
        trackers: meta.announceList,
        comment: meta.comment,
        createdBy: meta.createdBy,
        creationDate: meta.creationDate,
      })}\n`,
    );
    return EXIT.OK;
  }
  const lines = describeTorrent(meta);
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.OK;
}

function program(): Command {
  const p = new Command();
  p.name('torrentkit').description('BitTorrent client').version('0.1.0');
  p.exitOverride();
  p.configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const withNet = (c: Command): Command =>
    c
      .addOption(new Option('--port <n>', 'TCP port to listen on (IPv4 and IPv6)').argParser(parsePort))
      .option('--listen <host:port>', 'listen endpoint (repeatable; overrides --port)', collect, [])
      .option('--peer <host:port>', 'peer to connect to (repeatable)', collect, [])
      .option('--tracker <url>', "extra tracker announce URL (repeatable; one tier each, after the torrent's own)", collect, [])
      .addOption(new Option('--tracker-timeout <ms>', 'bound on one tracker announce (HTTP and UDP)').argParser(parsePositiveInt))
      .addOption(
        new Option('--encryption <policy>', 'MSE/PE: plaintext only, prefer encryption (default), or require it').choices(['plaintext', 'prefer', 'require']),
      )
      .addOption(new Option('--transport <kind>', 'peer transports: tcp, utp (BEP 29) or both (default: TCP tried first, uTP as fallback and for incoming)').choices(['tcp', 'utp', 'both']))
      .addOption(
        new Option('--encryption-level <level>', 'MSE kinds allowed: full RC4, header-only (then plaintext), or both (default)').choices(['full', 'header', 'both']),
      )
      .addOption(new Option('--max-download-rate <rate>', 'download limit, bytes per second of piece data (k = KiB, M = MiB; 0 = none)').argParser(parseRate))
      .addOption(new Option('--max-upload-rate <rate>', 'upload limit, bytes per second of piece data (k = KiB, M = MiB; 0 = none)').argParser(parseRate))
      .addOption(new Option('--seed-ratio <r>', 'stop seeding once uploaded / size reaches this (e.g. 2)').argParser(parsePositiveNumber))
      .addOption(new Option('--seed-time <minutes>', 'stop seeding after this many minutes').argParser(parsePositiveNumber))
      .option('--blocklist <file>', 'IP blocklist (CIDR, ranges, or P2P "name:a.b.c.d-e.f.g.h" lines): never connect to or accept these (repeatable)', collect, [])
      .option('--proxy <url>', 'SOCKS5 proxy (socks5://[user:pass@]host:port) for outgoing TCP peer connections, HTTP(S) trackers and web seeds')
      .option('--no-web-seeds', "do not download from the torrent's web seeds (BEP 19 url-list, a magnet's ws)")
      .option('--no-resume', "do not keep fast-resume data (DIR/.torrentkit/<info-hash>.resume): every start re-checks all data")
      .option('--no-pex', 'no peer exchange (BEP 11)')
      .option('--no-lsd', 'no local peer discovery (BEP 14)')
      .option('--lsd-interface <addr>', 'interface address for local peer discovery multicast (e.g. 127.0.0.1)')
      .option('--no-dht', 'no DHT (BEP 5)')
      .option('--no-port-forwarding', 'no port mappings on the router (UPnP IGD, NAT-PMP, PCP)')
      .option('--dht-bootstrap <host:port,...>', 'DHT bootstrap nodes (default: the public routers)')
      .option('--dht-state <file>', 'where the DHT routing table is kept between runs (default: $XDG_STATE_HOME/torrentkit/dht.json)')
      .option('--no-dht-state', 'do not keep the DHT routing table between runs')
      .option('--json', 'machine-readable progress: one JSON object per line')
      .addOption(new Option('--progress-interval <ms>', 'progress report interval').argParser(parsePositiveInt).default(1000))
      .option('-v, --verbose', 'debug logging on stderr');

  p.command('create')
    .description('create a .torrent from a file or directory')
    .argument('<path>')
    .option('-o, --output <file>', 'output .torrent (default: <name>.torrent)')
    .option('--tracker <url>', 'announce URL (repeatable; one tier each)', collect, [])
    .option('--web-seed <url>', 'web seed (BEP 19 url-list) serving the same files over HTTP(S) (repeatable)', collect, [])
    .addOption(new Option('--piece-length <n>', 'piece length in bytes (default: automatic)').argParser(parsePositiveInt))
    .option('--private', 'set the private flag')
    .option('--comment <text>', 'comment')
    .action(async (path: string, o) => {
      process.exitCode = await runCreate(path, o);
    });

  p.command('verify')
    .description('check the data under DIR against a .torrent (no network); exits 0 when complete, 1 when not')
    .argument('<torrent>')
    .requiredOption('--data <dir>', 'directory holding <name>/...')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => {
      process.exitCode = await runVerify(file, o);
    });

  p.command('info')
    .description('show what a .torrent or magnet link holds')
    .argument('<torrent-or-magnet>')
    .option('--json', 'print JSON')
    .action((src: string, o) => {
      process.exitCode = runInfo(src, o);
    });

  withNet(
    p
      .command('download')
      .description('download a torrent; exits 0 once every (selected) file is complete and verified')
      .argument('<torrent-or-magnet>')
      .option('-o, --output <dir>', 'download directory', '.')
      .addOption(
        new Option('--select-files <list>', 'download only these files, numbered from 1 as `info` lists them: 1,3-5 (the others are skipped)').argParser(
          parseFileList,
        ),
      )
      .option('--sequential', 'download pieces in order (streaming) instead of rarest-first')
      .option('--seed', 'keep seeding after the download completes'),
  ).action(async (file: string, o) => {
    process.exitCode = await runDownload(file, o);
  });

  withNet(
    p
      .command('seed')
      .description('seed a torrent from existing data until interrupted')
      .argument('<torrent>')
      .requiredOption('--data <dir>', 'directory holding <name>/...'),
  ).action(async (file: string, o) => {
    process.exitCode = await runSeed(file, o);
  });
  return p;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.OK : EXIT.USAGE;
      return;
    }
    if (e instanceof CliExit) {
      process.stderr.write(`torrentkit: ${e.message}\n`);
      process.exitCode = e.code;
      return;
    }
    if (e instanceof BtError) {
      const bad = e.code === 'ERR_UNSAFE_PATH' || e.code === 'ERR_METAINFO' || e.code === 'ERR_BENCODE';
      process.stderr.write(`torrentkit: ${e.message}${e.field ? ` (field ${e.field})` : ''} [${e.code}]\n`);
      process.exitCode = bad ? EXIT.BAD_TORRENT : EXIT.FAILURE;
      return;
    }
    process.stderr.write(`torrentkit: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}

await main();
// Whatever is left (sockets closed, workers terminated) must not keep us alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
