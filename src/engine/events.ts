/** The engine's events, and the reports some of them carry. */
import type { ExternalAddressReport, NatMethod, PortForwarderStatus, PortMapping } from '../nat/index.js';
import type { TorrentManager } from '../torrent/index.js';

/** Port forwarding as the engine reports it: the forwarder's status, or 'off' (setting, or not started). */
export type PortForwardingStatus = PortForwarderStatus | { state: 'off' };

/**
 * Reachability: the external address the gateway reports, compared with what trackers report.
 * `doubleNat`: the gateway's WAN address is private (another NAT upstream), or a tracker sees a different
 * address than the gateway's private one. `cgnat`: the gateway's WAN address is in 100.64/10.
 */
export interface ReachabilityReport {
  /** Best guess at the address peers reach us on: a tracker's view, else the gateway's. */
  address: string | undefined;
  gateway: (ExternalAddressReport & { method: NatMethod }) | undefined;
  tracker: { address: string; source: string } | undefined;
  /** Gateway and tracker both answered and disagree. */
  mismatch: boolean;
  doubleNat: boolean;
  cgnat: boolean;
}

export interface EngineEvents {
  [k: string]: unknown[];
  'torrent-added': [torrent: TorrentManager];
  'torrent-removed': [torrent: TorrentManager];
  listening: [port: number];
  /** A tracker reported our external address. */
  'external-address': [address: string, source: string];
  warning: [message: string];
  /** One port mapping changed (pending, created, renewed, failed). */
  'port-mapping': [mapping: PortMapping];
  /** The mapping list changed: all of them. */
  'port-mappings': [mappings: readonly PortMapping[]];
  /** Port forwarding status: discovering, ready (methods), no-gateway (once, quietly), disposed. */
  'port-forwarding': [status: PortForwardingStatus];
  /** The gateway's or a tracker's view of our external address changed. */
  reachability: [report: ReachabilityReport];
}

/** The engine's emit, handed to the parts that raise its events. */
export type EngineEmit = <K extends keyof EngineEvents & string>(ev: K, ...args: EngineEvents[K]) => void;
