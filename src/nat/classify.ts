/**
 * What kind of address a gateway reports as its external one: the reachability report uses it to flag
 * double NAT (the router's WAN side is itself private) and carrier-grade NAT (RFC 6598 100.64.0.0/10).
 * Pure.
 */

export type AddressClass =
  | 'public'
  | 'private' // RFC 1918: 10/8, 172.16/12, 192.168/16
  | 'cgnat' // RFC 6598 shared address space 100.64/10
  | 'loopback' // 127/8
  | 'link-local' // 169.254/16
  | 'unspecified' // 0.0.0.0 (a router that has no WAN address yet)
  | 'reserved' // documentation, benchmarking, multicast, 240/4, 0/8, broadcast
  | 'invalid';

/** Parse dotted-quad IPv4 strictly; undefined when it is not one. */
export function parseIpv4(addr: string): [number, number, number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr.trim());
  if (!m) return undefined;
  const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number, number];
  if (o.some((x) => x > 255)) return undefined;
  return o;
}

export function classifyExternalAddress(addr: string): AddressClass {
  const o = parseIpv4(addr);
  if (!o) return 'invalid';
  const [a, b, c] = o;
  if (a === 0 && b === 0 && c === 0 && o[3] === 0) return 'unspecified';
  if (a === 10) return 'private';
  if (a === 172 && b >= 16 && b <= 31) return 'private';
  if (a === 192 && b === 168) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'cgnat';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 0) return 'reserved';
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return 'reserved'; // IETF assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return 'reserved'; // benchmarking
  if (a === 198 && b === 51 && c === 100) return 'reserved'; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return 'reserved'; // TEST-NET-3
  if (a >= 224) return 'reserved'; // multicast, 240/4, broadcast
  return 'public';
}

/** Reachability flags derived from an external address. */
export interface ExternalAddressReport {
  address: string;
  class: AddressClass;
  /** The gateway's WAN address is private: another NAT sits upstream. */
  doubleNat: boolean;
  /** The gateway's WAN address is in 100.64/10: the ISP's carrier-grade NAT sits upstream. */
  cgnat: boolean;
}

export function reportExternalAddress(address: string): ExternalAddressReport {
  const cls = classifyExternalAddress(address);
  return { address, class: cls, doubleNat: cls === 'private', cgnat: cls === 'cgnat' };
}
