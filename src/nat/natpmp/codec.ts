/**
 * NAT-PMP (RFC 6886) packet codec: external-address request (opcode 0), UDP/TCP mapping requests
 * (opcodes 1 and 2) and their responses (opcode + 128). Pure.
 */
import type { NatProtocol } from '../types.js';

export const NATPMP_PORT = 5351;
export const NATPMP_VERSION = 0;

/** RFC 6886 section 3.5 result codes. */
export const NATPMP_RESULTS: Readonly<Record<number, string>> = {
  0: 'Success',
  1: 'Unsupported Version',
  2: 'Not Authorized/Refused',
  3: 'Network Failure',
  4: 'Out of resources',
  5: 'Unsupported opcode',
};
export const NATPMP_UNSUPPORTED_VERSION = 1;

export const OP_EXTERNAL_ADDRESS = 0;
export const OP_MAP_UDP = 1;
export const OP_MAP_TCP = 2;

export function natpmpOpcode(protocol: NatProtocol): number {
  return protocol === 'udp' ? OP_MAP_UDP : OP_MAP_TCP;
}

export function encodeExternalAddressRequest(): Uint8Array {
  return Uint8Array.of(NATPMP_VERSION, OP_EXTERNAL_ADDRESS);
}

export interface NatPmpMapRequest {
  protocol: NatProtocol;
  internalPort: number;
  /** Suggested external port (0: let the gateway choose; MUST be 0 in a deletion). */
  externalPort: number;
  /** Requested lifetime in seconds; 0 deletes the mapping. */
  lifetime: number;
}

export function encodeMapRequest(r: NatPmpMapRequest): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  b[0] = NATPMP_VERSION;
  b[1] = natpmpOpcode(r.protocol);
  v.setUint16(4, r.internalPort);
  v.setUint16(6, r.externalPort);
  v.setUint32(8, r.lifetime >>> 0);
  return b;
}

export type NatPmpResponse =
  | { kind: 'address'; version: number; resultCode: number; epoch: number; address: string }
  | {
      kind: 'map';
      version: number;
      protocol: NatProtocol;
      resultCode: number;
      epoch: number;
      internalPort: number;
      externalPort: number;
      lifetime: number;
    };

/**
 * Decode a NAT-PMP response. Error responses may be truncated to the 8-byte header: the missing fields read
 * as 0. Returns undefined for anything that is not a version-0 response (too short, request opcode, unknown
 * opcode).
 */
export function decodeNatPmpResponse(bytes: Uint8Array): NatPmpResponse | undefined {
  if (bytes.length < 8 || bytes[0] !== NATPMP_VERSION) return undefined;
  const op = bytes[1]!;
  if (op < 128) return undefined;
  const padded = new Uint8Array(16);
  padded.set(bytes.subarray(0, 16));
  const v = new DataView(padded.buffer);
  const resultCode = v.getUint16(2);
  const epoch = v.getUint32(4);
  if (op === 128 + OP_EXTERNAL_ADDRESS) {
    if (resultCode === 0 && bytes.length < 12) return undefined;
    return { kind: 'address', version: 0, resultCode, epoch, address: `${padded[8]}.${padded[9]}.${padded[10]}.${padded[11]}` };
  }
  if (op === 128 + OP_MAP_UDP || op === 128 + OP_MAP_TCP) {
    if (resultCode === 0 && bytes.length < 16) return undefined;
    return {
      kind: 'map',
      version: 0,
      protocol: op === 128 + OP_MAP_UDP ? 'udp' : 'tcp',
      resultCode,
      epoch,
      internalPort: v.getUint16(8),
      externalPort: v.getUint16(10),
      lifetime: v.getUint32(12),
    };
  }
  return undefined;
}

/**
 * RFC 6886 section 3.6: has the gateway lost its state? True when the new epoch (seconds since start of
 * epoch) is more than 2 s below the previous one plus 7/8 of the local time elapsed since it was received.
 */
export function epochLost(prevEpoch: number, prevAtMs: number, newEpoch: number, nowMs: number): boolean {
  const elapsedS = Math.max(0, (nowMs - prevAtMs) / 1000);
  const expected = prevEpoch + (elapsedS * 7) / 8;
  return newEpoch + 2 < expected;
}
