/**
 * Port forwarding: shared types, the NatError family, and the small I/O seams (UDP socket, HTTP request,
 * default-gateway lookup) that the UPnP and NAT-PMP/PCP clients use. Node implementations live in
 * node-*.ts files beside this one; tests inject fakes.
 */
import { BtError } from '../core/index.js';
import type { BtOp } from '../core/index.js';

export type NatProtocol = 'tcp' | 'udp';
export type NatMethod = 'upnp' | 'natpmp' | 'pcp';

/** Extra detail of an ERR_NAT error: which protocol said what. */
export interface NatErrorDetail {
  method?: NatMethod;
  /** UPnP SOAP fault `errorCode` (e.g. 718 ConflictInMappingEntry, 725 OnlyPermanentLeasesSupported). */
  upnpCode?: number;
  /** NAT-PMP result code (RFC 6886 section 3.5) or PCP result code (RFC 6887 section 7.4). */
  resultCode?: number;
  /** HTTP status of a failed SOAP call. */
  httpStatus?: number;
}

/** A port-forwarding failure: code ERR_NAT, the step in `op`, and what the gateway said in `detail`. */
export class NatError extends BtError {
  readonly detail: NatErrorDetail;
  constructor(message: string, opts: { op?: BtOp; cause?: unknown; detail?: NatErrorDetail } = {}) {
    super('ERR_NAT', message, { op: opts.op, cause: opts.cause });
    this.name = 'NatError';
    this.detail = opts.detail ?? {};
  }
}

export function isNatError(e: unknown): e is NatError {
  return e instanceof NatError;
}

// ---- I/O seams --------------------------------------------------------------------------------------------

export interface UdpRemote {
  address: string;
  port: number;
}

/** One IPv4 UDP socket. */
export interface NatUdpSocket {
  send(bytes: Uint8Array, port: number, address: string): Promise<void>;
  onMessage(fn: (bytes: Uint8Array, from: UdpRemote) => void): void;
  /** The local address after bind (0.0.0.0 when unbound to one address). */
  localAddress(): string;
  close(): void;
}

export interface NatUdpOpenOptions {
  /** Local address to bind (default all). */
  bindAddress?: string;
  /** IP_MULTICAST_IF for SSDP: the local IPv4 address multicast leaves from. */
  multicastInterface?: string;
  multicastTtl?: number;
  /**
   * Connect the socket to this peer (used for NAT-PMP/PCP: the kernel then picks the source address, which
   * localAddress() reports, and which PCP puts in its client-address field).
   */
  connect?: UdpRemote;
}

export type NatUdpFactory = (opts: NatUdpOpenOptions) => Promise<NatUdpSocket>;

export interface NatHttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Whole-request deadline. */
  timeoutMs: number;
  /** Largest body read; a larger one fails with ERR_LIMIT. */
  maxBytes: number;
  signal?: AbortSignal;
}

export interface NatHttpResponse {
  status: number;
  body: string;
  /** Local address of the TCP connection: the LAN address the router sees (UPnP's NewInternalClient). */
  localAddress: string;
}

/** One HTTP request; any status resolves (SOAP faults come with 500). Network failures reject. */
export type NatHttp = (req: NatHttpRequest) => Promise<NatHttpResponse>;

/** The IPv4 default gateway, or undefined when there is no default route. */
export type GatewayLookup = () => Promise<string | undefined>;
