/** BEP 14 Local Service Discovery: the BT-SEARCH codec and LsdService (pure), and the node:dgram multicast socket. */
export {
  LSD_PORT,
  LSD_GROUP_V4,
  LSD_GROUP_V6,
  MAX_LSD_MESSAGE_LENGTH,
  MAX_LSD_INFOHASHES,
  encodeLsdAnnounce,
  decodeLsdAnnounce,
} from './codec.js';
export type { LsdAnnounce, LsdEncodeOptions } from './codec.js';
export { LsdService } from './service.js';
export type { LsdSocket, LsdSocketFactory, LsdEndpoint, LsdServiceOptions, LsdStats } from './service.js';
export { createNodeMulticastSocket } from './node-multicast.js';
export type { NodeMulticastOptions } from './node-multicast.js';
