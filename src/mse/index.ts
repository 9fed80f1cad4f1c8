/**
 * MSE/PE (Message Stream Encryption / Protocol Encryption, the Vuze/Azureus "Message_Stream_Encryption"
 * spec used by libtorrent, Transmission and Vuze): RC4, 768-bit DH, the handshake as a pure state machine
 * for both roles, plaintext-vs-MSE detection, and a Connection wrapper with async negotiation helpers.
 */
export { Rc4 } from './rc4.js';
export {
  MSE_PRIME,
  MSE_GENERATOR,
  DH_KEY_BYTES,
  DH_PRIVATE_KEY_BYTES,
  DhKeyPair,
  parsePublicKey,
  bytesToBigInt,
  bigIntToBytes,
  modPow,
} from './dh.js';
export type { DhKeyAgreement } from './dh.js';
export {
  MseInitiator,
  MseReceiver,
  SkeyIndex,
  MSE_PREFER_RC4,
  MSE_REQUIRE_RC4,
  MSE_PREFER_PLAINTEXT,
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MAX_PAD,
  VC_LENGTH,
  MAX_INITIAL_PAYLOAD,
  RC4_DISCARD,
  req1Hash,
  req2Hash,
  req3Hash,
  deriveKey,
  mseCipher,
} from './handshake.js';
export type { MseMethod, MsePolicy, MseResult, MseInitiatorOptions, MseReceiverOptions } from './handshake.js';
export { looksLikePlaintextHandshake, classifyFirstBytes, DETECT_BYTES } from './detect.js';
export { EncryptedConnection, mseOutgoing, mseIncoming, detectIncoming } from './encrypted-connection.js';
export type {
  EncryptedConnectionInit,
  MseOutgoingOptions,
  MseIncomingOptions,
  MseOutgoingResult,
  MseIncomingResult,
  DetectedConnection,
} from './encrypted-connection.js';
export { Rc4Channel, Rc4Offload, acquireRc4Offload, currentRc4Offload } from './offload.js';
export type { Rc4Callback, Rc4OffloadOptions, Rc4OffloadLease } from './offload.js';
