/**
 * BEP 14 Local Service Discovery: the BT-SEARCH announce, an HTTP-like request sent by UDP multicast to
 * 239.192.152.143:6771 (IPv4) or [ff15::efc0:988f]:6771 (IPv6):
 *
 *   BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: <40 hex>\r\n
 *   (more Infohash lines)\r\ncookie: <opaque>\r\n\r\n\r\n
 *
 * This is libtorrent's format (lowercase hex, a `cookie` it uses to ignore its own announces, sent from
 * port 6771). Decoding is lenient — header names in any case, \r\n or \n line ends, upper- or lowercase
 * hex, unknown headers and malformed Infohash lines skipped — and total: any bytes give an LsdAnnounce or
 * null, never an exception. Pure: no I/O.
 */

import { BtError } from '../core/index.js';

export const LSD_PORT = 6771;
export const LSD_GROUP_V4 = '239.192.152.143';
export const LSD_GROUP_V6 = 'ff15::efc0:988f';
/** Datagrams longer than this are not LSD announces (a full 1500-byte frame's UDP payload). */
export const MAX_LSD_MESSAGE_LENGTH = 1472;
/** Info-hashes per announce we encode (keeps the datagram under ~1100 bytes) and decode at most. */
export const MAX_LSD_INFOHASHES = 20;

export interface LsdAnnounce {
  /** The announcer's BitTorrent listen port. */
  port: number;
  /** Lowercase 40-hex v1 info-hashes, de-duplicated, in message order. */
  infoHashes: string[];
  /** The `cookie` header, if any (used to recognise our own announces). */
  cookie?: string;
  /** The `Host` header, if any. */
  host?: string;
}

export interface LsdEncodeOptions {
  port: number;
  /** 40-hex info-hashes (either case; written lowercase). */
  infoHashes: readonly string[];
  cookie?: string;
  /** IPv6 group in the Host header (default IPv4). */
  ipv6?: boolean;
}

const HEX40 = /^[0-9a-fA-F]{40}$/;
const latin1 = new TextDecoder('latin1');
const ascii = new TextEncoder();

function encodeError(message: string, field: string): BtError {
  return new BtError('ERR_PROTOCOL', `LSD: ${message}`, { op: 'encode', field });
}

/** Encode a BT-SEARCH announce. Throws BtError ERR_PROTOCOL on an invalid port, info-hash or cookie (a caller's bug). */
export function encodeLsdAnnounce(o: LsdEncodeOptions): Uint8Array {
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw encodeError(`port ${o.port} out of range`, 'port');
  if (o.infoHashes.length === 0 || o.infoHashes.length > MAX_LSD_INFOHASHES) {
    throw encodeError(`1..${MAX_LSD_INFOHASHES} info-hashes per announce, got ${o.infoHashes.length}`, 'infoHashes');
  }
  const host = o.ipv6 ? `[${LSD_GROUP_V6}]:${LSD_PORT}` : `${LSD_GROUP_V4}:${LSD_PORT}`;
  let s = `BT-SEARCH * HTTP/1.1\r\nHost: ${host}\r\nPort: ${o.port}\r\n`;
  for (const h of o.infoHashes) {
    if (!HEX40.test(h)) throw encodeError(`info-hash ${JSON.stringify(h)} is not 40 hex digits`, 'infoHashes');
    s += `Infohash: ${h.toLowerCase()}\r\n`;
  }
  if (o.cookie !== undefined) {
    if (!/^[\x21-\x7e]{1,64}$/.test(o.cookie)) throw encodeError('cookie must be 1..64 visible ASCII characters', 'cookie');
    s += `cookie: ${o.cookie}\r\n`;
  }
  s += '\r\n\r\n';
  return ascii.encode(s);
}

/** Decode a datagram; null when it is not a well-formed BT-SEARCH with a valid Port and at least one Infohash. */
export function decodeLsdAnnounce(bytes: Uint8Array): LsdAnnounce | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < 16 || bytes.length > MAX_LSD_MESSAGE_LENGTH) return null;
  const text = latin1.decode(bytes);
  const lines = text.split(/\r?\n/);
  if (!/^BT-SEARCH\s+\*\s+HTTP\/1\.[01]\s*$/i.test(lines[0]!)) return null;
  let port: number | undefined;
  let cookie: string | undefined;
  let host: string | undefined;
  const infoHashes: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) break; // end of headers
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case 'port': {
        if (!/^\d{1,5}$/.test(value)) return null;
        const p = Number(value);
        if (p < 1 || p > 65535) return null;
        port = p;
        break;
      }
      case 'infohash': {
        if (!HEX40.test(value) || infoHashes.length >= MAX_LSD_INFOHASHES) break;
        const h = value.toLowerCase();
        if (!infoHashes.includes(h)) infoHashes.push(h);
        break;
      }
      case 'cookie':
        if (value.length > 0 && value.length <= 64) cookie = value;
        break;
      case 'host':
        if (value.length > 0 && value.length <= 64) host = value;
        break;
      default:
        break;
    }
  }
  if (port === undefined || infoHashes.length === 0) return null;
  const out: LsdAnnounce = { port, infoHashes };
  if (cookie !== undefined) out.cookie = cookie;
  if (host !== undefined) out.host = host;
  return out;
}
