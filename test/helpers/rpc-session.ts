/**
 * makeTestSession(): a small SessionApi over a real ClientEngine (MemoryTransport, MemoryStorage, InlineHasher,
 * no DHT/LSD/port forwarding), for the RPC handler's tests until the real Session (src/session/session.ts,
 * openSession) is on the branch. The tests talk to SessionApi only, so switching them to openSession is a
 * change here, not in the tests.
 *
 * Data: a torrent made with makeTestTorrent() whose content is registered (`complete: true`) checks as complete
 * and seeds; any other torrent has empty storage and downloads (with no peers: rate 0).
 */
import { createHash } from 'node:crypto';
import { BtError, FakeClock } from '../../src/core/index.js';
import { ClientEngine } from '../../src/engine/index.js';
import type { EngineSettings } from '../../src/engine/index.js';
import { buildTorrent, parseMagnet, parseTorrent } from '../../src/metainfo/index.js';
import type { MagnetLink, Metainfo } from '../../src/metainfo/index.js';
import { InlineHasher, MemoryStateFiles, MemoryStorage } from '../../src/storage/index.js';
import { MemoryTransport } from '../../src/transport/index.js';
import type {
  AddResult,
  FilePriority,
  QueueMove,
  SessionAddOptions,
  SessionApi,
  SessionCounters,
  SessionSettings,
  SessionTorrent,
  TorrentPatch,
  TorrentRecord,
} from '../../src/session/index.js';
import type { TorrentManager } from '../../src/torrent/index.js';

export interface TestTorrent {
  bytes: Uint8Array;
  meta: Metainfo;
  content: Uint8Array;
}

let seq = 0;

/** A torrent over deterministic content: one file (`length`) or several (`files`). */
export function makeTestTorrent(
  name: string,
  opts: { length?: number; files?: { path: string[]; length: number }[]; pieceLength?: number; private?: boolean; announce?: string; comment?: string } = {},
): TestTorrent {
  const pl = opts.pieceLength ?? 16 * 1024;
  const total = opts.files ? opts.files.reduce((n, f) => n + f.length, 0) : (opts.length ?? 64 * 1024);
  const content = new Uint8Array(total);
  let x = (++seq * 2654435761) >>> 0 || 1;
  for (let i = 0; i < total; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    content[i] = x & 0xff;
  }
  const hashes: Buffer[] = [];
  for (let o = 0; o < total; o += pl) hashes.push(createHash('sha1').update(content.subarray(o, o + pl)).digest());
  const bytes = buildTorrent({
    name,
    files: opts.files ?? null,
    length: opts.files ? undefined : total,
    pieceLength: pl,
    pieceHashes: Buffer.concat(hashes),
    private: opts.private,
    trackers: opts.announce ? [[opts.announce]] : undefined,
    comment: opts.comment,
    createdBy: 'torrentkit test',
    creationDate: 1_700_000_000,
  });
  return { bytes, meta: parseTorrent(bytes), content };
}

export const DEFAULT_TEST_SETTINGS: SessionSettings = {
  downloadDir: '/downloads',
  speedLimitDown: 100,
  speedLimitDownEnabled: false,
  speedLimitUp: 100,
  speedLimitUpEnabled: false,
  altSpeedDown: 50,
  altSpeedUp: 50,
  altSpeedEnabled: false,
  seedRatioLimit: 2,
  seedRatioLimited: false,
  idleSeedingLimit: 30,
  idleSeedingLimitEnabled: false,
  downloadQueueSize: 5,
  downloadQueueEnabled: true,
  seedQueueSize: 10,
  seedQueueEnabled: false,
  peerLimitGlobal: 200,
  peerLimitPerTorrent: 50,
  peerPort: 51413,
  dhtEnabled: false,
  lpdEnabled: false,
  pexEnabled: true,
  utpEnabled: false,
  portForwardingEnabled: false,
  encryption: 'preferred',
  startAddedTorrents: true,
  renamePartialFiles: true,
  blocklistEnabled: false,
  blocklistUrl: '',
  extra: {},
};

class TestTorrentEntry implements SessionTorrent {
  startDate = 0;
  errorString = '';
  constructor(
    readonly id: number,
    readonly record: TorrentRecord,
    readonly torrent: TorrentManager,
  ) {}
  get name(): string {
    return this.record.name ?? this.torrent.name;
  }
}

/** Engine file priority (0 skip, 1..7, 4 normal) from Transmission's wanted + priority. */
function enginePriority(wanted: boolean, p: FilePriority): number {
  return !wanted ? 0 : p === 1 ? 6 : p === -1 ? 2 : 4;
}

export class TestSession implements SessionApi {
  readonly engine: ClientEngine;
  settings: SessionSettings = { ...DEFAULT_TEST_SETTINGS, extra: {} };
  /** Unix-epoch ms; the handler under test should get this clock too. */
  readonly clock = new FakeClock(1_750_000_000_000);
  readonly content = new Map<string, Uint8Array>();
  private readonly byId = new Map<number, TestTorrentEntry>();
  private readonly removed: Array<{ id: number; at: number }> = [];
  private nextId = 1;
  closed = false;
  readonly calls: string[] = [];

  constructor(engineSettings: Partial<EngineSettings> = {}) {
    this.engine = new ClientEngine(
      { listenEndpoints: ['127.0.0.1:0'], dhtEnabled: false, lsdEnabled: false, portForwarding: false, enableUtp: false, ...engineSettings },
      {
        transport: new MemoryTransport(),
        createHasher: () => new InlineHasher(),
        stateFiles: new MemoryStateFiles(),
        createStorage: (m) => new MemoryStorage(m.info, { content: this.content.get(m.infoHashHex) }),
      },
    );
  }

  get nowSec(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** Register a torrent's content: it will check as complete. */
  provide(t: TestTorrent): void {
    this.content.set(t.meta.infoHashHex, t.content);
  }

  list(): readonly SessionTorrent[] {
    return [...this.byId.values()];
  }

  get(idOrHash: number | string): SessionTorrent | undefined {
    if (typeof idOrHash === 'number') return this.byId.get(idOrHash);
    const h = idOrHash.toLowerCase();
    for (const t of this.byId.values()) if (t.record.infoHashHex === h) return t;
    return undefined;
  }

  async add(source: Uint8Array | string, opts: SessionAddOptions = {}): Promise<AddResult> {
    const parsed: Metainfo | MagnetLink = typeof source === 'string' ? parseMagnet(source) : parseTorrent(source);
    const dup = this.get(parsed.infoHashHex);
    if (dup) return { torrent: dup, duplicate: true };
    const files = 'info' in parsed ? parsed.info.files.length : 0;
    const wanted = Array.from({ length: files }, () => true);
    const priorities = Array.from({ length: files }, (): FilePriority => 0);
    for (const i of opts.filesUnwanted ?? []) if (i < files) wanted[i] = false;
    for (const i of opts.filesWanted ?? []) if (i < files) wanted[i] = true;
    for (const [list, p] of [[opts.priorityHigh, 1], [opts.priorityLow, -1], [opts.priorityNormal, 0]] as const) for (const i of list ?? []) if (i < files) priorities[i] = p;
    const downloadDir = opts.downloadDir ?? this.settings.downloadDir;
    const tm = await this.engine.addTorrent(parsed, { downloadDir, filePriorities: wanted.map((w, i) => enginePriority(w, priorities[i]!)) });
    const id = this.nextId++;
    const now = this.nowSec;
    const record: TorrentRecord = {
      id,
      infoHashHex: parsed.infoHashHex,
      magnet: typeof source === 'string' ? source : undefined,
      downloadDir,
      started: !opts.paused,
      addedDate: now,
      doneDate: 0,
      activityDate: now,
      labels: opts.labels ?? [],
      queuePosition: this.byId.size,
      wanted,
      priorities,
      bandwidthPriority: opts.bandwidthPriority ?? 0,
      peerLimit: opts.peerLimit ?? this.settings.peerLimitPerTorrent,
      downloadLimit: 100,
      downloadLimited: false,
      uploadLimit: 100,
      uploadLimited: false,
      honorsSessionLimits: true,
      seedRatioLimit: 2,
      seedRatioMode: 0,
      seedIdleLimit: 30,
      seedIdleMode: 0,
      sequential: false,
      addedTrackers: [],
      removedTrackers: [],
      uploadedEver: 0,
      downloadedEver: 0,
      corruptEver: 0,
      secondsDownloading: 0,
      secondsSeeding: 0,
    };
    const entry = new TestTorrentEntry(id, record, tm);
    this.byId.set(id, entry);
    if (record.started) await this.start(entry);
    return { torrent: entry, duplicate: false };
  }

  private entry(t: SessionTorrent): TestTorrentEntry {
    const e = this.byId.get(t.id);
    if (!e) throw new BtError('ERR_STATE', `no torrent ${t.id}`);
    return e;
  }

  async remove(t: SessionTorrent, opts: { deleteData?: boolean } = {}): Promise<void> {
    this.calls.push(`remove ${t.id}${opts.deleteData ? ' delete' : ''}`);
    const e = this.entry(t);
    await this.engine.removeTorrent(e.torrent);
    this.byId.delete(t.id);
    this.removed.push({ id: t.id, at: this.nowSec });
  }

  async start(t: SessionTorrent, opts: { now?: boolean } = {}): Promise<void> {
    this.calls.push(`start ${t.id}${opts.now ? ' now' : ''}`);
    const e = this.entry(t);
    e.record.started = true;
    e.record.activityDate = this.nowSec;
    e.startDate = this.nowSec;
    const st = e.torrent.state;
    if (st === 'stopped' || st === 'paused' || st === 'error') await e.torrent.start();
    if (e.torrent.complete && e.record.doneDate === 0) e.record.doneDate = this.nowSec;
  }

  async stop(t: SessionTorrent): Promise<void> {
    this.calls.push(`stop ${t.id}`);
    const e = this.entry(t);
    e.record.started = false;
    e.record.activityDate = this.nowSec;
    e.startDate = 0;
    await e.torrent.stop();
  }

  async verify(t: SessionTorrent): Promise<void> {
    this.calls.push(`verify ${t.id}`);
    await this.entry(t).torrent.recheck();
  }

  reannounce(t: SessionTorrent): void {
    this.calls.push(`reannounce ${t.id}`);
    this.entry(t).torrent.announce();
  }

  async set(t: SessionTorrent, patch: TorrentPatch): Promise<void> {
    this.calls.push(`set ${t.id} ${JSON.stringify(patch)}`);
    const e = this.entry(t);
    const r = e.record;
    const { filesWanted, filesUnwanted, priorityHigh, priorityLow, priorityNormal, trackerAdd, trackerRemove, trackerList, location, sequential, ...plain } = patch;
    Object.assign(r, plain);
    for (const i of filesWanted ?? []) r.wanted[i] = true;
    for (const i of filesUnwanted ?? []) r.wanted[i] = false;
    for (const i of priorityHigh ?? []) r.priorities[i] = 1;
    for (const i of priorityLow ?? []) r.priorities[i] = -1;
    for (const i of priorityNormal ?? []) r.priorities[i] = 0;
    if (filesWanted || filesUnwanted || priorityHigh || priorityLow || priorityNormal) {
      e.torrent.setFilePriorities(r.wanted.map((w, i) => enginePriority(w, r.priorities[i] ?? 0)));
    }
    if (sequential !== undefined) {
      r.sequential = sequential;
      e.torrent.sequential = sequential;
    }
    if (trackerAdd) r.addedTrackers.push(...trackerAdd.map((u) => [u]));
    if (trackerRemove) for (const i of trackerRemove) r.removedTrackers.push(e.torrent.trackers[i]?.url ?? '');
    if (trackerList !== undefined) r.addedTrackers = trackerList.split(/\n\s*\n/).map((tier) => tier.split('\n').map((l) => l.trim()).filter(Boolean)).filter((x) => x.length > 0);
    if (location !== undefined) r.downloadDir = location;
  }

  async setLocation(t: SessionTorrent, dir: string, move: boolean): Promise<void> {
    this.calls.push(`setLocation ${t.id} ${dir} ${move}`);
    this.entry(t).record.downloadDir = dir;
  }

  async renamePath(t: SessionTorrent, path: string, name: string): Promise<{ path: string; name: string }> {
    const e = this.entry(t);
    if (path !== e.torrent.name && path !== e.name) throw new BtError('ERR_UNSAFE_PATH', `no such path in the torrent: ${path}`);
    e.record.name = name;
    return { path, name };
  }

  queueMove(ts: readonly SessionTorrent[], how: QueueMove): void {
    this.calls.push(`queue ${how} ${ts.map((t) => t.id).join(',')}`);
    const order = [...this.byId.values()].sort((a, b) => a.record.queuePosition - b.record.queuePosition);
    const moving = new Set(ts.map((t) => t.id));
    let next: TestTorrentEntry[];
    if (how === 'top') next = [...order.filter((x) => moving.has(x.id)), ...order.filter((x) => !moving.has(x.id))];
    else if (how === 'bottom') next = [...order.filter((x) => !moving.has(x.id)), ...order.filter((x) => moving.has(x.id))];
    else {
      next = order.slice();
      const step = how === 'up' ? -1 : 1;
      const idx = next.map((x, i) => (moving.has(x.id) ? i : -1)).filter((i) => i >= 0);
      if (how === 'down') idx.reverse();
      for (const i of idx) {
        const j = i + step;
        if (j < 0 || j >= next.length || moving.has(next[j]!.id)) continue;
        [next[i], next[j]] = [next[j]!, next[i]!];
      }
    }
    next.forEach((x, i) => (x.record.queuePosition = i));
  }

  async updateSettings(patch: Partial<SessionSettings>): Promise<void> {
    this.calls.push(`settings ${JSON.stringify(patch)}`);
    this.settings = { ...this.settings, ...patch, extra: patch.extra ?? this.settings.extra };
  }

  counters(): { current: SessionCounters; cumulative: SessionCounters } {
    const current = { uploadedBytes: 10, downloadedBytes: 20, filesAdded: this.byId.size, secondsActive: 30, sessionCount: 1 };
    return { current, cumulative: { ...current, uploadedBytes: 1000, downloadedBytes: 2000, sessionCount: 3 } };
  }

  removedSince(since: number): number[] {
    return this.removed.filter((r) => r.at >= since).map((r) => r.id);
  }

  activeSince(since: number): SessionTorrent[] {
    return [...this.byId.values()].filter((t) => t.record.activityDate >= since);
  }

  /** Test hook: mutable record. */
  record(t: SessionTorrent): TorrentRecord {
    return this.entry(t).record;
  }

  async save(): Promise<void> {}

  async close(): Promise<void> {
    this.calls.push('close');
    this.closed = true;
  }

  async dispose(): Promise<void> {
    await this.engine.dispose();
  }
}

export function makeTestSession(engineSettings: Partial<EngineSettings> = {}): TestSession {
  return new TestSession(engineSettings);
}
