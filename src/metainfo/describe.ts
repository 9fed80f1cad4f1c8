/** BEP 3 metainfo: human-readable summary lines for `torrentkit info`. */
import { formatMagnet } from './magnet.js';
import type { Metainfo } from './types.js';

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/**
 * The info-hash lines: v1 `info-hash: <sha1>`; hybrid adds `info-hash v2: <sha256>` and `version: hybrid`;
 * v2-only shows `info-hash v2: <sha256>`, then its 20-byte swarm id (the truncated v2 hash) and `version: 2`.
 */
export function describeHashes(x: Pick<Metainfo, 'infoHashHex' | 'infoHashV2Hex' | 'version'>): string[] {
  if (x.version === 1 || x.infoHashV2Hex === undefined) return [`info-hash: ${x.infoHashHex}`];
  if (x.version === 'hybrid') return [`info-hash: ${x.infoHashHex}`, `info-hash v2: ${x.infoHashV2Hex}`, 'version: hybrid (v1 + v2)'];
  return [`info-hash v2: ${x.infoHashV2Hex}`, `info-hash: ${x.infoHashHex} (v2, truncated)`, 'version: 2 (v2 only)'];
}

/** Plain lines describing a torrent (no trailing newlines). */
export function describeTorrent(meta: Metainfo): string[] {
  const i = meta.info;
  const lines = [`name: ${i.name}`, ...describeHashes(meta)];
  lines.push(
    `size: ${formatBytes(i.totalLength)} (${i.totalLength} bytes) in ${i.files.length} file(s)`,
    `pieces: ${i.pieceCount} x ${formatBytes(i.pieceLength)}`,
    `private: ${i.private ? 'yes' : 'no'}`,
  );
  if (meta.comment !== undefined) lines.push(`comment: ${meta.comment}`);
  if (meta.createdBy !== undefined) lines.push(`created by: ${meta.createdBy}`);
  if (meta.creationDate !== undefined) {
    const d = new Date(meta.creationDate * 1000);
    lines.push(`created: ${Number.isNaN(d.getTime()) ? String(meta.creationDate) : d.toISOString()}`);
  }
  meta.announceList.forEach((tier, n) => lines.push(`tracker tier ${n}: ${tier.join(' ')}`));
  if (meta.ignored?.trackers) lines.push(`trackers ignored: ${meta.ignored.trackers} more than a torrent may carry`);
  for (const w of meta.urlList) lines.push(`web seed: ${w}`);
  if (meta.ignored?.webSeeds) lines.push(`web seeds ignored: ${meta.ignored.webSeeds} more than a torrent may carry`);
  for (const d of meta.nodes) lines.push(`dht node: ${d.host}:${d.port}`);
  lines.push('files:');
  // Numbered from 1, as `download --select-files` takes them.
  i.files.forEach((f, k) => lines.push(`  ${k + 1}. ${f.path.join('/')} (${f.length})`));
  lines.push(`magnet: ${formatMagnet(meta)}`);
  return lines;
}
