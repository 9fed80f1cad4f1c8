export {
  UDP_PROTOCOL_ID,
  encodeConnectRequest,
  encodeAnnounceRequest,
  encodeScrapeRequest,
  decodeResponse,
} from './udp/codec.js';
export type { UdpAnnounceRequest, UdpEvent, UdpResponse, PeerAddress } from './udp/codec.js';
export { UdpTrackerClient } from './udp/client.js';
export type { UdpTrackerClientOptions, AnnounceParams } from './udp/client.js';
export { UdpTracker, parseUdpUrl } from './udp/udp-tracker.js';
export type { UdpTrackerOptions, Resolve } from './udp/udp-tracker.js';
export * from './http/index.js';
export { TrackerFactory } from './factory.js';
export type { TrackerCreator } from './factory.js';
export { TrackerManager } from './tracker-manager.js';
export type { TrackerManagerOptions, TrackerStatus, TrackerState } from './tracker-manager.js';
export type { AnnounceEvent, AnnounceRequest, AnnounceResponse, ScrapeResponse, Tracker, TrackerPeer } from './types.js';
