/**
 * BEP 3 handshake: `<19>"BitTorrent protocol"<reserved 8><info_hash 20><peer_id 20>` (68 bytes).
 * Reserved-bit helpers for BEP 10 (extension protocol), BEP 6 (fast extension) and BEP 5 (DHT port),
 * plus peer-id helpers (BEP 20 conventions: Azureus-style and Shadow-style client prefixes).
 */
import { BtError } from '../core/index.js';
import type { Handshake } from './types.js';

export const PROTOCOL = 'BitTorrent protocol';
export const HANDSHAKE_LENGTH = 68;
/** Bytes up to and including the info-hash: enough to route an incoming connection. */
export const HANDSHAKE_HEAD_LENGTH = 48;

/** `\x13BitTorrent protocol` as bytes (the first 20 bytes of every handshake). */
export const PROTOCOL_HEADER: Uint8Array = (() => {
  const b = new Uint8Array(20);
  b[0] = 19;
  for (let i = 0; i < 19; i++) b[i + 1] = PROTOCOL.charCodeAt(i);
  return b;
})();

/** The handshake before the peer id: what a listener needs to route an incoming connection. */
export interface HandshakeHead {
  reserved: Uint8Array;
  infoHash: Uint8Array;
}

function hsError(message: string, op: 'encode' | 'decode' | 'create' = 'decode'): BtError {
  return new BtError('ERR_HANDSHAKE', message, { op });
}

export function encodeHandshake(h: Handshake): Uint8Array {
  if (h.reserved.length !== 8) throw hsError(`reserved must be 8 bytes, got ${h.reserved.length}`, 'encode');
  if (h.infoHash.length !== 20) throw hsError(`info-hash must be 20 bytes, got ${h.infoHash.length}`, 'encode');
  if (h.peerId.length !== 20) throw hsError(`peer id must be 20 bytes, got ${h.peerId.length}`, 'encode');
  const out = new Uint8Array(HANDSHAKE_LENGTH);
  out.set(PROTOCOL_HEADER, 0);
  out.set(h.reserved, 20);
  out.set(h.infoHash, 28);
  out.set(h.peerId, 48);
  return out;
}

/**
 * Check the protocol header against however many of its bytes are present (`bytes[0..min(n,20))`).
 * Throws ERR_HANDSHAKE at the first wrong byte, so garbage is refused without waiting for 68 bytes.
 */
export function checkProtocolHeader(bytes: Uint8Array, n = bytes.length): void {
  const m = Math.min(n, 20);
  if (m > 0 && bytes[0] !== 19) throw hsError(`bad handshake: pstrlen ${bytes[0]}, expected 19`);
  for (let i = 1; i < m; i++) {
    if (bytes[i] !== PROTOCOL_HEADER[i]) throw hsError('bad handshake: protocol string is not "BitTorrent protocol"');
  }
}

/** Decode the first 48 bytes of a handshake (validated); the fields are copies. */
export function decodeHandshakeHead(bytes: Uint8Array): HandshakeHead {
  if (bytes.length < HANDSHAKE_HEAD_LENGTH) throw hsError(`handshake head needs 48 bytes, got ${bytes.length}`);
  checkProtocolHeader(bytes);
  return { reserved: bytes.slice(20, 28), infoHash: bytes.slice(28, 48) };
}

/** Decode a complete 68-byte handshake (exactly 68 bytes). The fields are copies, never views. */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  if (bytes.length !== HANDSHAKE_LENGTH) throw hsError(`handshake must be 68 bytes, got ${bytes.length}`);
  checkProtocolHeader(bytes);
  return { reserved: bytes.slice(20, 28), infoHash: bytes.slice(28, 48), peerId: bytes.slice(48, 68) };
}

// ---- reserved bits ---------------------------------------------------------------------------

export interface ReservedFlags {
  /** BEP 10 extension protocol: reserved[5] & 0x10. */
  extended?: boolean;
  /** BEP 6 fast extension: reserved[7] & 0x04. */
  fast?: boolean;
  /** BEP 5 DHT (port message): reserved[7] & 0x01. */
  dht?: boolean;
  /** BEP 52 v2 upgrade (supports v2 / hash messages): reserved[7] & 0x10. */
  v2?: boolean;
}

export function makeReserved(flags: ReservedFlags = {}): Uint8Array {
  const r = new Uint8Array(8);
  if (flags.extended) r[5]! |= 0x10;
  if (flags.fast) r[7]! |= 0x04;
  if (flags.dht) r[7]! |= 0x01;
  if (flags.v2) r[7]! |= 0x10;
  return r;
}

export function supportsExtended(reserved: Uint8Array): boolean {
  return reserved.length >= 8 && (reserved[5]! & 0x10) !== 0;
}

export function supportsFast(reserved: Uint8Array): boolean {
  return reserved.length >= 8 && (reserved[7]! & 0x04) !== 0;
}

export function supportsDht(reserved: Uint8Array): boolean {
  return reserved.length >= 8 && (reserved[7]! & 0x01) !== 0;
}

// ---- peer ids --------------------------------------------------------------------------------

const ID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * An Azureus-style peer id: `prefix` (e.g. '-TK0100-') followed by printable characters derived from
 * `randomBytes` (at least 20 - prefix.length bytes; the caller supplies them from an injected Random).
 */
export function makePeerId(prefix: string, randomBytes: Uint8Array): Uint8Array {
  if (prefix.length > 20 || !/^[\x20-\x7e]*$/.test(prefix)) {
    throw hsError(`peer id prefix must be at most 20 printable ASCII characters: ${JSON.stringify(prefix)}`, 'create');
  }
  const need = 20 - prefix.length;
  if (randomBytes.length < need) throw hsError(`makePeerId needs ${need} random bytes, got ${randomBytes.length}`, 'create');
  const id = new Uint8Array(20);
  for (let i = 0; i < prefix.length; i++) id[i] = prefix.charCodeAt(i);
  for (let i = 0; i < need; i++) id[prefix.length + i] = ID_CHARS.charCodeAt(randomBytes[i]! % ID_CHARS.length);
  return id;
}

/** Two-letter Azureus-style client codes (`-XX1234-`). */
const AZUREUS: Record<string, string> = {
  AG: 'Ares',
  AR: 'Arctic',
  AT: 'Artemis',
  AX: 'BitPump',
  AZ: 'Vuze',
  BB: 'BitBuddy',
  BC: 'BitComet',
  BF: 'Bitflu',
  BG: 'BTG',
  BI: 'BiglyBT',
  BL: 'BitBlinder',
  BR: 'BitRocket',
  BT: 'BitTorrent',
  BW: 'BitTorrent Web',
  CD: 'Enhanced CTorrent',
  CT: 'CTorrent',
  DE: 'Deluge',
  EB: 'EBit',
  FD: 'Free Download Manager',
  FG: 'FlashGet',
  FT: 'FoxTorrent',
  FW: 'FrostWire',
  GR: 'GetRight',
  HL: 'Halite',
  KG: 'KGet',
  KT: 'KTorrent',
  LH: 'LH-ABC',
  LP: 'Lphant',
  LT: 'libtorrent',
  lt: 'libTorrent (rakshasa)',
  LW: 'LimeWire',
  MO: 'MonoTorrent',
  MP: 'MooPolice',
  MR: 'Miro',
  NX: 'Net Transport',
  OS: 'OneSwarm',
  OT: 'OmegaTorrent',
  PD: 'Pando',
  PI: 'PicoTorrent',
  qB: 'qBittorrent',
  QD: 'QQDownload',
  RT: 'Retriever',
  SB: 'Swiftbit',
  SD: 'Thunder',
  SK: 'spark',
  SP: 'BitSpirit',
  ST: 'SymTorrent',
  st: 'sharktorrent',
  SZ: 'Shareaza',
  TK: 'torrentkit',
  TL: 'Tribler',
  TN: 'TorrentDotNET',
  TR: 'Transmission',
  TS: 'Torrentstorm',
  TT: 'TuoTu',
  UL: 'uLeecher!',
  UM: 'µTorrent Mac',
  UT: 'µTorrent',
  UW: 'µTorrent Web',
  VG: 'Vagaa',
  WD: 'WebTorrent Desktop',
  WT: 'BitLet',
  WW: 'WebTorrent',
  WY: 'FireTorrent',
  XL: 'Xunlei',
  XT: 'XanTorrent',
  XX: 'Xtorrent',
  ZT: 'ZipTorrent',
};

/** One-letter Shadow-style client codes (`S58B-----`). */
const SHADOW: Record<string, string> = {
  A: 'ABC',
  O: 'Osprey Permaseed',
  Q: 'BTQueue',
  R: 'Tribler',
  S: 'Shadow',
  T: 'BitTornado',
  U: 'UPnP NAT Bit Torrent',
};

const SHADOW_DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-';

function base36(c: string): number {
  const n = parseInt(c, 36);
  return Number.isNaN(n) ? -1 : n;
}

function azureusVersion(code: string, v: string): string {
  const [a, b, c, d] = [v[0]!, v[1]!, v[2]!, v[3]!];
  if (code === 'TR') {
    // Transmission: -TR0006- 0.6, -TR0072- 0.72, -TR111Z- 1.11+, -TR3000- 3.00, -TR400X- 4.0.0 beta
    const suffix = d === 'Z' ? '+' : d === 'X' ? ' beta' : '';
    if (a === '0' && b === '0' && c === '0') return `0.${d}`;
    if (a === '0' && b === '0') return `0.${c}${d}`;
    if (a <= '3') return `${a}.${b}${c}${suffix}`;
    return `${a}.${base36(b)}.${base36(c)}${suffix}`;
  }
  if (code === 'WW' && /^\d{4}$/.test(v)) {
    // WebTorrent: two decimal digits each of major and minor.
    return `${Number(v.slice(0, 2))}.${Number(v.slice(2, 4))}`;
  }
  // Common style (libtorrent, qBittorrent, Deluge, µTorrent ...): three base-36 components; the fourth
  // is a build number when it is a non-zero digit and a release tag otherwise.
  const parts = [base36(a), base36(b), base36(c)];
  if (parts.some((p) => p < 0)) return v;
  if (/[1-9]/.test(d)) parts.push(Number(d));
  return parts.join('.');
}

function printable(id: Uint8Array, n: number): string {
  let s = '';
  for (let i = 0; i < Math.min(n, id.length); i++) {
    const c = id[i]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  }
  return s;
}

/**
 * Best-effort client name and version from a peer id, e.g. '-LT2080-' → 'libtorrent 2.0.8',
 * '-TR3000-' → 'Transmission 3.00', 'A2-1-37-0-' → 'aria2 1.37.0', 'M7-4-3--' → 'BitTorrent (Mainline) 7.4.3'.
 * Unrecognised ids give `unknown (<first 8 bytes, printable>)`.
 */
export function describePeerId(id: Uint8Array): string {
  const s = printable(id, 20);
  // Azureus style: -XX1234-
  const az = /^-([A-Za-z~]{2})([0-9A-Za-z]{4})-/.exec(s);
  if (az) {
    const code = az[1]!;
    const name = AZUREUS[code];
    const version = azureusVersion(code, az[2]!);
    return name !== undefined ? `${name} ${version}` : `unknown ${code} ${version}`;
  }
  // aria2: A2-1-37-0-
  const aria = /^A2-(\d+)-(\d+)-(\d+)-/.exec(s);
  if (aria) return `aria2 ${Number(aria[1])}.${Number(aria[2])}.${Number(aria[3])}`;
  // Mainline: M4-4-0-- / M7-10-3-
  const mainline = /^M(\d)-(\d{1,2})-(\d{1,2})-/.exec(s);
  if (mainline) return `BitTorrent (Mainline) ${mainline[1]}.${mainline[2]}.${mainline[3]}`;
  // Shadow style: one letter, up to five version digits padded with '-', then '---'.
  const shadow = /^([A-Z])([0-9A-Za-z.]{1,5})-*$/.exec(s.slice(0, 6));
  if (shadow && SHADOW[shadow[1]!] !== undefined && s.slice(6, 9) === '---') {
    const version = [...shadow[2]!].map((c) => SHADOW_DIGITS.indexOf(c)).join('.');
    return `${SHADOW[shadow[1]!]} ${version}`;
  }
  return `unknown (${printable(id, 8)})`;
}
