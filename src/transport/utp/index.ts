/** uTP (BEP 29) with LEDBAT: pure codec and state machines, plus the Transport adapter over a UdpMux. */
export {
  decodePacket,
  decodePacketInto,
  newPacket,
  encodePacket,
  looksLikeUtp,
  sackHas,
  seqAdd,
  seqDiff,
  writeHeader,
  EXT_SACK,
  HEADER_SIZE,
  MAX_SACK_BYTES,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  UTP_VERSION,
} from './codec.js';
export type { EncodeOptions, HeaderFields, UtpPacket, UtpType } from './codec.js';
export { Ledbat } from './ledbat.js';
export type { LedbatOptions } from './ledbat.js';
export { UtpConnection, DEFAULT_PACKET_SIZE, SAFE_PACKET_SIZE } from './connection.js';
export type { UtpConnectionOptions, UtpConnectionStats, UtpState } from './connection.js';
export { UtpSocket } from './socket.js';
export type { UtpConnectEvents, UtpConnectionSettings, UtpSocketOptions, UtpSocketStats } from './socket.js';
export { UtpTransport } from './utp-transport.js';
export type { UtpTransportOptions } from './utp-transport.js';
