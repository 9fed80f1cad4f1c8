/**
 * HTTP(S) tracker protocol (BEP 3, BEP 23 compact peers, BEP 7 `peers6`, BEP 48 scrape): URL building and
 * reply parsing (pure, no I/O). Binary query values are percent-encoded byte by byte; replies are checked
 * field by field, and nothing a tracker sends (bogus intervals, odd peer lists, huge lists) is trusted blindly.
 */
import { BtError } from '../../core/index.js';
import { bdecodePrefix, bytesToLatin1, isBytes, isDict, isList, latin1ToBytes, utf8Lossy } from '../../bencode/index.js';
import type { BDict, BValue } from '../../bencode/index.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeResponse, TrackerPeer } from '../types.js';
import { formatIPv6 } from '../../util/index.js';

/** At most this many peers are kept from one reply (compact, dictionary and `peers6` together). */
export const MAX_PEERS_PER_REPLY = 2000;
/** Intervals above this (seconds) are clamped to it: a tracker can't tell us to go silent for weeks. */
export const MAX_INTERVAL_S = 24 * 60 * 60;
/** Longest warning / failure text kept from a reply (characters). */
const MAX_MESSAGE_CHARS = 1024;
/** Nesting allowed in a reply (the deepest legitimate one is `files` -> hash -> counters, or `peers` -> list -> dict). */
const MAX_REPLY_DEPTH = 8;

// ---- percent-encoding ------------------------------------------------------------------------------

const HEX_UPPER = '0123456789ABCDEF';
/** RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~ */
const UNRESERVED = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
}

/** Percent-encode raw bytes for a query value: unreserved bytes as themselves, every other byte as `%XX` (uppercase). */
export function percentEncodeBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    s += UNRESERVED[c] ? String.fromCharCode(c) : `%${HEX_UPPER[c >> 4]}${HEX_UPPER[c & 15]}`;
  }
  return s;
}

/** A string's bytes: latin1 when every char is < 256 (so a tracker id read by `parseAnnounceResponse` round-trips), else UTF-8. */
function stringBytes(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return new TextEncoder().encode(s);
  return latin1ToBytes(s);
}

/** Append `params` (already encoded `k=v` pairs) to a URL, keeping its query string and dropping any fragment. */
function withQuery(url: string, params: readonly string[]): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  if (params.length === 0) return base;
  const q = base.indexOf('?');
  const sep = q < 0 ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return base + sep + params.join('&');
}

/** A non-negative integer as decimal text (counters may exceed 2^32; fractions are floored). */
function decimal(n: number, name: string): string {
  if (!Number.isFinite(n)) throw new TypeError(`${name} must be a finite number`);
  return BigInt(Math.max(0, Math.floor(n))).toString();
}

/**
 * The announce GET URL for `req` (BEP 3 with BEP 23 `compact=1`). `trackerId` is the `tracker id` the tracker
 * sent earlier (sent back as `trackerid`). The announce URL's own query (a passkey, say) is kept.
 */
export function buildAnnounceUrl(announceUrl: string, req: AnnounceRequest, trackerId?: string): string {
  if (req.infoHash.length !== 20) throw new TypeError('info-hash must be 20 bytes');
  if (req.peerId.length !== 20) throw new TypeError('peer id must be 20 bytes');
  if (!Number.isInteger(req.port) || req.port < 0 || req.port > 65535) throw new TypeError(`bad port ${req.port}`);
  const p = [
    `info_hash=${percentEncodeBytes(req.infoHash)}`,
    `peer_id=${percentEncodeBytes(req.peerId)}`,
    `port=${req.port}`,
    `uploaded=${decimal(req.uploaded, 'uploaded')}`,
    `downloaded=${decimal(req.downloaded, 'downloaded')}`,
    `left=${decimal(req.left, 'left')}`,
    `key=${(req.key >>> 0).toString(16).toUpperCase().padStart(8, '0')}`,
  ];
  if (req.event !== 'none') p.push(`event=${req.event}`);
  p.push(`numwant=${decimal(req.numWant, 'numWant')}`, 'compact=1', 'no_peer_id=1');
  if (req.crypto === 'supported' || req.crypto === 'required') p.push('supportcrypto=1');
  if (req.crypto === 'required') p.push('requirecrypto=1');
  if (trackerId !== undefined && trackerId !== '') p.push(`trackerid=${percentEncodeBytes(stringBytes(trackerId))}`);
  return withQuery(announceUrl, p);
}

// ---- replies ---------------------------------------------------------------------------------------

const fail = (message: string, cause?: unknown): never => {
  throw new BtError('ERR_TRACKER', message, { op: 'decode', cause });
};

function shortText(b: Uint8Array): string {
  const s = utf8Lossy(b.subarray(0, MAX_MESSAGE_CHARS * 4));
  return s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}…` : s;
}

/** A dictionary's own value for `key` (decoded dictionaries have no prototype, but stay safe with any object). */
function own(d: BDict, key: string): BValue | undefined {
  return Object.prototype.hasOwnProperty.call(d, key) ? d[key] : undefined;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;
}

/**
 * Decode a reply body to its top-level dictionary and handle `failure reason`. Bytes after the dictionary
 * are ignored (some trackers append a newline or junk). `what` names the request in messages.
 */
function decodeReply(body: Uint8Array, what: 'announce' | 'scrape'): BDict {
  let i = 0;
  while (i < body.length && isWhitespace(body[i]!)) i++;
  if (i === body.length) fail(`tracker sent an empty ${what} reply`);
  if (body[i] === 0x3c /* < */) fail(`tracker ${what} reply is not bencoded (looks like an HTML page)`);
  let value: BValue;
  try {
    value = bdecodePrefix(body.subarray(i), { maxDepth: MAX_REPLY_DEPTH }).value;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const truncated = /unexpected end of input|exceeds remaining input/.test(why);
    return fail(`tracker ${what} reply is not valid bencode${truncated ? ' (truncated)' : ''}: ${why}`, e);
  }
  if (!isDict(value)) return fail(`tracker ${what} reply is not a bencoded dictionary`);
  const failure = own(value, 'failure reason');
  if (failure !== undefined) {
    fail(`tracker failure: ${isBytes(failure) ? shortText(failure) : '(no reason given)'}`);
  }
  return value;
}

/** A count or interval: a non-negative safe integer, else undefined (wrong type, negative). */
function count(d: BDict, key: string): number | undefined {
  const v = own(d, key);
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function interval(d: BDict, key: string): number | undefined {
  const v = count(d, key);
  return v === undefined ? undefined : Math.min(v, MAX_INTERVAL_S);
}

function text(d: BDict, key: string): string | undefined {
  const v = own(d, key);
  return isBytes(v) ? shortText(v) : undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function ipv4Text(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text for 16 address bytes; an IPv4-mapped address (::ffff:a.b.c.d) comes back as plain IPv4. */
function ipv6Text(b: Uint8Array, o: number): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) mapped = false;
  if (mapped && b[o + 10] === 0xff && b[o + 11] === 0xff) return ipv4Text(b, o + 12);
  return formatIPv6(b, o);
}

/** Normalise an IP literal from a dictionary-model peer; undefined for anything else (DNS names included). */
function ipLiteral(s: string): string | undefined {
  if (IPV4.test(s)) return s;
  if (!s.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(s)) return undefined;
  try {
    // The WHATWG URL parser validates an IPv6 literal and gives its canonical (RFC 5952) text.
    const host = new URL(`http://[${s}]/`).hostname;
    const inner = host.slice(1, -1);
    const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(inner);
    if (m) {
      const hi = parseInt(m[1]!, 16);
      const lo = parseInt(m[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return inner;
  } catch {
    return undefined;
  }
}

/** Addresses no peer can have: unspecified, broadcast, multicast. */
function unusable(host: string): boolean {
  if (host === '0.0.0.0' || host === '255.255.255.255' || host === '::') return true;
  if (IPV4.test(host)) {
    const first = Number(host.slice(0, host.indexOf('.')));
    return first === 0 || (first >= 224 && first <= 239);
  }
  return /^ff[0-9a-f]{2}:/.test(host);
}

class PeerList {
  readonly peers: TrackerPeer[] = [];
  private readonly seen = new Set<string>();
  get full(): boolean {
    return this.peers.length >= MAX_PEERS_PER_REPLY;
  }
  add(host: string | undefined, port: number, peerId?: Uint8Array): void {
    if (host === undefined || this.full) return;
    if (!Number.isInteger(port) || port <= 0 || port > 65535 || unusable(host)) return;
    const k = `${host}|${port}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.peers.push(peerId === undefined ? { host, port } : { host, port, peerId: peerId.slice() });
  }
}

function compactPeers(b: Uint8Array, entry: 6 | 18, out: PeerList, key: string): void {
  if (b.length % entry !== 0) fail(`tracker reply's ${key} is ${b.length} bytes, not a multiple of ${entry}`);
  const ipLen = entry - 2;
  for (let o = 0; o < b.length && !out.full; o += entry) {
    const host = entry === 6 ? ipv4Text(b, o) : ipv6Text(b, o);
    out.add(host, (b[o + ipLen]! << 8) | b[o + ipLen + 1]!);
  }
}

function dictPeers(list: BValue[], out: PeerList): void {
  for (const p of list) {
    if (out.full) return;
    if (!isDict(p)) continue;
    const ip = own(p, 'ip');
    const port = own(p, 'port');
    const id = own(p, 'peer id');
    if (!isBytes(ip) || ip.length > 64 || typeof port !== 'number') continue;
    out.add(ipLiteral(bytesToLatin1(ip)), port, isBytes(id) && id.length === 20 ? id : undefined);
  }
}

/**
 * Parse an announce reply. Throws BtError ERR_TRACKER for a `failure reason`, a body that isn't a bencoded
 * dictionary, or a malformed peer list. `trackerId` is the latin1 image of the raw `tracker id` bytes, to be
 * passed back to `buildAnnounceUrl` unchanged.
 */
export function parseAnnounceResponse(body: Uint8Array): AnnounceResponse & { trackerId?: string } {
  const d = decodeReply(body, 'announce');
  const out = new PeerList();
  const peers = own(d, 'peers');
  if (isBytes(peers)) compactPeers(peers, 6, out, 'peers');
  else if (isList(peers)) dictPeers(peers, out);
  else if (peers !== undefined) fail("tracker reply's peers is neither a string nor a list");
  const peers6 = own(d, 'peers6');
  if (isBytes(peers6)) compactPeers(peers6, 18, out, 'peers6');
  else if (isList(peers6)) dictPeers(peers6, out);
  else if (peers6 !== undefined) fail("tracker reply's peers6 is neither a string nor a list");

  const r: AnnounceResponse & { trackerId?: string } = { peers: out.peers };
  const iv = interval(d, 'interval');
  if (iv !== undefined) r.interval = iv;
  const min = interval(d, 'min interval');
  if (min !== undefined) r.minInterval = min;
  const seeders = count(d, 'complete');
  if (seeders !== undefined) r.seeders = seeders;
  const leechers = count(d, 'incomplete');
  if (leechers !== undefined) r.leechers = leechers;
  const warning = text(d, 'warning message');
  if (warning !== undefined) r.warning = warning;
  const id = own(d, 'tracker id');
  if (isBytes(id) && id.length > 0 && id.length <= 256) r.trackerId = bytesToLatin1(id);
  const ext = own(d, 'external ip');
  if (isBytes(ext) && ext.length === 4) r.externalIp = ipv4Text(ext, 0);
  else if (isBytes(ext) && ext.length === 16) r.externalIp = ipv6Text(ext, 0);
  return r;
}

// ---- scrape ----------------------------------------------------------------------------------------

/**
 * BEP 48: the scrape URL of an announce URL, when the last path segment starts with "announce" (that word
 * becomes "scrape"; the rest of the segment and the query stay). Undefined when there is none.
 */
export function scrapeUrlFor(announceUrl: string): string | undefined {
  const hash = announceUrl.indexOf('#');
  const noFragment = hash >= 0 ? announceUrl.slice(0, hash) : announceUrl;
  const q = noFragment.indexOf('?');
  const beforeQuery = q >= 0 ? noFragment.slice(0, q) : noFragment;
  const query = q >= 0 ? noFragment.slice(q) : '';
  const scheme = beforeQuery.indexOf('://');
  const pathStart = beforeQuery.indexOf('/', scheme >= 0 ? scheme + 3 : 0);
  if (pathStart < 0) return undefined;
  const slash = beforeQuery.lastIndexOf('/');
  const segment = beforeQuery.slice(slash + 1);
  if (!segment.startsWith('announce')) return undefined;
  return `${beforeQuery.slice(0, slash + 1)}scrape${segment.slice('announce'.length)}${query}`;
}

/** The scrape GET URL asking about `infoHashes` (one `info_hash` parameter each). */
export function buildScrapeUrl(scrapeUrl: string, infoHashes: Uint8Array[]): string {
  return withQuery(
    scrapeUrl,
    infoHashes.map((h) => {
      if (h.length !== 20) throw new TypeError('info-hash must be 20 bytes');
      return `info_hash=${percentEncodeBytes(h)}`;
    }),
  );
}

/** Parse a scrape reply for one torrent: `files` keyed by the raw 20-byte info-hash. */
export function parseScrapeResponse(body: Uint8Array, infoHash: Uint8Array): ScrapeResponse {
  const d = decodeReply(body, 'scrape');
  const files = own(d, 'files');
  if (files !== undefined && !isDict(files)) return fail("tracker scrape reply's files is not a dictionary");
  const entry = files === undefined ? undefined : scrapeEntry(files, infoHash);
  if (entry === undefined) return fail('tracker does not know this torrent');
  if (!isDict(entry)) return fail("tracker scrape reply's entry for this torrent is not a dictionary");
  return { seeders: count(entry, 'complete') ?? 0, leechers: count(entry, 'incomplete') ?? 0, completed: count(entry, 'downloaded') ?? 0 };
}

/**
 * The `files` entry for an info-hash: keyed by the raw 20 bytes (BEP 48), or, as some trackers send it, by
 * those bytes taken as Latin-1 characters and encoded as UTF-8 (the npm bittorrent-tracker server does
 * this), or by the hex form.
 */
function scrapeEntry(files: BDict, infoHash: Uint8Array): BValue | undefined {
  const raw = bytesToLatin1(infoHash);
  return (
    own(files, raw) ??
    own(files, bytesToLatin1(new TextEncoder().encode(raw))) ??
    own(files, Array.from(infoHash, (b) => b.toString(16).padStart(2, '0')).join(''))
  );
}
