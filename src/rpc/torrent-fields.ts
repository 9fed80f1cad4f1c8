/**
 * torrent-get's fields: one getter per field name, computed only for the names a request asks for. A TorrentView
 * caches, per torrent and per request, the few costly inputs several fields share (stats(), the file list, the
 * peer list), so a request for 17 fields of 1,000 torrents calls stats() at most once per torrent and never
 * lists peers unless a peer field is asked.
 *
 * Semantics follow Transmission's rpc-spec.md and libtransmission (see NOTES.md for where they differ).
 */
import type { SessionApi, SessionTorrent, FilePriority } from '../session/index.js';
import type { FileStatus, PeerInfo, TorrentStats } from '../torrent/index.js';
import type { TrackerStatus } from '../tracker/index.js';
import { formatMagnet } from '../metainfo/index.js';

/** Status codes (rpc-spec.md §3.3). */
export const STATUS = { STOPPED: 0, CHECK_WAIT: 1, CHECK: 2, DOWNLOAD_WAIT: 3, DOWNLOAD: 4, SEED_WAIT: 5, SEED: 6 } as const;
/** libtransmission's TR_ETA_NOT_AVAIL / TR_ETA_UNKNOWN; TR_RATIO_NA / TR_RATIO_INF. */
export const ETA_NOT_AVAIL = -1;
export const ETA_UNKNOWN = -2;
export const RATIO_NA = -1;
export const RATIO_INF = -2;

/** What a request's field getters share. */
export interface FieldContext {
  readonly session: SessionApi;
  /** Unix seconds. */
  readonly nowSec: number;
  /** Engine clock (ms) → unix seconds, for tracker times. */
  readonly engineToUnix: (ms: number) => number;
  readonly jsonrpc: boolean;
  readonly configDir: string | undefined;
}

/** Tracker errors that mean "could not connect", not "the tracker said no". */
const UNREACHABLE = /connect|timed? ?out|ECONN|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|socket hang up|network|resolve/i;

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let x = b; x; x >>= 1) c += x & 1;
  return c;
});

export class TorrentView {
  #stats: TorrentStats | undefined;
  #files: FileStatus[] | undefined;
  #peers: PeerInfo[] | undefined;
  #sizes: { sizeWhenDone: number; leftUntilDone: number; haveValid: number } | undefined;
  #trackers: TrackerStatus[] | undefined;

  constructor(
    readonly t: SessionTorrent,
    readonly ctx: FieldContext,
  ) {}

  get stats(): TorrentStats {
    return (this.#stats ??= this.t.torrent.stats());
  }
  get files(): FileStatus[] {
    return (this.#files ??= this.t.torrent.files);
  }
  get peers(): PeerInfo[] {
    return (this.#peers ??= this.t.torrent.peerList());
  }
  get trackers(): TrackerStatus[] {
    return (this.#trackers ??= this.t.torrent.trackers);
  }

  /** Per file: wanted (the record's when it covers every file, else the engine's priority 0 = skip). */
  wanted(i: number, f: FileStatus): boolean {
    const w = this.t.record.wanted;
    return w.length === this.files.length ? w[i] !== false : f.priority > 0;
  }

  priority(i: number, f: FileStatus): FilePriority {
    const p = this.t.record.priorities;
    if (p.length === this.files.length) return p[i] ?? 0;
    return f.priority === 0 || f.priority === 4 ? 0 : f.priority > 4 ? 1 : -1;
  }

  /**
   * libtransmission's figures, at piece granularity: haveValid = bytes of verified pieces; leftUntilDone = bytes
   * of the pieces still missing that a wanted file touches; sizeWhenDone = haveValid + leftUntilDone. From the
   * engine's bitfield (live, or as of the last stop); before a torrent's first check, from its stats.
   */
  get sizes(): { sizeWhenDone: number; leftUntilDone: number; haveValid: number } {
    if (this.#sizes) return this.#sizes;
    const tm = this.t.torrent;
    if (!tm.hasMetadata) return (this.#sizes = { sizeWhenDone: 0, leftUntilDone: 0, haveValid: 0 });
    const info = tm.meta.info;
    const n = info.pieceCount;
    const pl = info.pieceLength;
    const lastSize = info.totalLength - (n - 1) * pl;
    const bits = tm.haveBitfield;
    const has = (i: number): boolean => bits !== undefined && ((bits[i >> 3]! >> (7 - (i & 7))) & 1) === 1;
    let have: number;
    if (bits) {
      let count = 0;
      for (let i = 0; i < bits.length; i++) count += POPCOUNT[bits[i]!]!;
      have = count * pl - (has(n - 1) ? pl - lastSize : 0);
    } else {
      have = Math.max(0, info.totalLength - this.stats.left);
    }
    const files = this.files;
    let allWanted = true;
    for (let i = 0; i < files.length && allWanted; i++) if (!info.files[i]?.pad && !this.wanted(i, files[i]!)) allWanted = false;
    let left: number;
    if (allWanted) {
      left = info.totalLength - have;
    } else {
      // Pieces a wanted file touches, then the missing ones among them.
      const want = new Uint8Array(n);
      for (let i = 0; i < files.length; i++) {
        const mf = info.files[i];
        if (!mf || mf.pad || mf.length === 0 || !this.wanted(i, files[i]!)) continue;
        const end = Math.ceil((mf.offset + mf.length) / pl);
        want.fill(1, Math.floor(mf.offset / pl), end);
      }
      left = 0;
      for (let i = 0; i < n; i++) if (want[i] === 1 && !has(i)) left += i === n - 1 ? lastSize : pl;
    }
    return (this.#sizes = { sizeWhenDone: have + left, leftUntilDone: left, haveValid: have });
  }

  get status(): number {
    const tm = this.t.torrent;
    const state = tm.state;
    if (state === 'checking') return STATUS.CHECK;
    if (!this.t.record.started) return STATUS.STOPPED;
    switch (state) {
      case 'metadata':
      case 'downloading':
        return STATUS.DOWNLOAD;
      case 'seeding':
        return STATUS.SEED;
      case 'queued':
        return tm.queueKind === 'seed' ? STATUS.SEED_WAIT : STATUS.DOWNLOAD_WAIT;
      default:
        // stopped / paused / error while the user wants it running: stopped, as Transmission shows an errored torrent.
        return STATUS.STOPPED;
    }
  }

  /** [error, errorString]: 3 local error, 2 tracker error, 1 tracker warning, 0 none. */
  get error(): [number, string] {
    const local = this.t.errorString || this.t.torrent.error?.message || '';
    if (local) return [3, local];
    if (!this.t.record.started) return [0, ''];
    let warning = '';
    let failed = '';
    let working = false;
    for (const tr of this.trackers) {
      if (tr.state === 'working') working = true;
      if (tr.state === 'failed' && tr.lastError && !failed) failed = tr.lastError;
      if (tr.warning && !warning) warning = tr.warning;
    }
    // As transmission-daemon: a tracker that could not be reached is not a torrent error; one that answered with
    // a failure reason is (the message is the tracker's own: clients add "Tracker gave an error:").
    if (failed && !working && !UNREACHABLE.test(failed)) return [2, failed];
    if (warning) return [1, warning];
    return [0, ''];
  }

  get uploadRatio(): number {
    const r = this.t.record;
    const down = r.downloadedEver > 0 ? r.downloadedEver : this.sizes.haveValid;
    if (down > 0) return r.uploadedEver / down;
    return r.uploadedEver > 0 ? RATIO_INF : RATIO_NA;
  }

  /** The seed ratio in force (the torrent's, the session's, or none). */
  get seedRatio(): number | undefined {
    const r = this.t.record;
    const s = this.ctx.session.settings;
    if (r.seedRatioMode === 1) return r.seedRatioLimit;
    if (r.seedRatioMode === 0 && s.seedRatioLimited) return s.seedRatioLimit;
    return undefined;
  }

  /** Idle seeding limit in force, minutes. */
  get seedIdle(): number | undefined {
    const r = this.t.record;
    const s = this.ctx.session.settings;
    if (r.seedIdleMode === 1) return r.seedIdleLimit;
    if (r.seedIdleMode === 0 && s.idleSeedingLimitEnabled) return s.idleSeedingLimit;
    return undefined;
  }

  get eta(): number {
    const st = this.stats;
    const status = this.status;
    if (status === STATUS.DOWNLOAD) {
      if (st.downloadRate <= 0) return ETA_UNKNOWN;
      return Math.round(this.sizes.leftUntilDone / st.downloadRate);
    }
    if (status === STATUS.SEED) {
      const ratio = this.seedRatio;
      if (ratio === undefined) return ETA_NOT_AVAIL;
      if (st.uploadRate <= 0) return ETA_UNKNOWN;
      const goal = ratio * this.sizes.sizeWhenDone;
      return Math.max(0, Math.round((goal - this.t.record.uploadedEver) / st.uploadRate));
    }
    return ETA_NOT_AVAIL;
  }

  get etaIdle(): number {
    if (this.status !== STATUS.SEED || this.stats.uploadRate >= 1) return ETA_NOT_AVAIL;
    const idle = this.seedIdle;
    if (idle === undefined) return ETA_NOT_AVAIL;
    const since = Math.max(this.t.record.activityDate, this.t.startDate);
    return Math.max(0, since + idle * 60 - this.ctx.nowSec);
  }
}

// ------------------------------------------------------------------------------------------ nested values

function splitAddress(a: string): { host: string; port: number } {
  const m = /^\[([^\]]*)\]:(\d+)$/.exec(a) ?? /^([^:]*):(\d+)$/.exec(a);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: a, port: 0 };
}

/** Transmission's peer flag letters (tr_peer_stat.flagStr). */
function flagStr(p: PeerInfo): string {
  let s = '';
  if (p.downloadRate > 0) s += 'D';
  else if (p.amInterested && p.peerChoking) s += 'd';
  if (p.uploadRate > 0) s += 'U';
  else if (p.peerInterested && p.amChoking) s += 'u';
  if (!p.peerChoking && !p.amInterested) s += 'K';
  if (!p.amChoking && !p.peerInterested) s += '?';
  if (p.encryption !== 'none') s += 'E';
  if (p.source === 'dht') s += 'H';
  else if (p.source === 'pex') s += 'X';
  if (!p.outgoing) s += 'I';
  if (p.transport === 'utp') s += 'T';
  return s;
}

function peerObject(p: PeerInfo): Record<string, unknown> {
  const { host, port } = splitAddress(p.address);
  return {
    address: host,
    clientIsChoked: p.peerChoking,
    clientIsInterested: p.amInterested,
    clientName: p.client ?? '',
    flagStr: flagStr(p),
    isDownloadingFrom: p.downloadRate > 0,
    isEncrypted: p.encryption !== 'none',
    isIncoming: !p.outgoing,
    isUploadingTo: p.uploadRate > 0,
    isUTP: p.transport === 'utp',
    peerIsChoked: p.amChoking,
    peerIsInterested: p.peerInterested,
    port,
    progress: p.progress,
    rateToClient: Math.round(p.downloadRate),
    rateToPeer: Math.round(p.uploadRate),
  };
}

function peersFrom(peers: readonly PeerInfo[]): Record<string, number> {
  const out = { fromCache: 0, fromDht: 0, fromIncoming: 0, fromLpd: 0, fromLtep: 0, fromPex: 0, fromTracker: 0 };
  for (const p of peers) {
    if (p.source === 'dht') out.fromDht++;
    else if (p.source === 'incoming' || !p.outgoing) out.fromIncoming++;
    else if (p.source === 'lsd') out.fromLpd++;
    else if (p.source === 'pex') out.fromPex++;
    else if (p.source === 'tracker') out.fromTracker++;
    else out.fromCache++;
  }
  return out;
}

function urlParts(url: string): { scheme: string; host: string; port: number } | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?/i.exec(url);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const port = m[3] ? Number(m[3]) : scheme === 'https' ? 443 : 80;
  return { scheme, host: m[2]!.toLowerCase(), port };
}

/** "tracker.example.org" → "example"; an IP address stays as it is (Transmission's sitename). */
export function sitename(url: string): string {
  const host = urlParts(url)?.host ?? '';
  if (/^[\d.]+$/.test(host) || host.startsWith('[')) return host;
  const labels = host.split('.').filter(Boolean);
  return labels.length >= 2 ? labels[labels.length - 2]! : (labels[0] ?? '');
}

/** The scrape URL of an HTTP announce URL (BEP 48: the last path component "announce" → "scrape"); udp: the same. */
export function scrapeUrl(url: string): string {
  if (url.startsWith('udp:')) return url;
  const m = /^(.*\/)announce([^/]*)$/.exec(url);
  return m ? `${m[1]}scrape${m[2]}` : '';
}

function trackerObject(tr: TrackerStatus, id: number): Record<string, unknown> {
  return { announce: tr.url, id, scrape: scrapeUrl(tr.url), sitename: sitename(tr.url), tier: tr.tier };
}

/** tr_tracker_state: 0 inactive, 1 waiting, 2 queued, 3 active. */
function trackerStatObject(v: TorrentView, tr: TrackerStatus, id: number, isBackup: boolean): Record<string, unknown> {
  const toUnix = (ms: number | undefined): number => (ms === undefined ? 0 : v.ctx.engineToUnix(ms));
  const running = v.t.record.started && v.t.torrent.state !== 'stopped' && v.t.torrent.state !== 'error';
  const announceState = !running || tr.state === 'unsupported' ? 0 : tr.state === 'announcing' ? 3 : 1;
  const parts = urlParts(tr.url);
  const lastAnnounce = toUnix(tr.lastAnnounce);
  const succeeded = tr.lastSuccess !== undefined && tr.lastAnnounce !== undefined && tr.lastSuccess >= tr.lastAnnounce;
  const result = succeeded ? (tr.warning ?? 'Success') : (tr.lastError ?? '');
  const scraped = tr.completed !== undefined;
  return {
    announce: tr.url,
    announceState,
    downloadCount: tr.completed ?? -1,
    hasAnnounced: tr.lastAnnounce !== undefined,
    hasScraped: scraped,
    host: parts ? `${parts.scheme}://${parts.host}:${parts.port}` : tr.url,
    id,
    isBackup,
    lastAnnouncePeerCount: tr.peersReceived,
    lastAnnounceResult: result,
    lastAnnounceStartTime: lastAnnounce,
    lastAnnounceSucceeded: succeeded,
    lastAnnounceTime: lastAnnounce,
    lastAnnounceTimedOut: !succeeded && /time(d)? ?out/i.test(tr.lastError ?? ''),
    lastScrapeResult: '',
    lastScrapeStartTime: 0,
    lastScrapeSucceeded: scraped,
    lastScrapeTime: 0,
    lastScrapeTimedOut: false,
    leecherCount: tr.leechers ?? -1,
    nextAnnounceTime: running ? toUnix(tr.nextAnnounce) : 0,
    nextScrapeTime: 0,
    scrape: scrapeUrl(tr.url),
    scrapeState: 0,
    seederCount: tr.seeders ?? -1,
    sitename: sitename(tr.url),
    tier: tr.tier,
    downloaderCount: -1,
  };
}

/** Tracker ids: the tracker's index in the torrent's list (stable while the list does not change). */
function trackerList(v: TorrentView): string {
  const tiers: string[][] = [];
  for (const tr of v.trackers) (tiers[tr.tier] ??= []).push(tr.url);
  return tiers.filter((t) => t && t.length > 0).map((t) => t.join('\n')).join('\n\n');
}

function piecesBase64(v: TorrentView): string {
  const bits = v.t.torrent.haveBitfield;
  if (bits) return Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).toString('base64');
  const n = Math.ceil(v.t.torrent.pieceCount / 8);
  const out = new Uint8Array(n);
  // Stopped: the engine keeps no bitfield; a complete torrent is all ones, anything else shows empty.
  if (n > 0 && v.stats.piecesHave === v.t.torrent.pieceCount) {
    out.fill(0xff);
    const spare = n * 8 - v.t.torrent.pieceCount;
    if (spare > 0) out[n - 1] = (0xff << spare) & 0xff;
  }
  return Buffer.from(out).toString('base64');
}

function mimeOf(name: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  if (/^(mkv|mp4|avi|mov|webm|m4v|wmv|mpg|mpeg|ts)$/.test(ext)) return 'video/' + (ext === 'mkv' ? 'x-matroska' : ext === 'avi' ? 'x-msvideo' : ext);
  if (/^(mp3|flac|ogg|wav|m4a|aac|opus)$/.test(ext)) return 'audio/' + (ext === 'mp3' ? 'mpeg' : ext);
  if (/^(jpg|jpeg|png|gif|webp|bmp)$/.test(ext)) return 'image/' + (ext === 'jpg' ? 'jpeg' : ext);
  if (/^(txt|nfo|md|srt)$/.test(ext)) return 'text/plain';
  if (ext === 'iso') return 'application/x-iso9660-image';
  if (/^(zip|rar|7z|gz|bz2|xz|tar)$/.test(ext)) return 'application/' + (ext === 'zip' ? 'zip' : ext === 'rar' ? 'vnd.rar' : ext === '7z' ? 'x-7z-compressed' : 'x-' + ext);
  if (ext === 'pdf') return 'application/pdf';
  return 'application/octet-stream';
}

/** The MIME type of the torrent's largest share of bytes (Transmission's primary-mime-type). */
function primaryMime(v: TorrentView): string {
  const bytes = new Map<string, number>();
  for (const f of v.files) {
    const m = mimeOf(f.path[f.path.length - 1] ?? '');
    bytes.set(m, (bytes.get(m) ?? 0) + f.length);
  }
  let best = 'application/octet-stream';
  let most = -1;
  for (const [m, n] of bytes) if (n > most) [best, most] = [m, n];
  return best;
}

function filesOf(v: TorrentView): Record<string, unknown>[] {
  const tm = v.t.torrent;
  if (!tm.hasMetadata) return [];
  const info = tm.meta.info;
  const renamed = v.t.record.name;
  return v.files.map((f, i) => {
    const mf = info.files[i];
    const path = [...f.path];
    // A renamed torrent: its top-level component is shown under the new name (the record's), as Transmission does.
    if (renamed && !info.singleFile && path[0] === info.name) path[0] = renamed;
    const begin = mf ? Math.floor(mf.offset / info.pieceLength) : 0;
    const end = mf ? Math.max(begin, Math.ceil((mf.offset + mf.length) / info.pieceLength) - 1) : 0;
    return { bytesCompleted: f.have, length: f.length, name: path.join('/'), beginPiece: begin, endPiece: end };
  });
}

type Getter = (v: TorrentView) => unknown;

/** Every field, by its legacy name (JSON-RPC names are their snake_case). */
export const TORRENT_FIELDS: Record<string, Getter> = {
  activityDate: (v) => v.t.record.activityDate,
  addedDate: (v) => v.t.record.addedDate,
  availability: (v) => {
    const n = v.t.torrent.pieceCount;
    const bits = v.t.torrent.haveBitfield;
    const out = new Array<number>(n).fill(0);
    if (bits) for (let i = 0; i < n; i++) if ((bits[i >> 3]! >> (7 - (i & 7))) & 1) out[i] = -1;
    return out;
  },
  bandwidthPriority: (v) => v.t.record.bandwidthPriority,
  bytesCompleted: (v) => v.files.map((f) => f.have),
  comment: (v) => (v.t.torrent.hasMetadata ? (v.t.torrent.meta.comment ?? '') : ''),
  corruptEver: (v) => v.t.record.corruptEver,
  creator: (v) => (v.t.torrent.hasMetadata ? (v.t.torrent.meta.createdBy ?? '') : ''),
  dateCreated: (v) => (v.t.torrent.hasMetadata ? (v.t.torrent.meta.creationDate ?? 0) : 0),
  desiredAvailable: (v) => {
    // Bytes still wanted that connected peers have: all of them as soon as one peer is a seed; else what the
    // best-stocked peer has, as a share (the engine keeps no per-piece availability in its public view).
    const left = v.sizes.leftUntilDone;
    let best = 0;
    for (const p of v.peers) best = Math.max(best, p.progress);
    return Math.round(left * best);
  },
  doneDate: (v) => v.t.record.doneDate,
  downloadDir: (v) => v.t.record.downloadDir,
  downloadedEver: (v) => v.t.record.downloadedEver,
  downloadLimit: (v) => v.t.record.downloadLimit,
  downloadLimited: (v) => v.t.record.downloadLimited,
  editDate: (v) => v.t.record.activityDate,
  error: (v) => v.error[0],
  errorString: (v) => v.error[1],
  eta: (v) => v.eta,
  etaIdle: (v) => v.etaIdle,
  'file-count': (v) => v.files.length,
  files: (v) => filesOf(v),
  fileStats: (v) => v.files.map((f, i) => ({ bytesCompleted: f.have, wanted: v.wanted(i, f), priority: v.priority(i, f) })),
  group: () => '',
  hashString: (v) => v.t.record.infoHashHex,
  haveUnchecked: () => 0,
  haveValid: (v) => v.sizes.haveValid,
  honorsSessionLimits: (v) => v.t.record.honorsSessionLimits,
  id: (v) => v.t.id,
  isFinished: (v) => {
    if (v.t.record.started || v.sizes.haveValid === 0 || v.sizes.leftUntilDone > 0) return false;
    const ratio = v.seedRatio;
    return ratio !== undefined && v.uploadRatio >= ratio;
  },
  isPrivate: (v) => (v.t.torrent.hasMetadata ? v.t.torrent.meta.info.private : false),
  isStalled: (v) => {
    const s = v.status;
    if (s !== STATUS.DOWNLOAD && s !== STATUS.SEED) return false;
    const last = Math.max(v.t.record.activityDate, v.t.startDate);
    return v.ctx.nowSec - last > 30 * 60;
  },
  labels: (v) => [...v.t.record.labels],
  leftUntilDone: (v) => v.sizes.leftUntilDone,
  magnetLink: (v) => (v.t.torrent.hasMetadata ? formatMagnet(v.t.torrent.meta) : (v.t.record.magnet ?? (v.t.torrent.magnet ? formatMagnet(v.t.torrent.magnet) : ''))),
  manualAnnounceTime: () => -1,
  maxConnectedPeers: (v) => v.t.record.peerLimit,
  metadataPercentComplete: (v) => (v.t.torrent.hasMetadata ? 1 : 0),
  name: (v) => v.t.name,
  'peer-limit': (v) => v.t.record.peerLimit,
  peers: (v) => v.peers.map(peerObject),
  peersConnected: (v) => v.t.torrent.connectedPeers,
  peersFrom: (v) => peersFrom(v.peers),
  peersGettingFromUs: (v) => v.peers.reduce((n, p) => n + (p.uploadRate > 0 ? 1 : 0), 0),
  peersSendingToUs: (v) => v.peers.reduce((n, p) => n + (p.downloadRate > 0 ? 1 : 0), 0),
  percentComplete: (v) => {
    const total = v.t.torrent.hasMetadata ? v.t.torrent.meta.info.totalLength : 0;
    return total > 0 ? v.sizes.haveValid / total : 0;
  },
  percentDone: (v) => {
    const { sizeWhenDone, leftUntilDone } = v.sizes;
    if (!v.t.torrent.hasMetadata) return 0;
    return sizeWhenDone > 0 ? (sizeWhenDone - leftUntilDone) / sizeWhenDone : 1;
  },
  pieces: (v) => piecesBase64(v),
  pieceCount: (v) => v.t.torrent.pieceCount,
  pieceSize: (v) => (v.t.torrent.hasMetadata ? v.t.torrent.meta.info.pieceLength : 0),
  priorities: (v) => v.files.map((f, i) => v.priority(i, f)),
  'primary-mime-type': (v) => primaryMime(v),
  queuePosition: (v) => v.t.record.queuePosition,
  rateDownload: (v) => Math.round(v.stats.downloadRate),
  rateUpload: (v) => Math.round(v.stats.uploadRate),
  recheckProgress: (v) => (v.t.torrent.state === 'checking' && v.stats.pieceCount > 0 ? v.stats.piecesHave / v.stats.pieceCount : 0),
  secondsDownloading: (v) => v.t.record.secondsDownloading,
  secondsSeeding: (v) => v.t.record.secondsSeeding,
  seedIdleLimit: (v) => v.t.record.seedIdleLimit,
  seedIdleMode: (v) => v.t.record.seedIdleMode,
  seedRatioLimit: (v) => v.t.record.seedRatioLimit,
  seedRatioMode: (v) => v.t.record.seedRatioMode,
  sequentialDownload: (v) => v.t.record.sequential,
  sequentialDownloadFromPiece: () => 0,
  sizeWhenDone: (v) => v.sizes.sizeWhenDone,
  startDate: (v) => v.t.startDate,
  status: (v) => v.status,
  torrentFile: (v) => (v.ctx.configDir ? `${v.ctx.configDir}/torrents/${v.t.record.infoHashHex}.torrent` : ''),
  totalSize: (v) => (v.t.torrent.hasMetadata ? v.t.torrent.meta.info.totalLength : 0),
  trackers: (v) => v.trackers.map((tr, i) => trackerObject(tr, i)),
  trackerList: (v) => trackerList(v),
  trackerStats: (v) => {
    const seenTier = new Set<number>();
    return v.trackers.map((tr, i) => {
      const backup = seenTier.has(tr.tier);
      seenTier.add(tr.tier);
      return trackerStatObject(v, tr, i, backup);
    });
  },
  uploadedEver: (v) => v.t.record.uploadedEver,
  uploadLimit: (v) => v.t.record.uploadLimit,
  uploadLimited: (v) => v.t.record.uploadLimited,
  uploadRatio: (v) => v.uploadRatio,
  wanted: (v) => v.files.map((f, i) => (v.ctx.jsonrpc ? v.wanted(i, f) : v.wanted(i, f) ? 1 : 0)),
  webseeds: (v) => (v.t.torrent.hasMetadata ? [...v.t.torrent.meta.urlList] : []),
  webseedsEx: (v) =>
    v.t.torrent.webSeeds.map((w) => ({ url: w.url, isDownloading: w.state === 'active' && w.downloaded > 0, downloadBytesPerSecond: 0 })),
  webseedsSendingToUs: (v) => v.t.torrent.webSeeds.reduce((n, w) => n + (w.state === 'active' && w.downloaded > 0 ? 1 : 0), 0),
};

/** Snake-case name → [legacy name, getter]. `sequential_download` is 4.1's; its legacy spelling is the same. */
export const FIELD_BY_SNAKE = new Map<string, [string, Getter]>();
for (const [legacy, get] of Object.entries(TORRENT_FIELDS)) {
  const snake = legacy.replace(/-/g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
  FIELD_BY_SNAKE.set(snake, [legacy === 'sequentialDownload' ? 'sequential_download' : legacy === 'sequentialDownloadFromPiece' ? 'sequential_download_from_piece' : legacy, get]);
}
