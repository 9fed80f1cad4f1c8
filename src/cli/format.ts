/** How the CLI prints things (pure): sizes, times, tracker and port-mapping status, progress. Times as ms since the epoch. */
import { formatBytes } from '../index.js';
import type { PeerInfo, PortMapping, ReachabilityReport, TorrentStats, TrackerStatus, WebSeedStatus } from '../index.js';

export const fmtBytes = formatBytes;

/**
 * One line of text for a terminal: control characters (C0, DEL, C1) shown escaped (`\x1b`, `\r`, `\n`), so a
 * torrent's name or a tracker's failure reason cannot move the cursor, set the window title or fake a line.
 * Everything the CLI prints as text goes through this; JSON output is escaped by JSON.stringify already.
 */
export function textSafe(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Seconds as `mm:ss`, or `XhYYm` from an hour; `--:--` when unknown. */
export function fmtEta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '--:--';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** A tracker's status as one JSON object (times as seconds from now). */
export function trackerJson(tr: TrackerStatus, now: number): Record<string, unknown> {
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
export function trackerLine(tr: TrackerStatus, now: number): string {
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

/** A port mapping as one JSON object (expiry as seconds from now). */
export function mappingJson(m: PortMapping, now: number): Record<string, unknown> {
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

/** A port mapping as one line of text. */
export function mappingLine(m: PortMapping): string {
  const ext = m.externalPort !== undefined ? ` -> external ${m.externalPort}` : '';
  return `port mapping ${m.method} ${m.protocol.toUpperCase()} ${m.internalPort}${ext} on ${m.gateway}: ${m.state}${m.error ? ` (${m.error.message})` : ''}`;
}

/** The external address as the gateway and the trackers see it, with the double-NAT / CGNAT flags. */
export function reachabilityLine(rep: ReachabilityReport): string {
  const parts: string[] = [];
  if (rep.gateway) parts.push(`external address ${rep.gateway.address} (gateway, ${rep.gateway.method})`);
  if (rep.tracker && rep.tracker.address !== rep.gateway?.address) parts.push(`${rep.gateway ? 'trackers see' : 'external address'} ${rep.tracker.address} (${rep.tracker.source})`);
  if (rep.doubleNat) parts.push(`double NAT: the router's WAN address is ${rep.gateway?.class ?? 'not ours'}, another NAT sits upstream`);
  if (rep.cgnat) parts.push('carrier-grade NAT (100.64/10): mapped ports are not reachable from the internet');
  return parts.join('; ');
}

/** The `external-address` JSON event (without `event`). */
export function reachabilityJson(rep: ReachabilityReport): Record<string, unknown> {
  return {
    address: rep.address,
    gateway: rep.gateway?.address ?? null,
    method: rep.gateway?.method ?? null,
    class: rep.gateway?.class ?? null,
    tracker: rep.tracker?.address ?? null,
    mismatch: rep.mismatch,
    doubleNat: rep.doubleNat,
    cgnat: rep.cgnat,
  };
}

/** A connected peer as in `progress.peerList`. */
export function peerJson(p: PeerInfo): Record<string, unknown> {
  return { address: p.address, client: p.client ?? null, transport: p.transport, encryption: p.encryption, source: p.source, outgoing: p.outgoing };
}

/** A connected peer as in the `peer` event (without `event`; the same fields in another order). */
export function peerEventJson(p: PeerInfo): Record<string, unknown> {
  return { address: p.address, transport: p.transport, encryption: p.encryption, source: p.source, outgoing: p.outgoing, client: p.client ?? null };
}

/** A connected peer as one line of text. */
export function peerLine(p: PeerInfo): string {
  return `peer ${p.address} connected (${p.outgoing ? 'out' : 'in'}, ${p.transport}, encryption ${p.encryption}, from ${p.source}${p.client ? `, ${p.client}` : ''})`;
}

/** What a progress report needs of a torrent. */
export interface ProgressSource {
  stats(): TorrentStats;
  readonly trackers: readonly TrackerStatus[];
  readonly webSeeds: readonly WebSeedStatus[];
  peerList(): PeerInfo[];
}

/** The `progress` JSON event (the first 50 peers, trackers and web seeds). */
export function progressJson(t: ProgressSource, now: number): Record<string, unknown> {
  const s = t.stats();
  return {
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
    // Bounded like peerList (the first 50), with the full counts when there are more.
    trackers: t.trackers.slice(0, 50).map((tr) => trackerJson(tr, now)),
    ...(t.trackers.length > 50 ? { trackerCount: t.trackers.length } : {}),
    ...(t.webSeeds.length > 0 ? { webSeeds: t.webSeeds.slice(0, 50) } : {}),
    ...(t.webSeeds.length > 50 ? { webSeedCount: t.webSeeds.length } : {}),
    peerList: t.peerList().slice(0, 50).map(peerJson),
  };
}

/** A progress report as one line of text (when stdout is not a terminal). */
export function progressLine(s: TorrentStats): string {
  return (
    `${(s.progress * 100).toFixed(1)}% ${s.state} ${s.piecesHave}/${s.pieceCount} pieces, ` +
    `${fmtBytes(s.downloadRate)}/s down, ${fmtBytes(s.uploadRate)}/s up, ${s.peers} peers, ETA ${fmtEta(s.eta)}`
  );
}
