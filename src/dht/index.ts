/** DHT: BEP 5 Mainline DHT with BEP 32 (IPv6), BEP 42 (secure ids) and BEP 43 (read-only), sans I/O. */
export {
  ID_LENGTH,
  decodeNodes,
  decodePeer,
  encodeNodes,
  encodePeer,
  canonicalHost,
  isLocalAddress,
  parseIPv4,
  parseIPv6,
  formatIPv6,
} from './addr.js';
export type { NodeInfo, PeerAddress } from './addr.js';
export {
  decodeKrpc,
  encodeQuery,
  encodeResponse,
  encodeError,
  KrpcDecodeError,
  KRPC_GENERIC,
  KRPC_SERVER,
  KRPC_PROTOCOL,
  KRPC_METHOD_UNKNOWN,
  MAX_PACKET,
} from './krpc.js';
export type { KrpcMessage, KrpcQuery, KrpcQueryMessage, KrpcResponseMessage, KrpcErrorMessage, KrpcResponseBody, Want } from './krpc.js';
export { RoutingTable, K, GOOD_INTERVAL_MS, REFRESH_INTERVAL_MS, commonPrefixBits, compareDistance, xorDistance, idKey } from './routing-table.js';
export type { RoutingNode, NodeState, HeardResult } from './routing-table.js';
export { crc32c, secureNodeId, isSecureNodeId } from './secure-id.js';
export { TokenManager, TOKEN_ROTATE_MS } from './tokens.js';
export { PeerStore, PEER_TTL_MS } from './peer-store.js';
export { Traversal, ALPHA } from './traversal.js';
export type { TraversalResult, TraversalOptions, ClosestNode, LookupKind } from './traversal.js';
export { DhtNode } from './node.js';
export type { DhtNodeOptions, DhtStats, DhtState, DhtSocket, DhtEvents, AnnounceResult, LookupHandle, SendFn } from './node.js';
