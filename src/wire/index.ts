/** Peer wire codecs (BEP 3 handshake and messages, BEP 5 port, BEP 6 fast, BEP 10 extended, BEP 52 hashes): pure, no I/O. */
export { BLOCK_SIZE } from './types.js';
export type { Handshake, Message, MessageType } from './types.js';
export {
  PROTOCOL,
  PROTOCOL_HEADER,
  HANDSHAKE_LENGTH,
  HANDSHAKE_HEAD_LENGTH,
  encodeHandshake,
  decodeHandshake,
  decodeHandshakeHead,
  checkProtocolHeader,
  makeReserved,
  supportsExtended,
  supportsFast,
  supportsDht,
  makePeerId,
  describePeerId,
} from './handshake.js';
export type { HandshakeHead, ReservedFlags } from './handshake.js';
export {
  MessageId,
  PIECE_HEADER_LENGTH,
  KEEP_ALIVE,
  encodeMessage,
  encodeRequest,
  encodePieceHeader,
  decodeMessage,
  readU32,
} from './messages.js';
export { FrameDecoder, suggestedMaxMessageLength } from './frame-decoder.js';
export type { FrameDecoderOptions, FrameResult } from './frame-decoder.js';
export { encodeExtendedHandshake, decodeExtendedHandshake, MAX_EXTENDED_HANDSHAKE_LENGTH } from './extended.js';
export type { ExtendedHandshake } from './extended.js';
export {
  METADATA_PIECE_SIZE,
  DEFAULT_MAX_METADATA_SIZE,
  UtMetadataType,
  metadataPieceCount,
  metadataPieceLength,
  checkMetadataSize,
  encodeUtMetadata,
  decodeUtMetadata,
  serveMetadata,
} from './ut-metadata.js';
export type { UtMetadataMessage, UtMetadataDecodeOptions } from './ut-metadata.js';
export {
  PexFlags,
  PexTracker,
  pexPeerKey,
  encodeUtPex,
  decodeUtPex,
  DEFAULT_MAX_PEX_PEERS_PER_FAMILY,
  MAX_PEX_PAYLOAD_LENGTH,
  PEX_MAX_ADDED,
  PEX_MAX_DROPPED,
  PEX_MIN_INTERVAL_MS,
} from './ut-pex.js';
export type { PexPeer, PexMessage, PexTrackerOptions, UtPexDecodeOptions } from './ut-pex.js';
export {
  HashMessageId,
  MAX_HASH_REQUEST_LENGTH,
  MAX_TREE_HEIGHT,
  HASH_REQUEST_LENGTH,
  encodeHashMessage,
  decodeHashMessage,
  isHashMessageId,
  hashRequestProblem,
  supportsV2,
} from './hash-messages.js';
export type { HashMessage, HashRequestFields } from './hash-messages.js';
