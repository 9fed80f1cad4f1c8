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
