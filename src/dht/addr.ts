/**
 * BEP 5 / BEP 32 compact encodings: IPv4 and IPv6 addresses as bytes, "compact peer info" (6 or 18 bytes)
 * and "compact node info" (26 or 38 bytes). Addresses are strings in the form node:dgram reports them
 * (dotted quad; RFC 5952 lower-case compressed IPv6).
 */
import { BtError } from '../core/index.js';
import { formatIPv6 } from '../util/index.js';

export const ID_LENGTH = 20;
export const COMPACT_PEER_V4 = 6;
export const COMPACT_PEER_V6 = 18;
export const COMPACT_NODE_V4 = 26;
export const COMPACT_NODE_V6 = 38;

export interface PeerAddress {
  host: string;
  port: number;
}

export interface NodeInfo extends PeerAddress {
  /** 20-byte node id. */
  id: Uint8Array;
}

export function isIPv6(host: string): boolean {
  return host.includes(':');
}

function bad(msg: string, field?: string): never {
  throw new BtError('ERR_DHT', msg, { op: 'validate', ...(field === undefined ? {} : { field }) });
}

/** Parse a dotted-quad IPv4 address into 4 bytes; undefined when it is not one. */
export function parseIPv4(host: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let digits = 0;
  let v = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || v > 255 || part > 3) return undefined;
      out[part++] = v;
      digits = 0;
      v = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      v = v * 10 + (c - 0x30);
      digits++;
    } else return undefined;
  }
  return part === 4 ? out : undefined;
}

/** Parse an IPv6 address (with optional embedded IPv4 tail, no zone) into 16 bytes; undefined when invalid. */
export function parseIPv6(host: string): Uint8Array | undefined {
  let h = host;
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.includes('%')) return undefined;
  const out = new Uint8Array(16);
  let tail: Uint8Array | undefined;
  const lastColon = h.lastIndexOf(':');
  if (lastColon >= 0 && h.slice(lastColon + 1).includes('.')) {
    tail = parseIPv4(h.slice(lastColon + 1));
    if (!tail) return undefined;
    h = h.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = h.indexOf('::');
  if (dbl !== h.lastIndexOf('::')) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const r: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      r.push(parseInt(g, 16));
    }
    return r;
  };
  let words: number[];
  if (dbl >= 0) {
    const a = groups(h.slice(0, dbl));
    const b = groups(h.slice(dbl + 2));
    if (!a || !b || a.length + b.length > 7) return undefined;
    words = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  } else {
    const a = groups(h);
    if (!a || a.length !== 8) return undefined;
    words = a;
  }
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Bytes of an address (4 or 16); throws BtError ERR_DHT when it is neither IPv4 nor IPv6. */
export function ipToBytes(host: string): Uint8Array {
  const b = isIPv6(host) ? parseIPv6(host) : parseIPv4(host);
  if (!b) bad(`not an IP address: ${JSON.stringify(host.slice(0, 64))}`, 'host');
  return b;
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}


export { formatIPv6 };

/** Canonical text form of an address (so the same address always makes the same map key). */
export function canonicalHost(host: string): string {
  if (!isIPv6(host)) return host;
  const b = parseIPv6(host);
  return b ? formatIPv6(b) : host;
}

function portOk(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 65535;
}

/** Compact peer info: 4- or 16-byte address then a big-endian port. */
export function encodePeer(p: PeerAddress): Uint8Array {
  if (!portOk(p.port)) bad(`bad port ${p.port}`, 'port');
  const ip = ipToBytes(p.host);
  const out = new Uint8Array(ip.length + 2);
  out.set(ip, 0);
  out[ip.length] = p.port >> 8;
  out[ip.length + 1] = p.port & 0xff;
  return out;
}

/** Decode 6 (IPv4) or 18 (IPv6) bytes of compact peer info. */
export function decodePeer(b: Uint8Array, field = 'values'): PeerAddress {
  if (b.length === COMPACT_PEER_V4) return { host: formatIPv4(b, 0), port: (b[4]! << 8) | b[5]! };
  if (b.length === COMPACT_PEER_V6) return { host: formatIPv6(b, 0), port: (b[16]! << 8) | b[17]! };
  return bad(`${field}: compact peer info must be 6 or 18 bytes, got ${b.length}`, field);
}

/** Concatenated compact node infos of one family. */
export function encodeNodes(nodes: readonly NodeInfo[], v6: boolean): Uint8Array {
  const size = v6 ? COMPACT_NODE_V6 : COMPACT_NODE_V4;
  const out = new Uint8Array(nodes.length * size);
  nodes.forEach((n, i) => {
    if (n.id.length !== ID_LENGTH) bad('node id must be 20 bytes', 'id');
    const ip = ipToBytes(n.host);
    if (ip.length !== (v6 ? 16 : 4)) bad(`address family mismatch for ${n.host}`, v6 ? 'nodes6' : 'nodes');
    if (!portOk(n.port)) bad(`bad port ${n.port}`, 'port');
    const o = i * size;
    out.set(n.id, o);
    out.set(ip, o + ID_LENGTH);
    out[o + size - 2] = n.port >> 8;
    out[o + size - 1] = n.port & 0xff;
  });
  return out;
}

/** Decode `nodes` (26-byte entries) or `nodes6` (38-byte entries); the length must be an exact multiple. */
export function decodeNodes(b: Uint8Array, v6: boolean, field = v6 ? 'nodes6' : 'nodes'): NodeInfo[] {
  const size = v6 ? COMPACT_NODE_V6 : COMPACT_NODE_V4;
  if (b.length % size !== 0) bad(`${field}: length ${b.length} is not a multiple of ${size}`, field);
  const out: NodeInfo[] = [];
  for (let o = 0; o < b.length; o += size) {
    const id = b.slice(o, o + ID_LENGTH);
    const host = v6 ? formatIPv6(b, o + ID_LENGTH) : formatIPv4(b, o + ID_LENGTH);
    const port = (b[o + size - 2]! << 8) | b[o + size - 1]!;
    out.push({ id, host, port });
  }
  return out;
}

/** Loopback, private, link-local and unspecified addresses: BEP 42 is not enforced for them. */
export function isLocalAddress(host: string): boolean {
  if (isIPv6(host)) {
    const b = parseIPv6(host);
    if (!b) return false;
    const v4mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    if (v4mapped) return isLocalAddress(formatIPv4(b, 12));
    if (b.every((x, i) => (i < 15 ? x === 0 : x === 1 || x === 0))) return true; // ::1, ::
    if ((b[0]! & 0xfe) === 0xfc) return true; // fc00::/7 unique local
    if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return true; // fe80::/10 link local
    return false;
  }
  const b = parseIPv4(host);
  if (!b) return false;
  const [a, c] = [b[0]!, b[1]!];
  return (
    a === 10 || a === 127 || a === 0 || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168) || (a === 169 && c === 254)
  );
}
