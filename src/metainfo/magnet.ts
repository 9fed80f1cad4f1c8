/**
 * BEP 9 magnet links: `magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=..&tr=..&x.pe=host:port&ws=..`; BEP 52
 * `xt=urn:btmh:1220<64 hex>` (a SHA-256 multihash: the v2 info-hash), alone or beside a btih.
 * Repeated and indexed (`tr.1=`) parameters are accepted; unknown parameters are ignored.
 */
import { BtError } from '../core/index.js';
import { fromHex, parseHostPort, toHex } from '../util/index.js';
import { parseInfoHash } from './info-hash.js';
import type { MagnetLink, Metainfo } from './types.js';

function bad(msg: string, field?: string): never {
  throw new BtError('ERR_MAGNET', `magnet: ${msg}`, field === undefined ? { op: 'parse' } : { op: 'parse', field });
}

function decode(s: string, key: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return bad(`invalid percent-encoding in ${key}`, key);
  }
}

/** Append `v` unless empty or already in `list`; `seen` mirrors the list (a linear `includes` made n entries cost n²). */
function pushUnique(list: string[], seen: Set<string>, v: string): void {
  if (v.length > 0 && !seen.has(v)) {
    seen.add(v);
    list.push(v);
  }
}

/** Parse a magnet URI. Throws BtError ERR_MAGNET (field `xt` for a missing or malformed info-hash). */
export function parseMagnet(uri: string): MagnetLink {
  if (typeof uri !== 'string') bad('expected a string');
  const s = uri.trim();
  if (!/^magnet:\?/i.test(s)) bad('URI must start with "magnet:?"');
  const query = s.slice(s.indexOf('?') + 1).split('#')[0]!;
  let infoHash: Uint8Array | undefined;
  let infoHashV2: Uint8Array | undefined;
  let displayName: string | undefined;
  const trackers: string[] = [];
  const peers: string[] = [];
  const webSeeds: string[] = [];
  const seenTrackers = new Set<string>();
  const seenPeers = new Set<string>();
  const seenWebSeeds = new Set<string>();
  let selectOnlyRanges: [number, number][] | undefined;

  for (const part of query.split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawVal = eq < 0 ? '' : part.slice(eq + 1);
    const key = decode(rawKey, 'key').toLowerCase().replace(/\.\d+$/, '');
    switch (key) {
      case 'xt': {
        const v = decode(rawVal, 'xt');
        const m = /^urn:btih:(.*)$/i.exec(v);
        if (m) {
          if (infoHash === undefined) infoHash = parseInfoHash(m[1]!, 'xt');
        } else {
          const mh = /^urn:btmh:(.*)$/i.exec(v);
          if (mh && infoHashV2 === undefined) infoHashV2 = parseBtmh(mh[1]!);
        }
        break;
      }
      case 'dn':
        displayName = decode(rawVal.replace(/\+/g, ' '), 'dn');
        break;
      case 'tr':
        pushUnique(trackers, seenTrackers, decode(rawVal, 'tr').trim());
        break;
      case 'ws':
        pushUnique(webSeeds, seenWebSeeds, decode(rawVal, 'ws').trim());
        break;
      case 'so':
        // BEP 53: "0,2,4,6-8". A malformed list is ignored (the whole torrent is wanted), as libtorrent does.
        selectOnlyRanges = parseSelectOnly(decode(rawVal, 'so')) ?? selectOnlyRanges;
        break;
      case 'x.pe': {
        const v = decode(rawVal, 'x.pe').trim();
        try {
          const { host, port } = parseHostPort(v);
          if (port > 0) pushUnique(peers, seenPeers, v.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`);
        } catch {
          // A malformed peer hint is not fatal: skip it.
        }
        break;
      }
      default:
        break;
    }
  }
  if (infoHash === undefined && infoHashV2 === undefined) bad('missing xt=urn:btih:<info-hash> or xt=urn:btmh:1220<v2 info-hash>', 'xt');
  const selectOnly = selectOnlyRanges && expandSelectOnly(selectOnlyRanges);
  // A btmh-only link names its swarm by the v2 info-hash truncated to 20 bytes (BEP 52).
  const id = infoHash ?? infoHashV2!.slice(0, 20);
  return {
    infoHash: id,
    infoHashHex: toHex(id),
    ...(infoHashV2 !== undefined ? { infoHashV2, infoHashV2Hex: toHex(infoHashV2) } : {}),
    ...(infoHash === undefined ? { v2Only: true } : {}),
    displayName,
    trackers,
    peers,
    webSeeds,
    ...(selectOnly ? { selectOnly } : {}),
  };
}

/** A btmh value: the multihash of a SHA-256 (code 0x12, length 0x20) in hex. Throws ERR_MAGNET otherwise. */
function parseBtmh(v: string): Uint8Array {
  if (!/^1220[0-9a-fA-F]{64}$/.test(v)) {
    const shown = v.length > 80 ? `${v.slice(0, 80)}…` : v;
    bad(`xt: urn:btmh must be 1220 followed by 64 hex digits (a SHA-256 multihash), got ${JSON.stringify(shown)}`, 'xt');
  }
  return fromHex(v.slice(4));
}

/**
 * BEP 53 file list: indices and inclusive ranges, at most 100,000 files in all; undefined when malformed.
 * Checked here but not expanded (expandSelectOnly does that once, for the value used): a link may repeat
 * `so=` (the last valid one wins) and expanding each cost up to 100,000 set inserts and a sort per 11-byte
 * parameter (a 740-byte link hung the event loop 5 s).
 */
function parseSelectOnly(v: string): [number, number][] | undefined {
  const ranges: [number, number][] = [];
  let size = 0;
  for (const part of v.split(',')) {
    const m = /^\s*(\d{1,9})(?:-(\d{1,9}))?\s*$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a || size + (b - a) > 100_000) return undefined;
    size += b - a + 1;
    ranges.push([a, b]);
  }
  return ranges;
}

/** Sorted, distinct indices of checked ranges. */
function expandSelectOnly(ranges: readonly [number, number][]): number[] {
  const out = new Set<number>();
  for (const [a, b] of ranges) for (let i = a; i <= b; i++) out.add(i);
  return [...out].sort((x, y) => x - y);
}

/** Sorted indices as BEP 53 ranges: [0,2,3,4,7] → "0,2-4,7". */
function formatSelectOnly(list: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j]! + 1) j++;
    parts.push(j > i ? `${list[i]}-${list[j]}` : String(list[i]));
    i = j + 1;
  }
  return parts.join(',');
}

function isMetainfo(x: MagnetLink | Metainfo): x is Metainfo {
  return (x as Metainfo).info !== undefined;
}

/**
 * Format a magnet link (hex btih and/or btmh, dn, tr..., x.pe..., ws...); parseMagnet(formatMagnet(m))
 * round-trips. A v2-only torrent (or btmh-only link) gets no btih: its 20-byte id is not a SHA-1.
 */
export function formatMagnet(x: MagnetLink | Metainfo): string {
  const enc = encodeURIComponent;
  const v2Only = isMetainfo(x) ? x.version === 2 : x.v2Only === true;
  const parts: string[] = [];
  if (!v2Only) parts.push(`xt=urn:btih:${toHex(x.infoHash)}`);
  if (x.infoHashV2 !== undefined) parts.push(`xt=urn:btmh:1220${toHex(x.infoHashV2)}`);
  if (isMetainfo(x)) {
    parts.push(`dn=${enc(x.info.name)}`);
    const seen = new Set<string>();
    for (const tier of x.announceList) for (const t of tier) if (!seen.has(t)) { seen.add(t); parts.push(`tr=${enc(t)}`); }
    for (const w of x.urlList) parts.push(`ws=${enc(w)}`);
  } else {
    if (x.displayName !== undefined) parts.push(`dn=${enc(x.displayName)}`);
    for (const t of x.trackers) parts.push(`tr=${enc(t)}`);
    for (const p of x.peers) parts.push(`x.pe=${enc(p)}`);
    for (const w of x.webSeeds) parts.push(`ws=${enc(w)}`);
    if (x.selectOnly && x.selectOnly.length > 0) parts.push(`so=${formatSelectOnly(x.selectOnly)}`);
  }
  return `magnet:?${parts.join('&')}`;
}
