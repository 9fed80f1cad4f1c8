/**
 * BEP 11 ut_pex: peer exchange. The payload (after the extended message id) is a bencoded dictionary with
 * compact peer lists `added` / `dropped` (6 bytes each: IPv4 + port) and `added6` / `dropped6` (18 bytes:
 * IPv6 + port), plus one flag byte per added peer in `added.f` / `added6.f`.
 *
 * Decoding is strict about shape (a list whose length is not a multiple of 6 / 18, or flags whose length
 * does not match, is BtError ERR_WIRE) and bounded in quantity: at most `maxPeersPerFamily` entries of
 * each list are read and the rest ignored. Entries with port 0 or an unspecified address are skipped.
 *
 * PexTracker is the sending side's pure state: the diff between what we last told one remote peer and
 * the peers connected now, at most 50 added and 50 dropped per message, at most one message a minute.
 */
import { bdecodePrefix, bencode, isBytes, isDict } from '../bencode/index.js';
import type { BDict, BEncodable, BValue } from '../bencode/index.js';
import type { Clock } from '../core/index.js';
import { BtError } from '../core/index.js';
import { formatIPv6 } from '../util/index.js';

/** BEP 11 flag bits of `added.f` / `added6.f`. */
export const PexFlags = {
  /** Prefers encryption (MSE). */
  PreferEncryption: 0x01,
  /** Seed / upload only. */
  Seed: 0x02,
  /** Supports uTP. */
  Utp: 0x04,
  /** Supports ut_holepunch. */
  HolePunch: 0x08,
  /** Outgoing connection: the address is reachable (a listen port). */
  Reachable: 0x10,
} as const;

export interface PexPeer {
  /** Dotted IPv4 or (unbracketed) IPv6 text. */
  host: string;
  port: number;
  /** PexFlags bits (added peers only; 0 when absent). */
  flags?: number;
}

export interface PexMessage {
  /** IPv4 and IPv6 peers together; the encoder splits them by family. */
  added: PexPeer[];
  dropped: PexPeer[];
}

/** Default bound on entries read from each of added / added6 / dropped / dropped6 in one message. */
export const DEFAULT_MAX_PEX_PEERS_PER_FAMILY = 200;
/** Largest ut_pex payload decodeUtPex reads (about 20k IPv6 entries: far above any honest message). */
export const MAX_PEX_PAYLOAD_LENGTH = 512 * 1024;
/** BEP 11 sending limits. */
export const PEX_MAX_ADDED = 50;
export const PEX_MAX_DROPPED = 50;
export const PEX_MIN_INTERVAL_MS = 60_000;

function bad(message: string, op: 'encode' | 'decode', field?: string, cause?: unknown): never {
  throw new BtError('ERR_WIRE', `ut_pex: ${message}`, { op, field, cause });
}

// ---- addresses --------------------------------------------------------------------------------------

function parseIpv4(s: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const v = Number(m[i + 1]);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  let text = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const pct = text.indexOf('%');
  if (pct >= 0) text = text.slice(0, pct);
  const words: number[] = [];
  let tail4: Uint8Array | undefined;
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::')) return undefined;
  const parseGroups = (part: string, allowV4: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4 && i === groups.length - 1 && g.includes('.')) {
        tail4 = parseIpv4(g);
        if (!tail4) return undefined;
        out.push((tail4[0]! << 8) | tail4[1]!, (tail4[2]! << 8) | tail4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const head = parseGroups(text.slice(0, dbl), false);
    const tail = parseGroups(text.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    words.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseGroups(text, true);
    if (!all || all.length !== 8) return undefined;
    words.push(...all);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  return out;
}

function ipv4Text(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}


/** Canonical key of a peer address ("1.2.3.4:80", "[::1]:80"), or undefined when the host is not an IP literal. */
export function pexPeerKey(p: { host: string; port: number }): string | undefined {
  const v4 = parseIpv4(p.host);
  if (v4) return `${ipv4Text(v4, 0)}:${p.port}`;
  const v6 = parseIpv6(p.host);
  return v6 ? `[${formatIPv6(v6, 0)}]:${p.port}` : undefined;
}

// ---- codec ------------------------------------------------------------------------------------------

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad(`port ${port} out of range`, 'encode', 'port');
}

function compact(peers: PexPeer[], withFlags: boolean): { v4: Uint8Array; v6: Uint8Array; f4: Uint8Array; f6: Uint8Array } {
  const v4: number[] = [];
  const v6: number[] = [];
  const f4: number[] = [];
  const f6: number[] = [];
  for (const p of peers) {
    checkPort(p.port);
    const flags = p.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0 || flags > 255) bad(`flags ${flags} out of range`, 'encode', 'flags');
    const a4 = parseIpv4(p.host);
    if (a4) {
      v4.push(...a4, p.port >> 8, p.port & 0xff);
      if (withFlags) f4.push(flags);
      continue;
    }
    const a6 = parseIpv6(p.host);
    if (!a6) bad(`host ${JSON.stringify(p.host)} is not an IP address`, 'encode', 'host');
    v6.push(...a6, p.port >> 8, p.port & 0xff);
    if (withFlags) f6.push(flags);
  }
  return { v4: Uint8Array.from(v4), v6: Uint8Array.from(v6), f4: Uint8Array.from(f4), f6: Uint8Array.from(f6) };
}

/** Encode a ut_pex payload. IPv6 keys are present only when there are IPv6 peers; the IPv4 keys always are. */
export function encodeUtPex(msg: PexMessage): Uint8Array {
  const a = compact(msg.added, true);
  const d = compact(msg.dropped, false);
  const out: Record<string, BEncodable> = { added: a.v4, 'added.f': a.f4, dropped: d.v4 };
  if (a.v6.length > 0) {
    out['added6'] = a.v6;
    out['added6.f'] = a.f6;
  }
  if (d.v6.length > 0) out['dropped6'] = d.v6;
  return bencode(out);
}

export interface UtPexDecodeOptions {
  /** At most this many entries are read from each list (default DEFAULT_MAX_PEX_PEERS_PER_FAMILY). */
  maxPeersPerFamily?: number;
}

function own(d: BDict, key: string): BValue | undefined {
  return Object.prototype.hasOwnProperty.call(d, key) ? d[key] : undefined;
}

function list(d: BDict, key: string): Uint8Array | undefined {
  const v = own(d, key);
  if (v === undefined) return undefined;
  if (!isBytes(v)) bad(`${key} is not a byte string`, 'decode', key);
  return v;
}

function readPeers(d: BDict, key: string, entry: 6 | 18, flagsKey: string | undefined, max: number, out: PexPeer[]): void {
  const b = list(d, key);
  const f = flagsKey === undefined ? undefined : list(d, flagsKey);
  if (b === undefined) {
    if (f !== undefined && f.length > 0) bad(`${flagsKey} without ${key}`, 'decode', flagsKey);
    return;
  }
  if (b.length % entry !== 0) bad(`${key} is ${b.length} bytes, not a multiple of ${entry}`, 'decode', key);
  const n = b.length / entry;
  // Some clients omit the flags; when present they must match one for one.
  if (f !== undefined && f.length !== n) bad(`${flagsKey} has ${f.length} flags for ${n} peers`, 'decode', flagsKey);
  const seen = new Set<string>();
  const ipLen = entry - 2;
  for (let i = 0, kept = 0; i < n && kept < max; i++) {
    const o = i * entry;
    const port = (b[o + ipLen]! << 8) | b[o + ipLen + 1]!;
    let zero = true;
    for (let j = 0; j < ipLen; j++) if (b[o + j] !== 0) zero = false;
    if (port === 0 || zero) continue;
    const host = entry === 6 ? ipv4Text(b, o) : formatIPv6(b, o);
    const k = `${host}|${port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    kept++;
    out.push(flagsKey === undefined ? { host, port } : { host, port, flags: f === undefined ? 0 : f[i]! });
  }
}

/** Decode a ut_pex payload. Throws BtError ERR_WIRE for malformed input (see the header). */
export function decodeUtPex(payload: Uint8Array, opts: UtPexDecodeOptions = {}): PexMessage {
  const max = opts.maxPeersPerFamily ?? DEFAULT_MAX_PEX_PEERS_PER_FAMILY;
  if (!(payload instanceof Uint8Array) || payload.length === 0) bad('empty message', 'decode');
  if (payload.length > MAX_PEX_PAYLOAD_LENGTH) bad(`message of ${payload.length} bytes is too large`, 'decode');
  let d: BValue;
  try {
    // A prefix decode, as for the extended handshake: trailing padding is ignored.
    d = bdecodePrefix(payload, { maxDepth: 4 }).value;
  } catch (e) {
    return bad(`not valid bencoding: ${(e as Error).message}`, 'decode', undefined, e);
  }
  if (!isDict(d)) bad('not a dictionary', 'decode');
  const added: PexPeer[] = [];
  const dropped: PexPeer[] = [];
  readPeers(d, 'added', 6, 'added.f', max, added);
  readPeers(d, 'added6', 18, 'added6.f', max, added);
  readPeers(d, 'dropped', 6, undefined, max, dropped);
  readPeers(d, 'dropped6', 18, undefined, max, dropped);
  return { added, dropped };
}

// ---- sending side -----------------------------------------------------------------------------------

export interface PexTrackerOptions {
  clock: Clock;
  /** The remote peer this tracker talks to: never advertised to itself. */
  remote?: { host: string; port: number };
  /** Default PEX_MAX_ADDED / PEX_MAX_DROPPED / PEX_MIN_INTERVAL_MS. */
  maxAdded?: number;
  maxDropped?: number;
  minIntervalMs?: number;
}

/**
 * One per remote peer that supports ut_pex. The engine calls `next(connectedPeers)` on its timer; the
 * result is the next message to send (undefined: nothing to say, or less than a minute since the last
 * message). Peers the remote was told about and that are still connected are not repeated; a peer that
 * went away is dropped; what does not fit in one message waits for the next. Only peers with a usable
 * listen address (an IP literal and port) should be passed; anything else is ignored.
 */
export class PexTracker {
  private readonly clock: Clock;
  private readonly maxAdded: number;
  private readonly maxDropped: number;
  private readonly minInterval: number;
  private readonly remoteKey: string | undefined;
  /** Key → the peer as the remote peer last heard of it. */
  private readonly advertised = new Map<string, PexPeer>();
  private lastSent = -Infinity;

  constructor(opts: PexTrackerOptions) {
    this.clock = opts.clock;
    this.maxAdded = opts.maxAdded ?? PEX_MAX_ADDED;
    this.maxDropped = opts.maxDropped ?? PEX_MAX_DROPPED;
    this.minInterval = opts.minIntervalMs ?? PEX_MIN_INTERVAL_MS;
    this.remoteKey = opts.remote === undefined ? undefined : pexPeerKey(opts.remote);
  }

  /** How many peers the remote peer currently believes we are connected to. */
  get advertisedCount(): number {
    return this.advertised.size;
  }

  /** Milliseconds until next() may return a message (0: now). */
  msUntilNext(): number {
    return Math.max(0, this.lastSent + this.minInterval - this.clock.now());
  }

  next(connected: Iterable<PexPeer>): PexMessage | undefined {
    if (this.msUntilNext() > 0) return undefined;
    const now = new Map<string, PexPeer>();
    for (const p of connected) {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) continue;
      const k = pexPeerKey(p);
      if (k === undefined || k === this.remoteKey || now.has(k)) continue;
      now.set(k, p);
    }
    const added: PexPeer[] = [];
    const dropped: PexPeer[] = [];
    for (const [k, p] of this.advertised) {
      if (dropped.length >= this.maxDropped) break;
      if (!now.has(k)) dropped.push({ host: p.host, port: p.port });
    }
    for (const [k, p] of now) {
      if (added.length >= this.maxAdded) break;
      if (!this.advertised.has(k)) added.push({ host: p.host, port: p.port, flags: (p.flags ?? 0) & 0xff });
    }
    if (added.length === 0 && dropped.length === 0) return undefined;
    for (const p of dropped) this.advertised.delete(pexPeerKey(p)!);
    for (const p of added) this.advertised.set(pexPeerKey(p)!, p);
    this.lastSent = this.clock.now();
    return { added, dropped };
  }
}
