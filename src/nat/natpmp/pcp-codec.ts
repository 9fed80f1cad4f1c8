/**
 * PCP (RFC 6887) packet codec: the common request/response headers, ANNOUNCE (opcode 0, used as a probe)
 * and MAP (opcode 1) with its 96-bit nonce, for IPv4 mappings carried as IPv4-mapped IPv6 addresses. Pure.
 */
import { parseIpv4 } from '../classify.js';
import type { NatProtocol } from '../types.js';

export const PCP_VERSION = 2;
export const PCP_OP_ANNOUNCE = 0;
export const PCP_OP_MAP = 1;
export const PCP_NONCE_BYTES = 12;

/** RFC 6887 section 7.4 result codes. */
export const PCP_RESULTS: Readonly<Record<number, string>> = {
  0: 'SUCCESS',
  1: 'UNSUPP_VERSION',
  2: 'NOT_AUTHORIZED',
  3: 'MALFORMED_REQUEST',
  4: 'UNSUPP_OPCODE',
  5: 'UNSUPP_OPTION',
  6: 'MALFORMED_OPTION',
  7: 'NETWORK_FAILURE',
  8: 'NO_RESOURCES',
  9: 'UNSUPP_PROTOCOL',
  10: 'USER_EX_QUOTA',
  11: 'CANNOT_PROVIDE_EXTERNAL',
  12: 'ADDRESS_MISMATCH',
  13: 'EXCESSIVE_REMOTE_PEERS',
};
export const PCP_UNSUPP_VERSION = 1;

const IPPROTO: Record<NatProtocol, number> = { tcp: 6, udp: 17 };

/** Write an IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d) into 16 bytes at `off`. */
function writeMapped(b: Uint8Array, off: number, ipv4: string): void {
  const o = parseIpv4(ipv4);
  if (!o) throw new RangeError(`not an IPv4 address: ${ipv4}`);
  b.fill(0, off, off + 10);
  b[off + 10] = 0xff;
  b[off + 11] = 0xff;
  b.set(o, off + 12);
}

function readMapped(b: Uint8Array, off: number): string {
  const isMapped = b.subarray(off, off + 10).every((x) => x === 0) && b[off + 10] === 0xff && b[off + 11] === 0xff;
  if (isMapped) return `${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  const parts: string[] = [];
  const v = new DataView(b.buffer, b.byteOffset + off, 16);
  for (let i = 0; i < 8; i++) parts.push(v.getUint16(i * 2).toString(16));
  return parts.join(':');
}

function header(opcode: number, lifetime: number, clientAddress: string, total: number): Uint8Array {
  const b = new Uint8Array(total);
  b[0] = PCP_VERSION;
  b[1] = opcode & 0x7f;
  new DataView(b.buffer).setUint32(4, lifetime >>> 0);
  writeMapped(b, 8, clientAddress);
  return b;
}

/** ANNOUNCE request (lifetime 0): a cheap "do you speak PCP?" probe. */
export function encodePcpAnnounce(clientAddress: string): Uint8Array {
  return header(PCP_OP_ANNOUNCE, 0, clientAddress, 24);
}

export interface PcpMapRequest {
  /** Our address as the gateway sees it (the packet's source); a mismatch gets ADDRESS_MISMATCH. */
  clientAddress: string;
  /** Requested lifetime in seconds; 0 deletes. */
  lifetime: number;
  nonce: Uint8Array;
  protocol: NatProtocol;
  internalPort: number;
  suggestedExternalPort: number;
  /** Suggested external IPv4 address (default 0.0.0.0: no preference). */
  suggestedExternalAddress?: string;
}

export function encodePcpMap(r: PcpMapRequest): Uint8Array {
  if (r.nonce.length !== PCP_NONCE_BYTES) throw new RangeError('PCP nonce must be 12 bytes');
  const b = header(PCP_OP_MAP, r.lifetime, r.clientAddress, 24 + 36);
  const v = new DataView(b.buffer);
  b.set(r.nonce, 24);
  b[36] = IPPROTO[r.protocol];
  v.setUint16(40, r.internalPort);
  v.setUint16(42, r.suggestedExternalPort);
  writeMapped(b, 44, r.suggestedExternalAddress ?? '0.0.0.0');
  return b;
}

export interface PcpResponse {
  version: number;
  opcode: number;
  resultCode: number;
  lifetime: number;
  epoch: number;
  map?: {
    nonce: Uint8Array;
    protocol: NatProtocol | undefined;
    internalPort: number;
    externalPort: number;
    externalAddress: string;
  };
}

/**
 * Decode a PCP response (R bit set). Also decodes a short UNSUPP_VERSION reply from a PCP server of another
 * version. Returns undefined for non-PCP packets (a NAT-PMP reply has version 0: see decodeNatPmpResponse).
 */
export function decodePcpResponse(bytes: Uint8Array): PcpResponse | undefined {
  if (bytes.length < 24 || bytes[0] === 0 || (bytes[1]! & 0x80) === 0) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: PcpResponse = {
    version: bytes[0]!,
    opcode: bytes[1]! & 0x7f,
    resultCode: bytes[3]!,
    lifetime: v.getUint32(4),
    epoch: v.getUint32(8),
  };
  if (out.version === PCP_VERSION && out.opcode === PCP_OP_MAP && bytes.length >= 60) {
    const proto = bytes[36];
    out.map = {
      nonce: bytes.slice(24, 36),
      protocol: proto === 6 ? 'tcp' : proto === 17 ? 'udp' : undefined,
      internalPort: v.getUint16(40),
      externalPort: v.getUint16(42),
      externalAddress: readMapped(bytes, 44),
    };
  }
  return out;
}
