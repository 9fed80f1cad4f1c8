/**
 * Session: a persistent multi-torrent session over one ClientEngine (issue 15 item 1), the SessionApi the RPC layer
 * drives. Layout, save policy and decisions: NOTES.md beside this file.
 */
import * as path from 'node:path';
import type { Clock, Timer } from '../core/index.js';
import { BtError } from '../core/index.js';
import { NodeClock } from '../core/index.js';
import { bencode } from '../bencode/index.js';
import { ClientEngine, resumeDataPath, metadataCachePath } from '../engine/index.js';
import type { AddTorrentOptions, EngineSettings } from '../engine/index.js';
import type { MagnetLink, Metainfo } from '../metainfo/index.js';
import { assertSafePathComponent, parseMagnet, parseTorrent, pieceSize } from '../metainfo/index.js';
import type { StateFiles } from '../storage/index.js';
import { NodeStateFiles } from '../storage/index.js';
import type { TorrentManager, TorrentState } from '../torrent/index.js';
import { concatBytes } from '../util/index.js';
import type { SessionFs } from './fs.js';
import { NodeSessionFs } from './node-fs.js';
import { EMPTY_COUNTERS, defaultRecord, encodeSessionFile, parseSessionFile } from './records.js';
import type { SessionFileData } from './records.js';
import { DEFAULT_SESSION_SETTINGS, checkSettingsPatch, engineSettingsOf, queueLimitsOf, rateLimitsOf } from './settings.js';
import { GenerationalFile } from './state-file.js';
import type {
  AddResult,
  FilePriority,
  OpenSessionOptions,
  QueueMove,
  SessionAddOptions,
  SessionApi,
  SessionCounters,
  SessionSettings,
  SessionTorrent,
  TorrentPatch,
  TorrentRecord,
} from './types.js';

/** At most one coalesced save per this many ms (adds, removes and close save at once). */
export const SAVE_DELAY_MS = 2000;
/** How often running torrents' byte counters, activity, seeding time and idle limits are sampled. */
export const SAMPLE_INTERVAL_MS = 5000;
/** Removed ids kept for recently-active. */
const MAX_REMOVED = 5000;

const RUNNING: ReadonlySet<TorrentState> = new Set(['metadata', 'checking', 'queued', 'downloading', 'seeding', 'paused']);

/** Transmission's file priority and wish → the engine's 0..7 (0 = skip, 1 low, 4 normal, 7 high). */
export function enginePriority(wanted: boolean, p: FilePriority): number {
  if (!wanted) return 0;
  return p === -1 ? 1 : p === 1 ? 7 : 4;
}

/** One torrent of the session. */
class Entry implements SessionTorrent {
  /** The live engine torrent (replaced when trackers, location or file names change). */
  torrent!: TorrentManager;
  /** The metainfo as added (before renames and tracker removals), once known. */
  meta: Metainfo | undefined;
  magnetLink: MagnetLink | undefined;
  startDate = 0;
  /** Last sampled TorrentManager.transferred of the current engine torrent. */
  sampledUp = 0;
  sampledDown = 0;
  /** Clock ms of the last upload (or of entering seeding): the idle seeding limit counts from here. */
  lastUploadAt = 0;
  /** Unix seconds of the last state or record change (recently-active). */
  changedAt = 0;
  /** File choices given at add for a magnet, applied when its metadata arrives. */
  pendingFiles: SessionAddOptions | undefined;
  stopping = false;

  constructor(readonly record: TorrentRecord) {}

  get id(): number {
    return this.record.id;
  }

  get name(): string {
    return this.torrent.name;
  }

  get errorString(): string {
    return this.torrent.state === 'error' ? (this.torrent.error?.message ?? 'error') : '';
  }
}

export class Session implements SessionApi {
  readonly engine: ClientEngine;
  private settingsValue: SessionSettings;
  /** settings.json keys that are not session settings, written back unchanged (see openSession). */
  foreignSettings: Record<string, unknown> = {};
  private readonly entries = new Map<number, Entry>();
  private readonly byHash = new Map<string, Entry>();
  /** Entries in a running state (sampled each SAMPLE_INTERVAL_MS). */
  private readonly running = new Set<Entry>();
  private nextId: number;
  private readonly allTime: SessionCounters;
  private readonly run: SessionCounters = { ...EMPTY_COUNTERS, sessionCount: 1 };
  private readonly removed: [number, number][];
  private readonly openedAt: number;
  private dirty = false;
  private saveTimer: Timer | undefined;
  private readonly sampler: Timer;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Metainfo files being written, by info-hash. */
  private readonly metainfoWrites = new Map<string, Promise<void>>();
  /** Cached id-ordered list (list() is called per RPC request). */
  private listCache: Entry[] | undefined;

  private constructor(
    private readonly opts: OpenSessionOptions,
    private readonly files: StateFiles,
    private readonly fs: SessionFs,
    private readonly clock: Clock,
    private readonly settingsFile: GenerationalFile,
    private readonly sessionFile: GenerationalFile,
    settings: SessionSettings,
    data: SessionFileData | undefined,
  ) {
    this.settingsValue = settings;
    this.nextId = data?.nextId ?? 1;
    this.allTime = { ...(data?.counters ?? EMPTY_COUNTERS) };
    this.removed = data?.removed ?? [];
    this.openedAt = clock.now();
    const engineSettings: Partial<EngineSettings> = {
      ...engineSettingsOf(settings),
      dhtStateFile: path.join(opts.configDir, 'dht.dat'),
      ...opts.engineSettings,
    };
    this.engine = new ClientEngine(engineSettings, { ...opts.deps, clock, stateFiles: files });
    this.engine.on('warning', (m) => this.warn(m));
    this.sampler = clock.setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  static async open(opts: OpenSessionOptions): Promise<Session> {
    if (typeof opts.configDir !== 'string' || opts.configDir === '') {
      throw new BtError('ERR_SETTINGS', 'openSession needs a configDir', { op: 'settings', field: 'configDir' });
    }
    const files = opts.deps?.stateFiles ?? new NodeStateFiles();
    const clock = opts.deps?.clock ?? new NodeClock();
    const warn = (m: string): void => opts.onWarning?.(m);
    const settingsFile = new GenerationalFile(files, path.join(opts.configDir, 'settings.json'), warn);
    const sessionFile = new GenerationalFile(files, path.join(opts.configDir, 'session.json'), warn);
    // Keys of settings.json that are not session settings (the daemon's rpc-*, watch-dir, a later version's) are
    // kept as they are and written back with every save.
    let foreign: Record<string, unknown> = {};
    const fromFile = await settingsFile.load((json) => {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
      const raw = json as Record<string, unknown>;
      foreign = Object.fromEntries(Object.entries(raw).filter(([k]) => !(k in DEFAULT_SESSION_SETTINGS)));
      return checkSettingsPatch(raw, settingsFile.path, true);
    });
    const defaults = checkSettingsPatch({ ...(opts.defaults ?? {}) }, 'defaults');
    const settings: SessionSettings = { ...DEFAULT_SESSION_SETTINGS, extra: {}, ...defaults, ...fromFile };
    if (settings.downloadDir === '') settings.downloadDir = path.join(opts.configDir, 'downloads');
    const data = await sessionFile.load(parseSessionFile);
    const s = new Session(opts, files, opts.fs ?? new NodeSessionFs(), clock, settingsFile, sessionFile, settings, data);
    s.foreignSettings = foreign;
    s.allTime.sessionCount++;
    try {
      await s.restore(data?.torrents ?? []);
      if (fromFile === undefined) await s.saveSettings();
      s.dirty = true;
      await s.flush();
    } catch (e) {
      await s.engine.dispose();
      s.sampler.cancel();
      throw e;
    }
    return s;
  }

  get settings(): Readonly<SessionSettings> {
    return this.settingsValue;
  }

  list(): readonly SessionTorrent[] {
    this.listCache ??= [...this.entries.values()].sort((a, b) => a.id - b.id);
    return this.listCache;
  }

  get(idOrHash: number | string): SessionTorrent | undefined {
    if (typeof idOrHash === 'number') return this.entries.get(idOrHash);
    return this.byHash.get(idOrHash.toLowerCase());
  }

  // ------------------------------------------------------------------ add / remove

  async add(source: Uint8Array | string, opts: SessionAddOptions = {}): Promise<AddResult> {
    this.assertOpen('start');
    let meta: Metainfo | undefined;
    let magnet: MagnetLink | undefined;
    if (typeof source === 'string') magnet = parseMagnet(source);
    else meta = parseTorrent(source);
    const hex = (meta ?? magnet)!.infoHashHex;
    const existing = this.byHash.get(hex);
    if (existing) return { torrent: existing, duplicate: true };
    const downloadDir = opts.downloadDir ?? this.settingsValue.downloadDir;
    if (!path.isAbsolute(downloadDir)) throw new BtError('ERR_SETTINGS', `download dir must be an absolute path: ${downloadDir}`, { op: 'settings', field: 'downloadDir' });
    const now = this.unixNow();
    const rec = defaultRecord(this.nextId, hex, downloadDir);
    rec.addedDate = now;
    rec.queuePosition = this.entries.size;
    rec.started = !(opts.paused ?? !this.settingsValue.startAddedTorrents);
    rec.peerLimit = opts.peerLimit ?? this.settingsValue.peerLimitPerTorrent;
    if (opts.peerLimit !== undefined && !(Number.isInteger(opts.peerLimit) && opts.peerLimit > 0)) {
      throw new BtError('ERR_SETTINGS', `peer-limit must be a positive integer, not ${opts.peerLimit}`, { op: 'settings', field: 'peerLimit' });
    }
    if (opts.labels !== undefined) rec.labels = checkLabels(opts.labels);
    if (opts.bandwidthPriority !== undefined) rec.bandwidthPriority = checkPriority(opts.bandwidthPriority, 'bandwidthPriority');
    if (magnet) rec.magnet = source as string;
    if (meta) applyFileChoices(rec, meta.info.files.length, opts, true);
    this.nextId++;
    const e = new Entry(rec);
    e.meta = meta;
    e.magnetLink = magnet;
    if (magnet) e.pendingFiles = opts;
    e.changedAt = now;
    await this.attach(e);
    // The metainfo file is written beside (not before) the answer; the next session.json save waits for it, so a
    // saved record always has its metainfo on disk.
    if (meta) this.writeTorrentFile(hex, source as Uint8Array);
    this.run.filesAdded++;
    if (rec.started) this.kick(e);
    this.saveNow();
    return { torrent: e, duplicate: false };
  }

  async remove(t: SessionTorrent, opts: { deleteData?: boolean } = {}): Promise<void> {
    const e = this.entry(t);
    this.sampleEntry(e);
    this.entries.delete(e.id);
    this.byHash.delete(e.record.infoHashHex);
    this.running.delete(e);
    this.listCache = undefined;
    for (const o of this.entries.values()) if (o.record.queuePosition > e.record.queuePosition) o.record.queuePosition--;
    this.removed.push([e.id, this.unixNow()]);
    if (this.removed.length > MAX_REMOVED) this.removed.splice(0, this.removed.length - MAX_REMOVED);
    await this.engine.removeTorrent(e.torrent);
    await this.metainfoWrites.get(e.record.infoHashHex);
    await this.files.remove?.(this.torrentFile(e.record.infoHashHex));
    this.saveNow();
    if (opts.deleteData) await this.deleteData(e);
  }

  // ------------------------------------------------------------------ start / stop / verify

  start(t: SessionTorrent, _opts: { now?: boolean } = {}): Promise<void> {
    const e = this.entry(t);
    e.record.started = true;
    this.touch(e);
    this.kick(e);
    return Promise.resolve();
  }

  async stop(t: SessionTorrent): Promise<void> {
    const e = this.entry(t);
    e.record.started = false;
    this.touch(e);
    this.sampleEntry(e);
    await e.torrent.stop();
    this.sampleEntry(e);
  }

  verify(t: SessionTorrent): Promise<void> {
    const e = this.entry(t);
    this.touch(e);
    e.torrent.recheck().catch((err: unknown) => this.warn(`verify of ${e.name}: ${(err as Error).message}`));
    return Promise.resolve();
  }

  reannounce(t: SessionTorrent): void {
    this.entry(t).torrent.announce();
  }

  // ------------------------------------------------------------------ torrent-set

  async set(t: SessionTorrent, patch: TorrentPatch): Promise<void> {
    const e = this.entry(t);
    const rec = e.record;
    const p = checkPatch(patch);
    let rebuild = false;
    if (p.bandwidthPriority !== undefined) rec.bandwidthPriority = p.bandwidthPriority;
    for (const k of ['downloadLimit', 'uploadLimit', 'seedRatioLimit', 'seedIdleLimit', 'peerLimit'] as const) if (p[k] !== undefined) rec[k] = p[k];
    for (const k of ['downloadLimited', 'uploadLimited', 'honorsSessionLimits', 'sequential'] as const) if (p[k] !== undefined) rec[k] = p[k];
    if (p.seedRatioMode !== undefined) rec.seedRatioMode = p.seedRatioMode;
    if (p.seedIdleMode !== undefined) rec.seedIdleMode = p.seedIdleMode;
    if (p.labels !== undefined) rec.labels = p.labels;
    const files = [p.filesWanted, p.filesUnwanted, p.priorityHigh, p.priorityLow, p.priorityNormal].some((l) => l !== undefined);
    if (files) {
      if (!e.torrent.hasMetadata) throw new BtError('ERR_STATE', 'the torrent has no metadata yet: its files are not known', { op: 'settings', field: 'files' });
      applyFileChoices(rec, e.torrent.files.length, p, false);
      e.torrent.setFilePriorities(rec.wanted.map((w, i) => enginePriority(w, rec.priorities[i] ?? 0)));
    }
    if (p.trackerAdd !== undefined || p.trackerRemove !== undefined || p.trackerList !== undefined) {
      this.changeTrackers(e, p);
      rebuild = true;
    }
    if (p.queuePosition !== undefined) this.moveTo(e, p.queuePosition);
    this.applyLimits(e);
    this.touch(e);
    if (p.location !== undefined) await this.setLocation(e, p.location, false);
    else if (rebuild) await this.rebuild(e);
    this.dirty = true;
    this.scheduleSave();
  }

  async setLocation(t: SessionTorrent, dir: string, move: boolean): Promise<void> {
    const e = this.entry(t);
    if (typeof dir !== 'string' || !path.isAbsolute(dir) || dir.includes('\0')) {
      throw new BtError('ERR_SETTINGS', `location must be an absolute path: ${JSON.stringify(dir)}`, { op: 'settings', field: 'location' });
    }
    const to = path.resolve(dir);
    const from = path.resolve(e.record.downloadDir);
    if (to === from) return;
    this.sampleEntry(e);
    if (move) {
      await e.torrent.stop();
      this.sampleEntry(e);
      const hex = e.record.infoHashHex;
      const tops = e.torrent.hasMetadata ? topLevelItems(e.torrent.meta) : [];
      for (const top of tops) {
        if (await this.fs.exists(path.join(to, top))) {
          throw new BtError('ERR_STORAGE', `cannot move ${top} to ${to}: it exists there already`, { op: 'write', field: 'location' });
        }
      }
      for (const top of tops) if (await this.fs.exists(path.join(from, top))) await this.fs.move(path.join(from, top), path.join(to, top));
      // The resume data describes the same files (sizes, mtimes): it moves with them, so nothing is hashed again.
      for (const f of [resumeDataPath, metadataCachePath]) {
        if (await this.fs.exists(f(from, hex))) await this.fs.move(f(from, hex), f(to, hex));
      }
    }
    e.record.downloadDir = to;
    this.touch(e);
    await this.rebuild(e);
    this.dirty = true;
    this.scheduleSave();
  }

  async renamePath(t: SessionTorrent, from: string, name: string): Promise<{ path: string; name: string }> {
    const e = this.entry(t);
    if (!e.torrent.hasMetadata) throw new BtError('ERR_STATE', 'the torrent has no metadata yet: its files are not known', { op: 'validate', field: 'path' });
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
      throw new BtError('ERR_UNSAFE_PATH', `rename-path: the new name must be one path component, not ${JSON.stringify(name)}`, { op: 'validate', field: 'name' });
    }
    assertSafePathComponent(name, 'name');
    if (typeof from !== 'string' || from === '' || from.includes('\0') || from.startsWith('/')) {
      throw new BtError('ERR_UNSAFE_PATH', `rename-path: not a path of the torrent: ${JSON.stringify(from)}`, { op: 'validate', field: 'path' });
    }
    const comps = from.split('/');
    if (comps.some((c) => c === '' || c === '.' || c === '..')) {
      throw new BtError('ERR_UNSAFE_PATH', `rename-path: not a path of the torrent: ${JSON.stringify(from)}`, { op: 'validate', field: 'path' });
    }
    const files = e.torrent.meta.info.files;
    const matches = files.filter((f) => startsWith(f.path, comps));
    if (matches.length === 0) throw new BtError('ERR_UNSAFE_PATH', `rename-path: ${JSON.stringify(from)} is not a file or folder of the torrent`, { op: 'validate', field: 'path' });
    const renamed = [...comps.slice(0, -1), name];
    if (comps.join('/') === renamed.join('/')) return { path: from, name };
    if (files.some((f) => startsWith(f.path, renamed) || startsWith(renamed, f.path))) {
      throw new BtError('ERR_UNSAFE_PATH', `rename-path: ${renamed.join('/')} exists in the torrent already`, { op: 'validate', field: 'name' });
    }
    const dir = e.record.downloadDir;
    const src = path.join(dir, ...comps);
    const dst = path.join(dir, ...renamed);
    if (!isInside(dir, src) || !isInside(dir, dst)) throw new BtError('ERR_UNSAFE_PATH', 'rename-path: outside the torrent directory', { op: 'validate', field: 'path' });
    this.sampleEntry(e);
    await e.torrent.stop();
    this.sampleEntry(e);
    if (await this.fs.exists(src)) {
      if (await this.fs.exists(dst)) throw new BtError('ERR_STORAGE', `rename-path: ${dst} exists already`, { op: 'write', field: 'name' });
      await this.fs.move(src, dst);
    }
    (e.record.renames ??= []).push([from, name]);
    if (comps.length === 1) e.record.name = name;
    this.touch(e);
    await this.rebuild(e);
    this.dirty = true;
    this.scheduleSave();
    return { path: from, name };
  }

  queueMove(ts: readonly SessionTorrent[], how: QueueMove): void {
    const order = [...this.entries.values()].sort((a, b) => a.record.queuePosition - b.record.queuePosition);
    const moving = new Set(ts.map((t) => this.entry(t)));
    let next: Entry[];
    if (how === 'top' || how === 'bottom') {
      const picked = order.filter((e) => moving.has(e));
      const rest = order.filter((e) => !moving.has(e));
      next = how === 'top' ? [...picked, ...rest] : [...rest, ...picked];
    } else {
      next = order.slice();
      if (how === 'up') {
        for (let i = 1; i < next.length; i++) {
          if (moving.has(next[i]) && !moving.has(next[i - 1])) [next[i - 1], next[i]] = [next[i], next[i - 1]];
        }
      } else {
        for (let i = next.length - 2; i >= 0; i--) {
          if (moving.has(next[i]) && !moving.has(next[i + 1])) [next[i], next[i + 1]] = [next[i + 1], next[i]];
        }
      }
    }
    this.renumber(next);
    for (const e of moving) this.touch(e);
    this.dirty = true;
    this.scheduleSave();
  }

  // ------------------------------------------------------------------ session settings

  async updateSettings(patch: Partial<SessionSettings>): Promise<void> {
    this.assertOpen('settings');
    const p = checkSettingsPatch(patch as Record<string, unknown>, 'session-set');
    if (p.downloadDir !== undefined && !path.isAbsolute(p.downloadDir)) {
      throw new BtError('ERR_SETTINGS', `session-set: download-dir must be an absolute path: ${p.downloadDir}`, { op: 'settings', field: 'downloadDir' });
    }
    const next: SessionSettings = { ...this.settingsValue, ...p, extra: { ...this.settingsValue.extra, ...(p.extra ?? {}) } };
    this.settingsValue = next;
    const cli = this.opts.engineSettings ?? {};
    if (cli.maxDownloadRate === undefined || cli.maxUploadRate === undefined) {
      const r = rateLimitsOf(next);
      this.engine.setRateLimits({ ...(cli.maxDownloadRate === undefined ? { download: r.download } : {}), ...(cli.maxUploadRate === undefined ? { upload: r.upload } : {}) });
    }
    const q = queueLimitsOf(next);
    this.engine.setQueueLimits({
      ...(cli.maxActiveDownloads === undefined ? { maxActiveDownloads: q.maxActiveDownloads } : {}),
      ...(cli.maxActiveSeeds === undefined ? { maxActiveSeeds: q.maxActiveSeeds } : {}),
    });
    if (p.seedRatioLimit !== undefined || p.seedRatioLimited !== undefined) {
      for (const e of this.entries.values()) if (e.record.seedRatioMode === 0) this.applySeedLimits(e);
    }
    await this.saveSettings();
  }

  counters(): { current: SessionCounters; cumulative: SessionCounters } {
    const current: SessionCounters = { ...this.run, secondsActive: Math.floor((this.clock.now() - this.openedAt) / 1000) };
    const c = this.allTime;
    return {
      current,
      cumulative: {
        uploadedBytes: c.uploadedBytes + current.uploadedBytes,
        downloadedBytes: c.downloadedBytes + current.downloadedBytes,
        filesAdded: c.filesAdded + current.filesAdded,
        secondsActive: c.secondsActive + current.secondsActive,
        sessionCount: c.sessionCount,
      },
    };
  }

  removedSince(since: number): number[] {
    const out: number[] = [];
    for (let i = this.removed.length - 1; i >= 0 && this.removed[i][1] >= since; i--) out.push(this.removed[i][0]);
    return out.reverse();
  }

  activeSince(since: number): SessionTorrent[] {
    return this.list().filter((t) => {
      const e = t as Entry;
      return Math.max(e.changedAt, e.record.activityDate) >= since;
    });
  }

  async save(): Promise<void> {
    this.sample();
    this.dirty = true;
    await this.flush();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.saveTimer?.cancel();
      this.saveTimer = undefined;
      this.sampler.cancel();
      // Trackers hear `stopped` from every running torrent (the records keep the user's wish: started).
      await Promise.all([...this.entries.values()].map((e) => e.torrent.stop().catch((err: unknown) => this.warn(`stopping ${e.name}: ${(err as Error).message}`))));
      this.sample();
      this.dirty = true;
      try {
        await this.flush();
      } finally {
        await this.engine.dispose();
      }
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ internals: torrents

  private async restore(records: TorrentRecord[]): Promise<void> {
    const sorted = records.slice().sort((a, b) => a.queuePosition - b.queuePosition);
    // Read every metainfo file at once (bounded by the state file layer), then add in queue order.
    const metas = await Promise.all(
      sorted.map(async (rec) => {
        if (rec.magnet !== undefined) return undefined;
        try {
          const bytes = await this.files.read(this.torrentFile(rec.infoHashHex));
          if (!bytes) throw new Error(`${this.torrentFile(rec.infoHashHex)} is missing`);
          const m = parseTorrent(bytes);
          if (m.infoHashHex !== rec.infoHashHex) throw new Error(`${this.torrentFile(rec.infoHashHex)} holds another torrent`);
          return m;
        } catch (err) {
          return err as Error;
        }
      }),
    );
    const toStart: Entry[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const rec = sorted[i];
      const m = metas[i];
      if (m instanceof Error) {
        this.warn(`torrent ${rec.id} (${rec.infoHashHex}) not restored: ${m.message}`);
        this.removed.push([rec.id, this.unixNow()]);
        continue;
      }
      const e = new Entry(rec);
      e.meta = m;
      try {
        if (rec.magnet !== undefined) e.magnetLink = parseMagnet(rec.magnet);
        await this.attach(e);
      } catch (err) {
        this.warn(`torrent ${rec.id} (${rec.infoHashHex}) not restored: ${(err as Error).message}`);
        this.removed.push([rec.id, this.unixNow()]);
        continue;
      }
      if (rec.started) toStart.push(e);
    }
    this.renumber([...this.entries.values()].sort((a, b) => a.record.queuePosition - b.record.queuePosition));
    // Start in the background, a few checks at a time (fast resume makes each one quick): the list is complete now.
    const queue = toStart.slice();
    const worker = async (): Promise<void> => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        if (this.closed) return;
        if (!e.record.started || this.entries.get(e.id) !== e) continue;
        e.startDate = this.unixNow();
        await e.torrent.start().catch((err: unknown) => this.warn(`starting ${e.name}: ${(err as Error).message}`));
      }
    };
    const n = Math.max(1, this.opts.restoreConcurrency ?? 8);
    for (let i = 0; i < n; i++) void worker();
  }

  /** Create the entry's engine torrent from its record and wire its events; register the entry. */
  private async attach(e: Entry): Promise<void> {
    const rec = e.record;
    const source = this.sourceOf(e);
    const opts: AddTorrentOptions = {
      downloadDir: rec.downloadDir,
      trackers: rec.addedTrackers,
      sequential: rec.sequential,
      peerLimit: rec.peerLimit,
      ...(rec.wanted.length > 0 ? { filePriorities: rec.wanted.map((w, i) => enginePriority(w, rec.priorities[i] ?? 0)) } : {}),
    };
    const t = await this.engine.addTorrent(source, opts);
    e.torrent = t;
    e.sampledUp = 0;
    e.sampledDown = 0;
    if (!e.meta && t.hasMetadata) this.onMetadata(e, t.meta);
    t.on('state', (s) => this.onState(e, t, s));
    t.on('complete', () => {
      if (e.torrent !== t) return;
      if (rec.doneDate === 0 || e.torrent.complete) rec.doneDate = this.unixNow();
      this.touch(e);
    });
    t.on('piece-verified', () => {
      rec.activityDate = this.unixNow();
      this.markDirty();
    });
    t.on('hash-failed', (index) => {
      if (t.hasMetadata) rec.corruptEver += pieceSize(t.meta.info, index);
    });
    t.on('metadata', (meta) => {
      if (e.torrent === t) this.onMetadata(e, meta);
    });
    t.on('seed-limit', () => {
      if (e.torrent !== t) return;
      rec.started = false;
      this.touch(e);
    });
    this.entries.set(rec.id, e);
    this.byHash.set(rec.infoHashHex, e);
    this.listCache = undefined;
    this.applyLimits(e);
  }

  /** Replace the entry's engine torrent (trackers, location or file names changed); start it again if wanted. */
  private async rebuild(e: Entry): Promise<void> {
    this.sampleEntry(e);
    this.running.delete(e);
    await this.engine.removeTorrent(e.torrent);
    this.entries.delete(e.id);
    await this.attach(e);
    if (e.record.started) this.kick(e);
  }

  /** The source to add: the metainfo with renames and removed trackers applied, or the magnet. */
  private sourceOf(e: Entry): Metainfo | MagnetLink {
    const rec = e.record;
    const removed = new Set(rec.removedTrackers);
    if (!e.meta) {
      const m = e.magnetLink!;
      return { ...m, trackers: m.trackers.filter((u) => !removed.has(u)) };
    }
    const meta = e.meta;
    const announceList = meta.announceList.map((tier) => tier.filter((u) => !removed.has(u))).filter((tier) => tier.length > 0);
    let files = meta.info.files;
    let name = meta.info.name;
    for (const [from, to] of rec.renames ?? []) {
      const comps = from.split('/');
      files = files.map((f) => (startsWith(f.path, comps) ? { ...f, path: [...f.path.slice(0, comps.length - 1), to, ...f.path.slice(comps.length)] } : f));
      if (comps.length === 1 && comps[0] === name) name = to;
    }
    return { ...meta, announceList, announce: announceList[0]?.[0], info: { ...meta.info, name, files } };
  }

  private onMetadata(e: Entry, meta: Metainfo): void {
    const rec = e.record;
    e.meta = meta;
    if (rec.wanted.length === 0) applyFileChoices(rec, meta.info.files.length, e.pendingFiles ?? {}, true);
    e.pendingFiles = undefined;
    delete rec.magnet;
    e.torrent.setFilePriorities(rec.wanted.map((w, i) => enginePriority(w, rec.priorities[i] ?? 0)));
    this.applySeedLimits(e);
    this.touch(e);
    this.writeTorrentFile(meta.infoHashHex, encodeTorrent(meta));
    this.saveSoon();
  }

  /** Write `<configDir>/torrents/<hash>.torrent` (tracked: session.json is saved only after it is on disk). */
  private writeTorrentFile(hex: string, bytes: Uint8Array): void {
    const p = this.files.writeAtomic(this.torrentFile(hex), bytes).then(
      () => {
        if (this.metainfoWrites.get(hex) === p) this.metainfoWrites.delete(hex);
      },
      (err: unknown) => {
        if (this.metainfoWrites.get(hex) === p) this.metainfoWrites.delete(hex);
        this.warn(`cannot save the metainfo of ${hex} in ${this.torrentFile(hex)}: ${(err as Error).message}`);
      },
    );
    this.metainfoWrites.set(hex, p);
  }

  private onState(e: Entry, t: TorrentManager, s: TorrentState): void {
    if (e.torrent !== t) return;
    if (RUNNING.has(s)) this.running.add(e);
    else {
      this.sampleEntry(e);
      this.running.delete(e);
    }
    if (s === 'seeding') e.lastUploadAt = this.clock.now();
    e.changedAt = this.unixNow();
  }

  /** Start the engine torrent without waiting for its check. */
  private kick(e: Entry): void {
    e.startDate = this.unixNow();
    const t = e.torrent;
    t.start().catch((err: unknown) => this.warn(`starting ${e.name}: ${(err as Error).message}`));
  }

  private applyLimits(e: Entry): void {
    const rec = e.record;
    const t = e.torrent;
    t.setRateLimits({ download: rec.downloadLimited ? rec.downloadLimit * 1000 : 0, upload: rec.uploadLimited ? rec.uploadLimit * 1000 : 0 });
    t.peerLimit = rec.peerLimit;
    if (t.sequential !== rec.sequential) t.sequential = rec.sequential;
    this.applySeedLimits(e);
  }

  /** The ratio limit (record's or the session's by mode) as the engine's, over what this engine torrent uploads. */
  private applySeedLimits(e: Entry): void {
    const t = e.torrent;
    const ratio = this.ratioLimit(e.record);
    if (ratio === undefined || !t.hasMetadata) {
      t.setSeedLimits({ ratio: 0 });
      return;
    }
    const size = t.meta.info.totalLength;
    // The engine counts this TorrentManager's uploads only; earlier runs' bytes are in uploadedEver.
    const before = e.record.uploadedEver - e.sampledUp;
    t.setSeedLimits({ ratio: size > 0 ? Math.max(1e-9, (ratio * size - before) / size) : 0 });
  }

  private ratioLimit(rec: TorrentRecord): number | undefined {
    if (rec.seedRatioMode === 2) return undefined;
    if (rec.seedRatioMode === 1) return rec.seedRatioLimit;
    return this.settingsValue.seedRatioLimited ? this.settingsValue.seedRatioLimit : undefined;
  }

  private idleLimitMinutes(rec: TorrentRecord): number | undefined {
    if (rec.seedIdleMode === 2) return undefined;
    if (rec.seedIdleMode === 1) return rec.seedIdleLimit;
    return this.settingsValue.idleSeedingLimitEnabled ? this.settingsValue.idleSeedingLimit : undefined;
  }

  private changeTrackers(e: Entry, p: TorrentPatch): void {
    const rec = e.record;
    const own = e.meta ? e.meta.announceList.flat() : (e.magnetLink?.trackers ?? []);
    const ownSet = new Set(own);
    if (p.trackerList !== undefined) {
      const tiers = p.trackerList
        .split(/\r?\n\s*\r?\n/)
        .map((block) => block.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== ''))
        .filter((tier) => tier.length > 0);
      for (const u of tiers.flat()) checkTrackerUrl(u);
      const listed = new Set(tiers.flat());
      rec.removedTrackers = own.filter((u) => !listed.has(u));
      rec.addedTrackers = tiers.map((tier) => tier.filter((u) => !ownSet.has(u))).filter((tier) => tier.length > 0);
    }
    if (p.trackerRemove !== undefined) {
      const status = e.torrent.trackers;
      for (const id of p.trackerRemove) {
        const st = status[id];
        if (!st) throw new BtError('ERR_SETTINGS', `no tracker with id ${id}`, { op: 'settings', field: 'trackerRemove' });
        if (ownSet.has(st.url) && !rec.removedTrackers.includes(st.url)) rec.removedTrackers.push(st.url);
        rec.addedTrackers = rec.addedTrackers.map((tier) => tier.filter((u) => u !== st.url)).filter((tier) => tier.length > 0);
      }
    }
    if (p.trackerAdd !== undefined) {
      for (const u of p.trackerAdd) {
        checkTrackerUrl(u);
        if (rec.removedTrackers.includes(u)) rec.removedTrackers = rec.removedTrackers.filter((x) => x !== u);
        else if (!ownSet.has(u) && !rec.addedTrackers.some((tier) => tier.includes(u))) rec.addedTrackers.push([u]);
      }
    }
  }

  private async deleteData(e: Entry): Promise<void> {
    const dir = path.resolve(e.record.downloadDir);
    const hex = e.record.infoHashHex;
    const t = e.torrent;
    const dirs = new Set<string>();
    if (t.hasMetadata) {
      for (const f of t.meta.info.files) {
        const p = path.join(dir, ...f.path);
        if (!isInside(dir, p)) continue;
        await this.fs.removeFile(p).catch((err: unknown) => this.warn(`cannot delete ${p}: ${(err as Error).message}`));
        for (let d = path.dirname(p); d !== dir && isInside(dir, d); d = path.dirname(d)) dirs.add(d);
      }
    }
    // Deepest first: a folder goes once the files the torrent created in it are gone and nothing else is there.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) await this.fs.removeEmptyDir(d);
    await this.fs.removeFile(resumeDataPath(dir, hex));
    await this.fs.removeFile(metadataCachePath(dir, hex));
    await this.fs.removeEmptyDir(path.join(dir, '.torrentkit'));
  }

  // ------------------------------------------------------------------ internals: sampling, queue, saving

  /** Byte counters, activity, time downloading/seeding and idle seed limits of running torrents. */
  private sample(): void {
    const now = this.clock.now();
    for (const e of this.running) {
      const st = e.torrent.state;
      if (st === 'downloading') e.record.secondsDownloading += SAMPLE_INTERVAL_MS / 1000;
      else if (st === 'seeding') e.record.secondsSeeding += SAMPLE_INTERVAL_MS / 1000;
      this.sampleEntry(e);
      if (st === 'seeding' && !e.stopping) {
        const idle = this.idleLimitMinutes(e.record);
        if (idle !== undefined && now - e.lastUploadAt >= idle * 60_000) {
          e.record.started = false;
          e.stopping = true;
          this.touch(e);
          this.warn(`${e.name}: idle for ${idle} min while seeding: stopped`);
          void e.torrent.stop().finally(() => (e.stopping = false));
        }
      }
    }
    if (this.running.size > 0) this.markDirty();
  }

  private sampleEntry(e: Entry): void {
    const { uploaded, downloaded } = e.torrent.transferred;
    const up = uploaded - e.sampledUp;
    const down = downloaded - e.sampledDown;
    if (up <= 0 && down <= 0) return;
    e.sampledUp = uploaded;
    e.sampledDown = downloaded;
    e.record.uploadedEver += up;
    e.record.downloadedEver += down;
    this.run.uploadedBytes += up;
    this.run.downloadedBytes += down;
    e.record.activityDate = this.unixNow();
    if (up > 0) e.lastUploadAt = this.clock.now();
    this.markDirty();
  }

  private moveTo(e: Entry, pos: number): void {
    const order = [...this.entries.values()].sort((a, b) => a.record.queuePosition - b.record.queuePosition).filter((x) => x !== e);
    order.splice(Math.min(Math.max(0, pos), order.length), 0, e);
    this.renumber(order);
  }

  private renumber(order: Entry[]): void {
    order.forEach((e, i) => {
      if (e.record.queuePosition !== i) {
        e.record.queuePosition = i;
        e.changedAt = this.unixNow();
      }
    });
  }

  private touch(e: Entry): void {
    e.changedAt = this.unixNow();
    this.markDirty();
  }

  private markDirty(): void {
    this.dirty = true;
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.closed) return;
    this.saveTimer = this.clock.setTimeout(() => {
      this.saveTimer = undefined;
      void this.flush();
    }, SAVE_DELAY_MS);
  }

  /**
   * Save now without making the caller wait for it: adds and removes start a save at once; several of them in a row
   * share the saves in flight (group commit: a save writes everything changed before it started).
   */
  private saveNow(): void {
    this.dirty = true;
    this.flush().catch(() => undefined);
  }

  private saveSoon(): void {
    this.dirty = true;
    this.scheduleSave();
  }

  /** Write session.json if anything changed (one writer: saves queue behind each other). */
  private flush(): Promise<void> {
    const p = this.saving.then(async () => {
      if (!this.dirty) return;
      // Records may be saved only once their metainfo files are on disk.
      if (this.metainfoWrites.size > 0) await Promise.all([...this.metainfoWrites.values()]);
      this.dirty = false;
      const c = this.counters().cumulative;
      const data: SessionFileData = {
        version: 1,
        nextId: this.nextId,
        counters: c,
        removed: this.removed,
        torrents: [...this.entries.values()].map((e) => e.record),
      };
      try {
        await this.sessionFile.save(encodeSessionFile(data));
      } catch (err) {
        this.dirty = true;
        this.warn(`cannot save ${this.sessionFile.path}: ${(err as Error).message}`);
        throw err;
      }
    });
    this.saving = p.catch(() => undefined);
    return p;
  }

  private saveSettings(): Promise<void> {
    return this.settingsFile.save(new TextEncoder().encode(JSON.stringify({ ...this.foreignSettings, ...this.settingsValue }, null, 2)));
  }

  private torrentFile(hex: string): string {
    return path.join(this.opts.configDir, 'torrents', `${hex}.torrent`);
  }

  private entry(t: SessionTorrent): Entry {
    const e = this.entries.get(t.id);
    if (!e || e !== t) throw new BtError('ERR_STATE', `torrent ${t.id} is not in the session`, { op: 'validate' });
    return e;
  }

  private assertOpen(op: 'start' | 'settings'): void {
    if (this.closed) throw new BtError('ERR_STATE', 'the session is closed', { op });
  }

  private unixNow(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  private warn(m: string): void {
    this.opts.onWarning?.(m);
  }
}

/** Open (or create) the session in opts.configDir and restore its torrents. */
export function openSession(opts: OpenSessionOptions): Promise<Session> {
  return Session.open(opts);
}

// ------------------------------------------------------------------ pure helpers

function startsWith(a: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(p));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The top-level files or folders of the torrent in its download dir. */
function topLevelItems(meta: Metainfo): string[] {
  return [...new Set(meta.info.files.map((f) => f.path[0]))];
}

/** A .torrent of fetched metadata: announce-list (if any) and the exact info bytes. */
function encodeTorrent(meta: Metainfo): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode('d')];
  if (meta.announceList.length > 0) parts.push(enc.encode('13:announce-list'), bencode(meta.announceList.map((t) => [...t])));
  parts.push(enc.encode('4:info'), meta.infoBytes, enc.encode('e'));
  return concatBytes(parts);
}

function checkTrackerUrl(u: unknown): void {
  if (typeof u !== 'string' || !/^(https?|udp):\/\/[^\s]+$/i.test(u)) {
    throw new BtError('ERR_SETTINGS', `not a tracker URL (http, https or udp): ${JSON.stringify(u)}`, { op: 'settings', field: 'trackers' });
  }
}

function checkLabels(v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((l) => typeof l === 'string' && !l.includes(','))) {
    throw new BtError('ERR_SETTINGS', 'labels must be a list of strings without commas', { op: 'settings', field: 'labels' });
  }
  return [...new Set(v as string[])];
}

function checkPriority(v: unknown, field: string): FilePriority {
  if (v !== -1 && v !== 0 && v !== 1) throw new BtError('ERR_SETTINGS', `${field} must be -1, 0 or 1, not ${JSON.stringify(v)}`, { op: 'settings', field });
  return v;
}

/** Validate a torrent-set patch (types and ranges); BtError ERR_SETTINGS naming the field. */
function checkPatch(p: TorrentPatch): TorrentPatch {
  const bad = (field: string, why: string): never => {
    throw new BtError('ERR_SETTINGS', `torrent-set: ${field} ${why}`, { op: 'settings', field });
  };
  const out: TorrentPatch = { ...p };
  for (const k of ['downloadLimit', 'uploadLimit', 'seedIdleLimit'] as const) {
    const v = p[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) bad(k, `must be a whole number >= 0, not ${JSON.stringify(v)}`);
  }
  if (p.seedRatioLimit !== undefined && !(typeof p.seedRatioLimit === 'number' && Number.isFinite(p.seedRatioLimit) && p.seedRatioLimit >= 0)) bad('seedRatioLimit', 'must be a number >= 0');
  if (p.peerLimit !== undefined && !(Number.isInteger(p.peerLimit) && p.peerLimit > 0)) bad('peerLimit', 'must be a positive integer');
  if (p.queuePosition !== undefined && !(Number.isInteger(p.queuePosition) && p.queuePosition >= 0)) bad('queuePosition', 'must be a whole number >= 0');
  for (const k of ['downloadLimited', 'uploadLimited', 'honorsSessionLimits', 'sequential'] as const) {
    if (p[k] !== undefined && typeof p[k] !== 'boolean') bad(k, 'must be a boolean');
  }
  for (const k of ['seedRatioMode', 'seedIdleMode'] as const) if (p[k] !== undefined && ![0, 1, 2].includes(p[k])) bad(k, 'must be 0, 1 or 2');
  if (p.bandwidthPriority !== undefined) checkPriority(p.bandwidthPriority, 'bandwidthPriority');
  if (p.labels !== undefined) out.labels = checkLabels(p.labels);
  for (const k of ['filesWanted', 'filesUnwanted', 'priorityHigh', 'priorityLow', 'priorityNormal', 'trackerRemove'] as const) {
    const v = p[k];
    if (v !== undefined && !(Array.isArray(v) && v.every((i) => Number.isInteger(i) && i >= 0))) bad(k, 'must be a list of indexes');
  }
  if (p.trackerAdd !== undefined && !(Array.isArray(p.trackerAdd) && p.trackerAdd.every((u) => typeof u === 'string'))) bad('trackerAdd', 'must be a list of URLs');
  if (p.trackerList !== undefined && typeof p.trackerList !== 'string') bad('trackerList', 'must be a string');
  if (p.location !== undefined && typeof p.location !== 'string') bad('location', 'must be a path');
  return out;
}

/**
 * Apply file choices (indexes; an empty list means every file, as Transmission reads it) to the record's wanted and
 * priorities, sized to `n` files; `fresh`: start from all wanted, normal.
 */
function applyFileChoices(rec: TorrentRecord, n: number, o: Pick<SessionAddOptions, 'filesWanted' | 'filesUnwanted' | 'priorityHigh' | 'priorityLow' | 'priorityNormal'>, fresh: boolean): void {
  if (fresh || rec.wanted.length !== n) {
    rec.wanted = new Array<boolean>(n).fill(true);
    rec.priorities = new Array<FilePriority>(n).fill(0);
  }
  const each = (list: number[] | undefined, field: string, f: (i: number) => void): void => {
    if (list === undefined) return;
    for (const i of list) if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new BtError('ERR_SETTINGS', `${field}: no file ${i} (the torrent has ${n})`, { op: 'settings', field });
    for (const i of list.length === 0 ? [...Array(n).keys()] : list) f(i);
  };
  each(o.filesWanted, 'filesWanted', (i) => (rec.wanted[i] = true));
  each(o.filesUnwanted, 'filesUnwanted', (i) => (rec.wanted[i] = false));
  each(o.priorityHigh, 'priorityHigh', (i) => (rec.priorities[i] = 1));
  each(o.priorityLow, 'priorityLow', (i) => (rec.priorities[i] = -1));
  each(o.priorityNormal, 'priorityNormal', (i) => (rec.priorities[i] = 0));
}
