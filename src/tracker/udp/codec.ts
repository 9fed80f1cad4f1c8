/**
 * BEP 15 UDP tracker protocol: packet codec (pure). Requests are built here, responses parsed and checked;
 * the transaction state machine and the socket live above this file.
 * All integers are big-endian. The 64-bit counters are written from JS numbers (safe up to 2^53).
 */
import { BtError } from '../../core/index.js';
import { formatIPv6 } from '../../util/index.js';

export const UDP_PROTOCOL_ID = 0x41727101980n;

export const enum UdpAction {
  Connect = 0,
  Announce = 1,
  Scrape = 2,
  Error = 3,
}

/** BEP 15 announce events. */
export type UdpEvent = 'none' | 'completed' | 'started' | 'stopped';
const EVENT_CODE: Record<UdpEvent, number> = { none: 0, completed: 1, started: 2, stopped: 3 };

export interface UdpAnnounceRequest {
  connectionId: bigint;
  transactionId: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  downloaded: number;
  left: number;
  uploaded: number;
  event: UdpEvent;
  key: number;
  /** -1 lets the tracker choose. */
  numWant: number;
  port: number;
  /** BEP 41: the announce URL's path and query, sent as URLData options (e.g. '/announce?passkey=x'). */
  urlData?: string;
}

export interface PeerAddress {
  host: string;
  port: number;
}

export type UdpResponse =
  | { action: 'connect'; transactionId: number; connectionId: bigint }
  | { action: 'announce'; transactionId: number; interval: number; leechers: number; seeders: number; peers: PeerAddress[] }
  | { action: 'scrape'; transactionId: number; files: { seeders: number; completed: number; leechers: number }[] }
  | { action: 'error'; transactionId: number; message: string };

const bad = (why: string): never => {
  throw new BtError('ERR_TRACKER', `bad UDP tracker packet: ${why}`, { op: 'decode' });
};

export function encodeConnectRequest(transactionId: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, UDP_PROTOCOL_ID);
  v.setUint32(8, UdpAction.Connect);
  v.setUint32(12, transactionId >>> 0);
  return b;
}

export function encodeAnnounceRequest(r: UdpAnnounceRequest): Uint8Array {
  if (r.infoHash.length !== 20 || r.peerId.length !== 20) throw new TypeError('info-hash and peer id must be 20 bytes');
  const url = r.urlData ? new TextEncoder().encode(r.urlData) : new Uint8Array(0);
  // BEP 41 options: URLData (type 2) in chunks of at most 255 bytes, then EndOfOptions (type 0).
  const chunks = Math.ceil(url.length / 255);
  const optLen = url.length > 0 ? url.length + chunks * 2 + 1 : 0;
  const b = new Uint8Array(98 + optLen);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, r.connectionId);
  v.setUint32(8, UdpAction.Announce);
  v.setUint32(12, r.transactionId >>> 0);
  b.set(r.infoHash, 16);
  b.set(r.peerId, 36);
  v.setBigUint64(56, BigInt(Math.max(0, Math.floor(r.downloaded))));
  v.setBigUint64(64, BigInt(Math.max(0, Math.floor(r.left))));
  v.setBigUint64(72, BigInt(Math.max(0, Math.floor(r.uploaded))));
  v.setUint32(80, EVENT_CODE[r.event]);
  v.setUint32(84, 0); // IP address: 0 = the sender's
  v.setUint32(88, r.key >>> 0);
  v.setInt32(92, r.numWant);
  v.setUint16(96, r.port);
  let o = 98;
  for (let i = 0; i < chunks; i++) {
    const part = url.subarray(i * 255, (i + 1) * 255);
    b[o++] = 2;
    b[o++] = part.length;
    b.set(part, o);
    o += part.length;
  }
  if (optLen > 0) b[o] = 0;
  return b;
}

export function encodeScrapeRequest(connectionId: bigint, transactionId: number, infoHashes: Uint8Array[]): Uint8Array {
  if (infoHashes.length === 0 || infoHashes.length > 74) throw new RangeError('a UDP scrape carries 1 to 74 info-hashes');
  const b = new Uint8Array(16 + 20 * infoHashes.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, connectionId);
  v.setUint32(8, UdpAction.Scrape);
  v.setUint32(12, transactionId >>> 0);
  infoHashes.forEach((h, i) => {
    if (h.length !== 20) throw new TypeError('info-hash must be 20 bytes');
    b.set(h, 16 + 20 * i);
  });
  return b;
}

/**
 * Parse a tracker's reply. `ipv6` says the announce went over IPv6, in which case peers are 18-byte entries
 * (BEP 15). Throws BtError ERR_TRACKER on any malformed packet.
 */
export function decodeResponse(pkt: Uint8Array, opts: { ipv6?: boolean } = {}): UdpResponse {
  if (pkt.length < 8) bad(`${pkt.length} bytes is shorter than a header`);
  const v = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  const action = v.getUint32(0);
  const transactionId = v.getUint32(4);
  switch (action) {
    case UdpAction.Connect:
      if (pkt.length < 16) bad('connect response shorter than 16 bytes');
      return { action: 'connect', transactionId, connectionId: v.getBigUint64(8) };
    case UdpAction.Announce: {
      if (pkt.length < 20) bad(`announce response of ${pkt.length} bytes, shorter than 20 (the tracker may not serve this torrent)`);
      const entry = opts.ipv6 ? 18 : 6;
      const body = pkt.length - 20;
      if (body % entry !== 0) bad(`announce peer list of ${body} bytes is not a multiple of ${entry}`);
      const peers: PeerAddress[] = [];
      for (let o = 20; o < pkt.length; o += entry) {
        const port = v.getUint16(o + entry - 2);
        const host = opts.ipv6 ? formatIPv6(pkt, o) : `${pkt[o]}.${pkt[o + 1]}.${pkt[o + 2]}.${pkt[o + 3]}`;
        if (port !== 0) peers.push({ host, port });
      }
      return { action: 'announce', transactionId, interval: v.getUint32(8), leechers: v.getUint32(12), seeders: v.getUint32(16), peers };
    }
    case UdpAction.Scrape: {
      if ((pkt.length - 8) % 12 !== 0) bad(`scrape body of ${pkt.length - 8} bytes is not a multiple of 12`);
      const files = [];
      for (let o = 8; o < pkt.length; o += 12) {
        files.push({ seeders: v.getUint32(o), completed: v.getUint32(o + 4), leechers: v.getUint32(o + 8) });
      }
      return { action: 'scrape', transactionId, files };
    }
    case UdpAction.Error: {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(pkt.subarray(8, Math.min(pkt.length, 8 + 1024)));
      return { action: 'error', transactionId, message: text.replace(/\0+$/, '') };
    }
    default:
      return bad(`unknown action ${action}`);
  }
}

